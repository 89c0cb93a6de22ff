//! The agreement bundle: parties, members and their keys, zones (by reference to a GeoJSON
//! document in the blob store), rules, and when it takes effect.

use crate::bodies::{MemberRole, MembershipAction};
use crate::ids::{check_member_id, check_party_id, check_sha256_hex, check_text};
use crate::keys::{parse_encryption_key, parse_public_key, prime_component};
use crate::refusal::Refusal;
use crate::rules::Rule;
use crate::time::parse_utc;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The format tag of an agreement body.
pub const AGREEMENT_FORMAT: &str = "truce-agreement/1";

/// A party's role in the mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    /// A signatory (e.g. `SY`, `IL`).
    Party,
    /// Supervises the mechanism, operates the log, rules on disputes (e.g. `US`).
    Mediator,
    /// Submits graded reports only (e.g. `UNDOF`).
    Observer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub id: String,
    pub name: String,
    pub role: PartyRole,
}

/// A member declared in the agreement (later changes are `membership` entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberDecl {
    pub id: String,
    pub party: String,
    pub role: MemberRole,
    /// Ed25519 public key, standard base64 of the 32 raw bytes.
    pub public_key: String,
    /// age X25519 recipient (`age1…`) that sealed content for this member is encrypted to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A document in the content-addressed blob store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlobRef {
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    pub media_type: String,
}

/// The body of an `agreement` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// Always `truce-agreement/1`.
    pub format: String,
    pub title: String,
    /// 1 for the first agreement; amendments count up.
    pub version: u32,
    /// RFC 3339 UTC time from which it applies (once ratified).
    pub effective: String,
    pub parties: Vec<Party>,
    pub members: Vec<MemberDecl>,
    /// The zones: an RFC 7946 FeatureCollection (`application/geo+json`) in the blob store.
    pub zones: BlobRef,
    /// Named places (GeoJSON points) for maps, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub places: Option<BlobRef>,
    pub rules: Vec<Rule>,
    /// Where the agreement's text and figures come from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// How findings are disputed and ruled on (defaults apply when omitted).
    #[serde(default)]
    pub procedure: Procedure,
    /// How reports are fused into events (defaults apply when omitted). Versioned with the
    /// agreement, so a replay uses the parameters the log was fused with.
    #[serde(default)]
    pub fusion: FusionParams,
    /// How parties manage their members (defaults: each party's administrators alone).
    #[serde(default, skip_serializing_if = "MembershipPolicy::is_default")]
    pub membership: MembershipPolicy,
    /// The witnesses that cosign the log's checkpoints, and the policy clients apply to their
    /// cosignatures (docs/auditing.md). Without it, clients trust the log's signature alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witnesses: Option<crate::witnesses::Witnesses>,
}

/// Who must sign a party's membership entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipPolicy {
    /// Membership actions (`add`, `rotate`, `suspend`, `reinstate`, `remove`) that a party's
    /// or observer's administrator may take only with a countersignature by an active
    /// administrator of the mediator, as a second signature on the same envelope. The
    /// mediator's own membership entries need none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countersign: Vec<MembershipAction>,
}

impl MembershipPolicy {
    fn is_default(&self) -> bool {
        self.countersign.is_empty()
    }

    /// Whether `action` needs the mediator's countersignature.
    pub fn needs_countersignature(&self, action: MembershipAction) -> bool {
        self.countersign.contains(&action)
    }
}

