//! The mirror property: the engine favours neither party.
//!
//! Swapping the two parties' labels everywhere in the input (rules' `binds`, the zones
//! document with its `sy-claim`/`il-claim` layers, entry authors, perpetrators, targets,
//! addressees, detaining parties, posture parties) must swap the labels in the derived state and
//! change nothing else. Checked over every committed conformance case and over random logs.
//!
//! Collections that are sets (`BTreeSet`s, serialized as sorted arrays, and the sorted list of
//! zones an event touches) are ordered by name, so a swap reorders them; they are compared as
//! sets. Every other array must come out in the same order.

mod common;

use proptest::prelude::*;
use serde_json::{Value, json};
use truce_engine::scorecard::scorecards;

/// Swaps the party labels in a text: the party ids `SY` and `IL` as whole words, and the
/// member and layer prefixes `sy.`/`il.` and `sy-`/`il-` at the start of a word.
fn swap_text(s: &str) -> String {
    const PAIRS: [(&str, &str); 6] = [
        ("SY", "IL"),
        ("IL", "SY"),
        ("sy.", "il."),
        ("il.", "sy."),
        ("sy-", "il-"),
        ("il-", "sy-"),
    ];
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut prev: Option<char> = None;
    'scan: while let Some(c) = rest.chars().next() {
        if prev.is_none_or(|p| !is_word(p)) {
            for (from, to) in PAIRS {
                let Some(after) = rest.strip_prefix(from) else {
                    continue;
                };
                let whole =
                    from.ends_with(['.', '-']) || after.chars().next().is_none_or(|n| !is_word(n));
                if whole {
                    out.push_str(to);
                    prev = to.chars().last();
                    rest = after;
                    continue 'scan;
                }
            }
        }
        out.push(c);
        prev = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Swaps the party labels in every string and object key of a JSON value.
fn swap(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(swap_text(s)),
        Value::Array(a) => Value::Array(a.iter().map(swap).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (swap_text(k), swap(v))).collect()),
        other => other.clone(),
    }
}

/// The case with the parties' labels swapped, its zones document included.
fn mirror_case(case: &Value) -> Value {
    let mut m = swap(case);
    m["zones_text"] = swap_text(&common::zones_of(case)).into();
    if case.get("rules").is_none() {
        let golan: Value = serde_json::from_str(common::GOLAN_AGREEMENT).unwrap();
        m["rules"] = swap(&golan["rules"]);
    }
    m
}

/// What a run produced: the derived state, the scorecards and the entries admission refused.
/// The zones document's hash (and so the agreement payloads' hashes, which refusals may quote)
/// differs between a case and its mirror by construction, so hashes are left out.
fn observed(run: &common::Run) -> Value {
    let mut state = serde_json::to_value(run.engine.state()).unwrap();
    fn scrub(a: &mut Value) {
        if let Some(a) = a.as_object_mut() {
            a.remove("zones_sha256");
        }
    }
    for key in ["agreement", "pending_agreement"] {
        if let Some(a) = state.get_mut(key) {
            scrub(a);
        }
    }
    if let Some(Value::Array(list)) = state.get_mut("superseded") {
        list.iter_mut().for_each(scrub);
    }
    let refused: std::collections::BTreeMap<usize, String> = run
        .refused
        .iter()
        .map(|(i, why)| (*i, without_hashes(why)))
        .collect();
    json!({
        "state": state,
        "scorecards": serde_json::to_value(scorecards(run.engine.state())).unwrap(),
        "refused": refused,
    })
}

/// Replaces every run of 64 lowercase hex digits (a SHA-256) with `<sha256>`.
fn without_hashes(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in s.chars() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() == 64 { "<sha256>" } else { &run });
        run.clear();
        out.push(c);
    }
    out.push_str(if run.len() == 64 { "<sha256>" } else { &run });
    out
}

