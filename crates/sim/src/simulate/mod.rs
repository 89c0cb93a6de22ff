//! `truce simulate`: realistic report traffic for the Golan scenario, with its ground truth.
//!
//! True incidents are drawn over `days` days ending at `end`: strikes and shelling near the
//! lines and in the south, clashes and incursions in the Area of Separation, abductions in
//! Quneitra and Dar'a, troop movements in the Areas of Limitation, overflights, fortification
//! work, a few protests and obstructions of the monitors. Days are quiet or busy, and a share
//! of incidents come in flare-ups (several distinct incidents close in space and time). Points
//! are sampled inside the scenario's zones by rejection.
//!
//! Each incident is reported by zero or more of SY, IL and UNDOF (the side that suffered it
//! likely, UNDOF sometimes, the perpetrator rarely), each report with noise: a stated location
//! precision and an error drawn to match it, a time precision and a time error, type
//! confusion within plausible families, wrong or unknown attribution, duplicates, late
//! reports. False reports (no incident) and denials (`sighting`s with stance `deny` by the
//! accused party) are mixed in. The noise profile scales the rates (see [`Noise`]).
//!
//! Output is streamed in log order (`created` time order) through a small queue of reports
//! not yet due, so memory stays proportional to the reports in flight, not to the run. The RNG
//! is ChaCha20 seeded from `--seed`, and all transcendental arithmetic uses `libm`: the same
//! seed and arguments give the same bytes.
//!
//! The link from a report to its truth is only its log index (in `truth.jsonl`): report
//! bodies carry nothing of the truth beyond what the noisy report says, and `source_ref` is a
//! per-party serial in log order.

mod catalogue;
mod generate;
mod noise;
mod sink;

use catalogue::*;
use generate::*;
pub use noise::{FusionOverrides, Noise};
pub use sink::Live;
use sink::*;

use crate::scenario::Scenario;
use anyhow::{Context, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use jiff::Timestamp;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use truce_geo::ZoneIndex;
use truce_model::Kind;
use truce_model::bodies::{Sighting, Stance};
use truce_model::report::{Casualties, Count, EventType, Grading, Location, Report};
use truce_model::time::{TimePrecision, TimeSpan};

/// The origin of an offline simulation's log.
pub const SIM_ORIGIN: &str = "truce.example/golan-1974";
/// Largest batch `POST /v1/entries/batch` takes.
const BATCH: usize = 4096;
const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    pub incidents: u64,
    pub days: u32,
    pub noise: Noise,
    /// The end of the simulated timeline: no entry is created after it.
    pub end: Timestamp,
    pub fusion: FusionOverrides,
}

/// What a run produced.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub dir: PathBuf,
    pub seed: u64,
    pub noise: String,
    pub start: String,
    pub end: String,
    pub incidents: u64,
    /// Incidents with at least one report in the log.
    pub incidents_reported: u64,
    pub reports: u64,
    pub false_reports: u64,
    pub duplicate_reports: u64,
    pub sightings: u64,
    /// Entries written to `entries.jsonl` (and submitted, with a server).
    pub entries: u64,
    /// Log index of the first simulated report or sighting.
    pub first_index: u64,
    pub server: Option<String>,
    pub seconds: f64,
    /// An offline run's member keys (derived from the seed), for the caller to save:
    /// `truce simulate` writes them to `OUT/keys/<member>.key`.
    #[serde(skip)]
    pub keys: Vec<(String, SigningKey)>,
}

/// Parses `--end`, or takes now rounded down to the hour.
pub fn end_time(arg: Option<&str>) -> Result<Timestamp> {
    match arg {
        Some(s) => {
            let end = truce_model::time::parse_utc("--end", s).map_err(|r| anyhow!(r.detail))?;
            if end > Timestamp::now() {
                bail!("--end {s} is in the future: entries may not be created after now");
            }
            Ok(end)
        }
        None => {
            let now = Timestamp::now().as_second();
            Timestamp::from_second(now - now.rem_euclid(HOUR)).context("the clock is out of range")
        }
    }
}

/// Derives a member's key from the seed (so a run's keys, and so its bytes, are reproducible).
fn derived_key(seed: u64, member: &str) -> SigningKey {
    let bytes: [u8; 32] =
        Sha256::digest(format!("truce simulate seed {seed} member {member}")).into();
    SigningKey::from_bytes(&bytes)
}

