//! The derived state: everything the engine computes from the agreement and the log prefix.
//!
//! Every collection is ordered (`BTreeMap`, sorted `Vec`s), every time is a UTC timestamp, and
//! nothing depends on the wall clock, hashing order or the machine: serializing a `State` with
//! `serde_json` gives the same bytes for the same log everywhere. That encoding is what the
//! state commitment hashes (see [`crate::commitment`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use truce_model::agreement::{FusionParams, PartyRole, Procedure};
use truce_model::bodies::{
    Activity, Area, CaseAction, Conditions, CoverageMethod, ForceCategory, MemberRole, Response,
};
use truce_model::report::{Casualties, EventType};
use truce_model::rules::{Rule, RuleKind, Severity};
use truce_model::time::TimePrecision;

/// The format tag of the canonical state encoding.
pub const STATE_FORMAT: &str = "truce-state/1";

/// The derived state after `size` log entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// Entries applied: the state is that of the log prefix `0..size`.
    pub size: u64,
    /// The log clock: the latest `created` time among the applied entries. Deadlines fire on
    /// it, never on the wall clock.
    pub clock: Option<Timestamp>,
    /// The agreement version in force (before the first ratification completes: the logged
    /// agreement, not yet in force).
    pub agreement: Option<AgreementRec>,
    /// An amendment logged and awaiting ratification.
    pub pending_agreement: Option<AgreementRec>,
    /// Earlier versions, replaced by amendments, oldest first. Events and posture are judged
    /// under the version whose effective time is the latest not after them.
    pub superseded: Vec<AgreementRec>,
    /// Members, as declared in the agreement and changed by membership entries.
    pub members: BTreeMap<String, MemberRec>,
    /// Reports by log index, as fusion reads them. Boxed, as are events and findings: a
    /// B-tree node holds eleven slots and is often half full, so slots of a pointer rather
    /// than of a few hundred bytes keep a million of them a third smaller.
    pub reports: BTreeMap<u64, Box<ReportRec>>,
    /// Events by id (`e<index of the report that started it>`).
    pub events: BTreeMap<String, Box<Event>>,
    /// Confirmations and denials of reports, by log index.
    pub sightings: BTreeMap<u64, SightingRec>,
    /// Merges and splits of events, in the order fusion made them.
    pub fusion_log: Vec<FusionStep>,
    /// Monitoring coverage entries by log index.
    pub coverage: BTreeMap<u64, CoverageRec>,
    /// Findings by id.
    pub findings: BTreeMap<String, Box<Finding>>,
    /// Obligations with a due time (withdrawals, civilian cases) by id.
    pub deadlines: BTreeMap<String, Deadline>,
    /// Dispute entries by log index.
    pub disputes: BTreeMap<u64, DisputeRec>,
    /// Ruling entries by log index.
    pub rulings: BTreeMap<u64, RulingRec>,
    /// The latest posture per `party/zone/type`.
    pub posture: BTreeMap<String, PostureRec>,
    /// Notices by log index.
    pub notices: BTreeMap<u64, NoticeRec>,
    /// Civilian detention and abduction cases by the log index of their report.
    pub cases: BTreeMap<u64, CaseRec>,
    /// Entries with sealed (need-to-know) content, by log index: the members it is sealed to.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sealed: BTreeMap<u64, Vec<String>>,
    /// Suspensions and resumptions of participation, per party, in log order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub participation: BTreeMap<String, Vec<ParticipationRec>>,
    /// "No significant incidents" attestations by period (`<start>/<end>`).
    pub attestations: BTreeMap<String, AttestationRec>,
    /// Admitted entries the engine could not give effect to, with the reason (for example a
    /// dispute of a finding that does not exist, or a ruling inside the dispute window).
    pub ignored: BTreeMap<u64, String>,
}

/// A coverage entry as the engine keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageRec {
    pub party: String,
    pub method: CoverageMethod,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The GeoJSON geometry as submitted (checked at admission).
    pub observed: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_m: Option<u32>,
}

