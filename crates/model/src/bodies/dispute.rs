//! A party contests a finding.

use super::*;

/// A party contests a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dispute {
    /// The finding's id as published by the engine.
    pub finding: String,
    pub reasons: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Need-to-know details, encrypted to named members (see `Sealed`); the rest of the body
    /// is what every member reads and what the engine uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

impl Dispute {
    pub fn checked(self) -> Result<Self, Refusal> {
        if let Some(s) = &self.sealed {
            s.check("body.sealed")?;
        }
        check_text("body.finding", &self.finding, 200)?;
        check_text("body.reasons", &self.reasons, 8000)?;
        for e in &self.evidence {
            check_sha256_hex("body.evidence[]", e)?;
        }
        Ok(self)
    }
}
