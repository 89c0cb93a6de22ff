//! The noise profile and the fusion parameters a run overrides.

use super::*;

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

    pub(crate) fn rate(&self, base: f64) -> f64 {
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

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(*v)))
                .collect(),
        )
    }
}
