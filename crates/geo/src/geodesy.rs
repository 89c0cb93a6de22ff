//! Distances on the WGS 84 ellipsoid (geographiclib), and areas.

use std::sync::LazyLock;

use geo::{Geometry, LineString, Polygon};
use geographiclib_rs::{Geodesic, InverseGeodesic};

/// Radius of the sphere with the WGS 84 ellipsoid's surface area (its authalic radius), metres.
const AUTHALIC_RADIUS_M: f64 = 6_371_007.180_9;

static WGS84: LazyLock<Geodesic> = LazyLock::new(Geodesic::wgs84);

/// The WGS 84 ellipsoid, shared.
pub(crate) fn wgs84() -> &'static Geodesic {
    &WGS84
}

/// Geodesic distance in metres between two points given as `(longitude, latitude)` in degrees,
/// on the WGS 84 ellipsoid (Karney's algorithm via geographiclib-rs, accurate to nanometres).
///
/// Returns NaN if a coordinate is not finite; never panics.
pub fn geodesic_distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
        return f64::NAN;
    }
    wgs84().inverse(a.1, a.0, b.1, b.0)
}

/// The area in square metres a `Polygon` or `MultiPolygon` encloses (0 for lines): each ring's
/// area less its holes', holes inside their shell as validity requires.
///
/// The region is the one truce reads (RFC 7946 §3.1.1): edges straight in longitude/latitude,
/// not geodesics. Its area is integrated exactly, edge by edge, on the sphere of WGS 84's
/// surface area, which is within 1% of the area on the ellipsoid (0.45% less at the equator,
/// 0.9% more near the poles): enough for the limits it serves (at least 1 m², at most a notice
/// area's cap). Either ring orientation gives the same
/// area. Uses only IEEE arithmetic and `libm`, so the value, and any limit decided on it, is the
/// same on every machine.
pub fn area_m2(geometry: &Geometry<f64>) -> f64 {
    match geometry {
        Geometry::Polygon(p) => polygon_area_m2(p),
        Geometry::MultiPolygon(mp) => mp.0.iter().map(polygon_area_m2).sum(),
        _ => 0.0,
    }
}

pub(crate) fn polygon_area_m2(p: &Polygon<f64>) -> f64 {
    let holes: f64 = p.interiors().iter().map(|r| ring_area_m2(r).abs()).sum();
    (ring_area_m2(p.exterior()).abs() - holes).max(0.0)
}

