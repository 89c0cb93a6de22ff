//! C2SP `tlog-cosignature` (<https://c2sp.org/tlog-cosignature>), the Ed25519 type
//! `cosignature/v1`: a witness's timestamped statement that a checkpoint is the largest
//! consistent tree it has seen for that log.
//!
//! A cosignature is a signed-note signature line whose bytes are a 4-byte key id, a big-endian
//! `u64` POSIX timestamp and a 64-byte Ed25519 signature over
//!
//! ```text
//! cosignature/v1
//! time <timestamp>
//! <the checkpoint's note text: origin, size, root, extension lines>
//! ```
//!
//! The key id is `SHA-256(<name> || "\n" || 0x04 || public key)[:4]`, and the verifier key is
//! the signed-note vkey `<name>+<id hex>+base64(0x04 || public key)`. Secret keys are written,
//! like signed-note's, as `PRIVATE+KEY+<name>+<id hex>+base64(0x04 || seed)`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use signed_note::{Note, Signature};

/// The signature type byte of `cosignature/v1` keys.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The largest timestamp the spec allows (2^63 - 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// Why a cosigner key or a cosignature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CosignatureError {
    #[error(
        "malformed cosigner key `{0}` (expected `<name>+<8 hex id>+<base64 of 0x04 and the Ed25519 key>`)"
    )]
    VerifierKey(String),
    #[error("malformed cosigner secret key (expected `PRIVATE+KEY+<name>+<id>+<base64>`)")]
    SecretKey,
    #[error(
        "cosigner name `{0}` is not a valid signed-note key name (no spaces, no `+`, not empty)"
    )]
    Name(String),
    #[error("the text to cosign is not a well-formed note text")]
    Text,
    #[error("timestamp {0} exceeds 2^63 - 1")]
    Timestamp(u64),
}

/// The key id of a `cosignature/v1` key.
pub fn key_id(name: &str, public: &VerifyingKey) -> u32 {
    let mut material = vec![ALG_COSIGNATURE_V1];
    material.extend_from_slice(public.as_bytes());
    signed_note::key_id(name, &material)
}

/// The signed message of a `cosignature/v1` over a checkpoint's note text.
pub fn signed_message(text: &[u8], timestamp: u64) -> Vec<u8> {
    let mut msg = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    msg.extend_from_slice(text);
    msg
}

/// A witness's signing key.
pub struct Cosigner {
    key: SigningKey,
    name: String,
    id: u32,
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cosigner")
            .field("vkey", &self.verifier_key())
            .finish_non_exhaustive()
    }
}

impl Cosigner {
    /// A new random key named `name`. Returns the key and its secret encoding, which must be
    /// stored privately.
    pub fn generate(name: &str) -> Result<(Self, String), CosignatureError> {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let cosigner = Self::from_signing_key(name, key)?;
        let secret = cosigner.secret();
        Ok((cosigner, secret))
    }

    /// The cosigner `name` with this Ed25519 key.
    pub fn from_signing_key(name: &str, key: SigningKey) -> Result<Self, CosignatureError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(CosignatureError::Name(name.to_owned()));
        }
        let id = key_id(name, &key.verifying_key());
        Ok(Self {
            key,
            name: name.to_owned(),
            id,
        })
    }

    /// Loads a key from its secret encoding (see the module docs).
    pub fn from_secret(secret: &str) -> Result<Self, CosignatureError> {
        let parts: Vec<&str> = secret.trim().splitn(5, '+').collect();
        let ["PRIVATE", "KEY", name, id, key64] = parts.as_slice() else {
            return Err(CosignatureError::SecretKey);
        };
        let raw = B64.decode(key64).map_err(|_| CosignatureError::SecretKey)?;
        let Some((&ALG_COSIGNATURE_V1, seed)) = raw.split_first() else {
            return Err(CosignatureError::SecretKey);
        };
        let seed: [u8; 32] = seed.try_into().map_err(|_| CosignatureError::SecretKey)?;
        let cosigner = Self::from_signing_key(name, SigningKey::from_bytes(&seed))?;
        if format!("{:08x}", cosigner.id) != *id {
            return Err(CosignatureError::SecretKey);
        }
        Ok(cosigner)
    }

    /// The secret encoding of this key.
    pub fn secret(&self) -> String {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            B64.encode(raw)
        )
    }

    /// The cosigner's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key (vkey, type 0x04) that clients and policies name.
    pub fn verifier_key(&self) -> String {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.verifying_key().as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }

    /// Cosigns a checkpoint's note text (the note without its signature lines) at
    /// `timestamp`, and returns the signature line (ending in a newline).
    pub fn cosign(&self, text: &[u8], timestamp: u64) -> Result<String, CosignatureError> {
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::Timestamp(timestamp));
        }
        Note::new(text, &[]).map_err(|_| CosignatureError::Text)?;
        let sig = self.key.sign(&signed_message(text, timestamp));
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&sig.to_bytes());
        let line = Signature::new(self.name.clone(), self.id, bytes)
            .map_err(|_| CosignatureError::Name(self.name.clone()))?
            .to_bytes();
        String::from_utf8(line).map_err(|_| CosignatureError::Text)
    }
}

