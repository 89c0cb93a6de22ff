//! The data-driven conformance suite: every `tests/conformance/*.json` case is replayed through
//! admission and the engine, and its derived state compared with the case's expectations.
//! Each case is also replayed a second time and from a mid-way snapshot: the state must come
//! out byte-identical.

mod common;

use serde_json::Value;
use truce_engine::commitment::{canonical, state_hash};

fn cases() -> Vec<(String, Value)> {
    let out = common::conformance_cases();
    assert!(out.len() >= 10, "the suite has {} cases", out.len());
    out
}

#[test]
fn every_case_gives_the_expected_state() {
    let mut failures = Vec::new();
    for (name, case) in cases() {
        let run = common::run(&case);
        for p in common::check(&case, &run) {
            failures.push(format!("{name}: {p}"));
        }
        if std::env::var_os("SHOW_STATE").is_some() {
            eprintln!(
                "== {name}\n{}",
                serde_json::to_string_pretty(run.engine.state()).unwrap()
            );
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn replay_is_byte_identical() {
    for (name, case) in cases() {
        let a = common::run(&case);
        let b = common::run(&case);
        assert_eq!(
            canonical(a.engine.state()),
            canonical(b.engine.state()),
            "{name}"
        );
        assert_eq!(state_hash(a.engine.state()), state_hash(b.engine.state()));
    }
}

#[test]
fn a_state_restored_from_a_snapshot_continues_identically() {
    for (name, case) in cases() {
        let entries = case["entries"].as_array().unwrap();
        let half = entries.len() / 2;
        let mut replay = common::Replay::start(&case);
        for e in &entries[..half] {
            let _ = replay.submit_entry(e);
        }
        // Save the state as bytes, restore it into a fresh engine, and go on from there.
        let saved = canonical(replay.engine.state());
        let state: truce_engine::State = serde_json::from_slice(&saved).unwrap();
        let zones = common::zones_of(&case);
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(zones.as_bytes()));
        let blobs = move |h: &str| (h == sha).then(|| zones.clone().into_bytes());
        replay.engine = truce_engine::Engine::restore(state, &blobs).unwrap();
        for e in &entries[half..] {
            let _ = replay.submit_entry(e);
        }
        let full = common::run(&case);
        assert_eq!(
            canonical(replay.engine.state()),
            canonical(full.engine.state()),
            "{name}: restored from a snapshot after {half} entries"
        );
    }
}

#[test]
fn every_rule_kind_and_status_is_covered() {
    use std::collections::BTreeSet;
    let mut kinds = BTreeSet::new();
    let mut statuses = BTreeSet::new();
    for (_, case) in cases() {
        let run = common::run(&case);
        for f in run.engine.state().findings.values() {
            kinds.insert(truce_model::ids::wire_name(&f.rule_kind));
            for t in &f.history {
                statuses.insert(t.status.as_str());
            }
        }
    }
    for k in truce_model::rules::RuleKind::ALL {
        assert!(
            kinds.contains(k.wire()),
            "no conformance case produces a {} finding: add one to crates/engine/tests/conformance/",
            k.wire()
        );
    }
    for s in truce_engine::Status::ALL {
        assert!(
            statuses.contains(s.as_str()),
            "no case reaches status {}",
            s.as_str()
        );
    }
}
