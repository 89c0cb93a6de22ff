//! The evaluation as a table for people: `truce eval fusion` without `--json`.

use super::*;

/// The evaluation as a table for people.
pub fn render(e: &Evaluation) -> String {
    let pct = |a: u64, b: u64| {
        if b == 0 {
            "-".to_owned()
        } else {
            format!("{:.1}%", 100.0 * a as f64 / b as f64)
        }
    };
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("{k:<38} {v}\n"));
    line("directory", e.dir.clone());
    line(
        "fusion parameters",
        format!(
            "threshold {}%, time slack {} h, max gap {} h, min radius {} m, density {} per 1,000 km² a day",
            e.fusion.threshold_percent,
            e.fusion.time_slack_hours,
            e.fusion.max_gap_hours,
            e.fusion.min_radius_m,
            e.fusion.density_per_1000_km2_day
        ),
    );
    line(
        "entries / reports / false / sightings",
        format!(
            "{} / {} / {} / {}",
            e.entries, e.reports, e.false_reports, e.sightings
        ),
    );
    line(
        "incidents (with reports)",
        format!("{} ({})", e.incidents, e.incidents_reported),
    );
    line(
        "events / merges / splits",
        format!("{} / {} / {}", e.events, e.merges, e.splits),
    );
    line("B-cubed precision", format!("{:.4}", e.bcubed.precision));
    line("B-cubed recall", format!("{:.4}", e.bcubed.recall));
    line("B-cubed F1", format!("{:.4}", e.bcubed.f1));
    line(
        "attribution accuracy",
        format!(
            "{:.4} ({} of {} events; {} fused UNKNOWN)",
            e.attribution_accuracy,
            e.attribution_correct,
            e.attribution_evaluated,
            e.attribution_unknown
        ),
    );
    line(
        "over-merging: foreign reports",
        format!(
            "{} ({} false); true incidents <2/2-5/5-10/10-20/>=20 km apart: {:?}; <1/1-6/6-24/>=24 h apart: {:?}; same true type: {}; same flare-up: {}",
            e.over_merge.foreign_reports,
            e.over_merge.foreign_false_reports,
            e.over_merge.true_distance_km,
            e.over_merge.true_gap_hours,
            e.over_merge.same_true_type,
            e.over_merge.same_flare_up
        ),
    );
    line(
        "failures to join: stray reports",
        format!(
            "{} in {} split incidents; lowest factor {:?}; {} beyond max gap; {} would now pass the threshold",
            e.split.stray_reports,
            e.split.incidents_split,
            e.split.by_factor,
            e.split.beyond_max_gap,
            e.split.above_threshold
        ),
    );
    line(
        "replay",
        format!(
            "{:.2} s, {:.0} reports/s (total {:.2} s)",
            e.replay_seconds, e.reports_per_second, e.total_seconds
        ),
    );
    line(
        "of which: engine / admission",
        format!(
            "{:.2} s / {:.2} s (the rest: waiting for entries parsed and verified ahead){}",
            e.engine_seconds,
            e.admission_seconds,
            e.engine_thread_cpu_seconds
                .map(|s| format!("; the engine's thread on a CPU {s:.2} s"))
                .unwrap_or_default()
        ),
    );
    s.push_str("\ncorroboration    events  reports  mostly one incident  mostly true\n");
    for (level, l) in &e.corroboration {
        s.push_str(&format!(
            "{level:<16} {:>6}  {:>7}  {:>19}  {:>11}\n",
            l.events,
            l.reports,
            pct(l.mostly_one_incident, l.events),
            pct(l.mostly_true, l.events)
        ));
    }
    s
}
