//! A party's ratification of a logged agreement.

use super::*;

/// A party's signature, by its administrator, on a logged agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ratification {
    /// Log index of the `agreement` entry ratified.
    pub agreement_index: u64,
    /// SHA-256 (hex) of that entry's payload bytes: what exactly is ratified.
    pub agreement_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
}

impl Ratification {
    pub fn checked(self) -> Result<Self, Refusal> {
        check_sha256_hex("body.agreement_sha256", &self.agreement_sha256)?;
        if let Some(s) = &self.statement {
            check_text("body.statement", s, 2000)?;
        }
        Ok(self)
    }
}
