//! `fusion`: fuses a simulated log with truce's engine (`truce_sim::eval::fusion`: admission and
//! the engine, in log order) and clusters the same report points with scikit-learn's DBSCAN
//! (haversine, ball tree; `bench/fusion_dbscan.py`) in the same run; prints both times, both
//! B-cubed F1 scores against the simulation's truth, and both peak memories.
//!
//! - The simulation is `truce_sim::simulate` at the default noise profile (or `--noise`), seeded;
//!   the incident count is calibrated on a small pilot run to give about `--reports` reports,
//!   over enough days to keep `--per-day` incidents a day (the density of the figures in
//!   docs/fusion.md: 20,000 incidents in 30 days).
//! - The fusion runs in a child process (this binary, re-executed) that does nothing else:
//!   its peak memory is that process's `VmHWM` (reading the truth, replaying the log, scoring).
//!   Two times are reported: the whole replay (reading, parsing and strictly verifying every
//!   entry ahead on a reader thread, admission, the engine), and the fusion engine alone (the
//!   time in `Engine::apply` on entries already admitted), which is what compares with DBSCAN
//!   given points.
//! - DBSCAN gets each report's point (radians) and the midpoint of its time window, in two
//!   variants, each in its own Python process (its own `ru_maxrss`): all points at once, and
//!   partitioned by UTC day. Python computes B-cubed itself; this binary recomputes it on
//!   DBSCAN's labels with `truce_sim::eval::bcubed` and fails if they differ.
//! - `--curve` instead simulates and evaluates at several noise factors and writes the SVG
//!   chart of F1 against noise.
//!
//! Run: `cargo run --release -p truce-bench --bin fusion -- --python /tmp/fv/bin/python`.

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use truce_sim::simulate::{self, FusionOverrides, Noise};

#[derive(Parser)]
#[command(
    about = "truce fusion vs scikit-learn DBSCAN on simulated reports: time, B-cubed F1, peak memory"
)]
struct Args {
    /// About this many reports (the incident count is calibrated on a pilot run).
    #[arg(long, default_value_t = 1_000_000)]
    reports: u64,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Incidents a day: the simulation spans incidents / per-day days. The default, 8, is
    /// `truce simulate`'s (2,000 incidents over 250 days); 67 is the stress rate of the
    /// earlier figures (2,000 over 30 days).
    #[arg(long, default_value_t = 8)]
    per_day: u64,
    /// Noise profile: low, default, high or a factor from 0 to 4.
    #[arg(long, default_value = "default")]
    noise: String,
    /// Reuse this simulation directory instead of simulating (it is not deleted).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Python with scikit-learn and numpy.
    #[arg(long, default_value = "python3")]
    python: PathBuf,
    /// DBSCAN's eps, kilometres (great-circle); each value is a run of each variant.
    #[arg(long, value_delimiter = ',', default_value = "3,1")]
    eps_km: Vec<f64>,
    /// Address-space limit of each DBSCAN process, GiB: past it DBSCAN fails with MemoryError
    /// instead of pushing a shared machine into swap or the OOM killer.
    #[arg(long, default_value_t = 8.0)]
    dbscan_mem_gib: f64,
    /// Skip DBSCAN (fusion only).
    #[arg(long)]
    no_dbscan: bool,
    /// Agreement fusion parameter `threshold_percent` of the simulated log.
    #[arg(long)]
    threshold: Option<u32>,
    /// Agreement fusion parameter `time_slack_hours`.
    #[arg(long)]
    time_slack: Option<u32>,
    /// Agreement fusion parameter `max_gap_hours`.
    #[arg(long)]
    max_gap: Option<u32>,
    /// Agreement fusion parameter `min_radius_m`.
    #[arg(long)]
    min_radius: Option<u32>,
    /// Agreement fusion parameter `density_per_1000_km2_day`.
    #[arg(long)]
    density: Option<u32>,
    /// Any agreement fusion parameter, NAME=VALUE (repeatable), e.g. `same_source_percent=25`.
    #[arg(long)]
    fusion: Vec<String>,
    /// F1 against noise instead: simulate and evaluate at each of --factors.
    #[arg(long)]
    curve: bool,
    /// Noise factors of the curve.
    #[arg(long, value_delimiter = ',', default_value = "0.25,0.5,1,1.5,2,3")]
    factors: Vec<f64>,
    /// Where the curve's SVG chart goes.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/fusion-f1-vs-noise.svg"))]
    svg: PathBuf,
    /// Internal: evaluate DIR in this process and print the evaluation with its VmHWM.
    #[arg(long, hide = true)]
    child_eval: Option<PathBuf>,
}

