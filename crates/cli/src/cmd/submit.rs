//! `truce submit`, `sync`, `blob` and `countersign`: signed entries to the server, a queue
//! of them sent later, evidence files, and the mediator's countersignature.

use crate::{ExitWith, connect, print};
use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use truce_client::{client, deconflict, keys, submit};

#[derive(Args)]
pub(crate) struct SubmitArgs {
    /// Server base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "TRUCE_SERVER", required_unless_present = "offline")]
    pub server: Option<String>,
    /// The member's key file.
    #[arg(long, env = "TRUCE_KEY")]
    pub key: PathBuf,
    /// Entry kind: report, sighting, notice, acknowledgement, dispute, ruling, posture,
    /// coverage, case, attestation, participation, membership, ratification, agreement.
    #[arg(long)]
    pub kind: String,
    /// JSON file with the entry's body (`-` for stdin). Schemas: GET /v1/schemas/<kind>.
    #[arg(long)]
    pub body: PathBuf,
    /// The mechanism's origin (fetched from the server when omitted; required with --offline).
    #[arg(long, env = "TRUCE_MECHANISM")]
    pub mechanism: Option<String>,
    /// Sign now and queue the entry in --queue; send it later with `truce sync`.
    #[arg(long)]
    pub offline: bool,
    /// Queue directory for --offline.
    #[arg(long, default_value = "truce-queue")]
    pub queue: PathBuf,
    /// Where receipts are saved.
    #[arg(long, default_value = "receipts")]
    pub out: PathBuf,
    /// A JSON file of need-to-know details (sources, identities) to seal into the entry
    /// (reports, notices, disputes, sightings): encrypted with age to the members of your
    /// party, of the mediator and of --seal-to; every other member sees only that it exists.
    #[arg(long, requires = "server")]
    pub seal: Option<PathBuf>,
    /// Further parties the sealed details are for (comma-separated).
    #[arg(long, value_delimiter = ',', requires = "seal")]
    pub seal_to: Vec<String>,
    /// Sign the entry and write its envelope to this file instead of sending it: for a
    /// membership entry the mediator must countersign (`truce countersign FILE`).
    #[arg(long, conflicts_with = "offline")]
    pub sign_only: Option<PathBuf>,
}

/// Where and as whom to submit a signed entry.
#[derive(Args)]
pub(crate) struct SignArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    pub server: String,
    /// Your member key file.
    #[arg(long, env = "TRUCE_KEY")]
    pub key: PathBuf,
    /// Where an entry is kept if the server cannot be reached (send it later with `truce sync`).
    #[arg(long, default_value = "truce-queue")]
    pub queue: PathBuf,
    /// Where receipts are saved.
    #[arg(long, default_value = "receipts")]
    pub out: PathBuf,
}

#[derive(Args)]
pub(crate) struct SyncArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    pub server: String,
    #[arg(long, default_value = "truce-queue")]
    pub queue: PathBuf,
    #[arg(long, default_value = "receipts")]
    pub out: PathBuf,
}

#[derive(Args)]
pub(crate) struct BlobArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    pub server: String,
    /// Files to upload (at most 16 MiB each).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Args)]
pub(crate) struct CountersignArgs {
    /// The signed envelope (written by `truce submit --sign-only`); the countersigned
    /// envelope replaces it unless --write names another file.
    pub envelope: PathBuf,
    /// Your member key file (an administrator of the mediator).
    #[arg(long, env = "TRUCE_KEY")]
    pub key: PathBuf,
    /// Submit the countersigned entry to this server (and save its receipt in --out).
    #[arg(long, env = "TRUCE_SERVER")]
    pub server: Option<String>,
    /// The mechanism the entry must be for (taken from --server when omitted).
    #[arg(long, env = "TRUCE_MECHANISM")]
    pub mechanism: Option<String>,
    /// Write the countersigned envelope here instead of over the input.
    #[arg(long)]
    pub write: Option<PathBuf>,
    /// Where receipts are saved.
    #[arg(long, default_value = "receipts")]
    pub out: PathBuf,
}

