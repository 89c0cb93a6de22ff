//! `truce eval fusion`: how well fusion recovers the incidents of a simulation.
//!
//! The simulated log (`entries.jsonl`) is replayed in-process through admission — envelope
//! shape, strict signature under the member's key at that point of the log, the registry's
//! rules — and the engine, with the zones document from the same directory. The events it ends
//! with are compared with `truth.jsonl` (see [`crate::simulate`]):
//!
//! - B-cubed precision, recall and F1 over reports: a report's predicted cluster is the event
//!   it ended in, its true cluster the incident it reports (a false report is alone);
//! - attribution accuracy: over events whose majority incident is known, the share whose fused
//!   perpetrator is the incident's;
//! - corroboration calibration: per level, how many events, and the shares that are mostly one
//!   incident and mostly not false reports;
//! - the errors, by kind: reports sharing an event with another incident's majority
//!   (over-merging, with how far apart the true incidents were) and reports left out of their
//!   incident's main event (failures to join, with the factor of the fusion score that kept
//!   them out).

mod bcubed;
mod render;
mod truth;

pub(crate) use bcubed::bcubed_of;
pub use bcubed::{BCubed, bcubed};
pub use render::render;
use truth::*;

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant};
use truce_engine::Engine;
use truce_engine::fusion::explain;
use truce_engine::state::Event;
use truce_geo::local::distance_m;
use truce_model::Entry;
use truce_model::admission::LogState;
use truce_model::agreement::FusionParams;

/// Per corroboration level.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Level {
    pub events: u64,
    pub reports: u64,
    /// Events where more than half of the reports are of one incident.
    pub mostly_one_incident: u64,
    /// Events where fewer than half of the reports are false.
    pub mostly_true: u64,
}

/// Reports in an event whose majority is another incident: how far the true incidents were.
#[derive(Debug, Default, Clone, Serialize)]
pub struct OverMerge {
    /// Reports in an event whose majority cluster is not theirs.
    pub foreign_reports: u64,
    pub foreign_false_reports: u64,
    /// Distance between the two true incidents, km: <2, 2-5, 5-10, 10-20, >=20.
    pub true_distance_km: [u64; 5],
    /// Time between the two true incidents, hours: <1, 1-6, 6-24, >=24.
    pub true_gap_hours: [u64; 4],
    /// Foreign reports of an incident of the same true type as the majority's.
    pub same_true_type: u64,
    /// Foreign reports of an incident of the same simulated flare-up as the majority's.
    pub same_flare_up: u64,
}

/// Reports left out of their incident's main event: which score factor kept them out.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Split {
    /// Incidents whose reports ended in more than one event.
    pub incidents_split: u64,
    /// Reports not in their incident's main event.
    pub stray_reports: u64,
    /// The lowest factor of the stray report's score against the main event, by factor.
    pub by_factor: BTreeMap<String, u64>,
    /// Stray reports whose score against the main event (as fused at the end) reaches the
    /// threshold: left out by the order of arrival, not by their content.
    pub above_threshold: u64,
    /// Stray reports more than `max_gap_hours` from the main event.
    pub beyond_max_gap: u64,
}

/// What `eval fusion` measured.
#[derive(Debug, Serialize)]
pub struct Evaluation {
    pub dir: String,
    pub entries: u64,
    pub reports: u64,
    pub false_reports: u64,
    pub sightings: u64,
    pub incidents: u64,
    pub incidents_reported: u64,
    pub events: u64,
    pub merges: u64,
    pub splits: u64,
    pub bcubed: BCubed,
    /// Events whose majority incident is known.
    pub attribution_evaluated: u64,
    pub attribution_correct: u64,
    pub attribution_accuracy: f64,
    /// Events with the fused perpetrator `UNKNOWN` among those evaluated.
    pub attribution_unknown: u64,
    pub corroboration: BTreeMap<String, Level>,
    pub over_merge: OverMerge,
    pub split: Split,
    pub fusion: FusionParams,
    /// The whole replay: reading, parsing and strictly verifying every entry (on a reader
    /// thread, ahead), admission, and the engine.
    pub replay_seconds: f64,
    pub reports_per_second: f64,
    /// Of the replay, the time in `Engine::apply` alone: fusion and the rules on entries
    /// already parsed, verified and admitted (summed over the entries).
    pub engine_seconds: f64,
    /// Of the replay, the time in admission on the engine's thread (the registry's rules,
    /// countersignatures, the signatures the reader thread could not check ahead).
    pub admission_seconds: f64,
    /// CPU time of the engine's thread over the replay (admission, the engine, receiving
    /// entries), from Linux's `/proc/thread-self/schedstat`: unlike the two above, it does not
    /// count time the thread waited for a core on a busy machine. `None` elsewhere.
    pub engine_thread_cpu_seconds: Option<f64>,
    pub total_seconds: f64,
}

