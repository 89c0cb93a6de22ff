//! The commands, a module per group; `main.rs` parses and dispatches.

pub mod audit;
pub mod init;
pub mod mirror;
pub mod officer;
pub mod read;
pub mod serve;
pub mod simulate;
pub mod store;
pub mod submit;
pub mod token;
pub mod verify;
pub mod witness;
