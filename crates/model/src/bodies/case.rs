//! Civilian detention and abduction cases.

use super::*;

/// Steps of a civilian detention or abduction case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    Report,
    Acknowledge,
    Deny,
    DiscloseLocation,
    GrantAccess,
    Release,
    Transfer,
}

/// The body of a `case` entry. Personal data never enters the log in clear: only a salted
/// commitment and, on the report, the personal record sealed to the entitled members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub action: CaseAction,
    /// For steps after `report`: log index of the case's report entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<u64>,
    /// SHA-256 (hex) of the salted personal record: `SHA-256(salt ‖ record)`.
    pub commitment: String,
    /// Party said to detain the person.
    pub detaining_party: String,
    /// On `report`: the salted personal record, encrypted to the members entitled to it (the
    /// reporting party's, the detaining party's and the mediator's). `truce case report`
    /// always seals it; without it, only the commitment is on record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
    /// Free text visible to every member: never personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Case {
    pub fn checked(self) -> Result<Self, Refusal> {
        match (self.action, self.case) {
            (CaseAction::Report, Some(_)) => {
                return Err(Refusal::invalid(
                    "body.case is not used when reporting a new case",
                ));
            }
            (a, None) if a != CaseAction::Report => {
                return Err(Refusal::invalid(
                    "body.case (the case's log index) is required",
                ));
            }
            _ => {}
        }
        check_sha256_hex("body.commitment", &self.commitment)?;
        check_party_id("body.detaining_party", &self.detaining_party)?;
        match (&self.sealed, self.action) {
            (Some(_), a) if a != CaseAction::Report => {
                return Err(Refusal::invalid(
                    "body.sealed is only for the case's report",
                ));
            }
            (Some(s), _) => s.check("body.sealed")?,
            _ => {}
        }
        if let Some(n) = &self.note {
            check_text("body.note", n, 2000)?;
        }
        Ok(self)
    }
}