/// The blobs of a simulation directory: its zones document.
struct ZonesDoc {
    sha256: String,
    bytes: Vec<u8>,
}

impl truce_engine::Blobs for ZonesDoc {
    fn blob(&self, sha256: &str) -> Option<Vec<u8>> {
        (sha256 == self.sha256).then(|| self.bytes.clone())
    }
}

/// Admits one parsed entry as the server would have (strict signature under the member's key
/// at this point of the log, the registry's rules) and applies it to the registry.
fn admit(
    state: &mut LogState,
    zones: &ZonesDoc,
    origin: &mut Option<String>,
    index: u64,
    parsed: truce_model::replay::ParsedLeaf,
) -> Result<Entry> {
    // The log's origin is the one its first entry names.
    let origin = origin.get_or_insert_with(|| parsed.mechanism().to_owned());
    let mut doc = |sha: &str| -> Result<Vec<u8>> {
        if sha == zones.sha256 {
            Ok(zones.bytes.clone())
        } else {
            Err(anyhow!(
                "the agreement's zones document is {sha}, but zones.geojson is {}",
                zones.sha256
            ))
        }
    };
    truce_model::replay::readmit_parsed(state, origin, index, parsed, &mut doc)?
        .map_err(|why| anyhow!(why))
}

/// Lines read from the log with what a reader thread checked of them on its own.
type Checked = Result<(
    usize,
    std::result::Result<truce_model::replay::ParsedLeaf, String>,
)>;

/// Entries read and checked ahead at a time.
const READ_AHEAD_CHUNK: usize = 512;

/// Reads `entries` line by line on this thread, parsing them and verifying their signatures
/// ahead of admission in chunks ([`truce_model::replay::Prechecker`], on every core), and sends
/// them in order.
fn read_ahead(file: std::fs::File, path: &Path, out: std::sync::mpsc::SyncSender<Checked>) {
    let mut check = truce_model::replay::Prechecker::new();
    let mut reader = std::io::BufReader::new(file);
    let mut first = 0u64;
    loop {
        let mut leaves: Vec<Vec<u8>> = Vec::with_capacity(READ_AHEAD_CHUNK);
        let mut sizes = Vec::with_capacity(READ_AHEAD_CHUNK);
        let mut failed = None;
        while leaves.len() < READ_AHEAD_CHUNK {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(n) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    sizes.push(n);
                    leaves.push(line);
                }
                Err(e) => {
                    failed = Some(anyhow!(e).context(format!("reading {}", path.display())));
                    break;
                }
            }
        }
        if leaves.is_empty() && failed.is_none() {
            return;
        }
        let checked = check.check(first, &leaves);
        first += leaves.len() as u64;
        for (n, parsed) in sizes.into_iter().zip(checked) {
            if out.send(Ok((n, parsed))).is_err() {
                return;
            }
        }
        if let Some(e) = failed {
            let _ = out.send(Err(e));
            return;
        }
    }
}

