//! Bodies of the kinds other than `agreement` and `report`.
//!
//! `ratification` and `membership` are fully applied by the [`Registry`](crate::Registry).
//! `notice`, `acknowledgement`, `dispute`, `ruling`, `posture` and `case` are schema-checked
//! and logged now; the engine gives them effect (compliance, deconfliction, cases).

use crate::ids::wire_name;
use crate::ids::{check_member_id, check_party_id, check_sha256_hex, check_slug, check_text};
use crate::refusal::Refusal;
use crate::time::{TimeSpan, parse_utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
                crate::agreement::parse_public_key("body.public_key", k)?;
            }
            (None, false) => {}
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

/// Kinds of planned activity a notice announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    SecurityOperation,
    TroopMovement,
    Exercise,
    Flight,
    HumanitarianConvoy,
    Evacuation,
}

/// Force categories used by notices and posture.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ForceCategory {
    Personnel,
    Tanks,
    ArtilleryShortRange,
    ArtilleryLongRange,
    AirDefence,
    Aircraft,
    Vehicles,
    Brigades,
}

/// A count of forces of one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForceCount {
    pub category: ForceCategory,
    pub count: u32,
}

/// Where an activity takes place: agreement zones and/or an RFC 7946 geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Area {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    /// An RFC 7946 Polygon or MultiPolygon (WGS 84).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
}

impl Area {
    fn check(&self, field: &str) -> Result<(), Refusal> {
        if self.zones.is_empty() && self.geometry.is_none() {
            return Err(Refusal::invalid(format!(
                "{field} needs zones or a geometry"
            )));
        }
        for z in &self.zones {
            check_slug(&format!("{field}.zones[]"), z)?;
        }
        if let Some(g) = &self.geometry {
            let geometry = truce_geo::parse_geometry(g)
                .map_err(|e| Refusal::invalid(format!("{field}.geometry: {e}")))?;
            if !matches!(
                geometry,
                geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_)
            ) {
                return Err(Refusal::invalid(format!(
                    "{field}.geometry must be a Polygon or MultiPolygon (an area)"
                )));
            }
        }
        Ok(())
    }
}

/// What a notice entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeAction {
    File,
    Amend,
    Withdraw,
}

/// Notice of a planned activity, addressed to other parties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub action: NoticeAction,
    /// For `amend` and `withdraw`: log index of the notice it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refers_to: Option<u64>,
    pub activity: Activity,
    pub area: Area,
    pub window: TimeSpan,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forces: Vec<ForceCount>,
    pub purpose: String,
    pub addressees: Vec<String>,
}

impl Notice {
    pub fn checked(self) -> Result<Self, Refusal> {
        match (self.action, self.refers_to) {
            (NoticeAction::File, Some(_)) => {
                return Err(Refusal::invalid(
                    "body.refers_to is only for amend and withdraw",
                ));
            }
            (NoticeAction::Amend | NoticeAction::Withdraw, None) => {
                return Err(Refusal::invalid(
                    "body.refers_to (the notice's log index) is required to amend or withdraw",
                ));
            }
            _ => {}
        }
        self.area.check("body.area")?;
        self.window.check("body.window")?;
        check_text("body.purpose", &self.purpose, 4000)?;
        if self.addressees.is_empty() {
            return Err(Refusal::invalid(
                "body.addressees must name at least one party",
            ));
        }
        for a in &self.addressees {
            check_party_id("body.addressees[]", a)?;
        }
        Ok(self)
    }
}

/// An addressee's answer to a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Acknowledge,
    AcknowledgeWithConditions,
    Object,
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
            (Response::Acknowledge | Response::Object, Some(_)) => {
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
        if self.response == Response::Object && self.reasons.is_none() {
            return Err(Refusal::invalid("body.reasons is required when objecting"));
        }
        if let Some(r) = &self.reasons {
            check_text("body.reasons", r, 4000)?;
        }
        Ok(self)
    }
}

/// A party contests a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dispute {
    /// The finding's id as published by the engine.
    pub finding: String,
    pub reasons: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Dispute {
    pub fn checked(self) -> Result<Self, Refusal> {
        check_text("body.finding", &self.finding, 200)?;
        check_text("body.reasons", &self.reasons, 8000)?;
        for e in &self.evidence {
            check_sha256_hex("body.evidence[]", e)?;
        }
        Ok(self)
    }
}

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
/// commitment (and, once sealed entries land, ciphertext for the entitled parties).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub action: CaseAction,
    /// For steps after `report`: log index of the case's report entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<u64>,
    /// SHA-256 (hex) of the salted personal record.
    pub commitment: String,
    /// Party said to detain the person.
    pub detaining_party: String,
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
        if let Some(n) = &self.note {
            check_text("body.note", n, 2000)?;
        }
        Ok(self)
    }
}

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
}

impl Sighting {
    pub fn checked(self) -> Result<Self, Refusal> {
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

/// How a coverage record was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CoverageMethod {
    Patrol,
    ObservationPost,
    Aerial,
    RemoteSensing,
}

/// Where and when a member could observe: an observation post's field of view, a patrol's
/// track, an overflight's swath. What was not covered is "not observable", not "quiet".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    pub method: CoverageMethod,
    /// An RFC 7946 Polygon or MultiPolygon (the area observed), or a LineString (a track,
    /// observed `width_m` wide).
    pub observed: serde_json::Value,
    /// For a track: the width observed along it, in metres (1..50000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_m: Option<u32>,
    pub window: TimeSpan,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Coverage {
    pub fn checked(self) -> Result<Self, Refusal> {
        let g = truce_geo::parse_geometry(&self.observed)
            .map_err(|e| Refusal::invalid(format!("body.observed: {e}")))?;
        match (&g, self.width_m) {
            (geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_), None) => {}
            (geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_), Some(_)) => {
                return Err(Refusal::invalid(
                    "body.width_m is only for a track (a LineString); an area needs none",
                ));
            }
            (geo::Geometry::LineString(_), Some(w)) if (1..=50_000).contains(&w) => {}
            (geo::Geometry::LineString(_), _) => {
                return Err(Refusal::invalid(
                    "body.width_m (1..50000 metres) is required with a track (a LineString)",
                ));
            }
            _ => {
                return Err(Refusal::invalid(
                    "body.observed must be a Polygon or MultiPolygon (an area) or a LineString (a track)",
                ));
            }
        }
        self.window.check("body.window")?;
        if let Some(n) = &self.note {
            check_text("body.note", n, 2000)?;
        }
        Ok(self)
    }
}
