//! Copying a log from one store to another, exactly: `truce migrate-store` (SQLite to
//! PostgreSQL and back), `truce backup` (into a new SQLite file that `truce verify data` checks)
//! and `truce restore`.
//!
//! The entries are appended commit by commit, each with the checkpoint the source issued for
//! it, so the copy holds the same leaves, the same stored hashes and every issued checkpoint,
//! byte for byte. Each checkpoint is verified (its signature under the log's key, its root
//! against the tree recomputed from the copied entries) before it is written, and the whole
//! copy is compared with the source at the end. Blobs (checked against their SHA-256), API
//! tokens, state commitments and the latest state snapshot come along.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};
use truce_log::checkpoint::verify_checkpoint;
use truce_log::merkle::{MemoryHashes, leaf_hash};
use truce_log::{Envelope, SignedCheckpoint};
use truce_store::{Append, NewEntry, Store};

/// What a copy carried, all of it compared with the source afterwards.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CopyReport {
    pub entries: u64,
    pub checkpoints: u64,
    pub blobs: u64,
    pub tokens: u64,
    pub commitments: u64,
    /// The size the copied state snapshot was taken at, if there was one.
    pub snapshot: Option<u64>,
}

/// Leaves read from the source at a time, when comparing.
const COMPARE_CHUNK: u64 = 10_000;

/// Copies everything `from` holds into `to`, which must hold nothing yet, verifying every
/// checkpoint under `vkey` (the log's signed-note verifier key), then compares the two.
pub fn copy(from: &dyn Store, to: &dyn Store, vkey: &str) -> Result<CopyReport> {
    let target = to.load()?;
    if target.size > 0 || target.checkpoint.is_some() {
        bail!(
            "the destination already holds a log ({} entries); copy into an empty database",
            target.size
        );
    }
    let source = from.load()?;
    let mut report = CopyReport::default();
    let mut mem = MemoryHashes::new();
    let mut size = 0u64;
    for (cp_size, note) in from.checkpoints()? {
        let cp = verify_checkpoint(&note, vkey)
            .with_context(|| format!("the source's checkpoint of size {cp_size}"))?;
        if cp.size != cp_size {
            bail!(
                "the source stores a checkpoint of size {} under size {cp_size}",
                cp.size
            );
        }
        let leaves = from.leaves(size, cp_size)?;
        if leaves.len() as u64 != cp_size - size {
            bail!(
                "the source has {} entries from {size} to its checkpoint of size {cp_size}",
                leaves.len()
            );
        }
        let hashes_from = MemoryHashes::stored_count(size);
        let mut entries = Vec::with_capacity(leaves.len());
        for (i, leaf) in leaves.into_iter().enumerate() {
            let index = size + i as u64;
            let (kind, author) =
                kind_and_author(&leaf).with_context(|| format!("the source's entry {index}"))?;
            let h = leaf_hash(&leaf);
            mem.append(h)?;
            entries.push(NewEntry {
                leaf,
                leaf_hash: h,
                kind,
                author,
            });
        }
        let root = mem.root(cp_size)?;
        if root != cp.root {
            bail!(
                "the source's checkpoint of size {cp_size} does not match its entries (root {} against {})",
                cp.root,
                root
            );
        }
        to.append(Append {
            first_index: size,
            entries: &entries,
            hashes_from,
            hashes: mem.stored_from(hashes_from),
            checkpoint: &SignedCheckpoint {
                note,
                size: cp_size,
                root,
            },
        })?;
        report.entries += entries.len() as u64;
        report.checkpoints += 1;
        size = cp_size;
    }
    if size != source.size {
        bail!(
            "the source holds {} entries but its checkpoints cover {size}",
            source.size
        );
    }
    for id in from.blob_ids()? {
        let data = from
            .get_blob(&id)?
            .with_context(|| format!("the source lists blob {id} but does not return it"))?;
        if hex::encode(Sha256::digest(&data)) != id {
            bail!("the source's blob {id} does not have that SHA-256");
        }
        to.put_blob(&id, &data)?;
        report.blobs += 1;
    }
    for t in from.tokens()? {
        to.put_token(&t)?;
        report.tokens += 1;
    }
    for (s, note) in from.commitments()? {
        to.put_commitment(s, &note)?;
        report.commitments += 1;
    }
    if let Some((s, state)) = from.latest_state()? {
        to.put_state(s, &state)?;
        report.snapshot = Some(s);
    }
    compare(from, to).context("the copy differs from the source")?;
    Ok(report)
}

/// The kind and author an entry's payload names (the store keeps them beside the leaf).
fn kind_and_author(leaf: &[u8]) -> Result<(&'static str, String)> {
    let env = Envelope::parse(leaf)?;
    let entry = truce_model::Entry::parse(&env.payload).map_err(|r| anyhow::anyhow!(r.detail))?;
    Ok((entry.kind.as_str(), entry.author))
}

/// Fails unless `a` and `b` hold the same log, checkpoints, blobs, tokens, commitments and
/// snapshot.
pub fn compare(a: &dyn Store, b: &dyn Store) -> Result<()> {
    let (la, lb) = (a.load()?, b.load()?);
    if la.size != lb.size {
        bail!("{} entries against {}", la.size, lb.size);
    }
    if la.hashes != lb.hashes {
        bail!("the stored tree hashes differ");
    }
    if a.checkpoints()? != b.checkpoints()? {
        bail!("the issued checkpoints differ");
    }
    let mut from = 0;
    while from < la.size {
        let to = (from + COMPARE_CHUNK).min(la.size);
        if a.leaves(from, to)? != b.leaves(from, to)? {
            bail!("the entries from {from} to {to} differ");
        }
        from = to;
    }
    let ids = a.blob_ids()?;
    if ids != b.blob_ids()? {
        bail!("the stored blobs differ");
    }
    for id in &ids {
        if a.get_blob(id)? != b.get_blob(id)? {
            bail!("blob {id} differs");
        }
    }
    if a.tokens()? != b.tokens()? {
        bail!("the API tokens differ");
    }
    if a.commitments()? != b.commitments()? {
        bail!("the state commitments differ");
    }
    if a.latest_state()? != b.latest_state()? {
        bail!("the state snapshots differ");
    }
    Ok(())
}
