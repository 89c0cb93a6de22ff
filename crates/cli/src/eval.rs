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

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;
use truce_engine::Engine;
use truce_engine::fusion::{distance_m, explain};
use truce_engine::state::Event;
use truce_model::agreement::FusionParams;
use truce_model::{Entry, Registry};

/// B-cubed precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BCubed {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// B-cubed scores of a clustering: one `(predicted cluster, true cluster)` pair per item.
/// Every item weighs the same; with no items all three are 1 (nothing to get wrong).
pub fn bcubed<P: Ord, T: Ord>(items: &[(P, T)]) -> BCubed {
    if items.is_empty() {
        return BCubed {
            precision: 1.0,
            recall: 1.0,
            f1: 1.0,
        };
    }
    let mut joint: BTreeMap<(&P, &T), u64> = BTreeMap::new();
    let mut pred: BTreeMap<&P, u64> = BTreeMap::new();
    let mut truth: BTreeMap<&T, u64> = BTreeMap::new();
    for (p, t) in items {
        *joint.entry((p, t)).or_default() += 1;
        *pred.entry(p).or_default() += 1;
        *truth.entry(t).or_default() += 1;
    }
    // Each of the n items of a (p, t) cell scores n/|p| for precision and n/|t| for recall.
    let (mut ps, mut rs) = (0.0, 0.0);
    for ((p, t), n) in &joint {
        let n = *n as f64;
        ps += n * n / pred[p] as f64;
        rs += n * n / truth[t] as f64;
    }
    let total = items.len() as f64;
    let (precision, recall) = (ps / total, rs / total);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    BCubed {
        precision,
        recall,
        f1,
    }
}

/// A report's true cluster: its incident, or itself for a false report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cluster {
    Incident(u64),
    False(u64),
}

/// An event's reports by true cluster, in cluster order: a sorted vector, as most events hold
/// one or two clusters (a map per event would cost hundreds of bytes each at a million).
#[derive(Debug, Default)]
struct Clusters(Vec<(Cluster, Vec<u64>)>);

impl Clusters {
    fn entry(&mut self, c: Cluster) -> &mut Vec<u64> {
        let at = match self.0.binary_search_by(|x| x.0.cmp(&c)) {
            Ok(at) => at,
            Err(at) => {
                self.0.insert(at, (c, Vec::new()));
                at
            }
        };
        &mut self.0[at].1
    }

    fn get(&self, c: &Cluster) -> Option<&Vec<u64>> {
        let at = self.0.binary_search_by(|x| x.0.cmp(c)).ok()?;
        Some(&self.0[at].1)
    }

    fn iter(&self) -> impl Iterator<Item = (&Cluster, &Vec<u64>)> {
        self.0.iter().map(|(c, r)| (c, r))
    }

    fn values(&self) -> impl Iterator<Item = &Vec<u64>> {
        self.0.iter().map(|x| &x.1)
    }
}

#[derive(Debug, Clone)]
struct TrueIncident {
    perpetrator: String,
    event_type: String,
    point: [f64; 2],
    time: jiff::Timestamp,
    flare_up: Option<u64>,
}

#[derive(Debug, Default)]
struct Truth {
    /// Log index → the report's incident (None: a false report).
    reports: BTreeMap<u64, Option<u64>>,
    incidents: BTreeMap<u64, TrueIncident>,
    sightings: u64,
}

fn read_truth(path: &Path) -> Result<Truth> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut t = Truth::default();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| anyhow!("{} line {}: {what}", path.display(), n + 1);
        let v: Value = serde_json::from_str(&line).map_err(|e| bad(&e.to_string()))?;
        match v["record"].as_str() {
            Some("report") => {
                let index = v["index"].as_u64().ok_or_else(|| bad("no index"))?;
                t.reports.insert(index, v["incident"].as_u64());
            }
            Some("incident") => {
                let n = v["incident"]
                    .as_u64()
                    .ok_or_else(|| bad("no incident number"))?;
                let point = match (v["point"][0].as_f64(), v["point"][1].as_f64()) {
                    (Some(x), Some(y)) => [x, y],
                    _ => return Err(bad("no point")),
                };
                let time = v["time"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("no time"))?;
                t.incidents.insert(
                    n,
                    TrueIncident {
                        perpetrator: v["perpetrator"].as_str().unwrap_or("").to_owned(),
                        event_type: v["type"].as_str().unwrap_or("").to_owned(),
                        point,
                        time,
                        flare_up: v["flare_up"].as_u64(),
                    },
                );
            }
            Some("sighting") => t.sightings += 1,
            _ => return Err(bad("`record` is not report, incident or sighting")),
        }
    }
    Ok(t)
}

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
    pub replay_seconds: f64,
    pub reports_per_second: f64,
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
    registry: &mut Registry,
    zones: &ZonesDoc,
    origin: &mut Option<String>,
    index: u64,
    parsed: crate::verify::ParsedLeaf,
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
    crate::verify::readmit_parsed(registry, origin, index, parsed, &mut doc)?
        .map_err(|why| anyhow!(why))
}

/// Lines read from the log with what a reader thread checked of them on its own.
type Checked = Result<(
    usize,
    std::result::Result<crate::verify::ParsedLeaf, String>,
)>;