pub(crate) fn submit_file(j: bool, a: SubmitArgs, token: &Option<String>) -> Result<()> {
    let body = submit::read_json(&a.body)?;
    submit_body(j, &a, &body, token)
}

/// Signs `body` as an entry of `a.kind` with the key in `a.key` and submits it.
/// Signs and submits a body built by a command.
pub(crate) fn submit_signed(
    j: bool,
    s: SignArgs,
    body: truce_model::entry::Body,
    token: &Option<String>,
) -> Result<()> {
    let kind = body.kind().as_str();
    let body = &body.to_json();
    let a = SubmitArgs {
        server: Some(s.server),
        key: s.key,
        kind: kind.into(),
        body: PathBuf::new(),
        mechanism: None,
        offline: false,
        queue: s.queue,
        out: s.out,
        seal: None,
        seal_to: vec![],
        sign_only: None,
    };
    submit_body(j, &a, body, token)
}

pub(crate) fn submit_body(
    j: bool,
    a: &SubmitArgs,
    body: &serde_json::Value,
    token: &Option<String>,
) -> Result<()> {
    let key = keys::MemberKey::load(&a.key)?;
    let client = a.server.as_deref().map(|u| connect(u, token)).transpose()?;
    let origin = match (&a.mechanism, &client) {
        (Some(m), _) => m.clone(),
        (None, Some(c)) if !a.offline => c.get_ok("/v1/mechanism")?.json()?["origin"]
            .as_str()
            .context("server did not say its origin")?
            .to_owned(),
        _ => anyhow::bail!(
            "--offline needs --mechanism ORIGIN (the log origin, e.g. truce.example/golan-1974)"
        ),
    };
    let mut body = body.clone();
    if let Some(path) = &a.seal {
        let client = client
            .as_ref()
            .context("--seal needs --server (for the members' keys)")?;
        let mechanism = client.get_ok("/v1/mechanism")?.json()?;
        let (own, mediator) = deconflict::own_party_and_mediator(&mechanism, &key.member)?;
        let mut parties = vec![own.as_str(), mediator.as_str()];
        parties.extend(a.seal_to.iter().map(String::as_str));
        let details = submit::read_json(path)?;
        let rcpt = deconflict::recipients(&mechanism, &parties);
        body["sealed"] = deconflict::seal_details(&details, &rcpt)?;
    }
    let body = &body;
    let env = submit::build(&origin, &a.kind, &key, body)?;
    if let Some(path) = &a.sign_only {
        submit::write_envelope(path, &env)?;
        print(j, json!({"envelope": path}), || {
            format!(
                "signed and wrote {} (not sent); to countersign it: `truce countersign {} --key MEDIATOR-ADMIN.key --server URL`",
                path.display(),
                path.display()
            )
        });
        return Ok(());
    }
    if a.offline {
        let path = submit::enqueue(&a.queue, &env)?;
        print(j, json!({"queued": path}), || {
            format!(
                "signed and queued {} (send it with `truce sync --server URL --queue {}`)",
                path.display(),
                a.queue.display()
            )
        });
        return Ok(());
    }
    let client = client.context("--server is required unless --offline")?;
    let saved = match submit::post(&client, &env, &a.out) {
        Ok(saved) => saved,
        Err(e) if e.is::<client::Unreachable>() || e.is::<submit::ServerFailed>() => {
            // Signed at capture time: keep it, so a retry sends this very envelope.
            let path = submit::enqueue(&a.queue, &env)?;
            return Err(e.context(format!(
                "the signed entry was queued as {}; send it with `truce sync --server {}` (sending it again is safe: a repeat gets the same receipt)",
                path.display(),
                client.base()
            )));
        }
        Err(e) => return Err(e),
    };
    print(
        j,
        json!({"created": saved.created, "receipt": saved.receipt, "files": saved.files}),
        || saved.describe(),
    );
    Ok(())
}

