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

use crate::client::Client;
use crate::keys::MemberKey;
use crate::scenario::{Scenario, sign_entry};
use anyhow::{Context, Result, anyhow, bail};
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

/// How noisy reports are: one factor scales every error rate and the location and time
/// errors.
///
/// | profile | factor | meaning |
/// |---|---|---|
/// | `low` | 0.5 | careful reporting: half the errors of `default` |
/// | `default` | 1.0 | type confusion 12%, wrong attribution 8%, `UNKNOWN` 10%, duplicates 5%, false reports 3% of reports, late reports 20% (4% days late), location error within the stated precision 95% of the time, time error 10 min / 20 min / 1 h for exact / hour / day |
/// | `high` | 2.0 | twice `default`'s rates, and location errors twice what the stated precision claims |
/// | a number | that factor | rates are capped so that they stay probabilities |
#[derive(Debug, Clone, PartialEq)]
pub struct Noise {
    pub name: String,
    pub factor: f64,
}

impl Noise {
    pub fn parse(s: &str) -> Result<Self> {
        let factor = match s {
            "low" => 0.5,
            "default" => 1.0,
            "high" => 2.0,
            other => other
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && (0.0..=4.0).contains(f))
                .ok_or_else(|| {
                    anyhow!(
                        "--noise `{other}`: expected low, default, high or a factor from 0 to 4 (default is 1)"
                    )
                })?,
        };
        Ok(Noise {
            name: s.to_owned(),
            factor,
        })
    }

    fn rate(&self, base: f64) -> f64 {
        (base * self.factor).clamp(0.0, 0.9)
    }
}

/// Agreement fusion parameters to put in the generated agreement (offline runs only), by
/// name: the admission of the agreement checks names and ranges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FusionOverrides(pub BTreeMap<String, u32>);

impl FusionOverrides {
    /// The overrides from the named flags (`threshold_percent`, ... in that order:
    /// threshold, time slack, max gap, min radius, density), then each `NAME=VALUE` of
    /// `--fusion`, which win.
    pub fn from_flags(named: [Option<u32>; 5], pairs: &[String]) -> Result<Self> {
        let names = [
            "threshold_percent",
            "time_slack_hours",
            "max_gap_hours",
            "min_radius_m",
            "density_per_1000_km2_day",
        ];
        let mut o = FusionOverrides(
            names
                .iter()
                .zip(named)
                .filter_map(|(n, v)| Some(((*n).to_owned(), v?)))
                .collect(),
        );
        for f in pairs {
            o.set(f)?;
        }
        Ok(o)
    }

    /// `NAME=VALUE`, as `--fusion` takes it.
    pub fn set(&mut self, arg: &str) -> Result<()> {
        let (name, value) = arg.split_once('=').ok_or_else(|| {
            anyhow!("--fusion `{arg}`: expected NAME=VALUE, e.g. threshold_percent=50")
        })?;
        let value = value.trim().parse::<u32>().map_err(|_| {
            anyhow!("--fusion `{arg}`: the value must be a whole number, e.g. threshold_percent=50")
        })?;
        self.0.insert(name.trim().to_owned(), value);
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(*v)))
                .collect(),
        )
    }
}

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

/// A live server to submit to, with the data directory's member keys.
#[derive(Debug)]
pub struct Target {
    pub client: Client,
    pub keys_dir: PathBuf,
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

// ---------------------------------------------------------------------------------------------
// The scenario's incident kinds.

/// Who commits an incident of a kind, where, against whom, and who sees it first.
struct Variant {
    perp: &'static str,
    weight: u32,
    zones: &'static [(&'static str, u32)],
    target: Option<&'static str>,
    /// The party most likely to report it (the one that suffers or watches it).
    witness: &'static str,
}

struct KindSpec {
    event_type: EventType,
    sub: Option<&'static str>,
    weight: u32,
    /// Chance that the witness party reports it.
    witness_p: f64,
    /// Chance that UNDOF reports it.
    undof_p: f64,
    /// Whether it comes in flare-ups and has casualties.
    violent: bool,
    variants: &'static [Variant],
}

const EAST_SOUTH: &[(&str, u32)] = &[
    ("gov-daraa", 3),
    ("gov-quneitra", 2),
    ("aol-east-0-10", 2),
    ("aol-east-10-20", 1),
];
const EAST_NEAR: &[(&str, u32)] = &[("aol-east-0-10", 3), ("gov-quneitra", 1)];
const WEST_NEAR: &[(&str, u32)] = &[("aol-west-0-10", 3), ("aol-west-10-20", 1)];
const AOS: &[(&str, u32)] = &[("area-of-separation", 3), ("aol-east-0-10", 1)];

