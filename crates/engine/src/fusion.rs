//! Fusion: many reports, one event per incident.
//!
//! [`Fusion::add_report`] is the only place reports become events. It is incremental and
//! deterministic: a new report is scored against the open events near it in space and time
//! (found through a grid index), joins the best one scoring at least the agreement's
//! threshold, or starts a new event. Joining can bridge two events (they are merged, the
//! older absorbing the younger) and can leave a member report that no longer fits (it is split
//! off into an event of its own); both are recorded in `state.fusion_log` with their reason.
//!
//! The score of a report against an event is the probability that both describe one incident:
//! `odds / (1 + odds)`, the odds a product of likelihood ratios (see [`explain`]):
//!
//! - distance and precision: the reports' location errors are Gaussian, each stated radius
//!   (floored at `min_radius_m`) the circle that holds the true point 95% of the time, so for
//!   one incident the distance `d` between the report's point and the event's has a density
//!   `exp(-d² / 2s²) / 2πs²`, `s² = (r_report² + r_event²) / c²`, `c` = [`CIRCLE_SIGMAS`]; in
//!   time, the gap between the two windows is Gaussian with a tolerance set by their time
//!   precisions (`time_slack_hours` / 8 for exact, / 4 for hour, / 2 for day), over the wider
//!   window. Against: another incident, at the agreement's `density_per_1000_km2_day`.
//!   Precise reports thus fuse on closer evidence than vague ones; beyond `max_gap_hours` the
//!   pair is not considered;
//! - type: 1 for the same event type, the agreement's `type_family_percent` for types of one
//!   family (see [`type_score`]), `type_other_percent` otherwise;
//! - actor: 1 for the same perpetrator, `actor_unknown_percent` if either is `UNKNOWN`,
//!   `actor_differ_percent` if they differ;
//! - source: `same_source_percent` if the party already reported the event.
//!
//! The fused event takes the precision-weighted location (weights: grade / r²), the
//! intersection of the members' time windows (their hull if they do not intersect), the type
//! and the perpetrator by graded vote, the widest casualty range with the weighted median of
//! the best estimates, and a corroboration level from who reported, confirmed and denied.
//!
//! Reports' grades weigh as Admiralty reliability (A 1.0, B 0.8, C 0.6, D 0.4, E 0.2, F 0.5)
//! times credibility (1 1.0, 2 0.8, 3 0.6, 4 0.4, 5 0.2, 6 0.5). All arithmetic that decides
//! anything uses `libm`, so every machine computes the same events.

mod aggregate;
#[cfg(test)]
mod tests;

use crate::Geography;
use crate::state::{Corroboration, Event, FusionStep, Parties, ReportRec, State};
use aggregate::{Agg, Summary};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use truce_geo::local::distance_m;
use truce_model::agreement::{FusionParams, PartyRole};
use truce_model::report::{Casualties, Count, EventType, Report};

/// Grid cell size in degrees.
const CELL_DEG: f64 = 0.1;
/// Events with a radius up to this (metres) are filed by cell; vaguer ones by day only, and
/// every search looks at them too. The spatial search reaches three combined radii, counting
/// an event's radius as at most this.
const PRECISE_RADIUS_M: f64 = 10_000.0;
/// The cell of the vague events.
const VAGUE_CELL: (i32, i32) = (i32::MIN, i32::MIN);

/// Up to this many members an event is fused exactly as it always was: each change re-fuses it
/// from all its reports, and each added report checks every member against the rest (O(n²) per
/// report). Beyond it, the event is described from incremental aggregates and an added report
/// checks itself and [`SPLIT_SAMPLE`] members, so a report costs the same at 100 members as at
/// 100,000 (see docs/fusion.md, "Large events").
pub const EXACT_MEMBERS: usize = 64;
/// Beyond [`EXACT_MEMBERS`], how many members besides the new report an added report checks
/// for a split, chosen from its log index.
pub const SPLIT_SAMPLE: usize = 8;

/// The grade weight of a report, in thousandths.
pub fn weight(r: &Report) -> u32 {
    let rel = match r.grading.source_reliability.as_str() {
        "A" => 1000,
        "B" => 800,
        "C" => 600,
        "D" => 400,
        "E" => 200,
        _ => 500,
    };
    let cred = match r.grading.information_credibility {
        1 => 1000,
        2 => 800,
        3 => 600,
        4 => 400,
        5 => 200,
        _ => 500,
    };
    rel * cred / 1000
}

/// Families of event types that one incident is often reported as.
const FAMILIES: &[&[EventType]] = &[
    &[
        EventType::Battles,
        EventType::ExplosionsRemoteViolence,
        EventType::ViolenceAgainstCivilians,
    ],
    &[EventType::ExplosionsRemoteViolence, EventType::Overflight],
    &[
        EventType::Incursion,
        EventType::TroopMovement,
        EventType::Fortification,
        EventType::Checkpoint,
        EventType::Battles,
    ],
    &[
        EventType::DetentionAbduction,
        EventType::ViolenceAgainstCivilians,
        EventType::Checkpoint,
    ],
    &[EventType::Protests, EventType::Riots],
    &[
        EventType::AccessDenial,
        EventType::InterferenceWithMonitors,
        EventType::Checkpoint,
    ],
];

