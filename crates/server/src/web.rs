//! The dashboard: a single-page web app built from `web/` (see `docs/dashboard.md`), embedded
//! in the binary so that `truce serve` needs no CDN, no tile server and no npm on the machine,
//! and a read endpoint shaped for it: every event as columns (`/v1/map`).

use crate::problem::Problem;
use crate::service::LogService;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use truce_engine::state::Subject;

/// The built bundle (`npm run build` in `web/`), committed so a clean clone builds without npm.
const INDEX_HTML: &[u8] = include_bytes!("../../../web/dist/index.html");
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/dist/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/dist/app.css"),
    ),
    (
        "basemap.json",
        "application/geo+json",
        include_bytes!("../../../web/dist/basemap.json"),
    ),
];

/// Content-Security-Policy of the dashboard: only this origin, no inline script, no framing.
/// `style-src 'unsafe-inline'` is needed by Leaflet, which positions map panes with inline
/// style attributes; scripts stay strictly same-origin.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn routes() -> Router<LogService> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(asset))
        .route("/v1/map", get(map))
}

fn with_security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

fn static_response(body: &'static [u8], content_type: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    with_security_headers(res)
}

async fn index() -> Response {
    static_response(INDEX_HTML, "text/html; charset=utf-8")
}

async fn asset(Path(name): Path<String>) -> Result<Response, Problem> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, ct, body)| static_response(body, ct))
        .ok_or_else(|| Problem::not_found("no such dashboard asset"))
}

/// Interns strings into a table, so that columns hold small integers.
#[derive(Default)]
struct Table(Vec<String>, BTreeMap<String, usize>);

impl Table {
    fn id(&mut self, s: &str) -> usize {
        if let Some(&i) = self.1.get(s) {
            return i;
        }
        self.0.push(s.to_owned());
        self.1.insert(s.to_owned(), self.0.len() - 1);
        self.0.len() - 1
    }
}

