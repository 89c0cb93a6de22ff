//! RFC 9457 problem details (`application/problem+json`) for every error the API returns.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use truce_model::Refusal;
use truce_model::refusal::Code;

/// A problem: `type` is `urn:truce:problem:<code>` (listed in docs/api.md).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Seconds for `Retry-After` (not part of the problem object).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of `code` (its status and title from the one table, `truce_model::refusal::Code`).
    pub fn of(code: Code, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("urn:truce:problem:{}", code.slug()),
            title: code.title().into(),
            status: code.status(),
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::of(Code::BadRequest, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::of(Code::NotFound, detail)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::of(
            Code::RequestTooLarge,
            format!(
                "request body exceeds {limit} bytes; entries are at most 65535 bytes (evidence goes to PUT /v1/blobs/{{sha256}})"
            ),
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::of(Code::Unavailable, detail)
    }
}

impl From<Refusal> for Problem {
    fn from(r: Refusal) -> Self {
        Self::of(r.kind, r.detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §15.5.2: a 401 carries at least one challenge, whichever path made it
            // (a missing token, a bad one, or an entry whose signature does not verify).
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(WWW_AUTHENTICATE_CHALLENGE),
            );
        }
        res
    }
}

/// The challenge every 401 carries: API tokens are bearer tokens (RFC 6750).
pub const WWW_AUTHENTICATE_CHALLENGE: &str = "Bearer realm=\"truce\"";
