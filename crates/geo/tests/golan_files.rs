//! The committed scenario files parse and have the documented shape.

use std::path::PathBuf;

use geo::{Area, BooleanOps, Euclidean, Geometry, Length, MultiPolygon, Winding};
use serde_json::Value;
use truce_geo::projection::LocalProjection;
use truce_geo::{Zone, parse_zones};

fn scenario_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/golan-1974")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn zones() -> Vec<Zone> {
    parse_zones(&scenario_file("zones.geojson")).expect("zones.geojson passes parse_zones")
}

fn polygons(z: &Zone) -> MultiPolygon<f64> {
    match &z.geometry {
        Geometry::Polygon(p) => MultiPolygon::new(vec![p.clone()]),
        Geometry::MultiPolygon(mp) => mp.clone(),
        other => panic!("{} is not polygonal: {other:?}", z.id),
    }
}

#[test]
fn zones_have_the_documented_ids_and_properties() {
    let zones = zones();
    let ids: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "line-a",
            "line-b",
            "area-of-separation",
            "aol-west-0-10",
            "aol-west-10-20",
            "aol-west-20-25",
            "aol-east-0-10",
            "aol-east-10-20",
            "aol-east-20-25",
            "gov-quneitra",
            "gov-daraa",
            "gov-as-suwayda",
        ]
    );
    for z in &zones {
        assert!(z.approximate, "{} must say it is approximate", z.id);
        assert_eq!(z.layer, "agreement");
    }
    assert!(matches!(
        zones[0].geometry,
        Geometry::LineString(_) | Geometry::MultiLineString(_)
    ));
    assert!(matches!(
        zones[1].geometry,
        Geometry::LineString(_) | Geometry::MultiLineString(_)
    ));
    assert!(
        zones[2]
            .source
            .contains("Natural Earth v4.0.0 ne_10m_admin_0_disputed_areas")
    );
    assert!(zones[2].source.contains("NOT the treaty map"));
    assert!(zones[9].source.contains("OCHA COD-AB"));

    // Properties the zone struct does not carry.
    let raw: Value = serde_json::from_str(&scenario_file("zones.geojson")).expect("json");
    let features = raw["features"].as_array().expect("features");
    for f in &features[3..9] {
        let id = f["id"].as_str().expect("id");
        let p = &f["properties"];
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(p["kind"], "area_of_limitation", "{id}");
        assert_eq!(p["side"], parts[1], "{id}");
        assert_eq!(p["from_km"].to_string(), parts[2], "{id}");
        assert_eq!(p["to_km"].to_string(), parts[3], "{id}");
    }
    for f in &features[9..] {
        assert_eq!(f["properties"]["kind"], "governorate");
        assert!(f["properties"]["name_ar"].is_string());
    }
    assert!(
        features[9]["properties"]["note"]
            .as_str()
            .is_some_and(|n| n.contains("Israeli-held Golan"))
    );
}

#[test]
fn polygons_follow_the_right_hand_rule() {
    for z in zones() {
        if matches!(
            z.geometry,
            Geometry::LineString(_) | Geometry::MultiLineString(_)
        ) {
            continue;
        }
        for p in polygons(&z) {
            assert!(
                p.exterior().is_ccw(),
                "{}: exterior must be counterclockwise",
                z.id
            );
            for r in p.interiors() {
                assert!(r.is_cw(), "{}: holes must be clockwise", z.id);
            }
        }
    }
}

#[test]
fn bands_and_governorates_do_not_overlap() {
    let zones = zones();
    let projection = LocalProjection::new((35.84, 33.09)).expect("centre");
    let m2 = |mp: &MultiPolygon<f64>| projection.forward_geometry(mp).unsigned_area();
    let perimeter_m = |mp: &MultiPolygon<f64>| {
        projection
            .forward_geometry(mp)
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|r| Euclidean.length(r))
            .sum::<f64>()
    };
    let mut polygonal: Vec<(&str, MultiPolygon<f64>)> = Vec::new();
    for z in &zones[2..] {
        polygonal.push((z.id.as_str(), polygons(z)));
    }
    for (i, (a, pa)) in polygonal.iter().enumerate() {
        assert!(m2(pa) > 1e7, "{a} is too small: {} m²", m2(pa));
        for (b, pb) in &polygonal[i + 1..] {
            // Governorates are another kind of thing than the agreement's areas and may overlap
            // them; the areas among themselves, and the governorates among themselves, may only
            // share borders, up to slivers from rounding to 6 decimals (about 0.1 m) and from
            // following lon/lat edges with projected chords: an average width under 0.1 m.
            if b.starts_with("gov") && !a.starts_with("gov") {
                continue;
            }
            let overlap = m2(&pa.intersection(pb));
            let width = overlap / perimeter_m(pa).min(perimeter_m(pb));
            assert!(
                width < 0.1,
                "{a} and {b} overlap by {overlap:.0} m² (average width {width:.3} m)"
            );
        }
    }
}

#[test]
fn zones_file_is_small() {
    let len = scenario_file("zones.geojson").len();
    assert!(len < 300_000, "zones.geojson is {len} bytes");
}

#[test]
fn places_parse_as_points_with_the_documented_properties() {
    let raw: Value = serde_json::from_str(&scenario_file("places.geojson")).expect("json");
    assert_eq!(raw["type"], "FeatureCollection");
    let features = raw["features"].as_array().expect("features");
    let csv_rows = scenario_file("sources/places_golan_south_syria.csv")
        .lines()
        .count()
        - 1;
    assert_eq!(features.len(), csv_rows);
    for f in features {
        assert_eq!(f["type"], "Feature");
        let g = &f["geometry"];
        assert_eq!(g["type"], "Point");
        let c = g["coordinates"].as_array().expect("coordinates");
        assert_eq!(c.len(), 2);
        let (lon, lat) = (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"));
        // Everything is in the Golan / southern Syria / northern Israel / southern Lebanon area.
        assert!(
            (35.0..37.5).contains(&lon) && (32.0..34.0).contains(&lat),
            "{f}"
        );
        let p = f["properties"].as_object().expect("properties");
        let keys: Vec<&str> = p.keys().map(String::as_str).collect();
        let mut expected = [
            "name",
            "alt_names",
            "country_code",
            "feature_type",
            "source",
            "source_id",
            "population",
            "note",
        ];
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys_sorted, expected);
        assert!(p["name"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(
            p["alt_names"]
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string))
        );
        assert!(p["population"].is_null() || p["population"].is_u64());
        assert!(p["source_id"].is_null() || p["source_id"].is_string());
    }
}
