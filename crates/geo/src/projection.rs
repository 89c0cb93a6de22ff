//! A local azimuthal equidistant projection on the WGS 84 ellipsoid.
//!
//! Forward: the geodesic inverse problem from the centre gives distance `s` and azimuth `α`;
//! the point maps to `x = s·sin α` (east), `y = s·cos α` (north), in metres. Inverse: the direct
//! problem from the centre with azimuth `atan2(x, y)` and distance `hypot(x, y)`. Distances and
//! azimuths from the centre are exact; other distances are off by a relative error of order
//! `(ρ/R)²`, where `ρ` is the distance from the centre and `R` the Earth's radius (2·10⁻⁵ at
//! 60 km), which is what makes planar buffering in this projection a good approximation of
//! geodesic buffering in a region of a few hundred kilometres.

use geo::{Coord, MapCoords};
use geographiclib_rs::{DirectGeodesic, InverseGeodesic};

use crate::GeoError;
use crate::geodesy::wgs84;

/// An azimuthal equidistant projection centred on a point; planar units are metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalProjection {
    lon: f64,
    lat: f64,
}

impl LocalProjection {
    /// A projection centred on `(longitude, latitude)` in degrees.
    pub fn new(center: (f64, f64)) -> Result<Self, GeoError> {
        let (lon, lat) = center;
        // The ranges exclude NaN and infinities.
        if !((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)) {
            return Err(GeoError::Construction {
                what: "local projection".into(),
                problem: format!("centre ({lon}, {lat}) is not a longitude, latitude pair"),
            });
        }
        Ok(LocalProjection { lon, lat })
    }

    /// The centre as `(longitude, latitude)`.
    pub fn center(&self) -> (f64, f64) {
        (self.lon, self.lat)
    }

    /// Projects `(longitude, latitude)` to `(x, y)` metres east and north of the centre.
    pub fn forward(&self, lon_lat: (f64, f64)) -> (f64, f64) {
        let (s, azi1, _azi2, _a12): (f64, f64, f64, f64) =
            wgs84().inverse(self.lat, self.lon, lon_lat.1, lon_lat.0);
        let (sin, cos) = azi1.to_radians().sin_cos();
        (s * sin, s * cos)
    }

    /// Maps `(x, y)` metres back to `(longitude, latitude)`.
    pub fn inverse(&self, xy: (f64, f64)) -> (f64, f64) {
        let s = xy.0.hypot(xy.1);
        let azi = xy.0.atan2(xy.1).to_degrees();
        let (lat, lon): (f64, f64) = wgs84().direct(self.lat, self.lon, azi, s);
        (lon, lat)
    }

    /// Projects every coordinate of a lon/lat geometry.
    pub fn forward_geometry<G: MapCoords<f64, f64, Output = G>>(&self, g: &G) -> G {
        g.map_coords(|c| {
            let (x, y) = self.forward((c.x, c.y));
            Coord { x, y }
        })
    }

    /// Unprojects every coordinate of a planar geometry to lon/lat.
    pub fn inverse_geometry<G: MapCoords<f64, f64, Output = G>>(&self, g: &G) -> G {
        g.map_coords(|c| {
            let (x, y) = self.inverse((c.x, c.y));
            Coord { x, y }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesic_distance_m;

    #[test]
    fn round_trip_and_exact_radial_distance() {
        let p = LocalProjection::new((35.85, 33.1)).expect("valid centre");
        for &q in &[
            (35.85, 33.1),
            (36.4, 33.6),
            (35.2, 32.5),
            (35.85, 33.7),
            (36.5, 33.1),
        ] {
            let (x, y) = p.forward(q);
            let back = p.inverse((x, y));
            assert!(
                (back.0 - q.0).abs() < 1e-11 && (back.1 - q.1).abs() < 1e-11,
                "{q:?} -> {back:?}"
            );
            let d = geodesic_distance_m(p.center(), q);
            assert!((x.hypot(y) - d).abs() < 1e-6);
        }
        // North is +y, east is +x.
        let (x, y) = p.forward((35.85, 33.2));
        assert!(x.abs() < 1e-6 && y > 11_000.0);
        let (x, y) = p.forward((35.95, 33.1));
        assert!(x > 9_000.0 && y.abs() < 100.0);
    }

    #[test]
    fn planar_distances_away_from_the_centre_are_close_to_geodesic() {
        let p = LocalProjection::new((35.85, 33.1)).expect("valid centre");
        let a = (36.3, 33.5);
        let b = (36.5, 33.3);
        let (ax, ay) = p.forward(a);
        let (bx, by) = p.forward(b);
        let planar = (ax - bx).hypot(ay - by);
        let geodesic = geodesic_distance_m(a, b);
        assert!(
            (planar - geodesic).abs() / geodesic < 1e-4,
            "{planar} vs {geodesic}"
        );
    }

    #[test]
    fn refuses_bad_centres() {
        assert!(LocalProjection::new((f64::NAN, 0.0)).is_err());
        assert!(LocalProjection::new((0.0, 91.0)).is_err());
    }
}