/// A witness as a client knows it: its name and `cosignature/v1` public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Parses a vkey of type 0x04. The key must be a canonical, torsion-free Ed25519 point.
    pub fn new(vkey: &str) -> Result<Self, CosignatureError> {
        let bad = || CosignatureError::VerifierKey(vkey.to_owned());
        let parts: Vec<&str> = vkey.splitn(3, '+').collect();
        let [name, id, key64] = parts.as_slice() else {
            return Err(bad());
        };
        if !signed_note::is_key_name_valid(name) || id.len() != 8 {
            return Err(bad());
        }
        let raw = B64.decode(key64).map_err(|_| bad())?;
        let Some((&ALG_COSIGNATURE_V1, public)) = raw.split_first() else {
            return Err(bad());
        };
        let public: [u8; 32] = public.try_into().map_err(|_| bad())?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad())?;
        if key.is_weak() || key.as_bytes() != &public {
            return Err(bad());
        }
        let computed = key_id(name, &key);
        if u32::from_str_radix(id, 16).ok() != Some(computed) || *id != format!("{computed:08x}") {
            return Err(bad());
        }
        Ok(Self {
            name: (*name).to_owned(),
            id: computed,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The vkey string.
    pub fn verifier_key(&self) -> String {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }

    /// Whether `sig` (the signature line's bytes after the key id) is a valid cosignature of
    /// `text`; returns its timestamp if so.
    pub fn verify(&self, text: &[u8], sig: &[u8]) -> Option<u64> {
        let (ts, sig) = sig.split_first_chunk::<8>()?;
        let timestamp = u64::from_be_bytes(*ts);
        if timestamp > MAX_TIMESTAMP {
            return None;
        }
        let sig = ed25519_dalek::Signature::from_slice(sig).ok()?;
        self.key
            .verify_strict(&signed_message(text, timestamp), &sig)
            .ok()
            .map(|()| timestamp)
    }
}

impl signed_note::Verifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        CosignatureVerifier::verify(self, msg, sig).is_some()
    }
}

/// A valid cosignature found on a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness's name.
    pub name: String,
    /// Its vkey.
    pub verifier_key: String,
    /// When the witness cosigned (POSIX seconds).
    pub timestamp: u64,
    /// The signature line, as on the note.
    pub line: String,
}

/// The valid cosignatures on a signed note by the given witnesses: at most one per witness
/// (its newest). Lines by other keys are ignored, as the spec requires; a line that names a
/// known witness but does not verify is ignored too (it proves nothing).
pub fn cosignatures_on(note: &Note, witnesses: &[CosignatureVerifier]) -> Vec<Cosignature> {
    let mut found: Vec<Cosignature> = Vec::new();
    for line in note_signatures(note) {
        let Some(w) = witnesses
            .iter()
            .find(|w| w.name == line.name() && w.id == line.id())
        else {
            continue;
        };
        let Some(timestamp) = w.verify(note.text(), line.signature()) else {
            continue;
        };
        let text = String::from_utf8(line.to_bytes()).unwrap_or_default();
        let vkey = w.verifier_key();
        match found.iter_mut().find(|c| c.verifier_key == vkey) {
            Some(c) if c.timestamp >= timestamp => {}
            Some(c) => {
                c.timestamp = timestamp;
                c.line = text;
            }
            None => found.push(Cosignature {
                name: w.name.clone(),
                verifier_key: vkey,
                timestamp,
                line: text,
            }),
        }
    }
    found
}

/// The valid cosignatures on a signed note given as bytes, or `None` if the bytes are not a
/// well-formed signed note.
pub fn cosignatures_in(note: &[u8], witnesses: &[CosignatureVerifier]) -> Option<Vec<Cosignature>> {
    Note::from_bytes(note)
        .ok()
        .map(|n| cosignatures_on(&n, witnesses))
}

