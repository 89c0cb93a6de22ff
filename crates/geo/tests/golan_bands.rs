//! Measures the Areas of Limitation in the committed `zones.geojson` against geodesic distance
//! on the WGS 84 ellipsoid, independently of the projection used to build them.
//!
//! Distance from a point to the Area of Separation: 0 inside it; otherwise the minimum over the
//! polygon's edges (straight in lon/lat, as RFC 7946 reads them) of the geodesic distance
//! (geographiclib) from the point to the edge, the closest point of each edge being found by a
//! golden-section search along it. Candidate edges are picked with a crude equirectangular
//! estimate (not the construction's projection), then measured exactly.
//!
//! Checks, with tolerance `BAND_ERROR_BOUND_M`:
//! 1. every vertex and every edge midpoint of the band (a, b) is at distance in [a − tol, b + tol]
//!    (borders of the side, such as Line A or a country border, lie anywhere in between);
//! 2. each band reaches its outer limit (some boundary point within tol of b) and, for a > 0,
//!    its inner limit;
//! 3. on a grid over the side, a point farther than tol from every limit is in band (a, b) if and
//!    only if a ≤ d < b.

use std::path::PathBuf;

use geo::{Contains, Coord, Geometry, Intersects, MultiPolygon, Point};
use geographiclib_rs::{Geodesic, InverseGeodesic};
use truce_geo::golan::{
    BAND_ERROR_BOUND_M, BAND_LIMITS_KM, GolanInputs, GolanSources, files, read_inputs,
};
use truce_geo::{Zone, parse_zones};

fn scenario_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/golan-1974")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn polygons(z: &Zone) -> MultiPolygon<f64> {
    match &z.geometry {
        Geometry::Polygon(p) => MultiPolygon::new(vec![p.clone()]),
        Geometry::MultiPolygon(mp) => mp.clone(),
        other => panic!("{} is not polygonal: {other:?}", z.id),
    }
}

struct Area {
    polygon: MultiPolygon<f64>,
    edges: Vec<(Coord<f64>, Coord<f64>)>,
    geod: Geodesic,
}

impl Area {
    fn new(polygon: MultiPolygon<f64>) -> Self {
        let edges = polygon
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.lines().map(|l| (l.start, l.end)))
            .collect();
        Area {
            polygon,
            edges,
            geod: Geodesic::wgs84(),
        }
    }

    fn geodesic(&self, p: Coord<f64>, q: Coord<f64>) -> f64 {
        self.geod.inverse(p.y, p.x, q.y, q.x)
    }

    /// Geodesic distance from `p` to the edge `a`–`b` (straight in lon/lat).
    fn edge_distance(&self, p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
        let at = |t: f64| {
            self.geodesic(
                p,
                Coord {
                    x: a.x + (b.x - a.x) * t,
                    y: a.y + (b.y - a.y) * t,
                },
            )
        };
        let g = (5f64.sqrt() - 1.0) / 2.0;
        let (mut lo, mut hi) = (0.0, 1.0);
        let (mut x1, mut x2) = (hi - g * (hi - lo), lo + g * (hi - lo));
        let (mut f1, mut f2) = (at(x1), at(x2));
        for _ in 0..50 {
            if f1 < f2 {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - g * (hi - lo);
                f1 = at(x1);
            } else {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + g * (hi - lo);
                f2 = at(x2);
            }
        }
        f1.min(f2).min(at(0.0)).min(at(1.0))
    }

    /// Geodesic distance from `p` to the area (0 inside).
    fn distance(&self, p: Coord<f64>) -> f64 {
        if self.polygon.intersects(&Point(p)) {
            return 0.0;
        }
        // Equirectangular estimate around p, to pick candidate edges.
        let (kx, ky) = (111_320.0 * p.y.to_radians().cos(), 110_574.0);
        let estimate = |a: Coord<f64>, b: Coord<f64>| {
            let (ax, ay) = ((a.x - p.x) * kx, (a.y - p.y) * ky);
            let (bx, by) = ((b.x - p.x) * kx, (b.y - p.y) * ky);
            let (dx, dy) = (bx - ax, by - ay);
            let len2 = dx * dx + dy * dy;
            let t = if len2 > 0.0 {
                (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (ax + t * dx).hypot(ay + t * dy)
        };
        let estimates: Vec<f64> = self.edges.iter().map(|(a, b)| estimate(*a, *b)).collect();
        let best = estimates.iter().copied().fold(f64::INFINITY, f64::min);
        // The estimate is within 1% of the truth at these distances; be generous.
        let limit = best * 1.05 + 200.0;
        self.edges
            .iter()
            .zip(&estimates)
            .filter(|(_, e)| **e <= limit)
            .map(|((a, b), _)| self.edge_distance(p, *a, *b))
            .fold(f64::INFINITY, f64::min)
    }
}

fn boundary_samples(mp: &MultiPolygon<f64>) -> Vec<Coord<f64>> {
    let mut out = Vec::new();
    for p in mp {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            for l in r.lines() {
                out.push(l.start);
                out.push(Coord {
                    x: (l.start.x + l.end.x) / 2.0,
                    y: (l.start.y + l.end.y) / 2.0,
                });
            }
        }
    }
    out
}

