//! The crate's single error type.

/// Everything that can go wrong when reading, checking or building geometry.
///
/// `at` fields name the place of the problem as precisely as the input allows, e.g.
/// `feature "line-a": geometry.coordinates[3]` or `feature [2]` (position in the `features`
/// array when the feature has no usable id).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GeoError {
    /// The text is not JSON at all.
    #[error("invalid json: {0}")]
    Json(String),
    /// The document is JSON but not an RFC 7946 FeatureCollection.
    #[error("not a geojson FeatureCollection: {0}")]
    NotFeatureCollection(String),
    /// A `"crs"` member was found (RFC 7946 §4 removed it).
    #[error(
        "{at}: \"crs\" member is not allowed (RFC 7946 removed it; coordinates are always WGS 84 longitude, latitude): remove it"
    )]
    CrsMember {
        /// Where the member was found.
        at: String,
    },
    /// A feature's `"id"` is missing, malformed or already used.
    #[error("{at}: {problem}")]
    Id {
        /// Which feature.
        at: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A feature's structure or one of its required properties is wrong.
    #[error("{at}: {problem}")]
    Feature {
        /// Which feature (and property).
        at: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The geometry type is not one a zone may have.
    #[error(
        "{at}: unsupported geometry type {found}; use Polygon, MultiPolygon, LineString or MultiLineString"
    )]
    UnsupportedGeometry {
        /// Which geometry.
        at: String,
        /// The type that was found (JSON-quoted when it is a string).
        found: String,
    },
    /// A position or coordinate array is malformed or out of range.
    #[error("{at}: {problem}")]
    Coordinates {
        /// Path to the position or array.
        at: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The geometry is well-formed GeoJSON but not a valid simple feature (OGC rules, as geo's
    /// `Validation` has them), or a polygon encloses less than [`crate::MIN_POLYGON_AREA_M2`].
    #[error("{at}: invalid {kind}: {reason}")]
    InvalidGeometry {
        /// Which geometry.
        at: String,
        /// `polygon`, `multipolygon`, `linestring` or `multilinestring`.
        kind: &'static str,
        /// What is wrong, and where.
        reason: String,
    },
    /// A geometry, or a zones document, has more vertices than allowed.
    #[error(
        "{at}: {found} vertices (GeoJSON positions); at most {limit} are allowed {scope}: simplify the geometry"
    )]
    TooManyVertices {
        /// Which geometry or document.
        at: String,
        /// How many it has.
        found: usize,
        /// The limit ([`crate::MAX_ZONE_VERTICES`] or [`crate::MAX_ZONES_DOCUMENT_VERTICES`]).
        limit: usize,
        /// What the limit is for, e.g. `in one geometry`.
        scope: &'static str,
    },
    /// An input of a scenario build is missing or malformed.
    #[error("source {name}: {problem}")]
    Source {
        /// Which input (file name or role).
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// A geometric construction produced something unusable.
    #[error("building {what}: {problem}")]
    Construction {
        /// What was being built.
        what: String,
        /// What went wrong.
        problem: String,
    },
}
