//! DSSE v1 envelopes (<https://github.com/secure-systems-lab/dsse/blob/master/envelope.md>)
//! signed with Ed25519, and the compact leaf encoding fixed by truce's wire format.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The payload type of every truce entry.
pub const ENTRY_PAYLOAD_TYPE: &str = "application/vnd.truce.entry+json";

/// Most signatures an entry envelope may carry: its author's, then countersignatures (a
/// membership entry countersigned by the mediator's administrators).
pub const MAX_SIGNATURES: usize = 4;

/// Largest leaf the log accepts: entry bundles (C2SP tlog-tiles) prefix each entry with a
/// 16-bit length.
pub const MAX_LEAF_BYTES: usize = 65_535;

/// Why an envelope was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("envelope is not valid JSON: {0}")]
    Json(String),
    #[error(
        "envelope field `{field}` is not base64 (standard or URL-safe, with or without padding)"
    )]
    Base64 { field: &'static str },
    #[error("envelope has no signatures; sign the payload with the author's key")]
    NoSignatures,
    #[error(
        "envelope has {0} signatures; a truce entry carries its author's and at most {max} countersignatures",
        max = MAX_SIGNATURES - 1
    )]
    TooManySignatures(usize),
    #[error("envelope has {signatures} signatures but {keys} keys were given to check them")]
    SignerCount { signatures: usize, keys: usize },
    #[error("key {0} signs the envelope twice; each signer signs once")]
    DuplicateSigner(String),
    #[error("signature is {0} bytes; an Ed25519 signature is 64 bytes")]
    SignatureLength(usize),
    #[error("keyid `{0}` is not a lowercase hex SHA-256 (64 characters)")]
    KeyId(String),
    #[error("payloadType is `{0}`; truce entries use `{ENTRY_PAYLOAD_TYPE}`")]
    PayloadType(String),
    #[error("signature does not verify with the key it names (keyid {0})")]
    BadSignature(String),
    #[error("keyid {keyid} does not match the public key it was checked with")]
    KeyMismatch { keyid: String },
    #[error(
        "entry is {0} bytes in the log's compact form; the limit is {MAX_LEAF_BYTES} (put evidence in the blob store and reference it by hash)"
    )]
    TooLarge(usize),
}

/// A signature in an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    /// Lowercase hex SHA-256 of the raw public key (see [`key_id`]); empty when the envelope
    /// left it out (DSSE makes it an optional hint), until the key is resolved
    /// ([`Envelope::set_key_id`]).
    pub keyid: String,
    /// The raw 64-byte signature.
    pub sig: [u8; 64],
    sig_b64: String,
}

/// A parsed DSSE envelope, held in truce's canonical form: standard base64 with padding for
/// the payload and the signatures, whatever alphabet or padding they came in. The signatures
/// are over the PAE of the decoded payload, not over its base64 text, so re-encoding never
/// touches what was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    payload_b64: String,
    pub signatures: Vec<EnvelopeSignature>,
}

/// The envelope as DSSE defines it: "empty fields may be omitted", and fields it does not
/// define are ignored.
#[derive(Deserialize)]
struct WireEnvelope {
    #[serde(rename = "payloadType", default)]
    payload_type: String,
    #[serde(default)]
    payload: String,
    #[serde(default)]
    signatures: Vec<WireSignature>,
}

#[derive(Deserialize)]
struct WireSignature {
    #[serde(default)]
    keyid: Option<String>,
    #[serde(default)]
    sig: String,
}

/// Decodes DSSE base64: "either standard or URL-safe encoding is allowed" (envelope.md), with
/// or without padding. One text may not mix the two alphabets, and its unused trailing bits
/// must be zero, so each byte string has exactly one standard encoding and a few others.
fn decode_b64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const CONFIG: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);
    let url_safe = text.contains(['-', '_']);
    if url_safe && text.contains(['+', '/']) {
        return None;
    }
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    engine.decode(text).ok()
}

