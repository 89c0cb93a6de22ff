//! Geodesic distance bands around an area, by planar buffering in a local projection.
//!
//! geo's `Buffer` is planar, so distances are taken in a [`LocalProjection`] (azimuthal
//! equidistant on WGS 84, forward by the geodesic inverse problem, backward by the direct one)
//! centred on the area:
//!
//! 1. the lon/lat area and sides are densified (edges of at most `max_segment_m`, interpolated
//!    linearly in degrees, which is how RFC 7946 reads an edge) and projected;
//! 2. the area is buffered by each limit ([`buffer_polygon`]: geo's `Buffer` for the offset
//!    edges, plus circular sectors with a fine step at every convex corner, because i_overlay
//!    clamps round-join steps to at least 0.01·π rad);
//! 3. band `(a, b)` = (buffer(b) − buffer(a)) ∩ side, with geo's `BooleanOps`; each buffer is
//!    computed once, so neighbouring bands share their boundary; parts under
//!    `min_part_area_m2` (slivers between sources that do not quite match) are dropped;
//! 4. the bands are densified again in the plane and unprojected.
//!
//! The result approximates `{p ∈ side : a ≤ d(p, area) < b}`, `d` the geodesic distance on the
//! ellipsoid. Error sources for the Golan bands (area 75 km long, limits up to 25 km): the
//! projection's distortion away from its centre (second order in distance/Earth radius, about
//! 0.15 m at 25 km for points 45 km from the centre), the chords of the arcs
//! (`r·(1 − cos(step/2))`, 0.31 m at 25 km with a 0.01 rad step), projected chords standing in
//! for lon/lat edges of at most 2 km (under 0.05 m), and the writer's rounding to 6 decimals
//! (under 0.08 m). The integration test `golan_bands` measures the sum on the committed file
//! against geographiclib: at most 0.55 m.

use geo::algorithm::buffer::{BufferStyle, LineJoin};
use geo::orient::{Direction, Orient};
use geo::{
    Area, BooleanOps, BoundingRect, Buffer, Coord, LineString, MultiPolygon, Polygon, Rect,
    unary_union,
};

use crate::GeoError;
use crate::geodesic_distance_m;
use crate::projection::LocalProjection;

/// The bands of one side, one multipolygon per pair of consecutive limits.
pub type SideBands = Vec<MultiPolygon<f64>>;

/// How finely bands are built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandStyle {
    /// Angular step of the arcs around convex corners, in radians. The chord error at buffer
    /// distance `r` is at most `r·(1 − cos(step/2))`.
    pub arc_step_rad: f64,
    /// Longest edge, in metres, of the area and sides before projection and of the bands
    /// before unprojection.
    pub max_segment_m: f64,
    /// Parts and holes of a band with a smaller area (m²) are dropped: they are slivers left
    /// where two sources' borders do not match exactly.
    pub min_part_area_m2: f64,
}

impl Default for BandStyle {
    fn default() -> Self {
        BandStyle {
            arc_step_rad: 0.01,
            max_segment_m: 1000.0,
            min_part_area_m2: 10_000.0,
        }
    }
}

/// Inserts points on straight lon/lat edges (linear in degrees, as RFC 7946 reads an edge) so
/// that no edge is longer than `max_m` metres, measured geodesically.
pub fn densify_lon_lat(mp: &MultiPolygon<f64>, max_m: f64) -> MultiPolygon<f64> {
    densify_with(mp, |a, b| {
        geodesic_distance_m((a.x, a.y), (b.x, b.y)) / max_m
    })
}

/// Inserts points on planar edges so that no edge is longer than `max_m` (planar units).
pub fn densify_planar(mp: &MultiPolygon<f64>, max_m: f64) -> MultiPolygon<f64> {
    densify_with(mp, |a, b| (a.x - b.x).hypot(a.y - b.y) / max_m)
}

fn densify_with(
    mp: &MultiPolygon<f64>,
    pieces: impl Fn(Coord<f64>, Coord<f64>) -> f64,
) -> MultiPolygon<f64> {
    let ring = |ls: &LineString<f64>| {
        let mut out = Vec::with_capacity(ls.0.len());
        for w in ls.0.windows(2) {
            let (a, b) = (w[0], w[1]);
            out.push(a);
            // Interpolate from the lexicographically smaller end so that an edge shared by two
            // rings, run in opposite directions, gets bit-identical points.
            let (from, to, reversed) = if (a.x, a.y) <= (b.x, b.y) {
                (a, b, false)
            } else {
                (b, a, true)
            };
            let n = pieces(from, to).ceil();
            // Bounded so that a bad `max_m` cannot exhaust memory.
            let n = if n.is_finite() {
                n.clamp(1.0, 100_000.0) as usize
            } else {
                1
            };
            let point = |k: usize| {
                let t = k as f64 / n as f64;
                Coord {
                    x: from.x + (to.x - from.x) * t,
                    y: from.y + (to.y - from.y) * t,
                }
            };
            for k in 1..n {
                out.push(point(if reversed { n - k } else { k }));
            }
        }
        if let Some(last) = ls.0.last() {
            out.push(*last);
        }
        LineString::new(out)
    };
    MultiPolygon::new(
        mp.0.iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect(),
    )
}

