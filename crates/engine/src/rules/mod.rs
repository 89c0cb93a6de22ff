//! Rule evaluation: events, posture and deadlines checked against the agreement's rules.
//!
//! Every function here is pure: it reads the state and returns [`Draft`] findings; the
//! lifecycle records them. How each rule kind is read:
//!
//! - `prohibited_event`: an event of a listed type attributed to a bound party, in the rule's
//!   zones (or anywhere when it lists none), while the rule is effective.
//! - `no_presence`: an event showing forces on the ground ([`PRESENCE_TYPES`]) attributed to a
//!   bound party in the zones, or a posture entry (declared or inspected) counting forces of a
//!   bound party there.
//! - `force_limit`: the latest declared and the latest inspected counts of a bound party,
//!   summed over the rule's zones, against the limits; an inspection that counts more than the
//!   party declared for a zone is itself a finding (under the first `force_limit` rule, in
//!   agreement order, that binds the party and lists the zone).
//! - `withdrawal`: at each due time (the deadline, and each phase's), the latest posture of the
//!   party in the zones must count no forces (for phases that require it: a mediator or
//!   observer inspection must show none); after the deadline, presence events and posture in
//!   the zones are findings.
//! - `notification_required`: an event whose type implies a listed activity
//!   ([`activity_of`]) by a bound party in the zones, without a current notice by that party of
//!   that activity covering the place and time, notified at least the lead time before.
//! - `protected_notice`: an event of a listed type attributed to a bound party, inside the
//!   scope (area and window, as narrowed by its conditions) that the attributed party
//!   acknowledged of another party's current notice.
//! - `notice_scope`: an event whose type implies a listed activity by a bound party, under one
//!   of its own current notices of that activity (a report ties it to the notice, or it lies in
//!   the notice's area and window), outside the area or window an addressee acknowledged; and
//!   posture of the party, during the window, above the force caps an addressee set for the
//!   acknowledged area's zones. One finding per notice and acknowledging addressee. An
//!   objection is not a scope: activity after an objection is on record in the notice, not a
//!   finding of this rule.
//! - `civilian_protection`: a case reported against a bound party opens two deadlines: an
//!   answer (acknowledge or deny) within `acknowledge_within_hours`, a resolution (release or
//!   transfer) within `resolve_within_days`.
//!
//! Each kind lives in its own file (`rules/<kind>.rs`) and implements the `Hooks` it
//! uses; `hooks` dispatches by kind, exhaustively, so a new kind does not compile until it
//! has a file.
//!
//! Zones are checked under every interpretation layer that has a version of them; a finding
//! records its layer and whether the event's uncertainty circle lies certainly or possibly in
//! the zone.

use crate::state::{AgreementRec, Certainty, Deadline, Event, PostureRec, State, Subject};
use crate::{Geography, parse};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use truce_model::bodies::{Activity, Area, ForceCategory, Posture, PostureType};
use truce_model::ids::wire_name;
use truce_model::report::EventType;
use truce_model::rules::{Rule, RuleKind, Severity, Spec};

mod civilian_protection;
mod force_limit;
mod no_presence;
mod notice_scope;
mod notification_required;
mod prohibited_event;
mod protected_notice;
mod withdrawal;

pub use force_limit::exceedances;
pub use withdrawal::withdrawal_outcome;