#[test]
fn area_distance_is_exact_on_simple_cases() {
    // A 0.1° square; a point due east of its east edge at the same latitude as a vertex is at
    // the geodesic distance to that vertex, and a point inside is at 0.
    let square = MultiPolygon::new(vec![
        geo::Rect::new(Coord { x: 35.0, y: 33.0 }, Coord { x: 35.1, y: 33.1 }).to_polygon(),
    ]);
    let area = Area::new(square);
    assert_eq!(area.distance(Coord { x: 35.05, y: 33.05 }), 0.0);
    let p = Coord { x: 35.3, y: 33.1 };
    let d = area.distance(p);
    let to_vertex = area.geodesic(p, Coord { x: 35.1, y: 33.1 });
    assert!(
        d <= to_vertex + 1e-6 && to_vertex - d < 1.0,
        "{d} vs {to_vertex}"
    );
    // Due south of the middle of the bottom edge: the meridian distance.
    let q = Coord { x: 35.05, y: 32.9 };
    let along_meridian = area.geodesic(q, Coord { x: 35.05, y: 33.0 });
    assert!((area.distance(q) - along_meridian).abs() < 1e-3);
}

/// The sources, read and checked by the library (for the sides).
fn inputs() -> GolanInputs {
    let (disputed_areas, countries, lines, admin1) = (
        scenario_file(&format!("sources/{}", files::DISPUTED_AREAS)),
        scenario_file(&format!("sources/{}", files::COUNTRIES)),
        scenario_file(&format!("sources/{}", files::LINES)),
        scenario_file(&format!("sources/{}", files::ADMIN1)),
    );
    read_inputs(&GolanSources {
        disputed_areas: &disputed_areas,
        countries: &countries,
        lines: &lines,
        admin1: &admin1,
    })
    .expect("inputs")
}

/// The edges of a side's boundary near the Area of Separation.
fn boundary_edges(mp: &MultiPolygon<f64>, near: &geo::Rect<f64>) -> Vec<(Coord<f64>, Coord<f64>)> {
    mp.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.lines().map(|l| (l.start, l.end)))
        .filter(|(a, b)| {
            let inside = |c: &Coord<f64>| {
                c.x >= near.min().x
                    && c.x <= near.max().x
                    && c.y >= near.min().y
                    && c.y <= near.max().y
            };
            inside(a) || inside(b)
        })
        .collect()
}

