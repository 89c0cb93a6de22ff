//! State commitments: the log operator's signed statement of what the derived state (events,
//! findings, deadlines, rulings) is after a prefix of the log.
//!
//! The body is a C2SP signed-note text of four lines, signed with the log key:
//!
//! ```text
//! truce-state/v1
//! <log origin>
//! <tree size>
//! <base64 SHA-256 of the canonical state encoding>
//! ```
//!
//! The first line keeps a commitment from ever being read as a checkpoint (whose first line is
//! the origin) and a checkpoint from being read as a commitment.

use crate::checkpoint::{CheckpointError, LogKey};
use base64::Engine as _;
use signed_note::{Note, StandardVerifier, VerifierList};

/// The first line of a state commitment.
pub const STATE_NOTE_TAG: &str = "truce-state/v1";

/// What a state commitment says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCommitment {
    pub origin: String,
    /// The number of log entries the state was derived from.
    pub size: u64,
    /// SHA-256 of the canonical encoding of the derived state.
    pub state_hash: [u8; 32],
}

impl StateCommitment {
    /// The note text (four lines, each ending in a newline).
    pub fn body(&self) -> String {
        format!(
            "{STATE_NOTE_TAG}\n{}\n{}\n{}\n",
            self.origin,
            self.size,
            base64::engine::general_purpose::STANDARD.encode(self.state_hash)
        )
    }

    /// Parses a note text; refuses anything but exactly the four lines.
    pub fn parse_body(text: &[u8]) -> Result<Self, CheckpointError> {
        let bad = || CheckpointError::Note("malformed state commitment body".into());
        let text = std::str::from_utf8(text).map_err(|_| bad())?;
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .ok_or_else(bad)?
            .split('\n')
            .collect();
        let [tag, origin, size, hash] = lines.as_slice() else {
            return Err(bad());
        };
        if *tag != STATE_NOTE_TAG || origin.is_empty() {
            return Err(bad());
        }
        if size.is_empty() || (size.len() > 1 && size.starts_with('0')) {
            return Err(bad());
        }
        let size: u64 = size.parse().map_err(|_| bad())?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(hash)
            .map_err(|_| bad())?;
        let state_hash: [u8; 32] = raw.as_slice().try_into().map_err(|_| bad())?;
        Ok(StateCommitment {
            origin: (*origin).to_owned(),
            size,
            state_hash,
        })
    }

    /// The hash as lowercase hex.
    pub fn hash_hex(&self) -> String {
        hex::encode(self.state_hash)
    }
}

impl LogKey {
    /// Signs a state commitment for `size` entries with the log key.
    pub fn sign_state(&self, size: u64, state_hash: [u8; 32]) -> Result<Vec<u8>, CheckpointError> {
        let c = StateCommitment {
            origin: self.origin().to_owned(),
            size,
            state_hash,
        };
        self.sign_text(c.body().as_bytes())
    }
}

/// Verifies a signed state commitment against the log's verifier key and parses it.
pub fn verify_state_commitment(
    note: &[u8],
    vkey: &str,
) -> Result<StateCommitment, CheckpointError> {
    let verifier =
        StandardVerifier::new(vkey).map_err(|_| CheckpointError::VerifierKey(vkey.into()))?;
    let origin = signed_note::Verifier::name(&verifier).to_owned();
    let parsed = Note::from_bytes(note).map_err(|e| CheckpointError::Note(e.to_string()))?;
    parsed
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|_| CheckpointError::Unsigned(vkey.to_owned()))?;
    let c = StateCommitment::parse_body(parsed.text())?;
    if c.origin != origin {
        return Err(CheckpointError::WrongOrigin {
            expected: origin,
            found: c.origin,
        });
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::verify_checkpoint;
    use crate::merkle::Hash;

    #[test]
    fn commitments_round_trip_and_are_not_checkpoints() {
        let (key, _) = LogKey::generate("example.org/log").unwrap();
        let note = key.sign_state(42, [7u8; 32]).unwrap();
        let c = verify_state_commitment(&note, key.verifier_key()).unwrap();
        assert_eq!(c.size, 42);
        assert_eq!(c.state_hash, [7u8; 32]);
        assert!(verify_checkpoint(&note, key.verifier_key()).is_err());
        let cp = key.sign(3, Hash([1; 32]), "").unwrap();
        assert!(verify_state_commitment(&cp.note, key.verifier_key()).is_err());
        // Another key's signature does not verify.
        let (other, _) = LogKey::generate("example.org/log").unwrap();
        assert!(verify_state_commitment(&note, other.verifier_key()).is_err());
        // A changed hash breaks the signature.
        let text = String::from_utf8(note.clone()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let forged = text.replace(
            &b64,
            &base64::engine::general_purpose::STANDARD.encode([8u8; 32]),
        );
        assert!(verify_state_commitment(forged.as_bytes(), key.verifier_key()).is_err());
    }

    #[test]
    fn bodies_are_strict() {
        for bad in [
            "truce-state/v1\no\n01\nAAAA\n",
            "truce-state/v1\no\n1\n",
            "checkpoint\no\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
            "truce-state/v1\no\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
            "truce-state/v1\no\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\nextra\n",
        ] {
            assert!(
                StateCommitment::parse_body(bad.as_bytes()).is_err(),
                "{bad:?}"
            );
        }
        let ok = "truce-state/v1\no\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n";
        assert_eq!(
            StateCommitment::parse_body(ok.as_bytes()).unwrap().body(),
            ok
        );
    }
}
