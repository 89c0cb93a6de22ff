//! truce-sim: the simulator and the fusion evaluator.
//!
//! - [`simulate`]: synthetic report traffic for the Golan scenario with its ground truth,
//!   written to files and, optionally, submitted to a live server through [`simulate::Live`]
//!   (which the CLI implements over HTTP: this crate has no network code).
//! - [`eval`]: a simulated log replayed through the server's admission
//!   ([`truce_model::replay`]) and the engine, and fusion scored against the truth.
//! - [`scenario`]: the scenario files (built in, or a directory).

pub mod eval;
pub mod scenario;
pub mod simulate;