const KINDS: &[KindSpec] = &[
    KindSpec {
        event_type: EventType::ExplosionsRemoteViolence,
        sub: Some("air_drone_strike"),
        weight: 14,
        witness_p: 0.8,
        undof_p: 0.2,
        violent: true,
        variants: &[Variant {
            perp: "IL",
            weight: 1,
            zones: EAST_SOUTH,
            target: Some("SY"),
            witness: "SY",
        }],
    },
    KindSpec {
        event_type: EventType::ExplosionsRemoteViolence,
        sub: Some("shelling_artillery_missile_attack"),
        weight: 14,
        witness_p: 0.8,
        undof_p: 0.3,
        violent: true,
        variants: &[
            Variant {
                perp: "IL",
                weight: 55,
                zones: EAST_NEAR,
                target: Some("SY"),
                witness: "SY",
            },
            Variant {
                perp: "SY",
                weight: 45,
                zones: WEST_NEAR,
                target: Some("IL"),
                witness: "IL",
            },
        ],
    },
    KindSpec {
        event_type: EventType::Battles,
        sub: Some("armed_clash"),
        weight: 10,
        witness_p: 0.8,
        undof_p: 0.45,
        violent: true,
        variants: &[
            Variant {
                perp: "IL",
                weight: 6,
                zones: AOS,
                target: Some("SY"),
                witness: "SY",
            },
            Variant {
                perp: "SY",
                weight: 4,
                zones: AOS,
                target: Some("IL"),
                witness: "IL",
            },
        ],
    },
    KindSpec {
        event_type: EventType::Incursion,
        sub: None,
        weight: 18,
        witness_p: 0.75,
        undof_p: 0.5,
        violent: true,
        variants: &[
            Variant {
                perp: "IL",
                weight: 3,
                zones: AOS,
                target: Some("SY"),
                witness: "SY",
            },
            Variant {
                perp: "SY",
                weight: 1,
                zones: &[("area-of-separation", 1)],
                target: Some("IL"),
                witness: "IL",
            },
        ],
    },
    KindSpec {
        event_type: EventType::DetentionAbduction,
        sub: None,
        weight: 10,
        witness_p: 0.85,
        undof_p: 0.15,
        violent: false,
        variants: &[
            Variant {
                perp: "IL",
                weight: 4,
                zones: &[("gov-quneitra", 3), ("gov-daraa", 2)],
                target: Some("CIVILIANS"),
                witness: "SY",
            },
            Variant {
                perp: "SY",
                weight: 1,
                zones: &[("gov-quneitra", 1), ("gov-daraa", 1)],
                target: Some("CIVILIANS"),
                witness: "IL",
            },
        ],
    },
    KindSpec {
        event_type: EventType::TroopMovement,
        sub: None,
        weight: 14,
        witness_p: 0.7,
        undof_p: 0.3,
        violent: false,
        variants: &[
            Variant {
                perp: "SY",
                weight: 1,
                zones: &[("aol-east-0-10", 2), ("aol-east-10-20", 1)],
                target: None,
                witness: "IL",
            },
            Variant {
                perp: "IL",
                weight: 1,
                zones: &[("aol-west-0-10", 2), ("aol-west-10-20", 1)],
                target: None,
                witness: "SY",
            },
        ],
    },
    KindSpec {
        event_type: EventType::Overflight,
        sub: None,
        weight: 8,
        witness_p: 0.8,
        undof_p: 0.2,
        violent: false,
        variants: &[Variant {
            perp: "IL",
            weight: 1,
            zones: &[
                ("gov-quneitra", 2),
                ("gov-daraa", 2),
                ("aol-east-10-20", 1),
                ("aol-east-20-25", 1),
            ],
            target: Some("SY"),
            witness: "SY",
        }],
    },
    KindSpec {
        event_type: EventType::Fortification,
        sub: None,
        weight: 5,
        witness_p: 0.6,
        undof_p: 0.5,
        violent: false,
        variants: &[Variant {
            perp: "IL",
            weight: 1,
            zones: AOS,
            target: Some("SY"),
            witness: "SY",
        }],
    },
    KindSpec {
        event_type: EventType::Protests,
        sub: Some("peaceful_protest"),
        weight: 3,
        witness_p: 0.7,
        undof_p: 0.2,
        violent: false,
        variants: &[Variant {
            perp: "CIVILIANS",
            weight: 1,
            zones: &[("gov-quneitra", 2), ("gov-daraa", 2), ("gov-as-suwayda", 1)],
            target: Some("IL"),
            witness: "SY",
        }],
    },
    KindSpec {
        event_type: EventType::AccessDenial,
        sub: None,
        weight: 4,
        witness_p: 0.1,
        undof_p: 0.95,
        violent: false,
        variants: &[
            Variant {
                perp: "IL",
                weight: 1,
                zones: &[("area-of-separation", 1)],
                target: Some("MONITORS"),
                witness: "SY",
            },
            Variant {
                perp: "SY",
                weight: 1,
                zones: &[("area-of-separation", 1)],
                target: Some("MONITORS"),
                witness: "IL",
            },
        ],
    },
];

