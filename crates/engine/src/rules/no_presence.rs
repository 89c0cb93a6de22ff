//! `no_presence`: an event showing forces on the ground ([`PRESENCE_TYPES`]) attributed to a
//! bound party in the zones, or a posture entry (declared or inspected) counting forces of a
//! bound party there.

use super::{Draft, EventCx, Hooks, PRESENCE_TYPES, PostureCx};
use truce_model::rules::NoPresence;

impl Hooks for NoPresence<'_> {
    fn on_event(&self, cx: &EventCx<'_>, out: &mut Vec<Draft>) {
        if PRESENCE_TYPES.contains(&cx.ev.event_type) {
            cx.in_zones(self.zones, out, |d| format!("{}: {d}", cx.rule.title));
        }
    }

    fn on_posture(&self, cx: &mut PostureCx<'_>, out: &mut Vec<Draft>) {
        let found = cx.present(self.zones);
        if !found.is_empty() {
            out.push(cx.forces_found(&found, ""));
        }
    }
}
