//! The findings lifecycle: recording findings, disputes, rulings, appeals, deadlines and
//! expiry.
//!
//! ```text
//! alleged ──▶ corroborated ──▶ disputed ──▶ upheld | dismissed ──(appeal, if allowed)──▶ disputed …
//!    │              │
//!    │              └──(no dispute; window elapsed)──▶ ruled upheld | dismissed
//!    └──▶ expired (never corroborated nor disputed, if the agreement sets an expiry)
//! deadline missed ──▶ missed ──▶ disputed ──▶ upheld | dismissed
//! ```
//!
//! Stages are enforced: only the party held responsible disputes a finding, within the
//! agreement's dispute window; the mediator rules on an open dispute, or without one only once
//! the window has elapsed; a ruling is final unless the agreement allows appeals (then the
//! party it went against may appeal within a new window). Entries that break these rules are
//! returned as `Err(reason)` and recorded by the engine as ignored.

use crate::rules::{Draft, withdrawal_outcome};
use crate::state::{
    DeadlineStatus, DisputeRec, Finding, Obligation, RulingRec, State, Status, Subject, Transition,
};
use crate::{hours, rules};
use jiff::Timestamp;
use truce_model::bodies::{Decision, Dispute, Ruling};

fn window(state: &State) -> u32 {
    state
        .agreement
        .as_ref()
        .map_or(72, |a| a.procedure.dispute_window_hours)
}

fn later(t: Timestamp, h: u32) -> Timestamp {
    t.saturating_add(hours(h)).unwrap_or(t)
}

/// Records a draft. Returns the id and time of a finding newly made `alleged` (for the expiry
/// timer).
pub fn record(state: &mut State, index: u64, d: Draft) -> Option<(String, Timestamp)> {
    let clock = state.clock.unwrap_or(d.occurred);
    let state_sealed = &state.sealed;
    let sealed_evidence = sealed_of(state_sealed, &d.evidence);
    if let Some(f) = state.findings.get_mut(&d.id) {
        let open = matches!(f.status, Status::Alleged | Status::Corroborated);
        if f.party != d.party {
            if open {
                f.history.push(Transition {
                    status: f.status,
                    index,
                    at: clock,
                    reason: format!(
                        "attribution changed by fusion from {} to {}",
                        f.party, d.party
                    ),
                });
                f.party = d.party.clone();
            } else {
                f.superseded = Some(format!(
                    "the event is now attributed to {}, not {}",
                    d.party, f.party
                ));
                return None;
            }
        }
        f.superseded = None;
        f.sealed_evidence = sealed_of(state_sealed, &d.evidence);
        f.evidence = d.evidence;
        f.certainty = d.certainty;
        f.summary = d.summary;
        f.layer = d.layer;
        if d.corroborated && f.status == Status::Alleged {
            f.status = Status::Corroborated;
            f.history.push(Transition {
                status: Status::Corroborated,
                index,
                at: clock,
                reason: "the event is now corroborated".into(),
            });
        }
        return None;
    }
    let (status, reason) = if d.missed {
        (
            Status::Missed,
            "the deadline passed with the obligation unmet",
        )
    } else if d.corroborated {
        (
            Status::Corroborated,
            "supported across parties, by the mediator or an observer, or by the responsible party's own entry",
        )
    } else {
        (Status::Alleged, "reported by one party")
    };
    let f = Finding {
        id: d.id.clone(),
        rule: d.rule,
        rule_kind: d.rule_kind,
        severity: d.severity,
        party: d.party,
        subject: d.subject,
        layer: d.layer,
        certainty: d.certainty,
        evidence: d.evidence,
        summary: d.summary,
        status,
        occurred: d.occurred,
        made: clock,
        dispute_until: later(clock, window(state)),
        appeals: 0,
        superseded: None,
        sealed_evidence,
        history: vec![Transition {
            status,
            index,
            at: clock,
            reason: reason.into(),
        }],
    };
    state.findings.insert(d.id.clone(), Box::new(f));
    (status == Status::Alleged).then_some((d.id, clock))
}

/// The evidence entries that have sealed parts.
fn sealed_of(sealed: &std::collections::BTreeMap<u64, Vec<String>>, evidence: &[u64]) -> Vec<u64> {
    evidence
        .iter()
        .copied()
        .filter(|i| sealed.contains_key(i))
        .collect()
}

fn open_dispute(state: &State, finding: &str) -> Option<u64> {
    state
        .disputes
        .iter()
        .rev()
        .find(|(_, d)| d.finding == finding && d.ruling.is_none())
        .map(|(i, _)| *i)
}

/// The parties whose reports a finding rests on.
fn accusers(state: &State, f: &Finding) -> Vec<String> {
    match &f.subject {
        Subject::Event { event } => state
            .events
            .get(event)
            .map(|e| e.reporters.iter().cloned().collect())
            .unwrap_or_default(),
        _ => vec![],
    }
}