/// Types an incident of a type is plausibly mistaken for (within fusion's families).
fn confusions(t: EventType) -> &'static [(EventType, Option<&'static str>)] {
    use EventType::*;
    match t {
        ExplosionsRemoteViolence => &[
            (Battles, Some("armed_clash")),
            (ViolenceAgainstCivilians, Some("attack")),
        ],
        Battles => &[(
            ExplosionsRemoteViolence,
            Some("shelling_artillery_missile_attack"),
        )],
        Incursion => &[(TroopMovement, None), (Battles, Some("armed_clash"))],
        DetentionAbduction => &[(
            ViolenceAgainstCivilians,
            Some("abduction_forced_disappearance"),
        )],
        TroopMovement => &[(Incursion, None), (Fortification, None)],
        Overflight => &[(ExplosionsRemoteViolence, Some("air_drone_strike"))],
        Fortification => &[(TroopMovement, None), (Checkpoint, None)],
        Protests => &[(Riots, Some("violent_demonstration"))],
        AccessDenial => &[(InterferenceWithMonitors, None), (Checkpoint, None)],
        _ => &[],
    }
}

fn narrative(t: EventType, party: &str) -> String {
    use EventType::*;
    let what = match t {
        ExplosionsRemoteViolence => "explosions / remote violence",
        Battles => "an armed clash",
        ViolenceAgainstCivilians => "violence against civilians",
        Protests => "a protest",
        Riots => "a riot",
        StrategicDevelopments => "a strategic development",
        Incursion => "an incursion",
        Overflight => "an overflight",
        Checkpoint => "a checkpoint",
        DetentionAbduction => "a detention or abduction",
        TroopMovement => "a troop movement",
        Fortification => "fortification work",
        AccessDenial => "a denial of access to monitors",
        InterferenceWithMonitors => "interference with monitors",
    };
    format!("Simulated report by {party}: {what} at the stated place and time.")
}

// ---------------------------------------------------------------------------------------------
// Randomness.

fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    rng.r#gen::<f64>()
}

/// A standard normal deviate (Box–Muller with `libm`, so identical on every machine).
fn normal(rng: &mut ChaCha20Rng) -> f64 {
    let u1 = 1.0 - uniform(rng);
    let u2 = uniform(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

fn pick<'a, T>(rng: &mut ChaCha20Rng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u64 = items.iter().map(|i| u64::from(weight(i))).sum();
    let mut x = rng.gen_range(0..total.max(1));
    for i in items {
        let w = u64::from(weight(i));
        if x < w {
            return i;
        }
        x -= w;
    }
    &items[items.len() - 1]
}

fn other_party(p: &str) -> &'static str {
    if p == "SY" { "IL" } else { "SY" }
}

// ---------------------------------------------------------------------------------------------
// Zones.

/// Samples points inside the scenario's zones by rejection from their bounding boxes.
struct Zones {
    index: ZoneIndex,
    /// Zone id → (index in `index`, [min lon, min lat, max lon, max lat]).
    boxes: HashMap<String, (usize, [f64; 4])>,
}

impl Zones {
    fn new(text: &str) -> Result<Self> {
        let zones = truce_geo::parse_zones(text).map_err(|e| anyhow!("zones document: {e}"))?;
        let doc: Value = serde_json::from_str(text).context("zones document is not JSON")?;
        let mut boxes = HashMap::new();
        for (i, z) in zones.iter().enumerate() {
            let feature = doc["features"]
                .as_array()
                .and_then(|fs| fs.iter().find(|f| f["id"] == z.id.as_str()))
                .with_context(|| format!("zone {} has no feature", z.id))?;
            let mut b = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            bbox(&feature["geometry"]["coordinates"], &mut b);
            boxes.insert(z.id.clone(), (i, b));
        }
        Ok(Zones {
            index: ZoneIndex::new(zones),
            boxes,
        })
    }

    fn sample(&self, zone: &str, rng: &mut ChaCha20Rng) -> Result<[f64; 2]> {
        let (i, b) = self
            .boxes
            .get(zone)
            .with_context(|| format!("the zones document has no zone `{zone}`"))?;
        let mut hits = Vec::new();
        for _ in 0..10_000 {
            let p = [
                b[0] + (b[2] - b[0]) * uniform(rng),
                b[1] + (b[3] - b[1]) * uniform(rng),
            ];
            self.index.containing(p[0], p[1], &mut hits);
            if hits.contains(i) {
                return Ok(p);
            }
        }
        bail!("could not sample a point inside zone `{zone}`: is it an area?")
    }
}

