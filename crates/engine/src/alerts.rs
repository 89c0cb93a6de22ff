//! Alerts: what each party should hear about, derived from the state by the log index of the
//! entry that caused it.
//!
//! Every alert names the entry (log index) whose arrival caused it, and the state keeps that
//! index on everything an alert is about (notices and their answers, finding transitions,
//! case steps, attestations). So the alerts of the entries in `from..to` are a pure function
//! of the state once those entries are applied: a subscriber that reconnects after index `n`
//! gets exactly the alerts of the entries after `n`, with nothing stored besides the state.
//!
//! Audiences only grow as the log does (a later dispute or a report fused into an event adds
//! its party to the audience of the finding's alerts), so resuming never loses an alert; a
//! finding alert carries the finding's current summary.
//!
//! Audiences: the mediator hears everything; a party hears about notices it filed or that are
//! addressed to it and the answers to them, findings against it or resting on its entries,
//! cases it reported or in which it is the detaining party, and every attestation of calm.

use crate::state::{DeadlineStatus, Obligation, State};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use truce_model::agreement::PartyRole;
use truce_model::ids::wire_name;

/// One thing a party should hear about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// `notice`, `notice_withdrawn`, `notice_amended`, `answer`, `escalation`,
    /// `answer_missed`, `finding`, `case`, `attestation` or `participation`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Parties it is addressed to.
    pub audience: BTreeSet<String>,
    /// What it is about: a notice's or case's log index, or a finding id.
    pub subject: String,
    /// For findings: the party held responsible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against: Option<String>,
    /// The status it reached (a finding's, a notice's, a case's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub summary: String,
}

