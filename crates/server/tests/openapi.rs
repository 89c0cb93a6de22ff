//! The OpenAPI document matches the router: every route is documented, every documented path
//! is routed, and the document is OpenAPI 3.1 with the generated body schemas.

use std::collections::BTreeSet;

/// Paths as the router declares them (`{param}` and `{*rest}` placeholders).
fn routed() -> BTreeSet<String> {
    [
        include_str!("../src/api/mod.rs"),
        include_str!("../src/api/state.rs"),
        include_str!("../src/stream.rs"),
        include_str!("../src/web.rs"),
    ]
    .iter()
    .flat_map(|src| src.lines())
    .filter_map(|l| l.split_once(".route(\"").map(|(_, rest)| rest))
    .filter_map(|l| l.split('"').next())
    .map(|p| p.replace("{*path}", "{path}").replace("{*id}", "{id}"))
    .collect()
}

#[test]
fn every_route_is_documented_and_every_documented_path_is_routed() {
    let doc = truce_server::api::openapi_document();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let routed = routed();
    assert!(routed.len() >= 15, "parsed the router: {routed:?}");
    assert_eq!(routed, documented, "routes vs documented paths");
}

#[test]
fn body_schemas_of_every_kind_are_in_the_components() {
    let doc = truce_server::api::openapi_document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for kind in truce_model::Kind::ALL {
        let name = format!(
            "{}{}Body",
            kind.as_str()[..1].to_uppercase(),
            &kind.as_str()[1..]
        );
        let s = &schemas[&name];
        assert!(s.is_object(), "{name} missing");
        assert!(
            s.get("$schema").is_none() && s.get("$id").is_none(),
            "{name} is embeddable"
        );
    }
    // Every $ref points inside the document.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = r.split('"').next().unwrap();
        let pointer = target.strip_prefix('#').expect("local ref");
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {target}");
    }
}

#[test]
fn the_documented_rule_kinds_are_the_codes() {
    // docs/openapi.json as committed (read by people and tools before any server runs) lists
    // exactly the engine's rule kinds; the served document takes them from the code.
    let file: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/openapi.json")).unwrap();
    let path = "/components/schemas/Finding/properties/rule_kind/enum";
    assert_eq!(
        file.pointer(path).unwrap(),
        &truce_server::api::rule_kinds(),
        "update {path} in docs/openapi.json"
    );
    assert_eq!(
        truce_server::api::openapi_document().pointer(path).unwrap(),
        &truce_server::api::rule_kinds()
    );
}

#[test]
fn openapi_drift_regression() {
    let doc = truce_server::api::openapi_document();
    // Finding ids contain `/`: the path parameter's pattern accepts real ids.
    let pattern = doc
        .pointer("/paths/~1v1~1findings~1{id}/get/parameters/0/schema/pattern")
        .and_then(|p| p.as_str())
        .unwrap();
    for id in [
        "no-hostile-acts/e12",
        "withdrawal-to-1974-lines/IL",
        "green-light-protection/e31/n24",
    ] {
        assert!(matches_finding_id(pattern, id), "{id} against {pattern}");
    }
    // Answers to notices have no rule: a deadline's `rule` is optional.
    let required = doc
        .pointer("/components/schemas/Deadline/required")
        .and_then(|r| r.as_array())
        .unwrap();
    assert!(!required.iter().any(|r| r == "rule"));
    // Attestations carry the documented `status`.
    assert!(
        doc.pointer("/paths/~1v1~1attestations/get/responses/200/content/application~1json/schema/properties/attestations/items/properties/status")
            .is_some()
    );
}

/// The finding-id pattern of the document, `^[a-z0-9][a-z0-9-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)+$`,
/// checked by hand (no regex engine among the test's dependencies): the test fails if the
/// document's pattern changes, so the two cannot drift apart silently.
fn matches_finding_id(pattern: &str, id: &str) -> bool {
    assert_eq!(
        pattern,
        "^[a-z0-9][a-z0-9-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)+$"
    );
    let mut parts = id.split('/');
    let rule = parts.next().unwrap_or_default();
    let rule_ok = rule
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && rule
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let rest: Vec<&str> = parts.collect();
    rule_ok
        && !rest.is_empty()
        && rest.iter().all(|p| {
            p.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}
