//! Large events: the aggregates against `fused`, the bounded cost of an added report, and
//! determinism across replays and restores.

use super::*;
use crate::commitment::canonical;
use proptest::prelude::*;
use serde_json::json;

/// A report at `point` (offset by `k` metres-ish of jitter), exact to the minute.
fn report(k: usize, party_perp: (&str, &str), point: [f64; 2]) -> Report {
    let jitter = (k % 7) as f64 * 0.0001;
    let reliability = ["A", "B", "C"][k % 3];
    serde_json::from_value(json!({
        "event_type": "explosions_remote_violence",
        "time": {"start": "2026-03-01T10:00:00Z", "precision": "exact"},
        "location": {"point": [point[0] + jitter, point[1] - jitter], "precision_m": 500},
        "perpetrator": party_perp.1,
        "target": if k.is_multiple_of(3) { "CIVILIANS" } else { "UNKNOWN" },
        "casualties": {"killed": {"low": k % 4, "best": k % 5 + 1, "high": k % 9 + 6}},
        "narrative": format!("report {k} of {}", party_perp.0),
        "grading": {"source_reliability": reliability, "information_credibility": 1 + (k % 3)}
    }))
    .unwrap()
}

const HERE: [f64; 2] = [35.8, 33.1];

fn t0() -> Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

/// Adds report `k` (at log index `k`), filed by one of three parties, naming `IL` or `SY`
/// alternately; returns the fusion work it took.
fn add(f: &mut Fusion, state: &mut State, k: usize, point: [f64; 2]) -> u64 {
    let who = [("SY", "IL"), ("IL", "SY"), ("UN", "UNKNOWN")][k % 3];
    let before = f.work();
    let logged = t0() + jiff::SignedDuration::from_secs(k as i64);
    f.add_report(state, None, k as u64, who.0, &report(k, who, point), logged);
    f.work() - before
}

/// The issue: 40,960 reports that all joined one event kept the engine busy for 14 minutes,
/// each re-fusing the event once per member. Now an added report's work must not grow with
/// the event once it is past `EXACT_MEMBERS`.
#[test]
fn fusion_is_quadratic_per_event_regression() {
    const N: usize = 3_000;
    let (mut f, mut state) = (Fusion::default(), State::default());
    let mut work = Vec::with_capacity(N);
    for k in 0..N {
        work.push(add(&mut f, &mut state, k, HERE));
    }
    let e = &state.events["e0"];
    assert_eq!(e.reports.len(), N, "every report joined the one event");
    assert!(state.fusion_log.is_empty(), "no merge nor split");
    // Up to `EXACT_MEMBERS` every member is checked against the others: the work of the
    // K-th report is of the order of K², which is what the counter measures.
    assert!(work[EXACT_MEMBERS - 1] >= (EXACT_MEMBERS * (EXACT_MEMBERS - 2)) as u64);
    // Beyond it (the first report past it builds the aggregates, once): the new report added
    // to the aggregates, the description, and each of at most `SPLIT_SAMPLE + 1` checks taking
    // a member out and putting it back.
    let bound = 2 + 2 * (SPLIT_SAMPLE as u64 + 1);
    let worst = work[EXACT_MEMBERS + 1..].iter().max().copied().unwrap_or(0);
    assert!(
        worst <= bound,
        "a report to an event of over {EXACT_MEMBERS} members read {worst} reports"
    );
    // The first report past the cap reads the members once to build the aggregates.
    assert!(work[EXACT_MEMBERS] <= (EXACT_MEMBERS + 1) as u64 + bound);
}

/// Replaying the same reports gives the same bytes, and so does an engine restored halfway
/// (its index and aggregates rebuilt from the state alone).
#[test]
fn large_events_are_deterministic_across_replays_and_restores() {
    const N: usize = 400;
    let run = |restore_at: Option<usize>| {
        let (mut f, mut state) = (Fusion::default(), State::default());
        for k in 0..N {
            if restore_at == Some(k) {
                f = Fusion::rebuild(&state);
            }
            // Two clusters, 3 km apart: most reports join one of two large events.
            let p = if k % 5 == 0 {
                [HERE[0] + 0.03, HERE[1]]
            } else {
                HERE
            };
            add(&mut f, &mut state, k, p);
        }
        canonical(&state)
    };
    let straight = run(None);
    assert_eq!(straight, run(None));
    for at in [EXACT_MEMBERS / 2, 3 * EXACT_MEMBERS, N - 1] {
        assert_eq!(straight, run(Some(at)), "restored before report {at}");
    }
}

