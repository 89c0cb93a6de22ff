//! The truth of a simulation (`truth.jsonl`), read into sorted vectors.

use super::*;

/// A report's true cluster: its incident, or itself for a false report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Cluster {
    Incident(u64),
    False(u64),
}

/// An incident of the truth. The perpetrator and the type are numbers in [`Truth::names`]:
/// there are few of them, and a string each would cost more than the rest at a million.
#[derive(Debug, Clone)]
pub(crate) struct TrueIncident {
    pub(crate) perpetrator: u32,
    pub(crate) event_type: u32,
    pub(crate) point: [f64; 2],
    pub(crate) time: jiff::Timestamp,
    pub(crate) flare_up: Option<u64>,
}

/// The truth, held in vectors sorted by key (a later record of the same key replaces an
/// earlier one).
#[derive(Debug, Default)]
pub(crate) struct Truth {
    /// (log index, the report's incident or None for a false report), by log index.
    pub(crate) reports: Vec<(u64, Option<u64>)>,
    /// (incident number, incident), by number.
    pub(crate) incidents: Vec<(u64, TrueIncident)>,
    /// The perpetrators' and types' names, by number.
    pub(crate) names: Vec<String>,
    pub(crate) sightings: u64,
}

impl Truth {
    pub(crate) fn incident(&self, n: u64) -> Option<&TrueIncident> {
        let at = self.incidents.binary_search_by_key(&n, |x| x.0).ok()?;
        Some(&self.incidents[at].1)
    }

    pub(crate) fn name(&self, n: u32) -> &str {
        self.names.get(n as usize).map_or("", String::as_str)
    }
}

/// Sorts by key, keeping the last of the values given for one key.
pub(crate) fn sort_last_wins<V>(v: &mut Vec<(u64, V)>) {
    v.sort_by_key(|x| x.0);
    v.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            std::mem::swap(later, earlier);
            true
        } else {
            false
        }
    });
}

pub(crate) fn read_truth(path: &Path) -> Result<Truth> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut t = Truth::default();
    let mut numbers: BTreeMap<String, u32> = BTreeMap::new();
    let mut number = |name: &str, names: &mut Vec<String>| -> u32 {
        *numbers.entry(name.to_owned()).or_insert_with(|| {
            names.push(name.to_owned());
            (names.len() - 1) as u32
        })
    };
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
                t.reports.push((index, v["incident"].as_u64()));
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
                let perpetrator = number(v["perpetrator"].as_str().unwrap_or(""), &mut t.names);
                let event_type = number(v["type"].as_str().unwrap_or(""), &mut t.names);
                t.incidents.push((
                    n,
                    TrueIncident {
                        perpetrator,
                        event_type,
                        point,
                        time,
                        flare_up: v["flare_up"].as_u64(),
                    },
                ));
            }
            Some("sighting") => t.sightings += 1,
            _ => return Err(bad("`record` is not report, incident or sighting")),
        }
    }
    sort_last_wins(&mut t.reports);
    sort_last_wins(&mut t.incidents);
    t.reports.shrink_to_fit();
    t.incidents.shrink_to_fit();
    Ok(t)
}
