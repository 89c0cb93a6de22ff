//! Scenarios: an agreement template, its zones and, optionally, a gazetteer of places. The
//! simulator draws its incidents in the built-in Golan scenario; `truce init` starts a
//! mechanism from any of them.

use anyhow::{Context, Result, bail};
use std::path::Path;

/// The files of a scenario.
#[derive(Debug)]
pub struct Scenario {
    pub name: String,
    pub agreement: String,
    pub zones: Vec<u8>,
    pub places: Option<Vec<u8>>,
}

/// The built-in scenarios.
pub const BUILT_IN: &[&str] = &["golan-1974"];

impl Scenario {
    pub fn built_in(name: &str) -> Result<Self> {
        match name {
            "golan-1974" => Ok(Self {
                name: name.into(),
                agreement: include_str!("../../../scenarios/golan-1974/agreement.json").into(),
                zones: include_bytes!("../../../scenarios/golan-1974/zones.geojson").to_vec(),
                places: Some(
                    include_bytes!("../../../scenarios/golan-1974/places.geojson").to_vec(),
                ),
            }),
            other => bail!(
                "no built-in scenario `{other}`; built in: {}; or pass --scenario-dir DIR with agreement.json and zones.geojson",
                BUILT_IN.join(", ")
            ),
        }
    }

    pub fn from_dir(dir: &Path) -> Result<Self> {
        let read = |f: &str| {
            std::fs::read(dir.join(f)).with_context(|| format!("{}", dir.join(f).display()))
        };
        let places = dir.join("places.geojson");
        Ok(Self {
            name: dir.display().to_string(),
            agreement: String::from_utf8(read("agreement.json")?)
                .context("agreement.json is not UTF-8")?,
            zones: read("zones.geojson")?,
            places: if places.exists() {
                Some(read("places.geojson")?)
            } else {
                None
            },
        })
    }
}
