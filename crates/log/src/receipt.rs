//! The receipt the log returns for an entry: its index, leaf hash, a signed checkpoint and the
//! inclusion proof against it. Convertible to a C2SP `tlog-proof` file.

use crate::checkpoint::VerifiedCheckpoint;
use crate::merkle::{Hash, leaf_hash, parse_hash_b64};
use crate::proof::{TlogProof, TlogProofError};
use serde::{Deserialize, Serialize};

/// See the module docs. Hashes are standard base64, as in checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub index: u64,
    pub leaf_hash: String,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
    pub inclusion_proof: Vec<String>,
}

/// Why a receipt is unusable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReceiptError {
    #[error("receipt hash `{0}` is not a base64 SHA-256")]
    Hash(String),
    #[error(
        "the entry's leaf hash is {actual}, not the receipt's {expected}: this receipt is for another entry"
    )]
    WrongEntry { expected: String, actual: String },
    #[error(transparent)]
    Proof(#[from] TlogProofError),
}

impl Receipt {
    pub fn new(index: u64, leaf: Hash, checkpoint: &[u8], proof: &[Hash]) -> Self {
        Self {
            index,
            leaf_hash: leaf.to_string(),
            checkpoint: String::from_utf8_lossy(checkpoint).into_owned(),
            inclusion_proof: proof.iter().map(Hash::to_string).collect(),
        }
    }

    /// The equivalent C2SP tlog-proof.
    pub fn to_tlog_proof(&self) -> Result<TlogProof, ReceiptError> {
        let proof = self
            .inclusion_proof
            .iter()
            .map(|s| parse_hash_b64(s).ok_or_else(|| ReceiptError::Hash(s.clone())))
            .collect::<Result<_, _>>()?;
        Ok(TlogProof {
            extra: None,
            index: self.index,
            proof,
            checkpoint: self.checkpoint.as_bytes().to_vec(),
        })
    }

    /// Verifies offline that `leaf` is logged at the receipt's index under a checkpoint signed
    /// by `vkey`.
    pub fn verify(&self, leaf: &[u8], vkey: &str) -> Result<VerifiedCheckpoint, ReceiptError> {
        let actual = leaf_hash(leaf).to_string();
        if actual != self.leaf_hash {
            return Err(ReceiptError::WrongEntry {
                expected: self.leaf_hash.clone(),
                actual,
            });
        }
        Ok(self.to_tlog_proof()?.verify(leaf, vkey)?)
    }
}
