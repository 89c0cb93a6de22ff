//! Membership: a party's members, their roles and keys.

use super::*;

/// Member roles within a party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// Submits reports, notices, answers, disputes (or, for the mediator, rulings).
    Officer,
    /// Manages the party's members and ratifies agreements.
    Administrator,
    /// Reads the log; submits nothing.
    Auditor,
}

/// What a membership entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipAction {
    Add,
    Rotate,
    Suspend,
    Reinstate,
    Remove,
}

/// Adds, re-keys, suspends, reinstates or removes a member of the author's own party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub action: MembershipAction,
    pub member: String,
    /// For `add`: the member's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<MemberRole>,
    /// For `add` and `rotate`: the Ed25519 public key, standard base64 of the 32 raw bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// For `add` and `rotate`: the member's age X25519 recipient (`age1…`) for sealed content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Membership {
    pub fn checked(self) -> Result<Self, Refusal> {
        check_member_id("body.member", &self.member)?;
        let needs_key = matches!(
            self.action,
            MembershipAction::Add | MembershipAction::Rotate
        );
        match (&self.public_key, needs_key) {
            (None, true) => {
                return Err(Refusal::invalid(format!(
                    "body.public_key is required for {}",
                    wire_name(&self.action)
                )));
            }
            (Some(_), false) => {
                return Err(Refusal::invalid(format!(
                    "body.public_key is only allowed for add and rotate, not {}",
                    wire_name(&self.action)
                )));
            }
            (Some(k), true) => {
                crate::keys::parse_public_key("body.public_key", k)?;
            }
            (None, false) => {}
        }
        if let Some(k) = &self.encryption_key {
            if !needs_key {
                return Err(Refusal::invalid(
                    "body.encryption_key is only allowed for add and rotate",
                ));
            }
            crate::keys::parse_encryption_key("body.encryption_key", k)?;
        }
        match (self.role, self.action) {
            (None, MembershipAction::Add) => {
                return Err(Refusal::invalid("body.role is required for add"));
            }
            (Some(_), a) if a != MembershipAction::Add => {
                return Err(Refusal::invalid("body.role is only allowed for add"));
            }
            _ => {}
        }
        if let Some(n) = &self.name {
            check_text("body.name", n, 200)?;
        }
        if let Some(r) = &self.reason {
            check_text("body.reason", r, 2000)?;
        }
        Ok(self)
    }
}