fn bbox(v: &Value, b: &mut [f64; 4]) {
    if let Some(a) = v.as_array() {
        if let (Some(x), Some(y), 2..) = (
            a.first().and_then(Value::as_f64),
            a.get(1).and_then(Value::as_f64),
            a.len(),
        ) {
            b[0] = b[0].min(x);
            b[1] = b[1].min(y);
            b[2] = b[2].max(x);
            b[3] = b[3].max(y);
        } else {
            for c in a {
                bbox(c, b);
            }
        }
    }
}

/// Moves a point by metres east and north.
fn offset(p: [f64; 2], east_m: f64, north_m: f64) -> [f64; 2] {
    let lat = p[1] + north_m / 111_320.0;
    let lon = p[0] + east_m / (111_320.0 * libm::cos(p[1].to_radians()));
    [round6(lon), round6(lat.clamp(-90.0, 90.0))]
}

fn round6(x: f64) -> f64 {
    libm::round(x * 1e6) / 1e6
}

// ---------------------------------------------------------------------------------------------
// Incidents and reports.

#[derive(Debug, Clone)]
struct Incident {
    n: u64,
    kind: usize,
    variant: usize,
    point: [f64; 2],
    zone: &'static str,
    time: i64,
    injured: Option<u32>,
    /// The flare-up it is part of, if any.
    flare_up: Option<u64>,
}

impl Incident {
    fn spec(&self) -> (&'static KindSpec, &'static Variant) {
        let k = &KINDS[self.kind];
        (k, &k.variants[self.variant])
    }
}

