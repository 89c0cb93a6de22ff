//! The commands, one module each. (Older commands still live in `main.rs`; they move here as
//! they are touched.)

pub mod audit;
pub mod mirror;
pub mod witness;