/// Puts the sets that are ordered by name in a label-independent order.
fn normalize(mut v: Value) -> Value {
    fn sort(a: Option<&mut Value>) {
        if let Some(Value::Array(a)) = a {
            a.sort_by_key(|x| x.to_string());
        }
    }
    if let Some(Value::Object(events)) = v.pointer_mut("/state/events") {
        for e in events.values_mut() {
            sort(e.get_mut("reporters"));
            sort(e.get_mut("zones"));
        }
    }
    sort(v.get_mut("scorecards"));
    let mut versions: Vec<&mut Value> = Vec::new();
    if let Some(Value::Object(state)) = v.get_mut("state") {
        for (k, x) in state.iter_mut() {
            match (k.as_str(), x) {
                ("agreement" | "pending_agreement", x) => versions.push(x),
                ("superseded", Value::Array(list)) => versions.extend(list.iter_mut()),
                _ => {}
            }
        }
    }
    for a in versions {
        sort(a.get_mut("layers"));
        sort(a.get_mut("ratified"));
    }
    v
}

/// The paths at which two JSON values differ (at most a few).
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    if out.len() >= 8 {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => differences(u, v, &p, out),
                    (u, _) => out.push(format!(
                        "{p}: only in the {}",
                        if u.is_some() {
                            "expected state"
                        } else {
                            "mirrored run"
                        }
                    )),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                differences(u, v, &format!("{path}/{i}"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} vs {b}")),
        _ => {}
    }
}

/// Checks that the mirror of `case` gives the mirror of `original` (the run of `case`).
fn check_mirror(case: &Value, original: &common::Run) -> Result<(), String> {
    let mirrored = common::run(&mirror_case(case));
    let want = normalize(swap(&observed(original)));
    let got = normalize(observed(&mirrored));
    if want == got {
        return Ok(());
    }
    let mut diffs = Vec::new();
    differences(&want, &got, "", &mut diffs);
    Err(format!(
        "the mirrored run differs from the mirrored original (expected vs got):\n  {}",
        diffs.join("\n  ")
    ))
}

#[test]
fn the_label_swap_is_an_involution() {
    for (s, want) in [
        ("SY", "IL"),
        ("sy.ops and il.admin", "il.ops and sy.admin"),
        ("sy-claim/IL/zone-a", "il-claim/SY/zone-a"),
        (
            "SYRIA easy-going ILS limits-sy",
            "SYRIA easy-going ILS limits-sy",
        ),
        ("(IL, SY)", "(SY, IL)"),
    ] {
        assert_eq!(swap_text(s), want);
        assert_eq!(swap_text(want), s);
    }
    for (name, case) in common::conformance_cases() {
        assert_eq!(swap(&swap(&case)), case, "{name}");
    }
}

