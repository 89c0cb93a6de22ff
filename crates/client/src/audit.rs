//! `truce audit`: one command for an auditor. From a server's URL it checks the whole record
//! and reports every anomaly it finds rather than stopping at the first: the checkpoint's
//! signature, the agreement's witness policy and its freshness, every entry re-admitted as
//! admission should have (signature, key, role, rules), the root recomputed from the entries,
//! the derived state replayed and compared with the operator's signed state commitment, and the
//! equivocations the server's witnesses revealed.
//!
//! A checkpoint that is not the log's, and failures to reach the server, end the audit (there
//! is nothing to audit against); everything else is an anomaly in the report.

use crate::client::Client;
use crate::replay::Replayer;
use crate::verify::{Anomaly, Failed, WitnessReport, server_checked};
use anyhow::{Context, Result};
use serde::Serialize;

/// What an audit found.
#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub origin: String,
    pub verifier_key: String,
    /// The key was taken from the server itself (no `--vkey`).
    pub trusted_on_first_use: bool,
    pub tree_size: u64,
    /// Entries re-admitted without fault.
    pub entries_verified: u64,
    /// The size the operator's state commitment is for, when there is one.
    pub commitment_size: Option<u64>,
    /// The witness policy's check, when the agreement names witnesses and it passed.
    pub witnesses: Option<WitnessReport>,
    /// What was checked, in order.
    pub checked: Vec<&'static str>,
    pub anomalies: Vec<Anomaly>,
    pub seconds: f64,
}