/// The alerts of the entries at log indices `from..to`, by index (entries without alerts are
/// absent).
pub fn between(state: &State, from: u64, to: u64) -> BTreeMap<u64, Vec<Alert>> {
    let mut out: BTreeMap<u64, Vec<Alert>> = BTreeMap::new();
    let within = |i: u64| i >= from && i < to;
    let mediator: BTreeSet<String> = state
        .agreement
        .as_ref()
        .map(|a| {
            a.parties
                .iter()
                .filter(|(_, r)| **r == PartyRole::Mediator)
                .map(|(p, _)| p.clone())
                .collect()
        })
        .unwrap_or_default();
    let all_parties: BTreeSet<String> = state
        .agreement
        .as_ref()
        .map(|a| a.parties.keys().cloned().collect())
        .unwrap_or_default();
    let mut push = |index: u64, mut alert: Alert| {
        alert.audience.extend(mediator.iter().cloned());
        out.entry(index).or_default().push(alert);
    };
    let audience = |parties: &[&str]| -> BTreeSet<String> {
        parties.iter().map(|p| (*p).to_owned()).collect()
    };

    for (&i, n) in &state.notices {
        let mut everyone: Vec<&str> = n.addressees.iter().map(String::as_str).collect();
        everyone.push(&n.party);
        let activity = wire_name(&n.activity);
        if within(i) {
            push(
                i,
                Alert {
                    kind: "notice",
                    audience: audience(&everyone),
                    subject: i.to_string(),
                    against: None,
                    status: Some("filed".to_owned()),
                    summary: format!(
                        "{} notifies a {activity} from {} to {}; answers due by {}",
                        n.party, n.start, n.end, n.answer_due
                    ),
                },
            );
        }
        if let Some(w) = n.withdrawn_at.filter(|w| within(*w)) {
            push(
                w,
                Alert {
                    kind: "notice_withdrawn",
                    audience: audience(&everyone),
                    subject: i.to_string(),
                    against: None,
                    status: Some("withdrawn".to_owned()),
                    summary: format!("{} withdrew its notice {i} of a {activity}", n.party),
                },
            );
        }
        if let Some(r) = n.replaced_by.filter(|r| within(*r)) {
            push(
                r,
                Alert {
                    kind: "notice_amended",
                    audience: audience(&everyone),
                    subject: i.to_string(),
                    against: None,
                    status: Some("amended".to_owned()),
                    summary: format!(
                        "{} amended its notice {i} of a {activity}: see notice {r}",
                        n.party
                    ),
                },
            );
        }
        for (a, party, response) in &n.answer_log {
            if within(*a) {
                push(
                    *a,
                    Alert {
                        kind: "answer",
                        audience: audience(&[&n.party, party]),
                        subject: i.to_string(),
                        against: None,
                        status: Some(wire_name(response)),
                        summary: format!(
                            "{party} answered {}'s notice {i} of a {activity}: {}",
                            n.party,
                            wire_name(response)
                        ),
                    },
                );
            }
        }
        for &e in n.escalations.iter().filter(|e| within(**e)) {
            push(
                e,
                Alert {
                    kind: "escalation",
                    audience: audience(&everyone),
                    subject: i.to_string(),
                    against: None,
                    status: None,
                    summary: format!(
                        "the mediator presses for answers to {}'s notice {i}, due by {}",
                        n.party, n.answer_due
                    ),
                },
            );
        }
    }

    for d in state.deadlines.values() {
        let (Obligation::NoticeAnswer { notice }, DeadlineStatus::Missed, Some(at)) =
            (&d.obligation, d.status, d.settled_at)
        else {
            continue;
        };
        if !within(at) {
            continue;
        }
        let notifier = state.notices.get(notice).map(|n| n.party.as_str());
        let mut who = vec![d.party.as_str()];
        who.extend(notifier);
        push(
            at,
            Alert {
                kind: "answer_missed",
                audience: audience(&who),
                subject: notice.to_string(),
                against: Some(d.party.clone()),
                status: Some("expired".to_owned()),
                summary: format!("{} did not answer notice {notice} by {}", d.party, d.due),
            },
        );
    }

    for f in state.findings.values() {
        for t in f.history.iter().filter(|t| within(t.index)) {
            let mut who: Vec<&str> = vec![&f.party];
            for e in &f.evidence {
                who.extend(author_party(state, *e));
            }
            for d in state.disputes.values().filter(|d| d.finding == f.id) {
                who.push(&d.party);
            }
            push(
                t.index,
                Alert {
                    kind: "finding",
                    audience: audience(&who),
                    subject: f.id.clone(),
                    against: Some(f.party.clone()),
                    status: Some(wire_name(&t.status)),
                    summary: format!("{} ({}): {}", f.summary, wire_name(&t.status), t.reason),
                },
            );
        }
    }

    for (&i, c) in &state.cases {
        for (step, action) in c.steps.iter().filter(|(s, _)| within(*s)) {
            push(
                *step,
                Alert {
                    kind: "case",
                    audience: audience(&[&c.reported_by, &c.detaining_party]),
                    subject: i.to_string(),
                    against: None,
                    status: Some(wire_name(action)),
                    summary: format!(
                        "case {i} (detaining party {}): {}",
                        c.detaining_party,
                        wire_name(action)
                    ),
                },
            );
        }
    }

    for (party, recs) in &state.participation {
        for r in recs.iter().filter(|r| within(r.index)) {
            let action = wire_name(&r.action);
            push(
                r.index,
                Alert {
                    kind: "participation",
                    audience: all_parties.clone(),
                    subject: party.clone(),
                    against: None,
                    status: Some(action.clone()),
                    summary: format!("{party}: participation {action}ed: {}", r.reason),
                },
            );
        }
    }

    for a in state.attestations.values() {
        // Co-signed by the last signature that completed it.
        let completed = a.signers.values().max().copied().filter(|_| a.cosigned);
        for (party, &i) in a.signers.iter().filter(|(_, i)| within(**i)) {
            push(
                i,
                Alert {
                    kind: "attestation",
                    audience: all_parties.clone(),
                    subject: format!("{}/{}", a.start, a.end),
                    against: None,
                    status: Some(
                        if completed == Some(i) {
                            "cosigned"
                        } else {
                            "signed"
                        }
                        .to_owned(),
                    ),
                    summary: format!(
                        "{party} attests no significant incidents from {} to {}",
                        a.start, a.end
                    ),
                },
            );
        }
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| (a.kind, &a.subject).cmp(&(b.kind, &b.subject)));
    }
    out
}

/// The party of the member who filed the entry at `index`, where the state knows it.
fn author_party(state: &State, index: u64) -> Option<&str> {
    if let Some(r) = state.reports.get(&index) {
        return Some(&r.party);
    }
    if let Some(n) = state.notices.get(&index) {
        return Some(&n.party);
    }
    if let Some(s) = state.sightings.get(&index) {
        return Some(&s.party);
    }
    if let Some(c) = state.cases.get(&index) {
        return Some(&c.reported_by);
    }
    state.disputes.get(&index).map(|d| d.party.as_str())
}

/// Alerts addressed to `party`.
pub fn for_party(alerts: &[Alert], party: &str) -> Vec<Alert> {
    alerts
        .iter()
        .filter(|a| a.audience.contains(party))
        .cloned()
        .collect()
}