/// Parameters of report fusion (see docs/fusion.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FusionParams {
    /// A report joins the most likely open event if the probability that both describe one
    /// incident, as fusion scores it, is at least this (percent).
    #[serde(default = "default_threshold_percent")]
    #[schemars(range(min = 1, max = 99))]
    pub threshold_percent: u32,
    /// The time scale of reported times' errors: beyond its window, a report's time is trusted
    /// to an eighth of this (one standard deviation) at `exact` precision, a quarter at `hour`,
    /// half at `day`, twice at `week` and eight times at `month`.
    #[serde(default = "default_time_slack_hours")]
    #[schemars(range(min = 1, max = 720))]
    pub time_slack_hours: u32,
    /// Reports further apart in time than this never fuse.
    #[serde(default = "default_max_gap_hours")]
    #[schemars(range(min = 1, max = 2160))]
    pub max_gap_hours: u32,
    /// Location uncertainty below this is raised to it (metres).
    #[serde(default = "default_min_radius_m")]
    #[schemars(range(min = 1, max = 10000))]
    pub min_radius_m: u32,
    /// How many distinct incidents to expect per 1,000 km² and day: how likely it is that a
    /// report near an event is of another incident.
    #[serde(default = "default_density_per_1000_km2_day")]
    #[schemars(range(min = 1, max = 100000))]
    pub density_per_1000_km2_day: u32,
    /// How much less likely (percent) two descriptions of one incident are to give two event
    /// types of one family (shelling and a clash, an incursion and a troop movement) than the
    /// same type, relative to two incidents nearby.
    #[serde(default = "default_type_family_percent")]
    #[schemars(range(min = 1, max = 100))]
    pub type_family_percent: u32,
    /// The same, for two types of no common family.
    #[serde(default = "default_type_other_percent")]
    #[schemars(range(min = 1, max = 100))]
    pub type_other_percent: u32,
    /// The same, for a report naming no perpetrator (`UNKNOWN`) against one naming a party.
    #[serde(default = "default_actor_unknown_percent")]
    #[schemars(range(min = 1, max = 100))]
    pub actor_unknown_percent: u32,
    /// The same, for two reports naming different perpetrators.
    #[serde(default = "default_actor_differ_percent")]
    #[schemars(range(min = 1, max = 100))]
    pub actor_differ_percent: u32,
    /// The same, for a report from a party that already reported the event: a party seldom
    /// reports one incident twice.
    #[serde(default = "default_same_source_percent")]
    #[schemars(range(min = 1, max = 100))]
    pub same_source_percent: u32,
}

fn default_threshold_percent() -> u32 {
    50
}
fn default_time_slack_hours() -> u32 {
    1
}
fn default_max_gap_hours() -> u32 {
    48
}
fn default_min_radius_m() -> u32 {
    250
}
fn default_density_per_1000_km2_day() -> u32 {
    2
}
fn default_type_family_percent() -> u32 {
    30
}
fn default_type_other_percent() -> u32 {
    3
}
fn default_actor_unknown_percent() -> u32 {
    100
}
fn default_actor_differ_percent() -> u32 {
    45
}
fn default_same_source_percent() -> u32 {
    22
}

impl FusionParams {
    /// Checks the parameters' ranges (see docs/agreement.md).
    pub fn check(&self) -> Result<(), Refusal> {
        let f = self;
        if !(1..=99).contains(&f.threshold_percent)
            || !(1..=720).contains(&f.time_slack_hours)
            || !(1..=2160).contains(&f.max_gap_hours)
            || !(1..=10000).contains(&f.min_radius_m)
            || !(1..=100_000).contains(&f.density_per_1000_km2_day)
        {
            return Err(Refusal::invalid(
                "body.fusion: threshold_percent must be 1..99, time_slack_hours 1..720, max_gap_hours 1..2160, min_radius_m 1..10000, density_per_1000_km2_day 1..100000",
            ));
        }
        for (name, v) in [
            ("type_family_percent", f.type_family_percent),
            ("type_other_percent", f.type_other_percent),
            ("actor_unknown_percent", f.actor_unknown_percent),
            ("actor_differ_percent", f.actor_differ_percent),
            ("same_source_percent", f.same_source_percent),
        ] {
            if !(1..=100).contains(&v) {
                return Err(Refusal::invalid(format!(
                    "body.fusion.{name} must be 1..100 (percent), not {v}"
                )));
            }
        }
        Ok(())
    }
}