/// DSSE's Pre-Authentication Encoding: `"DSSEv1" SP len(type) SP type SP len(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// The key id truce uses: lowercase hex SHA-256 of the raw 32-byte Ed25519 public key.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn is_key_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Envelope {
    /// Parses an envelope from JSON, checking its shape (not its signature, not its payload
    /// type). Accepts what DSSE allows — URL-safe base64, missing padding, a missing or empty
    /// `keyid`, fields DSSE does not define — and holds it in canonical form; a `keyid` that
    /// is given must be a truce key id.
    pub fn parse(json: &[u8]) -> Result<Self, EnvelopeError> {
        let wire: WireEnvelope =
            serde_json::from_slice(json).map_err(|e| EnvelopeError::Json(e.to_string()))?;
        let payload =
            decode_b64(&wire.payload).ok_or(EnvelopeError::Base64 { field: "payload" })?;
        if wire.signatures.is_empty() {
            return Err(EnvelopeError::NoSignatures);
        }
        let mut signatures = Vec::with_capacity(wire.signatures.len());
        for s in wire.signatures {
            let keyid = s.keyid.unwrap_or_default();
            if !keyid.is_empty() && !is_key_id(&keyid) {
                return Err(EnvelopeError::KeyId(keyid));
            }
            let raw = decode_b64(&s.sig).ok_or(EnvelopeError::Base64 {
                field: "signatures[].sig",
            })?;
            let sig: [u8; 64] = raw
                .as_slice()
                .try_into()
                .map_err(|_| EnvelopeError::SignatureLength(raw.len()))?;
            signatures.push(EnvelopeSignature {
                keyid,
                sig,
                sig_b64: B64.encode(sig),
            });
        }
        Ok(Self {
            payload_type: wire.payload_type,
            payload_b64: B64.encode(&payload),
            payload,
            signatures,
        })
    }

    /// Whether a signature came without a key id (it must be resolved before the envelope
    /// is logged).
    pub fn has_missing_key_ids(&self) -> bool {
        self.signatures.iter().any(|s| s.keyid.is_empty())
    }

    /// Sets the key id of signature `i` (one the envelope left out).
    pub fn set_key_id(&mut self, i: usize, keyid: String) {
        if let Some(s) = self.signatures.get_mut(i) {
            s.keyid = keyid;
        }
    }

    /// Whether signature `i` verifies strictly under `key`, whatever key id it carries (to
    /// find the key of a signature that names none).
    pub fn signature_verifies(&self, i: usize, key: &VerifyingKey) -> bool {
        self.signatures.get(i).is_some_and(|s| {
            key.verify_strict(
                &pae(&self.payload_type, &self.payload),
                &Signature::from_bytes(&s.sig),
            )
            .is_ok()
        })
    }

    /// Signs `payload` with `key`, producing a one-signature envelope.
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &SigningKey) -> Self {
        let sig = key.sign(&pae(payload_type, &payload)).to_bytes();
        Self {
            payload_type: payload_type.to_owned(),
            payload_b64: B64.encode(&payload),
            payload,
            signatures: vec![EnvelopeSignature {
                keyid: key_id(&key.verifying_key()),
                sig,
                sig_b64: B64.encode(sig),
            }],
        }
    }

    /// The checks every truce entry envelope must pass before its payload is looked at: the
    /// payload type, one to [`MAX_SIGNATURES`] signatures by distinct keys (the author's
    /// first), and the size limit of a leaf. Which entries may be countersigned, and by whom,
    /// is the registry's to say.
    pub fn check_entry_shape(&self) -> Result<(), EnvelopeError> {
        if self.payload_type != ENTRY_PAYLOAD_TYPE {
            return Err(EnvelopeError::PayloadType(self.payload_type.clone()));
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(EnvelopeError::TooManySignatures(self.signatures.len()));
        }
        for (i, s) in self.signatures.iter().enumerate() {
            if !s.keyid.is_empty() && self.signatures[..i].iter().any(|t| t.keyid == s.keyid) {
                return Err(EnvelopeError::DuplicateSigner(s.keyid.clone()));
            }
        }
        let size = self.leaf_len();
        if size > MAX_LEAF_BYTES {
            return Err(EnvelopeError::TooLarge(size));
        }
        Ok(())
    }

    /// The author's signature: the first (a parsed envelope has at least one).
    pub fn signature(&self) -> &EnvelopeSignature {
        &self.signatures[0]
    }

    /// The signatures after the author's: countersignatures.
    pub fn countersignatures(&self) -> &[EnvelopeSignature] {
        self.signatures.get(1..).unwrap_or_default()
    }

    /// Adds `key`'s signature over the same payload (a countersignature), unless that key has
    /// signed already. The existing signatures, and so the author's, are kept as they are.
    pub fn countersign(&mut self, key: &SigningKey) -> Result<(), EnvelopeError> {
        let keyid = key_id(&key.verifying_key());
        if self.signatures.iter().any(|s| s.keyid == keyid) {
            return Err(EnvelopeError::DuplicateSigner(keyid));
        }
        let sig = key.sign(&pae(&self.payload_type, &self.payload)).to_bytes();
        self.signatures.push(EnvelopeSignature {
            keyid,
            sig,
            sig_b64: B64.encode(sig),
        });
        Ok(())
    }

    /// Verifies the author's (first) signature strictly (RFC 8032 with the stricter checks of
    /// `ed25519-dalek`'s `verify_strict`: no small-order keys or R, canonical S).
    pub fn verify_strict(&self, key: &VerifyingKey) -> Result<(), EnvelopeError> {
        self.verify_signature_strict(self.signature(), key)
    }

    /// Verifies every signature strictly, the `i`-th under `keys[i]` (the author's first, then
    /// the countersigners'); there must be exactly one key per signature.
    pub fn verify_all_strict(&self, keys: &[VerifyingKey]) -> Result<(), EnvelopeError> {
        if keys.len() != self.signatures.len() {
            return Err(EnvelopeError::SignerCount {
                signatures: self.signatures.len(),
                keys: keys.len(),
            });
        }
        self.signatures
            .iter()
            .zip(keys)
            .try_for_each(|(s, k)| self.verify_signature_strict(s, k))
    }

    /// Verifies one of the envelope's signatures strictly under `key`, which its key id must
    /// name.
    pub fn verify_signature_strict(
        &self,
        s: &EnvelopeSignature,
        key: &VerifyingKey,
    ) -> Result<(), EnvelopeError> {
        if key_id(key) != s.keyid {
            return Err(EnvelopeError::KeyMismatch {
                keyid: s.keyid.clone(),
            });
        }
        key.verify_strict(
            &pae(&self.payload_type, &self.payload),
            &Signature::from_bytes(&s.sig),
        )
        .map_err(|_| EnvelopeError::BadSignature(s.keyid.clone()))
    }

    /// The log leaf: the envelope in compact JSON, keys in the order `payloadType`, `payload`,
    /// `signatures` (`keyid`, `sig`), no white space, base64 texts as sent.
    pub fn to_leaf(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload_b64.len() + 200);
        self.write_leaf(&mut out);
        out
    }

    fn write_leaf(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"payloadType\":");
        push_json_string(out, &self.payload_type);
        out.extend_from_slice(b",\"payload\":\"");
        out.extend_from_slice(self.payload_b64.as_bytes());
        out.extend_from_slice(b"\",\"signatures\":[");
        for (i, s) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"keyid\":\"");
            out.extend_from_slice(s.keyid.as_bytes());
            out.extend_from_slice(b"\",\"sig\":\"");
            out.extend_from_slice(s.sig_b64.as_bytes());
            out.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(b"]}");
    }

    /// The length of [`Envelope::to_leaf`] without building it.
    fn leaf_len(&self) -> usize {
        let mut type_json = Vec::new();
        push_json_string(&mut type_json, &self.payload_type);
        // {"payloadType":T,"payload":"P","signatures":[S,S]} with S = {"keyid":"K","sig":"G"}
        let sigs: usize = self
            .signatures
            .iter()
            .map(|s| 21 + s.keyid.len() + s.sig_b64.len())
            .sum::<usize>()
            + self.signatures.len().saturating_sub(1);
        15 + type_json.len() + 12 + self.payload_b64.len() + 16 + sigs + 2
    }
}