impl State {
    /// The version under which something that happened at `t` is judged: of the versions in
    /// force (superseded and current), the one with the latest effective time not after `t`
    /// (the earliest version for times before all of them).
    pub fn version_at(&self, t: Timestamp) -> Option<&AgreementRec> {
        let all = self.superseded.iter().chain(self.agreement.iter());
        let first = all.clone().next();
        all.filter(|a| a.effective <= t)
            .max_by(|a, b| {
                a.effective
                    .cmp(&b.effective)
                    .then(a.version.cmp(&b.version))
            })
            .or(first)
    }

    /// A rule by id, from the current version or else the latest superseded one that has it.
    pub fn rule_any(&self, id: &str) -> Option<&Rule> {
        self.agreement
            .iter()
            .chain(self.superseded.iter().rev())
            .find_map(|a| a.rule(id))
    }
}

impl Default for State {
    fn default() -> Self {
        State {
            format: STATE_FORMAT.to_owned(),
            size: 0,
            clock: None,
            agreement: None,
            pending_agreement: None,
            superseded: Vec::new(),
            members: BTreeMap::new(),
            reports: BTreeMap::new(),
            events: BTreeMap::new(),
            sightings: BTreeMap::new(),
            fusion_log: Vec::new(),
            coverage: BTreeMap::new(),
            findings: BTreeMap::new(),
            deadlines: BTreeMap::new(),
            disputes: BTreeMap::new(),
            rulings: BTreeMap::new(),
            posture: BTreeMap::new(),
            notices: BTreeMap::new(),
            cases: BTreeMap::new(),
            sealed: BTreeMap::new(),
            participation: BTreeMap::new(),
            attestations: BTreeMap::new(),
            ignored: BTreeMap::new(),
        }
    }
}

/// The agreement in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementRec {
    pub index: u64,
    pub version: u32,
    pub title: String,
    pub effective: Timestamp,
    pub parties: BTreeMap<String, PartyRole>,
    pub rules: Vec<Rule>,
    pub procedure: Procedure,
    pub fusion: FusionParams,
    /// SHA-256 (hex) of the zones document.
    pub zones_sha256: String,
    /// Interpretation layers present in the zones document.
    pub layers: BTreeSet<String>,
    pub ratified: BTreeSet<String>,
    /// Log index and log time at which the last ratification put it in force.
    pub in_force_since: Option<(u64, Timestamp)>,
}

impl AgreementRec {
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn party_role(&self, party: &str) -> Option<PartyRole> {
        self.parties.get(party).copied()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRec {
    pub party: String,
    pub role: MemberRole,
}

/// How well an event is supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corroboration {
    /// Denied by a party (in a sighting) and not verified by the mediator or an observer.
    Contradicted,
    /// One report.
    SingleSource,
    /// Several reports, all from one party.
    OneParty,
    /// Reports from more than one party.
    CrossParty,
    /// Reported or confirmed by the mediator or an observer.
    Verified,
}

/// How an uncertainty circle relates to a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// The circle intersects the zone but is not inside it.
    Possible,
    /// The whole circle is inside the zone (or the rule applies everywhere).
    Certain,
}

/// A zone an event's uncertainty circle touches, in one interpretation layer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneHit {
    pub zone: Name,
    pub layer: Name,
    pub certainty: Certainty,
}

/// A name many records repeat (a zone's id, a layer's): shared, not copied into each. It
/// serializes as the string, and compares and orders as the string does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(std::sync::Arc<str>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(s.into())
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Name::from(String::deserialize(d)?.as_str()))
    }
}

/// A set of parties, as a sorted vector without duplicates. It serializes as the JSON array of
/// a `BTreeSet<String>` (sorted, each once) and reads any array; a vector rather than a B-tree
/// because an event has one or two parties, and a B-tree node of names costs near 300 bytes
/// however few it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Parties(Vec<String>);

impl Parties {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn contains(&self, party: &str) -> bool {
        self.0.binary_search_by(|p| p.as_str().cmp(party)).is_ok()
    }