/// How compatible two event types are as descriptions of one incident: 1 for the same type,
/// the agreement's `type_family_percent` for two types of one family, `type_other_percent`
/// otherwise.
pub fn type_score(a: EventType, b: EventType, p: &FusionParams) -> f64 {
    if a == b {
        1.0
    } else if FAMILIES.iter().any(|f| f.contains(&a) && f.contains(&b)) {
        percent(p.type_family_percent)
    } else {
        percent(p.type_other_percent)
    }
}

fn actor_score(a: &str, b: &str, p: &FusionParams) -> f64 {
    if a == b {
        1.0
    } else if a == "UNKNOWN" || b == "UNKNOWN" {
        percent(p.actor_unknown_percent)
    } else {
        percent(p.actor_differ_percent)
    }
}

fn percent(v: u32) -> f64 {
    f64::from(v) / 100.0
}

fn hours_between(a: Timestamp, b: Timestamp) -> f64 {
    b.duration_since(a).as_secs_f64() / 3600.0
}

/// What fusion compares: a report, or an event's fused description.
#[derive(Debug, Clone, Copy)]
struct Shape<'a> {
    point: [f64; 2],
    radius: f64,
    start: Timestamp,
    end: Timestamp,
    /// The time tolerance beyond the window (hours), from the time precision.
    time_sigma_h: f64,
    event_type: EventType,
    perpetrator: &'a str,
    /// The parties that reported it.
    sources: Sources<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Sources<'a> {
    One(&'a str),
    Many(&'a Parties),
}

impl Sources<'_> {
    fn overlaps(self, other: Sources<'_>) -> bool {
        match (self, other) {
            (Sources::One(a), Sources::One(b)) => a == b,
            (Sources::One(a), Sources::Many(m)) | (Sources::Many(m), Sources::One(a)) => {
                m.contains(a)
            }
            (Sources::Many(a), Sources::Many(b)) => a.iter().any(|p| b.contains(p)),
        }
    }
}

/// A stated precision is the radius of the circle that holds the true point 95% of the time:
/// for a circular Gaussian error that is `√(2 ln 20)` ≈ 2.45 standard deviations per axis.
pub const CIRCLE_SIGMAS: f64 = 2.447_746_830_680_816;

fn shape_of_report<'a>(r: &'a ReportRec, p: &FusionParams) -> Shape<'a> {
    Shape {
        point: r.point,
        radius: f64::from(r.precision_m.max(p.min_radius_m)),
        start: r.start,
        end: r.end,
        time_sigma_h: time_sigma_h(r.time_precision, p),
        event_type: r.event_type,
        perpetrator: &r.perpetrator,
        sources: Sources::One(&r.party),
    }
}

fn shape_of_summary<'a>(s: &'a Summary, p: &FusionParams) -> Shape<'a> {
    Shape {
        point: s.point,
        radius: f64::from(s.precision_m.max(p.min_radius_m)),
        start: s.start,
        end: s.end,
        time_sigma_h: time_sigma_h(s.time_precision, p),
        event_type: s.event_type,
        perpetrator: &s.perpetrator,
        sources: Sources::Many(&s.reporters),
    }
}

fn shape_of_event<'a>(e: &'a Event, p: &FusionParams) -> Shape<'a> {
    Shape {
        point: e.point,
        radius: f64::from(e.precision_m.max(p.min_radius_m)),
        start: e.start,
        end: e.end,
        time_sigma_h: time_sigma_h(e.time_precision, p),
        event_type: e.event_type,
        perpetrator: &e.perpetrator,
        sources: Sources::Many(&e.reporters),
    }
}

/// A report's time is trusted to this many `time_slack_hours` beyond its window (one standard
/// deviation), by its precision.
fn time_sigma_h(precision: truce_model::time::TimePrecision, p: &FusionParams) -> f64 {
    use truce_model::time::TimePrecision::*;
    let k = match precision {
        Exact => 0.125,
        Hour => 0.25,
        Day => 0.5,
        Week => 2.0,
        Month => 8.0,
    };
    f64::from(p.time_slack_hours) * k
}

