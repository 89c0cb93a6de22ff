//! Builds `zones.geojson` and `places.geojson` of the Golan 1974 scenario from its sources.
//!
//! ```text
//! cargo run -p truce-geo --example build_golan_zones -- scenarios/golan-1974
//! ```
//!
//! Reads `<scenario dir>/sources/*` and (over)writes `<scenario dir>/zones.geojson` and
//! `<scenario dir>/places.geojson`. The output is deterministic: running it twice gives the
//! same bytes, and the golden test checks the committed files against it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use truce_geo::golan::{GolanSources, build_places, build_zones, files};

fn read(dir: &Path, name: &str) -> Result<String, String> {
    let path = dir.join("sources").join(name);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("wrote {} ({} bytes)", path.display(), text.len());
    Ok(())
}

fn run(dir: &Path) -> Result<(), String> {
    let disputed_areas = read(dir, files::DISPUTED_AREAS)?;
    let countries = read(dir, files::COUNTRIES)?;
    let lines = read(dir, files::LINES)?;
    let admin1 = read(dir, files::ADMIN1)?;
    let places = read(dir, files::PLACES)?;
    let zones = build_zones(&GolanSources {
        disputed_areas: &disputed_areas,
        countries: &countries,
        lines: &lines,
        admin1: &admin1,
    })
    .map_err(|e| e.to_string())?;
    let places = build_places(&places).map_err(|e| e.to_string())?;
    write(dir, "zones.geojson", &zones)?;
    write(dir, "places.geojson", &places)
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: build_golan_zones <scenario dir, e.g. scenarios/golan-1974>");
        return ExitCode::from(2);
    };
    match run(&PathBuf::from(dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("build_golan_zones: {e}");
            ExitCode::FAILURE
        }
    }
}