/// Equirectangular distance in metres from `p` to the nearest edge (good to 1% here, used only
/// to tell whether a point lies on a side's border).
fn near_edges(p: Coord<f64>, edges: &[(Coord<f64>, Coord<f64>)]) -> f64 {
    let (kx, ky) = (111_320.0 * p.y.to_radians().cos(), 110_574.0);
    edges
        .iter()
        .map(|(a, b)| {
            let (ax, ay) = ((a.x - p.x) * kx, (a.y - p.y) * ky);
            let (bx, by) = ((b.x - p.x) * kx, (b.y - p.y) * ky);
            let (dx, dy) = (bx - ax, by - ay);
            let len2 = dx * dx + dy * dy;
            let t = if len2 > 0.0 {
                (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (ax + t * dx).hypot(ay + t * dy)
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn band_boundaries_are_at_the_stated_geodesic_distances() {
    let zones = parse_zones(&scenario_file("zones.geojson")).expect("zones parse");
    let zone = |id: &str| {
        zones
            .iter()
            .find(|z| z.id == id)
            .unwrap_or_else(|| panic!("no {id}"))
    };
    let area = Area::new(polygons(zone("area-of-separation")));
    let inputs = inputs();
    let tol = BAND_ERROR_BOUND_M;
    let near = geo::Rect::new(Coord { x: 35.0, y: 32.0 }, Coord { x: 36.8, y: 34.2 });

    let mut worst: f64 = 0.0;
    for (side, side_area) in [("west", &inputs.west_side), ("east", &inputs.east_side)] {
        let side_edges = boundary_edges(side_area, &near);
        for k in 0..BAND_LIMITS_KM.len() - 1 {
            let (a_km, b_km) = (BAND_LIMITS_KM[k], BAND_LIMITS_KM[k + 1]);
            let id = format!("aol-{side}-{a_km}-{b_km}");
            let (a, b) = (a_km * 1000.0, b_km * 1000.0);
            let band = polygons(zone(&id));
            let samples = boundary_samples(&band);
            let mut max_d: f64 = 0.0;
            let mut min_d = f64::INFINITY;
            let mut limit_err: f64 = 0.0;
            let mut on_limits = 0;
            for p in &samples {
                let d = area.distance(*p);
                assert!(
                    d >= a - tol && d <= b + tol,
                    "{id}: boundary point ({}, {}) is {d:.1} m from the Area of Separation, outside [{a} - {tol}, {b} + {tol}]",
                    p.x,
                    p.y
                );
                max_d = max_d.max(d);
                min_d = min_d.min(d);
                // A boundary point not on the side's border (Line A or B, a country border)
                // must be on one of the two limits.
                if near_edges(*p, &side_edges) > 0.5 {
                    let err = (d - a).abs().min((d - b).abs());
                    assert!(
                        err <= tol,
                        "{id}: boundary point ({}, {}) is {d:.1} m from the Area of Separation, off both limits by {err:.1} m",
                        p.x,
                        p.y
                    );
                    limit_err = limit_err.max(err);
                    on_limits += 1;
                }
            }
            assert!(
                b - max_d <= tol,
                "{id}: reaches only {max_d:.1} m, not {b} m"
            );
            assert!(min_d - a <= tol, "{id}: starts at {min_d:.1} m, not {a} m");
            eprintln!(
                "{id}: {} boundary samples ({on_limits} on the distance limits), distance {min_d:.2}..{max_d:.2} m, max error on the limits {limit_err:.2} m",
                samples.len()
            );
            worst = worst.max(limit_err);
        }
    }
    eprintln!("worst band boundary error: {worst:.2} m (tolerance {tol} m)");
}

#[test]
fn grid_points_are_in_the_band_of_their_distance() {
    let zones = parse_zones(&scenario_file("zones.geojson")).expect("zones parse");
    let zone = |id: &str| {
        zones
            .iter()
            .find(|z| z.id == id)
            .unwrap_or_else(|| panic!("no {id}"))
    };
    let area = Area::new(polygons(zone("area-of-separation")));
    let inputs = inputs();
    let tol = BAND_ERROR_BOUND_M;
    let mut checked = 0;
    for (side, side_area) in [("west", &inputs.west_side), ("east", &inputs.east_side)] {
        let bands: Vec<(f64, f64, MultiPolygon<f64>)> = (0..BAND_LIMITS_KM.len() - 1)
            .map(|k| {
                let (a, b) = (BAND_LIMITS_KM[k], BAND_LIMITS_KM[k + 1]);
                (
                    a * 1000.0,
                    b * 1000.0,
                    polygons(zone(&format!("aol-{side}-{a}-{b}"))),
                )
            })
            .collect();
        let step = 0.02;
        for i in 0..=70 {
            for j in 0..=90 {
                let p = Coord {
                    x: 35.45 + i as f64 * step,
                    y: 32.35 + j as f64 * step,
                };
                if !side_area.contains(&Point(p)) {
                    continue;
                }
                let d = area.distance(p);
                if BAND_LIMITS_KM.iter().any(|l| (d - l * 1000.0).abs() <= tol) {
                    continue;
                }
                for (a, b, band) in &bands {
                    let expected = *a <= d && d < *b;
                    assert_eq!(
                        band.contains(&Point(p)),
                        expected,
                        "({}, {}) at {d:.1} m from the Area of Separation, {side} side, band {a}-{b} m",
                        p.x,
                        p.y
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "only {checked} grid points checked");
    eprintln!("{checked} grid points checked");
}
