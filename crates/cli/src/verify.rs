//! `truce verify`: receipts and tlog-proofs offline, and whole servers (checkpoint signature,
//! consistency with what was seen before, every entry's signature and admission rules, the
//! root recomputed from the entries).

use crate::client::Client;
use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;
use truce_log::checkpoint::verify_checkpoint;
use truce_log::merkle::{MemoryHashes, leaf_hash, parse_hash_b64, verify_consistency};
use truce_log::proof::TlogProof;
use truce_log::tiles::{TILE_WIDTH, TileRef, decode_bundle};
use truce_log::{Envelope, Receipt};
use truce_model::entry::Body;
use truce_model::{Entry, Registry};

/// A verification failure (exit code 3), as opposed to an operational error.
#[derive(Debug)]
pub struct Failed(pub String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

pub(crate) fn fail(msg: impl Into<String>) -> anyhow::Error {
    anyhow!(Failed(msg.into()))
}

/// Reads an entry file (any DSSE envelope JSON) and returns its leaf bytes.
fn read_leaf(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let env = Envelope::parse(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok(env.to_leaf())
}

#[derive(Debug, Serialize)]
pub struct ProofReport {
    pub index: u64,
    pub tree_size: u64,
    pub origin: String,
}

pub fn receipt(receipt: &Path, entry: &Path, vkey: &str) -> Result<ProofReport> {
    let text = std::fs::read(receipt).with_context(|| format!("reading {}", receipt.display()))?;
    let r: Receipt = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a receipt", receipt.display()))?;
    let cp = r
        .verify(&read_leaf(entry)?, vkey)
        .map_err(|e| fail(e.to_string()))?;
    Ok(ProofReport {
        index: r.index,
        tree_size: cp.size,
        origin: cp.origin,
    })
}

pub fn proof(proof: &Path, entry: &Path, vkey: &str) -> Result<ProofReport> {
    let text = std::fs::read(proof).with_context(|| format!("reading {}", proof.display()))?;
    let p = TlogProof::parse(&text).map_err(|e| fail(format!("{}: {e}", proof.display())))?;
    let cp = p
        .verify(&read_leaf(entry)?, vkey)
        .map_err(|e| fail(e.to_string()))?;
    Ok(ProofReport {
        index: p.index,
        tree_size: cp.size,
        origin: cp.origin,
    })
}

/// What `verify server` remembers between runs.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeenState {
    pub verifier_key: String,
    pub tree_size: u64,
    pub root: String,
    pub checkpoint: String,
}

#[derive(Debug, Serialize)]
pub struct ServerReport {
    pub origin: String,
    pub tree_size: u64,
    pub root: String,
    pub entries_verified: u64,
    pub consistent_with_previous: Option<u64>,
    pub verifier_key: String,
    pub trusted_on_first_use: bool,
}

/// Verifies a server end to end; see the module docs.
pub fn server(
    client: &Client,
    vkey: Option<&str>,
    state_path: Option<&Path>,
    progress: bool,
) -> Result<ServerReport> {
    server_with(client, vkey, state_path, progress, |_, _| Ok(()))
}

/// [`server`], handing each verified entry, in log order, to `on_entry`.
pub fn server_with(
    client: &Client,
    vkey: Option<&str>,
    state_path: Option<&Path>,
    progress: bool,
    mut on_entry: impl FnMut(u64, &Entry) -> Result<()>,
) -> Result<ServerReport> {
    let previous: Option<SeenState> = match state_path {
        Some(p) if p.exists() => Some(
            serde_json::from_slice(&std::fs::read(p)?)
                .with_context(|| format!("{}: not a verify state file", p.display()))?,
        ),
        _ => None,
    };
    let mut tofu = false;
    let vkey = match (vkey, &previous) {
        (Some(k), Some(prev)) if k != prev.verifier_key => {
            bail!(
                "--vkey differs from the key in the state file; use a new state file to change keys"
            )
        }
        (Some(k), _) => k.to_owned(),
        (None, Some(prev)) => prev.verifier_key.clone(),
        (None, None) => {
            tofu = true;
            let m = client.get_ok("/v1/mechanism")?.json()?;
            m["verifier_key"]
                .as_str()
                .context("server did not give a verifier key")?
                .to_owned()
        }
    };
    let note = client.get_ok("/log/checkpoint")?.body;
    let cp = verify_checkpoint(&note, &vkey).map_err(|e| fail(format!("checkpoint: {e}")))?;

    let mut consistent = None;
    if let Some(prev) = &previous {
        let old_root = parse_hash_b64(&prev.root).context("state file root is not base64")?;
        if cp.size < prev.tree_size {
            return Err(fail(format!(
                "the log shrank: it was {} entries, now the server signs {} — the operator rewrote history",
                prev.tree_size, cp.size
            )));
        }
        if prev.tree_size > 0 {
            let ans = client
                .get_ok(&format!(
                    "/v1/proofs/consistency?from={}&to={}",
                    prev.tree_size, cp.size
                ))?
                .json()?;
            let proof = ans["proof"]
                .as_array()
                .context("consistency answer has no proof")?
                .iter()
                .map(|h| {
                    h.as_str()
                        .and_then(parse_hash_b64)
                        .context("bad proof hash")
                })
                .collect::<Result<Vec<_>>>()?;
            verify_consistency(&proof, cp.size, cp.root, prev.tree_size, old_root).map_err(|e| {
                fail(format!("the log at {} is not an extension of the log at {} you saw before: {e} (fork or rewrite)", cp.size, prev.tree_size))
            })?;
            consistent = Some(prev.tree_size);
        }
    }

    // Mirror the entries over the tiles API, replay admission, recompute the root.
    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new(cp.size);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} verifying entries {pos}/{len} [{bar:30}] {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut hashes = MemoryHashes::new();
    let mut registry = Registry::new();
    let mut index = 0u64;
    while index < cp.size {
        let tile_index = index / TILE_WIDTH;
        let width = (cp.size - tile_index * TILE_WIDTH).min(TILE_WIDTH) as u16;
        let t = TileRef {
            level: None,
            index: tile_index,
            width,
        };
        let bundle = client.get_ok(&format!("/log/{}", t.path()))?.body;
        let leaves = decode_bundle(&bundle).map_err(|e| fail(format!("{}: {e}", t.path())))?;
        if leaves.len() != usize::from(width) {
            return Err(fail(format!(
                "{} holds {} entries, expected {width}",
                t.path(),
                leaves.len()
            )));
        }
        for leaf in leaves {
            let entry = verify_entry(client, &mut registry, &cp.origin, index, leaf)?;
            on_entry(index, &entry)?;
            hashes
                .append(leaf_hash(leaf))
                .map_err(|e| anyhow!(e.to_string()))?;
            index += 1;
            if let Some(b) = &bar {
                b.set_position(index);
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let root = hashes.root(cp.size).map_err(|e| anyhow!(e.to_string()))?;
    if root != cp.root {
        return Err(fail(format!(
            "the root recomputed from the {} entries ({root}) differs from the signed checkpoint's ({})",
            cp.size, cp.root
        )));
    }
    if let Some(p) = state_path {
        let state = SeenState {
            verifier_key: vkey.clone(),
            tree_size: cp.size,
            root: cp.root.to_string(),
            checkpoint: String::from_utf8_lossy(&note).into_owned(),
        };
        std::fs::write(p, serde_json::to_string_pretty(&state)? + "\n")?;
    }
    Ok(ServerReport {
        origin: cp.origin,
        tree_size: cp.size,
        root: cp.root.to_string(),
        entries_verified: index,
        consistent_with_previous: consistent,
        verifier_key: vkey,
        trusted_on_first_use: tofu,
    })
}

/// Checks one logged entry as admission should have: envelope, payload, strict signature under
/// the member's key at that point of the log, and the registry's rules.
fn verify_entry(
    client: &Client,
    registry: &mut Registry,
    origin: &str,
    index: u64,
    leaf: &[u8],
) -> Result<Entry> {
    let mut zones =
        |sha: &str| -> Result<Vec<u8>> { Ok(client.get_ok(&format!("/v1/blobs/{sha}"))?.body) };
    readmit(registry, origin, index, leaf, &mut zones)?.map_err(fail)
}

/// Re-admits one logged entry exactly as admission should have, and applies it to the
/// registry: the leaf in compact form, the payload, the mechanism, the strict signature under
/// the member's key at that point of the log, and the registry's rules. `zones` fetches an
/// agreement's zones document by SHA-256. The outer error is an I/O failure; the inner one
/// says why the entry should not have been admitted.
pub fn readmit(
    registry: &mut Registry,
    origin: &str,
    index: u64,
    leaf: &[u8],
    zones: &mut dyn FnMut(&str) -> Result<Vec<u8>>,
) -> Result<std::result::Result<Entry, String>> {
    let bad = |what: String| format!("entry {index}: {what}");
    let env = match Envelope::parse(leaf) {
        Ok(e) => e,
        Err(e) => return Ok(Err(bad(e.to_string()))),
    };
    if env.to_leaf() != leaf {
        return Ok(Err(bad("the leaf is not in compact form".into())));
    }
    if let Err(e) = env.check_entry_shape() {
        return Ok(Err(bad(e.to_string())));
    }
    let entry = match Entry::parse(&env.payload) {
        Ok(e) => e,
        Err(r) => return Ok(Err(bad(r.detail))),
    };
    if entry.mechanism != origin {
        return Ok(Err(bad(format!(
            "names mechanism `{}`, not this log `{origin}`",
            entry.mechanism
        ))));
    }
    let keyid = env.signature().keyid.clone();
    let checked = registry
        .signer_key(&entry, &keyid)
        .map_err(|r| r.detail)
        .and_then(|key| env.verify_strict(&key).map_err(|e| e.to_string()))
        .and_then(|()| {
            registry
                .check(&entry, &keyid)
                .map_err(|r| format!("should not have been admitted: {}", r.detail))
        });
    if let Err(why) = checked {
        return Ok(Err(bad(why)));
    }
    let zone_ids = match &entry.body {
        Body::Agreement(a) => {
            let doc = zones(&a.zones.sha256)?;
            match a.check_zones(&doc) {
                Ok(z) => z.into_iter().map(|z| z.id).collect(),
                Err(r) => return Ok(Err(bad(r.detail))),
            }
        }
        _ => BTreeSet::new(),
    };
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&env.payload));
    registry.apply(index, &entry, &sha, zone_ids);
    Ok(Ok(entry))
}
