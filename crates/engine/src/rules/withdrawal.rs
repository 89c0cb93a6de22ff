//! `withdrawal`: at each due time (the deadline, and each phase's), the latest posture of the
//! party in the zones must count no forces (for phases that require it: a mediator or
//! observer inspection must show none); after the deadline, presence events and posture in
//! the zones are findings.

use super::{Draft, EventCx, ForceCx, Hooks, PRESENCE_TYPES, PostureCx};
use crate::state::{Deadline, DeadlineStatus, Obligation, State};
use crate::{Geography, parse};
use jiff::Timestamp;
use std::collections::BTreeSet;
use truce_model::rules::Withdrawal;

/// The zones that must be empty at `t`: the rule's after its deadline, and each phase's after
/// the phase's deadline.
fn due_zones(w: &Withdrawal<'_>, t: Timestamp) -> BTreeSet<String> {
    let mut zones = BTreeSet::new();
    if t >= w.deadline {
        zones.extend(w.zones.iter().cloned());
    }
    for ph in w.phases {
        if parse(&ph.deadline).is_some_and(|d| t >= d) {
            zones.extend(ph.zones.iter().cloned());
        }
    }
    zones
}

impl Hooks for Withdrawal<'_> {
    fn on_event(&self, cx: &EventCx<'_>, out: &mut Vec<Draft>) {
        if !PRESENCE_TYPES.contains(&cx.ev.event_type) {
            return;
        }
        let zones: Vec<String> = due_zones(self, cx.ev.start).into_iter().collect();
        if zones.is_empty() {
            return;
        }
        cx.in_zones(&zones, out, |d| {
            format!(
                "{}: forces present after the withdrawal deadline: {d}",
                cx.rule.title
            )
        });
    }

    fn on_posture(&self, cx: &mut PostureCx<'_>, out: &mut Vec<Draft>) {
        // The rule's zones come first, then each phase's, as the agreement lists them.
        let mut zones: Vec<String> = Vec::new();
        if cx.as_of >= self.deadline {
            zones.extend(self.zones.iter().cloned());
        }
        for ph in self.phases {
            if parse(&ph.deadline).is_some_and(|t| cx.as_of >= t) {
                zones.extend(ph.zones.iter().cloned());
            }
        }
        let found = cx.present(&zones);
        if !found.is_empty() {
            out.push(cx.forces_found(&found, " after the deadline,"));
        }
    }

    /// Ids are `<rule>[/<suffix>]/<party>[/phase-<n>]`.
    fn in_force_deadlines(&self, cx: &ForceCx<'_>, out: &mut Vec<Deadline>) {
        let rule = cx.rule;
        let base = if cx.suffix.is_empty() {
            rule.id.clone()
        } else {
            format!("{}/{}", rule.id, cx.suffix)
        };
        for party in &rule.binds {
            let mut mk = |id: String, due, zones: &[String], phase, inspection_required| {
                out.push(Deadline {
                    id,
                    rule: rule.id.clone(),
                    party: party.clone(),
                    due,
                    obligation: Obligation::Withdrawal {
                        zones: zones.to_vec(),
                        phase,
                        inspection_required,
                    },
                    status: DeadlineStatus::Pending,
                    evidence: vec![],
                    basis: None,
                    finding: None,
                    settled_at: None,
                });
            };
            mk(
                format!("{base}/{party}"),
                self.deadline,
                self.zones,
                None,
                false,
            );
            for (i, ph) in self.phases.iter().enumerate() {
                if let Some(due) = parse(&ph.deadline) {
                    mk(
                        format!("{base}/{party}/phase-{}", i + 1),
                        due,
                        &ph.zones,
                        Some(i + 1),
                        ph.inspection_required,
                    );
                }
            }
        }
    }
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