impl Default for FusionParams {
    fn default() -> Self {
        FusionParams {
            threshold_percent: default_threshold_percent(),
            time_slack_hours: default_time_slack_hours(),
            max_gap_hours: default_max_gap_hours(),
            min_radius_m: default_min_radius_m(),
            density_per_1000_km2_day: default_density_per_1000_km2_day(),
            type_family_percent: default_type_family_percent(),
            type_other_percent: default_type_other_percent(),
            actor_unknown_percent: default_actor_unknown_percent(),
            actor_differ_percent: default_actor_differ_percent(),
            same_source_percent: default_same_source_percent(),
        }
    }
}

/// How findings are disputed and ruled on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    /// Hours after a finding is made (or a ruling given) during which it may be disputed
    /// (or appealed); the mediator may rule without a dispute only after the window.
    #[serde(default = "default_dispute_window_hours")]
    #[schemars(range(min = 1, max = 8760))]
    pub dispute_window_hours: u32,
    /// How many times a ruling may be appealed (0: rulings are final).
    #[serde(default)]
    #[schemars(range(max = 3))]
    pub appeals: u32,
    /// If set, an `alleged` finding that is neither corroborated nor disputed within this many
    /// days becomes `expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub allegation_expiry_days: Option<u32>,
}

fn default_dispute_window_hours() -> u32 {
    72
}

impl Default for Procedure {
    fn default() -> Self {
        Procedure {
            dispute_window_hours: default_dispute_window_hours(),
            appeals: 0,
            allegation_expiry_days: None,
        }
    }
}