/// Signed area (counter-clockwise positive) of a closed ring.
///
/// By Green's theorem the area of a region of the sphere is −R²∮ sin φ dλ around it. Along an
/// edge with λ and φ both linear, ∫ sin φ dλ = Δλ · sin φₘ · sin(Δφ/2)/(Δφ/2), φₘ the mean
/// latitude: exact, and free of cancellation for short edges.
fn ring_area_m2(ring: &LineString<f64>) -> f64 {
    let sum: f64 = ring
        .0
        .windows(2)
        .map(|w| {
            let (l1, p1) = (w[0].x.to_radians(), w[0].y.to_radians());
            let (l2, p2) = (w[1].x.to_radians(), w[1].y.to_radians());
            let half = (p2 - p1) / 2.0;
            let sinc = if half.abs() < 1e-4 {
                1.0 - half * half / 6.0
            } else {
                libm::sin(half) / half
            };
            (l2 - l1) * libm::sin((p1 + p2) / 2.0) * sinc
        })
        .sum();
    -AUTHALIC_RADIUS_M * AUTHALIC_RADIUS_M * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        // One degree of latitude at the equator on WGS 84: 110 574.389 m.
        let d = geodesic_distance_m((0.0, 0.0), (0.0, 1.0));
        assert!((d - 110_574.389).abs() < 0.01, "{d}");
        // Symmetric, zero on the diagonal.
        let q = (35.824, 33.126);
        let m = (35.771, 33.270);
        assert_eq!(geodesic_distance_m(q, q), 0.0);
        assert!((geodesic_distance_m(q, m) - geodesic_distance_m(m, q)).abs() < 1e-6);
        // Quneitra to Majdal Shams: about 16.7 km.
        let d = geodesic_distance_m(q, m);
        assert!((16_000.0..17_500.0).contains(&d), "{d}");
        assert!(geodesic_distance_m((f64::NAN, 0.0), (0.0, 0.0)).is_nan());
    }

    fn square(lon: f64, lat: f64, side: f64) -> Polygon<f64> {
        Polygon::new(
            LineString::from(vec![
                (lon, lat),
                (lon + side, lat),
                (lon + side, lat + side),
                (lon, lat + side),
                (lon, lat),
            ]),
            vec![],
        )
    }

    fn close(got: f64, want: f64, relative: f64) -> bool {
        (got - want).abs() <= relative * want.abs()
    }

    #[test]
    fn areas_on_the_authalic_sphere() {
        let r2 = AUTHALIC_RADIUS_M * AUTHALIC_RADIUS_M;
        // A 1° cell at the equator: R² · Δλ · (sin 1° − sin 0°).
        let cell = square(0.0, 0.0, 1.0);
        let want = r2 * 1f64.to_radians() * 1f64.to_radians().sin();
        assert!(
            close(polygon_area_m2(&cell), want, 1e-12),
            "{}",
            polygon_area_m2(&cell)
        );
        // Either orientation; a hole is taken away.
        let mut cw = cell.clone();
        cw.exterior_mut(|e| e.0.reverse());
        assert!(close(polygon_area_m2(&cw), want, 1e-12));
        let holed = Polygon::new(
            cell.exterior().clone(),
            vec![square(0.25, 0.25, 0.5).exterior().clone()],
        );
        let hole = polygon_area_m2(&square(0.25, 0.25, 0.5));
        assert!(close(polygon_area_m2(&holed), want - hole, 1e-12));
        // The band from the equator to 10° N all round, and the whole globe drawn flat.
        let band = Geometry::Polygon(Polygon::new(
            LineString::from(vec![
                (-180.0, 0.0),
                (0.0, 0.0),
                (180.0, 0.0),
                (180.0, 10.0),
                (0.0, 10.0),
                (-180.0, 10.0),
                (-180.0, 0.0),
            ]),
            vec![],
        ));
        let want = 2.0 * std::f64::consts::PI * r2 * 10f64.to_radians().sin();
        assert!(close(area_m2(&band), want, 1e-12), "{}", area_m2(&band));
        let globe = Geometry::Polygon(Polygon::new(
            LineString::from(vec![
                (-180.0, -90.0),
                (0.0, -90.0),
                (180.0, -90.0),
                (180.0, 90.0),
                (0.0, 90.0),
                (-180.0, 90.0),
                (-180.0, -90.0),
            ]),
            vec![],
        ));
        let sphere = 4.0 * std::f64::consts::PI * r2;
        assert!(close(area_m2(&globe), sphere, 1e-12), "{}", area_m2(&globe));
        // A 2 m square: no cancellation on small polygons (1 m is about 9e-6° of latitude).
        let small = square(35.0, 33.0, 2e-5);
        let side_m = 2e-5f64.to_radians() * AUTHALIC_RADIUS_M;
        let want = side_m * side_m * 33.00001f64.to_radians().cos();
        assert!(
            close(polygon_area_m2(&small), want, 1e-6),
            "{}",
            polygon_area_m2(&small)
        );
        // Lines enclose nothing.
        assert_eq!(area_m2(&Geometry::LineString(cell.exterior().clone())), 0.0);
    }

    #[test]
    fn areas_agree_with_the_ellipsoid_on_the_golan_zones() {
        use geo::GeodesicArea;
        let text = include_str!("../../../scenarios/golan-1974/zones.geojson");
        let mut compared = 0;
        for zone in crate::parse_zones(text).expect("golan zones") {
            let ellipsoid = match &zone.geometry {
                Geometry::Polygon(p) => p.geodesic_area_unsigned(),
                Geometry::MultiPolygon(mp) => mp.geodesic_area_unsigned(),
                _ => continue,
            };
            // At 33° N the sphere's area element is 0.08% more than the ellipsoid's.
            let ours = area_m2(&zone.geometry);
            assert!(
                close(ours, ellipsoid, 0.002),
                "{}: {ours} against {ellipsoid}",
                zone.id
            );
            compared += 1;
        }
        assert_eq!(compared, 10);
    }
}