    /// Adds a party; false if it was there already.
    pub fn insert(&mut self, party: String) -> bool {
        match self.0.binary_search(&party) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, party);
                true
            }
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<String> for Parties {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        let mut v: Vec<String> = iter.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        Parties(v)
    }
}

impl Extend<String> for Parties {
    fn extend<I: IntoIterator<Item = String>>(&mut self, iter: I) {
        for p in iter {
            self.insert(p);
        }
    }
}

impl IntoIterator for Parties {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Parties {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'de> Deserialize<'de> for Parties {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<String>::deserialize(d)?.into_iter().collect())
    }
}

/// One incident, as the reports on it describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: String,
    /// Log indices of the reports it rests on, ascending.
    pub reports: Vec<u64>,
    /// Parties whose members reported it.
    pub reporters: Parties,
    /// Parties that confirmed one of its reports in a sighting, and that denied one.
    pub confirmed_by: Parties,
    pub denied_by: Parties,
    /// Absorbed into another event by a merge: its reports are there now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    pub event_type: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_event_type: Option<String>,
    /// The window the incident happened in (a point widened by its precision).
    pub start: Timestamp,
    pub end: Timestamp,
    pub time_precision: TimePrecision,
    /// `[longitude, latitude]`.
    pub point: [f64; 2],
    pub precision_m: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    pub perpetrator: String,
    /// Share (percent) of the graded weight of the attributing reports that names the
    /// perpetrator.
    pub attribution_support: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub casualties: Casualties,
    pub corroboration: Corroboration,
    /// Zones touched by the uncertainty circle, per layer.
    pub zones: Vec<ZoneHit>,
    /// Log time when the event was first recorded.
    pub logged: Timestamp,
}

/// Where a finding is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Rests on one party's word.
    Alleged,
    /// Supported across parties, by the mediator or an observer, or admitted by the
    /// responsible party.
    Corroborated,
    /// The responsible party contests it; awaiting a ruling.
    Disputed,
    /// The mediator ruled the violation happened.
    Upheld,
    /// The mediator ruled it did not.
    Dismissed,
    /// Alleged, never corroborated nor disputed, past the agreement's expiry.
    Expired,
    /// A deadline passed with the obligation unmet.
    Missed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Alleged,
        Status::Corroborated,
        Status::Disputed,
        Status::Upheld,
        Status::Dismissed,
        Status::Expired,
        Status::Missed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Alleged => "alleged",
            Status::Corroborated => "corroborated",
            Status::Disputed => "disputed",
            Status::Upheld => "upheld",
            Status::Dismissed => "dismissed",
            Status::Expired => "expired",
            Status::Missed => "missed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Subject {
    Event { event: String },
    Posture { entry: u64 },
    Deadline { deadline: String },
}

/// One step of a finding's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub status: Status,
    /// The log index of the entry that caused it.
    pub index: u64,
    /// Log time.
    pub at: Timestamp,
    pub reason: String,
}

/// A rule found violated (or possibly violated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub id: String,
    pub rule: String,
    pub rule_kind: RuleKind,
    pub severity: Severity,
    /// The party held responsible (as attributed by the evidence).
    pub party: String,
    pub subject: Subject,
    /// The interpretation layer under which it holds (`None`: independent of geometry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    pub certainty: Certainty,
    /// Log indices of the entries it rests on, ascending.
    pub evidence: Vec<u64>,
    pub summary: String,
    pub status: Status,
    /// When the violation occurred (event window, posture time, or due time).
    pub occurred: Timestamp,
    /// Log time at which the finding was made.
    pub made: Timestamp,
    /// Until when (log time) the finding, or the last ruling on it, may be disputed.
    pub dispute_until: Timestamp,
    /// Appeals used so far.
    pub appeals: u32,
    pub history: Vec<Transition>,
    /// Why the finding no longer stands on its event (merged into another, or fused so that
    /// the rule no longer applies). Findings already disputed, ruled or missed keep their
    /// status and only gain this note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded: Option<String>,
    /// Evidence entries with sealed (need-to-know) parts: members outside their recipients
    /// see that the finding rests on content they cannot read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sealed_evidence: Vec<u64>,
}