/// The signature lines of a parsed note (signed_note keeps them private; this re-reads them
/// from the note's canonical bytes).
pub fn note_signatures(note: &Note) -> Vec<Signature> {
    let bytes = note.to_bytes();
    let sigs = &bytes[note.text().len() + 1..];
    sigs.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| Signature::from_bytes(l).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_CHECKPOINT: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_spec_example_line_has_the_spec_layout() {
        // c2sp.org/tlog-cosignature, the example's witness line: key id, then the timestamp of
        // the spec's example message (`time 1679315147`), then 64 bytes of signature.
        let line = "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
        let sig = Signature::from_bytes(line.as_bytes()).unwrap();
        assert_eq!(sig.name(), "witness.example.com/w1");
        assert_eq!(sig.signature().len(), 8 + 64);
        let ts = u64::from_be_bytes(sig.signature()[..8].try_into().unwrap());
        assert_eq!(ts, 1679315147);
        // The spec's example signed message.
        assert_eq!(
            signed_message(SPEC_CHECKPOINT.as_bytes(), ts),
            b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn a_cosignature_made_by_another_implementation_verifies() {
        // Made with Python's `cryptography` from the spec text (seed [7; 32], name
        // fuzz.example/witness, time 1700000000); also a fuzz seed.
        let note = include_bytes!("../../../fuzz/corpus/cosignature/cosigned_checkpoint.txt");
        let vkey = include_str!("../../../fuzz/corpus/cosignature/verifier_key.txt");
        let v = CosignatureVerifier::new(vkey).unwrap();
        let found = cosignatures_in(note, std::slice::from_ref(&v)).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].timestamp, 1_700_000_000);
        // The same key and time here give the same line (Ed25519 is deterministic).
        let c =
            Cosigner::from_signing_key("fuzz.example/witness", SigningKey::from_bytes(&[7; 32]))
                .unwrap();
        assert_eq!(c.verifier_key(), vkey);
        assert_eq!(
            c.cosign(SPEC_CHECKPOINT.as_bytes(), 1_700_000_000).unwrap(),
            found[0].line
        );
        let bad = include_bytes!("../../../fuzz/corpus/cosignature/bad_cosignature.txt");
        assert!(cosignatures_in(bad, &[v]).unwrap().is_empty());
    }

    #[test]
    fn key_id_is_over_the_name_the_type_byte_and_the_key() {
        use sha2::{Digest, Sha256};
        let key = SigningKey::from_bytes(&[7; 32]);
        let c = Cosigner::from_signing_key("witness.example/w1", key.clone()).unwrap();
        let mut h = Sha256::new();
        h.update(b"witness.example/w1\n\x04");
        h.update(key.verifying_key().as_bytes());
        let want = u32::from_be_bytes(h.finalize()[..4].try_into().unwrap());
        assert_eq!(c.id, want);
        let v = CosignatureVerifier::new(&c.verifier_key()).unwrap();
        assert_eq!(v.key_id(), want);
        // The same key as an ordinary signed-note key (type 0x01) has another id.
        assert_ne!(
            signed_note::key_id(
                "witness.example/w1",
                &[&[1u8][..], key.verifying_key().as_bytes()].concat()
            ),
            want
        );
    }

    #[test]
    fn cosign_then_verify_with_the_timestamp() {
        let (c, secret) = Cosigner::generate("witness.example/w1").unwrap();
        assert_eq!(
            Cosigner::from_secret(&secret).unwrap().verifier_key(),
            c.verifier_key()
        );
        let line = c.cosign(SPEC_CHECKPOINT.as_bytes(), 1_700_000_000).unwrap();
        assert!(line.starts_with("— witness.example/w1 ") && line.ends_with('\n'));
        let note = format!("{SPEC_CHECKPOINT}\n{line}");
        let note = Note::from_bytes(note.as_bytes()).unwrap();
        let v = CosignatureVerifier::new(&c.verifier_key()).unwrap();
        let found = cosignatures_on(&note, std::slice::from_ref(&v));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].timestamp, 1_700_000_000);
        // The generic signed-note verifier accepts it too.
        let (ok, _) = note
            .verify(&signed_note::VerifierList::new(vec![Box::new(v.clone())]))
            .unwrap();
        assert_eq!(ok.len(), 1);
        // Another text, or an altered timestamp, does not verify.
        let other = SPEC_CHECKPOINT.replace("20852163", "20852164");
        let sig = note_signatures(&note)[0].clone();
        assert!(v.verify(other.as_bytes(), sig.signature()).is_none());
        let mut tampered = sig.signature().to_vec();
        tampered[7] ^= 1;
        assert!(v.verify(SPEC_CHECKPOINT.as_bytes(), &tampered).is_none());
        // Timestamps beyond 2^63 - 1 are refused.
        assert_eq!(
            c.cosign(SPEC_CHECKPOINT.as_bytes(), 1 << 63),
            Err(CosignatureError::Timestamp(1 << 63))
        );
    }

    #[test]
    fn malformed_verifier_keys_are_refused() {
        let (c, _) = Cosigner::generate("w.example/1").unwrap();
        let good = c.verifier_key();
        let (name, rest) = good.split_once('+').unwrap();
        let (id, key64) = rest.split_once('+').unwrap();
        let mut raw = B64.decode(key64).unwrap();
        raw[0] = 0x01;
        let wrong_type = format!("{name}+{id}+{}", B64.encode(&raw));
        for bad in [
            "",
            "w.example/1",
            &format!("{name}+{id}"),
            &format!("{name}+00000000+{key64}"),
            &format!("{name}+{}+{key64}", id.to_uppercase()),
            &format!("other+{id}+{key64}"),
            &wrong_type,
            &format!("{name}+{id}+{key64}x"),
        ] {
            if bad == good {
                continue;
            }
            assert!(CosignatureVerifier::new(bad).is_err(), "{bad:?}");
        }
        // A small-order key is refused.
        let mut weak = vec![ALG_COSIGNATURE_V1];
        weak.extend_from_slice(&[0; 32]);
        weak[1] = 1;
        let point = VerifyingKey::from_bytes(&weak[1..].try_into().unwrap()).unwrap();
        let id = key_id("w", &point);
        assert!(CosignatureVerifier::new(&format!("w+{id:08x}+{}", B64.encode(&weak))).is_err());
    }
}