/// A report waiting for its `created` time.
#[derive(Debug, Clone)]
struct ReportPlan {
    party: &'static str,
    event_type: EventType,
    sub: Option<&'static str>,
    start: i64,
    precision: TimePrecision,
    point: [f64; 2],
    precision_m: u32,
    perpetrator: &'static str,
    target: Option<&'static str>,
    injured: Option<Count>,
    grading: (&'static str, u8),
    /// Serial of the report in generation order (links a sighting to it).
    serial: u64,
    /// The truth: incident number, type, perpetrator, point and time (None: a false report).
    truth: Option<(u64, EventType, &'static str, [f64; 2], i64)>,
    duplicate: bool,
    /// Seconds after the report that the accused party denies it.
    denied_after: Option<i64>,
}

#[derive(Debug, Clone)]
enum Pending {
    Report(Box<ReportPlan>),
    Sighting {
        party: &'static str,
        report_serial: u64,
    },
}

fn member_of(party: &str) -> &'static str {
    match party {
        "SY" => "sy.ops",
        "IL" => "il.ops",
        _ => "undof.ops",
    }
}

fn ts(secs: i64) -> Result<Timestamp> {
    Timestamp::from_second(secs).with_context(|| format!("time {secs} s is out of range"))
}

fn ts_text(secs: i64) -> Result<String> {
    Ok(ts(secs)?.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn wire<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

struct Generator {
    rng: ChaCha20Rng,
    noise: Noise,
    zones: Zones,
    start: i64,
    end: i64,
    serial: u64,
    queue: BTreeMap<(i64, u64), Pending>,
    seq: u64,
    flare_ups: u64,
}

impl Generator {
    fn push(&mut self, created: i64, p: Pending) {
        self.seq += 1;
        self.queue.insert((created, self.seq), p);
    }

    /// A day's incidents, in time order.
    fn day(&mut self, day: i64, count: u64, next_n: &mut u64) -> Result<Vec<Incident>> {
        let t0 = self.start + day * DAY;
        let rng = &mut self.rng;
        // Flare-ups: a few places and hours where several distinct incidents happen.
        let violent: Vec<usize> = (0..KINDS.len()).filter(|&k| KINDS[k].violent).collect();
        let mut hotspots = Vec::new();
        for _ in 0..1 + count / 10 {
            let kind = *pick(rng, &violent, |&k| KINDS[k].weight);
            let v = pick(rng, KINDS[kind].variants, |v| v.weight);
            let variant = KINDS[kind]
                .variants
                .iter()
                .position(|x| std::ptr::eq(x, v))
                .unwrap_or(0);
            let zone = pick(rng, v.zones, |z| z.1).0;
            let point = self.zones.sample(zone, rng)?;
            let time = t0 + rng.gen_range(0..DAY);
            self.flare_ups += 1;
            hotspots.push((kind, variant, zone, point, time, self.flare_ups));
        }
        let mut out = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let (kind, variant, zone, point, time, flare_up) = if uniform(rng) < 0.25 {
                let &(kind, variant, zone, c, ct, id) = &hotspots[rng.gen_range(0..hotspots.len())];
                let p = offset(c, 4000.0 * normal(rng), 4000.0 * normal(rng));
                let t = ct + (2.0 * HOUR as f64 * normal(rng)) as i64;
                (kind, variant, zone, p, t.clamp(t0, t0 + DAY - 1), Some(id))
            } else {
                let kind = pick(rng, KINDS, |k| k.weight);
                let ki = KINDS
                    .iter()
                    .position(|x| std::ptr::eq(x, kind))
                    .unwrap_or(0);
                let v = pick(rng, kind.variants, |v| v.weight);
                let vi = kind
                    .variants
                    .iter()
                    .position(|x| std::ptr::eq(x, v))
                    .unwrap_or(0);
                let zone = pick(rng, v.zones, |z| z.1).0;
                let p = self.zones.sample(zone, rng)?;
                (ki, vi, zone, p, t0 + rng.gen_range(0..DAY), None)
            };
            let injured =
                (KINDS[kind].violent && uniform(rng) < 0.5).then(|| rng.gen_range(0..6u32));
            out.push(Incident {
                n: 0,
                kind,
                variant,
                point: [round6(point[0]), round6(point[1])],
                zone,
                time,
                injured,
                flare_up,
            });
        }
        out.sort_by_key(|i| i.time);
        for i in &mut out {
            i.n = *next_n;
            *next_n += 1;
        }
        Ok(out)
    }

    /// Queues the reports of an incident (and false reports in proportion); returns how many.
    fn reports_of(&mut self, inc: &Incident) -> Result<()> {
        let (kind, variant) = inc.spec();
        let mut reporters = Vec::new();
        if uniform(&mut self.rng) < kind.witness_p {
            reporters.push(variant.witness);
        }
        if uniform(&mut self.rng) < kind.undof_p {
            reporters.push("UNDOF");
        }
        if matches!(variant.perp, "SY" | "IL")
            && variant.perp != variant.witness
            && uniform(&mut self.rng) < 0.05
        {
            reporters.push(variant.perp);
        }
        let false_share = self.noise.rate(0.03);
        let false_per_true = false_share / (1.0 - false_share);
        for party in reporters {
            let copies = if uniform(&mut self.rng) < self.noise.rate(0.05) {
                2
            } else {
                1
            };
            for copy in 0..copies {
                self.report(inc, party, None, copy > 0, inc.time)?;
                if uniform(&mut self.rng) < false_per_true {
                    self.false_report(inc.time)?;
                }
            }
        }
        Ok(())
    }

    /// A report by a party that accuses the other of something that did not happen.
    fn false_report(&mut self, near: i64) -> Result<()> {
        let rng = &mut self.rng;
        let party = if uniform(rng) < 0.5 { "SY" } else { "IL" };
        let accused = other_party(party);
        let options: Vec<(usize, usize)> = KINDS
            .iter()
            .enumerate()
            .flat_map(|(k, spec)| {
                spec.variants
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.perp == accused)
                    .map(move |(i, _)| (k, i))
            })
            .collect();
        let &(kind, variant) = pick(rng, &options, |&(k, _)| KINDS[k].weight);
        let zone = pick(rng, KINDS[kind].variants[variant].zones, |z| z.1).0;
        let point = self.zones.sample(zone, rng)?;
        // It claims something in the last hours, and is logged no earlier than `near` (the
        // log is written in time order).
        let time = (near - rng.gen_range(0..12 * HOUR)).max(self.start);
        let fake = Incident {
            n: 0,
            kind,
            variant,
            point,
            zone,
            time,
            injured: None,
            flare_up: None,
        };
        self.report(&fake, party, Some(accused), false, near)
    }

    /// Queues one report of `inc` by `party` with noise, logged no earlier than `not_before`;
    /// `accuse` makes it a false report naming that party.
    fn report(
        &mut self,
        inc: &Incident,
        party: &'static str,
        accuse: Option<&'static str>,
        duplicate: bool,
        not_before: i64,
    ) -> Result<()> {
        let f = self.noise.factor;
        let rate = |b: f64| self.noise.rate(b);
        let (p_confuse, p_unknown, p_wrong, p_late, p_very_late) =
            (rate(0.12), rate(0.10), rate(0.08), rate(0.2), rate(0.04));
        let rng = &mut self.rng;
        let (kind, variant) = inc.spec();
        let undof = party == "UNDOF";

        let precision_m: u32 = pick(
            rng,
            &[(500u32, 0u32), (2000, 1), (5000, 2), (10_000, 3)],
            |&(_, c)| {
                if undof {
                    [50, 35, 10, 5][c as usize]
                } else {
                    [20, 35, 30, 15][c as usize]
                }
            },
        )
        .0;
        // Error: Gaussian, the stated radius the circle that holds it 95% of the time (at
        // f = 1), never beyond three times the radius.
        let sigma = f64::from(precision_m) * f.max(0.05) / truce_engine::fusion::CIRCLE_SIGMAS;
        let limit = 3.0 * f64::from(precision_m) * f.max(1.0);
        let (dx, dy) = loop {
            let (dx, dy) = (sigma * normal(rng), sigma * normal(rng));
            if libm::hypot(dx, dy) <= limit {
                break (dx, dy);
            }
        };
        let point = offset(inc.point, dx, dy);

        let precision = *pick(
            rng,
            &[
                TimePrecision::Exact,
                TimePrecision::Hour,
                TimePrecision::Day,
            ],
            |p| match (p, undof) {
                (TimePrecision::Exact, true) => 5,
                (TimePrecision::Hour, true) => 4,
                (_, true) => 1,
                (TimePrecision::Exact, false) => 3,
                (TimePrecision::Hour, false) => 5,
                _ => 2,
            },
        );
        let start = match precision {
            TimePrecision::Exact => inc.time + (600.0 * f * normal(rng)) as i64,
            TimePrecision::Hour => {
                let t = inc.time + (1200.0 * f * normal(rng)) as i64;
                t - t.rem_euclid(HOUR)
            }
            _ => {
                let t = inc.time + (3600.0 * f * normal(rng)) as i64;
                t - t.rem_euclid(DAY)
            }
        };

        let (mut event_type, mut sub) = (kind.event_type, kind.sub);
        if accuse.is_none() && uniform(rng) < p_confuse {
            let alts = confusions(event_type);
            if !alts.is_empty() {
                let &(t, s) = &alts[rng.gen_range(0..alts.len())];
                event_type = t;
                sub = s;
            }
        }
        let u = uniform(rng);
        let perpetrator = match accuse {
            Some(a) => a,
            None if u < p_unknown => "UNKNOWN",
            None if u < p_unknown + p_wrong => match variant.perp {
                "SY" | "IL" => other_party(variant.perp),
                _ => {
                    if uniform(rng) < 0.5 {
                        "SY"
                    } else {
                        "IL"
                    }
                }
            },
            None => variant.perp,
        };
        let target = match variant.target {
            Some(t) if t == perpetrator => Some(other_party(t)),
            t => t,
        };
        let injured = inc.injured.filter(|_| uniform(rng) < 0.7).map(|n| {
            let best = (i64::from(n) + rng.gen_range(-1..=1)).max(0) as u32;
            Count {
                low: best.saturating_sub(1),
                best,
                high: best + rng.gen_range(0..3),
            }
        });
        let grading = if undof {
            (
                if uniform(rng) < 0.7 { "A" } else { "B" },
                rng.gen_range(1..=2),
            )
        } else {
            (
                if uniform(rng) < 0.6 { "B" } else { "C" },
                rng.gen_range(2..=4),
            )
        };

        // When it is logged: most within hours, some a day or two late, a few days late.
        let u = uniform(rng);
        let delay = if u < p_very_late {
            rng.gen_range(2 * DAY..6 * DAY)
        } else if u < p_very_late + p_late {
            rng.gen_range(3 * HOUR..36 * HOUR)
        } else {
            1200 + (-2.0 * HOUR as f64 * libm::log(1.0 - uniform(rng))) as i64
        };
        let mut created = inc.time.max(start).max(not_before) + delay;
        if duplicate {
            created += rng.gen_range(HOUR..12 * HOUR);
        }
        let accused_party = matches!(perpetrator, "SY" | "IL") && perpetrator != party;
        let deny_p = if accuse.is_some() { 0.6 } else { 0.15 };
        let denied_after =
            (accused_party && uniform(rng) < deny_p).then(|| rng.gen_range(HOUR..24 * HOUR));
        created = created.max(start + 60);
        if created > self.end {
            return Ok(());
        }
        self.serial += 1;
        let plan = ReportPlan {
            party,
            event_type,
            sub,
            start,
            precision,
            point,
            precision_m,
            perpetrator,
            target,
            injured,
            grading,
            serial: self.serial,
            truth: accuse.is_none().then_some((
                inc.n,
                kind.event_type,
                variant.perp,
                inc.point,
                inc.time,
            )),
            duplicate,
            denied_after,
        };
        self.push(created, Pending::Report(Box::new(plan)));
        Ok(())
    }
}

fn report_body(p: &ReportPlan, source_ref: String) -> Result<Value> {
    let r = Report {
        event_type: p.event_type,
        sub_event_type: p.sub.map(str::to_owned),
        time: TimeSpan {
            start: ts_text(p.start)?,
            end: None,
            precision: p.precision,
        },
        location: Location {
            point: p.point,
            precision_m: p.precision_m,
            place: None,
        },
        perpetrator: p.perpetrator.to_owned(),
        target: p.target.map(str::to_owned),
        notice: None,
        sealed: None,
        actors: vec![],
        casualties: Casualties {
            injured: p.injured,
            ..Casualties::default()
        },
        narrative: narrative(p.event_type, p.party),
        evidence: vec![],
        grading: Grading {
            source_reliability: p.grading.0.to_owned(),
            information_credibility: p.grading.1,
        },
        source_ref: Some(source_ref),
    };
    serde_json::to_value(&r).context("encoding a report")
}

// ---------------------------------------------------------------------------------------------
// Output: a file, or a server in batches.

/// One truth line waiting for the log index of its entry.
enum TruthLine {
    Report(Box<ReportPlan>),
    Sighting { report: u64, party: &'static str },
}

struct Sink {
    entries: BufWriter<File>,
    truth: BufWriter<File>,
    origin: String,
    keys: HashMap<&'static str, MemberKey>,
    /// Offline: the next log index. With a server: None (the server assigns them).
    next_index: Option<u64>,
    server: Option<Client>,
    batch: Vec<(Vec<u8>, TruthLine)>,
    /// Log indices of reports a planned sighting will name, by serial.
    indices: HashMap<u64, u64>,
    /// Report serials in the unsent batch that a sighting will name.
    in_batch: std::collections::HashSet<u64>,
    per_party: HashMap<&'static str, u64>,
    summary: Summary,
    bar: Option<indicatif::ProgressBar>,
}

impl Sink {
    fn write_leaf(&mut self, leaf: &[u8]) -> Result<()> {
        self.entries.write_all(leaf)?;
        self.entries.write_all(b"\n")?;
        self.summary.entries += 1;
        Ok(())
    }