/// The end of every simulated timeline: fixed, so a seed gives the same bytes on every run.
const END: &str = "2026-11-01T00:00:00Z";
/// The F1 the issue asks for at the default profile.
const TARGET_F1: f64 = 0.97;

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(dir) = &args.child_eval {
        return child_eval(dir);
    }
    if args.curve {
        return curve(&args);
    }
    benchmark(&args)
}

/// Peak resident set of this process so far, KiB (`VmHWM` of /proc/self/status).
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn child_eval(dir: &Path) -> Result<()> {
    truce_sim::eval::check_dir(dir)?;
    let before = vm_hwm_kib();
    let e = truce_sim::eval::fusion(dir, false)?;
    let mut v = serde_json::to_value(&e)?;
    v["vm_hwm_kib_at_start"] = json!(before);
    v["vm_hwm_kib"] = json!(vm_hwm_kib());
    println!("{v}");
    Ok(())
}

fn overrides(args: &Args) -> Result<FusionOverrides> {
    FusionOverrides::from_flags(
        [
            args.threshold,
            args.time_slack,
            args.max_gap,
            args.min_radius,
            args.density,
        ],
        &args.fusion,
    )
}

/// Simulates about `reports` reports at `noise` into `out`: a pilot of 2,000 incidents gives
/// the reports per incident at this noise.
fn simulate_reports(
    args: &Args,
    noise: &Noise,
    reports: u64,
    out: &Path,
) -> Result<simulate::Summary> {
    let end = simulate::end_time(Some(END))?;
    let fusion = overrides(args)?;
    let config = |incidents: u64| simulate::Config {
        seed: args.seed,
        incidents,
        days: u32::try_from(incidents.div_ceil(args.per_day.max(1)).max(1)).unwrap_or(u32::MAX),
        noise: noise.clone(),
        end,
        fusion: fusion.clone(),
    };
    let pilot_dir = tempfile::tempdir()?;
    let pilot = simulate::simulate(&config(2_000), &pilot_dir.path().join("p"), None, false)?;
    if pilot.reports == 0 {
        bail!("the pilot simulation has no reports");
    }
    let per_incident = pilot.reports as f64 / 2_000.0;
    let incidents = ((reports as f64 / per_incident).round() as u64).max(1);
    simulate::simulate(&config(incidents), out, None, false)
}

