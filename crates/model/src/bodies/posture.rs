//! Force posture: a party's forces by zone, declared or observed.

use super::*;

/// Declared by a party about itself, or observed by the mediator or an observer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostureType {
    Declaration,
    Inspection,
}

/// Forces of one party in one zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneForces {
    pub zone: String,
    pub party: String,
    pub forces: Vec<ForceCount>,
}

/// The body of a `posture` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Posture {
    #[serde(rename = "type")]
    pub posture_type: PostureType,
    /// RFC 3339 UTC time the counts hold at.
    pub as_of: String,
    pub zones: Vec<ZoneForces>,
}

impl Posture {
    pub fn checked(self) -> Result<Self, Refusal> {
        parse_utc("body.as_of", &self.as_of)?;
        if self.zones.is_empty() {
            return Err(Refusal::invalid("body.zones must list at least one zone"));
        }
        for z in &self.zones {
            check_slug("body.zones[].zone", &z.zone)?;
            check_party_id("body.zones[].party", &z.party)?;
        }
        Ok(self)
    }
}