/// Audits the server `client` reads from; `vkey` is the log's verifier key (without it the
/// server's own key is trusted, and the report says so). With `fresh`, the witness
/// cosignatures must also be fresh now (not for an export bundle, which is as old as it is).
pub fn audit(
    client: &Client,
    vkey: Option<&str>,
    progress: bool,
    fresh: bool,
) -> Result<AuditReport> {
    let started = std::time::Instant::now();
    let mechanism = client.get_ok("/v1/mechanism")?.json()?;
    let (vkey, tofu) = match vkey {
        Some(k) => (k.to_owned(), false),
        None => (
            mechanism["verifier_key"]
                .as_str()
                .context("server did not give a verifier key")?
                .to_owned(),
            true,
        ),
    };
    let mut anomalies = Vec::new();
    let mut replayer = match Replayer::new(client, &vkey) {
        Ok(r) => Some(r),
        Err(e) if e.is::<Failed>() => {
            anomalies.push(Anomaly {
                check: "state-commitment".into(),
                index: None,
                detail: e.to_string(),
            });
            None
        }
        // No commitment yet (a new log): nothing to compare.
        Err(_) => None,
    };
    let mut apply = |index: u64, entry: &truce_model::Entry| match replayer.as_mut() {
        Some(r) => r.apply(index, entry),
        None => Ok(()),
    };
    let report = server_checked(
        client,
        Some(&vkey),
        None,
        progress,
        fresh,
        Some(&mut anomalies),
        &mut apply,
    )?;
    let mut commitment_size = None;
    if let Some(r) = &replayer {
        commitment_size = Some(r.commitment_size());
        if let Err(e) = r.check(report.tree_size) {
            anomalies.push(Anomaly {
                check: "state-commitment".into(),
                index: None,
                detail: e.to_string(),
            });
        }
    }
    if let Ok(w) = client.get_ok("/v1/witnesses").and_then(|a| a.json())
        && let Some(list) = w["equivocations"].as_array()
    {
        for e in list {
            anomalies.push(Anomaly {
                check: "equivocation".into(),
                index: None,
                detail: format!(
                    "witness {} holds another history of this log: {}\nthe log's checkpoint it refused:\n{}",
                    e["witness"].as_str().unwrap_or("?"),
                    e["detail"].as_str().unwrap_or(""),
                    e["checkpoint"].as_str().unwrap_or("")
                ),
            });
        }
    }
    Ok(AuditReport {
        origin: report.origin,
        verifier_key: vkey,
        trusted_on_first_use: tofu,
        tree_size: report.tree_size,
        entries_verified: report.entries_verified
            - anomalies.iter().filter(|a| a.check == "entry").count() as u64,
        commitment_size,
        witnesses: report.witnesses,
        checked: vec![
            "checkpoint signature",
            "witness policy and freshness",
            "every entry re-admitted (signature, key, role, rules)",
            "root recomputed from the entries",
            "derived state replayed against the signed state commitment",
            "equivocations revealed by witnesses",
        ],
        anomalies,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Serves an export bundle on a loopback port, in a thread of its own; returns its URL.
pub fn serve_bundle(dir: &std::path::Path) -> Result<String> {
    if !dir.join("log/checkpoint.body").exists() {
        anyhow::bail!(
            "{} is not an export bundle (no log/checkpoint); make one with truce export-bundle",
            dir.display()
        );
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = truce_server::bundle::router(dir.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(rt) = rt {
            rt.block_on(async move {
                if let Ok(l) = tokio::net::TcpListener::from_std(listener) {
                    let _ = truce_server::listener::serve(
                        l,
                        router,
                        truce_server::listener::ConnectionLimits::default(),
                        std::future::pending(),
                    )
                    .await;
                }
            });
        }
    });
    Ok(url)
}

/// What `truce export-bundle` wrote.
#[derive(Debug, Serialize)]
pub struct BundleReport {
    pub dir: std::path::PathBuf,
    pub tree_size: u64,
    pub files: usize,
    pub bytes: u64,
}

/// Copies what an audit reads from a server into `out`, one file per API path: the mechanism,
/// the checkpoint with its cosignatures, every entry bundle (C2SP tlog-tiles), the blobs the
/// agreements name, the state commitment and state, and the witnesses' view. `truce audit
/// --bundle` audits it offline.
pub fn export_bundle(
    client: &Client,
    out: &std::path::Path,
    progress: bool,
) -> Result<BundleReport> {
    use truce_log::tiles::{TILE_WIDTH, TileRef, decode_bundle};
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        anyhow::bail!(
            "{} is not empty; export a bundle into a new directory",
            out.display()
        );
    }
    let mut files = 0usize;
    let mut bytes = 0u64;
    let mut save = |path: &str, body: &[u8]| -> Result<()> {
        let file = truce_server::bundle::file_of(out, path)
            .with_context(|| format!("{path} cannot name a file"))?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&file, body).with_context(|| format!("writing {}", file.display()))?;
        files += 1;
        bytes += body.len() as u64;
        Ok(())
    };
    let mechanism = client.get_ok("/v1/mechanism")?;
    save("v1/mechanism", &mechanism.body)?;
    let checkpoint = client.get_ok("/log/checkpoint")?.body;
    save("log/checkpoint", &checkpoint)?;
    let size: u64 = String::from_utf8_lossy(&checkpoint)
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .context("the checkpoint has no size line")?;
    let bar = progress.then(|| indicatif::ProgressBar::new(size));
    let mut blobs = std::collections::BTreeSet::new();
    let mut index = 0u64;
    while index < size {
        let t = TileRef {
            level: None,
            index: index / TILE_WIDTH,
            width: (size - (index / TILE_WIDTH) * TILE_WIDTH).min(TILE_WIDTH) as u16,
        };
        let path = format!("log/{}", t.path());
        let bundle = client.get_ok(&format!("/{path}"))?.body;
        for leaf in decode_bundle(&bundle).map_err(|e| anyhow::anyhow!("{path}: {e}"))? {
            if let Ok(env) = truce_log::Envelope::parse(leaf)
                && let Ok(entry) = truce_model::Entry::parse(&env.payload)
                && let truce_model::entry::Body::Agreement(a) = &entry.body
            {
                blobs.insert(a.zones.sha256.clone());
                if let Some(p) = &a.places {
                    blobs.insert(p.sha256.clone());
                }
            }
        }
        save(&path, &bundle)?;
        index += u64::from(t.width);
        if let Some(b) = &bar {
            b.set_position(index);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for sha in blobs {
        let blob = client.get_ok(&format!("/v1/blobs/{sha}"))?.body;
        save(&format!("v1/blobs/{sha}"), &blob)?;
    }
    for path in ["v1/state/commitment", "v1/state", "v1/witnesses"] {
        if let Ok(a) = client.get_ok(&format!("/{path}")) {
            save(path, &a.body)?;
        }
    }
    Ok(BundleReport {
        dir: out.to_owned(),
        tree_size: size,
        files,
        bytes,
    })
}
