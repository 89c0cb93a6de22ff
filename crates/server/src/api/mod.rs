//! The HTTP API: routes, request limits, and the mapping of every outcome to JSON or an
//! RFC 9457 problem. Documented in `docs/api.md` and by the OpenAPI document it serves.

mod blobs;
mod entries;
mod log;
mod meta;
mod proofs;
pub mod state;

use blobs::*;
use entries::*;
use log::*;
use meta::*;
pub use meta::{openapi_document, rule_kinds};
use proofs::*;

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
        .merge(crate::api::state::routes())
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
