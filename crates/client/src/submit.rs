//! `truce submit` and `truce sync`: sign entries, send them (or queue them offline), and keep
//! the receipts.

use crate::client::Client;
use crate::keys::MemberKey;
use crate::scenario::sign_entry;
use anyhow::{Context, Result, anyhow};
use serde_json::Value;
use std::path::{Path, PathBuf};
use truce_log::{Envelope, Receipt};
use truce_model::Kind;

/// A refusal by the server (4xx), as opposed to a failure to reach it.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The server failed or timed out (5xx, 408, 429): the entry may be retried as is.
#[derive(Debug)]
pub struct ServerFailed(pub String);

impl std::fmt::Display for ServerFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerFailed {}

/// Reads a JSON body from a file, or stdin for `-`.
pub fn read_json(path: &Path) -> Result<Value> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("{}: not valid JSON", path.display()))
}

/// Builds and signs an entry, checking it locally first so mistakes are caught before sending.
pub fn build(origin: &str, kind: &str, key: &MemberKey, body: &Value) -> Result<Envelope> {
    let kind = Kind::parse(kind).ok_or_else(|| {
        anyhow!(
            "unknown kind `{kind}`; kinds: {}",
            Kind::ALL.map(Kind::as_str).join(", ")
        )
    })?;
    let env = sign_entry(origin, kind, key, body, jiff::Timestamp::now());
    truce_model::Entry::parse(&env.payload)
        .map_err(|r| anyhow!(Refused(format!("the entry is invalid: {}", r.detail))))?;
    env.check_entry_shape()
        .map_err(|e| anyhow!(Refused(e.to_string())))?;
    Ok(env)
}

/// Writes an envelope (its compact leaf form) to `path`, atomically.
pub fn write_envelope(path: &Path, env: &Envelope) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, env.to_leaf()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Reads a signed membership envelope, checks it on its own (shape, payload, mechanism when
/// `origin` is known) and adds `key`'s countersignature. Returns the envelope and a one-line
/// description of what the entry does, for the countersigner to read.
pub fn countersign(
    path: &Path,
    key: &MemberKey,
    origin: Option<&str>,
) -> Result<(Envelope, String)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut env = Envelope::parse(&bytes)
        .map_err(|e| anyhow!(Refused(format!("{}: {e}", path.display()))))?;
    env.check_entry_shape()
        .map_err(|e| anyhow!(Refused(format!("{}: {e}", path.display()))))?;
    let entry = truce_model::Entry::parse(&env.payload).map_err(|r| {
        anyhow!(Refused(format!(
            "{}: the entry is invalid: {}",
            path.display(),
            r.detail
        )))
    })?;
    let truce_model::entry::Body::Membership(m) = &entry.body else {
        return Err(anyhow!(Refused(format!(
            "{}: is a {} entry; only membership entries are countersigned",
            path.display(),
            entry.kind
        ))));
    };
    if let Some(origin) = origin
        && entry.mechanism != origin
    {
        return Err(anyhow!(Refused(format!(
            "{}: the entry is for mechanism `{}`, not `{origin}`",
            path.display(),
            entry.mechanism
        ))));
    }
    let mut summary = format!(
        "{} signed at {}: {} member `{}`",
        entry.author,
        entry.created,
        truce_model::ids::wire_name(&m.action),
        m.member
    );
    if let Some(role) = &m.role {
        summary.push_str(&format!(" as {}", truce_model::ids::wire_name(role)));
    }
    if let Some(k) = &m.public_key {
        let id = truce_model::keys::parse_public_key("public_key", k)
            .map(|k| truce_log::dsse::key_id(&k))
            .unwrap_or_default();
        summary.push_str(&format!(" with key id {id}"));
    }
    if let Some(r) = &m.reason {
        summary.push_str(&format!(" (reason: {r})"));
    }
    env.countersign(&key.key).map_err(|e| {
        anyhow!(Refused(format!(
            "{}: {e}; it already carries your signature",
            path.display()
        )))
    })?;
    env.check_entry_shape()
        .map_err(|e| anyhow!(Refused(format!("{}: {e}", path.display()))))?;
    Ok((env, summary))
}

/// Where a receipt was saved.
#[derive(Debug)]
pub struct Saved {
    pub receipt: Receipt,
    pub created: bool,
    pub files: Vec<PathBuf>,
}

