//! C2SP `tlog-proof` files (<https://c2sp.org/tlog-proof>): an entry's index, its inclusion
//! proof and the signed checkpoint it is proven against, verifiable offline.

use crate::checkpoint::{VerifiedCheckpoint, verify_checkpoint};
use crate::merkle::{Hash, leaf_hash, parse_hash_b64, verify_inclusion};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Why a proof file was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TlogProofError {
    #[error("not a tlog-proof: line {line}: {reason}")]
    Malformed { line: usize, reason: &'static str },
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    #[error(
        "the inclusion proof does not place this entry at index {index} of the checkpointed tree: {source}"
    )]
    Inclusion {
        index: u64,
        source: crate::merkle::ProofError,
    },
}

/// A parsed tlog-proof.
#[derive(Debug, Clone, PartialEq)]
pub struct TlogProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint, verbatim (with any cosignatures).
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    /// Encodes the proof file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            s.push_str(&format!("{h}\n"));
        }
        s.push('\n');
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Parses a proof file.
    pub fn parse(data: &[u8]) -> Result<Self, TlogProofError> {
        let bad = |line, reason| TlogProofError::Malformed { line, reason };
        let text = std::str::from_utf8(data).map_err(|_| bad(1, "not UTF-8"))?;
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or(bad(1, "no empty line before the checkpoint"))?;
        let mut lines = head.split('\n').enumerate().map(|(i, l)| (i + 1, l));
        match lines.next() {
            Some((_, HEADER)) => {}
            _ => return Err(bad(1, "first line must be c2sp.org/tlog-proof@v1")),
        }
        let mut extra = None;
        let (mut n, mut line) = lines.next().ok_or(bad(2, "missing index line"))?;
        if let Some(e) = line.strip_prefix("extra ") {
            extra = Some(
                B64.decode(e)
                    .map_err(|_| bad(n, "extra is not standard base64"))?,
            );
            (n, line) = lines.next().ok_or(bad(n + 1, "missing index line"))?;
        }
        let index_s = line
            .strip_prefix("index ")
            .ok_or(bad(n, "expected `index <N>`"))?;
        let canonical = index_s == "0" || (!index_s.starts_with('0') && !index_s.is_empty());
        if !canonical || !index_s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                n,
                "index must be a decimal number without leading zeros",
            ));
        }
        let index = index_s.parse().map_err(|_| bad(n, "index out of range"))?;
        let mut proof = Vec::new();
        for (n, l) in lines {
            let h = parse_hash_b64(l).ok_or(bad(n, "proof line is not a base64 SHA-256 hash"))?;
            proof.push(h);
        }
        Ok(Self {
            extra,
            index,
            proof,
            checkpoint: checkpoint.as_bytes().to_vec(),
        })
    }

    /// Verifies that `leaf` (the entry's bytes as logged) is at `index` in the tree of a
    /// checkpoint signed by `vkey`.
    pub fn verify(&self, leaf: &[u8], vkey: &str) -> Result<VerifiedCheckpoint, TlogProofError> {
        let cp = verify_checkpoint(&self.checkpoint, vkey)?;
        verify_inclusion(&self.proof, cp.size, cp.root, self.index, leaf_hash(leaf)).map_err(
            |source| TlogProofError::Inclusion {
                index: self.index,
                source,
            },
        )?;
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::LogKey;
    use crate::merkle::MemoryHashes;

    #[test]
    fn layout_matches_the_spec() {
        let p = TlogProof {
            extra: None,
            index: 0,
            proof: vec![],
            checkpoint: b"checkpoint\n".to_vec(),
        };
        assert_eq!(
            p.to_bytes(),
            b"c2sp.org/tlog-proof@v1\nindex 0\n\ncheckpoint\n"
        );
        assert_eq!(TlogProof::parse(&p.to_bytes()).unwrap(), p);
        let h = crate::merkle::sha256(b"a");
        let q = TlogProof {
            extra: Some(b"xy".to_vec()),
            index: 10,
            proof: vec![h],
            ..p
        };
        let text = format!("c2sp.org/tlog-proof@v1\nextra eHk=\nindex 10\n{h}\n\ncheckpoint\n");
        assert_eq!(q.to_bytes(), text.as_bytes());
        assert_eq!(TlogProof::parse(text.as_bytes()).unwrap(), q);
    }

    #[test]
    fn rejects_malformed_files() {
        for bad in [
            "c2sp.org/tlog-proof@v2\nindex 0\n\ncp\n",
            "c2sp.org/tlog-proof@v1\nindex 01\n\ncp\n",
            "c2sp.org/tlog-proof@v1\nindex -1\n\ncp\n",
            "c2sp.org/tlog-proof@v1\nindex 1\nnot-a-hash\n\ncp\n",
            "c2sp.org/tlog-proof@v1\nindex 1\n",
            "c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\ncp\n",
        ] {
            assert!(TlogProof::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn verifies_end_to_end() {
        let (key, _) = LogKey::generate("example.org/log").unwrap();
        let mut t = MemoryHashes::new();
        let leaves: Vec<Vec<u8>> = (0..13u8).map(|i| vec![i; 3]).collect();
        for l in &leaves {
            t.append(leaf_hash(l)).unwrap();
        }
        let cp = key.sign(13, t.root(13).unwrap(), "").unwrap();
        let p = TlogProof {
            extra: None,
            index: 4,
            proof: t.prove_inclusion(13, 4).unwrap(),
            checkpoint: cp.note,
        };
        let parsed = TlogProof::parse(&p.to_bytes()).unwrap();
        assert_eq!(
            parsed.verify(&leaves[4], key.verifier_key()).unwrap().size,
            13
        );
        assert!(matches!(
            parsed.verify(&leaves[5], key.verifier_key()),
            Err(TlogProofError::Inclusion { .. })
        ));
    }
}
