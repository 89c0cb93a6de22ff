//! The OpenAPI document matches the router: every route is documented, every documented path
//! is routed, and the document is OpenAPI 3.1 with the generated body schemas.

use std::collections::BTreeSet;

/// Paths as the router declares them (`{param}` and `{*rest}` placeholders).
fn routed() -> BTreeSet<String> {
    [
        include_str!("../src/api.rs"),
        include_str!("../src/read_api.rs"),
        include_str!("../src/stream.rs"),
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
