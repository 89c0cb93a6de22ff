//! `truce verify`: receipts and tlog-proofs offline, and whole servers (checkpoint signature,
//! consistency with what was seen before, every entry's signature and admission rules, the
//! root recomputed from the entries).

use crate::client::Client;
use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use std::path::Path;
use truce_log::checkpoint::verify_checkpoint;
use truce_log::cosignature::cosignatures_in;
use truce_log::merkle::{MemoryHashes, leaf_hash, parse_hash_b64, verify_consistency};
use truce_log::proof::TlogProof;
use truce_log::tiles::{TILE_WIDTH, TileRef, decode_bundle};
use truce_log::{Envelope, Receipt};
use truce_model::Entry;
use truce_model::admission::LogState;
use truce_model::replay::{Prechecker, readmit, readmit_parsed};
use truce_model::witnesses::Witnesses;

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
    /// The witness policy's check, when a policy was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnesses: Option<WitnessReport>,
}

/// How a checkpoint's cosignatures met the agreement's witness policy.
#[derive(Debug, Serialize)]
pub struct WitnessReport {
    /// The listed witnesses whose valid cosignature the checkpoint carries.
    pub cosigned_by: Vec<String>,
    /// The newest cosignature's time (POSIX seconds).
    pub newest: Option<u64>,
    /// Whether freshness was checked (not for offline proofs, whose checkpoint is as old as
    /// the proof).
    pub freshness_checked: bool,
}

/// Reads a witness policy file: the agreement's `witnesses` block (as `/v1/mechanism` shows it
/// under `agreement.witnesses`), or a whole agreement body that has one.
pub fn read_witness_policy(path: &Path) -> Result<Witnesses> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let block = v.get("witnesses").cloned().unwrap_or(v);
    serde_json::from_value(block).with_context(|| {
        format!(
            "{}: not a witnesses block ({{\"list\": [...], \"policy\": {{...}}}})",
            path.display()
        )
    })
}

/// Accepts the checkpoint `note` only if its cosignatures meet the policy; with `now`, also
/// only if the newest is fresh. Says exactly what is missing otherwise.
pub fn check_witnesses(note: &[u8], w: &Witnesses, now: Option<u64>) -> Result<WitnessReport> {
    let found = cosignatures_in(note, &w.verifiers())
        .ok_or_else(|| fail("the checkpoint is not a well-formed signed note"))?;
    let newest = found.iter().map(|c| c.timestamp).max();
    let verdict = w.judge(&found, now.unwrap_or(newest.unwrap_or(0)));
    let quorum_or_fresh = if now.is_some() {
        verdict.trusted()
    } else {
        verdict.quorum_met
    };
    if !quorum_or_fresh {
        return Err(fail(format!(
            "witness policy not met: {}",
            verdict
                .explain(w.policy.max_age_seconds)
                .unwrap_or_default()
        )));
    }
    Ok(WitnessReport {
        cosigned_by: found.into_iter().map(|c| c.name).collect(),
        newest,
        freshness_checked: now.is_some(),
    })
}

/// Checks a receipt for `entry` offline; with `policy` (a witness policy file, see
/// [`read_witness_policy`]) its checkpoint must also carry the cosignatures it needs.
pub fn receipt(
    receipt: &Path,
    entry: &Path,
    vkey: &str,
    policy: Option<&Path>,
) -> Result<ProofReport> {
    let policy = policy.map(read_witness_policy).transpose()?;
    let text = std::fs::read(receipt).with_context(|| format!("reading {}", receipt.display()))?;
    let r: Receipt = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a receipt", receipt.display()))?;
    let cp = r
        .verify(&read_leaf(entry)?, vkey)
        .map_err(|e| fail(e.to_string()))?;
    let witnesses = policy
        .map(|w| check_witnesses(r.checkpoint.as_bytes(), &w, None))
        .transpose()?;
    Ok(ProofReport {
        index: r.index,
        tree_size: cp.size,
        origin: cp.origin,
        witnesses,
    })
}

