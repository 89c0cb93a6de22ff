//! Bodies of the kinds other than `agreement` and `report`, one file per kind.
//!
//! `ratification` and `membership` are fully applied by the [`Registry`](crate::Registry).
//! `notice`, `acknowledgement`, `dispute`, `ruling`, `posture` and `case` are schema-checked
//! and logged now; the engine gives them effect (compliance, deconfliction, cases).

mod acknowledgement;
mod attestation;
mod case;
mod coverage;
mod dispute;
mod membership;
mod notice;
mod participation;
mod posture;
mod ratification;
mod ruling;
mod sealed;
mod sighting;

pub use acknowledgement::*;
pub use attestation::*;
pub use case::*;
pub use coverage::*;
pub use dispute::*;
pub use membership::*;
pub use notice::*;
pub use participation::*;
pub use posture::*;
pub use ratification::*;
pub use ruling::*;
pub use sealed::*;
pub use sighting::*;

use crate::ids::wire_name;
use crate::ids::{check_member_id, check_party_id, check_sha256_hex, check_slug, check_text};
use crate::refusal::Refusal;
use crate::time::{TimeSpan, parse_utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
