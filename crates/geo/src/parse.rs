//! Strict reading of agreement zones from RFC 7946 GeoJSON.

use std::collections::HashMap;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Polygon, Validation};
use serde_json::{Map, Value};

use crate::GeoError;
use crate::geodesy::polygon_area_m2;
use crate::validity::{self, Invalid};

/// The pattern every zone id must match.
pub const ID_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";

/// The layer of a zone whose feature has no `layer` property.
pub const DEFAULT_LAYER: &str = "agreement";

/// The most vertices one geometry may have: a zone, or any geometry [`parse_geometry`] reads
/// (a notice's area, a coverage record's area or track). A vertex is a GeoJSON position, each
/// ring's closing repeat included.
///
/// 50,000 is 39 times the largest zone of the shipped Golan scenario (1,280, `aol-east-10-20`)
/// and enough to draw a 500 km border with a vertex every 10 m. It bounds the work one zone
/// asks of every verifier, and of the server when an agreement is admitted.
pub const MAX_ZONE_VERTICES: usize = 50_000;

/// The most vertices all the geometries of one zones document (one agreement's zones) may
/// have together, counted as for [`MAX_ZONE_VERTICES`].
///
/// 250,000 is 40 times the whole Golan scenario (6,156 in 12 zones), about 5 MB of GeoJSON;
/// checking that many takes well under a second.
pub const MAX_ZONES_DOCUMENT_VERTICES: usize = 250_000;

/// The least area, in square metres, each polygon (each member of a multipolygon) must
/// enclose, measured as [`area_m2`](crate::area_m2) measures it. Smaller is a sliver or a
/// ring drawn back on itself, not an area anyone can be in.
pub const MIN_POLYGON_AREA_M2: f64 = 1.0;

/// A validated zone of an agreement.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Feature `"id"`: matches [`ID_PATTERN`]; the pair (`id`, `layer`) is unique in its
    /// collection, so one zone may have several competing geometries, one per layer.
    pub id: String,
    /// `properties.name`: non-empty.
    pub name: String,
    /// `properties.layer` (default [`DEFAULT_LAYER`]): the interpretation layer the geometry
    /// belongs to.
    pub layer: String,
    /// `properties.approximate`: whether the geometry is known to be an approximation.
    pub approximate: bool,
    /// `properties.source`: non-empty; where the geometry comes from.
    pub source: String,
    /// A `Polygon`, `MultiPolygon`, `LineString` or `MultiLineString`, in WGS 84 lon/lat, in the
    /// ring orientation it was given in.
    pub geometry: Geometry<f64>,
}

/// Whether `s` matches [`ID_PATTERN`].
pub fn is_valid_id(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && b.len() <= 63 && ok(&b[0]) && b[1..].iter().all(|c| ok(c) || *c == b'-')
}

/// Parses and checks an RFC 7946 FeatureCollection of zones.
///
/// Every feature needs a string `id` matching [`ID_PATTERN`] and the properties `name`
/// (non-empty string), `approximate` (boolean) and `source` (non-empty string); `layer` is an
/// optional non-empty string (default [`DEFAULT_LAYER`]). The pair (`id`, `layer`) must be
/// unique: competing interpretations of a zone (the agreed line and a party's claimed line) are
/// features with the same `id` in different layers. Other properties are allowed and ignored. Geometries are checked
/// as by [`parse_geometry`]. A `"crs"` member anywhere is refused.
///
/// The document may have at most [`MAX_ZONES_DOCUMENT_VERTICES`] vertices in all, each zone at
/// most [`MAX_ZONE_VERTICES`]; both are counted before any geometry is checked, and the whole
/// check takes O(n log n) time for n vertices.
pub fn parse_zones(geojson_text: &str) -> Result<Vec<Zone>, GeoError> {
    let value: Value =
        serde_json::from_str(geojson_text).map_err(|e| GeoError::Json(e.to_string()))?;
    let Value::Object(root) = &value else {
        return Err(GeoError::NotFeatureCollection(format!(
            "top level is {}, expected an object with \"type\": \"FeatureCollection\"",
            describe(&value)
        )));
    };
    match root.get("type") {
        Some(Value::String(t)) if t == "FeatureCollection" => {}
        Some(other) => {
            return Err(GeoError::NotFeatureCollection(format!(
                "\"type\" is {}, expected \"FeatureCollection\"",
                describe(other)
            )));
        }
        None => {
            return Err(GeoError::NotFeatureCollection(
                "\"type\" member is missing, expected \"FeatureCollection\"".into(),
            ));
        }
    }
    refuse_crs(root, "feature collection")?;
    let features = match root.get("features") {
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(GeoError::NotFeatureCollection(format!(
                "\"features\" is {}, expected an array",
                describe(other)
            )));
        }
        None => {
            return Err(GeoError::NotFeatureCollection(
                "\"features\" member is missing".into(),
            ));
        }
    };

    // Counted first, so that an oversized document costs one pass over its positions.
    let vertices: usize = features
        .iter()
        .map(|f| count_positions(f.get("geometry").and_then(|g| g.get("coordinates"))))
        .sum();
    if vertices > MAX_ZONES_DOCUMENT_VERTICES {
        return Err(GeoError::TooManyVertices {
            at: "feature collection".into(),
            found: vertices,
            limit: MAX_ZONES_DOCUMENT_VERTICES,
            scope: "in all the zones of one document",
        });
    }

    // (id, layer) -> position of the feature that first used the pair.
    let mut seen: HashMap<(&str, String), usize> = HashMap::new();
    let mut zones = Vec::with_capacity(features.len());
    for (i, feature) in features.iter().enumerate() {
        let pos = format!("feature [{i}]");
        let Value::Object(f) = feature else {
            return Err(GeoError::Feature {
                at: pos,
                problem: format!(
                    "is {}, expected a geojson Feature object",
                    describe(feature)
                ),
            });
        };
        match f.get("type") {
            Some(Value::String(t)) if t == "Feature" => {}
            other => {
                return Err(GeoError::Feature {
                    at: pos,
                    problem: format!(
                        "\"type\" is {}, expected \"Feature\"",
                        other.map_or("missing".to_string(), describe)
                    ),
                });
            }
        }
        let id = match f.get("id") {
            Some(Value::String(s)) if is_valid_id(s) => s.as_str(),
            Some(Value::String(s)) => {
                return Err(GeoError::Id {
                    at: pos,
                    problem: format!(
                        "id {s:?} does not match {ID_PATTERN}: use 1-63 lowercase letters, digits or '-', not starting with '-'"
                    ),
                });
            }
            Some(other) => {
                return Err(GeoError::Id {
                    at: pos,
                    problem: format!(
                        "\"id\" is {}, expected a string matching {ID_PATTERN}",
                        describe(other)
                    ),
                });
            }
            None => {
                return Err(GeoError::Id {
                    at: pos,
                    problem: format!(
                        "\"id\" is missing: give every feature a string id matching {ID_PATTERN}, unique within its layer"
                    ),
                });
            }
        };
        let at = format!("feature {id:?}");
        refuse_crs(f, &at)?;
        let props = match f.get("properties") {
            Some(Value::Object(p)) => p,
            other => {
                return Err(GeoError::Feature {
                    at,
                    problem: format!(
                        "\"properties\" is {}, expected an object with name, approximate and source",
                        other.map_or("missing".to_string(), describe)
                    ),
                });
            }
        };
        let name = required_string(props, "name", &at)?;
        let source = required_string(props, "source", &at)?;
        let approximate = match props.get("approximate") {
            Some(Value::Bool(b)) => *b,
            other => {
                return Err(GeoError::Feature {
                    at,
                    problem: format!(
                        "property \"approximate\" is {}, expected true or false",
                        other.map_or("missing".to_string(), describe)
                    ),
                });
            }
        };
        let layer = match props.get("layer") {
            None => DEFAULT_LAYER.to_string(),
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(other) => {
                return Err(GeoError::Feature {
                    at,
                    problem: format!(
                        "property \"layer\" is {}, expected a non-empty string (or leave it out for {DEFAULT_LAYER:?})",
                        describe(other)
                    ),
                });
            }
        };
        // Competing interpretations of one zone share its id in different layers; within a
        // layer the id names one geometry.
        if let Some(first) = seen.insert((id, layer.clone()), i) {
            return Err(GeoError::Id {
                at: format!("{pos} {id:?}"),
                problem: format!(
                    "duplicate id in layer {layer:?}, already used by feature [{first}]; an id may repeat only in a different layer"
                ),
            });
        }
        let geometry = match f.get("geometry") {
            Some(g @ Value::Object(_)) => geometry_at(g, &format!("{at}: geometry"))?,
            other => {
                return Err(GeoError::Feature {
                    at,
                    problem: format!(
                        "\"geometry\" is {}, expected a Polygon, MultiPolygon, LineString or MultiLineString object",
                        other.map_or("missing".to_string(), describe)
                    ),
                });
            }
        };
        zones.push(Zone {
            id: id.to_string(),
            name,
            layer,
            approximate,
            source,
            geometry,
        });
    }
    Ok(zones)
}

