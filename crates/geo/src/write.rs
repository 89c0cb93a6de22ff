//! A deterministic GeoJSON writer: same input, same bytes.
//!
//! Keys come out in a fixed order (`type`, `id`, `properties`, `geometry`; properties in the
//! order given), one feature per line, coordinates rounded to 6 decimals (about 0.1 m) and
//! printed without trailing zeros. Polygons are written with RFC 7946's right-hand rule
//! (exterior rings counterclockwise, holes clockwise) after rounding and after removing
//! positions that rounding made repeat. Nothing depends on serde_json's map ordering.

use geo::orient::{Direction, Orient};
use geo::{Coord, Geometry, LineString, MultiPolygon, Polygon};
use serde_json::Value;

use crate::GeoError;

/// Decimal places written for coordinates.
pub const DECIMALS: i32 = 6;

/// One feature to write.
#[derive(Debug, Clone, PartialEq)]
pub struct OutFeature {
    /// The feature id, if any.
    pub id: Option<String>,
    /// Properties in output order. Values must not contain JSON objects (their key order would
    /// depend on serde_json's features).
    pub properties: Vec<(String, Value)>,
    /// A Point, LineString, MultiLineString, Polygon or MultiPolygon in lon/lat.
    pub geometry: Geometry<f64>,
}

/// Rounds to [`DECIMALS`] decimals.
pub fn round(v: f64) -> f64 {
    let scale = 10f64.powi(DECIMALS);
    let r = (v * scale).round() / scale;
    if r == 0.0 { 0.0 } else { r }
}

fn round_coord(c: Coord<f64>) -> Coord<f64> {
    Coord {
        x: round(c.x),
        y: round(c.y),
    }
}

fn round_line(ls: &LineString<f64>) -> LineString<f64> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(ls.0.len());
    for c in &ls.0 {
        let c = round_coord(*c);
        if out.last() != Some(&c) {
            out.push(c);
        }
    }
    LineString::new(out)
}

/// Rounds a polygon's rings, drops repeats and rings that collapse (fewer than 4 positions),
/// and orients it by the right-hand rule. `None` if the exterior collapses.
pub fn round_polygon(p: &Polygon<f64>) -> Option<Polygon<f64>> {
    let exterior = round_line(p.exterior());
    if exterior.0.len() < 4 {
        return None;
    }
    let interiors = p
        .interiors()
        .iter()
        .map(round_line)
        .filter(|r| r.0.len() >= 4)
        .collect();
    Some(Polygon::new(exterior, interiors).orient(Direction::Default))
}

/// Rounds a multipolygon as [`round_polygon`] does each part.
pub fn round_multi_polygon(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    MultiPolygon::new(mp.0.iter().filter_map(round_polygon).collect())
}

fn number(v: f64, out: &mut String) {
    let s = format!("{:.*}", DECIMALS as usize, round(v));
    let s = s.trim_end_matches('0').trim_end_matches('.');
    out.push_str(if s == "-0" { "0" } else { s });
}

fn position(c: Coord<f64>, out: &mut String) {
    out.push('[');
    number(c.x, out);
    out.push(',');
    number(c.y, out);
    out.push(']');
}

fn positions(ls: &LineString<f64>, out: &mut String) {
    out.push('[');
    for (i, c) in ls.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        position(*c, out);
    }
    out.push(']');
}

fn rings(p: &Polygon<f64>, out: &mut String) {
    out.push('[');
    positions(p.exterior(), out);
    for r in p.interiors() {
        out.push(',');
        positions(r, out);
    }
    out.push(']');
}

fn list<T>(items: &[T], out: &mut String, each: impl Fn(&T, &mut String)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(item, out);
    }
    out.push(']');
}

