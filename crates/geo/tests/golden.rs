//! The committed scenario files are exactly what the code builds from the committed sources.
//!
//! If this fails after an intended change, rebuild them with
//! `cargo run -p truce-geo --example build_golan_zones -- scenarios/golan-1974` and review the diff.

use std::path::PathBuf;

use truce_geo::golan::{GolanSources, build_places, build_zones, files};

fn scenario() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/golan-1974")
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn source(name: &str) -> String {
    read(scenario().join("sources").join(name))
}

/// Points at the first difference instead of dumping two 100 kB strings.
fn assert_same(built: &str, committed: &str, name: &str) {
    if built == committed {
        return;
    }
    let at = built
        .bytes()
        .zip(committed.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(built.len().min(committed.len()));
    let line = committed[..at.min(committed.len())].matches('\n').count() + 1;
    let window = |s: &str| {
        s.get(at.saturating_sub(60)..(at + 60).min(s.len()))
            .unwrap_or("")
            .to_string()
    };
    panic!(
        "{name} differs from what the code builds at byte {at} (line {line}):\n built:     {}\n committed: {}\n\
         rebuild with `cargo run -p truce-geo --example build_golan_zones -- scenarios/golan-1974`",
        window(built),
        window(committed)
    );
}

#[test]
fn committed_zones_are_what_the_code_builds() {
    let (disputed_areas, countries, lines, admin1) = (
        source(files::DISPUTED_AREAS),
        source(files::COUNTRIES),
        source(files::LINES),
        source(files::ADMIN1),
    );
    let built = build_zones(&GolanSources {
        disputed_areas: &disputed_areas,
        countries: &countries,
        lines: &lines,
        admin1: &admin1,
    })
    .expect("zones build");
    assert_same(
        &built,
        &read(scenario().join("zones.geojson")),
        "zones.geojson",
    );
}

#[test]
fn committed_places_are_what_the_code_builds() {
    let built = build_places(&source(files::PLACES)).expect("places build");
    assert_same(
        &built,
        &read(scenario().join("places.geojson")),
        "places.geojson",
    );
}
