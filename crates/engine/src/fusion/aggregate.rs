//! Incremental aggregates of an event's member reports, for events of more than
//! [`EXACT_MEMBERS`](super::EXACT_MEMBERS) members.
//!
//! Everything [`fused`](super::fused) computes from the members is kept here in a form that a
//! member can be added to or removed from in O(log n): integer sums, multisets, vote tallies
//! and a two-halves median. An aggregate is a pure function of the set of members — the sums
//! are exact (fixed point, wrapping integer addition, so their order never matters) and every
//! other part is an ordered structure — so one built from a restored state equals one kept up
//! to date entry by entry, and a member removed and added back leaves it as it was.
//!
//! It describes the event as `fused` does, field for field and with the same ties, except the
//! location's sums: `fused` adds floating-point terms in an order of the reports' content,
//! which cannot be kept up to date; here each report's terms are rounded once to multiples of
//! 2⁻⁷² and added exactly, so `point` and `precision_m` can differ from `fused`'s in the last
//! bits (`precision_m` by one metre where the radius rounds near .5).

use crate::state::{Event, Parties, ReportRec, State};
use jiff::Timestamp;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use truce_model::report::{Casualties, Count, EventType};
use truce_model::time::TimePrecision;

/// 2⁷²: a report's location terms are at most 1,000 (grade weight over a radius of 1 m) times
/// 180°, under 2¹⁸, so the sums of 2³⁷ members stay within an `i128`; a term of 2⁻¹⁹ or more
/// (any but the vaguest reports') is an integer at this scale, so rounding it loses nothing.
const FIXED_SCALE: f64 = 4_722_366_482_869_645_213_696.0;

fn fixed(x: f64) -> i128 {
    // `as` saturates (and maps NaN to 0): admitted reports never come near either.
    (x * FIXED_SCALE).round() as i128
}

/// A report's terms of the location sums: its weight (grade / r²), the weighted longitude and
/// latitude, and 1 / r² — the terms `fused` adds, each rounded once.
fn location_terms(r: &ReportRec) -> [i128; 4] {
    let rad = f64::from(r.precision_m.max(1));
    let w = f64::from(r.weight.max(1)) / (rad * rad);
    [
        fixed(w),
        fixed(w * r.point[0]),
        fixed(w * r.point[1]),
        fixed(1.0 / (rad * rad)),
    ]
}

pub(super) const PRECISIONS: [TimePrecision; 5] = [
    TimePrecision::Exact,
    TimePrecision::Hour,
    TimePrecision::Day,
    TimePrecision::Week,
    TimePrecision::Month,
];

fn type_key(t: EventType) -> u8 {
    t as u8
}

/// A multiset, as counts by value.
#[derive(Debug, Clone)]
struct Multiset<T>(BTreeMap<T, u32>);

impl<T> Default for Multiset<T> {
    fn default() -> Self {
        Multiset(BTreeMap::new())
    }
}

impl<T: Ord + Copy> Multiset<T> {
    fn add(&mut self, v: T) {
        *self.0.entry(v).or_insert(0) += 1;
    }

    fn remove(&mut self, v: T) {
        if let Some(c) = self.0.get_mut(&v) {
            *c -= 1;
            if *c == 0 {
                self.0.remove(&v);
            }
        }
    }

    fn min(&self) -> Option<T> {
        self.0.keys().next().copied()
    }

    fn max(&self) -> Option<T> {
        self.0.keys().next_back().copied()
    }
}

/// The lower median of a multiset (`sorted[(len - 1) / 2]`, as `merge_casualties` takes it):
/// the smaller half (the larger one when the count is odd) and the rest, so the median is the
/// largest of the lower half.
#[derive(Debug, Clone, Default)]
struct Median {
    lower: Multiset<u32>,
    upper: Multiset<u32>,
    lower_len: usize,
    upper_len: usize,
}

impl Median {
    fn add(&mut self, v: u32) {
        if self.lower.max().is_none_or(|m| v <= m) {
            self.lower.add(v);
            self.lower_len += 1;
        } else {
            self.upper.add(v);
            self.upper_len += 1;
        }
        self.balance();
    }