/// The factors of the odds that two shapes describe one incident (see the module docs), or
/// `None` when they are too far apart in time to compare. Their product is the odds.
fn terms(a: &Shape<'_>, b: &Shape<'_>, p: &FusionParams) -> Option<[(&'static str, f64); 6]> {
    let gap = if a.end < b.start {
        hours_between(a.end, b.start)
    } else if b.end < a.start {
        hours_between(b.end, a.start)
    } else {
        0.0
    };
    if gap > f64::from(p.max_gap_hours) {
        return None;
    }
    let d = distance_m(a.point, b.point);
    // Space: the reports' errors are Gaussian, the stated radii their 95% circles, so their
    // difference has a variance of s² per axis; time: the windows, widened by the precision's
    // tolerance. Against: another incident, at the agreement's density.
    let s2 = (a.radius * a.radius + b.radius * b.radius) / (CIRCLE_SIGMAS * CIRCLE_SIGMAS);
    let st2 = a.time_sigma_h * a.time_sigma_h + b.time_sigma_h * b.time_sigma_h;
    let width = hours_between(a.start, a.end).max(hours_between(b.start, b.end));
    let tau = std::f64::consts::TAU;
    let space_density = 1.0 / (tau * s2);
    let time_density = 1.0 / (width + libm::sqrt(tau * st2));
    // Incidents per 1,000 km² per day, as incidents per m² per hour.
    let other = f64::from(p.density_per_1000_km2_day) / 1.0e9 / 24.0;
    let source = if a.sources.overlaps(b.sources) {
        percent(p.same_source_percent)
    } else {
        1.0
    };
    Some([
        ("distance", libm::exp(-0.5 * d * d / s2)),
        ("time", libm::exp(-0.5 * gap * gap / st2)),
        ("precision", space_density * time_density / other),
        ("type", type_score(a.event_type, b.event_type, p)),
        ("actor", actor_score(a.perpetrator, b.perpetrator, p)),
        ("source", source),
    ])
}

/// How far (metres) an event can be from `shape` and still score `threshold`: every factor
/// but distance and precision is at most 1, the time density at most that of a gap of 0
/// against an exact event, and `exp(−d²/2s²) / 2πs²` is at most `1 / eπd²` whatever the
/// event's radius. So an event further than this cannot be joined, and the search need not
/// look there. A little margin covers the grid's and the distance's approximations.
fn reach_bound(shape: &Shape<'_>, p: &FusionParams, threshold: f64) -> f64 {
    let odds = threshold / (1.0 - threshold).max(1e-9);
    let exact = time_sigma_h(truce_model::time::TimePrecision::Exact, p);
    let st2 = shape.time_sigma_h * shape.time_sigma_h + exact * exact;
    let width = hours_between(shape.start, shape.end);
    let time_density = 1.0 / (width + libm::sqrt(std::f64::consts::TAU * st2));
    let other = f64::from(p.density_per_1000_km2_day) / 1.0e9 / 24.0;
    let d2 = time_density / (other * std::f64::consts::E * std::f64::consts::PI * odds);
    1.05 * libm::sqrt(d2) + 100.0
}

/// The probability (0..1) that two shapes describe one incident, from the odds of [`terms`];
/// `None` when they are too far apart in time to compare.
fn score(a: &Shape<'_>, b: &Shape<'_>, p: &FusionParams) -> Option<f64> {
    let odds: f64 = terms(a, b, p)?.iter().map(|t| t.1).product();
    Some(odds / (1.0 + odds))
}

/// The factors of the odds that report `r` belongs to event `e` (see `terms`), for
/// diagnostics: `None` when they are too far apart in time to compare.
pub fn explain(r: &ReportRec, e: &Event, p: &FusionParams) -> Option<[(&'static str, f64); 6]> {
    terms(&shape_of_report(r, p), &shape_of_event(e, p), p)
}

fn cell(point: [f64; 2]) -> (i32, i32) {
    let f = |v: f64| libm::floor(v / CELL_DEG) as i32;
    (f(point[0]), f(point[1]))
}

/// The fusion index: which open events are in which grid cell on which day, and the
/// aggregates of the events of more than [`EXACT_MEMBERS`] members. Not part of the state:
/// rebuilt from it (see [`Fusion::rebuild`]), and both are functions of the state alone, so a
/// restored engine fuses as one that never stopped. Events are held by their number (`e12` is
/// 12); whatever is read from the index is sorted before it is used, so the hash maps' order
/// never shows.
#[derive(Debug, Clone, Default)]
pub struct Fusion {
    /// (cell x, cell y, day number) -> event numbers.
    grid: HashMap<(i32, i32, i64), Vec<u64>>,
    located: HashMap<u64, Vec<(i32, i32, i64)>>,
    /// The aggregates of the open events of more than [`EXACT_MEMBERS`] members, by id.
    aggs: BTreeMap<String, Agg>,
    /// Member reports read so far (see [`Fusion::work`]).
    work: u64,
}

/// The number of event `e<n>`. Fusion names every event so.
fn event_number(id: &str) -> Option<u64> {
    id.strip_prefix('e')?.parse().ok()
}

const DAY_SECONDS: i64 = 86_400;
/// An event spanning more days than this (month-precision reports) is indexed on its first
/// and last days and every day in between up to this many.
const MAX_INDEXED_DAYS: i64 = 62;

fn day(t: Timestamp) -> i64 {
    t.as_second().div_euclid(DAY_SECONDS)
}

/// The corroboration level of an event from the roles of the parties that reported and
/// confirmed it, how many reports it has, and whether a party denied it.
pub fn corroboration(
    roles: &[PartyRole],
    reports: usize,
    parties: usize,
    denied: bool,
) -> Corroboration {
    if roles
        .iter()
        .any(|r| matches!(r, PartyRole::Mediator | PartyRole::Observer))
    {
        Corroboration::Verified
    } else if denied {
        Corroboration::Contradicted
    } else if parties > 1 {
        Corroboration::CrossParty
    } else if reports > 1 {
        Corroboration::OneParty
    } else {
        Corroboration::SingleSource
    }
}

impl Fusion {
    /// Rebuilds the index from the state's events.
    pub fn rebuild(state: &State) -> Self {
        let mut f = Fusion::default();
        for e in state.events.values() {
            if e.merged_into.is_none() {
                f.place(e);
                if e.reports.len() > EXACT_MEMBERS {
                    f.work += e.reports.len() as u64;
                    f.aggs.insert(e.id.clone(), Agg::build(state, &e.reports));
                }
            }
        }
        f
    }

    /// How many member reports fusion has read since it was built: a report for each member of
    /// an event fused from its reports, one for each member added to or removed from (or
    /// checked against) an event's aggregates. A measure of work independent of the machine,
    /// for tests and benchmarks; not part of the state.
    pub fn work(&self) -> u64 {
        self.work
    }

    fn place(&mut self, e: &Event) {
        let Some(n) = event_number(&e.id) else {
            return;
        };
        self.remove(&e.id);
        let (x, y) = if f64::from(e.precision_m) > PRECISE_RADIUS_M {
            VAGUE_CELL
        } else {
            cell(e.point)
        };
        let (d0, d1) = (day(e.start), day(e.end));
        let keys: Vec<(i32, i32, i64)> = if d1 - d0 <= MAX_INDEXED_DAYS {
            (d0..=d1).map(|d| (x, y, d)).collect()
        } else {
            vec![(x, y, d0), (x, y, d1)]
        };
        for k in &keys {
            self.grid.entry(*k).or_default().push(n);
        }
        self.located.insert(n, keys);
    }

    fn remove(&mut self, id: &str) {
        let Some(n) = event_number(id) else {
            return;
        };
        for k in self.located.remove(&n).unwrap_or_default() {
            if let Some(ids) = self.grid.get_mut(&k) {
                ids.retain(|x| *x != n);
                if ids.is_empty() {
                    self.grid.remove(&k);
                }
            }
        }
    }

    /// Open events whose cell is within `radius_m` of `point` and whose days meet
    /// `from..=to`, by number, ascending.
    fn near(&self, point: [f64; 2], radius_m: f64, from: Timestamp, to: Timestamp) -> Vec<u64> {
        let lat_deg = radius_m / 111_000.0;
        let coslat = libm::cos(point[1] * std::f64::consts::PI / 180.0).max(0.01);
        let lon_deg = lat_deg / coslat;
        let (x0, y0) = cell([point[0] - lon_deg, point[1] - lat_deg]);
        let (x1, y1) = cell([point[0] + lon_deg, point[1] + lat_deg]);
        let (d0, d1) = (day(from), day(to));
        let mut out = Vec::new();
        for d in d0..=d1.min(d0 + MAX_INDEXED_DAYS) {
            if let Some(ids) = self.grid.get(&(VAGUE_CELL.0, VAGUE_CELL.1, d)) {
                out.extend_from_slice(ids);
            }
        }
        let wide = (i64::from(x1) - i64::from(x0) + 1)
            * (i64::from(y1) - i64::from(y0) + 1)
            * (d1 - d0 + 1);
        if wide > 4096 {
            // A vague report: scan the index's keys in the day range instead of the (many)
            // empty cells.
            for ((x, y, d), ids) in &self.grid {
                if (x0..=x1).contains(x) && (y0..=y1).contains(y) && (d0..=d1).contains(d) {
                    out.extend_from_slice(ids);
                }
            }
        } else {
            for x in x0..=x1 {
                for y in y0..=y1 {
                    for d in d0..=d1 {
                        if let Some(ids) = self.grid.get(&(x, y, d)) {
                            out.extend_from_slice(ids);
                        }
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Adds the report at log index `index`, filed by a member of `party`; returns the ids of
    /// the events created or changed (ascending).
    pub fn add_report(
        &mut self,
        state: &mut State,
        geo: Option<&Geography>,
        index: u64,
        party: &str,
        r: &Report,
        logged: Timestamp,
    ) -> Vec<String> {
        let params = state
            .agreement
            .as_ref()
            .map(|a| a.fusion.clone())
            .unwrap_or_default();
        let (start, end) = crate::widen(&r.time);
        let rec = ReportRec {
            party: party.to_owned(),
            event_type: r.event_type,
            sub_event_type: r.sub_event_type.clone(),
            start,
            end,
            time_precision: r.time.precision,
            point: r.location.point,
            precision_m: r.location.precision_m,
            place: r.location.place.clone(),
            perpetrator: r.perpetrator.clone(),
            target: r.target.clone(),
            casualties: r.casualties.clone(),
            notice: r.notice,
            weight: weight(r),
            logged,
            event: String::new(),
        };
        let threshold = f64::from(params.threshold_percent) / 100.0;
        let candidates = self.scored(state, &shape_of_report(&rec, &params), &params, threshold);
        let mut changed = BTreeSet::new();
        let target = match candidates.first() {
            Some((_, id)) => id.clone(),
            None => {
                let id = format!("e{index}");
                state
                    .events
                    .insert(id.clone(), Box::new(blank_event(&id, &rec)));
                id
            }
        };
        let mut rec = rec;
        rec.event = target.clone();
        if let Some(agg) = self.aggs.get_mut(&target) {
            agg.add(&rec, index);
            self.work += 1;
        }
        state.reports.insert(index, Box::new(rec));
        if let Some(e) = state.events.get_mut(&target) {
            // The list stays ascending; in log order the new index goes last, without the
            // cost of re-sorting a large event.
            let at = e.reports.partition_point(|x| *x < index);
            e.reports.insert(at, index);
            e.merged_into = None;
        }
        self.refresh(state, geo, &target);
        changed.insert(target.clone());
        // The report may bridge events: merge those that now fit the joined one.
        for (_, other) in candidates.iter().skip(1) {
            if !state.events.contains_key(other) || other == &target {
                continue;
            }
            let fits = match (state.events.get(&target), state.events.get(other)) {
                (Some(a), Some(b)) => score(
                    &shape_of_event(a, &params),
                    &shape_of_event(b, &params),
                    &params,
                )
                .is_some_and(|s| s >= threshold),
                _ => false,
            };
            if fits {
                let (keep, gone) = older_first(&target, other);
                self.merge(state, geo, index, &keep, &gone);
                changed.insert(keep.clone());
                changed.insert(gone.clone());
                if gone == target {
                    // The joined event was absorbed: go on from the survivor.
                    return self.finish(state, geo, index, keep, changed, &params, threshold);
                }
            }
        }
        self.finish(state, geo, index, target, changed, &params, threshold)
    }

    /// Splits off members that no longer fit, and re-indexes.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        state: &mut State,
        geo: Option<&Geography>,
        index: u64,
        event: String,
        mut changed: BTreeSet<String>,
        params: &FusionParams,
        threshold: f64,
    ) -> Vec<String> {
        let size = state.events.get(&event).map_or(0, |e| e.reports.len());
        if size > EXACT_MEMBERS {
            self.check_sample(state, geo, index, &event, &mut changed, params, threshold);
        } else if size >= 3 {
            self.check_all(state, geo, index, &event, &mut changed, params, threshold);
        }
        for id in &changed {
            match state.events.get(id) {
                Some(e) if e.merged_into.is_none() => self.place(e),
                _ => self.remove(id),
            }
        }
        changed.into_iter().collect()
    }

    /// How member `m` (report `rep`) scores against `event` fused exactly from its other
    /// members (the cost of fusing them is counted in `work`).
    fn against_the_rest(
        &mut self,
        state: &State,
        event: &str,
        m: u64,
        rep: &ReportRec,
        params: &FusionParams,
    ) -> Against {
        let rest: Vec<u64> = state
            .events
            .get(event)
            .map(|e| e.reports.iter().copied().filter(|x| *x != m).collect())
            .unwrap_or_default();
        if rest.is_empty() {
            return Against::Alone;
        }
        self.work += rest.len() as u64;
        let Some(without) = fused(state, event, &rest) else {
            return Against::Unfused;
        };
        Against::Scored(
            score(
                &shape_of_report(rep, params),
                &shape_of_event(&without, params),
                params,
            )
            .unwrap_or(0.0),
        )
    }

    /// The split check of an event of up to [`EXACT_MEMBERS`] members: each member, in log
    /// order, against the event fused from the others.
    #[allow(clippy::too_many_arguments)]
    fn check_all(
        &mut self,
        state: &mut State,
        geo: Option<&Geography>,
        index: u64,
        event: &str,
        changed: &mut BTreeSet<String>,
        params: &FusionParams,
        threshold: f64,
    ) {
        let members = state
            .events
            .get(event)
            .map(|e| e.reports.clone())
            .unwrap_or_default();
        for m in members {
            let Some(rep) = state.reports.get(&m).cloned() else {
                continue;
            };
            let s = match self.against_the_rest(state, event, m, &rep, params) {
                Against::Alone => break,
                Against::Unfused => continue,
                Against::Scored(s) => s,
            };
            if s < threshold / 2.0 {
                self.split_off(state, geo, index, event, m, &rep, s, threshold, changed);
            }
        }
    }

    /// The split check of an event of more than [`EXACT_MEMBERS`] members: the new report and
    /// [`SPLIT_SAMPLE`] members drawn from its log index (a SplitMix64 sequence seeded with
    /// it), in log order, each against the event's aggregates without it. Each check costs
    /// O(log n), so an added report costs O(log n) whatever the event's size; a member that no
    /// longer fits is found within a few times n / `SPLIT_SAMPLE` added reports rather than at
    /// the next one.
    #[allow(clippy::too_many_arguments)]
    fn check_sample(
        &mut self,
        state: &mut State,
        geo: Option<&Geography>,
        index: u64,
        event: &str,
        changed: &mut BTreeSet<String>,
        params: &FusionParams,
        threshold: f64,
    ) {
        let mut chosen = BTreeSet::new();
        if let Some(e) = state.events.get(event) {
            if e.reports.binary_search(&index).is_ok() {
                chosen.insert(index);
            }
            let mut seed = index;
            for _ in 0..SPLIT_SAMPLE {
                let z = splitmix64(&mut seed);
                chosen.insert(e.reports[(z % e.reports.len() as u64) as usize]);
            }
        }
        for m in chosen {
            let Some(rep) = state.reports.get(&m).cloned() else {
                continue;
            };
            let s = match self.aggs.get_mut(event) {
                Some(agg) => {
                    self.work += 2;
                    let Some(without) = agg.summary_without(state, &rep, m) else {
                        continue;
                    };
                    score(
                        &shape_of_report(&rep, params),
                        &shape_of_summary(&without, params),
                        params,
                    )
                }
                // Splits took the event down to [`EXACT_MEMBERS`]: its aggregates are gone,
                // and the rest is fused from its reports.
                None => match self.against_the_rest(state, event, m, &rep, params) {
                    Against::Alone => break,
                    Against::Unfused => continue,
                    Against::Scored(s) => Some(s),
                },
            }
            .unwrap_or(0.0);
            if s < threshold / 2.0 {
                self.split_off(state, geo, index, event, m, &rep, s, threshold, changed);
            }
        }
    }

    /// Splits member `m` (report `rep`, scoring `s` against the rest) off `event` into an event
    /// of its own — unless `event` is the one it started.
    #[allow(clippy::too_many_arguments)]
    fn split_off(
        &mut self,
        state: &mut State,
        geo: Option<&Geography>,
        index: u64,
        event: &str,
        m: u64,
        rep: &ReportRec,
        s: f64,
        threshold: f64,
        changed: &mut BTreeSet<String>,
    ) {
        let new_id = format!("e{m}");
        if new_id == event {
            return;
        }
        if let Some(e) = state.events.get_mut(event) {
            e.reports.retain(|x| *x != m);
        }
        if let Some(agg) = self.aggs.get_mut(event) {
            agg.remove(rep, m);
            self.work += 1;
        }
        let mut fresh = blank_event(&new_id, rep);
        fresh.reports = vec![m];
        state.events.insert(new_id.clone(), Box::new(fresh));
        if let Some(r) = state.reports.get_mut(&m) {
            r.event = new_id.clone();
        }
        state.fusion_log.push(FusionStep {
            index,
            action: "split".into(),
            events: vec![event.to_owned(), new_id.clone()],
            reason: format!(
                "report {m} scores {:.2} against the rest of {event}, under half the threshold {threshold:.2}",
                s
            ),
        });
        self.refresh(state, geo, event);
        self.refresh(state, geo, &new_id);
        changed.insert(new_id);
    }

    /// Events scoring at least `threshold` against `shape`, best first (ties: lower id).
    fn scored(
        &self,
        state: &State,
        shape: &Shape<'_>,
        params: &FusionParams,
        threshold: f64,
    ) -> Vec<(f64, String)> {
        let reach =
            3.0 * libm::sqrt(shape.radius * shape.radius + PRECISE_RADIUS_M * PRECISE_RADIUS_M);
        let reach = reach.min(reach_bound(shape, params, threshold));
        let gap = jiff::SignedDuration::from_hours(i64::from(params.max_gap_hours));
        let from = shape.start.saturating_sub(gap).unwrap_or(shape.start);
        let to = shape.end.saturating_add(gap).unwrap_or(shape.end);
        let mut out: Vec<(f64, String)> = self
            .near(shape.point, reach, from, to)
            .into_iter()
            .filter_map(|n| {
                let id = format!("e{n}");
                let e = state.events.get(&id)?;
                if e.merged_into.is_some() {
                    return None;
                }
                let s = score(shape, &shape_of_event(e, params), params)?;
                (s >= threshold).then_some((s, id))
            })
            .collect();
        out.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| id_order(&a.1, &b.1)));
        out
    }

    fn merge(
        &mut self,
        state: &mut State,
        geo: Option<&Geography>,
        index: u64,
        keep: &str,
        gone: &str,
    ) {
        let moved = state
            .events
            .get(gone)
            .map(|e| e.reports.clone())
            .unwrap_or_default();
        let (confirmed, denied) = state
            .events
            .get(gone)
            .map(|e| (e.confirmed_by.clone(), e.denied_by.clone()))
            .unwrap_or_default();
        for m in &moved {
            if let Some(r) = state.reports.get_mut(m) {
                r.event = keep.to_owned();
            }
        }
        self.merge_aggs(state, keep, gone, &moved);
        if let Some(e) = state.events.get_mut(keep) {
            e.reports.extend(moved.iter().copied());
            e.reports.sort_unstable();
            e.reports.dedup();
            e.confirmed_by.extend(confirmed);
            e.denied_by.extend(denied);
        }
        if let Some(e) = state.events.get_mut(gone) {
            e.reports.clear();
            e.merged_into = Some(keep.to_owned());
        }
        self.remove(gone);
        state.fusion_log.push(FusionStep {
            index,
            action: "merge".into(),
            events: vec![keep.to_owned(), gone.to_owned()],
            reason: format!(
                "report {index} fits both events and they fit each other above the threshold"
            ),
        });
        self.refresh(state, geo, keep);
    }

    /// The aggregates of `keep` once `gone`'s members (`moved`) join it: the smaller event's
    /// members are added to the larger one's aggregates, when either has them (an aggregate is
    /// a function of the members alone, so either way gives the same). Without either, the
    /// next refresh builds them if the merged event needs them.
    fn merge_aggs(&mut self, state: &State, keep: &str, gone: &str, moved: &[u64]) {
        let kept = self.aggs.remove(keep);
        let absorbed = self.aggs.remove(gone);
        let (mut agg, added): (Agg, Vec<u64>) = match (kept, absorbed) {
            (Some(k), Some(g)) if g.members() > k.members() => (g, self.members_of(state, keep)),
            (Some(k), _) => (k, moved.to_vec()),
            (None, Some(g)) => (g, self.members_of(state, keep)),
            (None, None) => return,
        };
        for m in &added {
            if let Some(r) = state.reports.get(m) {
                agg.add(r, *m);
            }
        }
        self.work += added.len() as u64;
        self.aggs.insert(keep.to_owned(), agg);
    }

    fn members_of(&self, state: &State, id: &str) -> Vec<u64> {
        state
            .events
            .get(id)
            .map(|e| e.reports.clone())
            .unwrap_or_default()
    }

    /// Recomputes an event's fused description from its reports (and its zones): from all of
    /// them up to [`EXACT_MEMBERS`], from its aggregates beyond.
    fn refresh(&mut self, state: &mut State, geo: Option<&Geography>, id: &str) {
        let Some(size) = state.events.get(id).map(|e| e.reports.len()) else {
            return;
        };
        if size == 0 {
            return;
        }
        if size <= EXACT_MEMBERS {
            self.aggs.remove(id);
            let members = self.members_of(state, id);
            self.work += members.len() as u64;
            let Some(mut e) = fused(state, id, &members) else {
                return;
            };
            e.zones = zones(geo, &e);
            if let Some(slot) = state.events.get_mut(id) {
                **slot = e;
            }
            return;
        }
        let agg = match self.aggs.remove(id) {
            Some(agg) if agg.members() == size => agg,
            // The event has just grown past `EXACT_MEMBERS` (or, which the updates at each
            // change of members rule out, its aggregates are out of date): built from its
            // members, once.
            stale => {
                debug_assert!(stale.is_none(), "aggregates of {id} out of date");
                let members = self.members_of(state, id);
                self.work += members.len() as u64;
                Agg::build(state, &members)
            }
        };
        self.work += 1;
        // Described in place, out of the map for the while: a copy would copy its list of
        // members, O(n).
        if let Some(mut e) = state.events.remove(id) {
            if agg.describe(state, &mut e) {
                e.zones = zones(geo, &e);
            }
            state.events.insert(id.to_owned(), e);
        }
        self.aggs.insert(id.to_owned(), agg);
    }

    /// A sighting of report `report` by `party`: returns the event it concerns, if any.
    pub fn add_sighting(
        &mut self,
        state: &mut State,
        geo: Option<&Geography>,
        report: u64,
        party: &str,
        stance: truce_model::bodies::Stance,
    ) -> Result<String, String> {
        let Some(r) = state.reports.get(&report) else {
            return Err(format!("no report at log index {report}"));
        };
        if r.party == party {
            return Err(format!(
                "report {report} is {party}'s own; a sighting confirms or denies another party's report"
            ));
        }
        let id = r.event.clone();
        if let Some(e) = state.events.get_mut(&id) {
            match stance {
                truce_model::bodies::Stance::Confirm => e.confirmed_by.insert(party.to_owned()),
                truce_model::bodies::Stance::Deny => e.denied_by.insert(party.to_owned()),
            };
        }
        self.refresh(state, geo, &id);
        Ok(id)
    }
}

fn zones(geo: Option<&Geography>, e: &Event) -> Vec<crate::state::ZoneHit> {
    geo.map(|g| g.hits(e.point, f64::from(e.precision_m)))
        .unwrap_or_default()
}

/// The next number of a SplitMix64 sequence (Steele, Lea and Flood 2014): well spread whatever
/// the seed, in integer arithmetic.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A member scored against the rest of its event.
enum Against {
    /// It is the event's only member.
    Alone,
    /// The other members could not be fused.
    Unfused,
    /// The score (0 where the two cannot be compared).
    Scored(f64),
}

/// `e12` before `e100`: numeric order of event ids.
fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    let n = |s: &str| s.trim_start_matches('e').parse::<u64>().unwrap_or(u64::MAX);
    n(a).cmp(&n(b)).then_with(|| a.cmp(b))
}

fn older_first(a: &str, b: &str) -> (String, String) {
    if id_order(a, b).is_le() {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

fn blank_event(id: &str, r: &ReportRec) -> Event {
    Event {
        id: id.to_owned(),
        reports: vec![],
        reporters: Parties::new(),
        confirmed_by: Parties::new(),
        denied_by: Parties::new(),
        merged_into: None,
        event_type: r.event_type,
        sub_event_type: None,
        start: r.start,
        end: r.end,
        time_precision: r.time_precision,
        point: r.point,
        precision_m: r.precision_m,
        place: None,
        perpetrator: r.perpetrator.clone(),
        attribution_support: 100,
        target: None,
        casualties: Casualties::default(),
        corroboration: Corroboration::SingleSource,
        zones: vec![],
        logged: r.logged,
    }
}

/// The fused description of event `id` if it had exactly `members`.
fn fused(state: &State, id: &str, members: &[u64]) -> Option<Event> {
    let base = state.events.get(id)?;
    let reps: Vec<&ReportRec> = members
        .iter()
        .filter_map(|m| state.reports.get(m).map(|r| &**r))
        .collect();
    let first = reps.first()?;
    let mut e = Event::clone(base);
    e.reports = members.to_vec();
    // Location: precision-weighted mean, summed in an order of the reports' content (not
    // their log order), so that floating-point rounding does not depend on arrival order.
    let mut by_content = reps.clone();
    by_content.sort_by(|a, b| {
        (
            a.point[0].to_bits(),
            a.point[1].to_bits(),
            a.precision_m,
            a.weight,
        )
            .cmp(&(
                b.point[0].to_bits(),
                b.point[1].to_bits(),
                b.precision_m,
                b.weight,
            ))
    });
    let (mut wsum, mut lon, mut lat, mut inv) = (0.0, 0.0, 0.0, 0.0);
    for r in &by_content {
        let rad = f64::from(r.precision_m.max(1));
        let w = f64::from(r.weight.max(1)) / (rad * rad);
        wsum += w;
        lon += w * r.point[0];
        lat += w * r.point[1];
        inv += 1.0 / (rad * rad);
    }
    e.point = [lon / wsum, lat / wsum];
    e.precision_m = (1.0 / libm::sqrt(inv)).round().clamp(1.0, 500_000.0) as u32;
    // Time: the intersection of the windows, or their hull.
    let s = reps.iter().map(|r| r.start).max().unwrap_or(first.start);
    let t = reps.iter().map(|r| r.end).min().unwrap_or(first.end);
    if s <= t {
        e.start = s;
        e.end = t;
    } else {
        e.start = reps.iter().map(|r| r.start).min().unwrap_or(first.start);
        e.end = reps.iter().map(|r| r.end).max().unwrap_or(first.end);
    }
    e.time_precision = reps
        .iter()
        .map(|r| r.time_precision)
        .min_by_key(|p| precision_rank(*p))
        .unwrap_or(first.time_precision);
    // Type and perpetrator by graded vote (ties: the first in a fixed order).
    // Votes: (graded weight, position of the first report naming it). Ties go to what the
    // earliest report said — never to a name's alphabetical order, which would favour a party.
    let mut types: BTreeMap<String, (u64, usize, EventType)> = BTreeMap::new();
    let mut perps: BTreeMap<&str, (u64, usize)> = BTreeMap::new();
    let mut targets: BTreeMap<&str, (u64, usize)> = BTreeMap::new();
    for (pos, r) in reps.iter().enumerate() {
        let w = u64::from(r.weight.max(1));
        types
            .entry(truce_model::ids::wire_name(&r.event_type))
            .or_insert((0, pos, r.event_type))
            .0 += w;
        if r.perpetrator != "UNKNOWN" {
            perps.entry(r.perpetrator.as_str()).or_insert((0, pos)).0 += w;
        }
        if let Some(t) = &r.target {
            targets.entry(t.as_str()).or_insert((0, pos)).0 += w;
        }
    }
    let best = |m: &BTreeMap<&str, (u64, usize)>| {
        m.iter()
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then_with(|| b.1.1.cmp(&a.1.1)))
            .map(|(k, _)| (*k).to_owned())
    };
    e.event_type = types
        .values()
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
        .map(|v| v.2)
        .unwrap_or(first.event_type);
    let total: u64 = perps.values().map(|v| v.0).sum();
    match best(&perps) {
        Some(p) => {
            e.attribution_support = (perps[p.as_str()].0 * 100 / total.max(1)) as u32;
            e.perpetrator = p;
        }
        None => {
            e.perpetrator = "UNKNOWN".into();
            e.attribution_support = 0;
        }
    }
    e.target = best(&targets);
    e.sub_event_type = reps
        .iter()
        .filter(|r| r.event_type == e.event_type)
        .max_by_key(|r| r.weight)
        .and_then(|r| r.sub_event_type.clone());
    e.place = reps
        .iter()
        .filter(|r| r.place.is_some())
        .max_by_key(|r| r.weight)
        .and_then(|r| r.place.clone());
    e.casualties = merge_casualties(&reps);
    e.reporters = reps.iter().map(|r| r.party.clone()).collect();
    e.logged = reps.iter().map(|r| r.logged).min().unwrap_or(first.logged);
    e.corroboration = corroboration_of(state, &e, reps.len());
    Some(e)
}

/// The corroboration of event `e` of `reports` reports, from who reported and confirmed it.
fn corroboration_of(state: &State, e: &Event, reports: usize) -> Corroboration {
    let roles: Vec<PartyRole> = e
        .reporters
        .iter()
        .chain(e.confirmed_by.iter())
        .filter_map(|p| state.agreement.as_ref().and_then(|a| a.party_role(p)))
        .collect();
    let parties: BTreeSet<&String> = e.reporters.iter().chain(e.confirmed_by.iter()).collect();
    corroboration(&roles, reports, parties.len(), !e.denied_by.is_empty())
}

fn precision_rank(p: truce_model::time::TimePrecision) -> u8 {
    use truce_model::time::TimePrecision::*;
    match p {
        Exact => 0,
        Hour => 1,
        Day => 2,
        Week => 3,
        Month => 4,
    }
}

/// The widest range and the median of the best estimates, per category.
fn merge_casualties(reps: &[&ReportRec]) -> Casualties {
    let pick = |f: fn(&Casualties) -> Option<Count>| -> Option<Count> {
        let counts: Vec<Count> = reps.iter().filter_map(|r| f(&r.casualties)).collect();
        if counts.is_empty() {
            return None;
        }
        let mut bests: Vec<u32> = counts.iter().map(|c| c.best).collect();
        bests.sort_unstable();
        let best = bests[(bests.len() - 1) / 2];
        let low = counts.iter().map(|c| c.low).min().unwrap_or(best).min(best);
        let high = counts
            .iter()
            .map(|c| c.high)
            .max()
            .unwrap_or(best)
            .max(best);
        Some(Count { low, best, high })
    };
    Casualties {
        killed: pick(|c| c.killed),
        injured: pick(|c| c.injured),
        civilians_killed: pick(|c| c.civilians_killed),
        civilians_injured: pick(|c| c.civilians_injured),
        detained: pick(|c| c.detained),
    }
}
