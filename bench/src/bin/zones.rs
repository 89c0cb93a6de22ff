//! `zones`: point-in-zone throughput of `truce_geo::ZoneIndex::containing` against shapely 2
//! (`shapely.contains_xy` on prepared geometries, `bench/zones_shapely.py`) on the same points in
//! the same run, and a cross-check of their answers.
//!
//! Points: seeded uniform random positions over the zones' bounding box (plus a margin), then
//! every vertex of every zone, the midpoint of every edge, and for every vertex a point on the
//! same latitude (where a crossing-number test must count the vertex once). The answers must
//! be identical on every point outside a 1 m band around zone boundaries (shapely's `contains`
//! excludes the boundary, truce's zones are closed; nearer than 1 m the approximate geometry
//! means nothing anyway). Any disagreement exits non-zero.
//!
//! Run: `cargo run --release -p truce-bench --bin zones` (see `--help`); the quick CI check is
//! `bench/zones_crosscheck.sh`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use geo::{CoordsIter, Geometry};
use rand::{Rng, SeedableRng, rngs::StdRng};
use truce_geo::{Zone, ZoneIndex, parse_zones};

#[derive(Parser)]
#[command(about = "ZoneIndex::containing vs shapely.contains_xy: throughput and agreement")]
struct Args {
    /// Uniform random points (the vertex and edge points are added to these).
    #[arg(long, default_value_t = 1_000_000)]
    points: usize,
    /// Seed of the random points.
    #[arg(long, default_value_t = 1974)]
    seed: u64,
    /// Runs of each measurement; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Python with shapely >= 2 and numpy.
    #[arg(long, default_value = "python3")]
    python: PathBuf,
    /// Zones GeoJSON.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/golan-1974/zones.geojson"))]
    zones: PathBuf,
    /// Cross-check only: one run each, no throughput target.
    #[arg(long)]
    check: bool,
}

/// A bit per zone: bit `i` for zone `i` of the collection.
type Mask = u64;

fn main() -> Result<()> {
    let args = Args::parse();
    let runs = if args.check { 1 } else { args.runs.max(1) };
    let text = std::fs::read_to_string(&args.zones)
        .with_context(|| format!("reading {}", args.zones.display()))?;
    let zones = parse_zones(&text).with_context(|| format!("{}", args.zones.display()))?;
    if zones.len() > Mask::BITS as usize {
        bail!(
            "{} zones: at most {} are supported",
            zones.len(),
            Mask::BITS
        );
    }
    let points = make_points(&zones, args.points, args.seed)?;
    let start = Instant::now();
    let index = ZoneIndex::new(zones);
    let new_s = start.elapsed().as_secs_f64();

    let dir = tempfile::tempdir()?;
    let points_path = dir.path().join("points.f64");
    let bytes: Vec<u8> = points
        .iter()
        .flat_map(|&(x, y)| x.to_le_bytes().into_iter().chain(y.to_le_bytes()))
        .collect();
    std::fs::write(&points_path, bytes)?;

    let mut ours = Vec::new();
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        ours = classify_all(&index, &points);
        times.push(start.elapsed().as_secs_f64());
    }
    let rust_s = median(times);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let parallel = classify_parallel(&index, &points, threads);
        times.push(start.elapsed().as_secs_f64());
        if parallel != ours {
            bail!("the parallel classification differs from the single-threaded one");
        }
    }
    let rust_all_s = median(times);

    let shapely = run_shapely(&args, dir.path(), &points_path, runs, points.len())?;
    let (theirs, band) = (&shapely.membership, &shapely.band);

    let n = points.len();
    let in_band = band.iter().filter(|b| **b != 0).count();
    let mut compared = 0usize;
    let mut disagreements = Vec::new();
    for i in 0..n {
        if band[i] != 0 {
            continue;
        }
        compared += 1;
        if ours[i] != theirs[i] {
            disagreements.push(i);
        }
    }

    let shapely_s = shapely.median_s;
    println!("zones: {}", args.zones.display());
    println!(
        "points: {n} ({} uniform, seed {}, + {} on or level with vertices and edges)",
        args.points,
        args.seed,
        n - args.points
    );
    println!("runs: {runs} (medians)");
    println!("ZoneIndex::new: {:.1} ms", new_s * 1e3);
    println!(
        "rust ZoneIndex::containing, 1 thread: {rust_s:.4} s, {:.0} points/s",
        n as f64 / rust_s
    );
    println!(
        "rust ZoneIndex::containing, {threads} threads: {rust_all_s:.4} s, {:.0} points/s",
        n as f64 / rust_all_s
    );
    println!(
        "shapely {} (GEOS {}) contains_xy, prepared, all areal zones: {shapely_s:.4} s, {:.0} points/s",
        shapely.version,
        shapely.geos,
        n as f64 / shapely_s
    );
    let ratio = shapely_s / rust_s;
    if args.check {
        println!("ratio (1 thread): {ratio:.1}x shapely");
    } else {
        let verdict = if ratio >= 5.0 { "met" } else { "NOT met" };
        println!("ratio (1 thread): {ratio:.1}x shapely (target >= 5x: {verdict})");
    }
    println!("within 1 m of a boundary (not compared): {in_band}");
    println!(
        "agreement: {} of {compared} compared points identical",
        compared - disagreements.len()
    );
    if !disagreements.is_empty() {
        let ids: Vec<&str> = index.zones().iter().map(|z| z.id.as_str()).collect();
        for &i in disagreements.iter().take(20) {
            let (x, y) = points[i];
            println!(
                "  differs: point {i} ({x}, {y}): truce {:?}, shapely {:?}",
                zone_ids(ours[i], &ids),
                zone_ids(theirs[i], &ids)
            );
        }
        bail!("{} points classified differently", disagreements.len());
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn zone_ids<'a>(mask: Mask, ids: &[&'a str]) -> Vec<&'a str> {
    ids.iter()
        .enumerate()
        .filter(|(i, _)| mask >> i & 1 == 1)
        .map(|(_, id)| *id)
        .collect()
}

