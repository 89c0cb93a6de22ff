//! An addressee's answer to a notice.

use super::*;

/// An addressee's answer to a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// The addressee confirms it received the notice, without answering it yet.
    Received,
    /// The green light: the activity may go ahead as notified.
    Acknowledge,
    /// The green light within narrower bounds (area, window, force caps).
    AcknowledgeWithConditions,
    /// No green light, with reasons.
    Object,
    /// The mediator presses the addressees for an answer (mediator only, with reasons).
    Escalate,
}

/// Conditions attached to an acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Area>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<TimeSpan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub force_caps: Vec<ForceCount>,
}

/// The body of an `acknowledgement` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    /// Log index of the notice answered.
    pub notice: u64,
    pub response: Response,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Conditions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<String>,
}

impl Acknowledgement {
    pub fn checked(self) -> Result<Self, Refusal> {
        match (self.response, &self.conditions) {
            (Response::AcknowledgeWithConditions, None) => {
                return Err(Refusal::invalid(
                    "body.conditions is required with acknowledge_with_conditions",
                ));
            }
            (_, Some(_)) if self.response != Response::AcknowledgeWithConditions => {
                return Err(Refusal::invalid(
                    "body.conditions is only for acknowledge_with_conditions",
                ));
            }
            _ => {}
        }
        if let Some(c) = &self.conditions {
            if let Some(a) = &c.area {
                a.check("body.conditions.area")?;
            }
            if let Some(w) = &c.window {
                w.check("body.conditions.window")?;
            }
        }
        if matches!(self.response, Response::Object | Response::Escalate) && self.reasons.is_none()
        {
            return Err(Refusal::invalid(
                "body.reasons is required to object or escalate",
            ));
        }
        if let Some(r) = &self.reasons {
            check_text("body.reasons", r, 4000)?;
        }
        Ok(self)
    }
}