/// What a rule kind does, hook by hook. Each kind's file implements the hooks it uses; the
/// others do nothing.
trait Hooks {
    /// Findings an event gives rise to under the rule (the event's perpetrator is bound by it
    /// and the rule is effective at the event's time).
    fn on_event(&self, _cx: &EventCx<'_>, _out: &mut Vec<Draft>) {}
    /// Findings a posture entry gives rise to under the rule, for one bound party it counts.
    fn on_posture(&self, _cx: &mut PostureCx<'_>, _out: &mut Vec<Draft>) {}
    /// Deadlines the rule sets for its bound parties when it comes into force.
    fn in_force_deadlines(&self, _cx: &ForceCx<'_>, _out: &mut Vec<Deadline>) {}
    /// Deadlines a newly reported case opens against a bound party.
    fn case_deadlines(&self, _cx: &CaseCx<'_>, _out: &mut Vec<Deadline>) {}
}

/// The hooks of a rule's kind. The match is exhaustive: a new kind needs its file here.
fn hooks<'a>(spec: &'a Spec<'a>) -> &'a dyn Hooks {
    match spec {
        Spec::ProhibitedEvent(s) => s,
        Spec::NoPresence(s) => s,
        Spec::ForceLimit(s) => s,
        Spec::Withdrawal(s) => s,
        Spec::NotificationRequired(s) => s,
        Spec::ProtectedNotice(s) => s,
        Spec::NoticeScope(s) => s,
        Spec::CivilianProtection(s) => s,
    }
}

/// The rules of an agreement with their typed specs, in agreement order. A rule whose spec
/// does not type is skipped: admission refuses such an agreement, so none is in a log.
fn typed(a: &AgreementRec) -> impl Iterator<Item = (&Rule, Spec<'_>)> {
    a.rules.iter().filter_map(|r| r.spec().ok().map(|s| (r, s)))
}

/// A finding as a rule produces it, before the lifecycle records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub id: String,
    pub rule: String,
    pub rule_kind: RuleKind,
    pub severity: Severity,
    pub party: String,
    pub subject: Subject,
    pub layer: Option<String>,
    pub certainty: Certainty,
    pub evidence: Vec<u64>,
    pub summary: String,
    pub occurred: Timestamp,
    /// Corroborated from the start (or on this update).
    pub corroborated: bool,
    /// For deadlines: made as `missed`.
    pub missed: bool,
}

impl Draft {
    fn new(rule: &Rule, id: String, party: &str, subject: Subject, occurred: Timestamp) -> Self {
        Draft {
            id,
            rule: rule.id.clone(),
            rule_kind: rule.kind,
            severity: rule.severity,
            party: party.to_owned(),
            subject,
            layer: None,
            certainty: Certainty::Certain,
            evidence: vec![],
            summary: String::new(),
            occurred,
            corroborated: false,
            missed: false,
        }
    }

    /// A finding about posture entry `index`, resting on it, corroborated (a posture entry is
    /// its author's own statement, or an inspection).
    fn posture(rule: &Rule, id: String, party: &str, index: u64, as_of: Timestamp) -> Self {
        let mut d = Draft::new(rule, id, party, Subject::Posture { entry: index }, as_of);
        d.corroborated = true;
        d.evidence = vec![index];
        d
    }

    /// Adds a notice (and the answer of `by` to it, if any) to the evidence.
    fn cite_notice(&mut self, n_index: u64, n: &crate::state::NoticeRec, by: &str) {
        self.evidence.push(n_index);
        if let Some((ack, _)) = n.answers.get(by) {
            self.evidence.push(*ack);
        }
        self.evidence.sort_unstable();
        self.evidence.dedup();
    }
}

/// An event, and the rule it is checked against.
struct EventCx<'a> {
    rule: &'a Rule,
    state: &'a State,
    geo: Option<&'a Geography>,
    ev: &'a Event,
    /// The party the event is attributed to (bound by the rule).
    perp: &'a str,
    corroborated: bool,
}

impl EventCx<'_> {
    /// A finding about the event.
    fn draft(&self, layer: Option<String>, c: Certainty, summary: String, id: String) -> Draft {
        let mut d = Draft::new(
            self.rule,
            id,
            self.perp,
            Subject::Event {
                event: self.ev.id.clone(),
            },
            self.ev.start,
        );
        d.layer = layer;
        d.certainty = c;
        d.evidence = self.ev.reports.clone();
        d.summary = summary;
        d.corroborated = self.corroborated;
        d
    }

    /// One finding per layer in which the event lies in `zones`, the summary made by `say`
    /// from the event's description.
    fn in_zones(&self, zones: &[String], out: &mut Vec<Draft>, say: impl Fn(String) -> String) {
        for (layer, c) in placements(zones, self.ev) {
            let s = say(describe_event(self.ev, &layer, c, zones));
            let id = event_id(self.rule, self.ev, &layer);
            out.push(self.draft(layer, c, s, id));
        }
    }
}

/// A posture entry, one bound party it counts, and the rule it is checked against.
struct PostureCx<'a> {
    rule: &'a Rule,
    state: &'a State,
    /// The posture table before the entry.
    before: &'a BTreeMap<String, PostureRec>,
    index: u64,
    p: &'a Posture,
    as_of: Timestamp,
    /// `declaration` or `inspection`.
    kind: &'static str,
    party: &'a str,
    /// The finding's defaults: id `<rule>/p<index>/<party>`, evidence the entry.
    draft: Draft,
    /// (party, zone) pairs already checked for an inspection/declaration mismatch.
    mismatch_done: &'a mut BTreeSet<(String, String)>,
}