/// The state of an obligation with a due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineStatus {
    Pending,
    Met,
    Missed,
    /// The rule stopped being effective before the due time.
    Lapsed,
}

/// What an obligation requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Obligation {
    /// No forces of the party in the zones by the due time.
    Withdrawal {
        zones: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<usize>,
        inspection_required: bool,
    },
    /// The detaining party answers (acknowledges or denies) the case.
    CaseAnswer { case: u64 },
    /// The case is resolved (release or transfer).
    CaseResolution { case: u64 },
    /// The addressee answers the notice (acknowledges, with or without conditions, or objects).
    NoticeAnswer { notice: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub id: String,
    /// The rule that sets it (empty for answers to notices, which the mechanism itself sets).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rule: String,
    pub party: String,
    pub due: Timestamp,
    pub obligation: Obligation,
    pub status: DeadlineStatus,
    /// The entry that met it, or the evidence that it was missed.
    pub evidence: Vec<u64>,
    /// On what the outcome rests, once decided (for a withdrawal met without any posture:
    /// whether the zones were observed or not observable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// For answers to notices: the log index of the entry at which the due time was found
    /// passed (the first entry stamped after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeRec {
    pub finding: String,
    pub party: String,
    pub author: String,
    pub reasons: String,
    pub evidence: Vec<String>,
    pub filed: Timestamp,
    /// Whether it appeals a ruling.
    pub appeal: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruling: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulingRec {
    pub finding: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute: Option<u64>,
    pub rule: String,
    pub decision: Status,
    pub reasons: String,
    pub author: String,
    pub at: Timestamp,
}

/// The latest posture entry for one party, zone and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostureRec {
    pub index: u64,
    pub as_of: Timestamp,
    pub forces: BTreeMap<ForceCategory, u32>,
}

impl PostureRec {
    pub fn total(&self) -> u64 {
        self.forces.values().map(|&n| u64::from(n)).sum()
    }
}

/// A notice and the answers to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeRec {
    pub party: String,
    pub activity: Activity,
    pub area: Area,
    pub start: Timestamp,
    pub end: Timestamp,
    /// When the activity was first notified (the first notice of an amendment chain).
    pub notified: Timestamp,
    pub addressees: Vec<String>,
    pub withdrawn: bool,
    /// The entry that withdrew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<u64>,
    /// The latest answer of each addressee: (log index, response). A receipt (`received`)
    /// never replaces an answer.
    pub answers: BTreeMap<String, (u64, Response)>,
    /// Every answer in log order: (log index, party, response).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answer_log: Vec<(u64, String, Response)>,
    /// Conditions of the addressees that acknowledged with conditions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, Conditions>,
    /// Answers are due by then (the start of the window, or the filing time if it started).
    pub answer_due: Timestamp,
    /// The mediator's escalations (log indices).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalations: Vec<u64>,
    /// Where each addressee stands.
    pub addressee_status: BTreeMap<String, AnswerStatus>,
    /// The notice as a whole.
    pub status: NoticeStatus,
}

/// Where one addressee of a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStatus {
    /// Logged, so delivered to the addressee through the log; no receipt or answer yet.
    Filed,
    /// The addressee signed a receipt.
    Delivered,
    Acknowledged,
    Conditioned,
    Objected,
    /// No answer by the due time (an answer may still come late).
    Expired,
}

/// A notice as a whole: withdrawn or amended, else the least settled addressee decides
/// (objected, then expired, then awaiting, then conditioned, then acknowledged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    Filed,
    Delivered,
    Acknowledged,
    Conditioned,
    Objected,
    Expired,
    Withdrawn,
    /// Replaced by an amendment (see `replaced_by`).
    Amended,
}

impl NoticeRec {
    /// In effect: neither withdrawn nor replaced by an amendment.
    pub fn current(&self) -> bool {
        !self.withdrawn && self.replaced_by.is_none()
    }

