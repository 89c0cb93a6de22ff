//! Geometry in entries and agreements: degenerate notice areas and oversized zones documents
//! are refused at admission, with what to fix.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use truce_model::agreement::Agreement;
use truce_model::bodies::MAX_NOTICE_AREA_M2;
use truce_model::{Entry, Refusal};

fn payload(kind: &str, body: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "v": 1, "mechanism": "truce.test/geometry", "kind": kind, "author": "sy.ops",
        "created": "2026-12-01T05:00:00Z", "body": body
    }))
    .expect("payload")
}

fn notice(geometry: Value) -> Result<Entry, Refusal> {
    Entry::parse(&payload(
        "notice",
        json!({
            "action": "file",
            "activity": "exercise",
            "area": {"geometry": geometry},
            "window": {"start": "2026-12-01T06:00:00Z", "end": "2026-12-01T18:00:00Z", "precision": "hour"},
            "purpose": "Test of the area rules.",
            "addressees": ["IL"]
        }),
    ))
}

fn polygon(ring: &[[f64; 2]]) -> Value {
    json!({"type": "Polygon", "coordinates": [ring]})
}

fn refused(r: Result<Entry, Refusal>) -> String {
    match r {
        Ok(_) => panic!("expected a refusal"),
        Err(r) => {
            assert_eq!((r.code, r.status), ("invalid-entry", 422), "{}", r.detail);
            r.detail
        }
    }
}

#[test]
fn an_ordinary_notice_area_is_accepted() {
    // The example of docs/entries.md.
    let area = polygon(&[
        [36.50, 32.65],
        [36.65, 32.65],
        [36.65, 32.75],
        [36.50, 32.75],
        [36.50, 32.65],
    ]);
    assert!(notice(area).is_ok());
}

#[test]
fn a_zero_area_notice_area_is_refused() {
    let flat = polygon(&[[36.5, 32.5], [36.75, 32.75], [37.0, 33.0], [36.5, 32.5]]);
    assert_eq!(
        refused(notice(flat)),
        "body.area.geometry: geometry: invalid polygon: exterior ring has no area: its 3 distinct points are on one line"
    );
    // On one line as written in decimal, a hair off it in binary: no area to speak of.
    let nearly = polygon(&[[36.5, 32.6], [36.6, 32.7], [36.7, 32.8], [36.5, 32.6]]);
    assert_eq!(
        refused(notice(nearly)),
        "body.area.geometry: geometry: invalid polygon: it encloses 0.000 m², less than the 1 m² a polygon must enclose: a sliver that small is a mistake, not an area"
    );
    // Valid, but a millimetre high.
    let sliver = polygon(&[
        [36.5, 32.6],
        [36.501, 32.6],
        [36.5005, 32.60000001],
        [36.5, 32.6],
    ]);
    let detail = refused(notice(sliver));
    assert!(
        detail.starts_with("body.area.geometry: geometry: invalid polygon: it encloses 0.05")
            && detail.contains("less than the 1 m² a polygon must enclose"),
        "{detail}"
    );
}

#[test]
fn a_notice_area_across_the_antimeridian_is_refused() {
    // Meant as 2° round the 180th meridian; read as RFC 7946 reads it, a band round the world.
    let fiji = polygon(&[
        [179.0, -17.0],
        [-179.0, -17.0],
        [-179.0, -16.0],
        [179.0, -16.0],
        [179.0, -17.0],
    ]);
    let detail = refused(notice(fiji));
    assert!(
        detail.starts_with("body.area.geometry: geometry.coordinates[0][0]: the edge from here to the next position spans 358° of longitude (179 to -179)")
            && detail.contains("RFC 7946 §3.1.9"),
        "{detail}"
    );
    // The whole globe as a box with ±180° edges.
    let globe = polygon(&[
        [-180.0, -90.0],
        [180.0, -90.0],
        [180.0, 90.0],
        [-180.0, 90.0],
        [-180.0, -90.0],
    ]);
    assert!(refused(notice(globe)).contains("spans 360° of longitude"));
}

