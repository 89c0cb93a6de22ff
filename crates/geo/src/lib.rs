//! `truce-geo`: the geography of an agreement.
//!
//! What this crate is:
//! - a strict reader of agreement zones ([`parse_zones`], [`parse_geometry`]): RFC 7946 GeoJSON,
//!   WGS 84 longitude/latitude, polygons and lines only, every problem reported with the feature
//!   and the position to fix;
//! - geodesic measurement on the WGS 84 ellipsoid ([`geodesic_distance_m`]), never on degrees;
//! - the constructions that turn source data into scenario geometry: a local azimuthal
//!   equidistant projection ([`projection`]), geodesic distance bands around an area
//!   ([`buffer`]), simplification that keeps shared borders shared ([`simplify`]), a
//!   deterministic GeoJSON writer ([`mod@write`]) and the Golan 1974 scenario build ([`golan`]);
//! - a spatial index of zones ([`ZoneIndex`]): which zones contain a point, and whether a
//!   location's uncertainty circle is certainly or possibly inside each, computed the same to
//!   the bit on every machine.
//!
//! The reader and the writer are our own rather than the `geojson` crate's: admission needs
//! what that crate does not give — a refusal naming the feature and the coordinate path to
//! fix, RFC 7946's rules applied strictly (no `crs`, closed rings, longitude and latitude
//! ranges, edges across the antimeridian refused), bounds counted on the JSON before any
//! geometry is built, and output that is byte-identical on every machine for the golden files.
//!
//! What it is not:
//! - not I/O: nothing here reads or writes files or talks to the network; callers pass text in
//!   and get text or values out;
//! - not an authority on where any line is: the scenario geometry it builds is approximate and
//!   is not the official 1974 map (see `scenarios/golan-1974/README.md`);
//! - not a general GIS: no named coordinate reference systems, no rasters, no spatial index
//!   beyond the one zone queries need.

pub mod buffer;
mod error;
mod geodesy;
pub mod golan;
mod index;
pub mod local;
mod parse;
pub mod projection;
pub mod simplify;
mod validity;
pub mod write;

pub use error::GeoError;
pub use geodesy::{area_m2, geodesic_distance_m};
pub use index::{Containment, ZoneIndex};
pub use parse::{
    DEFAULT_LAYER, ID_PATTERN, MAX_ZONE_VERTICES, MAX_ZONES_DOCUMENT_VERTICES, MIN_POLYGON_AREA_M2,
    Zone, is_valid_id, parse_geometry, parse_zones,
};
