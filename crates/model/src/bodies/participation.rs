//! A party suspends or resumes its participation.

use super::*;

/// What a participation entry does.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ParticipationAction {
    /// The party stops taking part in the mechanism (it says why).
    Suspend,
    /// It takes part again.
    Resume,
}

/// A party suspends or resumes its participation in the mechanism: participation is data, on
/// record and in the scorecards, like everything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Participation {
    pub action: ParticipationAction,
    pub reason: String,
}

impl Participation {
    pub fn checked(self) -> Result<Self, Refusal> {
        check_text("body.reason", &self.reason, 4000)?;
        Ok(self)
    }
}