#[test]
fn whole_globe_and_hemisphere_notice_areas_are_refused() {
    // Drawn with no edge over 180°, the whole globe and a hemisphere are valid polygons.
    let globe = polygon(&[
        [-180.0, -90.0],
        [0.0, -90.0],
        [180.0, -90.0],
        [180.0, 90.0],
        [0.0, 90.0],
        [-180.0, 90.0],
        [-180.0, -90.0],
    ]);
    assert_eq!(
        refused(notice(globe)),
        "body.area.geometry encloses 510065622 km²; a notice area may enclose at most 1000000 km²: a box that large (a hemisphere, the whole globe, a band round the world) is almost always a misdrawn ring, so draw the area itself"
    );
    let hemisphere = polygon(&[
        [0.0, -90.0],
        [180.0, -90.0],
        [180.0, 90.0],
        [0.0, 90.0],
        [0.0, -90.0],
    ]);
    assert!(refused(notice(hemisphere)).starts_with("body.area.geometry encloses 255032811 km²"));
    // Just under the cap (a 9° square at the equator, about 1,000,000 km²) is accepted, as an
    // acknowledgement's conditions are held to the same cap.
    let under = polygon(&[
        [30.0, 0.0],
        [39.0, 0.0],
        [39.0, 8.9],
        [30.0, 8.9],
        [30.0, 0.0],
    ]);
    let area = truce_geo::area_m2(&truce_geo::parse_geometry(&under).expect("square"));
    assert!(
        area < MAX_NOTICE_AREA_M2 && area > 0.9 * MAX_NOTICE_AREA_M2,
        "{area}"
    );
    assert!(notice(under).is_ok());
    let ack = |geometry: Value| {
        Entry::parse(&payload(
            "acknowledgement",
            json!({"notice": 1, "response": "acknowledge_with_conditions",
                "conditions": {"area": {"geometry": geometry}}}),
        ))
    };
    let band = polygon(&[
        [-180.0, 0.0],
        [0.0, 0.0],
        [180.0, 0.0],
        [180.0, 10.0],
        [0.0, 10.0],
        [-180.0, 10.0],
        [-180.0, 0.0],
    ]);
    assert!(refused(ack(band)).starts_with("body.conditions.area.geometry encloses 44285983 km²"));
}

/// An agreement whose zones reference is `doc`, and no rules.
fn agreement_for(doc: &str) -> Agreement {
    serde_json::from_value(json!({
        "format": "truce-agreement/1", "title": "Test", "version": 1,
        "effective": "2026-01-01T00:00:00Z",
        "parties": [{"id": "SY", "name": "S", "role": "party"}, {"id": "IL", "name": "I", "role": "party"}, {"id": "US", "name": "U", "role": "mediator"}],
        "members": [],
        "zones": {"sha256": hex::encode(Sha256::digest(doc.as_bytes())), "size": doc.len(), "media_type": "application/geo+json"},
        "rules": []
    }))
    .expect("agreement")
}

fn zones_doc(rings: &[Vec<[f64; 2]>]) -> String {
    let features: Vec<Value> = rings
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({"type": "Feature", "id": format!("zone-{i}"),
                "properties": {"name": "Z", "approximate": true, "source": "synthetic test fixture"},
                "geometry": polygon(r)})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// `n` vertices on a circle (closing repeat included).
fn circle(n: usize, lon: f64) -> Vec<[f64; 2]> {
    let mut ring: Vec<[f64; 2]> = (0..n - 1)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / (n - 1) as f64;
            [lon + 0.4 * a.cos(), 33.0 + 0.4 * a.sin()]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

#[test]
fn zones_documents_over_the_vertex_limits_are_refused() {
    let per_zone = truce_geo::MAX_ZONE_VERTICES;
    let doc = zones_doc(&[circle(per_zone + 1, 36.0)]);
    let r = agreement_for(&doc).check_zones(doc.as_bytes());
    assert_eq!(
        r.map(|z| z.len()),
        Err(Refusal::invalid(format!(
            "zones document: feature \"zone-0\": geometry: {} vertices (GeoJSON positions); at most {per_zone} are allowed in one geometry: simplify the geometry",
            per_zone + 1
        )))
    );
    // Six zones of 45,000: each within its limit, 270,000 in all.
    let rings: Vec<Vec<[f64; 2]>> = (0..6).map(|i| circle(45_000, 30.0 + i as f64)).collect();
    let doc = zones_doc(&rings);
    let r = agreement_for(&doc).check_zones(doc.as_bytes());
    assert_eq!(
        r.map(|z| z.len()),
        Err(Refusal::invalid(format!(
            "zones document: feature collection: 270000 vertices (GeoJSON positions); at most {} are allowed in all the zones of one document: simplify the geometry",
            truce_geo::MAX_ZONES_DOCUMENT_VERTICES
        )))
    );
    // Five of them are within both limits.
    let doc = zones_doc(&rings[..5]);
    assert_eq!(
        agreement_for(&doc)
            .check_zones(doc.as_bytes())
            .map(|z| z.len()),
        Ok(5)
    );
}