    fn remove(&mut self, v: u32) {
        // Everything in the upper half is at least the lower half's maximum, so a value up to
        // that maximum has a copy in the lower half.
        if self.lower.max().is_some_and(|m| v <= m) {
            self.lower.remove(v);
            self.lower_len -= 1;
        } else {
            self.upper.remove(v);
            self.upper_len -= 1;
        }
        self.balance();
    }

    fn balance(&mut self) {
        while self.lower_len > self.upper_len + 1 {
            let Some(m) = self.lower.max() else { break };
            self.lower.remove(m);
            self.upper.add(m);
            self.lower_len -= 1;
            self.upper_len += 1;
        }
        while self.upper_len > self.lower_len {
            let Some(m) = self.upper.min() else { break };
            self.upper.remove(m);
            self.lower.add(m);
            self.upper_len -= 1;
            self.lower_len += 1;
        }
    }

    fn get(&self) -> Option<u32> {
        self.lower.max()
    }
}

/// A graded vote: per value, its total weight and the members naming it; and the values ranked
/// by weight, ties to the earliest member naming it (as `fused` breaks them). A value is
/// ranked by its earliest member, which names only it, so the winner's value is read from
/// that member's report.
#[derive(Debug, Clone)]
struct Votes<K> {
    tally: BTreeMap<K, (u64, BTreeSet<u64>)>,
    ranked: BTreeSet<(Reverse<u64>, u64)>,
    total: u64,
}

impl<K> Default for Votes<K> {
    fn default() -> Self {
        Votes {
            tally: BTreeMap::new(),
            ranked: BTreeSet::new(),
            total: 0,
        }
    }
}

impl<K: Ord + Clone> Votes<K> {
    fn add(&mut self, key: &K, weight: u64, member: u64) {
        let t = self.tally.entry(key.clone()).or_default();
        if let Some(first) = t.1.first() {
            self.ranked.remove(&(Reverse(t.0), *first));
        }
        t.0 += weight;
        t.1.insert(member);
        if let Some(first) = t.1.first() {
            self.ranked.insert((Reverse(t.0), *first));
        }
        self.total += weight;
    }

    fn remove(&mut self, key: &K, weight: u64, member: u64) {
        let Some(t) = self.tally.get_mut(key) else {
            return;
        };
        if let Some(first) = t.1.first() {
            self.ranked.remove(&(Reverse(t.0), *first));
        }
        t.0 -= weight;
        t.1.remove(&member);
        match t.1.first() {
            Some(first) => {
                self.ranked.insert((Reverse(t.0), *first));
            }
            None => {
                self.tally.remove(key);
            }
        }
        self.total -= weight;
    }

    /// The winner's weight and earliest member.
    fn best(&self) -> Option<(u64, u64)> {
        self.ranked.first().map(|(w, m)| (w.0, *m))
    }
}

/// What the split check compares a member with: the shape fields of the event without it.
#[derive(Debug, Clone)]
pub(super) struct Summary {
    pub point: [f64; 2],
    pub precision_m: u32,
    pub start: Timestamp,
    pub end: Timestamp,
    pub time_precision: TimePrecision,
    pub event_type: EventType,
    pub perpetrator: String,
    pub attribution_support: u32,
    pub reporters: Parties,
}

/// The aggregates the split check needs (location, time, type, perpetrator, reporters): the
/// part a member is taken out of and put back into for each check.
#[derive(Debug, Clone, Default)]
struct ShapeAgg {
    members: usize,
    /// Σ weight, Σ weight × longitude, Σ weight × latitude, Σ 1 / r², at [`FIXED_SCALE`].
    sums: [i128; 4],
    starts: Multiset<Timestamp>,
    ends: Multiset<Timestamp>,
    precisions: [u64; 5],
    types: Votes<u8>,
    perpetrators: Votes<String>,
    parties: BTreeMap<String, u64>,
}

impl ShapeAgg {
    fn add(&mut self, r: &ReportRec, m: u64) {
        self.members += 1;
        for (s, t) in self.sums.iter_mut().zip(location_terms(r)) {
            *s = s.wrapping_add(t);
        }
        self.starts.add(r.start);
        self.ends.add(r.end);
        self.precisions[usize::from(super::precision_rank(r.time_precision))] += 1;
        let w = u64::from(r.weight.max(1));
        self.types.add(&type_key(r.event_type), w, m);
        if r.perpetrator != "UNKNOWN" {
            self.perpetrators.add(&r.perpetrator, w, m);
        }
        *self.parties.entry(r.party.clone()).or_insert(0) += 1;
    }