    fn sign(
        &self,
        member: &'static str,
        kind: Kind,
        body: &Value,
        created: i64,
    ) -> Result<Vec<u8>> {
        let key = self
            .keys
            .get(member)
            .with_context(|| format!("no key for member {member}"))?;
        Ok(sign_entry(&self.origin, kind, key, body, ts(created)?).to_leaf())
    }

    /// Logs an entry whose truth line needs its index.
    fn emit(&mut self, leaf: Vec<u8>, truth: TruthLine) -> Result<()> {
        self.write_leaf(&leaf)?;
        match self.next_index {
            Some(i) => {
                self.next_index = Some(i + 1);
                self.logged(i, truth)
            }
            None => {
                if let TruthLine::Report(p) = &truth
                    && p.denied_after.is_some()
                {
                    self.in_batch.insert(p.serial);
                }
                self.batch.push((leaf, truth));
                if self.batch.len() >= BATCH {
                    self.flush()?;
                }
                Ok(())
            }
        }
    }

    /// An entry got its log index: write its truth, plan its denial.
    fn logged(&mut self, index: u64, truth: TruthLine) -> Result<()> {
        if self.summary.first_index == 0 && self.summary.reports + self.summary.sightings == 0 {
            self.summary.first_index = index;
        }
        let line = match truth {
            TruthLine::Report(p) => {
                self.summary.reports += 1;
                if p.duplicate {
                    self.summary.duplicate_reports += 1;
                }
                if p.denied_after.is_some() {
                    self.indices.insert(p.serial, index);
                }
                match p.truth {
                    Some((n, t, perp, point, time)) => json!({
                        "record": "report", "index": index, "incident": n, "party": p.party,
                        "true_type": wire(&t), "true_perpetrator": perp, "true_point": point,
                        "true_time": ts_text(time)?, "duplicate": p.duplicate,
                    }),
                    None => {
                        self.summary.false_reports += 1;
                        json!({
                            "record": "report", "index": index, "incident": null, "party": p.party,
                            "true_type": null, "true_perpetrator": null, "true_point": null,
                            "true_time": null, "duplicate": false,
                        })
                    }
                }
            }
            TruthLine::Sighting { report, party } => {
                self.summary.sightings += 1;
                json!({"record": "sighting", "index": index, "report": report, "party": party, "stance": "deny"})
            }
        };
        serde_json::to_writer(&mut self.truth, &line)?;
        self.truth.write_all(b"\n")?;
        Ok(())
    }

