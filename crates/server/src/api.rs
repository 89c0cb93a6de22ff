//! The HTTP API: routes, request limits, and the mapping of every outcome to JSON or an
//! RFC 9457 problem. Documented in `docs/api.md` and by the OpenAPI document it serves.

use crate::auth::{Caller, Guard, RateLimit, SignedLimit};
use crate::problem::Problem;
use crate::service::{LogService, Prepared};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use truce_log::dsse::Envelope;
use truce_log::merkle::{parse_hash_b64, parse_hash_hex};
use truce_log::tiles::{TileRef, encode_bundle};
use truce_model::refusal::Code;
use truce_model::{Kind, Refusal};

/// Largest single-entry request body: a 64 KiB leaf plus room for white space.
pub const MAX_ENTRY_REQUEST: usize = 128 * 1024;
/// Largest batch request body.
pub const MAX_BATCH_REQUEST: usize = 32 * 1024 * 1024;
/// Most entries in one batch.
pub const MAX_BATCH_ENTRIES: usize = 4096;
/// Largest blob.
pub const MAX_BLOB: usize = 16 * 1024 * 1024;
/// Time allowed for a whole request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

type ApiResult = Result<Response, Problem>;

/// Builds the router for a service, with the default per-member rate limit.
pub fn router(service: LogService) -> Router {
    router_with(service, RateLimit::default())
}

/// Response headers every answer carries: no sniffing, no framing, no referrer, no scripts or
/// other content loaded by what we serve (a route may set its own policy first).
fn security_headers() -> impl tower::Layer<
    axum::routing::Route,
    Service = impl tower::Service<
        axum::extract::Request,
        Response = Response,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone
              + Send
              + Sync
              + 'static,
> + Clone {
    use tower_http::set_header::SetResponseHeaderLayer as Set;
    let h = |name: &'static str, value: &'static str| {
        Set::if_not_present(
            header::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    tower::ServiceBuilder::new()
        .layer(h("x-content-type-options", "nosniff"))
        .layer(h("x-frame-options", "DENY"))
        .layer(h("referrer-policy", "no-referrer"))
        .layer(h(
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
}

/// Builds the router with a given per-member rate limit.
pub fn router_with(service: LogService, limit: RateLimit) -> Router {
    let guard = Guard::new(service.clone(), limit);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/mechanism", get(mechanism))
        .route("/v1/entries", axum::routing::post(post_entry))
        .route("/v1/entries/batch", axum::routing::post(post_batch))
        .route("/v1/entries/{index}", get(get_entry))
        .route("/v1/entries/{index}/receipt", get(get_receipt))
        .route("/v1/entries/{index}/tlog-proof", get(get_tlog_proof))
        .route("/v1/checkpoints/latest", get(checkpoint_latest))
        .route("/v1/checkpoints/{size}", get(checkpoint_at))
        .route("/v1/witnesses", get(witnesses))
        .route("/v1/proofs/inclusion", get(inclusion_proof))
        .route("/v1/proofs/consistency", get(consistency_proof))
        .route("/v1/schemas", get(schemas))
        .route("/v1/schemas/{kind}", get(schema))
        .route("/v1/blobs/{sha256}", get(get_blob).put(put_blob))
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/tile/{*path}", get(tile))
        .merge(crate::read_api::routes())
        .merge(crate::stream::routes())
        .merge(crate::web::routes())
        .fallback(|| async { Problem::not_found("no such endpoint; see /v1/openapi.json") })
        .method_not_allowed_fallback(|| async {
            Problem::of(Code::MethodNotAllowed,
                "this endpoint does not accept that method; see /v1/openapi.json",
            )
        })
        .layer(
            tower::ServiceBuilder::new()
                .layer(tower_http::trace::TraceLayer::new_for_http())
                .layer(axum::error_handling::HandleErrorLayer::new(|_: tower::BoxError| async {
                    Problem::of(Code::Timeout,
                        format!(
                            "the request did not complete within {} s; an entry may or may not have been logged: resubmit the same envelope to get its receipt",
                            REQUEST_TIMEOUT.as_secs()
                        ),
                    )
                }))
                .layer(tower::timeout::TimeoutLayer::new(REQUEST_TIMEOUT))
                .layer(axum::extract::DefaultBodyLimit::disable())
                .layer(axum::middleware::from_fn_with_state(guard, crate::auth::guard))
                .layer(axum::middleware::from_fn_with_state(
                    service.clone(),
                    read_only_mirror,
                )),
        )
        .layer(security_headers())
        .with_state(service)
}

/// On a mirror, every method that would write is refused (405, `Allow: GET, HEAD`).
async fn read_only_mirror(
    State(s): State<LogService>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let reads = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    match s.mirror_of() {
        Some(upstream) if !reads => {
            let mut r = Problem::of(Code::ReadOnlyMirror,
                format!(
                    "this server is a read-only mirror of {upstream}; submit entries and blobs to the log's own server"
                ),
            )
            .into_response();
            r.headers_mut().insert(
                axum::http::header::ALLOW,
                axum::http::HeaderValue::from_static("GET, HEAD"),
            );
            r
        }
        _ => next.run(req).await,
    }
}

/// Reads a body up to `limit` bytes, answering 413 beyond.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, Problem> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let inner = e.into_inner();
        if inner
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            Problem::too_large(limit)
        } else {
            Problem::bad_request(format!("could not read the request body: {inner}"))
        }
    })
}

fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    (status, Json(value)).into_response()
}

fn text_response(
    body: impl Into<Body>,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let mut res = Response::new(body.into());
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

fn parse_index(s: &str) -> Result<u64, Problem> {
    s.parse::<u64>().map_err(|_| {
        Problem::bad_request(format!(
            "`{}` is not an entry index (a non-negative integer)",
            s.chars().take(40).collect::<String>()
        ))
    })
}

async fn healthz(State(s): State<LogService>) -> Response {
    if !s.sequencer_running() {
        return Problem::unavailable(
            "the sequencer has stopped: no entry can be logged; restart the server",
        )
        .into_response();
    }
    json_response(
        StatusCode::OK,
        &json!({"status": "ok", "tree_size": s.checkpoint().size}),
    )
}

async fn openapi() -> Response {
    json_response(StatusCode::OK, &openapi_document())
}

/// The OpenAPI 3.1 document: the hand-written paths of `docs/openapi.json` plus the body
/// schemas generated from the model.
pub fn openapi_document() -> serde_json::Value {
    let mut doc: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/openapi.json")).unwrap_or_default();
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

fn camel(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

async fn mechanism(State(s): State<LogService>) -> Response {
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

/// A token sent with a submission must be the entry author's. Checked on the entry as
/// admission parsed it (the same parse the sequencer uses), for a single entry and for each
/// entry of a batch alike.
fn check_token_author(caller: Option<&Caller>, prepared: &Prepared) -> Result<(), Refusal> {
    match (caller, prepared.author()) {
        (Some(c), Some(a)) if a != c.member => Err(Refusal::new(
            truce_model::refusal::Code::TokenMemberMismatch,
            format!(
                "the entry is by `{a}` but the token belongs to `{}`; send the author's token or none",
                c.member
            ),
        )),
        _ => Ok(()),
    }
}

async fn post_entry(
    State(s): State<LogService>,
    caller: Option<Extension<Caller>>,
    limit: Option<Extension<SignedLimit>>,
    body: Body,
) -> ApiResult {
    let bytes = read_body(body, MAX_ENTRY_REQUEST).await?;
    let prepared = s
        .prepare_blocking(bytes.to_vec())
        .await
        .map_err(Problem::from)?;
    check_token_author(caller.as_deref(), &prepared).map_err(Problem::from)?;
    if let (Some(limit), Some(author)) = (limit, prepared.verified_author())
        && let Some(res) = limit.refusal(author)
    {
        return Ok(res);
    }
    let admitted = s.submit_prepared(prepared).await.map_err(Problem::from)?;
    let status = if admitted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut res = json_response(status, &admitted.receipt);
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/entries/{}", admitted.receipt.index)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

async fn post_batch(
    State(s): State<LogService>,
    caller: Option<Extension<Caller>>,
    limit: Option<Extension<SignedLimit>>,
    guard: Option<Extension<Arc<Guard>>>,
    body: Body,
) -> ApiResult {
    let bytes = read_body(body, MAX_BATCH_REQUEST).await?;
    let items: Vec<Box<RawValue>> = serde_json::from_slice(&bytes).map_err(|e| {
        Problem::bad_request(format!("a batch is a JSON array of DSSE envelopes: {e}"))
    })?;
    if items.len() > MAX_BATCH_ENTRIES {
        return Err(Problem::of(
            Code::BatchTooLarge,
            format!(
                "{} entries in one batch; the limit is {MAX_BATCH_ENTRIES}",
                items.len()
            ),
        ));
    }
    let now = Timestamp::now();
    // With a token, every entry counts against its member's rate (the request itself was
    // counted by the guard): entries beyond what the bucket holds are refused before any
    // work is spent on them.
    let mut over_limit = Vec::new();
    let mut items = items;
    if let (Some(c), Some(g)) = (caller.as_deref(), guard.as_deref())
        && items.len() > 1
    {
        let (granted, retry) = g.take_entries(&c.member, items.len() - 1);
        let keep = granted + 1;
        if keep < items.len() {
            let detail = g.limit_detail(&c.member, retry);
            over_limit = vec![detail; items.len() - keep];
            items.truncate(keep);
        }
    }
    // Admission is CPU-bound (signature checks): spread it over the blocking pool.
    let chunks = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let chunk_len = items.len().div_ceil(chunks).max(1);
    let mut tasks = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let tail = rest.split_off(chunk_len.min(rest.len()));
        let chunk = std::mem::replace(&mut rest, tail);
        let svc = s.clone();
        let caller = caller.as_deref().cloned();
        tasks.push(tokio::task::spawn_blocking(move || {
            chunk
                .iter()
                .map(|raw| {
                    let prepared = svc.prepare(raw.get().as_bytes(), now)?;
                    check_token_author(caller.as_ref(), &prepared)?;
                    Ok(prepared)
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut prepared = Vec::new();
    for t in tasks {
        prepared.extend(
            t.await
                .map_err(|_| Problem::unavailable("admission worker failed; retry"))?,
        );
    }
    if let Some(limit) = limit {
        // Without a token, each new entry counts against the rate of the author its
        // signature verified, as a single submission would.
        for item in &mut prepared {
            let Some(author) = item.as_ref().ok().and_then(|p| p.verified_author()) else {
                continue;
            };
            if let Err((detail, _)) = limit.take(author) {
                *item = Err(Refusal::new(
                    truce_model::refusal::Code::RateLimited,
                    detail,
                ));
            }
        }
    }
    prepared.extend(over_limit.into_iter().map(|detail| {
        Err(Refusal::new(
            truce_model::refusal::Code::RateLimited,
            detail,
        ))
    }));
    /// One batch result: a receipt or a problem, then its status.
    #[derive(serde::Serialize)]
    struct Item {
        #[serde(skip_serializing_if = "Option::is_none")]
        receipt: Option<truce_log::Receipt>,
        #[serde(skip_serializing_if = "Option::is_none")]
        problem: Option<Problem>,
        status: u16,
    }
    #[derive(serde::Serialize)]
    struct Results {
        results: Vec<Item>,
    }
    let results = s
        .submit_many(prepared)
        .await
        .into_iter()
        .map(|r| match r {
            Ok(a) => Item {
                status: if a.created { 201 } else { 200 },
                receipt: Some(a.receipt),
                problem: None,
            },
            Err(r) => Item {
                status: r.status,
                receipt: None,
                problem: Some(Problem::from(r)),
            },
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Results { results }))
}

async fn get_entry(
    State(s): State<LogService>,
    caller: Option<Extension<Caller>>,
    Path(index): Path<String>,
) -> ApiResult {
    let index = parse_index(&index)?;
    let size = s.checkpoint().size;
    if index >= size {
        return Err(Problem::not_found(format!(
            "no entry {index}; the log has {size} entries"
        )));
    }
    let leaves = s
        .store()
        .leaves(index, index + 1)
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    let leaf = leaves
        .into_iter()
        .next()
        .ok_or_else(|| Problem::not_found(format!("no entry {index}")))?;
    // The leaf verbatim (its hash is the leaf hash), not a re-serialisation.
    let envelope = String::from_utf8(leaf.clone())
        .ok()
        .and_then(|s| RawValue::from_string(s).ok())
        .ok_or_else(|| Problem::unavailable(format!("stored entry {index} is not JSON")))?;
    let mut payload = Envelope::parse(&leaf)
        .ok()
        .and_then(|e| serde_json::from_slice::<serde_json::Value>(&e.payload).ok());
    if let Some(p) = payload.as_mut() {
        crate::auth::mark_sealed(caller.as_deref(), p);
    }
    #[derive(serde::Serialize)]
    struct EntryView<'a> {
        index: u64,
        leaf_hash: String,
        /// Serialised verbatim: the stored leaf bytes.
        envelope: &'a RawValue,
        entry: Option<serde_json::Value>,
    }
    Ok(json_response(
        StatusCode::OK,
        &EntryView {
            index,
            leaf_hash: truce_log::merkle::leaf_hash(&leaf).to_string(),
            envelope: &envelope,
            entry: payload,
        },
    ))
}

async fn get_receipt(State(s): State<LogService>, Path(index): Path<String>) -> ApiResult {
    let index = parse_index(&index)?;
    let r = s.receipt(index).map_err(Problem::from)?;
    Ok(json_response(StatusCode::OK, &r))
}

async fn get_tlog_proof(State(s): State<LogService>, Path(index): Path<String>) -> ApiResult {
    let index = parse_index(&index)?;
    let r = s.receipt(index).map_err(Problem::from)?;
    let proof = r.to_tlog_proof();
    let mut res = text_response(proof.to_bytes(), "text/plain; charset=utf-8", "no-cache");
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"entry-{index}.tlog-proof\""
    )) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: Option<String>,
    leaf_hash: Option<String>,
    tree_size: Option<String>,
}

async fn inclusion_proof(
    State(s): State<LogService>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = InclusionQuery {
        index: q.get("index").cloned(),
        leaf_hash: q.get("leaf_hash").cloned(),
        tree_size: q.get("tree_size").cloned(),
    };
    let size = match &q.tree_size {
        Some(t) => t
            .parse::<u64>()
            .map_err(|_| Problem::bad_request("tree_size must be a non-negative integer"))?,
        None => s.checkpoint().size,
    };
    let index = match (&q.index, &q.leaf_hash) {
        (Some(i), None) => parse_index(i)?,
        (None, Some(h)) => {
            let hash = parse_hash_b64(h)
                .or_else(|| parse_hash_hex(h))
                .ok_or_else(|| {
                    Problem::bad_request("leaf_hash must be a SHA-256 in base64 or hex")
                })?;
            s.find_leaf(&hash)
                .ok_or_else(|| Problem::not_found("no entry has that leaf hash"))?
        }
        _ => {
            return Err(Problem::bad_request(
                "give exactly one of `index` or `leaf_hash`",
            ));
        }
    };
    let (proof, leaf) = s
        .with_hashes(|h, committed| {
            if size > committed {
                return Err(Problem::bad_request(format!(
                    "tree_size {size} is beyond the latest checkpoint ({committed})"
                )));
            }
            let proof = h
                .prove_inclusion(size, index)
                .map_err(|e| Problem::bad_request(e.to_string()))?;
            Ok((proof, h.read_leaf_hash(index)))
        })
        .map_err(Problem::from)??;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "index": index,
            "tree_size": size,
            "leaf_hash": leaf.map(|h| h.to_string()),
            "proof": proof.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        }),
    ))
}

async fn consistency_proof(
    State(s): State<LogService>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let num = |k: &str| -> Result<u64, Problem> {
        q.get(k)
            .ok_or_else(|| Problem::bad_request(format!("query parameter `{k}` is required")))?
            .parse::<u64>()
            .map_err(|_| Problem::bad_request(format!("`{k}` must be a non-negative integer")))
    };
    let (from, to) = (num("from")?, num("to")?);
    let proof = s
        .with_hashes(|h, committed| {
            if to > committed {
                return Err(Problem::bad_request(format!(
                    "`to` {to} is beyond the latest checkpoint ({committed})"
                )));
            }
            h.prove_consistency(to, from)
                .map_err(|e| Problem::bad_request(e.to_string()))
        })
        .map_err(Problem::from)??;
    Ok(json_response(
        StatusCode::OK,
        &json!({"from": from, "to": to, "proof": proof.iter().map(|h| h.to_string()).collect::<Vec<_>>()}),
    ))
}

async fn schemas() -> Response {
    let mut all = serde_json::Map::new();
    all.insert("entry".into(), truce_model::schema::entry_schema());
    for k in Kind::ALL {
        all.insert(k.as_str().into(), truce_model::schema::body_schema(k));
    }
    json_response(StatusCode::OK, &all)
}

async fn schema(Path(kind): Path<String>) -> ApiResult {
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

fn check_sha256_path(sha: &str) -> Result<(), Problem> {
    truce_model::ids::check_sha256_hex("path", sha).map_err(|r| Problem::bad_request(r.detail))
}

async fn put_blob(State(s): State<LogService>, Path(sha): Path<String>, body: Body) -> ApiResult {
    check_sha256_path(&sha)?;
    let bytes = read_body(body, MAX_BLOB).await?;
    let got = hex::encode(Sha256::digest(&bytes));
    if got != sha {
        return Err(Problem::of(
            Code::BlobHashMismatch,
            format!(
                "the body's SHA-256 is {got}, not {sha}; blobs are stored under the hash of their bytes"
            ),
        ));
    }
    let store = s.store().clone();
    let created = tokio::task::spawn_blocking(move || store.put_blob(&sha, &bytes))
        .await
        .map_err(|_| Problem::unavailable("blob worker failed"))?
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(
        status,
        &json!({"sha256": got, "created": created}),
    ))
}

async fn get_blob(
    State(s): State<LogService>,
    Path(sha): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    check_sha256_path(&sha)?;
    let data = s
        .store()
        .get_blob(&sha)
        .map_err(|e| Problem::unavailable(e.to_string()))?
        .ok_or_else(|| {
            Problem::not_found(format!("no blob {sha}; upload it with PUT /v1/blobs/{sha}"))
        })?;
    let etag = format!("\"{sha}\"");
    let etag_value = HeaderValue::from_str(&etag).ok();
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        if let Some(v) = etag_value {
            res.headers_mut().insert(header::ETAG, v);
        }
        return Ok(res);
    }
    let mut res = text_response(
        data,
        "application/octet-stream",
        "public, max-age=31536000, immutable",
    );
    if let Some(v) = etag_value {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}

async fn checkpoint_at(State(s): State<LogService>, Path(size): Path<String>) -> ApiResult {
    let size = parse_index(&size)?;
    let tree_size = s.checkpoint().size;
    if size > tree_size {
        return Err(Problem::not_found(format!(
            "no checkpoint for tree size {size}: the log holds {tree_size} entries"
        )));
    }
    let note = s
        .store()
        .checkpoint_at(size)
        .map_err(|e| Problem::unavailable(e.to_string()))?
        .ok_or_else(|| {
            Problem::not_found(format!("no checkpoint was issued for tree size {size}"))
        })?;
    Ok(text_response(
        note,
        "text/plain; charset=utf-8",
        "public, max-age=31536000, immutable",
    ))
}

/// The tlog-tiles checkpoint: when the agreement names witnesses, the newest checkpoint whose
/// cosignatures meet its policy, with them; otherwise the newest checkpoint.
async fn checkpoint(State(s): State<LogService>) -> Response {
    if !s.has_witnesses() {
        return text_response(
            s.checkpoint().note,
            "text/plain; charset=utf-8",
            "no-cache, max-age=0",
        );
    }
    match s.cosigned().best() {
        Some(g) => text_response(
            g.cosigned_note(),
            "text/plain; charset=utf-8",
            "no-cache, max-age=0",
        ),
        None => no_quorum_yet(),
    }
}

fn no_quorum_yet() -> Response {
    let mut res = Problem::of(Code::NoWitnessQuorum,
        "the agreement's witness policy is not met by any checkpoint gathered since the server started; see /v1/witnesses for each witness's state, or read /v1/checkpoints/latest?cosigned=any",
    )
    .into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    res
}

/// `cosigned=policy` (the default): the newest checkpoint that meets the witness policy;
/// `cosigned=any`: the newest checkpoint, with whatever cosignatures it has. (Read as a map,
/// so that a malformed query gets a problem, not the extractor's plain-text rejection.)
async fn checkpoint_latest(
    State(s): State<LogService>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match q.get("cosigned").map(String::as_str) {
        None | Some("policy") => checkpoint(State(s)).await,
        Some("any") => {
            let cp = s.checkpoint();
            let note = s
                .cosigned()
                .at(cp.size)
                .map_or(cp.note, |g| g.cosigned_note());
            text_response(note, "text/plain; charset=utf-8", "no-cache, max-age=0")
        }
        Some(other) => Problem::bad_request(format!(
            "cosigned must be `policy` or `any`, not `{}`",
            other.chars().take(20).collect::<String>()
        ))
        .into_response(),
    }
}

/// The agreement's witnesses, what each one last answered, and the policy's verdict on the
/// newest checkpoint that met it.
async fn witnesses(State(s): State<LogService>) -> Response {
    let Some(w) = s.witnesses() else {
        return json_response(
            StatusCode::OK,
            &serde_json::json!({"witnesses": [], "policy": null, "best": null, "equivocations": []}),
        );
    };
    let status = s.cosigned().status();
    let list: Vec<_> = w
        .list
        .iter()
        .map(|d| {
            let name = truce_log::cosignature::CosignatureVerifier::new(&d.verifier_key)
                .map(|v| v.name().to_owned())
                .unwrap_or_default();
            let st = status.iter().find(|x| x.name == name);
            serde_json::json!({
                "name": name,
                "party": d.party,
                "verifier_key": d.verifier_key,
                "url": st.and_then(|x| x.url.clone()).or(d.url.clone()),
                "holds": st.and_then(|x| x.holds),
                "last_cosigned": st.and_then(|x| x.last_cosigned),
                "error": st.and_then(|x| x.error.clone()),
            })
        })
        .collect();
    let best = s.cosigned().best().map(|g| {
        let v = crate::cosign::verdict(&w, &g);
        serde_json::json!({
            "size": g.size,
            "cosigned_by": g.cosignatures.iter().map(|c| serde_json::json!({"name": c.name, "timestamp": c.timestamp})).collect::<Vec<_>>(),
            "fresh": v.fresh,
            "newest": v.newest,
        })
    });
    json_response(
        StatusCode::OK,
        &serde_json::json!({"witnesses": list, "policy": w.policy, "best": best, "equivocations": s.cosigned().equivocations()}),
    )
}

/// Gzips an entry bundle when the client accepts it (tlog-tiles: bundles SHOULD be compressed).
fn maybe_gzip(data: Vec<u8>, headers: &HeaderMap) -> (Vec<u8>, bool) {
    use std::io::Write as _;
    let accepts = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|e| e.trim().split(';').next() == Some("gzip"))
        });
    if !accepts {
        return (data, false);
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    match enc.write_all(&data).and_then(|()| enc.finish()) {
        Ok(gz) => (gz, true),
        Err(_) => (data, false),
    }
}

async fn tile(
    State(s): State<LogService>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    let full = format!("tile/{path}");
    let t = TileRef::parse(&full).map_err(|e| Problem::not_found(e.to_string()))?;
    let size = s.checkpoint().size;
    if !t.available_in(size) {
        return Err(Problem::not_found(format!(
            "{full} is beyond the current tree (size {size})"
        )));
    }
    let data = match t.level {
        Some(_) => s
            .with_hashes(|h, committed| t.hash_tile(h, committed))
            .map_err(Problem::from)?
            .map_err(|e| Problem::not_found(e.to_string()))?,
        None => {
            let r = t.entry_range();
            let leaves = s
                .store()
                .leaves(r.start, r.end)
                .map_err(|e| Problem::unavailable(e.to_string()))?;
            encode_bundle(leaves.iter().map(Vec::as_slice))
                .map_err(|e| Problem::unavailable(e.to_string()))?
        }
    };
    let (data, gzipped) = if t.level.is_none() {
        maybe_gzip(data, &headers)
    } else {
        (data, false)
    };
    let mut res = text_response(
        data,
        "application/octet-stream",
        "public, max-age=31536000, immutable",
    );
    if t.level.is_none() {
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if gzipped {
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(res)
}
