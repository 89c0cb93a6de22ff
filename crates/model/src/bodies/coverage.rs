//! Coverage: where and when a member could observe.

use super::*;

/// How a coverage record was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CoverageMethod {
    Patrol,
    ObservationPost,
    Aerial,
    RemoteSensing,
}

/// Where and when a member could observe: an observation post's field of view, a patrol's
/// track, an overflight's swath. What was not covered is "not observable", not "quiet".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    pub method: CoverageMethod,
    /// An RFC 7946 Polygon or MultiPolygon (the area observed), or a LineString (a track,
    /// observed `width_m` wide).
    pub observed: serde_json::Value,
    /// For a track: the width observed along it, in metres (1..50000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_m: Option<u32>,
    pub window: TimeSpan,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Coverage {
    pub fn checked(self) -> Result<Self, Refusal> {
        let g = truce_geo::parse_geometry(&self.observed)
            .map_err(|e| Refusal::invalid(format!("body.observed: {e}")))?;
        match (&g, self.width_m) {
            (geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_), None) => {}
            (geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_), Some(_)) => {
                return Err(Refusal::invalid(
                    "body.width_m is only for a track (a LineString); an area needs none",
                ));
            }
            (geo::Geometry::LineString(_), Some(w)) if (1..=50_000).contains(&w) => {}
            (geo::Geometry::LineString(_), _) => {
                return Err(Refusal::invalid(
                    "body.width_m (1..50000 metres) is required with a track (a LineString)",
                ));
            }
            _ => {
                return Err(Refusal::invalid(
                    "body.observed must be a Polygon or MultiPolygon (an area) or a LineString (a track)",
                ));
            }
        }
        self.window.check("body.window")?;
        if let Some(n) = &self.note {
            check_text("body.note", n, 2000)?;
        }
        Ok(self)
    }
}
