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
//! Zones are checked under every interpretation layer that has a version of them; a finding
//! records its layer and whether the event's uncertainty circle lies certainly or possibly in
//! the zone.

use crate::state::{
    AgreementRec, Certainty, Deadline, DeadlineStatus, Event, Obligation, PostureRec, State,
    Subject,
};
use crate::{Geography, days_, hours, parse};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use truce_model::bodies::{Activity, Area, ForceCategory, Posture, PostureType};
use truce_model::ids::wire_name;
use truce_model::report::EventType;
use truce_model::rules::{ForceLimits, Rule, RuleKind, Severity};

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
fn placements(rule: &Rule, zones: &[String], ev: &Event) -> Vec<(Option<String>, Certainty)> {
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
    let _ = rule;
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
    for rule in &a.rules {
        if !rule.binds.iter().any(|b| b == perp) || !effective(a, rule, ev.start, ev.end) {
            continue;
        }
        let mk = |layer: Option<String>, c: Certainty, summary: String, id: String| {
            let mut d = Draft::new(
                rule,
                id,
                perp,
                Subject::Event {
                    event: ev.id.clone(),
                },
                ev.start,
            );
            d.layer = layer;
            d.certainty = c;
            d.evidence = ev.reports.clone();
            d.summary = summary;
            d.corroborated = corroborated;
            d
        };
        match rule.kind {
            RuleKind::ProhibitedEvent | RuleKind::NoPresence => {
                let applies = if rule.kind == RuleKind::ProhibitedEvent {
                    rule.event_types.contains(&ev.event_type)
                } else {
                    PRESENCE_TYPES.contains(&ev.event_type)
                };
                if applies {
                    for (layer, c) in placements(rule, &rule.zones, ev) {
                        let s = format!(
                            "{}: {}",
                            rule.title,
                            describe_event(ev, &layer, c, &rule.zones)
                        );
                        let id = event_id(rule, ev, &layer);
                        out.push(mk(layer, c, s, id));
                    }
                }
            }
            RuleKind::Withdrawal => {
                if !PRESENCE_TYPES.contains(&ev.event_type) {
                    continue;
                }
                // After the deadline: the rule's zones; after a phase's: that phase's zones.
                let mut zones: BTreeSet<String> = BTreeSet::new();
                if rule
                    .deadline
                    .as_deref()
                    .and_then(parse)
                    .is_some_and(|d| ev.start >= d)
                {
                    zones.extend(rule.zones.iter().cloned());
                }
                for ph in &rule.phases {
                    if parse(&ph.deadline).is_some_and(|d| ev.start >= d) {
                        zones.extend(ph.zones.iter().cloned());
                    }
                }
                if zones.is_empty() {
                    continue;
                }
                let zones: Vec<String> = zones.into_iter().collect();
                for (layer, c) in placements(rule, &zones, ev) {
                    let s = format!(
                        "{}: forces present after the withdrawal deadline: {}",
                        rule.title,
                        describe_event(ev, &layer, c, &zones)
                    );
                    let id = event_id(rule, ev, &layer);
                    out.push(mk(layer, c, s, id));
                }
            }
            RuleKind::NotificationRequired => {
                let Some(act) = activity_of(ev.event_type) else {
                    continue;
                };
                if !rule.activities.contains(&act) {
                    continue;
                }
                let lead = hours(rule.lead_time_hours.unwrap_or(0));
                for (layer, c) in placements(rule, &rule.zones, ev) {
                    let notified = state.notices.iter().any(|(_, n)| {
                        n.current()
                            && n.party == perp
                            && n.activity == act
                            && n.start <= ev.end
                            && ev.start <= n.end
                            && n.notified.saturating_add(lead).is_ok_and(|t| t <= ev.start)
                            && covers(&n.area, ev, geo).is_some()
                    });
                    if !notified {
                        let s = format!(
                            "{}: no notice of {} by {perp} at least {} h ahead: {}",
                            rule.title,
                            wire_name(&act),
                            rule.lead_time_hours.unwrap_or(0),
                            describe_event(ev, &layer, c, &rule.zones)
                        );
                        let id = event_id(rule, ev, &layer);
                        out.push(mk(layer, c, s, id));
                    }
                }
            }
            RuleKind::ProtectedNotice => {
                if !rule.event_types.contains(&ev.event_type) {
                    continue;
                }
                for (n_index, n) in &state.notices {
                    if !n.current() || n.party == perp {
                        continue;
                    }
                    // Protected is what the attacking party itself gave the green light to.
                    let Some((area, start, end, _)) = n.acknowledged_scope(perp) else {
                        continue;
                    };
                    if start > ev.end || ev.start > end {
                        continue;
                    }
                    let Some(c) = covers(area, ev, geo) else {
                        continue;
                    };
                    let s = format!(
                        "{}: {} against the {} notified by {} (notice {n_index}) and acknowledged by {perp}: {}",
                        rule.title,
                        wire_name(&ev.event_type),
                        wire_name(&n.activity),
                        n.party,
                        describe_event(ev, &None, c, &[])
                    );
                    let id = format!("{}/{}/n{n_index}", rule.id, ev.id);
                    let mut d = mk(None, c, s, id);
                    d.evidence.push(*n_index);
                    if let Some((ack, _)) = n.answers.get(perp) {
                        d.evidence.push(*ack);
                    }
                    d.evidence.sort_unstable();
                    d.evidence.dedup();
                    out.push(d);
                }
            }
            RuleKind::NoticeScope => {
                let Some(act) = activity_of(ev.event_type) else {
                    continue;
                };
                if !rule.activities.contains(&act) {
                    continue;
                }
                for (n_index, n) in &state.notices {
                    if !n.current() || n.party != perp || n.activity != act {
                        continue;
                    }
                    let cited = ev
                        .reports
                        .iter()
                        .any(|r| state.reports.get(r).and_then(|r| r.notice) == Some(*n_index));
                    let under = cited
                        || (n.start <= ev.end
                            && ev.start <= n.end
                            && covers(&n.area, ev, geo).is_some());
                    if !under {
                        continue;
                    }
                    for addressee in &n.addressees {
                        let Some((area, start, end, _)) = n.acknowledged_scope(addressee) else {
                            continue;
                        };
                        let mut outside = Vec::new();
                        if ev.end < start || ev.start > end {
                            outside.push(format!("outside the window {start} to {end}"));
                        }
                        if covers(area, ev, geo).is_none() {
                            outside.push("outside the area".to_owned());
                        }
                        if outside.is_empty() {
                            continue;
                        }
                        let s = format!(
                            "{}: {} by {perp} {} that {addressee} acknowledged for notice {n_index}: {}",
                            rule.title,
                            wire_name(&act),
                            outside.join(" and "),
                            describe_event(ev, &None, Certainty::Certain, &[])
                        );
                        let id = format!("{}/{}/n{n_index}/{addressee}", rule.id, ev.id);
                        let mut d = mk(None, Certainty::Certain, s, id);
                        d.evidence.push(*n_index);
                        if let Some((ack, _)) = n.answers.get(addressee) {
                            d.evidence.push(*ack);
                        }
                        d.evidence.sort_unstable();
                        d.evidence.dedup();
                        out.push(d);
                    }
                }
            }
            RuleKind::ForceLimit | RuleKind::CivilianProtection => {}
        }
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

fn totals<'a>(recs: impl Iterator<Item = &'a PostureRec>) -> BTreeMap<ForceCategory, u64> {
    let mut t = BTreeMap::new();
    for r in recs {
        for (c, n) in &r.forces {
            *t.entry(*c).or_insert(0u64) += u64::from(*n);
        }
    }
    t
}

/// The limits a count breaks, described.
pub fn exceedances(l: &ForceLimits, t: &BTreeMap<ForceCategory, u64>) -> Vec<String> {
    let get = |c| t.get(&c).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut check = |what: &str, limit: Option<u32>, n: u64| {
        if let Some(limit) = limit
            && n > u64::from(limit)
        {
            out.push(format!("{what} {n} > {limit}"));
        }
    };
    check("personnel", l.personnel, get(ForceCategory::Personnel));
    check("tanks", l.tanks, get(ForceCategory::Tanks));
    check(
        "artillery",
        l.artillery,
        get(ForceCategory::ArtilleryShortRange) + get(ForceCategory::ArtilleryLongRange),
    );
    check("air defence", l.air_defence, get(ForceCategory::AirDefence));
    check("brigades", l.brigades, get(ForceCategory::Brigades));
    if let Some(km) = l.artillery_max_range_km {
        let n = get(ForceCategory::ArtilleryLongRange);
        if n > 0 {
            out.push(format!("{n} artillery pieces with a range over {km} km"));
        }
    }
    out
}

/// The findings a posture entry gives rise to. `before` is the posture table before it.
pub fn evaluate_posture(
    a: &AgreementRec,
    state: &State,
    before: &BTreeMap<String, PostureRec>,
    index: u64,
    _author_party: &str,
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
    for rule in &a.rules {
        if !effective(a, rule, as_of, as_of) {
            continue;
        }
        for party in parties
            .iter()
            .copied()
            .filter(|p| rule.binds.iter().any(|b| b == p))
        {
            let mut d = Draft::new(
                rule,
                format!("{}/p{index}/{party}", rule.id),
                party,
                Subject::Posture { entry: index },
                as_of,
            );
            d.corroborated = true;
            d.evidence = vec![index];
            let present = |zones: &[String]| -> Vec<(String, u64)> {
                p.zones
                    .iter()
                    .filter(|z| z.party == party && zones.contains(&z.zone))
                    .map(|z| {
                        (
                            z.zone.clone(),
                            z.forces.iter().map(|f| u64::from(f.count)).sum(),
                        )
                    })
                    .filter(|(_, n)| *n > 0)
                    .collect()
            };
            let list = |v: &[(String, u64)]| {
                v.iter()
                    .map(|(z, n)| format!("{n} in {z}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            match rule.kind {
                RuleKind::NoPresence => {
                    let found = present(&rule.zones);
                    if !found.is_empty() {
                        d.summary = format!(
                            "{}: {kind} of {party} forces as of {as_of}: {}",
                            rule.title,
                            list(&found)
                        );
                        out.push(d);
                    }
                }
                RuleKind::Withdrawal => {
                    let mut zones: Vec<String> = Vec::new();
                    if rule
                        .deadline
                        .as_deref()
                        .and_then(parse)
                        .is_some_and(|t| as_of >= t)
                    {
                        zones.extend(rule.zones.iter().cloned());
                    }
                    for ph in &rule.phases {
                        if parse(&ph.deadline).is_some_and(|t| as_of >= t) {
                            zones.extend(ph.zones.iter().cloned());
                        }
                    }
                    let found = present(&zones);
                    if !found.is_empty() {
                        d.summary = format!(
                            "{}: {kind} of {party} forces after the deadline, as of {as_of}: {}",
                            rule.title,
                            list(&found)
                        );
                        out.push(d);
                    }
                }
                RuleKind::ForceLimit => {
                    let Some(limits) = &rule.limits else {
                        continue;
                    };
                    let touches = p
                        .zones
                        .iter()
                        .any(|z| z.party == party && rule.zones.contains(&z.zone));
                    if !touches {
                        continue;
                    }
                    let recs: Vec<&PostureRec> = rule
                        .zones
                        .iter()
                        .filter_map(|z| state.posture.get(&format!("{party}/{z}/{kind}")))
                        .collect();
                    let over = exceedances(limits, &totals(recs.iter().copied()));
                    if !over.is_empty() {
                        let mut ev: Vec<u64> = recs.iter().map(|r| r.index).collect();
                        ev.sort_unstable();
                        ev.dedup();
                        d.evidence = ev;
                        d.summary = format!(
                            "{}: {party} forces in {} by {kind} as of {as_of}: {}",
                            rule.title,
                            rule.zones.join(", "),
                            over.join("; ")
                        );
                        out.push(d.clone());
                    }
                    if p.posture_type == PostureType::Inspection {
                        let mut diffs = Vec::new();
                        let mut evidence = vec![index];
                        for z in p
                            .zones
                            .iter()
                            .filter(|z| z.party == party && rule.zones.contains(&z.zone))
                        {
                            if !mismatch_done.insert((party.to_owned(), z.zone.clone())) {
                                continue;
                            }
                            let Some(decl) = before.get(&format!("{party}/{}/declaration", z.zone))
                            else {
                                continue;
                            };
                            let mut seen: BTreeMap<ForceCategory, u64> = BTreeMap::new();
                            for f in &z.forces {
                                *seen.entry(f.category).or_insert(0) += u64::from(f.count);
                            }
                            for (c, n) in seen {
                                let declared = u64::from(decl.forces.get(&c).copied().unwrap_or(0));
                                if n > declared {
                                    diffs.push(format!(
                                        "{} in {}: inspected {n}, declared {declared}",
                                        wire_name(&c),
                                        z.zone
                                    ));
                                    evidence.push(decl.index);
                                }
                            }
                        }
                        if !diffs.is_empty() {
                            evidence.sort_unstable();
                            evidence.dedup();
                            let mut m = Draft::new(
                                rule,
                                format!("{}/p{index}/{party}/mismatch", rule.id),
                                party,
                                Subject::Posture { entry: index },
                                as_of,
                            );
                            m.corroborated = true;
                            m.evidence = evidence;
                            m.summary = format!(
                                "Inspection counts more {party} forces than {party} declared: {}",
                                diffs.join("; ")
                            );
                            out.push(m);
                        }
                    }
                }
                RuleKind::NoticeScope => {
                    for (n_index, n) in &state.notices {
                        if !n.current() || n.party != party || as_of < n.start || as_of > n.end {
                            continue;
                        }
                        for addressee in &n.addressees {
                            let Some((area, start, end, caps)) = n.acknowledged_scope(addressee)
                            else {
                                continue;
                            };
                            if caps.is_empty() || as_of < start || as_of > end {
                                continue;
                            }
                            let mut seen: BTreeMap<ForceCategory, u64> = BTreeMap::new();
                            for z in p
                                .zones
                                .iter()
                                .filter(|z| z.party == party && area.zones.contains(&z.zone))
                            {
                                for f in &z.forces {
                                    *seen.entry(f.category).or_insert(0) += u64::from(f.count);
                                }
                            }
                            let over: Vec<String> = caps
                                .iter()
                                .filter_map(|cap| {
                                    let n = seen.get(&cap.category).copied().unwrap_or(0);
                                    (n > u64::from(cap.count)).then(|| {
                                        format!(
                                            "{} {n}, cap {}",
                                            wire_name(&cap.category),
                                            cap.count
                                        )
                                    })
                                })
                                .collect();
                            if over.is_empty() {
                                continue;
                            }
                            let mut f = d.clone();
                            f.id = format!("{}/p{index}/n{n_index}/{addressee}", rule.id);
                            f.evidence = vec![*n_index, index];
                            if let Some((ack, _)) = n.answers.get(addressee) {
                                f.evidence.push(*ack);
                            }
                            f.evidence.sort_unstable();
                            f.evidence.dedup();
                            f.summary = format!(
                                "{}: {kind} of {party} forces as of {as_of} above the caps {addressee} set for notice {n_index}: {}",
                                rule.title,
                                over.join("; ")
                            );
                            out.push(f);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The answer and resolution deadlines a new case opens under the agreement's
/// `civilian_protection` rules that bind the detaining party.
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
    for rule in &a.rules {
        if rule.kind != RuleKind::CivilianProtection
            || !rule.binds.iter().any(|b| b == detaining)
            || !effective(a, rule, reported, reported)
        {
            continue;
        }
        let mk = |suffix: &str, due: Timestamp, obligation| Deadline {
            id: format!("{}/case-{case}/{suffix}", rule.id),
            rule: rule.id.clone(),
            party: detaining.to_owned(),
            due,
            obligation,
            status: DeadlineStatus::Pending,
            evidence: vec![case],
            basis: None,
            finding: None,
            settled_at: None,
        };
        if let Some(h) = rule.acknowledge_within_hours
            && let Ok(due) = reported.saturating_add(hours(h))
        {
            out.push(mk("answer", due, Obligation::CaseAnswer { case }));
        }
        if let Some(d) = rule.resolve_within_days
            && let Ok(due) = reported.saturating_add(days_(d))
        {
            out.push(mk("resolution", due, Obligation::CaseResolution { case }));
        }
    }
    out
}

/// Decides a withdrawal obligation at its due time: met, or missed with the evidence and why;
/// the last element says on what a met outcome rests.
pub fn withdrawal_outcome(
    state: &State,
    geo: Option<&Geography>,
    party: &str,
    zones: &[String],
    inspection_required: bool,
    due: Timestamp,
) -> (bool, Vec<u64>, String, String) {
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    let mut any_posture = false;
    for z in zones {
        let insp = state.posture.get(&format!("{party}/{z}/inspection"));
        let decl = state.posture.get(&format!("{party}/{z}/declaration"));
        let latest = if inspection_required {
            insp
        } else {
            match (insp, decl) {
                (Some(i), Some(d)) => Some(if d.as_of > i.as_of { d } else { i }),
                (i, d) => i.or(d),
            }
        };
        match latest {
            None if inspection_required => {
                problems.push(format!("no inspection of {z} shows {party} forces gone"));
            }
            None => {}
            Some(r) if r.total() > 0 => {
                any_posture = true;
                evidence.push(r.index);
                problems.push(format!(
                    "{} {party} forces in {z} as of {}",
                    r.total(),
                    r.as_of
                ));
            }
            Some(r) => {
                any_posture = true;
                evidence.push(r.index);
            }
        }
    }
    evidence.sort_unstable();
    evidence.dedup();
    let basis = if any_posture {
        "the latest posture in the zones shows no forces".to_owned()
    } else {
        // No posture at all: was anyone watching?
        let week = jiff::SignedDuration::from_hours(24 * 7);
        let from = due.saturating_sub(week).unwrap_or(due);
        let mut seen: Vec<u64> = Vec::new();
        if let Some(g) = geo {
            for z in g.index().zones().iter().filter(|z| zones.contains(&z.id)) {
                for (i, c) in &state.coverage {
                    if c.end >= from && c.start <= due && c.covers_area(&z.geometry) {
                        seen.push(*i);
                    }
                }
            }
        }
        seen.sort_unstable();
        seen.dedup();
        if seen.is_empty() {
            "no posture reported, and the zones were not observable: no coverage recorded in the week before".to_owned()
        } else {
            format!(
                "no posture reported; no forces observed by coverage entries {seen:?} in the week before"
            )
        }
    };
    (problems.is_empty(), evidence, problems.join("; "), basis)
}
