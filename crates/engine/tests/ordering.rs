//! Fusion and submission order: reports that do not interact give the same events whatever
//! order they are logged in (up to event ids, which are log indices). Where reports do interact
//! (close in space and time), order can matter; docs/fusion.md says how.

mod common;

use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Incident `i` of a set that cannot interact: 2° apart in longitude (about 180 km), and a
/// week apart in time (beyond the default 48 h gap).
fn incident(i: usize) -> ([f64; 2], String) {
    let lon = -170.0 + 2.0 * i as f64;
    let day = 1 + (i % 20) * 7;
    let start = format!(
        "2026-{:02}-{:02}T10:00:00Z",
        1 + (day - 1) / 28,
        1 + (day - 1) % 28
    );
    ([lon, 10.0], start)
}

/// The reports of incident `i`: 1 to 3, from different parties, with noise that keeps them
/// within the same incident.
fn reports(i: usize, n: usize) -> Vec<Value> {
    let (p, start) = incident(i);
    let who = ["sy.ops", "il.ops", "undof.ops"];
    (0..n)
        .map(|k| {
            let point = [p[0] + 0.005 * k as f64, p[1] - 0.004 * k as f64];
            json!({
                "author": who[k % 3],
                "kind": "report",
                "created": "2026-12-31T00:00:00Z",
                "body": {
                    "event_type": "explosions_remote_violence",
                    "time": {"start": start, "precision": "hour"},
                    "location": {"point": point, "precision_m": 2000},
                    "perpetrator": if k % 2 == 0 { "IL" } else { "UNKNOWN" },
                    "narrative": format!("incident {i} report {k}"),
                    "grading": {"source_reliability": "B", "information_credibility": 2}
                }
            })
        })
        .collect()
}

/// The events of a run, described without ids: for each event, the narratives of its
/// reports, its type, perpetrator, corroboration, window and location.
fn events_by_content(case: &Value) -> BTreeSet<String> {
    let run = common::run(case);
    let st = run.engine.state();
    let narrative = |i: &u64| -> String {
        let pos = (*i - 4) as usize;
        case["entries"][pos]["body"]["narrative"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    st.events
        .values()
        .filter(|e| e.merged_into.is_none())
        .map(|e| {
            let mut names: Vec<String> = e.reports.iter().map(narrative).collect();
            names.sort();
            format!(
                "{names:?} {:?} {} {:?} {}..{} {:?} {}",
                e.event_type,
                e.perpetrator,
                e.corroboration,
                e.start,
                e.end,
                e.point,
                e.precision_m
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn independent_reports_fuse_the_same_in_any_order(
        sizes in prop::collection::vec(1usize..4, 2..12),
        seed in any::<u64>(),
    ) {
        let mut entries: Vec<Value> = sizes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| reports(i, *n))
            .collect();
        let base = json!({"zones": "synthetic", "rules": [], "entries": entries.clone()});
        // A deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..entries.len()).rev() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            entries.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let shuffled = json!({"zones": "synthetic", "rules": [], "entries": entries});
        let a = events_by_content(&base);
        let b = events_by_content(&shuffled);
        prop_assert_eq!(a.len(), sizes.len(), "one event per incident");
        prop_assert_eq!(a, b);
    }
}
