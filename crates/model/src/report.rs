//! Incident reports: what happened, when, where, by whom, to whom — each with its precision.
//!
//! Coding follows ACLED's event and sub-event types, plus the mechanism's own types; grading
//! follows the Admiralty (NATO) system. Fusion of reports into events is the engine's job.

use crate::ids::wire_name;
use crate::ids::{check_party_id, check_sha256_hex, check_text};
use crate::refusal::Refusal;
use crate::time::TimeSpan;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Event types: ACLED's six, and the mechanism-specific ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    // ACLED
    Battles,
    ExplosionsRemoteViolence,
    ViolenceAgainstCivilians,
    Protests,
    Riots,
    StrategicDevelopments,
    // Mechanism-specific
    Incursion,
    Overflight,
    Checkpoint,
    DetentionAbduction,
    TroopMovement,
    Fortification,
    AccessDenial,
    InterferenceWithMonitors,
}

impl EventType {
    /// ACLED sub-event types allowed for an ACLED event type (empty for mechanism types,
    /// which take free sub-types).
    pub fn acled_sub_types(self) -> &'static [&'static str] {
        match self {
            EventType::Battles => &[
                "armed_clash",
                "government_regains_territory",
                "non_state_actor_overtakes_territory",
            ],
            EventType::ExplosionsRemoteViolence => &[
                "chemical_weapon",
                "air_drone_strike",
                "suicide_bomb",
                "shelling_artillery_missile_attack",
                "remote_explosive_landmine_ied",
                "grenade",
            ],
            EventType::ViolenceAgainstCivilians => &[
                "sexual_violence",
                "attack",
                "abduction_forced_disappearance",
            ],
            EventType::Protests => &[
                "peaceful_protest",
                "protest_with_intervention",
                "excessive_force_against_protesters",
            ],
            EventType::Riots => &["violent_demonstration", "mob_violence"],
            EventType::StrategicDevelopments => &[
                "agreement",
                "arrests",
                "change_to_group_activity",
                "disrupted_weapons_use",
                "headquarters_or_base_established",
                "looting_property_destruction",
                "non_violent_transfer_of_territory",
                "other",
            ],
            _ => &[],
        }
    }
}

/// Where, and how precisely. `point` is `[longitude, latitude]` (RFC 7946 order, WGS 84).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub point: [f64; 2],
    /// Radius of the uncertainty circle in metres (1 m to 500 km): the circle around `point`
    /// that holds the true location with 95% confidence.
    #[schemars(range(min = 1, max = 500000))]
    pub precision_m: u32,
    /// Name of the place as reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

/// A count known as a range: low ≤ best ≤ high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Count {
    pub low: u32,
    pub best: u32,
    pub high: u32,
}

/// Casualties; civilians are also counted separately. Omitted fields are unknown, not zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Casualties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub killed: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injured: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civilians_killed: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civilians_injured: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detained: Option<Count>,
}

/// Admiralty grading: source reliability A (completely reliable) – F (cannot be judged);
/// information credibility 1 (confirmed) – 6 (cannot be judged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Grading {
    #[schemars(pattern(r"^[A-F]$"))]
    pub source_reliability: String,
    #[schemars(range(min = 1, max = 6))]
    pub information_credibility: u8,
}

/// The body of a `report` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub event_type: EventType,
    /// ACLED sub-event type (snake_case) for ACLED types; free for mechanism types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_event_type: Option<String>,
    pub time: TimeSpan,
    pub location: Location,
    /// Party held responsible, or `UNKNOWN`.
    pub perpetrator: String,
    /// Party or group targeted, if any (party id, `CIVILIANS`, `UNKNOWN`, or `MONITORS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Actors as named by the source (units, groups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<String>,
    #[serde(default)]
    pub casualties: Casualties,
    #[schemars(length(min = 1, max = 8000))]
    pub narrative: String,
    /// SHA-256 (hex) of evidence in the blob store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    pub grading: Grading,
    /// The submitter's own reference for the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// Log index of the notice the reported activity was carried out under, when the reporter
    /// ties it to one (it then counts against that notice's acknowledged scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<u64>,
    /// Need-to-know details (sources, identities, raw material), encrypted to named members;
    /// the rest of the report is what every member reads and what fusion uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<crate::bodies::Sealed>,
}

