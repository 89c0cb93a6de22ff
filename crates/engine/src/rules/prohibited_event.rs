//! `prohibited_event`: an event of a listed type attributed to a bound party, in the rule's
//! zones (or anywhere when it lists none), while the rule is effective.

use super::{Draft, EventCx, Hooks};
use truce_model::rules::ProhibitedEvent;

impl Hooks for ProhibitedEvent<'_> {
    fn on_event(&self, cx: &EventCx<'_>, out: &mut Vec<Draft>) {
        if self.event_types.contains(&cx.ev.event_type) {
            cx.in_zones(self.zones, out, |d| format!("{}: {d}", cx.rule.title));
        }
    }
}