    fn remove(&mut self, r: &ReportRec, m: u64) {
        self.members -= 1;
        for (s, t) in self.sums.iter_mut().zip(location_terms(r)) {
            *s = s.wrapping_sub(t);
        }
        self.starts.remove(r.start);
        self.ends.remove(r.end);
        self.precisions[usize::from(super::precision_rank(r.time_precision))] -= 1;
        let w = u64::from(r.weight.max(1));
        self.types.remove(&type_key(r.event_type), w, m);
        if r.perpetrator != "UNKNOWN" {
            self.perpetrators.remove(&r.perpetrator, w, m);
        }
        if let Some(c) = self.parties.get_mut(&r.party) {
            *c -= 1;
            if *c == 0 {
                self.parties.remove(&r.party);
            }
        }
    }

    fn summary(&self, state: &State) -> Option<Summary> {
        if self.members == 0 {
            return None;
        }
        let [w, lon, lat, inv] = self.sums.map(|s| s as f64);
        let inv = inv / FIXED_SCALE;
        let (s, t) = (self.starts.max()?, self.ends.min()?);
        let (start, end) = if s <= t {
            (s, t)
        } else {
            (self.starts.min()?, self.ends.max()?)
        };
        let rank = self.precisions.iter().position(|c| *c > 0)?;
        let (_, first_type) = self.types.best()?;
        let event_type = state.reports.get(&first_type)?.event_type;
        let (perpetrator, attribution_support) = match self.perpetrators.best() {
            Some((w, first)) => (
                state.reports.get(&first)?.perpetrator.clone(),
                (w * 100 / self.perpetrators.total.max(1)) as u32,
            ),
            None => ("UNKNOWN".to_owned(), 0),
        };
        Some(Summary {
            point: [lon / w, lat / w],
            precision_m: (1.0 / libm::sqrt(inv)).round().clamp(1.0, 500_000.0) as u32,
            start,
            end,
            time_precision: PRECISIONS[rank],
            event_type,
            perpetrator,
            attribution_support,
            reporters: self.parties.keys().cloned().collect(),
        })
    }
}

/// The casualty figures of one category: the median of the best estimates, the lowest low and
/// the highest high.
#[derive(Debug, Clone, Default)]
struct CasualtyAgg {
    best: Median,
    low: Multiset<u32>,
    high: Multiset<u32>,
}

impl CasualtyAgg {
    fn add(&mut self, c: Count) {
        self.best.add(c.best);
        self.low.add(c.low);
        self.high.add(c.high);
    }

    fn remove(&mut self, c: Count) {
        self.best.remove(c.best);
        self.low.remove(c.low);
        self.high.remove(c.high);
    }

    fn get(&self) -> Option<Count> {
        let best = self.best.get()?;
        Some(Count {
            low: self.low.min().unwrap_or(best).min(best),
            best,
            high: self.high.max().unwrap_or(best).max(best),
        })
    }
}

fn categories(c: &Casualties) -> [Option<Count>; 5] {
    [
        c.killed,
        c.injured,
        c.civilians_killed,
        c.civilians_injured,
        c.detained,
    ]
}

/// The aggregates of an event's members.
#[derive(Debug, Clone, Default)]
pub(super) struct Agg {
    shape: ShapeAgg,
    targets: Votes<String>,
    /// Per event type, its members by (grade weight, log index): the sub-event type is that of
    /// the last, as `fused`'s `max_by_key` takes it.
    sub_types: BTreeMap<u8, BTreeSet<(u32, u64)>>,
    /// The members that name a place, by (grade weight, log index).
    places: BTreeSet<(u32, u64)>,
    casualties: [CasualtyAgg; 5],
    logged: Multiset<Timestamp>,
}

impl Agg {
    /// The aggregates of `members` (those of them that are reports of `state`).
    pub fn build(state: &State, members: &[u64]) -> Agg {
        let mut a = Agg::default();
        for m in members {
            if let Some(r) = state.reports.get(m) {
                a.add(r, *m);
            }
        }
        a
    }