/// Checks a C2SP tlog-proof file for `entry` offline; `policy` as for [`receipt`].
pub fn proof(proof: &Path, entry: &Path, vkey: &str, policy: Option<&Path>) -> Result<ProofReport> {
    let policy = policy.map(read_witness_policy).transpose()?;
    let text = std::fs::read(proof).with_context(|| format!("reading {}", proof.display()))?;
    let p = TlogProof::parse(&text).map_err(|e| fail(format!("{}: {e}", proof.display())))?;
    let cp = p
        .verify(&read_leaf(entry)?, vkey)
        .map_err(|e| fail(e.to_string()))?;
    let witnesses = policy
        .map(|w| check_witnesses(&p.checkpoint, &w, None))
        .transpose()?;
    Ok(ProofReport {
        index: p.index,
        tree_size: cp.size,
        origin: cp.origin,
        witnesses,
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
    /// The agreement's witness policy, checked on the checkpoint (with freshness), when the
    /// agreement names witnesses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnesses: Option<WitnessReport>,
}

/// Verifies a server end to end; see the module docs.
pub fn server(
    client: &Client,
    vkey: Option<&str>,
    state_path: Option<&Path>,
    progress: bool,
) -> Result<ServerReport> {
    server_with(client, vkey, state_path, progress, None, |_, _| Ok(()))
}

/// Something `truce verify` or `truce audit` found wrong with what a server serves.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Anomaly {
    /// Which check: `entry`, `root`, `witness-policy`, `state-commitment`, `equivocation`.
    pub check: String,
    /// The log index concerned, if one entry is.
    pub index: Option<u64>,
    pub detail: String,
}

/// [`server`], handing each verified entry, in log order, to `on_entry`. With `anomalies`,
/// an entry that should not have been admitted, a root that does not match and a checkpoint
/// without its witness quorum are recorded there and the check goes on (an entry refused is
/// not handed on); without, the first one fails the check. A checkpoint that is not the log's,
/// a log that shrank or forked against `state_path`, and I/O errors always fail it.
pub fn server_with(
    client: &Client,
    vkey: Option<&str>,
    state_path: Option<&Path>,
    progress: bool,
    mut anomalies: Option<&mut Vec<Anomaly>>,
    mut on_entry: impl FnMut(u64, &Entry) -> Result<()>,
) -> Result<ServerReport> {
    server_checked(
        client,
        vkey,
        state_path,
        progress,
        true,
        anomalies.take(),
        &mut on_entry,
    )
}

/// [`server_with`], with the freshness of the witness cosignatures checked against now
/// (`fresh`) or not (an export bundle is as old as it is).
pub fn server_checked(
    client: &Client,
    vkey: Option<&str>,
    state_path: Option<&Path>,
    progress: bool,
    fresh: bool,
    mut anomalies: Option<&mut Vec<Anomaly>>,
    on_entry: &mut dyn FnMut(u64, &Entry) -> Result<()>,
) -> Result<ServerReport> {
    // Records a verification failure as an anomaly when collecting, or returns it.
    let mut found = |check: &str, index: Option<u64>, e: anyhow::Error| -> Result<()> {
        match (&mut anomalies, e.is::<Failed>()) {
            (Some(v), true) => {
                v.push(Anomaly {
                    check: check.to_owned(),
                    index,
                    detail: e.to_string(),
                });
                Ok(())
            }
            _ => Err(e),
        }
    };
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
    let mut state = LogState::new();
    let mut prechecker = Prechecker::new();
    let mut zones =
        |sha: &str| -> Result<Vec<u8>> { Ok(client.get_ok(&format!("/v1/blobs/{sha}"))?.body) };
    let mut index = 0u64;
    while index < cp.size {
        let owned = entry_bundle(client, index, cp.size)?;
        // Signatures are checked ahead on every core; each entry is then re-admitted in log
        // order (which verifies again whenever the registry's key is another).
        let prechecked = prechecker.check(index, &owned);
        for (leaf, parsed) in owned.iter().zip(prechecked) {
            let readmitted = match parsed {
                Ok(p) => readmit_parsed(&mut state, &cp.origin, index, p, &mut zones)?,
                Err(why) => Err(why),
            };
            match readmitted {
                Ok(entry) => on_entry(index, &entry)?,
                Err(why) => found("entry", Some(index), fail(why))?,
            }
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
        found(
            "root",
            None,
            fail(format!(
                "the root recomputed from the {} entries ({root}) differs from the signed checkpoint's ({})",
                cp.size, cp.root
            )),
        )?;
    }
    // The agreement (ratified by the parties, replayed from the log) says which witnesses
    // must vouch for the checkpoint; without them the log's word alone could be a split view.
    let witnesses = match state
        .registry
        .agreement()
        .and_then(|a| a.body.witnesses.as_ref())
        .map(|w| {
            check_witnesses(
                &note,
                w,
                fresh.then(|| jiff::Timestamp::now().as_second().max(0) as u64),
            )
        }) {
        None => None,
        Some(Ok(w)) => Some(w),
        Some(Err(e)) => {
            found("witness-policy", None, e)?;
            None
        }
    };
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
        witnesses,
    })
}