/// Whether a member of `party` may dispute (or appeal) a finding now: `Ok(appeal)` or the
/// reason the engine would give the entry no effect.
pub fn check_dispute(
    state: &State,
    party: &str,
    d: &Dispute,
    clock: Timestamp,
) -> Result<bool, String> {
    let appeals_allowed = state.agreement.as_ref().map_or(0, |a| a.procedure.appeals);
    let Some(f) = state.findings.get(&d.finding) else {
        return Err(format!("no finding `{}`", d.finding));
    };
    let appeal = match f.status {
        Status::Alleged | Status::Corroborated | Status::Missed => {
            if party != f.party {
                return Err(format!(
                    "only {}, the party held responsible, may dispute finding `{}`",
                    f.party, f.id
                ));
            }
            false
        }
        Status::Upheld | Status::Dismissed => {
            if f.appeals >= appeals_allowed {
                return Err(format!("the ruling on finding `{}` is final", f.id));
            }
            let losers = if f.status == Status::Upheld {
                vec![f.party.clone()]
            } else {
                accusers(state, f)
            };
            if !losers.iter().any(|p| p == party) {
                return Err(format!(
                    "only the party the ruling went against ({}) may appeal it",
                    losers.join(", ")
                ));
            }
            true
        }
        Status::Disputed => {
            return Err(format!(
                "finding `{}` is already disputed (entry {}); await the ruling",
                f.id,
                open_dispute(state, &f.id).unwrap_or_default()
            ));
        }
        Status::Expired => return Err(format!("finding `{}` has expired", f.id)),
    };
    if clock > f.dispute_until {
        return Err(format!(
            "the dispute window of finding `{}` closed at {}",
            f.id, f.dispute_until
        ));
    }
    Ok(appeal)
}

/// A dispute (or an appeal) of a finding by a member of `party`.
pub fn dispute(
    state: &mut State,
    index: u64,
    author: &str,
    party: &str,
    d: &Dispute,
    clock: Timestamp,
) -> Result<(), String> {
    let appeal = check_dispute(state, party, d, clock)?;
    let Some(f) = state.findings.get(&d.finding) else {
        return Err(format!("no finding `{}`", d.finding));
    };
    let id = f.id.clone();
    state.disputes.insert(
        index,
        DisputeRec {
            finding: id.clone(),
            party: party.to_owned(),
            author: author.to_owned(),
            reasons: d.reasons.clone(),
            evidence: d.evidence.clone(),
            filed: clock,
            appeal,
            ruling: None,
        },
    );
    if let Some(f) = state.findings.get_mut(&id) {
        f.status = Status::Disputed;
        f.history.push(Transition {
            status: Status::Disputed,
            index,
            at: clock,
            reason: format!(
                "{} by {party}: {}",
                if appeal { "appealed" } else { "disputed" },
                d.reasons.chars().take(200).collect::<String>()
            ),
        });
    }
    Ok(())
}

/// Whether the mediator may rule on a finding now; the reason the engine would give the entry
/// no effect otherwise.
pub fn check_ruling(state: &State, r: &Ruling, clock: Timestamp) -> Result<(), String> {
    let Some(f) = state.findings.get(&r.finding) else {
        return Err(format!("no finding `{}`", r.finding));
    };
    if r.rule != f.rule {
        return Err(format!(
            "the ruling cites rule `{}`, but finding `{}` is under rule `{}`",
            r.rule, f.id, f.rule
        ));
    }
    let open = open_dispute(state, &f.id);
    match (f.status, r.dispute) {
        (Status::Disputed, Some(dx)) if Some(dx) == open => Ok(()),
        (Status::Disputed, _) => Err(format!(
            "finding `{}` is disputed by entry {}: the ruling must answer that dispute",
            f.id,
            open.unwrap_or_default()
        )),
        (Status::Alleged | Status::Corroborated | Status::Missed, None) => {
            if clock <= f.dispute_until {
                Err(format!(
                    "the dispute window of finding `{}` is open until {}; rule after it, or on a dispute",
                    f.id, f.dispute_until
                ))
            } else {
                Ok(())
            }
        }
        (Status::Alleged | Status::Corroborated | Status::Missed, Some(dx)) => {
            Err(format!("dispute {dx} is not open on finding `{}`", f.id))
        }
        (Status::Upheld | Status::Dismissed, _) => {
            Err(format!("finding `{}` has been ruled on already", f.id))
        }
        (Status::Expired, _) => Err(format!("finding `{}` has expired", f.id)),
    }
}

