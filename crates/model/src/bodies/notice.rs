//! Notices of planned activity, with the areas and forces they name (shared with acknowledgements and postures).

use super::*;

/// Kinds of planned activity a notice announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    SecurityOperation,
    TroopMovement,
    Exercise,
    Flight,
    HumanitarianConvoy,
    Evacuation,
}

/// Force categories used by notices and posture.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ForceCategory {
    Personnel,
    Tanks,
    ArtilleryShortRange,
    ArtilleryLongRange,
    AirDefence,
    Aircraft,
    Vehicles,
    Brigades,
}

/// A count of forces of one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForceCount {
    pub category: ForceCategory,
    pub count: u32,
}

/// The largest area, in square metres, a notice's (or an acknowledgement's conditions')
/// geometry may enclose: 1,000,000 km².
///
/// That is 60 times all the zones of the Golan scenario together (about 16,500 km²) and more
/// than five times Syria, yet 1/255 of a hemisphere: an activity area larger than this is
/// almost certainly a misdrawn ring (a whole-globe or hemisphere box, a band round the world)
/// that would put every position inside it. Measured with [`truce_geo::area_m2`].
pub const MAX_NOTICE_AREA_M2: f64 = 1.0e12;

/// Where an activity takes place: agreement zones and/or an RFC 7946 geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Area {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    /// An RFC 7946 Polygon or MultiPolygon (WGS 84).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
}

impl Area {
    pub(super) fn check(&self, field: &str) -> Result<(), Refusal> {
        if self.zones.is_empty() && self.geometry.is_none() {
            return Err(Refusal::invalid(format!(
                "{field} needs zones or a geometry"
            )));
        }
        for z in &self.zones {
            check_slug(&format!("{field}.zones[]"), z)?;
        }
        if let Some(g) = &self.geometry {
            let geometry = truce_geo::parse_geometry(g)
                .map_err(|e| Refusal::invalid(format!("{field}.geometry: {e}")))?;
            if !matches!(
                geometry,
                geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_)
            ) {
                return Err(Refusal::invalid(format!(
                    "{field}.geometry must be a Polygon or MultiPolygon (an area)"
                )));
            }
            let area = truce_geo::area_m2(&geometry);
            if area > MAX_NOTICE_AREA_M2 {
                return Err(Refusal::invalid(format!(
                    "{field}.geometry encloses {:.0} km²; a notice area may enclose at most {:.0} km²: a box that large (a hemisphere, the whole globe, a band round the world) is almost always a misdrawn ring, so draw the area itself",
                    area / 1e6,
                    MAX_NOTICE_AREA_M2 / 1e6
                )));
            }
        }
        Ok(())
    }
}

/// What a notice entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeAction {
    File,
    Amend,
    Withdraw,
}

/// Notice of a planned activity, addressed to other parties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub action: NoticeAction,
    /// For `amend` and `withdraw`: log index of the notice it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refers_to: Option<u64>,
    pub activity: Activity,
    pub area: Area,
    pub window: TimeSpan,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forces: Vec<ForceCount>,
    pub purpose: String,
    pub addressees: Vec<String>,
    /// Need-to-know details, encrypted to named members (see `Sealed`); the rest of the body
    /// is what every member reads and what the engine uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

impl Notice {
    pub fn checked(self) -> Result<Self, Refusal> {
        match (self.action, self.refers_to) {
            (NoticeAction::File, Some(_)) => {
                return Err(Refusal::invalid(
                    "body.refers_to is only for amend and withdraw",
                ));
            }
            (NoticeAction::Amend | NoticeAction::Withdraw, None) => {
                return Err(Refusal::invalid(
                    "body.refers_to (the notice's log index) is required to amend or withdraw",
                ));
            }
            _ => {}
        }
        self.area.check("body.area")?;
        self.window.check("body.window")?;
        if let Some(s) = &self.sealed {
            s.check("body.sealed")?;
        }
        check_text("body.purpose", &self.purpose, 4000)?;
        if self.addressees.is_empty() {
            return Err(Refusal::invalid(
                "body.addressees must name at least one party",
            ));
        }
        for a in &self.addressees {
            check_party_id("body.addressees[]", a)?;
        }
        Ok(self)
    }
}
