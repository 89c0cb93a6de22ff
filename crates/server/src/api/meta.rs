//! The mechanism itself: health, the OpenAPI document, the mechanism's description, the body schemas.

use super::*;

pub(super) async fn healthz(State(s): State<LogService>) -> Response {
    if !s.sequencer_running() {
        return Problem::unavailable(
            "the sequencer has stopped: no entry can be logged; restart the server",
        )
        .into_response();
    }
    let store = s.store().clone();
    let backend = store.backend();
    let ping = tokio::task::spawn_blocking(move || store.ping()).await;
    if let Err(e) = ping
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
    {
        return Problem::unavailable(format!(
            "the database ({backend}) does not answer: {e}; the server reconnects by itself once it is back"
        ))
        .into_response();
    }
    let tree_size = s.checkpoint().size;
    let applied = s.derived().applied_size();
    json_response(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "tree_size": tree_size,
            "applied_size": applied,
            "apply_lag": tree_size.saturating_sub(applied),
            "database": backend,
        }),
    )
}

pub(super) async fn openapi() -> Response {
    json_response(StatusCode::OK, &openapi_document())
}

/// The OpenAPI 3.1 document: the hand-written paths of `docs/openapi.json` plus the body
/// schemas generated from the model.
pub fn openapi_document() -> serde_json::Value {
    let mut doc: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/openapi.json")).unwrap_or_default();
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(|v| v.as_object_mut())
    {
        for kind in Kind::ALL {
            let mut s = truce_model::schema::body_schema(kind);
            if let Some(o) = s.as_object_mut() {
                o.remove("$schema");
                o.remove("$id");
            }
            schemas.insert(format!("{}Body", camel(kind.as_str())), s);
        }
        schemas.insert("Entry".into(), truce_model::schema::entry_schema());
    }
    // The rule kinds come from the code, so that the document cannot lag a new kind.
    if let Some(e) = doc.pointer_mut("/components/schemas/Finding/properties/rule_kind/enum") {
        *e = rule_kinds();
    }
    doc
}

/// Every rule kind's wire name, as a JSON array.
pub fn rule_kinds() -> serde_json::Value {
    truce_model::rules::RuleKind::ALL
        .iter()
        .map(|k| k.wire())
        .collect::<Vec<_>>()
        .into()
}

pub(super) fn camel(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

pub(super) async fn mechanism(State(s): State<LogService>) -> Response {
    let registry = s.registry();
    let annexes = s.annexes();
    let cp = s.checkpoint();
    let agreement = registry.agreement().map(|a| {
        json!({
            "index": a.index,
            "payload_sha256": a.payload_sha256,
            "title": a.body.title,
            "version": a.body.version,
            "effective": a.body.effective,
            "in_force": registry.in_force(),
            "ratified_by": a.ratified,
            "awaiting_ratification": registry.awaiting_ratification(),
            "suspended_parties": registry.suspended_parties(),
            // A logged amendment awaiting ratification: what a ratification names until it is
            // in force.
            "pending": registry.pending_amendment().map(|p| json!({
                "index": p.index,
                "payload_sha256": p.payload_sha256,
                "title": p.body.title,
                "version": p.body.version,
                "effective": p.body.effective,
                "ratified_by": p.ratified,
            })),
            "parties": a.body.parties,
            "rules": a.body.rules,
            "witnesses": a.body.witnesses,
            "sources": a.body.sources,
            "membership": a.body.membership,
        })
    });
    let members: Vec<_> = registry
        .members()
        .map(|m| {
            json!({
                "id": m.id, "party": m.party, "role": m.role, "status": m.status,
                "name": m.name, "key_id": m.key_id, "encryption_key": m.encryption_key,
                "public_key": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, m.key.as_bytes()),
            })
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "origin": s.origin(),
            "verifier_key": s.verifier_key(),
            "tree_size": cp.size,
            "checkpoint": String::from_utf8_lossy(&cp.note),
            "agreement": agreement,
            "members": members,
            "zones": annexes.zones,
            "places": annexes.places,
            "mirror_of": s.mirror_of(),
        }),
    )
}

pub(super) async fn schemas() -> Response {
    let mut all = serde_json::Map::new();
    all.insert("entry".into(), truce_model::schema::entry_schema());
    for k in Kind::ALL {
        all.insert(k.as_str().into(), truce_model::schema::body_schema(k));
    }
    json_response(StatusCode::OK, &all)
}

pub(super) async fn schema(Path(kind): Path<String>) -> ApiResult {
    let schema = if kind == "entry" {
        truce_model::schema::entry_schema()
    } else {
        let k = Kind::parse(&kind).ok_or_else(|| {
            Problem::not_found(format!(
                "no kind `{}`; kinds: entry, {}",
                kind.chars().take(40).collect::<String>(),
                Kind::ALL.map(Kind::as_str).join(", ")
            ))
        })?;
        truce_model::schema::body_schema(k)
    };
    let mut res = json_response(StatusCode::OK, &schema);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/schema+json"),
    );
    Ok(res)
}
