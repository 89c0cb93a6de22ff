//! Monitoring coverage: where and when someone could observe, so that "no violation observed"
//! is told apart from "not observable".
//!
//! A `coverage` entry records an area observed (an observation post's field of view, an
//! overflight's swath) or a track observed some width wide (a patrol), over a time window.
//! [`zone_verdict`] judges a zone over a period: `events_reported` if any event touched it,
//! otherwise `no_violation_observed` if some coverage overlapped it in space and time,
//! otherwise `not_observable` — with the access denials reported there, which often say why.

use crate::Geography;
pub use crate::state::CoverageRec;
use crate::state::State;
use geo::{Contains, Intersects};
use jiff::Timestamp;
use serde::Serialize;
use truce_geo::local::segment_distance_m;
use truce_model::report::EventType;

impl CoverageRec {
    fn geometry(&self) -> Option<geo::Geometry<f64>> {
        truce_geo::parse_geometry(&self.observed).ok()
    }

    /// Whether the record observed the point.
    pub fn covers_point(&self, point: [f64; 2]) -> bool {
        let p = geo::Point::new(point[0], point[1]);
        match self.geometry() {
            Some(geo::Geometry::LineString(l)) => {
                let half = f64::from(self.width_m.unwrap_or(0)) / 2.0;
                l.lines().any(|seg| {
                    segment_distance_m(point, [seg.start.x, seg.start.y], [seg.end.x, seg.end.y])
                        <= half
                })
            }
            Some(g) => g.intersects(&p),
            None => false,
        }
    }

    /// Whether the record observed any part of the area.
    pub fn covers_area(&self, area: &geo::Geometry<f64>) -> bool {
        match self.geometry() {
            Some(geo::Geometry::LineString(l)) => {
                if l.intersects(area) {
                    return true;
                }
                // Within half the width of the area's edge, from outside.
                let half = f64::from(self.width_m.unwrap_or(0)) / 2.0;
                l.points()
                    .any(|v| near_boundary(area, [v.x(), v.y()], half))
            }
            Some(g) => g.intersects(area),
            None => false,
        }
    }
}

fn near_boundary(area: &geo::Geometry<f64>, p: [f64; 2], max_m: f64) -> bool {
    use geo::CoordsIter;
    let coords: Vec<geo::Coord<f64>> = area.exterior_coords_iter().collect();
    coords
        .windows(2)
        .any(|w| segment_distance_m(p, [w[0].x, w[0].y], [w[1].x, w[1].y]) <= max_m)
}

/// A zone's monitoring verdict over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneVerdict {
    pub zone: String,
    pub layer: String,
    pub from: Timestamp,
    pub to: Timestamp,
    /// `events_reported`, `no_violation_observed` or `not_observable`.
    pub verdict: &'static str,
    /// Events whose uncertainty circle touched the zone in the period.
    pub events: Vec<String>,
    /// Coverage entries (log indices) that observed part of the zone in the period.
    pub coverage: Vec<u64>,
    /// Access denials reported in the zone in the period (event ids).
    pub access_denials: Vec<String>,
}

/// Judges a zone (in a layer) over `from..=to`; `None` if the zone does not exist.
pub fn zone_verdict(
    state: &State,
    geo: &Geography,
    zone: &str,
    layer: &str,
    from: Timestamp,
    to: Timestamp,
) -> Option<ZoneVerdict> {
    let z = geo
        .index()
        .zones()
        .iter()
        .find(|z| z.id == zone && z.layer == layer)?;
    let mut events = Vec::new();
    let mut access_denials = Vec::new();
    for e in state.events.values() {
        if e.merged_into.is_some() || e.end < from || e.start > to {
            continue;
        }
        if !e.zones.iter().any(|h| h.zone == zone && h.layer == layer) {
            continue;
        }
        if e.event_type == EventType::AccessDenial {
            access_denials.push(e.id.clone());
        } else {
            events.push(e.id.clone());
        }
    }
    let coverage: Vec<u64> = state
        .coverage
        .iter()
        .filter(|(_, c)| c.end >= from && c.start <= to && c.covers_area(&z.geometry))
        .map(|(i, _)| *i)
        .collect();
    let verdict = if !events.is_empty() {
        "events_reported"
    } else if !coverage.is_empty() {
        "no_violation_observed"
    } else {
        "not_observable"
    };
    Some(ZoneVerdict {
        zone: zone.to_owned(),
        layer: layer.to_owned(),
        from,
        to,
        verdict,
        events,
        coverage,
        access_denials,
    })
}

/// Whether any coverage observed `point` during `from..=to`.
pub fn observed(state: &State, point: [f64; 2], from: Timestamp, to: Timestamp) -> Vec<u64> {
    state
        .coverage
        .iter()
        .filter(|(_, c)| c.end >= from && c.start <= to && c.covers_point(point))
        .map(|(i, _)| *i)
        .collect()
}

/// Whether a geometry contains a point (planar, RFC 7946 edges).
pub fn contains(g: &geo::Geometry<f64>, point: [f64; 2]) -> bool {
    g.contains(&geo::Point::new(point[0], point[1]))
}
