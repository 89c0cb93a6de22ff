//! A member's confirmation or denial of a logged report.

use super::*;

/// Whether a sighting confirms or denies the report it refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    Confirm,
    Deny,
}

/// A member's confirmation or denial of a logged report (usually another party's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sighting {
    /// Log index of the report confirmed or denied.
    pub report: u64,
    pub stance: Stance,
    pub reasons: String,
    /// SHA-256 (hex) of evidence in the blob store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Need-to-know details, encrypted to named members (see `Sealed`); the rest of the body
    /// is what every member reads and what the engine uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

impl Sighting {
    pub fn checked(self) -> Result<Self, Refusal> {
        if let Some(s) = &self.sealed {
            s.check("body.sealed")?;
        }
        check_text("body.reasons", &self.reasons, 8000)?;
        if self.evidence.len() > 64 {
            return Err(Refusal::invalid("body.evidence has more than 64 entries"));
        }
        for e in &self.evidence {
            check_sha256_hex("body.evidence[]", e)?;
        }
        Ok(self)
    }
}