/// `truce sync`.
pub(crate) fn sync(j: bool, a: SyncArgs, token: &Option<String>) -> Result<()> {
    let client = connect(&a.server, token)?;
    let r = submit::sync(&client, &a.queue, &a.out)?;
    let value = serde_json::to_value(&r)?;
    print(j, value, || {
        format!(
            "sent {} (indexes {:?}), already logged {}, refused {}{}",
            r.sent.len(),
            r.sent,
            r.already_logged.len(),
            r.refused.len(),
            r.refused
                .iter()
                .map(|(f, why)| format!("\n  {f}: {why}"))
                .collect::<String>()
        )
    });
    if !r.refused.is_empty() {
        if !j {
            eprintln!(
                "{} queued entries were refused; they are in {}/refused/ with their reasons",
                r.refused.len(),
                a.queue.display()
            );
        }
        return Err(anyhow::anyhow!(ExitWith(4)));
    }
    Ok(())
}

/// `truce blob`.
pub(crate) fn blob(j: bool, a: BlobArgs, token: &Option<String>) -> Result<()> {
    let client = connect(&a.server, token)?;
    let mut refs = Vec::new();
    for f in &a.files {
        let data = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data));
        let answer = client.put(&format!("/v1/blobs/{sha}"), &data)?;
        if !answer.ok() {
            let e = anyhow::anyhow!("{}: {}", f.display(), answer.problem_text());
            return Err(if answer.status >= 500 {
                e.context("server failure")
            } else {
                anyhow::anyhow!(submit::Refused(e.to_string()))
            });
        }
        let media_type = match f.extension().and_then(|x| x.to_str()) {
            Some("geojson") => "application/geo+json",
            Some("json") => "application/json",
            Some("csv") => "text/csv",
            Some("pdf") => "application/pdf",
            Some("jpg" | "jpeg") => "image/jpeg",
            Some("png") => "image/png",
            _ => "application/octet-stream",
        };
        refs.push(json!({"file": f, "sha256": sha, "size": data.len(), "media_type": media_type, "created": answer.status == 201}));
    }
    print(j, json!(refs), || {
        refs.iter()
            .map(|r| {
                format!(
                    "{}  {}  {} bytes  {}{}",
                    r["sha256"].as_str().unwrap_or(""),
                    r["media_type"].as_str().unwrap_or(""),
                    r["size"],
                    r["file"].as_str().unwrap_or(""),
                    if r["created"] == true {
                        ""
                    } else {
                        "  (already stored)"
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

pub(crate) fn countersign(j: bool, a: CountersignArgs, token: &Option<String>) -> Result<()> {
    let key = keys::MemberKey::load(&a.key)?;
    let client = a.server.as_deref().map(|u| connect(u, token)).transpose()?;
    let origin = match (&a.mechanism, &client) {
        (Some(m), _) => Some(m.clone()),
        (None, Some(c)) => Some(
            c.get_ok("/v1/mechanism")?.json()?["origin"]
                .as_str()
                .context("server did not say its origin")?
                .to_owned(),
        ),
        (None, None) => None,
    };
    let (env, summary) = submit::countersign(&a.envelope, &key, origin.as_deref())?;
    let written = a.write.as_ref().unwrap_or(&a.envelope);
    let Some(client) = client else {
        submit::write_envelope(written, &env)?;
        print(
            j,
            json!({"envelope": written, "entry": summary, "submitted": false}),
            || {
                format!(
                    "countersigned: {summary}\nwrote {} (not sent; submit it with --server)",
                    written.display()
                )
            },
        );
        return Ok(());
    };
    // Written once admitted: a refused countersignature leaves the file as it was.
    let saved = submit::post(&client, &env, &a.out)?;
    submit::write_envelope(written, &env)?;
    print(
        j,
        json!({"envelope": written, "entry": summary, "submitted": true, "created": saved.created, "receipt": saved.receipt, "files": saved.files}),
        || format!("countersigned: {summary}\n{}", saved.describe()),
    );
    Ok(())
}