/// The leaves from `index` to the end of its entry bundle (tlog-tiles), in a tree of `size`
/// entries, fetched and checked to hold as many entries as the tile's width says.
pub fn entry_bundle(client: &Client, index: u64, size: u64) -> Result<Vec<Vec<u8>>> {
    let tile = index / TILE_WIDTH;
    let width = (size - tile * TILE_WIDTH).min(TILE_WIDTH) as u16;
    let t = TileRef {
        level: None,
        index: tile,
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
    let skip = (index - tile * TILE_WIDTH) as usize;
    Ok(leaves[skip..].iter().map(|l| l.to_vec()).collect())
}

/// One thing wrong in a data directory's database.
#[derive(Debug, Clone, Serialize)]
pub struct StoreProblem {
    /// The entry concerned, when the problem is an entry's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
    /// The checkpoint concerned (its tree size), when the problem is a checkpoint's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<u64>,
    pub problem: String,
}

/// What `truce verify data` found.
#[derive(Debug, Serialize)]
pub struct DataReport {
    pub origin: String,
    pub verifier_key: String,
    /// True when no --vkey was given and the directory's own log key was used.
    pub trusted_own_key: bool,
    pub entries: u64,
    pub checkpoints: u64,
    pub problems: Vec<StoreProblem>,
    /// The entries named by a problem, ascending.
    pub bad_entries: Vec<u64>,
}

/// Verifies a data directory's database directly, row by row (for the operator, or for an
/// auditor given a copy): every entry re-admitted in order (compact leaf, payload, strict
/// signature under the member's key at that point, the registry's rules), its stored leaf
/// hash, kind and author; the index sequence without gaps; every stored checkpoint's signature
/// and root against the tree recomputed from the entries; the stored interior hashes against
/// the recomputed ones. Every problem is listed, with the entry it concerns.
pub fn data(dir: &Path, vkey: Option<&str>) -> Result<DataReport> {
    let data = truce_server::DataDir::open(dir)?;
    let store = truce_store_sqlite::SqliteStore::open(&data.database_path())?;
    let (vkey, trusted_own_key) = match vkey {
        Some(k) => (k.to_owned(), false),
        None => (data.read_log_key()?.verifier_key().to_owned(), true),
    };
    // One snapshot of the database: a server writing meanwhile cannot make them disagree.
    let (problems, entries, checkpoints, origin) = store.snapshot(|snap| -> Result<_> {
        let mut problems = Vec::new();
        let entry_problem = |i: u64, p: String| StoreProblem {
            entry: Some(i),
            checkpoint: None,
            problem: p,
        };
        let mut state = LogState::new();
        let mut hashes = MemoryHashes::new();
        let mut expected = 0u64;
        let mut gap: Option<u64> = None;
        let mut zones = |sha: &str| -> Result<Vec<u8>> {
            snap.blob(sha)?
                .with_context(|| format!("blob {sha} is not in the store"))
        };
        loop {
            let rows = snap.entry_rows(expected, 4096)?;
            let full = rows.len() == 4096;
            for row in rows {
                if row.index != expected {
                    for missing in expected..row.index {
                        problems.push(entry_problem(missing, "missing from the database".into()));
                    }
                    gap.get_or_insert(expected);
                }
                let i = row.index;
                let lh = leaf_hash(&row.leaf);
                if row.leaf_hash != lh.0 {
                    problems.push(entry_problem(
                        i,
                        "the stored leaf hash does not match the leaf".into(),
                    ));
                }
                match readmit(&mut state, &data.origin, i, &row.leaf, &mut zones)? {
                    Ok(entry) => {
                        if entry.kind.as_str() != row.kind || entry.author != row.author {
                            problems.push(entry_problem(
                                i,
                                format!(
                                    "stored kind/author `{}`/`{}` differ from the entry's `{}`/`{}`",
                                    row.kind,
                                    row.author,
                                    entry.kind.as_str(),
                                    entry.author
                                ),
                            ));
                        }
                    }
                    Err(why) => problems.push(entry_problem(i, why)),
                }
                if gap.is_none() {
                    hashes.append(lh).map_err(|e| anyhow!(e.to_string()))?;
                }
                expected = i + 1;
            }
            if !full {
                break;
            }
        }
        let entries = expected;
        // Checkpoints: signed by the log key, and committing to the entries as stored.
        let checkpoints = snap.checkpoints()?;
        let mut previous = 0u64;
        let mut latest = 0u64;
        let mut origin = data.origin.clone();
        for (size, note) in &checkpoints {
            let cp_problem = |p: String| StoreProblem {
                entry: None,
                checkpoint: Some(*size),
                problem: p,
            };
            match verify_checkpoint(note, &vkey) {
                Err(e) => problems.push(cp_problem(format!("does not verify: {e}"))),
                Ok(cp) if cp.size != *size => problems.push(cp_problem(format!(
                    "is stored under size {size} but signs size {}",
                    cp.size
                ))),
                Ok(cp) => {
                    origin = cp.origin.clone();
                    latest = latest.max(cp.size);
                    if cp.size <= hashes.size() {
                        let root = hashes.root(cp.size).map_err(|e| anyhow!(e.to_string()))?;
                        if root != cp.root {
                            problems.push(cp_problem(format!(
                                "its root differs from the root of the stored entries: an entry in {previous}..{} was changed",
                                cp.size
                            )));
                        }
                    } else {
                        problems.push(cp_problem(format!(
                            "covers {} entries but only {} can be checked (entries missing)",
                            cp.size,
                            hashes.size()
                        )));
                    }
                    previous = cp.size;
                }
            }
        }
        // Entries cut from the end, or stored beyond what any checkpoint signs (a commit stores
        // entries and their checkpoint in one transaction, so neither happens by accident).
        for i in entries.min(latest)..entries.max(latest) {
            problems.push(entry_problem(
                i,
                if i >= entries {
                    format!("missing from the database: the latest checkpoint signs {latest} entries")
                } else {
                    format!("not signed by any checkpoint (the latest signs {latest} entries)")
                },
            ));
        }
        // The stored interior hashes: the same as those recomputed from the entries.
        let mut stored = Vec::new();
        for (first, run) in snap.hash_runs()? {
            if first != stored.len() as u64 || run.len() % 32 != 0 {
                problems.push(StoreProblem {
                    entry: None,
                    checkpoint: None,
                    problem: format!("stored hash run at {first} is misplaced or truncated"),
                });
                break;
            }
            stored.extend(run.chunks_exact(32).map(|c| c.to_vec()));
        }
        let recomputed = hashes.stored_from(0);
        // Each leaf's own hash in the stored tree (tlog stored order: leaf i at 2i - popcount(i)),
        // so that entries moved together with their leaf-hash column are still named.
        for i in 0..hashes.size() {
            let k = (2 * i - u64::from(i.count_ones())) as usize;
            if stored.get(k).is_some_and(|h| *h != recomputed[k].0) {
                problems.push(entry_problem(
                    i,
                    "the tree's stored hash of this leaf differs: the entry was replaced or moved"
                        .into(),
                ));
            }
        }
        let differing: Vec<usize> = (0..stored.len().min(recomputed.len()))
            .filter(|&k| stored[k] != recomputed[k].0)
            .collect();
        if !differing.is_empty() || (gap.is_none() && stored.len() != recomputed.len()) {
            problems.push(StoreProblem {
                entry: None,
                checkpoint: None,
                problem: format!(
                    "{} stored tree hashes differ from those recomputed from the entries (first at stored index {}); {} stored, {} expected",
                    differing.len(),
                    differing.first().map_or("-".to_owned(), |k| k.to_string()),
                    stored.len(),
                    recomputed.len()
                ),
            });
        }
        Ok((problems, entries, checkpoints.len() as u64, origin))
    })?;
    let mut bad_entries: Vec<u64> = problems.iter().filter_map(|p| p.entry).collect();
    bad_entries.sort_unstable();
    bad_entries.dedup();
    Ok(DataReport {
        origin,
        verifier_key: vkey,
        trusted_own_key,
        entries,
        checkpoints,
        problems,
        bad_entries,
    })
}

#[cfg(test)]
mod witness_tests {
    use super::*;
    use truce_log::cosignature::Cosigner;
    use truce_model::witnesses::{WitnessDecl, WitnessPolicy};

    #[test]
    fn a_client_shown_only_stale_cosignatures_reports_a_slow_down() {
        let (log, _) = truce_log::LogKey::generate("example.org/log").unwrap();
        let cp = log.sign(3, truce_log::merkle::sha256(b"r"), "").unwrap();
        let text = &cp.note[..cp.note.windows(2).position(|w| w == b"\n\n").unwrap() + 1];
        let ws: Vec<Cosigner> = ["a.example/w", "b.example/w"]
            .iter()
            .map(|n| Cosigner::generate(n).unwrap().0)
            .collect();
        let policy = Witnesses {
            list: ws
                .iter()
                .map(|c| WitnessDecl {
                    verifier_key: c.verifier_key(),
                    party: "SY".into(),
                    url: None,
                })
                .collect(),
            policy: WitnessPolicy {
                required: vec![],
                quorum: 2,
                max_age_seconds: 600,
            },
        };
        let mut note = cp.note.clone();
        for c in &ws {
            note.extend_from_slice(c.cosign(text, 1_000_000).unwrap().as_bytes());
        }
        // Fresh: accepted, with who cosigned.
        let r = check_witnesses(&note, &policy, Some(1_000_100)).unwrap();
        assert_eq!(r.cosigned_by.len(), 2);
        // Stale: refused, naming the slow-down.
        let e = check_witnesses(&note, &policy, Some(1_000_601)).unwrap_err();
        assert!(
            e.is::<Failed>() && e.to_string().contains("slow-down"),
            "{e}"
        );
        // An offline proof is not judged by age.
        assert!(check_witnesses(&note, &policy, None).is_ok());
        // One cosignature short: refused, saying which are missing.
        let e = check_witnesses(&cp.note, &policy, None).unwrap_err();
        assert!(e.to_string().contains("0 of the 2"), "{e}");
    }
}

#[cfg(test)]
#[path = "verify_agrees.rs"]
mod agrees;