    /// Recomputes `status` from the addressees' standing.
    pub fn settle(&mut self) {
        use AnswerStatus as A;
        let all = |f: &dyn Fn(A) -> bool| self.addressee_status.values().all(|s| f(*s));
        let any = |f: &dyn Fn(A) -> bool| self.addressee_status.values().any(|s| f(*s));
        self.status = if self.withdrawn {
            NoticeStatus::Withdrawn
        } else if self.replaced_by.is_some() {
            NoticeStatus::Amended
        } else if any(&|s| s == A::Objected) {
            NoticeStatus::Objected
        } else if any(&|s| s == A::Expired) {
            NoticeStatus::Expired
        } else if all(&|s| s == A::Filed) {
            NoticeStatus::Filed
        } else if any(&|s| matches!(s, A::Filed | A::Delivered)) {
            NoticeStatus::Delivered
        } else if any(&|s| s == A::Conditioned) {
            NoticeStatus::Conditioned
        } else {
            NoticeStatus::Acknowledged
        };
    }

    /// The scope an addressee gave the green light to: (area, start, end, force caps), or
    /// `None` if it has not acknowledged.
    pub fn acknowledged_scope(
        &self,
        party: &str,
    ) -> Option<(
        &Area,
        Timestamp,
        Timestamp,
        &[truce_model::bodies::ForceCount],
    )> {
        match self.answers.get(party) {
            Some((_, Response::Acknowledge)) => Some((&self.area, self.start, self.end, &[])),
            Some((_, Response::AcknowledgeWithConditions)) => {
                let c = self.conditions.get(party)?;
                let (start, end) = match &c.window {
                    Some(w) => crate::widen(w),
                    None => (self.start, self.end),
                };
                Some((
                    c.area.as_ref().unwrap_or(&self.area),
                    start,
                    end,
                    &c.force_caps,
                ))
            }
            _ => None,
        }
    }
}

/// A party suspended or resumed its participation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipationRec {
    pub index: u64,
    pub action: truce_model::bodies::ParticipationAction,
    /// Log time.
    pub at: Timestamp,
    pub reason: String,
}

impl State {
    /// Whether a party's participation is suspended now.
    pub fn suspended(&self, party: &str) -> bool {
        self.participation
            .get(party)
            .and_then(|v| v.last())
            .is_some_and(|r| r.action == truce_model::bodies::ParticipationAction::Suspend)
    }
}

/// Attestations of calm for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationRec {
    pub start: Timestamp,
    pub end: Timestamp,
    /// Party → log index of its attestation.
    pub signers: BTreeMap<String, u64>,
    /// Every party (role `party`) has attested the period.
    pub cosigned: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Reported,
    Acknowledged,
    Denied,
    LocationDisclosed,
    AccessGranted,
    Released,
    Transferred,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRec {
    pub reported_by: String,
    pub detaining_party: String,
    pub commitment: String,
    pub reported: Timestamp,
    pub status: CaseStatus,
    pub steps: Vec<(u64, CaseAction)>,
    /// Members the personal record is sealed to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
}

/// A report as fusion uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRec {
    pub party: String,
    pub event_type: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_event_type: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub time_precision: TimePrecision,
    pub point: [f64; 2],
    pub precision_m: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    pub perpetrator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub casualties: Casualties,
    /// The notice the reporter ties the activity to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<u64>,
    /// Admiralty grade as a weight in thousandths (reliability × credibility).
    pub weight: u32,
    pub logged: Timestamp,
    /// The event it is part of now.
    pub event: String,
}

/// A confirmation or denial of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SightingRec {
    pub report: u64,
    pub party: String,
    pub stance: truce_model::bodies::Stance,
}

/// A merge or split of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FusionStep {
    /// The entry whose arrival caused it.
    pub index: u64,
    /// `merge` or `split`.
    pub action: String,
    /// For a merge: the surviving event, then the absorbed one. For a split: the event split,
    /// then the new one.
    pub events: Vec<String>,
    pub reason: String,
}