/// A ruling by the mediator.
pub fn rule(
    state: &mut State,
    index: u64,
    author: &str,
    r: &Ruling,
    clock: Timestamp,
) -> Result<(), String> {
    let win = window(state);
    check_ruling(state, r, clock)?;
    let Some(f) = state.findings.get(&r.finding) else {
        return Err(format!("no finding `{}`", r.finding));
    };
    let decision = match r.decision {
        Decision::Upheld => Status::Upheld,
        Decision::Dismissed => Status::Dismissed,
    };
    let id = f.id.clone();
    let mut was_appeal = false;
    if let Some(dx) = r.dispute
        && let Some(d) = state.disputes.get_mut(&dx)
    {
        d.ruling = Some(index);
        was_appeal = d.appeal;
    }
    state.rulings.insert(
        index,
        RulingRec {
            finding: id.clone(),
            dispute: r.dispute,
            rule: r.rule.clone(),
            decision,
            reasons: r.reasons.clone(),
            author: author.to_owned(),
            at: clock,
        },
    );
    if let Some(f) = state.findings.get_mut(&id) {
        if was_appeal {
            f.appeals += 1;
        }
        f.status = decision;
        f.dispute_until = later(clock, win);
        f.history.push(Transition {
            status: decision,
            index,
            at: clock,
            reason: format!(
                "ruled {} by {author}: {}",
                decision.as_str(),
                r.reasons.chars().take(200).collect::<String>()
            ),
        });
    }
    Ok(())
}

/// A deadline's due time was reached on the log clock (while applying entry `index`).
pub fn fire_deadline(
    state: &mut State,
    geo: Option<&crate::Geography>,
    index: u64,
    id: &str,
    due: Timestamp,
) {
    let Some(d) = state.deadlines.get(id) else {
        return;
    };
    if d.status != DeadlineStatus::Pending {
        return;
    }
    if let Obligation::NoticeAnswer { notice } = d.obligation {
        // No rule behind it: the addressee's silence is on record, not a violation.
        let party = d.party.clone();
        if let Some(d) = state.deadlines.get_mut(id) {
            d.status = DeadlineStatus::Missed;
            d.evidence = vec![notice];
            d.basis = Some(format!("no answer from {party} by {due}"));
            d.settled_at = Some(index);
        }
        if let Some(n) = state.notices.get_mut(&notice) {
            n.addressee_status
                .insert(party, crate::state::AnswerStatus::Expired);
            n.settle();
        }
        return;
    }
    let Some(a) = state.agreement.as_ref() else {
        return;
    };
    let Some(rule) = state.rule_any(&d.rule).cloned() else {
        return;
    };
    let (met, mut evidence, why, basis) = match &d.obligation {
        Obligation::Withdrawal {
            zones,
            inspection_required,
            ..
        } => withdrawal_outcome(state, geo, &d.party, zones, *inspection_required, due),
        Obligation::CaseAnswer { case } => (
            false,
            vec![*case],
            format!(
                "case {case}: no acknowledgement or denial by {} in time",
                d.party
            ),
            String::new(),
        ),
        Obligation::CaseResolution { case } => (
            false,
            vec![*case],
            format!(
                "case {case}: not released or transferred by {} in time",
                d.party
            ),
            String::new(),
        ),
        Obligation::NoticeAnswer { .. } => return,
    };
    let lapsed = !rules::effective(a, &rule, due, due);
    let party = d.party.clone();
    let deadline_id = d.id.clone();
    evidence.extend(d.evidence.iter().copied());
    evidence.sort_unstable();
    evidence.dedup();
    let status = if lapsed {
        DeadlineStatus::Lapsed
    } else if met {
        DeadlineStatus::Met
    } else {
        DeadlineStatus::Missed
    };
    if let Some(d) = state.deadlines.get_mut(id) {
        d.status = status;
        d.evidence = evidence.clone();
        d.basis = Some(match status {
            DeadlineStatus::Met => basis,
            DeadlineStatus::Lapsed => "the rule was no longer in effect at the due time".into(),
            _ => why.clone(),
        });
        if status == DeadlineStatus::Missed {
            d.finding = Some(deadline_id.clone());
        }
    }
    if status == DeadlineStatus::Missed {
        let draft = Draft {
            id: deadline_id.clone(),
            rule: rule.id.clone(),
            rule_kind: rule.kind,
            severity: rule.severity,
            party,
            subject: Subject::Deadline {
                deadline: deadline_id,
            },
            layer: None,
            certainty: crate::state::Certainty::Certain,
            evidence,
            summary: format!("{}: deadline {due} missed: {why}", rule.title),
            occurred: due,
            corroborated: false,
            missed: true,
        };
        record(state, index, draft);
    }
}

/// An alleged finding reached the agreement's expiry.
pub fn expire(state: &mut State, index: u64, id: &str, due: Timestamp) {
    if let Some(f) = state.findings.get_mut(id)
        && f.status == Status::Alleged
    {
        f.status = Status::Expired;
        f.history.push(Transition {
            status: Status::Expired,
            index,
            at: due,
            reason: "neither corroborated nor disputed before the agreement's expiry".into(),
        });
    }
}

/// Marks a finding as no longer standing on its event.
pub fn supersede(state: &mut State, index: u64, id: &str, why: &str) {
    if let Some(f) = state.findings.get_mut(id)
        && f.superseded.is_none()
    {
        f.superseded = Some(why.to_owned());
        let _ = index;
    }
}
