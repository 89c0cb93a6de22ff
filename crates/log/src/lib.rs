//! The transparency log of a truce mechanism, as data: signed entries, the Merkle tree and the
//! notes that commit to it.
//!
//! This crate implements the standards the log speaks, and nothing else:
//!
//! - [`dsse`]: DSSE v1 envelopes with Ed25519 signatures, and the compact leaf form the log stores;
//! - [`merkle`]: RFC 6962 / RFC 9162 hashing, inclusion and consistency proofs (on top of the
//!   `tlog_tiles` port of Go's `sumdb/tlog`);
//! - [`checkpoint`]: C2SP `tlog-checkpoint` bodies signed as C2SP `signed-note`s;
//! - [`tiles`]: C2SP `tlog-tiles` paths and entry bundles;
//! - [`proof`]: C2SP `tlog-proof` files, and [`receipt`]: the receipt a party keeps;
//! - [`cosignature`]: C2SP `tlog-cosignature` (`cosignature/v1`), and [`witness`]: the
//!   decisions of a C2SP `tlog-witness`.
//!
//! It is transport- and storage-agnostic: no HTTP, no database, no clock. What an entry *means*
//! (kinds, bodies, who may submit what) lives in `truce-model`.

pub mod checkpoint;
pub mod cosignature;
pub mod dsse;
pub mod merkle;
pub mod proof;
pub mod receipt;
pub mod state_note;
pub mod tiles;
pub mod witness;

pub use checkpoint::{LogKey, SignedCheckpoint};
pub use dsse::Envelope;
pub use merkle::Hash;
pub use receipt::Receipt;
pub use state_note::{StateCommitment, verify_state_commitment};
