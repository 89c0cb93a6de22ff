//! `truce serve`: the log service (admission, sequencing, durable group commit) and its HTTP
//! API (JSON, RFC 9457 problems, OpenAPI 3.1, C2SP tlog-tiles under `/log/`).
//!
//! Data flows one way: a request is admitted (schema, signature, author, role, mechanism,
//! clock) → sequenced by one thread in log order (registry checks, idempotency, Merkle append)
//! → committed durably with a new signed checkpoint → answered with a receipt.

pub mod api;
pub mod apply;
pub mod auth;
pub mod boot;
pub mod bundle;
pub mod cosign;
pub mod cosigned;
pub mod datadir;
pub mod listener;
pub mod problem;
pub mod service;
pub mod stream;
pub mod web;
pub mod witness;

pub use datadir::DataDir;
pub use service::{Admitted, IngestError, LogService, ServiceError};
