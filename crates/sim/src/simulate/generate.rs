//! The generator: randomness, points in the zones, incidents and the reports of them.

use super::*;

// ---------------------------------------------------------------------------------------------
// Randomness.

pub(crate) fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    rng.r#gen::<f64>()
}

/// A standard normal deviate (Box–Muller with `libm`, so identical on every machine).
pub(crate) fn normal(rng: &mut ChaCha20Rng) -> f64 {
    let u1 = 1.0 - uniform(rng);
    let u2 = uniform(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

pub(crate) fn pick<'a, T>(
    rng: &mut ChaCha20Rng,
    items: &'a [T],
    weight: impl Fn(&T) -> u32,
) -> &'a T {
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

pub(crate) fn other_party(p: &str) -> &'static str {
    if p == "SY" { "IL" } else { "SY" }
}

// ---------------------------------------------------------------------------------------------
// Zones.

/// Samples points inside the scenario's zones by rejection from their bounding boxes.
pub(crate) struct Zones {
    pub(crate) index: ZoneIndex,
    /// Zone id → (index in `index`, [min lon, min lat, max lon, max lat]).
    pub(crate) boxes: HashMap<String, (usize, [f64; 4])>,
}

impl Zones {
    pub(crate) fn new(text: &str) -> Result<Self> {
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

    pub(crate) fn sample(&self, zone: &str, rng: &mut ChaCha20Rng) -> Result<[f64; 2]> {
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

pub(crate) fn bbox(v: &Value, b: &mut [f64; 4]) {
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
pub(crate) fn offset(p: [f64; 2], east_m: f64, north_m: f64) -> [f64; 2] {
    let lat = p[1] + north_m / 111_320.0;
    let lon = p[0] + east_m / (111_320.0 * libm::cos(p[1].to_radians()));
    [round6(lon), round6(lat.clamp(-90.0, 90.0))]
}

pub(crate) fn round6(x: f64) -> f64 {
    libm::round(x * 1e6) / 1e6
}

// ---------------------------------------------------------------------------------------------
// Incidents and reports.

#[derive(Debug, Clone)]
pub(crate) struct Incident {
    pub(crate) n: u64,
    pub(crate) kind: usize,
    pub(crate) variant: usize,
    pub(crate) point: [f64; 2],
    pub(crate) zone: &'static str,
    pub(crate) time: i64,
    pub(crate) injured: Option<u32>,
    /// The flare-up it is part of, if any.
    pub(crate) flare_up: Option<u64>,
}

impl Incident {
    pub(crate) fn spec(&self) -> (&'static KindSpec, &'static Variant) {
        let k = &KINDS[self.kind];
        (k, &k.variants[self.variant])
    }
}

/// A report waiting for its `created` time.
#[derive(Debug, Clone)]
pub(crate) struct ReportPlan {
    pub(crate) party: &'static str,
    pub(crate) event_type: EventType,
    pub(crate) sub: Option<&'static str>,
    pub(crate) start: i64,
    pub(crate) precision: TimePrecision,
    pub(crate) point: [f64; 2],
    pub(crate) precision_m: u32,
    pub(crate) perpetrator: &'static str,
    pub(crate) target: Option<&'static str>,
    pub(crate) injured: Option<Count>,
    pub(crate) grading: (&'static str, u8),
    /// Serial of the report in generation order (links a sighting to it).
    pub(crate) serial: u64,
    /// The truth: incident number, type, perpetrator, point and time (None: a false report).
    pub(crate) truth: Option<(u64, EventType, &'static str, [f64; 2], i64)>,
    pub(crate) duplicate: bool,
    /// Seconds after the report that the accused party denies it.
    pub(crate) denied_after: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) enum Pending {
    Report(Box<ReportPlan>),
    Sighting {
        party: &'static str,
        report_serial: u64,
    },
}

pub(crate) fn member_of(party: &str) -> &'static str {
    match party {
        "SY" => "sy.ops",
        "IL" => "il.ops",
        _ => "undof.ops",
    }
}

pub(crate) fn ts(secs: i64) -> Result<Timestamp> {
    Timestamp::from_second(secs).with_context(|| format!("time {secs} s is out of range"))
}

pub(crate) fn ts_text(secs: i64) -> Result<String> {
    Ok(ts(secs)?.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

pub(crate) fn wire<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub(crate) struct Generator {
    pub(crate) rng: ChaCha20Rng,
    pub(crate) noise: Noise,
    pub(crate) zones: Zones,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) serial: u64,
    pub(crate) queue: BTreeMap<(i64, u64), Pending>,
    pub(crate) seq: u64,
    pub(crate) flare_ups: u64,
}

impl Generator {
    pub(crate) fn push(&mut self, created: i64, p: Pending) {
        self.seq += 1;
        self.queue.insert((created, self.seq), p);
    }

    /// A day's incidents, in time order.
    pub(crate) fn day(&mut self, day: i64, count: u64, next_n: &mut u64) -> Result<Vec<Incident>> {
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
    pub(crate) fn reports_of(&mut self, inc: &Incident) -> Result<()> {
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
    pub(crate) fn false_report(&mut self, near: i64) -> Result<()> {
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
    pub(crate) fn report(
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

pub(crate) fn report_body(p: &ReportPlan, source_ref: String) -> Result<Value> {
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