impl Saved {
    /// `logged entry N (leaf hash H)` (or `already logged as …`) and the files saved.
    pub fn describe(&self) -> String {
        format!(
            "{} entry {} (leaf hash {})\nsaved {}",
            if self.created {
                "logged"
            } else {
                "already logged as"
            },
            self.receipt.index,
            self.receipt.leaf_hash,
            self.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Saves `<index>.entry.json` (the leaf), `<index>.receipt.json` and `<index>.tlog-proof`.
pub fn save_receipt(dir: &Path, leaf: &[u8], receipt: &Receipt) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let base = dir.join(format!("{:08}", receipt.index));
    let files = vec![
        base.with_extension("entry.json"),
        base.with_extension("receipt.json"),
        base.with_extension("tlog-proof"),
    ];
    std::fs::write(&files[0], leaf)?;
    std::fs::write(&files[1], serde_json::to_string_pretty(receipt)? + "\n")?;
    std::fs::write(&files[2], receipt.to_tlog_proof().to_bytes())?;
    Ok(files)
}

/// Posts one envelope and saves its receipt.
pub fn post(client: &Client, env: &Envelope, out: &Path) -> Result<Saved> {
    let leaf = env.to_leaf();
    let a = client.post_json("/v1/entries", &leaf)?;
    if a.status >= 500 || a.status == 408 || a.status == 429 {
        return Err(anyhow!(ServerFailed(format!(
            "server error: {}",
            a.problem_text()
        ))));
    }
    if !a.ok() {
        return Err(anyhow!(Refused(format!("refused: {}", a.problem_text()))));
    }
    let receipt: Receipt =
        serde_json::from_slice(&a.body).context("server sent an invalid receipt")?;
    let files = save_receipt(out, &leaf, &receipt)?;
    Ok(Saved {
        receipt,
        created: a.status == 201,
        files,
    })
}

/// Queues a signed envelope for `truce sync`.
pub fn enqueue(queue: &Path, env: &Envelope) -> Result<PathBuf> {
    std::fs::create_dir_all(queue).with_context(|| format!("creating {}", queue.display()))?;
    let leaf = env.to_leaf();
    let name = format!(
        "{}-{}.json",
        jiff::Timestamp::now().as_nanosecond(),
        &hex::encode(truce_log::merkle::leaf_hash(&leaf).0)[..12]
    );
    let path = queue.join(name);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &leaf)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// What a sync did.
#[derive(Debug, Default, serde::Serialize)]
pub struct SyncReport {
    pub sent: Vec<u64>,
    pub already_logged: Vec<u64>,
    pub refused: Vec<(String, String)>,
}

/// Sends every queued envelope in order; keeps the queue file on network errors, moves refused
/// ones to `refused/` with the reason beside them.
pub fn sync(client: &Client, queue: &Path, out: &Path) -> Result<SyncReport> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(queue) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
        Err(e) => return Err(e).with_context(|| format!("reading {}", queue.display())),
    };
    files.sort();
    let mut report = SyncReport::default();
    for f in files {
        let bytes = std::fs::read(&f)?;
        let result = Envelope::parse(&bytes)
            .map_err(|e| anyhow!(Refused(format!("not a DSSE envelope: {e}"))))
            .and_then(|env| post(client, &env, out));
        match result {
            Ok(saved) => {
                if saved.created {
                    report.sent.push(saved.receipt.index);
                } else {
                    report.already_logged.push(saved.receipt.index);
                }
                std::fs::remove_file(&f)?;
            }
            Err(e) if e.is::<Refused>() => {
                let dir = queue.join("refused");
                std::fs::create_dir_all(&dir)?;
                let name = f.file_name().map(PathBuf::from).unwrap_or_default();
                std::fs::rename(&f, dir.join(&name))?;
                std::fs::write(
                    dir.join(name.with_extension("reason.txt")),
                    e.to_string() + "\n",
                )?;
                report
                    .refused
                    .push((name.display().to_string(), e.to_string()));
            }
            Err(e) => {
                return Err(e.context(format!(
                    "sync stopped at {}; the rest stay queued",
                    f.display()
                )));
            }
        }
    }
    Ok(report)
}