/// Parses and checks one RFC 7946 geometry object (`Polygon`, `MultiPolygon`, `LineString` or
/// `MultiLineString`) with the same rules as the geometries of [`parse_zones`].
///
/// Positions must have at least two numbers, finite, longitude in [-180, 180] and latitude in
/// [-90, 90] (a third number, the altitude, is ignored); line strings need two positions; rings
/// must be closed with at least four positions; no edge may span more than 180° of longitude
/// (such an edge would cross the antimeridian the long way round; RFC 7946 §3.1.9 asks for the
/// geometry to be cut there); at most [`MAX_ZONE_VERTICES`] positions in all. The result must
/// be a valid simple feature: no self-intersections, holes inside their shell, parts of a
/// MultiPolygon not overlapping (geo's `Validation` rules, checked in O(n log n) time); and each
/// polygon must enclose at least [`MIN_POLYGON_AREA_M2`]. Both ring orientations are accepted
/// (RFC 7946 §3.1.6) and kept as given.
pub fn parse_geometry(value: &serde_json::Value) -> Result<Geometry<f64>, GeoError> {
    geometry_at(value, "geometry")
}

/// Parses a geometry object with all the checks of [`parse_geometry`].
pub(crate) fn geometry_at(value: &Value, at: &str) -> Result<Geometry<f64>, GeoError> {
    let vertices = count_positions(value.get("coordinates"));
    if vertices > MAX_ZONE_VERTICES {
        return Err(GeoError::TooManyVertices {
            at: at.to_string(),
            found: vertices,
            limit: MAX_ZONE_VERTICES,
            scope: "in one geometry",
        });
    }
    let geometry = geometry_structure(value, at)?;
    check_validity(&geometry, at)?;
    check_area(&geometry, at)?;
    Ok(geometry)
}

/// How many positions (arrays of numbers) `coordinates` holds, however malformed the rest.
fn count_positions(coordinates: Option<&Value>) -> usize {
    match coordinates {
        Some(Value::Array(items)) if matches!(items.first(), Some(Value::Number(_))) => 1,
        Some(Value::Array(items)) => items.iter().map(|i| count_positions(Some(i))).sum(),
        _ => 0,
    }
}

/// Parses a geometry object with every check except validity, area and size (the checks a
/// scenario build's sources do not all need).
pub(crate) fn geometry_structure(value: &Value, at: &str) -> Result<Geometry<f64>, GeoError> {
    let Value::Object(g) = value else {
        return Err(GeoError::Feature {
            at: at.to_string(),
            problem: format!("is {}, expected a geojson geometry object", describe(value)),
        });
    };
    refuse_crs(g, at)?;
    let kind = match g.get("type") {
        Some(Value::String(t)) => t.as_str(),
        other => {
            return Err(GeoError::UnsupportedGeometry {
                at: at.to_string(),
                found: other.map_or("(missing \"type\")".to_string(), describe),
            });
        }
    };
    if !matches!(
        kind,
        "Polygon" | "MultiPolygon" | "LineString" | "MultiLineString"
    ) {
        return Err(GeoError::UnsupportedGeometry {
            at: at.to_string(),
            found: format!("{kind:?}"),
        });
    }
    let coords = match g.get("coordinates") {
        Some(c @ Value::Array(_)) => c,
        other => {
            return Err(GeoError::Coordinates {
                at: format!("{at}.coordinates"),
                problem: format!(
                    "is {}, expected an array",
                    other.map_or("missing".to_string(), describe)
                ),
            });
        }
    };
    let path = Path::new(at);
    let geometry = match kind {
        "LineString" => Geometry::LineString(line_string(coords, &path)?),
        "MultiLineString" => {
            let parts = array(coords, &path, "multilinestring", "line string")?;
            let mut lines = Vec::with_capacity(parts.len());
            for (i, part) in parts.iter().enumerate() {
                lines.push(line_string(part, &path.push(i))?);
            }
            Geometry::MultiLineString(MultiLineString::new(lines))
        }
        "Polygon" => Geometry::Polygon(polygon(coords, &path)?),
        _ => {
            let parts = array(coords, &path, "multipolygon", "polygon")?;
            let mut polygons = Vec::with_capacity(parts.len());
            for (i, part) in parts.iter().enumerate() {
                polygons.push(polygon(part, &path.push(i))?);
            }
            Geometry::MultiPolygon(MultiPolygon::new(polygons))
        }
    };
    Ok(geometry)
}

