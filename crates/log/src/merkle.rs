//! RFC 6962 / RFC 9162 Merkle trees: leaf and node hashing, inclusion and consistency proofs.
//!
//! The arithmetic comes from `tlog_tiles` (a port of Go's `golang.org/x/mod/sumdb/tlog`, which
//! stores every complete subtree hash under a "stored hash index"). This module adds typed errors,
//! an in-memory hash store, and a from-scratch RFC 6962 root for cross-checks.

use sha2::{Digest, Sha256};
pub use tlog_tiles::{EMPTY_HASH, Hash, HashReader, node_hash, record_hash as leaf_hash};
use tlog_tiles::{stored_hash_count, stored_hashes_for_record_hash};

/// Why a proof could not be made or did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {old} is not between 1 and {new}")]
    SizeOutOfRange { old: u64, new: u64 },
    #[error("proof does not verify against the given root")]
    Invalid,
    #[error("hash store is missing hashes for that tree size")]
    MissingHashes,
}

fn map_err(e: tlog_tiles::Error) -> ProofError {
    match e {
        tlog_tiles::Error::IndexesNotInTree => ProofError::MissingHashes,
        _ => ProofError::Invalid,
    }
}

/// Hashes of the log tree kept in memory, indexed by `tlog`'s stored hash index.
///
/// Holds about two hashes (64 bytes) per leaf; the sequencer and the read side share one.
#[derive(Debug, Default, Clone)]
pub struct MemoryHashes {
    hashes: Vec<Hash>,
    size: u64,
}

impl MemoryHashes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf by its leaf hash, returning the stored hashes it added (in order,
    /// starting at stored index `stored_hash_count(size)`).
    pub fn append(&mut self, leaf: Hash) -> Result<&[Hash], ProofError> {
        let start = self.hashes.len();
        let new = stored_hashes_for_record_hash(self.size, leaf, &*self).map_err(map_err)?;
        self.hashes.extend(new);
        self.size += 1;
        Ok(&self.hashes[start..])
    }

    /// Restores stored hashes loaded from a store, in stored-index order.
    pub fn from_stored(hashes: Vec<Hash>, size: u64) -> Result<Self, ProofError> {
        if stored_hash_count(size) != hashes.len() as u64 {
            return Err(ProofError::MissingHashes);
        }
        Ok(Self { hashes, size })
    }

    /// Drops leaves beyond `size` (to undo appends whose commit failed).
    pub fn truncate(&mut self, size: u64) {
        if size < self.size {
            let keep = usize::try_from(stored_hash_count(size)).unwrap_or(usize::MAX);
            self.hashes.truncate(keep);
            self.size = size;
        }
    }

    /// The number of stored hashes for `size` leaves.
    pub fn stored_count(size: u64) -> u64 {
        stored_hash_count(size)
    }

    /// The leaf hash of entry `index`, if the tree has it.
    pub fn read_leaf_hash(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(tlog_tiles::stored_hash_index(0, index)).ok()?;
        (index < self.size)
            .then(|| self.hashes.get(i).copied())
            .flatten()
    }

    /// The stored hashes from stored index `from` on.
    pub fn stored_from(&self, from: u64) -> &[Hash] {
        let from = usize::try_from(from)
            .unwrap_or(usize::MAX)
            .min(self.hashes.len());
        &self.hashes[from..]
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        if size > self.size {
            return Err(ProofError::MissingHashes);
        }
        tlog_tiles::tree_hash(size, self).map_err(map_err)
    }

    /// Inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn prove_inclusion(&self, size: u64, index: u64) -> Result<Vec<Hash>, ProofError> {
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        if size > self.size {
            return Err(ProofError::MissingHashes);
        }
        tlog_tiles::prove_record(size, index, self).map_err(map_err)
    }

    /// Consistency proof from the tree of `old` leaves to the tree of `new` leaves.
    pub fn prove_consistency(&self, new: u64, old: u64) -> Result<Vec<Hash>, ProofError> {
        if old == 0 || old > new {
            return Err(ProofError::SizeOutOfRange { old, new });
        }
        if new > self.size {
            return Err(ProofError::MissingHashes);
        }
        tlog_tiles::prove_tree(new, old, self).map_err(map_err)
    }
}

impl HashReader for MemoryHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.hashes.get(i))
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Verifies that `proof` shows leaf `index` with hash `leaf` is in the tree of `size` with `root`.
pub fn verify_inclusion(
    proof: &[Hash],
    size: u64,
    root: Hash,
    index: u64,
    leaf: Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    tlog_tiles::check_record(&proof.to_vec(), size, root, index, leaf).map_err(map_err)
}

/// Verifies that `proof` shows the tree (`old`, `old_root`) is a prefix of (`new`, `new_root`).
pub fn verify_consistency(
    proof: &[Hash],
    new: u64,
    new_root: Hash,
    old: u64,
    old_root: Hash,
) -> Result<(), ProofError> {
    if old == 0 || old > new {
        return Err(ProofError::SizeOutOfRange { old, new });
    }
    tlog_tiles::check_tree(&proof.to_vec(), new, new_root, old, old_root).map_err(map_err)
}

/// The RFC 6962 root of `leaves` computed directly from the definition (MTH, §2.1), for
/// auditors recomputing a root from downloaded entries and for cross-checks.
pub fn root_of_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_HASH,
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n);
            node_hash(
                root_of_leaf_hashes(&leaves[..k]),
                root_of_leaf_hashes(&leaves[k..]),
            )
        }
    }
}

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// Decodes a hash from standard base64, as in checkpoints and proof files.
pub fn parse_hash_b64(s: &str) -> Option<Hash> {
    Hash::parse_hash(s).ok()
}

/// Decodes a hash from lowercase or uppercase hex.
pub fn parse_hash_hex(s: &str) -> Option<Hash> {
    let bytes = hex::decode(s).ok()?;
    Some(Hash(bytes.try_into().ok()?))
}

/// SHA-256 of `data`, as a [`struct@Hash`] (used for blob addresses and state commitments).
pub fn sha256(data: &[u8]) -> Hash {
    Hash(Sha256::digest(data).into())
}
