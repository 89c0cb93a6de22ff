//! `truce replay`: recompute the derived state from the log and check the operator's signed
//! state commitment against it.
//!
//! The log is mirrored over the tiles API and verified exactly as `truce verify server` does
//! (checkpoint signature, every entry re-admitted, root recomputed); each entry is then
//! applied to a local engine. When the local state reaches the size of the server's latest
//! signed state commitment, its hash must equal the committed one. A mismatch proves the
//! operator published findings that the log does not support.

use crate::client::Client;
use crate::verify::{fail, server_with};
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeSet;
use truce_engine::Engine;
use truce_engine::commitment::state_hash;
use truce_log::verify_state_commitment;

#[derive(Debug, Serialize)]
pub struct ReplayReport {
    pub origin: String,
    pub tree_size: u64,
    pub entries_verified: u64,
    /// The size the server's commitment is for.
    pub commitment_size: u64,
    pub state_hash: String,
    /// Findings in the replayed state at the commitment's size.
    pub findings: usize,
    pub verifier_key: String,
}

/// Replays the server's log and checks its latest state commitment.
pub fn replay(client: &Client, vkey: Option<&str>, progress: bool) -> Result<ReplayReport> {
    let vkey = match vkey {
        Some(k) => k.to_owned(),
        None => client.get_ok("/v1/mechanism")?.json()?["verifier_key"]
            .as_str()
            .context("server did not give a verifier key")?
            .to_owned(),
    };
    let mut replayer = Replayer::new(client, &vkey)?;
    let report = server_with(client, Some(&vkey), None, progress, None, |index, entry| {
        replayer.apply(index, entry)
    })?;
    let (commitment_size, ours, findings) = replayer.check(report.tree_size)?;
    Ok(ReplayReport {
        origin: report.origin,
        tree_size: report.tree_size,
        entries_verified: report.entries_verified,
        commitment_size,
        state_hash: hex::encode(ours),
        findings,
        verifier_key: vkey,
    })
}

/// Applies a server's verified entries, in log order, to a local engine, and compares the
/// state at the size of the server's latest signed state commitment with that commitment.
pub struct Replayer<'a> {
    client: &'a Client,
    committed: truce_log::StateCommitment,
    engine: Engine,
    ours: Option<[u8; 32]>,
    findings_at: std::collections::BTreeMap<String, Box<truce_engine::Finding>>,
}

impl std::fmt::Debug for Replayer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer")
            .field("commitment_size", &self.committed.size)
            .field("replayed", &self.engine.state().size)
            .finish_non_exhaustive()
    }
}

impl<'a> Replayer<'a> {
    /// Fetches and verifies (with the log key `vkey`) the server's latest state commitment.
    pub fn new(client: &'a Client, vkey: &str) -> Result<Self> {
        let answer = client.get("/v1/state/commitment")?;
        if !answer.ok() {
            anyhow::bail!(
                "the server has no state commitment to check: {}",
                answer.problem_text()
            );
        }
        let note = answer.json()?["note"]
            .as_str()
            .context("commitment answer has no note")?
            .to_owned();
        let committed = verify_state_commitment(note.as_bytes(), vkey)
            .map_err(|e| fail(format!("state commitment: {e}")))?;
        let engine = Engine::new();
        let ours = (committed.size == 0).then(|| state_hash(engine.state()));
        let findings_at = engine.state().findings.clone();
        Ok(Self {
            client,
            committed,
            engine,
            ours,
            findings_at,
        })
    }

    /// The size the commitment is for.
    pub fn commitment_size(&self) -> u64 {
        self.committed.size
    }

    /// Applies entry `index` (entries must come in log order).
    pub fn apply(&mut self, index: u64, entry: &truce_model::Entry) -> Result<()> {
        if index >= self.committed.size {
            return Ok(());
        }
        let client = self.client;
        let blobs = |sha: &str| {
            client
                .get_ok(&format!("/v1/blobs/{sha}"))
                .ok()
                .map(|a| a.body)
        };
        self.engine
            .apply(index, entry, &blobs)
            .map_err(|e| fail(format!("entry {index}: {e}")))?;
        if self.engine.state().size == self.committed.size {
            self.ours = Some(state_hash(self.engine.state()));
            self.findings_at = self.engine.state().findings.clone();
        }
        Ok(())
    }

    /// Compares the replayed state with the commitment: (size, hash, findings) if they agree,
    /// otherwise a verification failure naming the findings that differ.
    pub fn check(&self, tree_size: u64) -> Result<(u64, [u8; 32], usize)> {
        let committed = &self.committed;
        let findings_at = &self.findings_at;
        let client = self.client;
        let Some(ours) = self.ours else {
            return Err(fail(format!(
                "the state commitment is for {} entries but the signed log holds only {}",
                committed.size, tree_size
            )));
        };
        if ours != committed.state_hash {
            let mut detail = format!(
                "the operator's state commitment for {} entries is {}, but replaying the log gives {}: the published derived state (findings, statuses) is not what the log and the agreement imply",
                committed.size,
                hex::encode(committed.state_hash),
                hex::encode(ours)
            );
            // Name the findings that differ, when the server's current state is at that size.
            if let Ok(a) = client.get_ok("/v1/state")
                && let Ok(theirs) = serde_json::from_slice::<truce_engine::State>(&a.body)
                && theirs.size == committed.size
            {
                let ids: BTreeSet<&String> =
                    theirs.findings.keys().chain(findings_at.keys()).collect();
                let differ: Vec<String> = ids
                    .into_iter()
                    .filter(|id| theirs.findings.get(*id) != findings_at.get(*id))
                    .map(|id| {
                        let show = |f: Option<&Box<truce_engine::Finding>>| {
                            f.map_or("absent".to_owned(), |f| f.status.as_str().to_owned())
                        };
                        format!(
                            "{id}: server says {}, the log gives {}",
                            show(theirs.findings.get(id)),
                            show(findings_at.get(id))
                        )
                    })
                    .collect();
                if !differ.is_empty() {
                    detail.push_str("\nfindings that differ:\n  ");
                    detail.push_str(&differ.join("\n  "));
                }
            }
            return Err(fail(detail));
        }
        Ok((committed.size, ours, findings_at.len()))
    }
}
