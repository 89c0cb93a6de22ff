//! The mediator's decision on a finding.

use super::*;

/// The mediator's decision on a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Upheld,
    Dismissed,
}

/// The body of a `ruling` entry: the mediator decides a finding, answering a dispute, or
/// without one once the finding's dispute window has elapsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ruling {
    /// The finding's id as published by the engine.
    pub finding: String,
    /// Log index of the dispute answered, if the finding was disputed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute: Option<u64>,
    /// The rule id cited.
    pub rule: String,
    pub decision: Decision,
    pub reasons: String,
}

impl Ruling {
    pub fn checked(self) -> Result<Self, Refusal> {
        check_text("body.finding", &self.finding, 200)?;
        check_slug("body.rule", &self.rule)?;
        check_text("body.reasons", &self.reasons, 8000)?;
        Ok(self)
    }
}