/// Checks that a parsed geometry is a valid simple feature and reports the first problem.
///
/// Polygons and multipolygons go through [`validity`](crate::validity), an O(n log n) sweep
/// with geo's verdicts; lines through geo's `Validation`, which is linear for them.
pub(crate) fn check_validity(geometry: &Geometry<f64>, at: &str) -> Result<(), GeoError> {
    let invalid = |kind: &'static str, reason: String| GeoError::InvalidGeometry {
        at: at.to_string(),
        kind,
        reason,
    };
    let polygons = |polygons: &[Polygon<f64>], multi: bool| {
        let kind = if multi { "multipolygon" } else { "polygon" };
        match std::panic::catch_unwind(|| validity::check(polygons)) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(invalid(kind, e.describe(multi))),
            Err(_) => Err(invalid(kind, Invalid::Unvalidatable.describe(multi))),
        }
    };
    match geometry {
        Geometry::Polygon(p) => polygons(std::slice::from_ref(p), false),
        Geometry::MultiPolygon(mp) => polygons(&mp.0, true),
        Geometry::LineString(l) => {
            guarded(|| l.check_validation()).map_err(|e| invalid("linestring", e))
        }
        Geometry::MultiLineString(l) => {
            guarded(|| l.check_validation()).map_err(|e| invalid("multilinestring", e))
        }
        other => Err(GeoError::UnsupportedGeometry {
            at: at.to_string(),
            found: format!("{:?}", geometry_type_name(other)),
        }),
    }
}

/// Refuses a polygon (or a member of a multipolygon) enclosing less than
/// [`MIN_POLYGON_AREA_M2`].
fn check_area(geometry: &Geometry<f64>, at: &str) -> Result<(), GeoError> {
    let (kind, polygons) = match geometry {
        Geometry::Polygon(p) => ("polygon", std::slice::from_ref(p)),
        Geometry::MultiPolygon(mp) => ("multipolygon", mp.0.as_slice()),
        _ => return Ok(()),
    };
    for (i, p) in polygons.iter().enumerate() {
        let area = polygon_area_m2(p);
        if area < MIN_POLYGON_AREA_M2 {
            let which = if kind == "multipolygon" {
                format!("polygon {i} encloses")
            } else {
                "it encloses".to_string()
            };
            return Err(GeoError::InvalidGeometry {
                at: at.to_string(),
                kind,
                reason: format!(
                    "{which} {area:.3} m², less than the {MIN_POLYGON_AREA_M2} m² a polygon must enclose: a sliver that small is a mistake, not an area"
                ),
            });
        }
    }
    Ok(())
}

/// Runs a geo validation, turning a panic inside geo into an error: input must never crash us.
fn guarded<E: std::fmt::Display>(f: impl FnOnce() -> Result<(), E>) -> Result<(), String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err("its topology could not be validated (inconsistent geometry)".into()),
    }
}

fn geometry_type_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}

/// A JSON path into `coordinates`, rendered only when an error is reported.
struct Path<'a> {
    base: &'a str,
    index: Vec<usize>,
}

impl<'a> Path<'a> {
    fn new(base: &'a str) -> Self {
        Path {
            base,
            index: Vec::new(),
        }
    }

    fn push(&self, i: usize) -> Path<'a> {
        let mut index = self.index.clone();
        index.push(i);
        Path {
            base: self.base,
            index,
        }
    }

    fn render(&self) -> String {
        let mut s = format!("{}.coordinates", self.base);
        for i in &self.index {
            s.push_str(&format!("[{i}]"));
        }
        s
    }

    fn error(&self, problem: String) -> GeoError {
        GeoError::Coordinates {
            at: self.render(),
            problem,
        }
    }
}

fn array<'v>(
    value: &'v Value,
    path: &Path,
    what: &str,
    member: &str,
) -> Result<&'v Vec<Value>, GeoError> {
    match value {
        Value::Array(a) if !a.is_empty() => Ok(a),
        Value::Array(_) => Err(path.error(format!("{what} is empty; give at least one {member}"))),
        other => Err(path.error(format!(
            "is {}, expected an array of {member}s",
            describe(other)
        ))),
    }
}

fn position(value: &Value, path: &Path) -> Result<Coord<f64>, GeoError> {
    let Value::Array(items) = value else {
        return Err(path.error(format!(
            "is {}, expected a position [longitude, latitude]",
            describe(value)
        )));
    };
    if items.len() < 2 {
        return Err(path.error(format!(
            "position has {} element{}, expected [longitude, latitude]",
            items.len(),
            if items.len() == 1 { "" } else { "s" }
        )));
    }
    let mut numbers = [0.0_f64; 2];
    for (k, item) in items.iter().enumerate() {
        let Some(n) = item.as_f64() else {
            return Err(path.error(format!(
                "position element [{k}] is {}, expected a number",
                describe(item)
            )));
        };
        if k < 2 {
            numbers[k] = n;
        } else if !n.is_finite() {
            return Err(path.error(format!("position element [{k}] is not a finite number")));
        }
    }
    check_lon_lat(numbers[0], numbers[1]).map_err(|p| path.error(p))?;
    Ok(Coord {
        x: numbers[0],
        y: numbers[1],
    })
}

/// Checks a longitude/latitude pair; the error is the problem text.
fn check_lon_lat(lon: f64, lat: f64) -> Result<(), String> {
    if !lon.is_finite() {
        return Err("longitude is not a finite number".into());
    }
    if !lat.is_finite() {
        return Err("latitude is not a finite number".into());
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(format!(
            "longitude {lon} is outside [-180, 180]; positions are [longitude, latitude]"
        ));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(format!(
            "latitude {lat} is outside [-90, 90]; positions are [longitude, latitude]"
        ));
    }
    Ok(())
}

fn positions(value: &Value, path: &Path) -> Result<Vec<Coord<f64>>, GeoError> {
    let Value::Array(items) = value else {
        return Err(path.error(format!(
            "is {}, expected an array of positions",
            describe(value)
        )));
    };
    let coords = items
        .iter()
        .enumerate()
        .map(|(i, p)| position(p, &path.push(i)))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, w) in coords.windows(2).enumerate() {
        let span = (w[1].x - w[0].x).abs();
        if span > 180.0 {
            return Err(path.push(i).error(format!(
                "the edge from here to the next position spans {span}° of longitude ({} to {}): edges are straight in longitude/latitude, so it would run the long way round the Earth; cut the geometry at the antimeridian into parts on either side (RFC 7946 §3.1.9)",
                w[0].x, w[1].x
            )));
        }
    }
    Ok(coords)
}

fn line_string(value: &Value, path: &Path) -> Result<LineString<f64>, GeoError> {
    let coords = positions(value, path)?;
    if coords.len() < 2 {
        return Err(path.error(format!(
            "line string has {} position{}, needs at least 2",
            coords.len(),
            if coords.len() == 1 { "" } else { "s" }
        )));
    }
    Ok(LineString::new(coords))
}