    fn report(&mut self, plan: Box<ReportPlan>, created: i64, sim: &mut Generator) -> Result<()> {
        let n = self.per_party.entry(plan.party).or_insert(0);
        *n += 1;
        let source_ref = format!("SIM-{}-{:07}", plan.party, n);
        let body = report_body(&plan, source_ref)?;
        let leaf = self.sign(member_of(plan.party), Kind::Report, &body, created)?;
        // The accused party's denial comes later; it names the report by its log index,
        // known by the time the denial is signed.
        if let Some(after) = plan.denied_after {
            sim.push(
                created + after,
                Pending::Sighting {
                    party: plan.perpetrator,
                    report_serial: plan.serial,
                },
            );
        }
        self.emit(leaf, TruthLine::Report(plan))
    }

    fn sighting(&mut self, party: &'static str, serial: u64, created: i64) -> Result<()> {
        if self.in_batch.contains(&serial) {
            self.flush()?;
        }
        let report = self.indices.remove(&serial).with_context(|| {
            format!("the report a denial names (serial {serial}) was not logged")
        })?;
        let body = wire(&Sighting {
            report,
            stance: Stance::Deny,
            reasons: "Simulated denial: the accused party says none of its forces were involved."
                .into(),
            evidence: vec![],
            sealed: None,
        });
        let leaf = self.sign(member_of(party), Kind::Sighting, &body, created)?;
        self.emit(leaf, TruthLine::Sighting { report, party })
    }