/// Runs the evaluation of `dir` in a child process; returns its JSON (with `vm_hwm_kib`).
fn eval_child(dir: &Path) -> Result<Value> {
    let exe = std::env::current_exe().context("locating this binary")?;
    let out = Command::new(&exe)
        .arg("--child-eval")
        .arg(dir)
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    if !out.status.success() {
        bail!(
            "the fusion evaluation failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("the evaluation's output is not JSON")
}

/// One report as DBSCAN sees it.
struct Point {
    lon: f64,
    lat: f64,
    /// Seconds since the epoch: the midpoint of the report's time window.
    t: f64,
    /// The incident, or -(log index + 1) for a false report (alone in its true cluster).
    truth: i64,
}

/// Reads the reports' points and times from `entries.jsonl` and their truth from `truth.jsonl`.
fn read_points(dir: &Path) -> Result<Vec<Point>> {
    let truth_path = dir.join("truth.jsonl");
    let file = std::fs::File::open(&truth_path)
        .with_context(|| format!("reading {}", truth_path.display()))?;
    let mut truth = std::collections::HashMap::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        let v: Value = serde_json::from_str(&line)
            .with_context(|| format!("{}: not JSON", truth_path.display()))?;
        if v["record"] == "report" {
            let index = v["index"].as_u64().context("a truth report has no index")?;
            let label = match v["incident"].as_u64() {
                Some(n) => i64::try_from(n)?,
                None => -i64::try_from(index)? - 1,
            };
            truth.insert(index, label);
        }
    }
    let entries_path = dir.join("entries.jsonl");
    let file = std::fs::File::open(&entries_path)
        .with_context(|| format!("reading {}", entries_path.display()))?;
    let mut points = Vec::with_capacity(truth.len());
    for (index, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let line = line?;
        let index = index as u64;
        let Some(&label) = truth.get(&index) else {
            continue;
        };
        let bad = |what: &str| anyhow!("{} entry {index}: {what}", entries_path.display());
        let env = truce_log::Envelope::parse(&line).map_err(|e| bad(&e.to_string()))?;
        let entry: Value = serde_json::from_slice(&env.payload).map_err(|e| bad(&e.to_string()))?;
        let body = &entry["body"];
        let (Some(lon), Some(lat)) = (
            body["location"]["point"][0].as_f64(),
            body["location"]["point"][1].as_f64(),
        ) else {
            return Err(bad("the report has no point"));
        };
        let time = &body["time"];
        let second = |k: &str| -> Result<Option<f64>> {
            time[k]
                .as_str()
                .map(|s| {
                    s.parse::<jiff::Timestamp>()
                        .map(|t| t.as_second() as f64)
                        .map_err(|e| bad(&format!("time.{k}: {e}")))
                })
                .transpose()
        };
        let start = second("start")?.ok_or_else(|| bad("the report has no time.start"))?;
        let t = match (second("end")?, time["precision"].as_str()) {
            (Some(end), _) => (start + end) / 2.0,
            (None, Some("day")) => start + 43_200.0,
            (None, Some("hour")) => start + 1_800.0,
            _ => start,
        };
        points.push(Point {
            lon,
            lat,
            t,
            truth: label,
        });
    }
    if points.len() != truth.len() {
        bail!(
            "truth.jsonl names {} reports, entries.jsonl has {} of them",
            truth.len(),
            points.len()
        );
    }
    Ok(points)
}

/// Single-core `verify_strict` rate of this machine, signatures per second (entry-sized
/// messages).
fn verify_rate() -> Result<f64> {
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key();
    let messages: Vec<Vec<u8>> = (0..256u32)
        .map(|i| {
            let mut m = vec![b'x'; 700];
            m[..4].copy_from_slice(&i.to_le_bytes());
            m
        })
        .collect();
    let signatures: Vec<_> = messages.iter().map(|m| key.sign(m)).collect();
    let rounds = 40;
    let start = Instant::now();
    for _ in 0..rounds {
        for (m, s) in messages.iter().zip(&signatures) {
            public
                .verify_strict(m, s)
                .map_err(|e| anyhow!("verify_strict: {e}"))?;
        }
    }
    Ok((rounds * messages.len()) as f64 / start.elapsed().as_secs_f64())
}

/// What one DBSCAN variant answered.
struct Dbscan {
    variant: String,
    eps_km: f64,
    sklearn: String,
    ok: bool,
    seconds: f64,
    f1: f64,
    precision: f64,
    recall: f64,
    clusters: u64,
    maxrss_kib: u64,
    note: String,
}

fn run_dbscan(
    args: &Args,
    work: &Path,
    points: &[Point],
    variant: &str,
    eps_km: f64,
) -> Result<Dbscan> {
    let labels_path = work.join(format!("labels-{variant}-{eps_km}.i64"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fusion_dbscan.py");
    let out = Command::new(&args.python)
        .arg(&script)
        .arg("--points")
        .arg(work.join("points.f64"))
        .arg("--truth")
        .arg(work.join("truth.i64"))
        .arg("--variant")
        .arg(variant)
        .arg("--eps-km")
        .arg(eps_km.to_string())
        .arg("--mem-gib")
        .arg(args.dbscan_mem_gib.to_string())
        .arg("--labels")
        .arg(&labels_path)
        .output()
        .with_context(|| format!("running {} {}", args.python.display(), script.display()))?;
    if !out.status.success() {
        bail!(
            "{} ({variant}) failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "{} printed no JSON: {}",
            script.display(),
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let num = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let mut d = Dbscan {
        variant: variant.to_owned(),
        eps_km,
        sklearn: v["sklearn"].as_str().unwrap_or("?").to_owned(),
        ok: v["ok"].as_bool().unwrap_or(false),
        seconds: num("fit_s"),
        f1: num("f1"),
        precision: num("precision"),
        recall: num("recall"),
        clusters: v["clusters"].as_u64().unwrap_or(0),
        maxrss_kib: v["maxrss_kib"].as_u64().unwrap_or(0),
        note: v["note"].as_str().unwrap_or("").to_owned(),
    };
    if d.ok {
        // Cross-check Python's B-cubed with truce's on the same labels.
        let bytes = std::fs::read(&labels_path)
            .with_context(|| format!("reading {}", labels_path.display()))?;
        if bytes.len() != points.len() * 8 {
            bail!(
                "DBSCAN ({variant}) wrote {} labels for {} points",
                bytes.len() / 8,
                points.len()
            );
        }
        let pairs: Vec<(i64, i64)> = bytes
            .chunks_exact(8)
            .zip(points)
            .map(|(b, p)| {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                (i64::from_le_bytes(a), p.truth)
            })
            .collect();
        let ours = truce_sim::eval::bcubed(&pairs);
        for (what, a, b) in [
            ("precision", ours.precision, d.precision),
            ("recall", ours.recall, d.recall),
            ("F1", ours.f1, d.f1),
        ] {
            if (a - b).abs() > 1e-9 {
                bail!("B-cubed {what} of DBSCAN ({variant}): truce says {a}, Python says {b}");
            }
        }
        d.note = format!(
            "B-cubed agrees with truce_sim::eval::bcubed to 1e-9. {}",
            d.note
        );
    }
    Ok(d)
}

fn write_points(work: &Path, points: &[Point]) -> Result<()> {
    let mut xyz = Vec::with_capacity(points.len() * 24);
    let mut truth = Vec::with_capacity(points.len() * 8);
    for p in points {
        xyz.extend(p.lon.to_le_bytes());
        xyz.extend(p.lat.to_le_bytes());
        xyz.extend(p.t.to_le_bytes());
        truth.extend(p.truth.to_le_bytes());
    }
    std::fs::write(work.join("points.f64"), xyz)?;
    std::fs::write(work.join("truth.i64"), truth)?;
    Ok(())
}

fn gib(kib: u64) -> String {
    format!("{:.2} GiB", kib as f64 / (1024.0 * 1024.0))
}

fn benchmark(args: &Args) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            let noise = Noise::parse(&args.noise)?;
            let out = tmp.path().join("sim");
            let start = Instant::now();
            let s = simulate_reports(args, &noise, args.reports, &out)?;
            eprintln!(
                "simulated {} incidents over {} to {}: {} reports, {} entries ({:.1} s)",
                s.incidents,
                s.start,
                s.end,
                s.reports,
                s.entries,
                start.elapsed().as_secs_f64()
            );
            out
        }
    };
    truce_sim::eval::check_dir(&dir)?;

    let eval_start = Instant::now();
    let e = eval_child(&dir)?;
    let eval_wall = eval_start.elapsed().as_secs_f64();
    let reports = e["reports"]
        .as_u64()
        .context("the evaluation has no report count")?;
    let entries = e["entries"].as_u64().unwrap_or(0);
    let replay_s = e["replay_seconds"].as_f64().unwrap_or(f64::NAN);
    let engine_s = e["engine_seconds"].as_f64().unwrap_or(f64::NAN);
    let admission_s = e["admission_seconds"].as_f64().unwrap_or(f64::NAN);
    let f1 = e["bcubed"]["f1"].as_f64().unwrap_or(f64::NAN);
    let hwm = e["vm_hwm_kib"].as_u64().unwrap_or(0);
    let verify = verify_rate()?;

    let points = read_points(&dir)?;
    if points.len() as u64 != reports {
        bail!(
            "the evaluation counted {reports} reports, the points export {}",
            points.len()
        );
    }
    let mut dbscans = Vec::new();
    if !args.no_dbscan {
        write_points(tmp.path(), &points)?;
        for &eps in &args.eps_km {
            if !(eps > 0.0 && eps.is_finite()) {
                bail!("--eps-km {eps}: expected a positive distance");
            }
            for variant in ["per-day", "all"] {
                dbscans.push(run_dbscan(args, tmp.path(), &points, variant, eps)?);
            }
        }
    }

    let fusion = &e["fusion"];
    println!("simulation: {} ({} entries)", dir.display(), entries);
    println!(
        "truce fusion parameters: threshold {}%, time slack {} h, max gap {} h, min radius {} m, density {} per 1,000 km² a day",
        fusion["threshold_percent"],
        fusion["time_slack_hours"],
        fusion["max_gap_hours"],
        fusion["min_radius_m"],
        fusion["density_per_1000_km2_day"]
    );
    if let Some(d) = dbscans.first() {
        println!(
            "DBSCAN: scikit-learn {}, metric haversine, ball_tree, min_samples 1, n_jobs 1",
            d.sklearn
        );
    }
    println!();
    println!(
        "{:<42} {:>9} {:>10} {:>12} {:>7} {:>7} {:>7} {:>11}",
        "", "reports", "time", "reports/s", "P", "R", "F1", "peak mem"
    );
    for (name, seconds) in [
        ("truce replay (parse+verify+admit+engine)", replay_s),
        ("truce fusion engine alone", engine_s),
    ] {
        println!(
            "{:<42} {:>9} {:>9.2}s {:>12.0} {:>7.4} {:>7.4} {:>7.4} {:>11}",
            name,
            reports,
            seconds,
            reports as f64 / seconds,
            e["bcubed"]["precision"].as_f64().unwrap_or(f64::NAN),
            e["bcubed"]["recall"].as_f64().unwrap_or(f64::NAN),
            f1,
            gib(hwm)
        );
    }
    for d in &dbscans {
        let name = format!("DBSCAN {}, eps {} km", d.variant, d.eps_km);
        if d.ok {
            println!(
                "{:<42} {:>9} {:>9.2}s {:>12.0} {:>7.4} {:>7.4} {:>7.4} {:>11}",
                name,
                points.len(),
                d.seconds,
                points.len() as f64 / d.seconds,
                d.precision,
                d.recall,
                d.f1,
                gib(d.maxrss_kib)
            );
        } else {
            println!(
                "{:<42} {:>9} {:>10} {:>12} {:>7} {:>7} {:>7} {:>11}",
                name,
                points.len(),
                "failed",
                "-",
                "-",
                "-",
                "-",
                gib(d.maxrss_kib)
            );
        }
    }
    println!();
    println!(
        "truce: replay {replay_s:.2} s: {entries} entries read, parsed and verified (verify_strict, this machine's single-core rate {verify:.0}/s) ahead on a reader thread using every core, while the engine's thread spent {admission_s:.2} s in admission and {engine_s:.2} s in the engine (Engine::apply: fusion and the rules; {}); the whole child process (truth, replay, scoring) {:.2} s wall, {} events, {} merges, {} splits",
        e["engine_thread_cpu_seconds"]
            .as_f64()
            .map_or("CPU time of that thread unknown".to_owned(), |s| format!(
                "that thread was on a CPU {s:.2} s"
            )),
        eval_wall,
        e["events"],
        e["merges"],
        e["splits"]
    );
    println!(
        "truce peak memory: VmHWM of the child process that read the truth, replayed the log and scored it ({} at its start)",
        gib(e["vm_hwm_kib_at_start"].as_u64().unwrap_or(0))
    );
    println!(
        "over-merging: {} foreign reports; failures to join: {} stray reports",
        e["over_merge"]["foreign_reports"], e["split"]["stray_reports"]
    );
    for d in &dbscans {
        println!(
            "DBSCAN {}, eps {} km: {} clusters; fit time only; peak memory is the Python process's ru_maxrss. {}",
            d.variant, d.eps_km, d.clusters, d.note
        );
        if d.ok {
            println!(
                "  ratio DBSCAN / truce time: {:.2} against the replay, {:.2} against the engine alone; F1 truce {f1:.4} vs DBSCAN {:.4}",
                d.seconds / replay_s,
                d.seconds / engine_s,
                d.f1
            );
        }
    }
    if !(0.0..=1.0).contains(&f1) {
        bail!("truce's F1 {f1} is not between 0 and 1");
    }
    for d in dbscans.iter().filter(|d| d.ok) {
        if !(0.0..=1.0).contains(&d.f1) {
            bail!("DBSCAN ({}) F1 {} is not between 0 and 1", d.variant, d.f1);
        }
    }
    Ok(())
}

/// A line of the chart: name, colour, value, dash attribute.
type Series = (
    &'static str,
    &'static str,
    fn(&CurvePoint) -> f64,
    &'static str,
);

/// One point of the curve.
struct CurvePoint {
    factor: f64,
    reports: u64,
    events: u64,
    precision: f64,
    recall: f64,
    f1: f64,
    foreign: u64,
    strays: u64,
    replay_s: f64,
}

fn curve(args: &Args) -> Result<()> {
    let reports = if args.reports == 1_000_000 {
        20_000
    } else {
        args.reports
    };
    let mut rows = Vec::new();
    for &factor in &args.factors {
        let tmp = tempfile::tempdir()?;
        let out = tmp.path().join("sim");
        let noise = Noise::parse(&factor.to_string())?;
        simulate_reports(args, &noise, reports, &out)?;
        let e = truce_sim::eval::fusion(&out, false)?;
        if !(0.0..=1.0).contains(&e.bcubed.f1) {
            bail!(
                "F1 {} at noise {factor} is not between 0 and 1",
                e.bcubed.f1
            );
        }
        let row = CurvePoint {
            factor,
            reports: e.reports,
            events: e.events,
            precision: e.bcubed.precision,
            recall: e.bcubed.recall,
            f1: e.bcubed.f1,
            foreign: e.over_merge.foreign_reports,
            strays: e.split.stray_reports,
            replay_s: e.replay_seconds,
        };
        eprintln!(
            "noise {factor}: {} reports, F1 {:.4} ({:.1} s)",
            row.reports, row.f1, row.replay_s
        );
        rows.push(row);
    }
    let o = overrides(args)?;
    let params = if o.0.is_empty() {
        "default parameters".to_owned()
    } else {
        let set: Vec<String> = o.0.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!("default parameters but {}", set.join(", "))
    };
    println!(
        "seed {}, about {reports} reports, {} incidents a day; fusion {params}",
        args.seed, args.per_day
    );
    println!(
        "| noise factor | reports | events | precision | recall | F1 | over-merged reports | stray reports |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {} | {} |",
            r.factor, r.reports, r.events, r.precision, r.recall, r.f1, r.foreign, r.strays
        );
    }
    let title = format!(
        "B-cubed F1 of truce fusion against simulation noise (seed {}, ~{reports} reports, {}/day)",
        args.seed, args.per_day
    );
    std::fs::write(&args.svg, svg(&rows, &title))
        .with_context(|| format!("writing {}", args.svg.display()))?;
    eprintln!("wrote {}", args.svg.display());
    Ok(())
}

/// A line chart of F1 (and precision, recall) against the noise factor, with the target line.
fn svg(rows: &[CurvePoint], title: &str) -> String {
    let (w, h) = (640.0, 400.0);
    let (left, right, top, bottom) = (60.0, 20.0, 40.0, 50.0);
    let x_max = rows.iter().map(|r| r.factor).fold(1.0_f64, f64::max).ceil();
    let x = |f: f64| left + (w - left - right) * f / x_max;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="20" text-anchor="middle" font-size="13">{}</text>"#,
        w / 2.0,
        xml_escape(title)
    );
    // Axes, ticks, grid.
    for i in 0..=10 {
        let v = f64::from(i) / 10.0;
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{yv:.1}" y2="{yv:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end">{v:.1}</text>"##,
            w - right,
            left - 6.0,
            y(v) + 4.0,
            yv = y(v)
        );
    }
    let mut f = 0.0;
    while f <= x_max + 1e-9 {
        let _ = writeln!(
            s,
            r##"<line x1="{xv:.1}" x2="{xv:.1}" y1="{top}" y2="{}" stroke="#e5e5e5"/><text x="{xv:.1}" y="{}" text-anchor="middle">{f}</text>"##,
            h - bottom,
            h - bottom + 16.0,
            xv = x(f)
        );
        f += 0.5;
    }
    let _ = writeln!(
        s,
        r#"<line x1="{left}" x2="{left}" y1="{top}" y2="{}" stroke="black"/><line x1="{left}" x2="{}" y1="{}" y2="{}" stroke="black"/>"#,
        h - bottom,
        w - right,
        h - bottom,
        h - bottom
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">noise factor (1 = default profile)</text>"#,
        (left + w - right) / 2.0,
        h - 12.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(16 {}) rotate(-90)" text-anchor="middle">B-cubed score</text>"#,
        (top + h - bottom) / 2.0
    );
    // The target.
    let _ = writeln!(
        s,
        r##"<line x1="{left}" x2="{}" y1="{ty:.1}" y2="{ty:.1}" stroke="#c00" stroke-dasharray="6 4"/><text x="{}" y="{:.1}" text-anchor="end" fill="#c00">target F1 {TARGET_F1}</text>"##,
        w - right,
        w - right - 4.0,
        y(TARGET_F1) - 5.0,
        ty = y(TARGET_F1)
    );
    let series: [Series; 3] = [
        ("F1", "#1f4e9c", |r| r.f1, ""),
        (
            "precision",
            "#7a7a7a",
            |r| r.precision,
            r#" stroke-dasharray="3 3""#,
        ),
        (
            "recall",
            "#2e8b57",
            |r| r.recall,
            r#" stroke-dasharray="3 3""#,
        ),
    ];
    for (i, (name, colour, value, dash)) in series.iter().enumerate() {
        let pts: Vec<String> = rows
            .iter()
            .map(|r| format!("{:.1},{:.1}", x(r.factor), y(value(r))))
            .collect();
        let width = if i == 0 { 2.5 } else { 1.5 };
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}/>"#,
            pts.join(" ")
        );
        for r in rows {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="{}" fill="{colour}"/>"#,
                x(r.factor),
                y(value(r)),
                if i == 0 { 3.5 } else { 2.5 }
            );
            if i == 0 {
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{colour}">{:.3}</text>"#,
                    x(r.factor),
                    y(r.f1) - 8.0,
                    r.f1
                );
            }
        }
        let ly = h - bottom - 52.0 + 16.0 * i as f64;
        let lx = w - right - 120.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="{width}"{dash}/><text x="{}" y="{}">{name}</text>"#,
            lx + 24.0,
            lx + 30.0,
            ly + 4.0
        );
    }
    s.push_str("</svg>\n");
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