/// Every current (not merged) event as columns, and every standing finding on an event as a
/// row pointing into them: compact enough that a browser can hold 100,000 events.
async fn map(State(s): State<LogService>) -> Result<Response, Problem> {
    let body = crate::api::state::read(&s, |e| {
        let st = e.state();
        let (mut parties, mut types, mut zones) =
            (Table::default(), Table::default(), Table::default());
        let mut cols: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        let mut row_of: BTreeMap<&str, usize> = BTreeMap::new();
        for ev in st.events.values().filter(|ev| ev.merged_into.is_none()) {
            row_of.insert(ev.id.as_str(), row_of.len());
            let push = |cols: &mut BTreeMap<&str, Vec<Value>>, k: &'static str, v: Value| {
                cols.entry(k).or_default().push(v);
            };
            push(&mut cols, "id", ev.id.clone().into());
            push(&mut cols, "lon", ev.point[0].into());
            push(&mut cols, "lat", ev.point[1].into());
            push(&mut cols, "start", ev.start.as_second().into());
            push(&mut cols, "end", ev.end.as_second().into());
            push(&mut cols, "precision_m", ev.precision_m.into());
            let t = types.id(truce_model::ids::wire_name(&ev.event_type).as_str());
            push(&mut cols, "type", t.into());
            push(&mut cols, "perpetrator", parties.id(&ev.perpetrator).into());
            let reporters: Vec<usize> = ev.reporters.iter().map(|p| parties.id(p)).collect();
            push(&mut cols, "reporters", json!(reporters));
            let corroboration = truce_model::ids::wire_name(&ev.corroboration);
            push(&mut cols, "corroboration", corroboration.into());
            let hits: Vec<usize> = ev
                .zones
                .iter()
                .map(|h| zones.id(&format!("{}@{}", h.zone, h.layer)))
                .collect();
            push(&mut cols, "zones", json!(hits));
            push(&mut cols, "reports", ev.reports.len().into());
        }
        let findings: Vec<Value> = st
            .findings
            .values()
            .filter(|f| f.superseded.is_none())
            .map(|f| {
                let row = match &f.subject {
                    Subject::Event { event } => row_of.get(event.as_str()).copied(),
                    _ => None,
                };
                json!({
                    "id": f.id, "rule": f.rule, "status": f.status, "severity": f.severity,
                    "party": f.party, "layer": f.layer, "occurred": f.occurred.as_second(),
                    "event": row, "summary": f.summary,
                })
            })
            .collect();
        json!({
            "applied_size": st.size,
            "count": row_of.len(),
            "parties": parties.0,
            "types": types.0,
            "zones": zones.0,
            "columns": cols,
            "findings": findings,
        })
    })?;
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::ASSETS;
    use geo::line_intersection::{LineIntersection, line_intersection};
    use geo::{Area, Coord, LineString, MultiPolygon, Polygon, Validation};
    use serde_json::Value;

    fn ring(v: &Value, at: &str) -> LineString<f64> {
        let points = v.as_array().unwrap_or_else(|| panic!("{at}: not an array"));
        LineString::new(
            points
                .iter()
                .map(|p| match p.as_array().map(Vec::as_slice) {
                    Some([x, y]) => Coord {
                        x: x.as_f64()
                            .unwrap_or_else(|| panic!("{at}: x is not a number")),
                        y: y.as_f64()
                            .unwrap_or_else(|| panic!("{at}: y is not a number")),
                    },
                    _ => panic!("{at}: a position is not [x, y]: {p}"),
                })
                .collect(),
        )
    }

    /// Why a closed ring is not simple, if it is not: a repeated vertex, two consecutive edges
    /// that run back over each other (a spike), or two other edges that meet. geo's
    /// `Validation` is checked too, but it lets spikes through (it skips edges that share an
    /// endpoint), and spikes were one of the defects.
    fn not_simple(r: &LineString<f64>) -> Option<String> {
        let edges: Vec<_> = r.lines().collect();
        let n = edges.len();
        for (i, e) in edges.iter().enumerate() {
            if e.start == e.end {
                return Some(format!("vertex {i} repeats ({:?})", e.start));
            }
        }
        for i in 0..n {
            for j in i + 1..n {
                let shared = if j == i + 1 {
                    Some(edges[i].end)
                } else if i == 0 && j == n - 1 {
                    Some(edges[i].start)
                } else {
                    None
                };
                match (line_intersection(edges[i], edges[j]), shared) {
                    (None, _) => {}
                    (Some(LineIntersection::SinglePoint { intersection, .. }), Some(s))
                        if intersection == s => {}
                    (Some(x), _) => {
                        return Some(format!("edges {i} and {j} meet: {x:?}"));
                    }
                }
            }
        }
        None
    }

    #[test]
    fn ring_checks_catch_spikes_and_pinches() {
        let ring = |pts: &[(f64, f64)]| LineString::from(pts.to_vec());
        let square = [(0., 0.), (2., 0.), (2., 2.), (0., 2.), (0., 0.)];
        assert_eq!(not_simple(&ring(&square)), None);
        let spike = [
            (0., 0.),
            (2., 0.),
            (2., 2.),
            (2., 3.),
            (2., 2.),
            (0., 2.),
            (0., 0.),
        ];
        assert!(not_simple(&ring(&spike)).is_some(), "a spike");
        let repeat = [(0., 0.), (2., 0.), (2., 0.), (2., 2.), (0., 2.), (0., 0.)];
        assert!(not_simple(&ring(&repeat)).is_some(), "a repeated vertex");
        // A figure eight: the ring comes back to its vertex (1, 1).
        let pinch = [
            (0., 0.),
            (1., 1.),
            (2., 0.),
            (2., 2.),
            (1., 1.),
            (0., 2.),
            (0., 0.),
        ];
        assert!(not_simple(&ring(&pinch)).is_some(), "a pinch");
    }

    /// The embedded basemap is valid RFC 7946 GeoJSON: every exterior ring counterclockwise and
    /// every hole clockwise (by signed area), no ring touching or crossing itself, each feature a
    /// valid MultiPolygon. It was once built with world-atlas's clockwise winding kept and a
    /// ring-by-ring clip: every ring clockwise, and 4 of its 10 features self-intersecting.
    #[test]
    fn basemap_geojson_winding_regression() {
        let (_, _, bytes) = ASSETS
            .iter()
            .find(|(name, _, _)| *name == "basemap.json")
            .expect("basemap.json is embedded");
        let v: Value = serde_json::from_slice(bytes).expect("basemap.json is JSON");
        let features = v["features"].as_array().expect("a FeatureCollection");
        assert!(!features.is_empty(), "the basemap has no features");
        for f in features {
            let name = f["properties"]["name"].as_str().expect("a feature's name");
            assert_eq!(f["geometry"]["type"], "MultiPolygon", "{name}");
            let polys = f["geometry"]["coordinates"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: no coordinates"));
            assert!(!polys.is_empty(), "{name}: no polygons");
            let mut multi = Vec::new();
            for (pi, poly) in polys.iter().enumerate() {
                let rs: Vec<_> = poly
                    .as_array()
                    .unwrap_or_else(|| panic!("{name}, polygon {pi}: not an array of rings"))
                    .iter()
                    .enumerate()
                    .map(|(ri, r)| ring(r, &format!("{name}, polygon {pi}, ring {ri}")))
                    .collect();
                assert!(!rs.is_empty(), "{name}, polygon {pi}: no rings");
                for (ri, r) in rs.iter().enumerate() {
                    let at = format!("{name}, polygon {pi}, ring {ri}");
                    assert!(
                        r.0.len() >= 4 && r.0.first() == r.0.last(),
                        "{at}: not a closed ring of at least 4 positions"
                    );
                    let area = Polygon::new(r.clone(), vec![]).signed_area();
                    if ri == 0 {
                        assert!(
                            area > 0.0,
                            "{at}: the exterior ring is not counterclockwise (signed area {area})"
                        );
                    } else {
                        assert!(
                            area < 0.0,
                            "{at}: the hole is not clockwise (signed area {area})"
                        );
                    }
                    if let Some(why) = not_simple(r) {
                        panic!("{at} is not simple: {why}");
                    }
                }
                let mut rs = rs.into_iter();
                let exterior = rs.next().expect("checked non-empty");
                multi.push(Polygon::new(exterior, rs.collect()));
            }
            if let Err(e) = MultiPolygon(multi).check_validation() {
                panic!("{name}: not a valid MultiPolygon: {e}");
            }
        }
    }
}
