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
use crate::verify::{Anomaly, Failed, WitnessReport, server_with};
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
/// server's own key is trusted, and the report says so).
pub fn audit(client: &Client, vkey: Option<&str>, progress: bool) -> Result<AuditReport> {
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
    let report = server_with(
        client,
        Some(&vkey),
        None,
        progress,
        Some(&mut anomalies),
        |index, entry| match replayer.as_mut() {
            Some(r) => r.apply(index, entry),
            None => Ok(()),
        },
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
