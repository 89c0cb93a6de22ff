//! Property tests: parsing never panics, and what we build parses back.

use proptest::prelude::*;
use truce_model::Entry;
use truce_model::entry::{Kind, build_payload};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_arbitrary_bytes_never_panics(data in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Entry::parse(&data);
    }

    #[test]
    fn parsing_mutated_reports_never_panics(pos in 0usize..900, byte in any::<u8>()) {
        let body: serde_json::Value = serde_json::from_str(include_str!("../../../scenarios/golan-1974/examples/report-shelling.json")).unwrap();
        let mut payload = build_payload("o.example/x", Kind::Report, "sy.ops", "2026-11-27T00:00:00Z".parse().unwrap(), &body);
        let i = pos % payload.len();
        payload[i] = byte;
        let _ = Entry::parse(&payload);
    }

    #[test]
    fn built_reports_parse_back(lon in -180.0f64..=180.0, lat in -90.0f64..=90.0, precision in 1u32..=500_000, narrative in "[a-zA-Z0-9 .,]{1,200}") {
        prop_assume!(!narrative.trim().is_empty());
        let mut body: serde_json::Value = serde_json::from_str(include_str!("../../../scenarios/golan-1974/examples/report-shelling.json")).unwrap();
        body["location"]["point"] = serde_json::json!([lon, lat]);
        body["location"]["precision_m"] = precision.into();
        body["narrative"] = narrative.clone().into();
        let created = "2026-11-27T00:00:00Z".parse().unwrap();
        let payload = build_payload("o.example/x", Kind::Report, "sy.ops", created, &body);
        let e = Entry::parse(&payload).unwrap();
        prop_assert_eq!(e.kind, Kind::Report);
        prop_assert_eq!(e.created, created);
        let truce_model::entry::Body::Report(r) = e.body else { panic!("not a report") };
        prop_assert_eq!(r.location.point, [lon, lat]);
        prop_assert_eq!(r.narrative, narrative);
    }
}
