//! `civilian_protection`: a case reported against a bound party opens two deadlines: an
//! answer (acknowledge or deny) within `acknowledge_within_hours`, a resolution (release or
//! transfer) within `resolve_within_days`.

use super::{CaseCx, Hooks};
use crate::state::{Deadline, DeadlineStatus, Obligation};
use crate::{days_, hours};
use jiff::Timestamp;
use truce_model::rules::CivilianProtection;

impl Hooks for CivilianProtection {
    fn case_deadlines(&self, cx: &CaseCx<'_>, out: &mut Vec<Deadline>) {
        let (case, reported) = (cx.case, cx.reported);
        let mk = |suffix: &str, due: Timestamp, obligation| Deadline {
            id: format!("{}/case-{case}/{suffix}", cx.rule.id),
            rule: cx.rule.id.clone(),
            party: cx.detaining.to_owned(),
            due,
            obligation,
            status: DeadlineStatus::Pending,
            evidence: vec![case],
            basis: None,
            finding: None,
            settled_at: None,
        };
        if let Ok(due) = reported.saturating_add(hours(self.acknowledge_within_hours)) {
            out.push(mk("answer", due, Obligation::CaseAnswer { case }));
        }
        if let Ok(due) = reported.saturating_add(days_(self.resolve_within_days)) {
            out.push(mk("resolution", due, Obligation::CaseResolution { case }));
        }
    }
}
