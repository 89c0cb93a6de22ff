//! Alerts are a function of the state by log index: the deconfliction case's alerts reach the
//! parties they concern and no others, and computing them in one range or entry by entry (as a
//! subscriber that reconnects after every entry would) gives the same alerts.

mod common;

use std::collections::BTreeMap;
use truce_engine::alerts::{self, Alert};

fn deconfliction() -> common::Run {
    let (_, case) = common::conformance_cases()
        .into_iter()
        .find(|(n, _)| n.starts_with("17-"))
        .expect("the deconfliction case");
    common::run(&case)
}

fn kinds_for(all: &BTreeMap<u64, Vec<Alert>>, party: &str) -> Vec<(u64, String, String)> {
    all.iter()
        .flat_map(|(i, v)| {
            alerts::for_party(v, party)
                .into_iter()
                .map(move |a| (*i, a.kind.to_owned(), a.subject))
        })
        .collect()
}

#[test]
fn each_party_hears_what_concerns_it() {
    let run = deconfliction();
    let state = run.engine.state();
    let all = alerts::between(state, 0, state.size);
    let il = kinds_for(&all, "IL");
    let sy = kinds_for(&all, "SY");
    let us = kinds_for(&all, "US");
    let undof = kinds_for(&all, "UNDOF");
    let has = |v: &[(u64, String, String)], i: u64, k: &str, s: &str| {
        v.iter().any(|(a, b, c)| *a == i && b == k && c == s)
    };
    // The notice is addressed to IL; the green light is SY's to hear.
    assert!(has(&il, 4, "notice", "4"));
    assert!(has(&sy, 4, "notice", "4"));
    assert!(has(&sy, 6, "answer", "4"));
    // The strike on the acknowledged operation: a finding against IL, both hear it.
    assert!(has(&il, 9, "finding", "green-light/e9/n4"));
    assert!(has(&sy, 9, "finding", "green-light/e9/n4"));
    // The scope findings against SY rest on IL's reports.
    assert!(has(&sy, 8, "finding", "scope/e8/n4/IL"));
    assert!(has(&il, 8, "finding", "scope/e8/n4/IL"));
    // The escalation goes to IL, which had not answered; the missed answer to both.
    assert!(has(&il, 17, "escalation", "16"));
    assert!(has(&il, 18, "answer_missed", "16"));
    assert!(has(&sy, 18, "answer_missed", "16"));
    // Calm is everyone's news.
    assert!(has(
        &undof,
        20,
        "attestation",
        "2026-01-01T00:00:00Z/2026-01-08T00:00:00Z"
    ));
    // The mediator hears everything; the observer nothing of the notices.
    assert_eq!(us.len(), all.values().map(Vec::len).sum::<usize>());
    assert!(undof.iter().all(|(_, k, _)| k == "attestation"));
}

#[test]
fn alerts_do_not_depend_on_how_they_are_fetched() {
    let run = deconfliction();
    let state = run.engine.state();
    let whole = alerts::between(state, 0, state.size);
    let mut piecewise = BTreeMap::new();
    for i in 0..state.size {
        piecewise.extend(alerts::between(state, i, i + 1));
    }
    assert_eq!(whole, piecewise);
    assert!(
        whole.len() > 10,
        "the case makes alerts at {} entries",
        whole.len()
    );
}

#[test]
fn a_suspension_of_participation_is_in_the_alerts_and_the_scorecards() {
    let (_, case) = common::conformance_cases()
        .into_iter()
        .find(|(n, _)| n.starts_with("18-"))
        .expect("the participation case");
    let run = common::run(&case);
    let state = run.engine.state();
    let all = alerts::between(state, 0, state.size);
    let il = kinds_for(&all, "IL");
    assert!(
        il.iter()
            .any(|(i, k, s)| *i == 4 && k == "participation" && s == "SY"),
        "{il:?}"
    );
    let cards = truce_engine::scorecard::scorecards(state);
    let sy = cards
        .iter()
        .find(|c| c.party == "SY" && c.rule == truce_engine::scorecard::PARTICIPATION)
        .expect("SY's participation card");
    assert_eq!(sy.period, "2026-02");
    assert_eq!(sy.suspensions, 1);
    assert_eq!(sy.suspended_hours, Some(48.0));
}
