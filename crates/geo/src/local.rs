//! Fast local distances: equirectangular approximations on a sphere of the WGS 84 mean
//! radius, for the engine's comparisons at the tens of kilometres (fusion) and kilometres
//! (coverage). At those ranges they are within a millionth of the great circle on that
//! sphere; the sphere itself is a few tenths of a percent off the ellipsoid (0.1% to 0.3% at
//! 20–35 km near Quneitra, depending on the direction). Exact distances on the ellipsoid are
//! [`crate::geodesic_distance_m`]. The arithmetic is `libm`'s, so results are the same bits on
//! every machine (the engine is deterministic).

/// The WGS 84 mean radius (IUGG R1 = (2a + b) / 3), metres.
pub const MEAN_RADIUS_M: f64 = 6_371_008.8;

/// Distance in metres on a sphere of the WGS 84 mean radius (equirectangular at the mean
/// latitude: within a millionth of the great circle at the tens of kilometres fusion compares).
pub fn distance_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    let to_rad = std::f64::consts::PI / 180.0;
    let lat = (a[1] + b[1]) / 2.0 * to_rad;
    let x = (b[0] - a[0]) * to_rad * libm::cos(lat);
    let y = (b[1] - a[1]) * to_rad;
    MEAN_RADIUS_M * libm::sqrt(x * x + y * y)
}

/// Distance in metres from a point to a segment, in a local equirectangular plane (fine at
/// the kilometres coverage is about).
pub fn segment_distance_m(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let k = std::f64::consts::PI / 180.0 * MEAN_RADIUS_M;
    let c = libm::cos(p[1] * std::f64::consts::PI / 180.0);
    let xy = |q: [f64; 2]| ((q[0] - p[0]) * c * k, (q[1] - p[1]) * k);
    let (ax, ay) = xy(a);
    let (bx, by) = xy(b);
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (x, y) = (ax + t * dx, ay + t * dy);
    libm::sqrt(x * x + y * y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_degree_of_latitude_and_a_point_on_a_segment() {
        // One degree of latitude on the mean sphere: R * pi / 180.
        let d = distance_m([35.8, 33.0], [35.8, 34.0]);
        assert!((d - MEAN_RADIUS_M * std::f64::consts::PI / 180.0).abs() < 1e-6);
        // Within a millionth of the great circle on the same sphere at 20 km near Quneitra
        // (haversine), and within 0.5% of the ellipsoid's geodesic.
        let (a, b) = ([35.82, 33.12], [36.0, 33.2]);
        let rad = std::f64::consts::PI / 180.0;
        let (p1, p2) = (a[1] * rad, b[1] * rad);
        let h = ((p2 - p1) / 2.0).sin().powi(2)
            + p1.cos() * p2.cos() * ((b[0] - a[0]) * rad / 2.0).sin().powi(2);
        let great_circle = 2.0 * MEAN_RADIUS_M * h.sqrt().asin();
        assert!((distance_m(a, b) - great_circle).abs() / great_circle < 1e-6);
        let g = crate::geodesic_distance_m((a[0], a[1]), (b[0], b[1]));
        assert!((distance_m(a, b) - g).abs() / g < 5e-3);
        // The nearest point of a segment can be an end or inside it.
        let p = [35.8, 33.1];
        assert!(segment_distance_m(p, p, [35.9, 33.1]) == 0.0);
        let inside = segment_distance_m(p, [35.7, 33.11], [35.9, 33.11]);
        assert!((inside - distance_m(p, [35.8, 33.11])).abs() < 1.0);
    }
}