/// A member that no longer fits a large event is still found, by the sampled checks of the
/// reports that follow.
#[test]
fn large_event_still_splits_a_member_that_no_longer_fits() {
    let (mut f, mut state) = (Fusion::default(), State::default());
    for k in 0..200 {
        add(&mut f, &mut state, k, HERE);
    }
    // A report 50 km away, moved into the event by hand (as a drift of the event would leave
    // an early member behind).
    let stray = 200;
    add(&mut f, &mut state, 200, [HERE[0] + 0.5, HERE[1]]);
    assert!(state.events.contains_key("e200"));
    state.events.remove("e200");
    state.events.get_mut("e0").unwrap().reports.push(stray);
    state.reports.get_mut(&stray).unwrap().event = "e0".into();
    let mut f = Fusion::rebuild(&state);
    let mut split_at = None;
    for k in 201..600 {
        add(&mut f, &mut state, k, HERE);
        if state.fusion_log.iter().any(|s| s.action == "split") {
            split_at = Some(k);
            break;
        }
    }
    let k = split_at.expect("the stray report was split off");
    let step = &state.fusion_log[0];
    assert_eq!(step.events, vec!["e0".to_owned(), "e200".to_owned()]);
    assert_eq!(state.events["e200"].reports, vec![stray]);
    assert!(!state.events["e0"].reports.contains(&stray));
    assert_eq!(state.reports[&stray].event, "e200");
    // The aggregates followed the split: they describe the event as built afresh.
    let mut again = Fusion::rebuild(&state);
    let e = state.events["e0"].clone();
    again.refresh(&mut state, None, "e0");
    assert_eq!(*state.events["e0"], *e, "after report {k}");
}

/// Merging two large events, the smaller into the larger's aggregates whichever survives,
/// gives the aggregates of the merged members.
#[test]
fn merged_aggregates_are_those_of_the_merged_members() {
    for (big, small) in [(150usize, 90usize), (90, 150)] {
        let (mut f, mut state) = (Fusion::default(), State::default());
        // Two events 90 km apart, which the reports do not bridge; merged by hand.
        for k in 0..big + small {
            let p = if k < big {
                HERE
            } else {
                [HERE[0] + 1.0, HERE[1]]
            };
            add(&mut f, &mut state, k, p);
        }
        let keep = "e0".to_owned();
        let gone = format!("e{big}");
        assert_eq!(state.events[&keep].reports.len(), big);
        assert_eq!(state.events[&gone].reports.len(), small);
        f.merge(&mut state, None, 9_999, &keep, &gone);
        let merged = state.events[&keep].clone();
        assert_eq!(merged.reports.len(), big + small);
        let mut fresh = Fusion::rebuild(&state);
        fresh.refresh(&mut state, None, &keep);
        assert_eq!(*state.events[&keep], *merged);
    }
}

/// A member's content, drawn from small sets so that votes tie and values repeat: (type,
/// perpetrator, target, party), (radius, grade weight, time precision), (start hour, width in
/// hours, position step), (two casualty counts, whether it names a sub-event type and a
/// place).
type Member = (
    (u8, u8, u8, u8),
    (u32, u32, u8),
    (i64, i64, u8),
    (Option<(u32, u32, u32)>, Option<(u32, u32, u32)>, bool, bool),
);

fn member() -> impl Strategy<Value = Member> {
    (
        (0u8..4, 0u8..4, 0u8..4, 0u8..3),
        (
            prop::sample::select(vec![1u32, 250, 500, 2000, 500_000]),
            prop::sample::select(vec![40u32, 360, 640, 1000]),
            0u8..5,
        ),
        (-6i64..6, 0i64..30, 0u8..5),
        (
            prop::option::of((0u32..4, 0u32..6, 0u32..9)),
            prop::option::of((0u32..4, 0u32..6, 0u32..9)),
            any::<bool>(),
            any::<bool>(),
        ),
    )
}

