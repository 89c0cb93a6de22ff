//! `force_limit`: the latest declared and the latest inspected counts of a bound party,
//! summed over the rule's zones, against the limits; an inspection that counts more than the
//! party declared for a zone is itself a finding (under the first `force_limit` rule, in
//! agreement order, that binds the party and lists the zone).

use super::{Draft, Hooks, PostureCx};
use crate::state::PostureRec;
use std::collections::BTreeMap;
use truce_model::bodies::{ForceCategory, PostureType};
use truce_model::ids::wire_name;
use truce_model::rules::{ForceLimit, ForceLimits};

impl Hooks for ForceLimit<'_> {
    fn on_posture(&self, cx: &mut PostureCx<'_>, out: &mut Vec<Draft>) {
        let (party, kind, index, as_of) = (cx.party, cx.kind, cx.index, cx.as_of);
        let rule = cx.rule;
        let touches =
            cx.p.zones
                .iter()
                .any(|z| z.party == party && self.zones.contains(&z.zone));
        if !touches {
            return;
        }
        let recs: Vec<&PostureRec> = self
            .zones
            .iter()
            .filter_map(|z| cx.state.posture.get(&format!("{party}/{z}/{kind}")))
            .collect();
        let over = exceedances(self.limits, &totals(recs.iter().copied()));
        if !over.is_empty() {
            let mut ev: Vec<u64> = recs.iter().map(|r| r.index).collect();
            ev.sort_unstable();
            ev.dedup();
            let mut d = cx.draft.clone();
            d.evidence = ev;
            d.summary = format!(
                "{}: {party} forces in {} by {kind} as of {as_of}: {}",
                rule.title,
                self.zones.join(", "),
                over.join("; ")
            );
            out.push(d);
        }
        if cx.p.posture_type != PostureType::Inspection {
            return;
        }
        let mut diffs = Vec::new();
        let mut evidence = vec![index];
        for z in
            cx.p.zones
                .iter()
                .filter(|z| z.party == party && self.zones.contains(&z.zone))
        {
            if !cx.mismatch_done.insert((party.to_owned(), z.zone.clone())) {
                continue;
            }
            let Some(decl) = cx.before.get(&format!("{party}/{}/declaration", z.zone)) else {
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
            let mut m = Draft::posture(
                rule,
                format!("{}/p{index}/{party}/mismatch", rule.id),
                party,
                index,
                as_of,
            );
            m.evidence = evidence;
            m.summary = format!(
                "Inspection counts more {party} forces than {party} declared: {}",
                diffs.join("; ")
            );
            out.push(m);
        }
    }
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