fn ring(value: &Value, path: &Path) -> Result<LineString<f64>, GeoError> {
    let coords = positions(value, path)?;
    if coords.len() < 4 {
        return Err(path.error(format!(
            "ring has {} position{}, needs at least 4 (3 distinct, then the first repeated)",
            coords.len(),
            if coords.len() == 1 { "" } else { "s" }
        )));
    }
    let (first, last) = (coords[0], coords[coords.len() - 1]);
    if first != last {
        return Err(path.error(format!(
            "ring is not closed: last position [{}, {}] differs from first [{}, {}]; repeat the first position at the end",
            last.x, last.y, first.x, first.y
        )));
    }
    Ok(LineString::new(coords))
}

fn polygon(value: &Value, path: &Path) -> Result<Polygon<f64>, GeoError> {
    let rings = array(value, path, "polygon", "ring")?;
    let exterior = ring(&rings[0], &path.push(0))?;
    let mut interiors = Vec::with_capacity(rings.len() - 1);
    for (i, r) in rings.iter().enumerate().skip(1) {
        interiors.push(ring(r, &path.push(i))?);
    }
    Ok(Polygon::new(exterior, interiors))
}

fn required_string(props: &Map<String, Value>, key: &str, at: &str) -> Result<String, GeoError> {
    match props.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        other => Err(GeoError::Feature {
            at: at.to_string(),
            problem: format!(
                "property {key:?} is {}, expected a non-empty string",
                other.map_or("missing".to_string(), describe)
            ),
        }),
    }
}

fn refuse_crs(object: &Map<String, Value>, at: &str) -> Result<(), GeoError> {
    if object.contains_key("crs") {
        return Err(GeoError::CrsMember { at: at.to_string() });
    }
    Ok(())
}