/// Words for the perpetrator/target when no party applies.
pub const NON_PARTY_ACTORS: [&str; 4] = ["UNKNOWN", "CIVILIANS", "MONITORS", "OTHER"];

impl Report {
    /// Checks the report's internal consistency. `created` is the entry's creation time: an
    /// incident cannot start after it was reported.
    pub fn checked(self, created: Timestamp) -> Result<Self, Refusal> {
        if let Some(s) = &self.sealed {
            s.check("body.sealed")?;
        }
        if let Some(sub) = &self.sub_event_type {
            let allowed = self.event_type.acled_sub_types();
            if !allowed.is_empty() && !allowed.contains(&sub.as_str()) {
                return Err(Refusal::invalid(format!(
                    "body.sub_event_type `{sub}` is not an ACLED sub-event type of {}; expected one of {}",
                    wire_name(&self.event_type),
                    allowed.join(", ")
                )));
            }
            check_text("body.sub_event_type", sub, 64)?;
        }
        let (start, _) = self.time.check("body.time")?;
        if start > created {
            return Err(Refusal::invalid(
                "body.time.start is after the entry's created time: an incident cannot be reported before it starts",
            ));
        }
        let [lon, lat] = self.location.point;
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(Refusal::invalid(format!(
                "body.location.point[0] (longitude) {lon} is outside -180..180; points are [longitude, latitude]"
            )));
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(Refusal::invalid(format!(
                "body.location.point[1] (latitude) {lat} is outside -90..90; points are [longitude, latitude]"
            )));
        }
        if !(1..=500_000).contains(&self.location.precision_m) {
            return Err(Refusal::invalid(
                "body.location.precision_m must be 1..500000 metres",
            ));
        }
        if let Some(p) = &self.location.place {
            check_text("body.location.place", p, 200)?;
        }
        check_actor("body.perpetrator", &self.perpetrator)?;
        if let Some(t) = &self.target {
            check_actor("body.target", t)?;
        }
        if self.actors.len() > 32 {
            return Err(Refusal::invalid("body.actors has more than 32 entries"));
        }
        for a in &self.actors {
            check_text("body.actors[]", a, 200)?;
        }
        let c = &self.casualties;
        for (name, count) in [
            ("killed", c.killed),
            ("injured", c.injured),
            ("civilians_killed", c.civilians_killed),
            ("civilians_injured", c.civilians_injured),
            ("detained", c.detained),
        ] {
            if let Some(n) = count
                && !(n.low <= n.best && n.best <= n.high)
            {
                return Err(Refusal::invalid(format!(
                    "body.casualties.{name} must have low <= best <= high (got {}, {}, {})",
                    n.low, n.best, n.high
                )));
            }
        }
        check_text("body.narrative", &self.narrative, 8000)?;
        if self.evidence.len() > 64 {
            return Err(Refusal::invalid("body.evidence has more than 64 entries"));
        }
        for e in &self.evidence {
            check_sha256_hex("body.evidence[]", e)?;
        }
        let g = &self.grading;
        if !matches!(
            g.source_reliability.as_str(),
            "A" | "B" | "C" | "D" | "E" | "F"
        ) {
            return Err(Refusal::invalid(
                "body.grading.source_reliability must be one of A B C D E F (Admiralty code)",
            ));
        }
        if !(1..=6).contains(&g.information_credibility) {
            return Err(Refusal::invalid(
                "body.grading.information_credibility must be 1..6 (Admiralty code)",
            ));
        }
        if let Some(r) = &self.source_ref {
            check_text("body.source_ref", r, 200)?;
        }
        Ok(self)
    }

    /// Parties the report names (perpetrator and target), for cross-checks with the agreement.
    pub fn named_parties(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.perpetrator.as_str())
            .chain(self.target.as_deref())
            .filter(|p| !NON_PARTY_ACTORS.contains(p))
    }
}

fn check_actor(field: &str, s: &str) -> Result<(), Refusal> {
    if NON_PARTY_ACTORS.contains(&s) {
        Ok(())
    } else {
        check_party_id(field, s).map_err(|_| {
            Refusal::invalid(format!(
                "{field}: `{}` is neither a party id nor one of {}",
                s.chars().take(40).collect::<String>(),
                NON_PARTY_ACTORS.join(", ")
            ))
        })
    }
}
