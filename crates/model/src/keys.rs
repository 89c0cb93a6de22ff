//! Member keys as the log carries them: Ed25519 signing keys (standard base64) and age X25519
//! encryption recipients. The agreement, memberships, the registry and replay all parse keys
//! here, so none of them imports another for it.

use crate::refusal::Refusal;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;

/// Parses a member's age X25519 recipient (`age1…`, Bech32).
pub fn parse_encryption_key(field: &str, s: &str) -> Result<age::x25519::Recipient, Refusal> {
    s.parse::<age::x25519::Recipient>().map_err(|e| {
        Refusal::invalid(format!(
            "{field} is not an age X25519 recipient (`age1…`, as `truce keygen` writes): {e}"
        ))
    })
}

/// Decodes an Ed25519 public key given as standard base64 of 32 bytes.
///
/// Refuses what would let one secret act under two keys: a non-canonical encoding (another
/// byte string for the same point) and any point with a small-order component (a "torsion
/// twin": a key plus a point of order 2, 4 or 8 has another key id, yet a cofactored verifier
/// accepts the same secret's signatures for both). Keys made from a secret (`truce keygen`)
/// are always in the prime-order subgroup, so no honest key is refused.
pub fn parse_public_key(field: &str, s: &str) -> Result<VerifyingKey, Refusal> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| Refusal::invalid(format!("{field} is not standard base64")))?;
    let bytes: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
        Refusal::invalid(format!(
            "{field} is {} bytes; an Ed25519 public key is 32",
            raw.len()
        ))
    })?;
    let key = VerifyingKey::from_bytes(&bytes)
        .map_err(|_| Refusal::invalid(format!("{field} is not a valid Ed25519 point")))?;
    if key.is_weak() {
        return Err(Refusal::invalid(format!(
            "{field} is a weak (small-order) Ed25519 key"
        )));
    }
    let point = key.to_edwards();
    if point.compress().to_bytes() != bytes {
        return Err(Refusal::invalid(format!(
            "{field} is a non-canonical encoding of an Ed25519 point; encode the key canonically (as `truce keygen` does)"
        )));
    }
    if !point.is_torsion_free() {
        return Err(Refusal::invalid(format!(
            "{field} has a small-order component (it is not in the prime-order subgroup); such a key shares its secret with another key: use a key made by `truce keygen`"
        )));
    }
    Ok(key)
}

/// A key's prime-order component, which is what identifies its secret: two keys that differ
/// by a small-order point (torsion twins) have the same one. Keys are compared for
/// uniqueness by it, not by their bytes.
pub fn prime_component(key: &VerifyingKey) -> [u8; 32] {
    key.to_edwards().mul_by_cofactor().compress().to_bytes()
}