/// A short description of a JSON value for error messages.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().count() <= 40 => format!("{s:?}"),
        Value::String(s) => {
            let head: String = s.chars().take(40).collect();
            format!("{head:?}…")
        }
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feature(id: Value, props: Value, geometry: Value) -> Value {
        json!({"type": "Feature", "id": id, "properties": props, "geometry": geometry})
    }

    fn props() -> Value {
        json!({"name": "Zone", "approximate": true, "source": "synthetic test fixture"})
    }

    fn square_ccw() -> Value {
        json!({"type": "Polygon", "coordinates": [[[35.0, 33.0], [35.1, 33.0], [35.1, 33.1], [35.0, 33.1], [35.0, 33.0]]]})
    }

    fn square_cw() -> Value {
        json!({"type": "Polygon", "coordinates": [[[35.0, 33.0], [35.0, 33.1], [35.1, 33.1], [35.1, 33.0], [35.0, 33.0]]]})
    }

    fn collection(features: Vec<Value>) -> String {
        json!({"type": "FeatureCollection", "features": features}).to_string()
    }

    fn one(geometry: Value) -> Result<Vec<Zone>, GeoError> {
        parse_zones(&collection(vec![feature(json!("z"), props(), geometry)]))
    }

    fn err(result: Result<Vec<Zone>, GeoError>) -> String {
        match result {
            Ok(z) => panic!(
                "expected an error, got zones {:?}",
                z.iter().map(|z| &z.id).collect::<Vec<_>>()
            ),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn accepts_both_ring_orientations_and_all_four_types() {
        let text = collection(vec![
            feature(json!("ccw"), props(), square_ccw()),
            feature(json!("cw"), props(), square_cw()),
            feature(
                json!("line"),
                json!({"name": "L", "approximate": false, "source": "s", "layer": "sy-claim", "name_ar": "خط", "note": "n", "kind": "line"}),
                json!({"type": "LineString", "coordinates": [[35.0, 33.0], [35.1, 33.2, 400.0]]}),
            ),
            feature(
                json!("multi-line"),
                props(),
                json!({"type": "MultiLineString", "coordinates": [[[35.0, 33.0], [35.1, 33.2]], [[36.0, 33.0], [36.1, 33.2]]]}),
            ),
            feature(
                json!("0-multi-polygon"),
                props(),
                json!({"type": "MultiPolygon", "bbox": [35.0, 33.0, 36.1, 33.1], "coordinates": [
                [[[35.0, 33.0], [35.1, 33.0], [35.1, 33.1], [35.0, 33.1], [35.0, 33.0]]],
                [[[36.0, 33.0], [36.0, 33.1], [36.1, 33.1], [36.0, 33.0]],
                ]]}),
            ),
            feature(
                json!("with-hole"),
                props(),
                json!({"type": "Polygon", "coordinates": [
                    [[35.0, 33.0], [35.1, 33.0], [35.1, 33.1], [35.0, 33.1], [35.0, 33.0]],
                    [[35.02, 33.02], [35.02, 33.05], [35.05, 33.05], [35.02, 33.02]]]}),
            ),
        ]);
        let zones = parse_zones(&text).expect("valid collection");
        assert_eq!(zones.len(), 6);
        assert_eq!(zones[0].id, "ccw");
        assert_eq!(zones[0].layer, DEFAULT_LAYER);
        assert!(zones[0].approximate);
        assert_eq!(zones[2].layer, "sy-claim");
        assert!(!zones[2].approximate);
        assert!(matches!(zones[1].geometry, Geometry::Polygon(_)));
        assert!(matches!(zones[2].geometry, Geometry::LineString(_)));
        assert!(matches!(zones[3].geometry, Geometry::MultiLineString(_)));
        assert!(matches!(zones[4].geometry, Geometry::MultiPolygon(_)));
        let Geometry::Polygon(p) = &zones[5].geometry else {
            panic!("polygon expected")
        };
        assert_eq!(p.interiors().len(), 1);
        // Orientation is kept as given.
        let Geometry::Polygon(cw) = &zones[1].geometry else {
            panic!("polygon expected")
        };
        assert_eq!(cw.exterior().0[1], Coord { x: 35.0, y: 33.1 });
    }

    #[test]
    fn accepts_empty_collection() {
        assert_eq!(
            parse_zones(r#"{"type":"FeatureCollection","features":[]}"#),
            Ok(vec![])
        );
    }

    #[test]
    fn parse_geometry_checks_the_same_rules() {
        assert!(matches!(
            parse_geometry(&square_cw()),
            Ok(Geometry::Polygon(_))
        ));
        let e = parse_geometry(&json!({"type": "Point", "coordinates": [35.0, 33.0]}))
            .expect_err("point refused");
        assert_eq!(
            e.to_string(),
            "geometry: unsupported geometry type \"Point\"; use Polygon, MultiPolygon, LineString or MultiLineString"
        );
        let e = parse_geometry(
            &json!({"type": "LineString", "coordinates": [[35.0, 91.0], [35.0, 33.0]]}),
        )
        .expect_err("latitude refused");
        assert_eq!(
            e.to_string(),
            "geometry.coordinates[0]: latitude 91 is outside [-90, 90]; positions are [longitude, latitude]"
        );
        let e = parse_geometry(&json!(null)).expect_err("null refused");
        assert_eq!(
            e.to_string(),
            "geometry: is null, expected a geojson geometry object"
        );
    }

    #[test]
    fn rejects_non_json_and_non_collections() {
        assert!(matches!(parse_zones("{"), Err(GeoError::Json(_))));
        assert_eq!(
            err(parse_zones("[]")),
            "not a geojson FeatureCollection: top level is an array, expected an object with \"type\": \"FeatureCollection\""
        );
        assert_eq!(
            err(parse_zones(
                &feature(json!("a"), props(), square_ccw()).to_string()
            )),
            "not a geojson FeatureCollection: \"type\" is \"Feature\", expected \"FeatureCollection\""
        );
        assert_eq!(
            err(parse_zones(r#"{"type":"FeatureCollection"}"#)),
            "not a geojson FeatureCollection: \"features\" member is missing"
        );
        assert_eq!(
            err(parse_zones(r#"{"type":"FeatureCollection","features":{}}"#)),
            "not a geojson FeatureCollection: \"features\" is an object, expected an array"
        );
        assert_eq!(
            err(parse_zones(
                r#"{"type":"FeatureCollection","features":[{"type":"Point"}]}"#
            )),
            "feature [0]: \"type\" is \"Point\", expected \"Feature\""
        );
    }

    #[test]
    fn rejects_crs_members() {
        let mut root = json!({"type": "FeatureCollection", "features": [],
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}});
        assert!(matches!(
            parse_zones(&root.to_string()),
            Err(GeoError::CrsMember { at }) if at == "feature collection"
        ));
        let mut f = feature(json!("a"), props(), square_ccw());
        f["crs"] = json!(null);
        root = json!({"type": "FeatureCollection", "features": [f]});
        assert_eq!(
            err(parse_zones(&root.to_string())),
            "feature \"a\": \"crs\" member is not allowed (RFC 7946 removed it; coordinates are always WGS 84 longitude, latitude): remove it"
        );
        let mut g = square_ccw();
        g["crs"] = json!({});
        assert!(matches!(
            one(g),
            Err(GeoError::CrsMember { at }) if at == "feature \"z\": geometry"
        ));
    }

    #[test]
    fn rejects_missing_malformed_and_duplicate_ids() {
        let no_id = json!({"type": "Feature", "properties": props(), "geometry": square_ccw()});
        assert_eq!(
            err(parse_zones(&collection(vec![no_id]))),
            "feature [0]: \"id\" is missing: give every feature a string id matching ^[a-z0-9][a-z0-9-]{0,62}$, unique within its layer"
        );
        assert_eq!(
            err(parse_zones(&collection(vec![feature(
                json!(7),
                props(),
                square_ccw()
            )]))),
            "feature [0]: \"id\" is 7, expected a string matching ^[a-z0-9][a-z0-9-]{0,62}$"
        );
        for bad in ["", "-a", "Line-A", "a_b", "a b", &"a".repeat(64)] {
            let e = parse_zones(&collection(vec![feature(
                json!(bad),
                props(),
                square_ccw(),
            )]));
            assert!(matches!(e, Err(GeoError::Id { .. })), "{bad:?} accepted");
        }
        assert!(
            parse_zones(&collection(vec![feature(
                json!("a".repeat(63)),
                props(),
                square_ccw()
            )]))
            .is_ok()
        );
        let text = collection(vec![
            feature(json!("a"), props(), square_ccw()),
            feature(json!("b"), props(), square_ccw()),
            feature(json!("a"), props(), square_cw()),
        ]);
        assert_eq!(
            err(parse_zones(&text)),
            "feature [2] \"a\": duplicate id in layer \"agreement\", already used by feature [0]; an id may repeat only in a different layer"
        );
    }

    fn in_layer(layer: &str) -> Value {
        json!({"name": "Zone", "approximate": true, "layer": layer,
            "source": "synthetic test fixture: a made-up competing interpretation, not a real claim"})
    }

    #[test]
    fn one_id_may_have_one_geometry_per_layer() {
        // The agreed zone and a synthetic second interpretation of it, a different square.
        let claimed = json!({"type": "Polygon", "coordinates": [[[35.0, 33.0], [35.2, 33.0], [35.2, 33.2], [35.0, 33.2], [35.0, 33.0]]]});
        let text = collection(vec![
            feature(json!("a"), props(), square_ccw()),
            feature(json!("a"), in_layer("synthetic-claim"), claimed),
            feature(json!("b"), in_layer("synthetic-claim"), square_cw()),
        ]);
        let zones = parse_zones(&text).expect("same id in two layers is accepted");
        let pairs: Vec<(&str, &str)> = zones
            .iter()
            .map(|z| (z.id.as_str(), z.layer.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("a", DEFAULT_LAYER),
                ("a", "synthetic-claim"),
                ("b", "synthetic-claim")
            ]
        );
        assert_ne!(zones[0].geometry, zones[1].geometry);
    }

    #[test]
    fn a_pair_repeated_in_a_named_layer_is_refused() {
        let text = collection(vec![
            feature(json!("a"), in_layer("synthetic-claim"), square_ccw()),
            feature(json!("a"), props(), square_ccw()),
            feature(json!("a"), in_layer("synthetic-claim"), square_cw()),
        ]);
        assert_eq!(
            err(parse_zones(&text)),
            "feature [2] \"a\": duplicate id in layer \"synthetic-claim\", already used by feature [0]; an id may repeat only in a different layer"
        );
        // The explicit default layer is the same layer as no layer.
        let text = collection(vec![
            feature(json!("a"), props(), square_ccw()),
            feature(json!("a"), in_layer(DEFAULT_LAYER), square_cw()),
        ]);
        assert_eq!(
            err(parse_zones(&text)),
            "feature [1] \"a\": duplicate id in layer \"agreement\", already used by feature [0]; an id may repeat only in a different layer"
        );
    }

    #[test]
    fn rejects_missing_or_ill_typed_properties() {
        let case = |p: Value| {
            err(parse_zones(&collection(vec![feature(
                json!("z"),
                p,
                square_ccw(),
            )])))
        };
        assert_eq!(
            case(json!(null)),
            "feature \"z\": \"properties\" is null, expected an object with name, approximate and source"
        );
        assert_eq!(
            case(json!({"approximate": true, "source": "s"})),
            "feature \"z\": property \"name\" is missing, expected a non-empty string"
        );
        assert_eq!(
            case(json!({"name": " ", "approximate": true, "source": "s"})),
            "feature \"z\": property \"name\" is \" \", expected a non-empty string"
        );
        assert_eq!(
            case(json!({"name": "n", "source": "s"})),
            "feature \"z\": property \"approximate\" is missing, expected true or false"
        );
        assert_eq!(
            case(json!({"name": "n", "approximate": "yes", "source": "s"})),
            "feature \"z\": property \"approximate\" is \"yes\", expected true or false"
        );
        assert_eq!(
            case(json!({"name": "n", "approximate": false})),
            "feature \"z\": property \"source\" is missing, expected a non-empty string"
        );
        assert_eq!(
            case(json!({"name": "n", "approximate": false, "source": 3})),
            "feature \"z\": property \"source\" is 3, expected a non-empty string"
        );
        assert_eq!(
            case(json!({"name": "n", "approximate": false, "source": "s", "layer": ""})),
            "feature \"z\": property \"layer\" is \"\", expected a non-empty string (or leave it out for \"agreement\")"
        );
    }

    #[test]
    fn rejects_missing_and_unsupported_geometries() {
        assert_eq!(
            err(one(json!(null))),
            "feature \"z\": \"geometry\" is null, expected a Polygon, MultiPolygon, LineString or MultiLineString object"
        );
        for kind in ["Point", "MultiPoint", "GeometryCollection", "polygon"] {
            let e = one(json!({"type": kind, "coordinates": [35.0, 33.0]}));
            assert_eq!(
                err(e),
                format!(
                    "feature \"z\": geometry: unsupported geometry type \"{kind}\"; use Polygon, MultiPolygon, LineString or MultiLineString"
                )
            );
        }
        assert!(matches!(
            one(json!({"coordinates": []})),
            Err(GeoError::UnsupportedGeometry { .. })
        ));
        assert_eq!(
            err(one(json!({"type": "Polygon"}))),
            "feature \"z\": geometry.coordinates: is missing, expected an array"
        );
        assert_eq!(
            err(one(json!({"type": "MultiPolygon", "coordinates": []}))),
            "feature \"z\": geometry.coordinates: multipolygon is empty; give at least one polygon"
        );
    }

    #[test]
    fn rejects_bad_positions() {
        let line = |c: Value| one(json!({"type": "LineString", "coordinates": c}));
        assert_eq!(
            err(line(json!([[35.0, 33.0], [35.0]]))),
            "feature \"z\": geometry.coordinates[1]: position has 1 element, expected [longitude, latitude]"
        );
        assert_eq!(
            err(line(json!([[35.0, 33.0], []]))),
            "feature \"z\": geometry.coordinates[1]: position has 0 elements, expected [longitude, latitude]"
        );
        assert_eq!(
            err(line(json!([[35.0, 33.0], [35.0, "33"]]))),
            "feature \"z\": geometry.coordinates[1]: position element [1] is \"33\", expected a number"
        );
        assert_eq!(
            err(line(json!([[35.0, 33.0], 35.0]))),
            "feature \"z\": geometry.coordinates[1]: is 35.0, expected a position [longitude, latitude]"
        );
        assert_eq!(
            err(line(json!([[180.5, 33.0], [35.0, 33.0]]))),
            "feature \"z\": geometry.coordinates[0]: longitude 180.5 is outside [-180, 180]; positions are [longitude, latitude]"
        );
        // Swapped axes are a common mistake: latitude 95 is reported with its position.
        let e = one(
            json!({"type": "Polygon", "coordinates": [[[33.0, 35.0], [33.0, 36.0], [34.0, 95.0], [33.0, 35.0]]]}),
        );
        assert_eq!(
            err(e),
            "feature \"z\": geometry.coordinates[0][2]: latitude 95 is outside [-90, 90]; positions are [longitude, latitude]"
        );
        let e = one(
            json!({"type": "MultiPolygon", "coordinates": [[[[35.0, 33.0], [35.1, 33.0], [35.1, 33.1], [35.0, 33.0]]], [[[35.0, 34.0], [35.1, 34.0], [35.1, -91.0], [35.0, 34.0]]]]}),
        );
        assert_eq!(
            err(e),
            "feature \"z\": geometry.coordinates[1][0][2]: latitude -91 is outside [-90, 90]; positions are [longitude, latitude]"
        );
    }

    #[test]
    fn rejects_non_finite_coordinates() {
        // JSON has no NaN or infinity; an overflowing literal is refused by the JSON reader...
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"z","properties":{"name":"n","approximate":true,"source":"s"},"geometry":{"type":"LineString","coordinates":[[1e400,33.0],[35.0,33.0]]}}]}"#;
        assert!(matches!(parse_zones(text), Err(GeoError::Json(_))));
        // ...and the position check refuses non-finite values however they arrive.
        assert_eq!(
            check_lon_lat(f64::INFINITY, 33.0),
            Err("longitude is not a finite number".to_string())
        );
        assert_eq!(
            check_lon_lat(35.0, f64::NAN),
            Err("latitude is not a finite number".to_string())
        );
    }

    #[test]
    fn rejects_short_line_strings() {
        assert_eq!(
            err(one(
                json!({"type": "LineString", "coordinates": [[35.0, 33.0]]})
            )),
            "feature \"z\": geometry.coordinates: line string has 1 position, needs at least 2"
        );
        assert_eq!(
            err(one(
                json!({"type": "MultiLineString", "coordinates": [[[35.0, 33.0], [35.1, 33.0]], []]})
            )),
            "feature \"z\": geometry.coordinates[1]: line string has 0 positions, needs at least 2"
        );
        // Two positions that are the same point: geo's validation explains.
        assert_eq!(
            err(one(
                json!({"type": "LineString", "coordinates": [[35.0, 33.0], [35.0, 33.0]]})
            )),
            "feature \"z\": geometry: invalid linestring: line string must have at least 2 distinct points"
        );
    }

    #[test]
    fn rejects_open_and_short_rings() {
        let e = one(
            json!({"type": "Polygon", "coordinates": [[[35.0, 33.0], [35.1, 33.0], [35.1, 33.1], [35.0, 33.1]]]}),
        );
        assert_eq!(
            err(e),
            "feature \"z\": geometry.coordinates[0]: ring is not closed: last position [35, 33.1] differs from first [35, 33]; repeat the first position at the end"
        );
        let e = one(
            json!({"type": "Polygon", "coordinates": [[[35.0, 33.0], [35.1, 33.0], [35.0, 33.0]]]}),
        );
        assert_eq!(
            err(e),
            "feature \"z\": geometry.coordinates[0]: ring has 3 positions, needs at least 4 (3 distinct, then the first repeated)"
        );
        let e = one(json!({"type": "Polygon", "coordinates": []}));
        assert_eq!(
            err(e),
            "feature \"z\": geometry.coordinates: polygon is empty; give at least one ring"
        );
        let e = one(json!({"type": "Polygon", "coordinates": [
            [[35.0, 33.0], [35.1, 33.0], [35.1, 33.1], [35.0, 33.1], [35.0, 33.0]],
            [[35.02, 33.02], [35.02, 33.05], [35.05, 33.05]]]}));
        assert_eq!(
            err(e),
            "feature \"z\": geometry.coordinates[1]: ring has 3 positions, needs at least 4 (3 distinct, then the first repeated)"
        );
    }

    #[test]
    fn rejects_invalid_polygons_saying_where() {
        // A bow tie.
        let e = one(
            json!({"type": "Polygon", "coordinates": [[[35.0, 33.0], [35.1, 33.1], [35.1, 33.0], [35.0, 33.1], [35.0, 33.0]]]}),
        );
        assert_eq!(
            err(e),
            "feature \"z\": geometry: invalid polygon: exterior ring has a self-intersection near [35.05, 33.05]: the edge from coordinates[0][0] to coordinates[0][1] crosses the edge from coordinates[0][2] to coordinates[0][3]"
        );
        // A hole outside its shell.
        let e = one(json!({"type": "Polygon", "coordinates": [
            [[35.0, 33.0], [35.1, 33.0], [35.1, 33.1], [35.0, 33.1], [35.0, 33.0]],
            [[36.0, 33.0], [36.0, 33.05], [36.05, 33.05], [36.0, 33.0]]]}));
        assert_eq!(
            err(e),
            "feature \"z\": geometry: invalid polygon: interior ring at index 0 is not contained within the polygon's exterior"
        );
        // A ring of 4 positions with only 2 distinct points.
        let e = one(
            json!({"type": "Polygon", "coordinates": [[[35.0, 33.0], [35.1, 33.0], [35.1, 33.0], [35.0, 33.0]]]}),
        );
        assert_eq!(
            err(e),
            "feature \"z\": geometry: invalid polygon: exterior ring must have at least 3 distinct points"
        );
        // Overlapping parts of a multipolygon.
        let e = one(json!({"type": "MultiPolygon", "coordinates": [
            [[[35.0, 33.0], [35.1, 33.0], [35.1, 33.1], [35.0, 33.1], [35.0, 33.0]]],
            [[[35.05, 33.05], [35.15, 33.05], [35.15, 33.15], [35.05, 33.15], [35.05, 33.05]]]]}));
        assert_eq!(
            err(e),
            "feature \"z\": geometry: invalid multipolygon: polygons at indices 0 and 1 overlap: their boundaries cross near [35.05, 33.1]"
        );
    }

    #[test]
    fn refuses_edges_across_the_antimeridian() {
        // A box around the 180th meridian at Fiji, written as if it wrapped: read as RFC 7946
        // reads it, its bottom and top edges run 358° round the world.
        let fiji = json!({"type": "Polygon", "coordinates": [[[179.0, -17.0], [-179.0, -17.0], [-179.0, -16.0], [179.0, -16.0], [179.0, -17.0]]]});
        assert_eq!(
            err(one(fiji.clone())),
            "feature \"z\": geometry.coordinates[0][0]: the edge from here to the next position spans 358° of longitude (179 to -179): edges are straight in longitude/latitude, so it would run the long way round the Earth; cut the geometry at the antimeridian into parts on either side (RFC 7946 §3.1.9)"
        );
        assert!(matches!(
            parse_geometry(&fiji),
            Err(GeoError::Coordinates { at, .. }) if at == "geometry.coordinates[0][0]"
        ));
        let line = json!({"type": "MultiLineString", "coordinates": [[[170.0, 0.0], [175.0, 0.0]], [[179.5, 1.0], [-179.5, 1.0]]]});
        assert!(matches!(
            parse_geometry(&line),
            Err(GeoError::Coordinates { at, .. }) if at == "geometry.coordinates[1][0]"
        ));
        // Cut there, the same box is two polygons and is accepted.
        let cut = json!({"type": "MultiPolygon", "coordinates": [
            [[[179.0, -17.0], [180.0, -17.0], [180.0, -16.0], [179.0, -16.0], [179.0, -17.0]]],
            [[[-180.0, -17.0], [-179.0, -17.0], [-179.0, -16.0], [-180.0, -16.0], [-180.0, -17.0]]]]});
        assert!(one(cut).is_ok());
        // Half the world in one edge is drawn as given, not wrapped: accepted.
        let half = json!({"type": "LineString", "coordinates": [[-90.0, 10.0], [90.0, 10.0]]});
        assert!(one(half).is_ok());
    }

    #[test]
    fn refuses_polygons_enclosing_less_than_a_square_metre() {
        // A triangle 93 m long and about a millimetre high.
        let sliver = json!({"type": "Polygon", "coordinates": [[[35.0, 33.0], [35.001, 33.0], [35.0005, 33.00000001], [35.0, 33.0]]]});
        assert_eq!(
            err(one(sliver.clone())),
            "feature \"z\": geometry: invalid polygon: it encloses 0.052 m², less than the 1 m² a polygon must enclose: a sliver that small is a mistake, not an area"
        );
        assert!(matches!(
            parse_geometry(&sliver),
            Err(GeoError::InvalidGeometry {
                kind: "polygon",
                ..
            })
        ));
        // Three points on one line enclose nothing at all.
        let flat = json!({"type": "Polygon", "coordinates": [[[35.0, 33.0], [35.1, 33.1], [35.2, 33.2], [35.0, 33.0]]]});
        assert_eq!(
            err(one(flat)),
            "feature \"z\": geometry: invalid polygon: exterior ring has no area: its 3 distinct points are on one line"
        );
        // A member of a multipolygon is judged on its own.
        let multi = json!({"type": "MultiPolygon", "coordinates": [
            [[[35.0, 33.0], [35.1, 33.0], [35.1, 33.1], [35.0, 33.1], [35.0, 33.0]]],
            [[[36.0, 33.0], [36.001, 33.0], [36.0005, 33.00000001], [36.0, 33.0]]]]});
        assert_eq!(
            err(one(multi)),
            "feature \"z\": geometry: invalid multipolygon: polygon 1 encloses 0.052 m², less than the 1 m² a polygon must enclose: a sliver that small is a mistake, not an area"
        );
        // A 2 m square (4 m²) is an area.
        let small = json!({"type": "Polygon", "coordinates": [[[35.0, 33.0], [35.00002, 33.0], [35.00002, 33.00002], [35.0, 33.00002], [35.0, 33.0]]]});
        assert!(one(small).is_ok());
    }

    #[test]
    fn id_pattern() {
        assert!(is_valid_id("aol-west-0-10"));
        assert!(is_valid_id("0"));
        assert!(!is_valid_id("é"));
    }

    #[test]
    fn a_multipolygon_with_a_degenerate_member_is_refused_not_a_panic() {
        // Found by fuzzing: geo's multipolygon relate panics on this without the member check.
        let v: serde_json::Value = serde_json::from_str(
            r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[2,1],[3,3],[0,0]]],[[[0,0],[1,1],[2,2],[0,0]],[[1,1],[4,2],[0,2],[1,1]]]]}"#,
        )
        .unwrap();
        let err = crate::parse_geometry(&v).unwrap_err().to_string();
        assert!(err.contains("multipolygon"), "{err}");
    }
    /// A ring of `n` vertices (closing repeat included) on a circle of radius `r` degrees.
    fn circle(n: usize, lon: f64, lat: f64, r: f64) -> Vec<[f64; 2]> {
        let mut ring: Vec<[f64; 2]> = (0..n - 1)
            .map(|k| {
                let a = std::f64::consts::TAU * k as f64 / (n - 1) as f64;
                [lon + r * a.cos(), lat + r * a.sin()]
            })
            .collect();
        ring.push(ring[0]);
        ring
    }

    /// A comb of `n` vertices whose teeth, 1° long, all overlap in longitude: the shape that
    /// makes a bounding-box or x-overlap filter test every pair.
    fn comb(n: usize, lon: f64, lat: f64) -> Vec<[f64; 2]> {
        let teeth = (n - 1) / 4;
        let step = 1e-4;
        let y = |k: usize| lat + step * k as f64;
        let mut ring = vec![[lon, lat]];
        for i in 0..teeth {
            ring.push([lon + 1.0, y(2 * i)]);
            ring.push([lon + 1.0, y(2 * i + 1)]);
            if i + 1 < teeth {
                ring.push([lon + 0.01, y(2 * i + 1)]);
                ring.push([lon + 0.01, y(2 * i + 2)]);
            }
        }
        // Down the back, with as many vertices as make up `n`.
        let (top, extra) = (y(2 * teeth - 1), n - (4 * teeth + 1));
        ring.push([lon, top]);
        for k in 1..=extra {
            ring.push([lon, top - (top - lat) * k as f64 / (extra + 1) as f64]);
        }
        ring.push([lon, lat]);
        assert_eq!(ring.len(), n);
        ring
    }

    fn polygon_zone(id: &str, ring: Vec<[f64; 2]>) -> Value {
        feature(
            json!(id),
            props(),
            json!({"type": "Polygon", "coordinates": [ring]}),
        )
    }

    /// Checks `text`, returning the result, the sweep's tree comparisons and the time taken.
    fn measured(text: &str) -> (Result<Vec<Zone>, GeoError>, u64, std::time::Duration) {
        let before = crate::validity::COMPARISONS.with(|c| c.get());
        let t = std::time::Instant::now();
        let r = parse_zones(text);
        let elapsed = t.elapsed();
        let comparisons = crate::validity::COMPARISONS.with(|c| c.get()) - before;
        (r, comparisons, elapsed)
    }

    #[test]
    fn large_geometry_stalls_the_sequencer_regression() {
        // The defect: one 850,000-vertex polygon in an amendment held the sequencer for 911 s
        // (100,000 vertices: 30 s), because the self-intersection check compared every edge
        // with every other.

        // Far beyond the limits: refused after counting positions, before any geometry check.
        let huge = collection(vec![polygon_zone("huge", circle(850_000, 36.0, 33.0, 0.5))]);
        let (r, comparisons, _) = measured(&huge);
        assert_eq!(
            err(r),
            "feature collection: 850000 vertices (GeoJSON positions); at most 250000 are allowed in all the zones of one document: simplify the geometry"
        );
        assert_eq!(comparisons, 0, "no geometry was checked");
        let text = collection(vec![polygon_zone("big", circle(100_000, 36.0, 33.0, 0.5))]);
        assert_eq!(
            err(parse_zones(&text)),
            "feature \"big\": geometry: 100000 vertices (GeoJSON positions); at most 50000 are allowed in one geometry: simplify the geometry"
        );

        // The check itself, on the 100,000 vertices of a comb: every edge of its teeth overlaps
        // every other in longitude, so a pairwise check (or a bounding-box or x-overlap filter)
        // would make 1.25e9 edge tests; the sweep makes O(n log n) comparisons.
        let n = 100_000;
        let ring: Vec<(f64, f64)> = comb(n, 36.0, 0.0).iter().map(|c| (c[0], c[1])).collect();
        let g = Geometry::Polygon(Polygon::new(LineString::from(ring), vec![]));
        let before = crate::validity::COMPARISONS.with(|c| c.get());
        assert_eq!(check_validity(&g, "comb"), Ok(()));
        let comparisons = crate::validity::COMPARISONS.with(|c| c.get()) - before;
        let n_log_n = |n: usize| n as f64 * (n as f64).log2();
        assert!(
            (comparisons as f64) < 20.0 * n_log_n(n),
            "{comparisons} comparisons for {n} vertices"
        );

        // At the limits: five zones of 50,000 vertices, two of them combs, are accepted.
        let zones = |first: Vec<[f64; 2]>| {
            collection(vec![
                polygon_zone("comb-a", first),
                polygon_zone("comb-b", comb(MAX_ZONE_VERTICES, 38.0, 0.0)),
                polygon_zone("circle-a", circle(MAX_ZONE_VERTICES, 30.0, 0.0, 0.5)),
                polygon_zone("circle-b", circle(MAX_ZONE_VERTICES, 32.0, 0.0, 0.5)),
                polygon_zone("circle-c", circle(MAX_ZONE_VERTICES, 34.0, 0.0, 0.5)),
            ])
        };
        let n = 5 * MAX_ZONE_VERTICES;
        assert_eq!(n, MAX_ZONES_DOCUMENT_VERTICES);
        let (r, comparisons, elapsed) = measured(&zones(comb(MAX_ZONE_VERTICES, 36.0, 0.0)));
        assert_eq!(r.map(|z| z.len()), Ok(5));
        assert!(
            (comparisons as f64) < 20.0 * n_log_n(n),
            "{comparisons} comparisons for {n} vertices"
        );
        // Generous: unoptimised and on a shared machine (optimised, it takes about 0.7 s).
        assert!(elapsed.as_secs() < 60, "{elapsed:?}");

        // The first comb with its last tooth bent back across the one below: refused, saying
        // where.
        let mut bent = comb(MAX_ZONE_VERTICES, 36.0, 0.0);
        let tip = 4 * ((MAX_ZONE_VERTICES - 1) / 4) - 2;
        bent[tip][1] -= 3e-4;
        assert_eq!(
            err(parse_zones(&zones(bent))),
            "feature \"comb-a\": geometry: invalid polygon: exterior ring has a self-intersection near [36.3333333, 2.4996]: the edge from coordinates[0][49992] to coordinates[0][49993] crosses the edge from coordinates[0][49994] to coordinates[0][49995]"
        );
    }
}