/// Replays `dir/entries.jsonl` and scores fusion against `dir/truth.jsonl`.
pub fn fusion(dir: &Path, progress: bool) -> Result<Evaluation> {
    let started = Instant::now();
    let truth = read_truth(&dir.join("truth.jsonl"))?;
    let zones_path = dir.join("zones.geojson");
    let bytes =
        std::fs::read(&zones_path).with_context(|| format!("reading {}", zones_path.display()))?;
    let zones = ZonesDoc {
        sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        bytes,
    };

    let entries_path = dir.join("entries.jsonl");
    let file = std::fs::File::open(&entries_path)
        .with_context(|| format!("reading {}", entries_path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new(size);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} replaying entries [{bar:30}] {bytes}/{total_bytes} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let replay_started = Instant::now();
    let cpu_started = thread_cpu_seconds();
    let mut state = LogState::new();
    let mut engine = Engine::new();
    let mut origin = None;
    let mut index = 0u64;
    let (mut admission, mut applying) = (Duration::ZERO, Duration::ZERO);
    // Parsing and signatures on a reader thread (and the cores it uses), admission and the
    // engine on this one.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Checked>(4096);
    std::thread::scope(|scope| -> Result<()> {
        let path = entries_path.as_path();
        scope.spawn(move || read_ahead(file, path, tx));
        for checked in rx {
            let (n, parsed) = checked?;
            let started = Instant::now();
            let entry = parsed
                .map_err(|why| anyhow!(why))
                .and_then(|p| admit(&mut state, &zones, &mut origin, index, p))
                .with_context(|| format!("{} line {}", entries_path.display(), index + 1))?;
            let admitted = Instant::now();
            engine
                .apply(index, &entry, &zones)
                .map_err(|e| anyhow!("entry {index}: {e}"))?;
            admission += admitted - started;
            applying += admitted.elapsed();
            index += 1;
            if let Some(b) = &bar {
                b.inc(n as u64);
            }
        }
        Ok(())
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let replay_seconds = replay_started.elapsed().as_secs_f64();
    let engine_thread_cpu_seconds = cpu_started.zip(thread_cpu_seconds()).map(|(a, b)| b - a);
    let state = engine.state();
    let params = state
        .agreement
        .as_ref()
        .map(|a| a.fusion.clone())
        .unwrap_or_default();

    // Where each report ended: (event, true cluster, log index). Sorted, it groups the
    // reports by event and, within one, by cluster (vectors, not maps per event: at a million
    // reports maps would cost hundreds of megabytes).
    let mut ended: Vec<(&str, Cluster, u64)> = Vec::with_capacity(truth.reports.len());
    let mut false_reports = 0;
    for &(i, incident) in &truth.reports {
        let rec = state.reports.get(&i).with_context(|| {
            format!("truth names log index {i} as a report, but the engine has no report there")
        })?;
        let event = live(state, &rec.event)
            .with_context(|| format!("report {i} is in event {}, which is missing", rec.event))?;
        let cluster = match incident {
            Some(n) => Cluster::Incident(n),
            None => {
                false_reports += 1;
                Cluster::False(i)
            }
        };
        ended.push((event.id.as_str(), cluster, i));
    }
    let scores = bcubed_of(ended.iter().map(|x| (x.0, x.1)).collect());
    ended.sort_unstable();

    let mut corroboration: BTreeMap<String, Level> = BTreeMap::new();
    let (mut evaluated, mut correct, mut unknown) = (0, 0, 0);
    let mut over = OverMerge::default();
    // (incident, event, its reports in the event), to find each incident's main event.
    let mut incident_events: Vec<(u64, &str, usize)> = Vec::new();
    for group in ended.chunk_by(|a, b| a.0 == b.0) {
        let event_id = group[0].0;
        let Some(event) = state.events.get(event_id) else {
            continue;
        };
        // The event's reports by cluster, in cluster order.
        let clusters = || group.chunk_by(|a, b| a.1 == b.1);
        let total = group.len();
        let false_n: usize = clusters()
            .filter(|r| matches!(r[0].1, Cluster::False(_)))
            .map(<[_]>::len)
            .sum();
        let incident_max = clusters()
            .filter(|r| matches!(r[0].1, Cluster::Incident(_)))
            .map(<[_]>::len)
            .max()
            .unwrap_or(0);
        let level = corroboration
            .entry(
                serde_json::to_value(event.corroboration)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            )
            .or_default();
        level.events += 1;
        level.reports += total as u64;
        if incident_max * 2 > total {
            level.mostly_one_incident += 1;
        }
        if false_n * 2 < total {
            level.mostly_true += 1;
        }
        for r in clusters() {
            if let Cluster::Incident(n) = r[0].1 {
                incident_events.push((n, event_id, r.len()));
            }
        }
        // The majority: most reports; ties to the first cluster in order (incidents before
        // false reports, lower numbers first).
        let mut best: Option<(Cluster, usize)> = None;
        for r in clusters() {
            if best.is_none_or(|(_, n)| r.len() > n) {
                best = Some((r[0].1, r.len()));
            }
        }
        let Some((major, _)) = best else {
            continue;
        };
        let major_incident = match major {
            Cluster::Incident(n) => truth.incident(n),
            Cluster::False(_) => None,
        };
        if let Some(inc) = major_incident {
            evaluated += 1;
            if event.perpetrator == truth.name(inc.perpetrator) {
                correct += 1;
            }
            if event.perpetrator == "UNKNOWN" {
                unknown += 1;
            }
        }
        for r in clusters() {
            let c = r[0].1;
            if c == major {
                continue;
            }
            over.foreign_reports += r.len() as u64;
            let (Cluster::Incident(n), Some(a)) = (c, major_incident) else {
                if matches!(c, Cluster::False(_)) {
                    over.foreign_false_reports += r.len() as u64;
                }
                continue;
            };
            let Some(b) = truth.incident(n) else {
                continue;
            };
            let km = distance_m(a.point, b.point) / 1000.0;
            let hours = a.time.duration_since(b.time).as_secs_f64().abs() / 3600.0;
            let k = r.len() as u64;
            over.true_distance_km[bucket(km, &[2.0, 5.0, 10.0, 20.0])] += k;
            over.true_gap_hours[bucket(hours, &[1.0, 6.0, 24.0])] += k;
            if a.event_type == b.event_type {
                over.same_true_type += k;
            }
            if a.flare_up.is_some() && a.flare_up == b.flare_up {
                over.same_flare_up += k;
            }
        }
    }
    incident_events.sort_by_key(|x| x.0);

    // Failures to join: reports outside their incident's main event (the event with most of
    // its reports; ties to the lower event id).
    let mut split = Split::default();
    for events in incident_events.chunk_by(|a, b| a.0 == b.0) {
        if events.len() < 2 {
            continue;
        }
        let n = events[0].0;
        split.incidents_split += 1;
        let main = events
            .iter()
            .max_by(|a, b| a.2.cmp(&b.2).then(b.1.cmp(a.1)))
            .map(|e| e.1)
            .unwrap_or_default();
        let Some(main_event) = state.events.get(main) else {
            continue;
        };
        for (_, event_id, _) in events.iter().filter(|e| e.1 != main) {
            let key = (*event_id, Cluster::Incident(n));
            let from = ended.partition_point(|x| (x.0, x.1) < key);
            let to = ended.partition_point(|x| (x.0, x.1) <= key);
            for &(_, _, i) in &ended[from..to] {
                let Some(rec) = state.reports.get(&i) else {
                    continue;
                };
                split.stray_reports += 1;
                match explain(rec, main_event, &params) {
                    None => split.beyond_max_gap += 1,
                    Some(f) => {
                        let odds = f.iter().map(|x| x.1).product::<f64>();
                        if odds / (1.0 + odds) * 100.0 >= f64::from(params.threshold_percent) {
                            split.above_threshold += 1;
                        }
                        let lowest = f
                            .iter()
                            .min_by(|a, b| a.1.total_cmp(&b.1))
                            .map(|x| x.0)
                            .unwrap_or("distance");
                        *split.by_factor.entry(lowest.to_owned()).or_default() += 1;
                    }
                }
            }
        }
    }

    let events = state
        .events
        .values()
        .filter(|e| e.merged_into.is_none())
        .count() as u64;
    let count = |a: &str| state.fusion_log.iter().filter(|s| s.action == a).count() as u64;
    let reports = truth.reports.len() as u64;
    let mut reported: Vec<u64> = truth.reports.iter().filter_map(|x| x.1).collect();
    reported.sort_unstable();
    reported.dedup();
    let incidents_reported = reported.len() as u64;
    Ok(Evaluation {
        dir: dir.display().to_string(),
        entries: index,
        reports,
        false_reports,
        sightings: truth.sightings,
        incidents: truth.incidents.len() as u64,
        incidents_reported,
        events,
        merges: count("merge"),
        splits: count("split"),
        bcubed: scores,
        attribution_evaluated: evaluated,
        attribution_correct: correct,
        attribution_accuracy: if evaluated == 0 {
            1.0
        } else {
            correct as f64 / evaluated as f64
        },
        attribution_unknown: unknown,
        corroboration,
        over_merge: over,
        split,
        fusion: params,
        replay_seconds,
        reports_per_second: if replay_seconds > 0.0 {
            reports as f64 / replay_seconds
        } else {
            0.0
        },
        engine_seconds: applying.as_secs_f64(),
        admission_seconds: admission.as_secs_f64(),
        engine_thread_cpu_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
    })
}

/// CPU time of the calling thread so far, seconds (Linux: the first field of
/// `/proc/thread-self/schedstat`, nanoseconds on a CPU).
fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// The event a report's event became after merges.
fn live<'a>(state: &'a truce_engine::State, mut id: &'a str) -> Option<&'a Event> {
    for _ in 0..state.events.len() + 1 {
        let e = state.events.get(id)?;
        match &e.merged_into {
            Some(next) => id = next,
            None => return Some(e),
        }
    }
    None
}

fn bucket(x: f64, bounds: &[f64]) -> usize {
    bounds.iter().position(|b| x < *b).unwrap_or(bounds.len())
}

/// Fails unless `dir` looks like a simulation directory (clear message for the common mistake).
pub fn check_dir(dir: &Path) -> Result<()> {
    for f in ["entries.jsonl", "truth.jsonl", "zones.geojson"] {
        if !dir.join(f).is_file() {
            bail!(
                "{} has no {f}; run `truce simulate --out {}` first",
                dir.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn perfect_clustering_scores_one() {
        let s = bcubed(&[(1, 'a'), (1, 'a'), (2, 'b')]);
        assert_eq!((s.precision, s.recall, s.f1), (1.0, 1.0, 1.0));
    }

    #[test]
    fn everything_in_one_cluster() {
        // Truth {a, a}, {b}; predicted one cluster of three.
        // Precision: a items 2/3 each, b item 1/3: (2/3 + 2/3 + 1/3) / 3 = 5/9. Recall 1.
        let s = bcubed(&[(1, 'a'), (1, 'a'), (1, 'b')]);
        assert!(close(s.precision, 5.0 / 9.0));
        assert!(close(s.recall, 1.0));
        assert!(close(s.f1, 2.0 * (5.0 / 9.0) / (5.0 / 9.0 + 1.0)));
    }

    #[test]
    fn everything_split() {
        // Truth one cluster of three, predicted three singletons: precision 1, recall 1/3.
        let s = bcubed(&[(1, 'a'), (2, 'a'), (3, 'a')]);
        assert!(close(s.precision, 1.0));
        assert!(close(s.recall, 1.0 / 3.0));
        assert!(close(s.f1, 0.5));
    }

    #[test]
    fn mixed_example_by_hand() {
        // Predicted {x: a a b} {y: b c}; truth {a a} {b b} {c}.
        // Precision: a 2/3, a 2/3, b(x) 1/3, b(y) 1/2, c 1/2 → (2/3+2/3+1/3+1/2+1/2)/5 = 8/15.
        // Recall:    a 1, a 1, b(x) 1/2, b(y) 1/2, c 1 → 4/5.
        let s = bcubed(&[('x', 'a'), ('x', 'a'), ('x', 'b'), ('y', 'b'), ('y', 'c')]);
        assert!(close(s.precision, 8.0 / 15.0), "{s:?}");
        assert!(close(s.recall, 0.8), "{s:?}");
        assert!(close(s.f1, 2.0 * (8.0 / 15.0) * 0.8 / (8.0 / 15.0 + 0.8)));
    }

    #[test]
    fn no_items() {
        let s = bcubed::<u8, u8>(&[]);
        assert_eq!(s.f1, 1.0);
    }

    #[test]
    fn a_simulation_replays_and_scores() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let cfg = crate::simulate::Config {
            seed: 5,
            incidents: 200,
            days: 4,
            noise: crate::simulate::Noise::parse("default").unwrap(),
            end: "2026-06-01T00:00:00Z".parse().unwrap(),
            fusion: Default::default(),
        };
        let sim = crate::simulate::simulate(&cfg, &dir, None, false).unwrap();
        let e = fusion(&dir, false).unwrap();
        assert_eq!(e.reports, sim.reports);
        assert_eq!(e.false_reports, sim.false_reports);
        assert_eq!(e.entries, sim.entries);
        assert_eq!(
            e.corroboration.values().map(|l| l.events).sum::<u64>(),
            e.events
        );
        assert_eq!(
            e.corroboration.values().map(|l| l.reports).sum::<u64>(),
            e.reports
        );
        assert!((0.0..=1.0).contains(&e.bcubed.f1));
        assert!(e.bcubed.f1 > 0.5, "{}", render(&e));
    }
}