fn push_json_string(out: &mut Vec<u8>, s: &str) {
    // serde_json's string encoding of a &str cannot fail.
    out.extend_from_slice(serde_json::to_string(s).unwrap_or_default().as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world")
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn leaf_is_compact_and_round_trips() {
        let env = Envelope::sign(ENTRY_PAYLOAD_TYPE, b"{\"v\":1}".to_vec(), &key(7));
        let leaf = env.to_leaf();
        assert_eq!(leaf.len(), env.leaf_len());
        let mut two = env.clone();
        two.signatures.push(env.signatures[0].clone());
        two.payload_type = "a\"b\u{1}".into();
        assert_eq!(two.to_leaf().len(), two.leaf_len());
        let text = String::from_utf8(leaf.clone()).unwrap();
        assert!(text.starts_with(
            "{\"payloadType\":\"application/vnd.truce.entry+json\",\"payload\":\"eyJ2IjoxfQ==\",\"signatures\":[{\"keyid\":\""
        ));
        assert!(!text.contains(' '));
        let back = Envelope::parse(&leaf).unwrap();
        assert_eq!(back, env);
        assert_eq!(back.to_leaf(), leaf);
        back.verify_strict(&key(7).verifying_key()).unwrap();
    }

    #[test]
    fn countersignatures_follow_the_authors_and_each_verifies() {
        let payload = b"{\"v\":1}".to_vec();
        let mut env = Envelope::sign(ENTRY_PAYLOAD_TYPE, payload, &key(1));
        let authored = env.to_leaf();
        env.countersign(&key(2)).unwrap();
        assert_eq!(
            env.countersign(&key(2)),
            Err(EnvelopeError::DuplicateSigner(key_id(
                &key(2).verifying_key()
            )))
        );
        env.check_entry_shape().unwrap();
        // The author's signature is untouched and still first.
        assert_eq!(env.signature().keyid, key_id(&key(1).verifying_key()));
        env.verify_strict(&key(1).verifying_key()).unwrap();
        let [counter] = env.countersignatures() else {
            panic!("one countersignature expected");
        };
        env.verify_signature_strict(counter, &key(2).verifying_key())
            .unwrap();
        assert!(matches!(
            env.verify_signature_strict(counter, &key(1).verifying_key()),
            Err(EnvelopeError::KeyMismatch { .. })
        ));
        let leaf = env.to_leaf();
        assert_eq!(leaf.len(), env.leaf_len());
        assert_eq!(&leaf[..authored.len() - 2], &authored[..authored.len() - 2]);
        assert_eq!(Envelope::parse(&leaf).unwrap(), env);
        // A countersignature over other bytes does not verify.
        let mut forged = env.clone();
        forged.signatures[1].sig = forged.signatures[0].sig;
        assert!(matches!(
            forged.verify_signature_strict(&forged.signatures[1].clone(), &key(2).verifying_key()),
            Err(EnvelopeError::BadSignature(_))
        ));
    }

    #[test]
    fn entry_shape_limits_signers() {
        let mut env = Envelope::sign(ENTRY_PAYLOAD_TYPE, b"{}".to_vec(), &key(1));
        for k in 2..=MAX_SIGNATURES as u8 {
            env.countersign(&key(k)).unwrap();
        }
        env.check_entry_shape().unwrap();
        let mut five = env.clone();
        five.countersign(&key(9)).unwrap();
        assert_eq!(
            five.check_entry_shape(),
            Err(EnvelopeError::TooManySignatures(MAX_SIGNATURES + 1))
        );
        // A signature sent twice (parsed from the wire, not added with `countersign`).
        let mut twice = Envelope::sign(ENTRY_PAYLOAD_TYPE, b"{}".to_vec(), &key(1));
        twice.signatures.push(twice.signatures[0].clone());
        assert!(matches!(
            twice.check_entry_shape(),
            Err(EnvelopeError::DuplicateSigner(_))
        ));
    }

    #[test]
    fn whitespace_and_key_order_are_normalised_in_the_leaf() {
        let env = Envelope::sign(ENTRY_PAYLOAD_TYPE, b"{}".to_vec(), &key(1));
        let s = &env.signatures[0];
        let pretty = format!(
            "{{ \"signatures\": [ {{\"sig\": \"{}\", \"keyid\": \"{}\"}} ],\n \"payload\": \"e30=\", \"payloadType\": \"{}\" }}",
            s.sig_b64, s.keyid, ENTRY_PAYLOAD_TYPE
        );
        assert_eq!(
            Envelope::parse(pretty.as_bytes()).unwrap().to_leaf(),
            env.to_leaf()
        );
    }

    #[test]
    fn rejects_malformed_envelopes() {
        let good = Envelope::sign(ENTRY_PAYLOAD_TYPE, b"{}".to_vec(), &key(1));
        let sig = good.signatures[0].sig_b64.clone();
        let kid = good.signatures[0].keyid.clone();
        let case = |json: String| Envelope::parse(json.as_bytes()).unwrap_err();
        assert!(matches!(case("nope".into()), EnvelopeError::Json(_)));
        assert!(matches!(
            case(format!(
                r#"{{"payloadType":"x","payload":"e3-/","signatures":[{{"keyid":"{kid}","sig":"{sig}"}}]}}"#
            )),
            EnvelopeError::Base64 { field: "payload" }
        ));
        assert!(matches!(
            case(format!(
                r#"{{"payloadType":"x","payload":"e31=","signatures":[{{"keyid":"{kid}","sig":"{sig}"}}]}}"#
            )),
            EnvelopeError::Base64 { field: "payload" }
        ));
        assert_eq!(
            case(r#"{"payloadType":"x","payload":"e30=","signatures":[]}"#.into()),
            EnvelopeError::NoSignatures
        );
        assert!(matches!(
            case(format!(
                r#"{{"payloadType":"x","payload":"e30=","signatures":[{{"keyid":"ABC","sig":"{sig}"}}]}}"#
            )),
            EnvelopeError::KeyId(_)
        ));
        assert_eq!(
            case(format!(
                r#"{{"payloadType":"x","payload":"e30=","signatures":[{{"keyid":"{kid}","sig":"AAAA"}}]}}"#
            )),
            EnvelopeError::SignatureLength(3)
        );
        assert!(matches!(
            case(r#"{"payloadType":"x","payload":"e30=","signatures":{}}"#.to_owned()),
            EnvelopeError::Json(_)
        ));
    }

    #[test]
    fn what_dsse_allows_is_accepted_and_held_in_canonical_form() {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
        // A payload whose standard encoding has `+` and `/`, so the URL-safe one differs.
        // (13 bytes, so that the standard encoding is padded.)
        let payload = b"{\"v\":\"\xfb\xff\xbf~~\"}".to_vec();
        let env = Envelope::sign(ENTRY_PAYLOAD_TYPE, payload.clone(), &key(3));
        let canonical = env.to_leaf();
        let s = &env.signatures[0];
        let vk = key(3).verifying_key();
        for (name, p, g) in [
            (
                "url-safe",
                URL_SAFE.encode(&payload),
                URL_SAFE.encode(s.sig),
            ),
            (
                "url-safe, no padding",
                URL_SAFE_NO_PAD.encode(&payload),
                URL_SAFE_NO_PAD.encode(s.sig),
            ),
            (
                "standard, no padding",
                STANDARD_NO_PAD.encode(&payload),
                STANDARD_NO_PAD.encode(s.sig),
            ),
        ] {
            assert_ne!(p, B64.encode(&payload), "{name}: the variant differs");
            let json = format!(
                r#"{{"payload":"{p}","payloadType":"{ENTRY_PAYLOAD_TYPE}","signatures":[{{"keyid":"{}","sig":"{g}"}}],"x-extension":{{"a":1}}}}"#,
                s.keyid
            );
            let parsed = Envelope::parse(json.as_bytes()).unwrap();
            assert_eq!(parsed.to_leaf(), canonical, "{name}");
            parsed.verify_strict(&vk).unwrap();
        }
        // No keyid, or an empty one: parsed, and resolved by whoever knows the key.
        for sig in [
            format!(r#"{{"sig":"{}"}}"#, s.sig_b64),
            format!(r#"{{"keyid":"","sig":"{}"}}"#, s.sig_b64),
        ] {
            let json = format!(
                r#"{{"payloadType":"{ENTRY_PAYLOAD_TYPE}","payload":"{}","signatures":[{sig}]}}"#,
                B64.encode(&payload)
            );
            let mut parsed = Envelope::parse(json.as_bytes()).unwrap();
            assert!(parsed.has_missing_key_ids());
            parsed.check_entry_shape().unwrap();
            assert!(parsed.signature_verifies(0, &vk));
            assert!(!parsed.signature_verifies(0, &key(4).verifying_key()));
            parsed.set_key_id(0, key_id(&vk));
            assert_eq!(parsed.to_leaf(), canonical);
        }
    }

    #[test]
    fn verification_is_strict_and_bound_to_the_key_id() {
        let env = Envelope::sign(ENTRY_PAYLOAD_TYPE, b"{}".to_vec(), &key(1));
        assert!(matches!(
            env.verify_strict(&key(2).verifying_key()),
            Err(EnvelopeError::KeyMismatch { .. })
        ));
        let mut tampered = env.clone();
        tampered.payload = b"{ }".to_vec();
        assert!(matches!(
            tampered.verify_strict(&key(1).verifying_key()),
            Err(EnvelopeError::BadSignature(_))
        ));
    }

    #[test]
    fn entry_shape_limits() {
        let env = Envelope::sign("text/plain", b"{}".to_vec(), &key(1));
        assert!(matches!(
            env.check_entry_shape(),
            Err(EnvelopeError::PayloadType(_))
        ));
        let big = Envelope::sign(ENTRY_PAYLOAD_TYPE, vec![b'a'; 50_000], &key(1));
        assert!(matches!(
            big.check_entry_shape(),
            Err(EnvelopeError::TooLarge(_))
        ));
        let ok = Envelope::sign(ENTRY_PAYLOAD_TYPE, vec![b'a'; 40_000], &key(1));
        ok.check_entry_shape().unwrap();
    }
}
