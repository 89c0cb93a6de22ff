//! Checkpoints: C2SP `tlog-checkpoint` bodies (<https://c2sp.org/tlog-checkpoint>) signed as
//! C2SP `signed-note`s (<https://c2sp.org/signed-note>) with the log's Ed25519 key.

use crate::merkle::Hash;
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::Checkpoint;

pub use signed_note::is_key_name_valid;

/// Why a checkpoint or key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckpointError {
    #[error("log origin `{0}` is not a valid signed-note key name (no spaces, no `+`, not empty)")]
    Origin(String),
    #[error("malformed log signing key (expected `PRIVATE+KEY+<name>+<id>+<base64>`)")]
    SignerKey,
    #[error(
        "malformed verifier key `{0}` (expected `<name>+<8 hex id>+<base64 of 0x01 and the Ed25519 key>`)"
    )]
    VerifierKey(String),
    #[error("malformed signed note: {0}")]
    Note(String),
    #[error("checkpoint is not signed by the log key {0}")]
    Unsigned(String),
    #[error("malformed checkpoint body")]
    Body,
    #[error("checkpoint origin `{found}` is not the log's origin `{expected}`")]
    WrongOrigin { expected: String, found: String },
}

/// The log's signing key, named after the log's origin.
pub struct LogKey {
    signer: StandardSigner,
    origin: String,
    vkey: String,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKey")
            .field("vkey", &self.vkey)
            .finish_non_exhaustive()
    }
}

impl LogKey {
    /// Generates a new key for the log with this origin. Returns the key and its secret
    /// encoding (`PRIVATE+KEY+...`), which must be stored privately.
    pub fn generate(origin: &str) -> Result<(Self, String), CheckpointError> {
        if !is_key_name_valid(origin) {
            return Err(CheckpointError::Origin(origin.to_owned()));
        }
        let (skey, _) = signed_note::generate_key(&mut rand::rngs::OsRng, origin);
        let key = Self::from_secret(&skey)?;
        Ok((key, skey))
    }

    /// Loads a key from its secret encoding.
    pub fn from_secret(skey: &str) -> Result<Self, CheckpointError> {
        let signer = StandardSigner::new(skey.trim()).map_err(|_| CheckpointError::SignerKey)?;
        let origin = signed_note::Signer::name(&signer).to_owned();
        let vkey = verifier_key_from_secret(skey.trim())?;
        Ok(Self {
            signer,
            origin,
            vkey,
        })
    }

    /// The log origin (the key's name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key string a party gives to any signed-note implementation.
    pub fn verifier_key(&self) -> &str {
        &self.vkey
    }