/// Drops polygons and holes whose area is below `min_area` (planar units squared).
pub fn remove_small_parts(mp: MultiPolygon<f64>, min_area: f64) -> MultiPolygon<f64> {
    let ring_area = |ls: &LineString<f64>| Polygon::new(ls.clone(), vec![]).unsigned_area();
    MultiPolygon::new(
        mp.0.into_iter()
            .filter(|p| ring_area(p.exterior()) >= min_area)
            .map(|p| {
                let (exterior, interiors) = p.into_inner();
                let interiors = interiors
                    .into_iter()
                    .filter(|r| ring_area(r) >= min_area)
                    .collect();
                Polygon::new(exterior, interiors)
            })
            .collect(),
    )
}

fn check_limits(limits_m: &[f64]) -> Result<(), GeoError> {
    let bad = |problem: String| {
        Err(GeoError::Construction {
            what: "distance bands".into(),
            problem,
        })
    };
    if limits_m.len() < 2 {
        return bad(format!(
            "need at least 2 distance limits, got {}",
            limits_m.len()
        ));
    }
    if limits_m.iter().any(|l| !l.is_finite() || *l < 0.0) {
        return bad(format!(
            "limits {limits_m:?} must be finite and not negative"
        ));
    }
    if limits_m.windows(2).any(|w| w[0] >= w[1]) {
        return bad(format!("limits {limits_m:?} must increase strictly"));
    }
    Ok(())
}

/// The planar buffer of `area` by `distance` (> 0): every point within `distance` of it.
///
/// geo's `Buffer` (i_overlay's outline) builds the offset edges exactly, but its round joins
/// take steps of at least 0.01·π rad (i_overlay clamps the step) and use a single chord for
/// turns below that, which leaves joins up to `r·(1 − cos(0.0314))`, 12 m at 25 km, inside the
/// true buffer. So the joins are redone here: at every convex vertex the circular sector
/// between the two edges' normals, with steps of at most `arc_step_rad`, is added by a union.
/// The result is then inside the true buffer by at most `r·(1 − cos(arc_step_rad / 2))` on arcs
/// and exact on offset edges.
pub fn buffer_polygon(
    area: &MultiPolygon<f64>,
    distance: f64,
    arc_step_rad: f64,
) -> MultiPolygon<f64> {
    if distance.is_nan() || distance <= 0.0 {
        return area.clone();
    }
    let step = if arc_step_rad.is_finite() {
        arc_step_rad.clamp(1e-4, 0.5)
    } else {
        0.01
    };
    // Exterior counterclockwise, holes clockwise: the outside is always on the right.
    let oriented = area.orient(Direction::Default);
    let coarse = oriented.buffer_with_style(BufferStyle::new(distance).line_join(LineJoin::Bevel));
    let mut parts: Vec<Polygon<f64>> = coarse.0;
    for ring in oriented
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
    {
        let mut pts: Vec<Coord<f64>> = ring.0.clone();
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        pts.dedup();
        let n = pts.len();
        if n < 3 {
            continue;
        }
        for i in 0..n {
            let (prev, v, next) = (pts[(i + n - 1) % n], pts[i], pts[(i + 1) % n]);
            let (d1, d2) = (v - prev, next - v);
            let cross = d1.x * d2.y - d1.y * d2.x;
            let dot = d1.x * d2.x + d1.y * d2.y;
            // Turning left with the outside on the right: a convex corner.
            if cross <= 0.0 {
                continue;
            }
            let sweep = cross.atan2(dot);
            // The outward (right-hand) normal of the incoming edge.
            let start = (-d1.x).atan2(d1.y);
            let steps = (sweep / step).ceil().max(1.0) as usize;
            let mut sector = Vec::with_capacity(steps + 3);
            sector.push(v);
            for k in 0..=steps {
                let (sin, cos) = (start + sweep * k as f64 / steps as f64).sin_cos();
                sector.push(Coord {
                    x: v.x + distance * cos,
                    y: v.y + distance * sin,
                });
            }
            sector.push(v);
            parts.push(Polygon::new(LineString::new(sector), vec![]));
        }
    }
    unary_union(parts.iter())
}