fn geometry(g: &Geometry<f64>, at: &str, out: &mut String) -> Result<(), GeoError> {
    let empty = || GeoError::Construction {
        what: at.to_string(),
        problem: "geometry is empty after rounding to 6 decimals".into(),
    };
    match g {
        Geometry::Point(p) => {
            out.push_str(r#"{"type":"Point","coordinates":"#);
            position(round_coord(p.0), out);
        }
        Geometry::LineString(ls) => {
            let ls = round_line(ls);
            if ls.0.len() < 2 {
                return Err(empty());
            }
            out.push_str(r#"{"type":"LineString","coordinates":"#);
            positions(&ls, out);
        }
        Geometry::MultiLineString(mls) => {
            let lines: Vec<LineString<f64>> = mls
                .0
                .iter()
                .map(round_line)
                .filter(|l| l.0.len() >= 2)
                .collect();
            if lines.is_empty() {
                return Err(empty());
            }
            out.push_str(r#"{"type":"MultiLineString","coordinates":"#);
            list(&lines, out, positions);
        }
        Geometry::Polygon(p) => {
            let p = round_polygon(p).ok_or_else(empty)?;
            out.push_str(r#"{"type":"Polygon","coordinates":"#);
            rings(&p, out);
        }
        Geometry::MultiPolygon(mp) => {
            let mp = round_multi_polygon(mp);
            if mp.0.is_empty() {
                return Err(empty());
            }
            // A single part is written as a Polygon.
            if let [p] = &mp.0[..] {
                out.push_str(r#"{"type":"Polygon","coordinates":"#);
                rings(p, out);
            } else {
                out.push_str(r#"{"type":"MultiPolygon","coordinates":"#);
                list(&mp.0, out, rings);
            }
        }
        _ => {
            return Err(GeoError::Construction {
                what: at.to_string(),
                problem: "only Point, LineString, MultiLineString, Polygon and MultiPolygon can be written".into(),
            });
        }
    }
    out.push('}');
    Ok(())
}

fn json(v: &Value, at: &str, out: &mut String) -> Result<(), GeoError> {
    let nested_object = match v {
        Value::Object(_) => true,
        Value::Array(a) => a
            .iter()
            .any(|x| matches!(x, Value::Object(_) | Value::Array(_))),
        _ => false,
    };
    if nested_object {
        return Err(GeoError::Construction {
            what: at.to_string(),
            problem: "property values must be scalars or arrays of scalars".into(),
        });
    }
    // Scalars and flat arrays serialise the same way whatever serde_json's features.
    out.push_str(&v.to_string());
    Ok(())
}

/// Writes a FeatureCollection, one feature per line, ending with a newline.
pub fn feature_collection(features: &[OutFeature]) -> Result<String, GeoError> {
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, f) in features.iter().enumerate() {
        let at = match &f.id {
            Some(id) => format!("feature {id:?}"),
            None => format!("feature [{i}]"),
        };
        out.push_str("{\"type\":\"Feature\"");
        if let Some(id) = &f.id {
            out.push_str(",\"id\":");
            out.push_str(&Value::String(id.clone()).to_string());
        }
        out.push_str(",\"properties\":{");
        for (k, (name, value)) in f.properties.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            out.push_str(&Value::String(name.clone()).to_string());
            out.push(':');
            json(value, &at, &mut out)?;
        }
        out.push_str("},\"geometry\":");
        geometry(&f.geometry, &at, &mut out)?;
        out.push('}');
        if i + 1 < features.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str("]}\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Point, Winding};
    use serde_json::json;

    #[test]
    fn numbers_are_rounded_and_trimmed() {
        let mut s = String::new();
        for v in [35.8210998940001, 33.0, -0.0000001, 0.12345651, -12.5] {
            number(v, &mut s);
            s.push(' ');
        }
        assert_eq!(s, "35.8211 33 0 0.123457 -12.5 ");
    }

    #[test]
    fn writes_fixed_layout_and_right_hand_rule() {
        // Clockwise input exterior.
        let cw = Polygon::new(
            LineString::from(vec![
                (35.0, 33.0),
                (35.0, 33.1),
                (35.1, 33.1),
                (35.1, 33.0),
                (35.0, 33.0),
            ]),
            vec![],
        );
        let text = feature_collection(&[
            OutFeature {
                id: Some("z".into()),
                properties: vec![
                    ("name".into(), json!("Zone")),
                    ("approximate".into(), json!(true)),
                    ("alt".into(), json!(["a", "b"])),
                ],
                geometry: Geometry::Polygon(cw),
            },
            OutFeature {
                id: None,
                properties: vec![("n".into(), json!(null))],
                geometry: Geometry::Point(Point::new(35.12345678, 33.0)),
            },
        ])
        .expect("writable");
        assert_eq!(
            text,
            "{\"type\":\"FeatureCollection\",\"features\":[\n\
             {\"type\":\"Feature\",\"id\":\"z\",\"properties\":{\"name\":\"Zone\",\"approximate\":true,\"alt\":[\"a\",\"b\"]},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[35,33],[35.1,33],[35.1,33.1],[35,33.1],[35,33]]]}},\n\
             {\"type\":\"Feature\",\"properties\":{\"n\":null},\"geometry\":{\"type\":\"Point\",\"coordinates\":[35.123457,33]}}\n\
             ]}\n"
        );
        let zones = crate::parse_zones(&text.replace(",\n{\"type\":\"Feature\",\"properties\":{\"n\":null},\"geometry\":{\"type\":\"Point\",\"coordinates\":[35.123457,33]}}", "")
            .replace("\"approximate\":true", "\"approximate\":true,\"source\":\"s\""))
            .expect("parses");
        let Geometry::Polygon(p) = &zones[0].geometry else {
            panic!("polygon")
        };
        assert!(p.exterior().is_ccw());
    }

    #[test]
    fn rounding_drops_repeats_and_collapsed_rings() {
        let p = Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (1.0, 0.0),
                (1.0000000001, 0.0),
                (1.0, 1.0),
                (0.0, 0.0),
            ]),
            vec![LineString::from(vec![
                (0.5, 0.5),
                (0.5000000001, 0.5),
                (0.5, 0.5000000001),
                (0.5, 0.5),
            ])],
        );
        let r = round_polygon(&p).expect("exterior survives");
        assert_eq!(r.exterior().0.len(), 4);
        assert!(r.interiors().is_empty());
    }

    #[test]
    fn refuses_nested_objects_and_empty_geometry() {
        let f = |properties: Vec<(String, Value)>, geometry| OutFeature {
            id: None,
            properties,
            geometry,
        };
        let point = Geometry::Point(Point::new(0.0, 0.0));
        assert!(
            feature_collection(&[f(vec![("o".into(), json!({"a": 1}))], point.clone())]).is_err()
        );
        assert!(feature_collection(&[f(vec![("o".into(), json!([{"a": 1}]))], point)]).is_err());
        let tiny = Geometry::LineString(LineString::from(vec![(0.0, 0.0), (1e-9, 0.0)]));
        assert!(feature_collection(&[f(vec![], tiny)]).is_err());
    }
}
