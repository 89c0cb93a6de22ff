//! `truce simulate` and `truce eval fusion` as a user runs them.

use crate::util::{Mechanism, run, stdout_json, truce};
use serde_json::Value;
use std::collections::BTreeSet;

const END: &str = "2026-06-01T00:00:00Z";

#[test]
fn simulate_then_eval_scores_fusion_and_the_counts_add_up() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sim");
    let out = run(
        truce()
            .args(["--json", "simulate", "--seed", "3", "--incidents", "300"])
            .args(["--days", "7", "--end", END, "--out"])
            .arg(&dir),
        true,
    );
    let sim = stdout_json(&out);
    let n = |v: &Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    assert_eq!(
        n(&sim, "entries"),
        4 + n(&sim, "reports") + n(&sim, "sightings"),
        "{sim}"
    );
    let lines = std::fs::read_to_string(dir.join("entries.jsonl"))
        .unwrap()
        .lines()
        .count() as u64;
    assert_eq!(lines, n(&sim, "entries"));

    let out = run(
        truce()
            .args(["--json", "eval", "fusion", "--dir"])
            .arg(&dir),
        true,
    );
    let e = stdout_json(&out);
    let f1 = e["bcubed"]["f1"].as_f64().unwrap();
    assert!(f1.is_finite() && (0.0..=1.0).contains(&f1), "{e}");
    for k in ["precision", "recall"] {
        let x = e["bcubed"][k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{k}: {e}");
    }
    assert_eq!(n(&e, "entries"), n(&sim, "entries"));
    assert_eq!(n(&e, "reports"), n(&sim, "reports"));
    assert_eq!(n(&e, "false_reports"), n(&sim, "false_reports"));
    assert_eq!(n(&e, "sightings"), n(&sim, "sightings"));
    assert_eq!(n(&e, "incidents"), 300);
    let levels = e["corroboration"].as_object().unwrap();
    let sum = |k: &str| levels.values().map(|l| l[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("events"), n(&e, "events"), "{e}");
    assert_eq!(sum("reports"), n(&e, "reports"), "{e}");
    assert!(n(&e, "attribution_correct") <= n(&e, "attribution_evaluated"));

    // The readable table says the same.
    let out = run(truce().args(["eval", "fusion", "--dir"]).arg(&dir), true);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("B-cubed F1"), "{text}");
}

#[test]
fn simulate_refuses_bad_arguments_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        truce()
            .args(["simulate", "--seed", "1", "--noise", "loud", "--out"])
            .arg(tmp.path().join("x")),
        false,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--noise `loud`"));
    let out = run(
        truce().args(["eval", "fusion", "--dir"]).arg(tmp.path()),
        false,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("truce simulate"));
}

#[test]
fn simulate_against_a_live_server_logs_every_entry() {
    let m = Mechanism::golan();
    let server = m.serve();
    let before = server.tree_size();
    let dir = m.tmp.path().join("sim");
    let out = run(
        server
            .truce()
            .args(["--json", "simulate", "--seed", "9", "--incidents", "150"])
            .args(["--days", "3", "--server", &server.url, "--keys"])
            .arg(m.data.join("keys"))
            .arg("--out")
            .arg(&dir),
        true,
    );
    let sim = stdout_json(&out);
    let entries = sim["entries"].as_u64().unwrap();
    assert!(entries > 100, "{sim}");
    assert_eq!(server.tree_size(), before + entries, "{sim}");
    // Truth names the indices the server assigned: distinct, all new.
    let mut seen = BTreeSet::new();
    let (mut reports, mut denied) = (BTreeSet::new(), Vec::new());
    for line in std::fs::read_to_string(dir.join("truth.jsonl"))
        .unwrap()
        .lines()
    {
        let v: Value = serde_json::from_str(line).unwrap();
        if let Some(i) = v["index"].as_u64() {
            assert!((before..before + entries).contains(&i), "{v}");
            assert!(seen.insert(i), "index {i} twice");
            match v["record"].as_str() {
                Some("report") => reports.insert(i),
                _ => {
                    denied.push((i, v["report"].as_u64().unwrap()));
                    true
                }
            };
        }
    }
    assert_eq!(seen.len() as u64, entries);
    // A denial names the report it denies by the index the server gave it.
    assert!(!denied.is_empty());
    for (i, report) in denied {
        assert!(
            reports.contains(&report) && report < i,
            "{i} denies {report}"
        );
        let e = server.get_json(&format!("/v1/entries/{i}"));
        assert_eq!(e["entry"]["kind"], "sighting");
        assert_eq!(e["entry"]["body"]["report"], report);
    }
}
