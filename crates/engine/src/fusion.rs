//! From reports to events: the seam where fusion slots in.
//!
//! [`add_report`] is the only place reports turn into events. This version makes every report
//! its own event (no correlation yet); the fusion work replaces its body with correlation,
//! grading and merges. The contract the rest of the engine relies on stays the same: it
//! updates `state.events` and returns the ids of the events that were created or changed, in
//! ascending order, and the rules are re-evaluated for exactly those.

use crate::Geography;
use crate::state::{Corroboration, Event, State};
use jiff::Timestamp;
use std::collections::BTreeSet;
use truce_model::agreement::PartyRole;
use truce_model::report::Report;

/// Adds the report at log index `index`, filed by a member of `party`, at log time `logged`.
pub fn add_report(
    state: &mut State,
    geo: Option<&Geography>,
    index: u64,
    party: &str,
    r: &Report,
    logged: Timestamp,
) -> Vec<String> {
    let (start, end) = crate::widen(&r.time);
    let id = format!("e{index}");
    let zones = geo
        .map(|g| g.hits(r.location.point, f64::from(r.location.precision_m)))
        .unwrap_or_default();
    let role = state.agreement.as_ref().and_then(|a| a.party_role(party));
    let event = Event {
        id: id.clone(),
        reports: vec![index],
        reporters: BTreeSet::from([party.to_owned()]),
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
        corroboration: corroboration(role.into_iter().collect(), 1, 1),
        zones,
        logged,
    };
    state.events.insert(id.clone(), event);
    vec![id]
}

/// The corroboration level of an event reported `reports` times by `parties` distinct parties
/// with the given party roles.
pub fn corroboration(roles: Vec<PartyRole>, reports: usize, parties: usize) -> Corroboration {
    if roles
        .iter()
        .any(|r| matches!(r, PartyRole::Mediator | PartyRole::Observer))
    {
        Corroboration::Verified
    } else if parties > 1 {
        Corroboration::CrossParty
    } else if reports > 1 {
        Corroboration::OneParty
    } else {
        Corroboration::SingleSource
    }
}