    /// Signs a checkpoint for a tree of `size` leaves with `root`. `extension` is empty or
    /// non-empty lines each ending in a newline.
    pub fn sign(
        &self,
        size: u64,
        root: Hash,
        extension: &str,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        let body = Checkpoint::new(&self.origin, size, root, extension)
            .map_err(|_| CheckpointError::Body)?;
        let mut note =
            Note::new(&body.to_bytes(), &[]).map_err(|e| CheckpointError::Note(e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| CheckpointError::Note(e.to_string()))?;
        Ok(SignedCheckpoint {
            note: note.to_bytes(),
            size,
            root,
        })
    }
}

impl LogKey {
    /// Signs an arbitrary note text (lines ending in newlines) with the log key.
    pub(crate) fn sign_text(&self, text: &[u8]) -> Result<Vec<u8>, CheckpointError> {
        let mut note = Note::new(text, &[]).map_err(|e| CheckpointError::Note(e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| CheckpointError::Note(e.to_string()))?;
        Ok(note.to_bytes())
    }
}

fn verifier_key_from_secret(skey: &str) -> Result<String, CheckpointError> {
    use base64::Engine as _;
    let parts: Vec<&str> = skey.splitn(5, '+').collect();
    let [_, _, name, _, key64] = parts.as_slice() else {
        return Err(CheckpointError::SignerKey);
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(key64)
        .map_err(|_| CheckpointError::SignerKey)?;
    let seed: [u8; 32] = raw
        .get(1..)
        .and_then(|s| s.try_into().ok())
        .ok_or(CheckpointError::SignerKey)?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    Ok(signed_note::new_ed25519_verifier_key(
        name,
        &key.verifying_key(),
    ))
}

/// A checkpoint as issued: the signed note's bytes and what it commits to.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedCheckpoint {
    /// The full signed note (body, blank line, signature lines).
    pub note: Vec<u8>,
    pub size: u64,
    pub root: Hash,
}

/// The parts of a verified checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extension: String,
}

/// Checks that the parts of a verifier key are well formed and returns its name (the origin).
pub fn verifier_key_origin(vkey: &str) -> Result<String, CheckpointError> {
    let v = StandardVerifier::new(vkey).map_err(|_| CheckpointError::VerifierKey(vkey.into()))?;
    Ok(signed_note::Verifier::name(&v).to_owned())
}

/// Verifies a signed checkpoint against the log's verifier key and parses its body. Signatures
/// by other keys (e.g. witnesses' cosignatures) are allowed and ignored here.
pub fn verify_checkpoint(note: &[u8], vkey: &str) -> Result<VerifiedCheckpoint, CheckpointError> {
    let verifier =
        StandardVerifier::new(vkey).map_err(|_| CheckpointError::VerifierKey(vkey.into()))?;
    let origin = signed_note::Verifier::name(&verifier).to_owned();
    let parsed = Note::from_bytes(note).map_err(|e| CheckpointError::Note(e.to_string()))?;
    parsed
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|_| CheckpointError::Unsigned(vkey.to_owned()))?;
    let body = Checkpoint::from_bytes(parsed.text()).map_err(|_| CheckpointError::Body)?;
    if body.origin() != origin {
        return Err(CheckpointError::WrongOrigin {
            expected: origin,
            found: body.origin().to_owned(),
        });
    }
    Ok(VerifiedCheckpoint {
        origin,
        size: body.size(),
        root: *body.hash(),
        extension: body.extension().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_note_known_answer_from_the_spec() {
        // The example of C2SP signed-note (and Go's golang.org/x/mod/sumdb/note).
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let msg = "If you think cryptography is the answer to your problem,\n\
                   then you don't know what your problem is.\n\
                   \n\
                   \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        let note = Note::from_bytes(msg.as_bytes()).unwrap();
        let verifier = StandardVerifier::new(vkey).unwrap();
        let (ok, _) = note
            .verify(&VerifierList::new(vec![Box::new(verifier)]))
            .unwrap();
        assert_eq!(ok.len(), 1);
        // Re-signing with the spec's private key gives the same (deterministic) signature.
        let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
        let key = LogKey::from_secret(skey).unwrap();
        assert_eq!(key.verifier_key(), vkey);
        let mut fresh = Note::new(note.text(), &[]).unwrap();
        fresh.add_sigs(&[&key.signer]).unwrap();
        assert_eq!(fresh.to_bytes(), msg.as_bytes());
        // A flipped bit in the text fails.
        let bad = msg.replacen("cryptography", "Cryptography", 1);
        let note = Note::from_bytes(bad.as_bytes()).unwrap();
        let verifier = StandardVerifier::new(vkey).unwrap();
        assert!(
            note.verify(&VerifierList::new(vec![Box::new(verifier)]))
                .is_err()
        );
    }

    #[test]
    fn signed_note_example_from_c2sp() {
        // c2sp.org/signed-note, "Example".
        let vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
        let msg = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
        let note = Note::from_bytes(msg.as_bytes()).unwrap();
        let verifier = StandardVerifier::new(vkey).unwrap();
        assert_eq!(note.text(), b"This is an example message.\n");
        let (ok, _) = note
            .verify(&VerifierList::new(vec![Box::new(verifier)]))
            .unwrap();
        assert_eq!(ok[0].id(), 0x530d903a);
    }

    #[test]
    fn checkpoint_round_trip() {
        let (key, skey) = LogKey::generate("truce.example/golan-1974").unwrap();
        let root = crate::merkle::sha256(b"x");
        let cp = key.sign(7, root, "").unwrap();
        let text = String::from_utf8(cp.note.clone()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("truce.example/golan-1974"));
        assert_eq!(lines.next(), Some("7"));
        assert_eq!(lines.next(), Some(root.to_string().as_str()));
        assert_eq!(lines.next(), Some(""));
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("\u{2014} truce.example/golan-1974 ")
        );
        let v = verify_checkpoint(&cp.note, key.verifier_key()).unwrap();
        assert_eq!(
            (v.size, v.root, v.origin.as_str()),
            (7, root, "truce.example/golan-1974")
        );
        assert_eq!(
            LogKey::from_secret(&skey).unwrap().verifier_key(),
            key.verifier_key()
        );
        let (other, _) = LogKey::generate("truce.example/golan-1974").unwrap();
        assert!(matches!(
            verify_checkpoint(&cp.note, other.verifier_key()),
            Err(CheckpointError::Unsigned(_))
        ));
        assert!(LogKey::generate("has space").is_err());
    }
}