fn record(m: &Member) -> ReportRec {
    let ((ty, perp, target, party), (precision_m, weight, tp), (dt, width, lonlat), cas) = *m;
    let types = [
        EventType::Battles,
        EventType::ExplosionsRemoteViolence,
        EventType::Incursion,
        EventType::Overflight,
    ];
    let count = |c: Option<(u32, u32, u32)>| {
        c.map(|(l, b, h)| Count {
            low: l,
            best: l + b,
            high: l + b + h,
        })
    };
    let start = t0() + jiff::SignedDuration::from_hours(dt);
    ReportRec {
        party: ["SY", "IL", "UN"][usize::from(party)].into(),
        event_type: types[usize::from(ty)],
        sub_event_type: cas.2.then(|| format!("sub {ty} {precision_m}")),
        start,
        end: start + jiff::SignedDuration::from_hours(width),
        time_precision: aggregate::PRECISIONS[usize::from(tp)],
        point: [
            HERE[0] + f64::from(lonlat) * 0.013,
            HERE[1] - f64::from(lonlat) * 0.007,
        ],
        precision_m,
        place: cas.3.then(|| format!("place {weight}")),
        perpetrator: ["IL", "SY", "UNKNOWN", "OTHER"][usize::from(perp)].into(),
        target: [None, Some("CIVILIANS"), Some("IL"), Some("UNKNOWN")][usize::from(target)]
            .map(str::to_owned),
        casualties: Casualties {
            killed: count(cas.0),
            injured: None,
            civilians_killed: count(cas.1),
            civilians_injured: None,
            detained: count(cas.0.zip(cas.1).map(|(a, _)| a)),
        },
        notice: None,
        weight,
        logged: start,
        event: "e0".into(),
    }
}

/// Checks that `a` (from the aggregates) is `b` (from `fused`) but for the last bits of the
/// location.
fn same_but_rounding(a: &Event, b: &Event) -> Result<(), TestCaseError> {
    for i in 0..2 {
        prop_assert!(
            (a.point[i] - b.point[i]).abs() <= 1e-12 * b.point[i].abs(),
            "{:?} {:?}",
            a.point,
            b.point
        );
    }
    prop_assert!(a.precision_m.abs_diff(b.precision_m) <= 1);
    let mut a = a.clone();
    a.point = b.point;
    a.precision_m = b.precision_m;
    prop_assert_eq!(&a, b);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The aggregates describe an event as `fused` does (location to the last bits), with
    /// every member, and without any one of them.
    #[test]
    fn aggregates_describe_events_as_fused_does(
        members in prop::collection::vec(member(), 1..90),
    ) {
        let mut state = State::default();
        let ids: Vec<u64> = (0..members.len() as u64).map(|i| i * 3 + 1).collect();
        for (m, id) in members.iter().zip(&ids) {
            state.reports.insert(*id, Box::new(record(m)));
        }
        let mut base = blank_event("e0", &state.reports[&ids[0]]);
        base.reports = ids.clone();
        base.confirmed_by.insert("US".into());
        state.events.insert("e0".into(), Box::new(base.clone()));
        let mut agg = Agg::build(&state, &ids);
        let mut described = base.clone();
        prop_assert!(agg.describe(&state, &mut described));
        let exact = fused(&state, "e0", &ids).unwrap();
        same_but_rounding(&described, &exact)?;
        for (i, id) in ids.iter().enumerate().step_by(7) {
            let rest: Vec<u64> = ids.iter().copied().filter(|x| x != id).collect();
            let r = state.reports[id].clone();
            let Some(s) = agg.summary_without(&state, &r, *id) else {
                prop_assert!(rest.is_empty());
                continue;
            };
            let e = fused(&state, "e0", &rest).unwrap();
            prop_assert_eq!(
                (s.start, s.end, s.time_precision, s.event_type, &s.perpetrator),
                (e.start, e.end, e.time_precision, e.event_type, &e.perpetrator),
                "without member {}", i
            );
            prop_assert_eq!(s.attribution_support, e.attribution_support);
            prop_assert_eq!(&s.reporters, &e.reporters);
            prop_assert!(s.precision_m.abs_diff(e.precision_m) <= 1);
            // Taking a member out and putting it back leaves the aggregates as they were,
            // and taking it out for good gives those built without it.
            let mut again = base.clone();
            prop_assert!(agg.describe(&state, &mut again));
            prop_assert_eq!(&again, &described);
            let mut without = agg.clone();
            without.remove(&r, *id);
            let (mut x, mut y) = (base.clone(), base.clone());
            if without.describe(&state, &mut x) {
                prop_assert!(Agg::build(&state, &rest).describe(&state, &mut y));
                prop_assert_eq!(x, y);
            }
        }
    }
}
