//! The receipt the log returns for an entry: its index, leaf hash, a signed checkpoint and the
//! inclusion proof against it. Convertible to a C2SP `tlog-proof` file.

use crate::checkpoint::VerifiedCheckpoint;
use crate::merkle::{Hash, leaf_hash};
use crate::proof::{TlogProof, TlogProofError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// See the module docs. On the wire hashes are standard base64 strings, as in checkpoints:
/// `{"index":4,"leaf_hash":"…","checkpoint":"…","inclusion_proof":["…",…]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub index: u64,
    #[serde(with = "b64_hash")]
    pub leaf_hash: Hash,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
    #[serde(with = "b64_hashes")]
    pub inclusion_proof: Vec<Hash>,
}

/// Why a receipt is unusable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReceiptError {
    #[error(
        "the entry's leaf hash is {actual}, not the receipt's {expected}: this receipt is for another entry"
    )]
    WrongEntry { expected: String, actual: String },
    #[error(transparent)]
    Proof(#[from] TlogProofError),
}

impl Receipt {
    pub fn new(index: u64, leaf: Hash, checkpoint: &[u8], proof: Vec<Hash>) -> Self {
        Self {
            index,
            leaf_hash: leaf,
            checkpoint: String::from_utf8_lossy(checkpoint).into_owned(),
            inclusion_proof: proof,
        }
    }

    /// The equivalent C2SP tlog-proof.
    pub fn to_tlog_proof(&self) -> TlogProof {
        TlogProof {
            extra: None,
            index: self.index,
            proof: self.inclusion_proof.clone(),
            checkpoint: self.checkpoint.as_bytes().to_vec(),
        }
    }

    /// Verifies offline that `leaf` is logged at the receipt's index under a checkpoint signed
    /// by `vkey`.
    pub fn verify(&self, leaf: &[u8], vkey: &str) -> Result<VerifiedCheckpoint, ReceiptError> {
        let actual = leaf_hash(leaf);
        if actual != self.leaf_hash {
            return Err(ReceiptError::WrongEntry {
                expected: self.leaf_hash.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(self.to_tlog_proof().verify(leaf, vkey)?)
    }
}

/// A hash as standard base64, written without an intermediate string.
mod b64_hash {
    use super::*;

    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(h)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        Hash::deserialize(d)
    }
}

mod b64_hashes {
    use super::*;
    use serde::ser::SerializeSeq;

    struct AsBase64<'a>(&'a Hash);

    impl Serialize for AsBase64<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self.0)
        }
    }

    pub fn serialize<S: Serializer>(hashes: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(hashes.len()))?;
        for h in hashes {
            seq.serialize_element(&AsBase64(h))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        Vec::<Hash>::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_is_base64_strings_and_round_trips() {
        let h = crate::merkle::sha256(b"x");
        let r = Receipt::new(3, h, b"cp\n", vec![h, h]);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            format!(r#"{{"index":3,"leaf_hash":"{h}","checkpoint":"cp\n","inclusion_proof":["{h}","{h}"]}}"#)
                .replace('\n', "\\n")
        );
        assert_eq!(serde_json::from_str::<Receipt>(&json).unwrap(), r);
        assert!(serde_json::from_str::<Receipt>(&json.replace(&h.to_string(), "AAAA")).is_err());
    }
}
