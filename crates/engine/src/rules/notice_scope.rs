//! `notice_scope`: an event whose type implies a listed activity by a bound party, under one
//! of its own current notices of that activity (a report ties it to the notice, or it lies in
//! the notice's area and window), outside the area or window an addressee acknowledged; and
//! posture of the party, during the window, above the force caps an addressee set for the
//! acknowledged area's zones. One finding per notice and acknowledging addressee. An
//! objection is not a scope: activity after an objection is on record in the notice, not a
//! finding of this rule.

use super::{Draft, EventCx, Hooks, PostureCx, activity_of, covers, describe_event};
use crate::state::Certainty;
use truce_model::ids::wire_name;
use truce_model::rules::NoticeScope;

impl Hooks for NoticeScope<'_> {
    fn on_event(&self, cx: &EventCx<'_>, out: &mut Vec<Draft>) {
        let (ev, perp, state) = (cx.ev, cx.perp, cx.state);
        let Some(act) = activity_of(ev.event_type) else {
            return;
        };
        if !self.activities.contains(&act) {
            return;
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
                    && covers(&n.area, ev, cx.geo).is_some());
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
                if covers(area, ev, cx.geo).is_none() {
                    outside.push("outside the area".to_owned());
                }
                if outside.is_empty() {
                    continue;
                }
                let s = format!(
                    "{}: {} by {perp} {} that {addressee} acknowledged for notice {n_index}: {}",
                    cx.rule.title,
                    wire_name(&act),
                    outside.join(" and "),
                    describe_event(ev, &None, Certainty::Certain, &[])
                );
                let id = format!("{}/{}/n{n_index}/{addressee}", cx.rule.id, ev.id);
                let mut d = cx.draft(None, Certainty::Certain, s, id);
                d.cite_notice(*n_index, n, addressee);
                out.push(d);
            }
        }
    }

    fn on_posture(&self, cx: &mut PostureCx<'_>, out: &mut Vec<Draft>) {
        let (party, as_of, index) = (cx.party, cx.as_of, cx.index);
        for (n_index, n) in &cx.state.notices {
            if !n.current() || n.party != party || as_of < n.start || as_of > n.end {
                continue;
            }
            for addressee in &n.addressees {
                let Some((area, start, end, caps)) = n.acknowledged_scope(addressee) else {
                    continue;
                };
                if caps.is_empty() || as_of < start || as_of > end {
                    continue;
                }
                let seen = cx.counts(|z| area.zones.iter().any(|a| a == z));
                let over: Vec<String> = caps
                    .iter()
                    .filter_map(|cap| {
                        let n = seen.get(&cap.category).copied().unwrap_or(0);
                        (n > u64::from(cap.count))
                            .then(|| format!("{} {n}, cap {}", wire_name(&cap.category), cap.count))
                    })
                    .collect();
                if over.is_empty() {
                    continue;
                }
                let mut f = cx.draft.clone();
                f.id = format!("{}/p{index}/n{n_index}/{addressee}", cx.rule.id);
                f.evidence = vec![*n_index, index];
                f.cite_notice(*n_index, n, addressee);
                f.summary = format!(
                    "{}: {} of {party} forces as of {as_of} above the caps {addressee} set for notice {n_index}: {}",
                    cx.rule.title,
                    cx.kind,
                    over.join("; ")
                );
                out.push(f);
            }
        }
    }
}
