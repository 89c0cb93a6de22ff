//! The canonical encoding of the derived state and its hash.
//!
//! The encoding is `serde_json`'s compact serialization of [`State`]: maps are ordered, field
//! order is the declaration order, numbers are integers or shortest-round-trip floats, and
//! times are RFC 3339 UTC strings, so equal states give equal bytes on every machine. The hash
//! is SHA-256 over the bytes `truce-state/1\n` followed by that encoding.

use crate::state::{STATE_FORMAT, State};
use sha2::{Digest, Sha256};

/// The canonical bytes of a state.
pub fn canonical(state: &State) -> Vec<u8> {
    // Serializing plain data with ordered maps cannot fail; an empty encoding would still be
    // hashed distinctly from any real state.
    serde_json::to_vec(state).unwrap_or_default()
}

/// SHA-256 over the domain tag and the canonical encoding.
pub fn state_hash(state: &State) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(STATE_FORMAT.as_bytes());
    h.update(b"\n");
    h.update(canonical(state));
    h.finalize().into()
}