fn create_out_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let mut rd =
            std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        if rd.next().is_some() {
            bail!(
                "{} is not empty; simulate writes into a new or empty directory",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Splits `total` incidents over days by weight (largest remainder: exactly `total`).
fn allocate(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let shares: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut counts: Vec<u64> = shares.iter().map(|s| *s as u64).collect();
    let mut left = total.saturating_sub(counts.iter().sum());
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (shares[a] - counts[a] as f64, shares[b] - counts[b] as f64);
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &d in order.iter().cycle() {
        if left == 0 {
            break;
        }
        counts[d] += 1;
        left -= 1;
    }
    counts
}

/// Runs a simulation into `out` (and to `target`'s server if given).
pub fn simulate(
    cfg: &Config,
    out: &Path,
    target: Option<Box<dyn Live>>,
    progress: bool,
) -> Result<Summary> {
    let started = std::time::Instant::now();
    if cfg.days == 0 {
        bail!("--days must be at least 1");
    }
    if target.is_some() && !cfg.fusion.is_empty() {
        bail!(
            "--fusion and --fusion-* flags set the generated agreement's parameters; with --server the server's agreement decides them"
        );
    }
    let scenario = Scenario::built_in("golan-1974")?;
    let zones_text =
        String::from_utf8(scenario.zones.clone()).context("the scenario's zones are not UTF-8")?;
    let end = cfg.end.as_second();
    let start = end - i64::from(cfg.days) * DAY;
    if !cfg.fusion.is_empty() {
        let params: truce_model::agreement::FusionParams =
            serde_json::from_value(cfg.fusion.to_json())
                .map_err(|e| anyhow!("--fusion: {e} (see docs/agreement.md for the names)"))?;
        params
            .check()
            .map_err(|e| anyhow!("--fusion: {}", e.detail))?;
    }
    create_out_dir(out)?;
    std::fs::write(out.join("zones.geojson"), &scenario.zones)?;

    let mut sim = Generator {
        rng: ChaCha20Rng::seed_from_u64(cfg.seed),
        noise: cfg.noise.clone(),
        zones: Zones::new(&zones_text)?,
        start,
        end,
        serial: 0,
        queue: BTreeMap::new(),
        seq: 0,
        flare_ups: 0,
    };

    let reporters = ["sy.ops", "il.ops", "undof.ops"];
    let mut saved_keys = Vec::new();
    let (origin, keys, next_index, server) = match target {
        None => {
            let mut template: Value = serde_json::from_str(&scenario.agreement)
                .context("the scenario's agreement is not JSON")?;
            let mut all = HashMap::new();
            for m in template["members"]
                .as_array_mut()
                .context("the scenario's agreement has no members")?
            {
                let id = m["id"].as_str().context("a member has no id")?.to_owned();
                let key = derived_key(cfg.seed, &id);
                m["public_key"] = B64.encode(key.verifying_key().as_bytes()).into();
                saved_keys.push((id.clone(), key.clone()));
                all.insert(id, key);
            }
            template["format"] = truce_model::agreement::AGREEMENT_FORMAT.into();
            template["version"] = 1.into();
            template["zones"] = json!({
                "sha256": hex::encode(Sha256::digest(&scenario.zones)),
                "size": scenario.zones.len(),
                "media_type": "application/geo+json",
            });
            if !cfg.fusion.is_empty() {
                template["fusion"] = cfg.fusion.to_json();
            }
            let genesis = ts(start - HOUR)?;
            let sign = |id: &str, kind: Kind, body: &Value| {
                let key = all.get(id).with_context(|| format!("no member {id}"))?;
                anyhow::Ok(truce_model::entry::sign(
                    SIM_ORIGIN, kind, id, key, genesis, body,
                ))
            };
            let mut genesis_leaves = Vec::new();
            let agreement = sign("us.admin", Kind::Agreement, &template)?;
            let sha = hex::encode(Sha256::digest(&agreement.payload));
            genesis_leaves.push(agreement.to_leaf());
            for admin in ["us.admin", "sy.admin", "il.admin"] {
                let body = json!({"agreement_index": 0, "agreement_sha256": sha, "statement": "Ratified (simulation)."});
                genesis_leaves.push(sign(admin, Kind::Ratification, &body)?.to_leaf());
            }
            let mut keys = HashMap::new();
            for r in reporters {
                if let Some(k) = all.remove(r) {
                    keys.insert(r, k);
                }
            }
            (SIM_ORIGIN.to_owned(), keys, Some(genesis_leaves), None)
        }
        Some(live) => {
            let origin = live.origin()?;
            let mut keys = HashMap::new();
            for r in reporters {
                keys.insert(r, live.signing_key(r)?);
            }
            (origin, keys, None, Some(live))
        }
    };

    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new(cfg.incidents);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} simulating incidents {pos}/{len} [{bar:30}] {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut sink = Sink {
        entries: BufWriter::new(File::create(out.join("entries.jsonl"))?),
        truth: BufWriter::new(File::create(out.join("truth.jsonl"))?),
        origin,
        keys,
        next_index: None,
        server,
        batch: Vec::new(),
        indices: HashMap::new(),
        in_batch: Default::default(),
        per_party: HashMap::new(),
        summary: Summary {
            dir: out.to_owned(),
            seed: cfg.seed,
            noise: cfg.noise.name.clone(),
            start: ts_text(start)?,
            end: ts_text(end)?,
            incidents: cfg.incidents,
            ..Summary::default()
        },
        bar: bar.clone(),
    };
    if let Some(genesis) = next_index {
        for leaf in &genesis {
            sink.write_leaf(leaf)?;
        }
        sink.next_index = Some(genesis.len() as u64);
    }

    // Quiet and busy days: log-normal activity, one day in ten a flare-up.
    let weights: Vec<f64> = (0..cfg.days)
        .map(|_| {
            let w = libm::exp(0.5 * normal(&mut sim.rng));
            if uniform(&mut sim.rng) < 0.1 {
                3.0 * w
            } else {
                w
            }
        })
        .collect();
    let counts = allocate(cfg.incidents, &weights);
    let mut next_n = 1u64;
    let mut reported = std::collections::HashSet::new();
    for (day, &count) in counts.iter().enumerate() {
        let incidents = sim.day(day as i64, count, &mut next_n)?;
        for inc in incidents {
            drain(&mut sim, &mut sink, inc.time, &mut reported)?;
            let (kind, variant) = inc.spec();
            let line = json!({
                "record": "incident", "incident": inc.n, "type": wire(&kind.event_type),
                "sub_event_type": kind.sub, "perpetrator": variant.perp, "target": variant.target,
                "zone": inc.zone, "point": inc.point, "time": ts_text(inc.time)?,
                "flare_up": inc.flare_up,
            });
            serde_json::to_writer(&mut sink.truth, &line)?;
            sink.truth.write_all(b"\n")?;
            sim.reports_of(&inc)?;
            if let Some(b) = &bar {
                b.inc(1);
            }
        }
    }
    drain(&mut sim, &mut sink, end, &mut reported)?;
    sink.flush()?;
    sink.entries.flush()?;
    sink.truth.flush()?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut summary = std::mem::take(&mut sink.summary);
    summary.incidents_reported = reported.len() as u64;
    summary.server = sink.server.as_ref().map(|c| c.base());
    summary.keys = saved_keys;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Logs every queued entry created at or before `until`, in `created` order.
fn drain(
    sim: &mut Generator,
    sink: &mut Sink,
    until: i64,
    reported: &mut std::collections::HashSet<u64>,
) -> Result<()> {
    while let Some(entry) = sim.queue.first_entry() {
        let (created, _) = *entry.key();
        if created > until {
            break;
        }
        match entry.remove() {
            Pending::Report(plan) => {
                if let Some((n, ..)) = plan.truth {
                    reported.insert(n);
                }
                sink.report(plan, created, sim)?;
            }
            Pending::Sighting {
                party,
                report_serial,
            } => sink.sighting(party, report_serial, created)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(seed: u64) -> Config {
        Config {
            seed,
            incidents: 150,
            days: 5,
            noise: Noise::parse("default").unwrap(),
            end: "2026-06-01T00:00:00Z".parse().unwrap(),
            fusion: FusionOverrides::default(),
        }
    }

    fn files(dir: &Path) -> Vec<Vec<u8>> {
        ["entries.jsonl", "truth.jsonl", "zones.geojson"]
            .iter()
            .map(|f| std::fs::read(dir.join(f)).unwrap())
            .collect()
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let run = |name: &str, seed| {
            let d = tmp.path().join(name);
            let s = simulate(&cfg(seed), &d, None, false).unwrap();
            let mut out = files(&d);
            let (member, key) = s.keys.iter().find(|(m, _)| m == "sy.ops").unwrap();
            assert_eq!(member, "sy.ops");
            out.push(key.to_bytes().to_vec());
            out
        };
        let a = run("a", 7);
        let b = run("b", 7);
        let c = run("c", 8);
        assert_eq!(a, b);
        assert_ne!(a[0], c[0]);
        assert_ne!(a[1], c[1]);
        assert_ne!(a[3], c[3]);
    }

    #[test]
    fn entries_are_in_created_order_and_never_after_the_end() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("s");
        let s = simulate(&cfg(3), &d, None, false).unwrap();
        assert!(s.reports > 100, "{s:?}");
        let text = std::fs::read_to_string(d.join("entries.jsonl")).unwrap();
        let mut last = String::new();
        for line in text.lines() {
            let env = truce_log::Envelope::parse(line.as_bytes()).unwrap();
            let e = truce_model::Entry::parse(&env.payload).unwrap();
            let created = e.created.to_string();
            assert!(created >= last);
            assert!(e.created <= cfg(3).end);
            last = created;
        }
        assert_eq!(text.lines().count() as u64, s.entries);
        assert_eq!(s.entries, 4 + s.reports + s.sightings);
    }

    #[test]
    fn refuses_a_non_empty_directory_and_bad_noise() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("x"), "x").unwrap();
        let e = simulate(&cfg(1), tmp.path(), None, false).unwrap_err();
        assert!(e.to_string().contains("not empty"), "{e}");
        assert!(Noise::parse("loud").is_err());
        assert!(Noise::parse("-1").is_err());
        assert_eq!(Noise::parse("1.5").unwrap().factor, 1.5);
    }

    #[test]
    fn allocation_is_exact() {
        assert_eq!(allocate(10, &[1.0, 1.0, 1.0]).iter().sum::<u64>(), 10);
        assert_eq!(allocate(0, &[1.0, 2.0]), vec![0, 0]);
        assert_eq!(allocate(7, &[0.0, 1.0]), vec![0, 7]);
    }
}
