//! Distances on the WGS 84 ellipsoid (geographiclib).

use std::sync::LazyLock;

use geographiclib_rs::{Geodesic, InverseGeodesic};

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
}
