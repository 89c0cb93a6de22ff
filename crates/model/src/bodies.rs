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
                crate::agreement::parse_public_key("body.public_key", k)?;
            }
            (None, false) => {}
        }
        if let Some(k) = &self.encryption_key {
            if !needs_key {
                return Err(Refusal::invalid(
                    "body.encryption_key is only allowed for add and rotate",
                ));
            }
            crate::agreement::parse_encryption_key("body.encryption_key", k)?;
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

/// The largest area, in square metres, a notice's (or an acknowledgement's conditions')
/// geometry may enclose: 1,000,000 km².
///
/// That is 60 times all the zones of the Golan scenario together (about 16,500 km²) and more
/// than five times Syria, yet 1/255 of a hemisphere: an activity area larger than this is
/// almost certainly a misdrawn ring (a whole-globe or hemisphere box, a band round the world)
/// that would put every position inside it. Measured with [`truce_geo::area_m2`].
pub const MAX_NOTICE_AREA_M2: f64 = 1.0e12;

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
            let area = truce_geo::area_m2(&geometry);
            if area > MAX_NOTICE_AREA_M2 {
                return Err(Refusal::invalid(format!(
                    "{field}.geometry encloses {:.0} km²; a notice area may enclose at most {:.0} km²: a box that large (a hemisphere, the whole globe, a band round the world) is almost always a misdrawn ring, so draw the area itself",
                    area / 1e6,
                    MAX_NOTICE_AREA_M2 / 1e6
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
    /// Need-to-know details, encrypted to named members (see `Sealed`); the rest of the body
    /// is what every member reads and what the engine uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
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
        if let Some(s) = &self.sealed {
            s.check("body.sealed")?;
        }
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

/// Content encrypted with age (X25519 recipients) to named members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// The members it is encrypted to (their `encryption_key` in the agreement or membership).
    pub recipients: Vec<String>,
    /// The binary age file, standard base64.
    pub age: String,
}

/// Largest sealed payload accepted (base64 characters).
pub const MAX_SEALED_B64: usize = 256 * 1024;

impl Sealed {
    pub fn check(&self, at: &str) -> Result<(), Refusal> {
        if self.recipients.is_empty() {
            return Err(Refusal::invalid(format!(
                "{at}.recipients must name at least one member"
            )));
        }
        for r in &self.recipients {
            crate::ids::check_member_id(&format!("{at}.recipients[]"), r)?;
        }
        if self.age.len() > MAX_SEALED_B64 {
            return Err(Refusal::invalid(format!(
                "{at}.age is larger than {MAX_SEALED_B64} base64 characters"
            )));
        }
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.age)
            .map_err(|e| Refusal::invalid(format!("{at}.age is not standard base64: {e}")))?;
        if !bytes.starts_with(b"age-encryption.org/v1\n") {
            return Err(Refusal::invalid(format!(
                "{at}.age is not an age file (it must start with `age-encryption.org/v1`)"
            )));
        }
        Ok(())
    }
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

/// A party attests that, as far as it knows, no significant incident happened in a period:
/// calm on record. Every party's attestation of the same period makes it co-signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// The period attested: both ends exact UTC times; it must have ended.
    pub period: TimeSpan,
    pub statement: String,
}

/// Longest period one attestation may cover.
pub const MAX_ATTESTATION_DAYS: i64 = 31;

impl Attestation {
    pub fn checked(self, created: jiff::Timestamp) -> Result<Self, Refusal> {
        let (start, end) = self.period.check("body.period")?;
        if self.period.end.is_none() || start == end {
            return Err(Refusal::invalid("body.period needs an end after its start"));
        }
        if end > created {
            return Err(Refusal::invalid(
                "body.period must have ended when the attestation is made",
            ));
        }
        if end.duration_since(start).as_secs() > MAX_ATTESTATION_DAYS * 86_400 {
            return Err(Refusal::invalid(format!(
                "body.period is longer than {MAX_ATTESTATION_DAYS} days"
            )));
        }
        check_text("body.statement", &self.statement, 2000)?;
        Ok(self)
    }
}

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