impl PostureCx<'_> {
    /// The zones among `zones` where the entry counts forces of the party, with the count.
    fn present(&self, zones: &[String]) -> Vec<(String, u64)> {
        self.p
            .zones
            .iter()
            .filter(|z| z.party == self.party && zones.contains(&z.zone))
            .map(|z| {
                (
                    z.zone.clone(),
                    z.forces.iter().map(|f| u64::from(f.count)).sum(),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The entry's counts of the party's forces by category, in the zones `keep` selects.
    fn counts(&self, keep: impl Fn(&str) -> bool) -> BTreeMap<ForceCategory, u64> {
        let mut seen = BTreeMap::new();
        for z in self
            .p
            .zones
            .iter()
            .filter(|z| z.party == self.party && keep(&z.zone))
        {
            for f in &z.forces {
                *seen.entry(f.category).or_insert(0) += u64::from(f.count);
            }
        }
        seen
    }
}

impl PostureCx<'_> {
    /// The finding that the entry counts forces of the party in `found`; `what` goes between
    /// "forces" and the time (`""`, `" after the deadline,"`).
    fn forces_found(&self, found: &[(String, u64)], what: &str) -> Draft {
        let mut d = self.draft.clone();
        d.summary = format!(
            "{}: {} of {} forces{what} as of {}: {}",
            self.rule.title,
            self.kind,
            self.party,
            self.as_of,
            list(found)
        );
        d
    }
}

/// "3 in zone-a, 1 in zone-b".
fn list(v: &[(String, u64)]) -> String {
    v.iter()
        .map(|(z, n)| format!("{n} in {z}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A rule coming into force.
struct ForceCx<'a> {
    rule: &'a Rule,
    /// Put after the rule id in deadline ids (empty: nothing).
    suffix: &'a str,
}

/// A newly reported case.
struct CaseCx<'a> {
    rule: &'a Rule,
    case: u64,
    detaining: &'a str,
    reported: Timestamp,
}

/// Event types that show forces on the ground.
pub const PRESENCE_TYPES: [EventType; 8] = [
    EventType::Battles,
    EventType::Incursion,
    EventType::TroopMovement,
    EventType::Fortification,
    EventType::Checkpoint,
    EventType::DetentionAbduction,
    EventType::AccessDenial,
    EventType::InterferenceWithMonitors,
];

/// The notifiable activity an event type implies, if any.
pub fn activity_of(t: EventType) -> Option<Activity> {
    match t {
        EventType::TroopMovement => Some(Activity::TroopMovement),
        EventType::Battles
        | EventType::Incursion
        | EventType::Checkpoint
        | EventType::DetentionAbduction => Some(Activity::SecurityOperation),
        EventType::Overflight => Some(Activity::Flight),
        _ => None,
    }
}

/// Whether the rule (and the agreement) is effective at some time in `start..=end`.
pub fn effective(a: &AgreementRec, rule: &Rule, start: Timestamp, end: Timestamp) -> bool {
    let from = parse(&rule.effective.from).map_or(a.effective, |f| f.max(a.effective));
    let until = rule.effective.until.as_deref().and_then(parse);
    end >= from && until.is_none_or(|u| start < u)
}

/// Where an event stands with respect to a rule's zones: one placement per layer with a
/// version of any of them that the event's circle touches; `(None, Certain)` for a rule
/// without zones.
fn placements(zones: &[String], ev: &Event) -> Vec<(Option<String>, Certainty)> {
    if zones.is_empty() {
        return vec![(None, Certainty::Certain)];
    }
    let mut by_layer: BTreeMap<&str, Certainty> = BTreeMap::new();
    for h in &ev.zones {
        if zones.iter().any(|z| h.zone == *z) {
            let c = by_layer.entry(h.layer.as_str()).or_insert(h.certainty);
            *c = (*c).max(h.certainty);
        }
    }
    by_layer
        .into_iter()
        .map(|(l, c)| (Some(l.to_owned()), c))
        .collect()
}

fn event_id(rule: &Rule, ev: &Event, layer: &Option<String>) -> String {
    match layer {
        Some(l) => format!("{}/{}/{l}", rule.id, ev.id),
        None => format!("{}/{}", rule.id, ev.id),
    }
}

fn describe_event(ev: &Event, layer: &Option<String>, c: Certainty, zones: &[String]) -> String {
    let place = ev
        .place
        .as_deref()
        .map(|p| format!(" near {p}"))
        .unwrap_or_default();
    let inside: Vec<&str> = ev
        .zones
        .iter()
        .filter(|h| zones.iter().any(|z| h.zone == *z) && layer.as_deref() == Some(&*h.layer))
        .map(|h| h.zone.as_str())
        .collect();
    let where_ = match layer {
        None => String::new(),
        Some(l) => format!(
            "; {} in {} (layer {l})",
            if c == Certainty::Certain {
                "certainly"
            } else {
                "possibly"
            },
            inside.join(", ")
        ),
    };
    format!(
        "{} attributed to {}{place} at [{:.5}, {:.5}] ±{} m, {}{where_}",
        wire_name(&ev.event_type),
        ev.perpetrator,
        ev.point[0],
        ev.point[1],
        ev.precision_m,
        ev.start,
    )
}

/// The findings an event gives rise to.
pub fn evaluate_event(
    a: &AgreementRec,
    state: &State,
    geo: Option<&Geography>,
    ev: &Event,
) -> Vec<Draft> {
    let mut out = Vec::new();
    if a.in_force_since.is_none() {
        return out;
    }
    let perp = ev.perpetrator.as_str();
    let corroborated =
        ev.corroboration >= crate::state::Corroboration::CrossParty || ev.reporters.contains(perp);
    for (rule, spec) in typed(a) {
        if !rule.binds.iter().any(|b| b == perp) || !effective(a, rule, ev.start, ev.end) {
            continue;
        }
        let cx = EventCx {
            rule,
            state,
            geo,
            ev,
            perp,
            corroborated,
        };
        hooks(&spec).on_event(&cx, &mut out);
    }
    out
}

/// Whether a notice's area covers an event: `Certain` when a zone it names certainly holds the
/// event (or its geometry contains the point), `Possible` when one possibly does.
fn covers(area: &Area, ev: &Event, _geo: Option<&Geography>) -> Option<Certainty> {
    let mut best: Option<Certainty> = None;
    for h in &ev.zones {
        if area.zones.iter().any(|z| h.zone == *z) {
            best = best.max(Some(h.certainty));
        }
    }
    if let Some(g) = &area.geometry
        && let Ok(geom) = truce_geo::parse_geometry(g)
    {
        use geo::Contains;
        if geom.contains(&geo::Point::new(ev.point[0], ev.point[1])) {
            best = Some(Certainty::Certain);
        }
    }
    best
}

/// The findings a posture entry gives rise to. `before` is the posture table before it.
pub fn evaluate_posture(
    a: &AgreementRec,
    state: &State,
    before: &BTreeMap<String, PostureRec>,
    index: u64,
    p: &Posture,
    as_of: Timestamp,
) -> Vec<Draft> {
    let mut out = Vec::new();
    if a.in_force_since.is_none() {
        return out;
    }
    let kind = match p.posture_type {
        PostureType::Declaration => "declaration",
        PostureType::Inspection => "inspection",
    };
    let parties: BTreeSet<&str> = p.zones.iter().map(|z| z.party.as_str()).collect();
    let mut mismatch_done: BTreeSet<(String, String)> = BTreeSet::new();
    for (rule, spec) in typed(a) {
        if !effective(a, rule, as_of, as_of) {
            continue;
        }
        for party in parties
            .iter()
            .copied()
            .filter(|p| rule.binds.iter().any(|b| b == p))
        {
            let draft = Draft::posture(
                rule,
                format!("{}/p{index}/{party}", rule.id),
                party,
                index,
                as_of,
            );
            let mut cx = PostureCx {
                rule,
                state,
                before,
                index,
                p,
                as_of,
                kind,
                party,
                draft,
                mismatch_done: &mut mismatch_done,
            };
            hooks(&spec).on_posture(&mut cx, &mut out);
        }
    }
    out
}

/// The deadlines the rules of `a` that `include` selects set when they come into force;
/// `suffix`, when not empty, goes after the rule id in the deadlines' ids.
pub fn in_force_deadlines(
    a: &AgreementRec,
    include: impl Fn(&str) -> bool,
    suffix: &str,
) -> Vec<Deadline> {
    let mut out = Vec::new();
    for (rule, spec) in typed(a).filter(|(r, _)| include(&r.id)) {
        hooks(&spec).in_force_deadlines(&ForceCx { rule, suffix }, &mut out);
    }
    out
}

/// The deadlines a new case opens under the agreement's rules that bind the detaining party.
pub fn case_deadlines(
    a: Option<&AgreementRec>,
    case: u64,
    detaining: &str,
    reported: Timestamp,
) -> Vec<Deadline> {
    let Some(a) = a else {
        return vec![];
    };
    let mut out = Vec::new();
    for (rule, spec) in typed(a) {
        if !rule.binds.iter().any(|b| b == detaining) || !effective(a, rule, reported, reported) {
            continue;
        }
        let cx = CaseCx {
            rule,
            case,
            detaining,
            reported,
        };
        hooks(&spec).case_deadlines(&cx, &mut out);
    }
    out
}