    /// Sends the batch (with a server) and writes the truth lines with the assigned indices.
    fn flush(&mut self) -> Result<()> {
        let Some(client) = &self.server else {
            return Ok(());
        };
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.in_batch.clear();
        let mut body = Vec::with_capacity(batch.iter().map(|b| b.0.len() + 1).sum::<usize>() + 2);
        body.push(b'[');
        for (i, (leaf, _)) in batch.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(leaf);
        }
        body.push(b']');
        let answer = client.post_json("/v1/entries/batch", &body)?;
        if !answer.ok() {
            bail!("the server refused a batch: {}", answer.problem_text());
        }
        let results = answer.json()?;
        let results = results["results"]
            .as_array()
            .context("the batch answer has no results")?
            .clone();
        if results.len() != batch.len() {
            bail!(
                "the server answered {} results for a batch of {}",
                results.len(),
                batch.len()
            );
        }
        for ((_, truth), r) in batch.into_iter().zip(results) {
            let status = r["status"].as_u64().unwrap_or(0);
            if status != 201 && status != 200 {
                bail!(
                    "the server refused a simulated entry ({status}): {}",
                    r["problem"]["detail"].as_str().unwrap_or("no detail")
                );
            }
            let index = r["receipt"]["index"]
                .as_u64()
                .context("a batch result has no receipt index")?;
            self.logged(index, truth)?;
        }
        if let Some(b) = &self.bar {
            b.set_message(format!("{} entries sent", self.summary.entries));
        }
        Ok(())
    }
}

/// Derives a member's key from the seed (so a run's keys, and so its bytes, are reproducible).
fn derived_key(seed: u64, member: &str) -> MemberKey {
    let bytes: [u8; 32] =
        Sha256::digest(format!("truce simulate seed {seed} member {member}")).into();
    MemberKey {
        member: member.to_owned(),
        key: SigningKey::from_bytes(&bytes),
        encryption: None,
    }
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
    target: Option<Target>,
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
    let (origin, keys, next_index, server) = match target {
        None => {
            let mut template: Value = serde_json::from_str(&scenario.agreement)
                .context("the scenario's agreement is not JSON")?;
            let keys_dir = out.join("keys");
            std::fs::create_dir_all(&keys_dir)?;
            let mut all = HashMap::new();
            for m in template["members"]
                .as_array_mut()
                .context("the scenario's agreement has no members")?
            {
                let id = m["id"].as_str().context("a member has no id")?.to_owned();
                let key = derived_key(cfg.seed, &id);
                key.save(&keys_dir.join(format!("{id}.key")))?;
                m["public_key"] = key.public_key_b64().into();
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
            let key = |id: &str| all.get(id).with_context(|| format!("no member {id}"));
            let mut genesis_leaves = Vec::new();
            let agreement = sign_entry(
                SIM_ORIGIN,
                Kind::Agreement,
                key("us.admin")?,
                &template,
                genesis,
            );
            let sha = hex::encode(Sha256::digest(&agreement.payload));
            genesis_leaves.push(agreement.to_leaf());
            for admin in ["us.admin", "sy.admin", "il.admin"] {
                let body = json!({"agreement_index": 0, "agreement_sha256": sha, "statement": "Ratified (simulation)."});
                genesis_leaves.push(
                    sign_entry(SIM_ORIGIN, Kind::Ratification, key(admin)?, &body, genesis)
                        .to_leaf(),
                );
            }
            let mut keys = HashMap::new();
            for r in reporters {
                if let Some(k) = all.remove(r) {
                    keys.insert(r, k);
                }
            }
            (SIM_ORIGIN.to_owned(), keys, Some(genesis_leaves), None)
        }
        Some(t) => {
            let m = t.client.get_ok("/v1/mechanism")?.json()?;
            let origin = m["origin"]
                .as_str()
                .context("the server's /v1/mechanism names no origin")?
                .to_owned();
            let mut keys = HashMap::new();
            for r in reporters {
                let path = t.keys_dir.join(format!("{r}.key"));
                keys.insert(
                    r,
                    MemberKey::load(&path).with_context(|| {
                        format!(
                            "--keys {}: the simulation signs as {r}",
                            t.keys_dir.display()
                        )
                    })?,
                );
            }
            (origin, keys, None, Some(t.client))
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
    summary.server = sink.server.as_ref().map(|c| c.base().to_owned());
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
        [
            "entries.jsonl",
            "truth.jsonl",
            "zones.geojson",
            "keys/sy.ops.key",
        ]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect()
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let run = |name: &str, seed| {
            let d = tmp.path().join(name);
            simulate(&cfg(seed), &d, None, false).unwrap();
            files(&d)
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