/// Reads `entries` line by line on this thread, parsing each and verifying its signature
/// ahead of admission ([`crate::verify::prechecker`]), and sends them in order.
fn read_ahead(file: std::fs::File, path: &Path, out: std::sync::mpsc::SyncSender<Checked>) {
    let mut check = crate::verify::prechecker();
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    for index in 0u64.. {
        line.clear();
        let n = match reader.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => {
                let _ = out.send(Err(
                    anyhow!(e).context(format!("reading {}", path.display()))
                ));
                return;
            }
        };
        let leaf = line.strip_suffix(b"\n").unwrap_or(&line);
        if out.send(Ok((n, check(index, leaf)))).is_err() {
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
    let mut registry = Registry::new();
    let mut engine = Engine::new();
    let mut origin = None;
    let mut index = 0u64;
    // Parsing and signatures on a reader thread, admission and the engine on this one.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Checked>(4096);
    std::thread::scope(|scope| -> Result<()> {
        let path = entries_path.as_path();
        scope.spawn(move || read_ahead(file, path, tx));
        for checked in rx {
            let (n, parsed) = checked?;
            let entry = parsed
                .map_err(|why| anyhow!(why))
                .and_then(|p| admit(&mut registry, &zones, &mut origin, index, p))
                .with_context(|| format!("{} line {}", entries_path.display(), index + 1))?;
            engine
                .apply(index, &entry, &zones)
                .map_err(|e| anyhow!("entry {index}: {e}"))?;
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
    let state = engine.state();
    let params = state
        .agreement
        .as_ref()
        .map(|a| a.fusion.clone())
        .unwrap_or_default();

    // Where each report ended.
    let mut pairs: Vec<(&str, Cluster)> = Vec::with_capacity(truth.reports.len());
    let mut false_reports = 0;
    for (&i, incident) in &truth.reports {
        let rec = state.reports.get(&i).with_context(|| {
            format!("truth names log index {i} as a report, but the engine has no report there")
        })?;
        let event = live(state, &rec.event)
            .with_context(|| format!("report {i} is in event {}, which is missing", rec.event))?;
        let cluster = match incident {
            Some(n) => Cluster::Incident(*n),
            None => {
                false_reports += 1;
                Cluster::False(i)
            }
        };
        pairs.push((event.id.as_str(), cluster));
    }
    let scores = bcubed(&pairs);

    // Per event: its clusters.
    let mut by_event: BTreeMap<&str, Clusters> = BTreeMap::new();
    for ((event, cluster), (&i, _)) in pairs.iter().zip(&truth.reports) {
        by_event.entry(event).or_default().entry(*cluster).push(i);
    }
    let majority = |clusters: &Clusters| -> Option<(Cluster, usize)> {
        // Most reports; ties to the first cluster in order (incidents before false reports,
        // lower numbers first).
        let mut best: Option<(Cluster, usize)> = None;
        for (c, r) in clusters.iter() {
            if best.is_none_or(|(_, n)| r.len() > n) {
                best = Some((*c, r.len()));
            }
        }
        best
    };
    let mut corroboration: BTreeMap<String, Level> = BTreeMap::new();
    let (mut evaluated, mut correct, mut unknown) = (0, 0, 0);
    let mut over = OverMerge::default();
    // Incident → the event with most of its reports (ties to the lower event id).
    let mut incident_events: BTreeMap<u64, Vec<(&str, usize)>> = BTreeMap::new();
    for (event_id, clusters) in &by_event {
        let Some(event) = state.events.get(*event_id) else {
            continue;
        };
        let total: usize = clusters.values().map(Vec::len).sum();
        let false_n: usize = clusters
            .iter()
            .filter(|(c, _)| matches!(c, Cluster::False(_)))
            .map(|(_, r)| r.len())
            .sum();
        let incident_max = clusters
            .iter()
            .filter(|(c, _)| matches!(c, Cluster::Incident(_)))
            .map(|(_, r)| r.len())
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
        for (c, r) in clusters.iter() {
            if let Cluster::Incident(n) = c {
                incident_events
                    .entry(*n)
                    .or_default()
                    .push((event_id, r.len()));
            }
        }
        let Some((major, _)) = majority(clusters) else {
            continue;
        };
        let major_incident = match major {
            Cluster::Incident(n) => truth.incidents.get(&n),
            Cluster::False(_) => None,
        };
        if let Some(inc) = major_incident {
            evaluated += 1;
            if event.perpetrator == inc.perpetrator {
                correct += 1;
            }
            if event.perpetrator == "UNKNOWN" {
                unknown += 1;
            }
        }
        for (c, r) in clusters.iter() {
            if *c == major {
                continue;
            }
            over.foreign_reports += r.len() as u64;
            let (Cluster::Incident(n), Some(a)) = (c, major_incident) else {
                if matches!(c, Cluster::False(_)) {
                    over.foreign_false_reports += r.len() as u64;
                }
                continue;
            };
            let Some(b) = truth.incidents.get(n) else {
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

    // Failures to join: reports outside their incident's main event.
    let mut split = Split::default();
    for (n, events) in &incident_events {
        if events.len() < 2 {
            continue;
        }
        split.incidents_split += 1;
        let main = events
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
            .map(|e| e.0)
            .unwrap_or_default();
        let Some(main_event) = state.events.get(main) else {
            continue;
        };
        for (event_id, _) in events.iter().filter(|e| e.0 != main) {
            let strays = by_event
                .get(event_id)
                .and_then(|c| c.get(&Cluster::Incident(*n)))
                .map_or(&[][..], Vec::as_slice);
            for i in strays {
                let Some(rec) = state.reports.get(i) else {
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
    let incidents_reported = truth
        .reports
        .values()
        .flatten()
        .collect::<BTreeSet<_>>()
        .len() as u64;
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
        total_seconds: started.elapsed().as_secs_f64(),
    })
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