/// Planar distance bands: for consecutive limits `l[i] < l[i+1]` and each side, the part of the
/// side at planar distance `d` from `area` with `l[i] ≤ d < l[i+1]` (distance 0 means inside
/// `area`). Returns, per side, one multipolygon per band.
///
/// Each buffer is computed once for all sides, so neighbouring bands share their common
/// boundary exactly.
pub fn planar_bands(
    area: &MultiPolygon<f64>,
    sides: &[&MultiPolygon<f64>],
    limits_m: &[f64],
    style: &BandStyle,
) -> Result<Vec<SideBands>, GeoError> {
    check_limits(limits_m)?;
    let grown: Vec<MultiPolygon<f64>> = limits_m
        .iter()
        .map(|&l| {
            if l == 0.0 {
                area.clone()
            } else {
                buffer_polygon(area, l, style.arc_step_rad)
            }
        })
        .collect();
    let rings: Vec<MultiPolygon<f64>> = grown.windows(2).map(|w| w[1].difference(&w[0])).collect();
    Ok(sides
        .iter()
        .map(|side| {
            rings
                .iter()
                .map(|ring| remove_small_parts(ring.intersection(*side), style.min_part_area_m2))
                .collect()
        })
        .collect())
}

/// Geodesic distance bands around a lon/lat `area`, clipped to lon/lat `sides`; see the module
/// documentation for the method and its error. Returns the projection used (centred on the
/// centre of `area`'s bounding box) and, per side, one lon/lat multipolygon per pair of
/// consecutive limits.
pub fn geodesic_bands(
    area: &MultiPolygon<f64>,
    sides: &[&MultiPolygon<f64>],
    limits_m: &[f64],
    style: &BandStyle,
) -> Result<(LocalProjection, Vec<SideBands>), GeoError> {
    check_limits(limits_m)?;
    let bbox = area.bounding_rect().ok_or_else(|| GeoError::Construction {
        what: "distance bands".into(),
        problem: "the area is empty".into(),
    })?;
    let projection = LocalProjection::new((bbox.center().x, bbox.center().y))?;
    let max_m = style.max_segment_m.max(1.0);

    // Clip the sides to a lon/lat window well beyond the widest band (1° of latitude is at
    // least 110 km, 1° of longitude at least 110 km · cos φ), so that far-away borders cost
    // nothing.
    let reach = limits_m.iter().copied().fold(0.0, f64::max) * 1.5 + 20_000.0;
    let max_lat = bbox.max().y.abs().max(bbox.min().y.abs()).min(80.0);
    let dlat = reach / 110_000.0;
    let dlon = dlat / max_lat.to_radians().cos();
    let window = Rect::new(
        Coord {
            x: bbox.min().x - dlon,
            y: bbox.min().y - dlat,
        },
        Coord {
            x: bbox.max().x + dlon,
            y: bbox.max().y + dlat,
        },
    );
    let window = MultiPolygon::new(vec![window.to_polygon()]);

    let area_p = projection.forward_geometry(&densify_lon_lat(area, max_m));
    let sides_p: Vec<MultiPolygon<f64>> = sides
        .iter()
        .map(|side| {
            projection.forward_geometry(&densify_lon_lat(&side.intersection(&window), max_m))
        })
        .collect();
    let side_refs: Vec<&MultiPolygon<f64>> = sides_p.iter().collect();
    let bands = planar_bands(&area_p, &side_refs, limits_m, style)?
        .iter()
        .map(|per_side| {
            per_side
                .iter()
                .map(|b| projection.inverse_geometry(&densify_planar(b, max_m)))
                .collect()
        })
        .collect();
    Ok((projection, bands))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Contains, Point};

    fn square(x0: f64, y0: f64, size: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![
            Rect::new(
                Coord { x: x0, y: y0 },
                Coord {
                    x: x0 + size,
                    y: y0 + size,
                },
            )
            .to_polygon(),
        ])
    }

    #[test]
    fn planar_bands_of_a_square() {
        let area = square(0.0, 0.0, 1000.0);
        let side = square(-10_000.0, -10_000.0, 20_000.0);
        let bands = planar_bands(&area, &[&side], &[0.0, 100.0, 300.0], &BandStyle::default())
            .expect("bands")
            .remove(0);
        assert_eq!(bands.len(), 2);
        // Areas: square grown by r has area s² + 4sr + πr².
        let grown = |r: f64| 1000.0 * 1000.0 + 4.0 * 1000.0 * r + std::f64::consts::PI * r * r;
        let a0 = bands[0].unsigned_area();
        let a1 = bands[1].unsigned_area();
        assert!((a0 - (grown(100.0) - grown(0.0))).abs() / a0 < 1e-3, "{a0}");
        assert!(
            (a1 - (grown(300.0) - grown(100.0))).abs() / a1 < 1e-3,
            "{a1}"
        );
        assert!(bands[0].contains(&Point::new(1050.0, 500.0)));
        assert!(!bands[0].contains(&Point::new(500.0, 500.0)));
        assert!(bands[1].contains(&Point::new(1150.0, 500.0)));
        assert!(!bands[1].contains(&Point::new(1350.0, 500.0)));
    }

    #[test]
    fn buffer_vertices_are_at_the_distance() {
        use geo::{Distance, Euclidean, Point};
        // An L-shaped polygon: convex and reflex corners, and some nearly straight vertices.
        let l = MultiPolygon::new(vec![Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (60_000.0, 0.0),
                (60_000.0, 20_000.0),
                (20_000.0, 20_000.0),
                (20_000.0, 40_000.0),
                (10_000.0, 40_100.0),
                (0.0, 40_000.0),
                (0.0, 0.0),
            ]),
            vec![],
        )]);
        for r in [10_000.0, 25_000.0] {
            let b = buffer_polygon(&l, r, 0.01);
            assert_eq!(b.0.len(), 1);
            let sagitta = r * (1.0 - (0.005f64).cos());
            for c in &b.0[0].exterior().0 {
                let d = Euclidean.distance(&Point(*c), &l.0[0]);
                assert!(
                    d <= r + 1e-3 && d >= r - sagitta - 1e-3,
                    "vertex at {d} for r = {r}"
                );
            }
            for w in b.0[0].exterior().0.windows(2) {
                let m = Point::new((w[0].x + w[1].x) / 2.0, (w[0].y + w[1].y) / 2.0);
                let d = Euclidean.distance(&m, &l.0[0]);
                assert!(
                    d <= r + 1e-3 && d >= r - sagitta - 1e-3,
                    "midpoint at {d} for r = {r}"
                );
            }
        }
    }

    #[test]
    fn side_clips_bands() {
        let area = square(0.0, 0.0, 1000.0);
        let side = MultiPolygon::new(vec![
            Rect::new(
                Coord {
                    x: 1000.0,
                    y: -5000.0,
                },
                Coord {
                    x: 5000.0,
                    y: 5000.0,
                },
            )
            .to_polygon(),
        ]);
        let bands = planar_bands(&area, &[&side], &[0.0, 500.0], &BandStyle::default())
            .expect("bands")
            .remove(0);
        let a = bands[0].unsigned_area();
        // Right half of the 500 m ring: 1000·500 + the two quarter discs.
        let expected = 1000.0 * 500.0 + std::f64::consts::PI * 500.0 * 500.0 / 2.0;
        assert!((a - expected).abs() / expected < 1e-3, "{a} vs {expected}");
    }

    #[test]
    fn refuses_bad_limits() {
        let area = square(0.0, 0.0, 1.0);
        for limits in [&[0.0][..], &[10.0, 5.0], &[-1.0, 5.0], &[0.0, f64::NAN]] {
            assert!(planar_bands(&area, &[&area], limits, &BandStyle::default()).is_err());
        }
    }

    #[test]
    fn densify_keeps_ends_and_bounds_edges() {
        let sq = square(0.0, 0.0, 1000.0);
        let d = densify_planar(&sq, 300.0);
        let ring = d.0[0].exterior();
        assert_eq!(ring.0.len(), 4 * 4 + 1);
        assert_eq!(ring.0.first(), ring.0.last());
        assert!(
            ring.lines()
                .all(|l| (l.end.x - l.start.x).hypot(l.end.y - l.start.y) <= 300.0)
        );
        let ll = densify_lon_lat(&square(35.0, 33.0, 0.1), 1000.0);
        assert!(ll.0[0].exterior().lines().all(|l| geodesic_distance_m(
            (l.start.x, l.start.y),
            (l.end.x, l.end.y)
        ) <= 1000.0 + 1e-6));
    }

    #[test]
    fn small_parts_are_removed() {
        let mp = MultiPolygon::new(vec![
            square(0.0, 0.0, 10.0).0[0].clone(),
            square(50.0, 50.0, 1.0).0[0].clone(),
        ]);
        assert_eq!(remove_small_parts(mp, 5.0).0.len(), 1);
    }
}