    pub fn members(&self) -> usize {
        self.shape.members
    }

    pub fn add(&mut self, r: &ReportRec, m: u64) {
        self.shape.add(r, m);
        if let Some(t) = &r.target {
            self.targets.add(t, u64::from(r.weight.max(1)), m);
        }
        self.sub_types
            .entry(type_key(r.event_type))
            .or_default()
            .insert((r.weight, m));
        if r.place.is_some() {
            self.places.insert((r.weight, m));
        }
        for (agg, c) in self.casualties.iter_mut().zip(categories(&r.casualties)) {
            if let Some(c) = c {
                agg.add(c);
            }
        }
        self.logged.add(r.logged);
    }

    pub fn remove(&mut self, r: &ReportRec, m: u64) {
        self.shape.remove(r, m);
        if let Some(t) = &r.target {
            self.targets.remove(t, u64::from(r.weight.max(1)), m);
        }
        let key = type_key(r.event_type);
        if let Some(set) = self.sub_types.get_mut(&key) {
            set.remove(&(r.weight, m));
            if set.is_empty() {
                self.sub_types.remove(&key);
            }
        }
        self.places.remove(&(r.weight, m));
        for (agg, c) in self.casualties.iter_mut().zip(categories(&r.casualties)) {
            if let Some(c) = c {
                agg.remove(c);
            }
        }
        self.logged.remove(r.logged);
    }

    /// The shape fields of the event without member `m` (report `r`); the aggregates are left
    /// as they were.
    pub fn summary_without(&mut self, state: &State, r: &ReportRec, m: u64) -> Option<Summary> {
        self.shape.remove(r, m);
        let s = self.shape.summary(state);
        self.shape.add(r, m);
        s
    }

    /// Writes the fused description into `e`, as `fused` would from the members (`e`'s
    /// reports, confirmations and denials are its own; its zones are the caller's). False,
    /// and `e` untouched, if there are no members.
    pub fn describe(&self, state: &State, e: &mut Event) -> bool {
        let (Some(s), Some(logged)) = (self.shape.summary(state), self.logged.min()) else {
            return false;
        };
        let report = |m: &u64| state.reports.get(m);
        e.point = s.point;
        e.precision_m = s.precision_m;
        e.start = s.start;
        e.end = s.end;
        e.time_precision = s.time_precision;
        e.event_type = s.event_type;
        e.perpetrator = s.perpetrator;
        e.attribution_support = s.attribution_support;
        e.target = self
            .targets
            .best()
            .and_then(|(_, first)| report(&first))
            .and_then(|r| r.target.clone());
        e.sub_event_type = self
            .sub_types
            .get(&type_key(e.event_type))
            .and_then(|set| set.last())
            .and_then(|(_, m)| report(m))
            .and_then(|r| r.sub_event_type.clone());
        e.place = self
            .places
            .last()
            .and_then(|(_, m)| report(m))
            .and_then(|r| r.place.clone());
        let [
            killed,
            injured,
            civilians_killed,
            civilians_injured,
            detained,
        ] = self.casualties.each_ref().map(CasualtyAgg::get);
        e.casualties = Casualties {
            killed,
            injured,
            civilians_killed,
            civilians_injured,
            detained,
        };
        e.reporters = s.reporters;
        e.logged = logged;
        e.corroboration = super::corroboration_of(state, e, self.shape.members);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Median;
    use proptest::prelude::*;

    proptest! {
        /// The two-halves median is `sorted[(len - 1) / 2]`, through adds and removes.
        #[test]
        fn median_follows_adds_and_removes(
            ops in prop::collection::vec((any::<bool>(), 0u32..20), 1..200),
        ) {
            let mut m = Median::default();
            let mut model: Vec<u32> = Vec::new();
            for (add, v) in ops {
                if add || model.is_empty() {
                    m.add(v);
                    model.push(v);
                } else {
                    let v = model[v as usize % model.len()];
                    m.remove(v);
                    let at = model.iter().position(|x| *x == v).unwrap();
                    model.remove(at);
                }
                model.sort_unstable();
                let want = (!model.is_empty()).then(|| model[(model.len() - 1) / 2]);
                prop_assert_eq!(m.get(), want);
            }
        }
    }
}
