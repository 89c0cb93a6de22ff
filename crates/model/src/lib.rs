//! What truce entries mean: the entry payload, each kind's body, the agreement bundle, and the
//! registry of parties and members that decides who may submit what.
//!
//! I/O-free and clock-free: callers pass the current time and any annex documents (the zones
//! GeoJSON) in. Evaluating rules, fusing reports and scoring compliance are not here; they are
//! the engine's. The envelope and the log are `truce-log`'s.

pub mod admission;
pub mod agreement;
pub mod bodies;
pub mod entry;
pub mod ids;
pub mod keys;
pub mod refusal;
pub mod registry;
pub mod replay;
pub mod report;
pub mod rules;
pub mod schema;
pub mod time;
pub mod witnesses;

pub use entry::{Entry, Kind};
pub use refusal::Refusal;
pub use registry::Registry;