impl Agreement {
    /// Checks the agreement on its own (everything except the zones document).
    pub fn checked(self) -> Result<Self, Refusal> {
        if self.format != AGREEMENT_FORMAT {
            return Err(Refusal::invalid(format!(
                "body.format is `{}`; expected `{AGREEMENT_FORMAT}`",
                self.format.chars().take(40).collect::<String>()
            )));
        }
        check_text("body.title", &self.title, 300)?;
        if self.version == 0 {
            return Err(Refusal::invalid("body.version starts at 1"));
        }
        parse_utc("body.effective", &self.effective)?;
        let p = &self.procedure;
        if !(1..=8760).contains(&p.dispute_window_hours) {
            return Err(Refusal::invalid(
                "body.procedure.dispute_window_hours must be 1..8760",
            ));
        }
        if p.appeals > 3 {
            return Err(Refusal::invalid("body.procedure.appeals must be 0..3"));
        }
        if p.allegation_expiry_days
            .is_some_and(|d| !(1..=3650).contains(&d))
        {
            return Err(Refusal::invalid(
                "body.procedure.allegation_expiry_days must be 1..3650",
            ));
        }
        for (i, a) in self.membership.countersign.iter().enumerate() {
            if self.membership.countersign[..i].contains(a) {
                return Err(Refusal::invalid(format!(
                    "body.membership.countersign[{i}]: `{}` is listed twice",
                    crate::ids::wire_name(a)
                )));
            }
        }
        self.fusion.check()?;
        let mut party_ids = BTreeSet::new();
        for p in &self.parties {
            check_party_id("body.parties[].id", &p.id)?;
            check_text("body.parties[].name", &p.name, 200)?;
            if !party_ids.insert(p.id.as_str()) {
                return Err(Refusal::invalid(format!(
                    "body.parties: party `{}` is listed twice",
                    p.id
                )));
            }
        }
        if let Some(w) = &self.witnesses {
            w.check(&party_ids)?;
        }
        let count = |r| self.parties.iter().filter(|p| p.role == r).count();
        if count(PartyRole::Party) < 2 || count(PartyRole::Mediator) < 1 {
            return Err(Refusal::invalid(
                "body.parties needs at least two parties with role `party` and one with role `mediator`",
            ));
        }
        let mut member_ids = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for m in &self.members {
            check_member_id("body.members[].id", &m.id)?;
            if !member_ids.insert(m.id.as_str()) {
                return Err(Refusal::invalid(format!(
                    "body.members: member `{}` is listed twice",
                    m.id
                )));
            }
            if !party_ids.contains(m.party.as_str()) {
                return Err(Refusal::invalid(format!(
                    "body.members: member `{}` belongs to unknown party `{}`",
                    m.id, m.party
                )));
            }
            let key = parse_public_key(
                &format!("body.members ({}).public_key", m.id),
                &m.public_key,
            )?;
            if !keys.insert(prime_component(&key)) {
                return Err(Refusal::invalid(format!(
                    "body.members: member `{}` reuses another member's key; every member has its own",
                    m.id
                )));
            }
            if let Some(k) = &m.encryption_key {
                parse_encryption_key(&format!("body.members ({}).encryption_key", m.id), k)?;
            }
            if let Some(n) = &m.name {
                check_text("body.members[].name", n, 200)?;
            }
        }
        for p in self
            .parties
            .iter()
            .filter(|p| p.role != PartyRole::Observer)
        {
            let has_admin = self
                .members
                .iter()
                .any(|m| m.party == p.id && m.role == MemberRole::Administrator);
            if !has_admin {
                return Err(Refusal::invalid(format!(
                    "body.members: party `{}` has no administrator to ratify the agreement",
                    p.id
                )));
            }
        }
        check_sha256_hex("body.zones.sha256", &self.zones.sha256)?;
        if let Some(pl) = &self.places {
            check_sha256_hex("body.places.sha256", &pl.sha256)?;
        }
        let mut rule_ids = BTreeSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            r.check(&format!("body.rules[{i}]"))?;
            if !rule_ids.insert(r.id.as_str()) {
                return Err(Refusal::invalid(format!(
                    "body.rules: rule `{}` is listed twice",
                    r.id
                )));
            }
            for p in &r.binds {
                if !party_ids.contains(p.as_str()) {
                    return Err(Refusal::invalid(format!(
                        "body.rules: rule `{}` binds unknown party `{p}`",
                        r.id
                    )));
                }
            }
        }
        for s in &self.sources {
            check_text("body.sources[]", s, 1000)?;
        }
        Ok(self)
    }

    /// Checks the zones document against the agreement: it must match the reference, pass
    /// [`truce_geo::parse_zones`] and have every zone a rule names.
    ///
    /// Pure and self-contained (the caller passes the document's bytes), so it can run at
    /// admission, in parallel, before an agreement entry is sequenced. Its cost is bounded:
    /// at most [`truce_geo::MAX_ZONES_DOCUMENT_VERTICES`] vertices
    /// ([`truce_geo::MAX_ZONE_VERTICES`] per zone), checked in O(n log n) time, well under a
    /// second at the limits. The document is content-addressed (`zones.sha256`), so a
    /// document checked once needs no second check for the same reference.
    pub fn check_zones(&self, zones_doc: &[u8]) -> Result<Vec<truce_geo::Zone>, Refusal> {
        check_blob("body.zones", &self.zones, zones_doc)?;
        let text = std::str::from_utf8(zones_doc)
            .map_err(|_| Refusal::invalid("zones document is not UTF-8"))?;
        let zones = truce_geo::parse_zones(text)
            .map_err(|e| Refusal::invalid(format!("zones document: {e}")))?;
        let ids: BTreeSet<&str> = zones.iter().map(|z| z.id.as_str()).collect();
        for r in &self.rules {
            for z in r
                .zones
                .iter()
                .chain(r.phases.iter().flat_map(|p| p.zones.iter()))
            {
                if !ids.contains(z.as_str()) {
                    return Err(Refusal::invalid(format!(
                        "rule `{}` names zone `{z}`, which is not in the zones document",
                        r.id
                    )));
                }
            }
        }
        Ok(zones)
    }

    pub fn party(&self, id: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.id == id)
    }
}

/// Checks that `data` is the blob `r` refers to.
pub fn check_blob(field: &str, r: &BlobRef, data: &[u8]) -> Result<(), Refusal> {
    let got = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
    if got != r.sha256 || data.len() as u64 != r.size {
        return Err(Refusal::invalid(format!(
            "{field}: the blob's SHA-256/size ({got}, {} bytes) do not match the reference ({}, {} bytes)",
            data.len(),
            r.sha256,
            r.size
        )));
    }
    Ok(())
}