#[test]
fn every_conformance_case_mirrors() {
    let mut failures = Vec::new();
    for (name, case) in common::conformance_cases() {
        if let Err(why) = check_mirror(&case, &common::run(&case)) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// Random logs over the synthetic zones, under a rule set with seven of the eight rule kinds
// (all but notice_scope, whose notices and acknowledgements these random logs do not make).

const OFFICERS: [&str; 4] = ["sy.ops", "il.ops", "undof.ops", "us.ops"];
const PARTIES: [&str; 2] = ["SY", "IL"];
const EVENT_TYPES: [&str; 9] = [
    "explosions_remote_violence",
    "battles",
    "incursion",
    "troop_movement",
    "overflight",
    "checkpoint",
    "detention_abduction",
    "fortification",
    "protests",
];
/// Places around the synthetic zones: deep in zone-a, on and near its boundaries under the
/// three layers, in and at the edge of zone-b, and far outside.
const ANCHORS: [[f64; 2]; 8] = [
    [35.04, 33.05],
    [35.1, 33.05],
    [35.11, 33.05],
    [35.079, 33.05],
    [35.0, 33.0],
    [35.25, 33.05],
    [35.2, 33.05],
    [35.5, 33.5],
];
const TIME_PRECISIONS: [&str; 3] = ["exact", "hour", "day"];
const ZONES: [&str; 2] = ["zone-a", "zone-b"];
const ACTIVITIES: [&str; 3] = ["security_operation", "troop_movement", "flight"];
const COMMITMENT: &str = "abababababababababababababababababababababababababababababababab";

fn rules() -> Value {
    let rule = |id: &str, kind: &str, binds: &[&str], extra: Value| {
        let mut r = json!({
            "id": id, "kind": kind, "title": format!("{id} (mirror)"), "binds": binds,
            "severity": "high", "effective": {"from": "2026-01-01T00:00:00Z"},
            "source": "mirror test fixture",
        });
        for (k, v) in extra.as_object().unwrap() {
            r[k] = v.clone();
        }
        r
    };
    json!([
        rule(
            "no-hostile-acts",
            "prohibited_event",
            &["SY", "IL"],
            json!({"event_types": ["explosions_remote_violence", "battles"]})
        ),
        rule(
            "no-forces-a",
            "no_presence",
            &["SY", "IL"],
            json!({"zones": ["zone-a"]})
        ),
        rule(
            "limits-ab",
            "force_limit",
            &["IL"],
            json!({"zones": ["zone-a", "zone-b"],
            "limits": {"tanks": 75, "personnel": 6000, "artillery_max_range_km": 20}})
        ),
        rule(
            "limits-sy",
            "force_limit",
            &["SY"],
            json!({"zones": ["zone-a"],
            "limits": {"air_defence": 0, "tanks": 40}})
        ),
        rule(
            "withdraw-a",
            "withdrawal",
            &["SY", "IL"],
            json!({"zones": ["zone-a"],
            "deadline": "2026-03-01T00:00:00Z",
            "phases": [{"deadline": "2026-02-10T00:00:00Z", "zones": ["zone-b"],
                        "inspection_required": true}]})
        ),
        rule(
            "notify-ops",
            "notification_required",
            &["SY", "IL"],
            json!({
            "zones": ["zone-a", "zone-b"],
            "activities": ["security_operation", "troop_movement", "flight"],
            "lead_time_hours": 24})
        ),
        rule(
            "green-light",
            "protected_notice",
            &["SY", "IL"],
            json!({"event_types": ["explosions_remote_violence", "battles"]})
        ),
        rule(
            "civilians",
            "civilian_protection",
            &["SY", "IL"],
            json!({"acknowledge_within_hours": 48, "resolve_within_days": 14})
        ),
    ])
}

/// One step of a random log, with indices into the choices (and into the state's findings,
/// notices and cases at the time, for entries that refer to them).
#[derive(Debug, Clone)]
enum Op {
    Report {
        by: usize,
        event_type: usize,
        perpetrator: usize,
        target: usize,
        anchor: usize,
        offset: (i32, i32),
        precision_m: u32,
        time_precision: usize,
        hours_before: i64,
    },
    Posture {
        by: usize,
        party: usize,
        zones: Vec<(usize, Vec<(usize, u32)>)>,
        hours_before: i64,
    },
    Dispute {
        by: usize,
        finding: usize,
    },
    Ruling {
        finding: usize,
        upheld: bool,
        answer_open_dispute: bool,
    },
    Notice {
        by: usize,
        action: usize,
        refers_to: usize,
        activity: usize,
        zones: usize,
        starts_in_hours: i64,
        hours: i64,
    },
    Acknowledgement {
        by: usize,
        notice: usize,
        response: usize,
    },
    /// A strike in the area of a notice, mostly by the party it was notified to.
    Strike {
        by: usize,
        notice: usize,
        event_type: usize,
        by_addressee: bool,
        hours_into: i64,
    },
    Case {
        by: usize,
        detaining: usize,
    },
    CaseStep {
        by: usize,
        case: usize,
        action: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let forces = prop::collection::vec((0..5usize, 0..120u32), 0..3);
    prop_oneof![
        5 => (0..3usize, 0..EVENT_TYPES.len(), 0..3usize, 0..4usize, 0..ANCHORS.len(),
              (-30..=30i32, -30..=30i32), prop::sample::select(vec![1u32, 50, 500, 3000]),
              0..3usize, 0..48i64)
            .prop_map(|(by, event_type, perpetrator, target, anchor, offset, precision_m,
                        time_precision, hours_before)| Op::Report {
                by, event_type, perpetrator, target, anchor, offset, precision_m,
                time_precision, hours_before,
            }),
        3 => (0..4usize, 0..2usize, prop::collection::vec((0..2usize, forces), 1..3), 0..48i64)
            .prop_map(|(by, party, zones, hours_before)| Op::Posture {
                by, party, zones, hours_before,
            }),
        2 => (0..2usize, any::<usize>()).prop_map(|(by, finding)| Op::Dispute { by, finding }),
        1 => (any::<usize>(), any::<bool>(), prop::bool::weighted(0.8)).prop_map(
            |(finding, upheld, answer_open_dispute)| Op::Ruling {
                finding, upheld, answer_open_dispute,
            }),
        2 => (0..2usize, 0..3usize, any::<usize>(), 0..3usize, 1..4usize, -12..36i64, 1..96i64)
            .prop_map(|(by, action, refers_to, activity, zones, starts_in_hours, hours)| {
                Op::Notice { by, action, refers_to, activity, zones, starts_in_hours, hours }
            }),
        2 => (0..4usize, any::<usize>(), 0..3usize)
            .prop_map(|(by, notice, response)| Op::Acknowledgement { by, notice, response }),
        2 => (0..3usize, any::<usize>(), 0..2usize, prop::bool::weighted(0.7), 0..48i64)
            .prop_map(|(by, notice, event_type, by_addressee, hours_into)| Op::Strike {
                by, notice, event_type, by_addressee, hours_into,
            }),
        1 => (0..3usize, 0..2usize).prop_map(|(by, detaining)| Op::Case { by, detaining }),
        1 => (0..4usize, any::<usize>(), 0..6usize)
            .prop_map(|(by, case, action)| Op::CaseStep { by, case, action }),
    ]
}

fn pick<T: Clone>(items: &[T], i: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[i % items.len()].clone())
}

/// The entry an operation stands for at log time `now`, given the state so far.
fn entry(
    op: &Op,
    now: jiff::Timestamp,
    state: &truce_engine::State,
) -> (&'static str, &'static str, Value) {
    let at = |hours: i64| (now - jiff::SignedDuration::from_hours(hours)).to_string();
    let other = |party: usize| PARTIES[1 - party];
    match op {
        Op::Report {
            by,
            event_type,
            perpetrator,
            target,
            anchor,
            offset,
            precision_m,
            time_precision,
            hours_before,
        } => {
            let [lon, lat] = ANCHORS[*anchor];
            let point = [
                lon + f64::from(offset.0) * 1e-4,
                lat + f64::from(offset.1) * 1e-4,
            ];
            let perpetrator = ["SY", "IL", "UNKNOWN"][*perpetrator];
            let mut body = json!({
                "event_type": EVENT_TYPES[*event_type],
                "time": {"start": at(*hours_before),
                         "precision": TIME_PRECISIONS[*time_precision]},
                "location": {"point": point, "precision_m": precision_m},
                "perpetrator": perpetrator,
                "narrative": format!("{} attributed to {perpetrator}", EVENT_TYPES[*event_type]),
                "grading": {"source_reliability": "B", "information_credibility": 2},
            });
            if let Some(t) = ["SY", "IL", "CIVILIANS"].get(*target) {
                body["target"] = (*t).into();
            }
            (OFFICERS[*by], "report", body)
        }
        Op::Posture {
            by,
            party,
            zones,
            hours_before,
        } => {
            // Parties declare their own forces; the observer and the mediator inspect.
            let (author, kind, party) = match *by {
                0 | 1 => (OFFICERS[*by], "declaration", PARTIES[*by]),
                _ => (OFFICERS[*by], "inspection", PARTIES[*party]),
            };
            let categories = [
                "tanks",
                "personnel",
                "air_defence",
                "artillery_long_range",
                "brigades",
            ];
            let zones: Vec<Value> = zones
                .iter()
                .map(|(zone, forces)| {
                    let forces: Vec<Value> = forces
                        .iter()
                        .map(|(c, n)| json!({"category": categories[*c], "count": n}))
                        .collect();
                    json!({"zone": ZONES[*zone], "party": party, "forces": forces})
                })
                .collect();
            let body = json!({"type": kind, "as_of": at(*hours_before), "zones": zones});
            (author, "posture", body)
        }
        Op::Dispute { by, finding } => {
            // Mostly findings still open to dispute, so that some disputes take effect.
            let open: Vec<&String> = state
                .findings
                .values()
                .filter(|f| f.dispute_until >= now)
                .map(|f| &f.id)
                .collect();
            let all: Vec<&String> = state.findings.keys().collect();
            let ids = if open.is_empty() || finding % 4 == 0 {
                all
            } else {
                open
            };
            let finding = pick(&ids, *finding / 4).map_or("no-such/e1".into(), String::clone);
            let body = json!({"finding": finding, "reasons": "The report is wrong"});
            (OFFICERS[*by], "dispute", body)
        }
        Op::Ruling {
            finding,
            upheld,
            answer_open_dispute,
        } => {
            // Mostly disputed findings, so that rulings answer disputes.
            let disputed: Vec<_> = state
                .findings
                .values()
                .filter(|f| f.status == truce_engine::Status::Disputed)
                .collect();
            let findings: Vec<_> = if disputed.is_empty() || !answer_open_dispute {
                state.findings.values().collect()
            } else {
                disputed
            };
            let (finding, rule) = pick(&findings, *finding)
                .map_or(("no-such/e1".into(), "no-hostile-acts".into()), |f| {
                    (f.id.clone(), f.rule.clone())
                });
            let mut body = json!({
                "finding": finding, "rule": rule,
                "decision": if *upheld { "upheld" } else { "dismissed" },
                "reasons": "Having examined the evidence.",
            });
            if *answer_open_dispute {
                let open = state
                    .disputes
                    .iter()
                    .rev()
                    .find(|(_, d)| d.finding == finding && d.ruling.is_none());
                if let Some((i, _)) = open {
                    body["dispute"] = (*i).into();
                }
            }
            ("us.ops", "ruling", body)
        }
        Op::Notice {
            by,
            action,
            refers_to,
            activity,
            zones,
            starts_in_hours,
            hours,
        } => {
            let zones: Vec<&str> = ["zone-a", "zone-b"]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| zones & (1 << i) != 0)
                .map(|(_, z)| z)
                .collect();
            let mut body = json!({
                "action": "file",
                "activity": ACTIVITIES[*activity],
                "area": {"zones": zones},
                "window": {"start": at(-starts_in_hours),
                           "end": at(-starts_in_hours - hours), "precision": "exact"},
                "purpose": "mirror test fixture",
                "addressees": [other(*by), "US"],
            });
            let notices: Vec<u64> = state.notices.keys().copied().collect();
            if let (1 | 2, Some(old)) = (action, pick(&notices, *refers_to)) {
                body["action"] = ["amend", "withdraw"][action - 1].into();
                body["refers_to"] = old.into();
            }
            (OFFICERS[*by], "notice", body)
        }
        Op::Acknowledgement {
            by,
            notice,
            response,
        } => {
            let notices: Vec<u64> = state.notices.keys().copied().collect();
            let notice = pick(&notices, *notice).unwrap_or(1);
            // Mostly the other party (the addressee), sometimes the notifying party itself.
            let notifier = state.notices.get(&notice).map(|n| n.party.as_str());
            let author = match (by, notifier) {
                (0..3, Some("SY")) => "il.ops",
                (0..3, Some(_)) => "sy.ops",
                (_, Some("SY")) => "sy.ops",
                _ => "il.ops",
            };
            let body = match response {
                0 => json!({"notice": notice, "response": "acknowledge"}),
                1 => json!({"notice": notice, "response": "acknowledge_with_conditions",
                            "conditions": {}}),
                _ => json!({"notice": notice, "response": "object", "reasons": "Too close"}),
            };
            (author, "acknowledgement", body)
        }
        Op::Strike {
            by,
            notice,
            event_type,
            by_addressee,
            hours_into,
        } => {
            let notices: Vec<_> = state.notices.values().collect();
            let (zone, start, notifier) = pick(&notices, *notice)
                .map_or(("zone-a".to_owned(), now, "SY".to_owned()), |n| {
                    (n.area.zones[0].clone(), n.start, n.party.clone())
                });
            let point = if zone == "zone-a" {
                ANCHORS[0]
            } else {
                ANCHORS[5]
            };
            let when = (start + jiff::SignedDuration::from_hours(*hours_into)).min(now);
            let other = if notifier == "SY" { "IL" } else { "SY" };
            let perpetrator = if *by_addressee {
                other
            } else {
                notifier.as_str()
            };
            let body = json!({
                "event_type": EVENT_TYPES[*event_type],
                "time": {"start": when.to_string(), "precision": "exact"},
                "location": {"point": point, "precision_m": 100},
                "perpetrator": perpetrator,
                "narrative": format!("strike attributed to {perpetrator}"),
                "grading": {"source_reliability": "B", "information_credibility": 2},
            });
            (OFFICERS[*by], "report", body)
        }
        Op::Case { by, detaining } => {
            let body = json!({"action": "report", "commitment": COMMITMENT,
                              "detaining_party": PARTIES[*detaining]});
            (OFFICERS[*by], "case", body)
        }
        Op::CaseStep { by, case, action } => {
            let cases: Vec<_> = state.cases.iter().collect();
            let (case, detaining) = pick(&cases, *case).map_or((1, "SY".to_owned()), |(i, c)| {
                (*i, c.detaining_party.clone())
            });
            let action = [
                "acknowledge",
                "deny",
                "disclose_location",
                "grant_access",
                "release",
                "transfer",
            ][*action];
            let body = json!({"action": action, "case": case, "commitment": COMMITMENT,
                              "detaining_party": detaining});
            (OFFICERS[*by], "case", body)
        }
    }
}

/// Plays the operations as a log (choosing referred-to findings, notices and cases from the
/// state at each step) and returns it as a conformance case, with its run.
fn play(ops: &[(Op, i64)]) -> (Value, common::Run) {
    let mut case = json!({
        "zones": "synthetic",
        "procedure": {"dispute_window_hours": 24, "appeals": 1, "allegation_expiry_days": 10},
        "rules": rules(),
        "entries": [],
    });
    let mut replay = common::Replay::start(&case);
    let mut now: jiff::Timestamp = "2026-02-01T00:00:00Z".parse().unwrap();
    let mut entries = Vec::new();
    let mut refused = std::collections::BTreeMap::new();
    for (i, (op, minutes)) in ops.iter().enumerate() {
        now += jiff::SignedDuration::from_mins(*minutes);
        let (author, kind, body) = entry(op, now, replay.engine.state());
        let e = json!({"author": author, "kind": kind, "created": now.to_string(), "body": body});
        if let Err(why) = replay.submit_entry(&e) {
            refused.insert(i, why);
        }
        entries.push(e);
    }
    case["entries"] = entries.into();
    let run = common::Run {
        engine: replay.engine,
        registry: replay.admission.registry,
        refused,
    };
    (case, run)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_logs_mirror(ops in prop::collection::vec((op(), 1..1440i64), 1..40)) {
        let (case, run) = play(&ops);
        if let Err(why) = check_mirror(&case, &run) {
            return Err(TestCaseError::fail(format!(
                "{why}\ncase:\n{}", serde_json::to_string_pretty(&case).unwrap()
            )));
        }
    }
}
