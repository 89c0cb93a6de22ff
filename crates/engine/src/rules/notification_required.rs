//! `notification_required`: an event whose type implies a listed activity
//! ([`activity_of`]) by a bound party in the zones, without a current notice by that party of
//! that activity covering the place and time, notified at least the lead time before.

use super::{Draft, EventCx, Hooks, activity_of, covers};
use crate::hours;
use truce_model::ids::wire_name;
use truce_model::rules::NotificationRequired;

impl Hooks for NotificationRequired<'_> {
    fn on_event(&self, cx: &EventCx<'_>, out: &mut Vec<Draft>) {
        let (ev, perp) = (cx.ev, cx.perp);
        let Some(act) = activity_of(ev.event_type) else {
            return;
        };
        if !self.activities.contains(&act) {
            return;
        }
        let lead = hours(self.lead_time_hours);
        let notified = cx.state.notices.iter().any(|(_, n)| {
            n.current()
                && n.party == perp
                && n.activity == act
                && n.start <= ev.end
                && ev.start <= n.end
                && n.notified.saturating_add(lead).is_ok_and(|t| t <= ev.start)
                && covers(&n.area, ev, cx.geo).is_some()
        });
        if notified {
            return;
        }
        cx.in_zones(self.zones, out, |d| {
            format!(
                "{}: no notice of {} by {perp} at least {} h ahead: {d}",
                cx.rule.title,
                wire_name(&act),
                self.lead_time_hours,
            )
        });
    }
}