/// Uniform points over the zones' box and a margin, then vertices, edge midpoints and points
/// level with vertices.
fn make_points(zones: &[Zone], uniform: usize, seed: u64) -> Result<Vec<(f64, f64)>> {
    let mut vertices = Vec::new();
    let mut midpoints = Vec::new();
    for zone in zones {
        if !matches!(
            zone.geometry,
            Geometry::Polygon(_) | Geometry::MultiPolygon(_)
        ) {
            continue;
        }
        let coords: Vec<_> = zone.geometry.coords_iter().collect();
        for w in coords.windows(2) {
            midpoints.push((0.5 * (w[0].x + w[1].x), 0.5 * (w[0].y + w[1].y)));
        }
        vertices.extend(coords.iter().map(|c| (c.x, c.y)));
    }
    let Some(&first) = vertices.first() else {
        bail!("no areal zone");
    };
    let (mut min, mut max) = (first, first);
    for &(x, y) in &vertices {
        min = (min.0.min(x), min.1.min(y));
        max = (max.0.max(x), max.1.max(y));
    }
    let margin = 0.05;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut points: Vec<(f64, f64)> = (0..uniform)
        .map(|_| {
            (
                rng.gen_range(min.0 - margin..max.0 + margin),
                rng.gen_range(min.1 - margin..max.1 + margin),
            )
        })
        .collect();
    let level: Vec<(f64, f64)> = vertices
        .iter()
        .map(|&(x, y)| (x + rng.gen_range(-0.05..0.05), y))
        .collect();
    points.extend(vertices);
    points.extend(midpoints);
    points.extend(level);
    Ok(points)
}

fn classify_all(index: &ZoneIndex, points: &[(f64, f64)]) -> Vec<Mask> {
    let mut out = Vec::new();
    points
        .iter()
        .map(|&(x, y)| {
            index.containing(x, y, &mut out);
            out.iter().fold(0, |m, &i| m | 1 << i)
        })
        .collect()
}

fn classify_parallel(index: &ZoneIndex, points: &[(f64, f64)], threads: usize) -> Vec<Mask> {
    let chunk = points.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = points
            .chunks(chunk)
            .map(|part| s.spawn(move || classify_all(index, part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

struct Shapely {
    membership: Vec<Mask>,
    band: Vec<u8>,
    median_s: f64,
    version: String,
    geos: String,
}

fn run_shapely(args: &Args, dir: &Path, points: &Path, runs: usize, n: usize) -> Result<Shapely> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones_shapely.py");
    let (membership, band) = (dir.join("membership.u64"), dir.join("band.u8"));
    let output = Command::new(&args.python)
        .arg(&script)
        .arg("--points")
        .arg(points)
        .arg("--zones")
        .arg(&args.zones)
        .arg("--runs")
        .arg(runs.to_string())
        .arg("--membership")
        .arg(&membership)
        .arg("--band")
        .arg(&band)
        .output()
        .with_context(|| format!("running {} {}", args.python.display(), script.display()))?;
    if !output.status.success() {
        bail!(
            "{} failed ({}): {}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading the script's JSON report")?;
    let membership: Vec<Mask> = std::fs::read(&membership)?
        .chunks_exact(8)
        .map(|b| {
            let mut le = [0u8; 8];
            le.copy_from_slice(b);
            Mask::from_le_bytes(le)
        })
        .collect();
    let band = std::fs::read(&band)?;
    if membership.len() != n || band.len() != n {
        bail!(
            "the script answered for {} and {} points, not {n}",
            membership.len(),
            band.len()
        );
    }
    let text = |k: &str| report[k].as_str().unwrap_or("?").to_string();
    Ok(Shapely {
        membership,
        band,
        median_s: report["median_s"]
            .as_f64()
            .context("median_s in the report")?,
        version: text("shapely"),
        geos: text("geos"),
    })
}
