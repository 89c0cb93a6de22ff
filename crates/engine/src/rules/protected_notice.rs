//! `protected_notice`: an event of a listed type attributed to a bound party, inside the
//! scope (area and window, as narrowed by its conditions) that the attributed party
//! acknowledged of another party's current notice.

use super::{Draft, EventCx, Hooks, covers, describe_event};
use truce_model::ids::wire_name;
use truce_model::rules::ProtectedNotice;

impl Hooks for ProtectedNotice<'_> {
    fn on_event(&self, cx: &EventCx<'_>, out: &mut Vec<Draft>) {
        let (ev, perp) = (cx.ev, cx.perp);
        if !self.event_types.contains(&ev.event_type) {
            return;
        }
        for (n_index, n) in &cx.state.notices {
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
            let Some(c) = covers(area, ev, cx.geo) else {
                continue;
            };
            let s = format!(
                "{}: {} against the {} notified by {} (notice {n_index}) and acknowledged by {perp}: {}",
                cx.rule.title,
                wire_name(&ev.event_type),
                wire_name(&n.activity),
                n.party,
                describe_event(ev, &None, c, &[])
            );
            let id = format!("{}/{}/n{n_index}", cx.rule.id, ev.id);
            let mut d = cx.draft(None, c, s, id);
            d.cite_notice(*n_index, n, perp);
            out.push(d);
        }
    }
}
