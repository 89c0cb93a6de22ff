//! API tokens, who may call what, and per-member rate limits.
//!
//! A token is `truce_<id>_<secret>`: `id` is 16 lowercase hex digits, public, the primary key
//! of its row; `secret` is 43 characters of unpadded base64url (32 random bytes). The store
//! keeps only an argon2id hash of the secret. A verified secret is remembered in memory (as its
//! SHA-256) for [`VERIFIED_TTL`] so argon2 is not paid on every request; the row itself is read
//! on every request, so expiry, revocation and a member's suspension take effect at once.
//!
//! Who may call what is documented in `docs/access.md`; in short:
//! - `GET /healthz`, `GET /v1/openapi.json` and the dashboard's page and assets (`GET /`,
//!   `GET /assets/*`: code, no data; the page asks for a token and sends it) are open;
//! - every other read needs a valid token of an active member (any role);
//! - `POST /v1/entries` and `/v1/entries/batch` are authenticated by each entry's signature; a
//!   token, if sent, must be a `write` token of the entry's author;
//! - `PUT /v1/blobs/{sha256}` needs a `write` token of a member who may submit entries (not an
//!   auditor).

use crate::problem::Problem;
use crate::service::LogService;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use truce_model::agreement::PartyRole;
use truce_model::bodies::MemberRole;
use truce_model::registry::MemberStatus;
use truce_store::TokenRecord;

/// How long a verified secret is remembered (revocation does not wait for it: the token's row
/// is checked on every request).
pub const VERIFIED_TTL: Duration = Duration::from_secs(300);
/// Largest total size of a request's header names and values.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Checks of one token's secret by argon2 (those remembered do not count).
const ARGON2_LIMIT: RateLimit = RateLimit {
    per_second: 1.0,
    burst: 10.0,
};
/// Longest lifetime of a token.
pub const MAX_TOKEN_DAYS: i64 = 366;
const PREFIX: &str = "truce_";

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every read endpoint.
    Read,
    /// Reads, and writes as its member (entries, blob uploads).
    Write,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

/// A freshly made token: the string to hand to the member (shown once, never stored) and its
/// row.
pub struct NewToken {
    pub token: String,
    pub record: TokenRecord,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.record.id)
            .field("member", &self.record.member)
            .finish_non_exhaustive()
    }
}

/// Makes a token for `member`; `created` and `expires` are unix seconds.
pub fn new_token(
    member: &str,
    scope: Scope,
    created: i64,
    expires: i64,
) -> Result<NewToken, String> {
    let mut rng = rand::rngs::OsRng;
    let mut id = [0u8; 8];
    rng.fill_bytes(&mut id);
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let hash = argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| format!("hashing the token failed: {e}"))?
        .to_string();
    Ok(NewToken {
        token: format!("{PREFIX}{id}_{secret}"),
        record: TokenRecord {
            id,
            member: member.to_owned(),
            scope: scope.as_str().to_owned(),
            created,
            expires,
            revoked: None,
            secret_hash: hash,
        },
    })
}

/// Splits a token into its id and secret, if it has the right shape.
pub fn parse_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let secret_ok = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some((id, secret))
}

fn secret_matches(phc: &str, secret: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// The member a request acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub member: String,
    pub party: String,
    pub role: MemberRole,
    pub party_role: PartyRole,
    pub scope: Scope,
    pub token_id: String,
}

/// Whether an entry's content may be shown to a caller. Every kind logged today is shared by
/// all members and auditors (the log is the common record); a kind whose content is
/// restricted to some parties decides it here, and the match makes adding a kind a decision.
pub fn entry_visible_to(_caller: &Caller, kind: truce_model::Kind) -> bool {
    use truce_model::Kind::*;
    match kind {
        Agreement | Ratification | Membership | Report | Notice | Acknowledgement | Dispute
        | Ruling | Posture | Case | Sighting | Coverage | Attestation | Participation => true,
    }
}

/// Marks the sealed (need-to-know) part of a decoded entry for a caller outside its
/// recipients: the ciphertext is left out of the decoded view (it stays in the verbatim envelope,
/// which the log and its proofs need, and which only its recipients can decrypt) and
/// `readable: false` says so. Recipients (and callers before the agreement exists) get it whole,
/// with `readable: true`.
pub fn mark_sealed(caller: Option<&Caller>, entry: &mut serde_json::Value) {
    let Some(sealed) = entry
        .get_mut("body")
        .and_then(|b| b.get_mut("sealed"))
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    let readable = caller.is_none_or(|c| {
        sealed
            .get("recipients")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|r| r.iter().any(|m| m.as_str() == Some(c.member.as_str())))
    });
    if !readable {
        sealed.remove("age");
    }
    sealed.insert("readable".into(), readable.into());
}

/// Per-member request limits: a token bucket of `burst` requests refilled at `per_second`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 100.0,
            burst: 400.0,
        }
    }
}

/// Token verification cache and rate-limit buckets, shared by all requests.
#[derive(Debug)]
pub struct Guard {
    service: LogService,
    limit: RateLimit,
    verified: Mutex<HashMap<String, ([u8; 32], Instant)>>,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Guard {
    pub fn new(service: LogService, limit: RateLimit) -> Arc<Self> {
        Arc::new(Self {
            service,
            limit,
            verified: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request from the bucket `key` under `limit`; on refusal, the seconds until
    /// one is available.
    fn take(&self, key: &str, limit: RateLimit) -> Result<(), u64> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((limit.burst, now));
        let refilled =
            (*tokens + now.duration_since(*at).as_secs_f64() * limit.per_second).min(limit.burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(((1.0 - refilled) / limit.per_second).ceil().max(1.0) as u64)
        }
    }

    /// Whether `secret` is the token's. An argon2 check (the remembered ones cost nothing) is
    /// itself rate-limited per token, so that someone who knows a token's public id cannot
    /// make the server hash without end: on refusal, the seconds to wait.
    async fn check_secret(&self, record: &TokenRecord, secret: &str) -> Result<bool, u64> {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let remembered = self
            .verified
            .lock()
            .ok()
            .and_then(|m| m.get(&record.id).copied())
            .is_some_and(|(d, at)| d == digest && at.elapsed() < VERIFIED_TTL);
        if remembered {
            return Ok(true);
        }
        self.take(&format!("argon2 {}", record.id), ARGON2_LIMIT)?;
        let (phc, secret) = (record.secret_hash.clone(), secret.to_owned());
        let ok = tokio::task::spawn_blocking(move || secret_matches(&phc, &secret))
            .await
            .unwrap_or(false);
        if ok && let Ok(mut m) = self.verified.lock() {
            m.insert(record.id.clone(), (digest, Instant::now()));
        }
        Ok(ok)
    }

    /// Resolves a bearer token to its caller, or the answer to give.
    async fn caller(&self, bearer: &str) -> Result<Caller, Response> {
        let Some((id, secret)) = parse_token(bearer) else {
            return Err(with_auth_header(unauthorized(
                "invalid-token",
                "the bearer token is not a truce token (truce_<id>_<secret>); create one with `truce token create`",
            )));
        };
        let record = self
            .service
            .store()
            .token(id)
            .map_err(|e| Problem::unavailable(e.to_string()).into_response())?;
        let unknown = || {
            unauthorized(
                "invalid-token",
                "the bearer token is not valid; create one with `truce token create`",
            )
        };
        let Some(record) = record else {
            return Err(with_auth_header(unknown()));
        };
        match self.check_secret(&record, secret).await {
            Ok(true) => {}
            Ok(false) => return Err(with_auth_header(unknown())),
            Err(retry) => {
                return Err(too_many(
                    format!(
                        "too many checks of token {id}'s secret ({} per second, bursts of {}); retry in {retry} s",
                        ARGON2_LIMIT.per_second, ARGON2_LIMIT.burst
                    ),
                    retry,
                ));
            }
        }
        if record.revoked.is_some() {
            return Err(with_auth_header(unauthorized(
                "token-revoked",
                format!("token {id} was revoked; ask for a new one"),
            )));
        }
        if jiff::Timestamp::now().as_second() >= record.expires {
            return Err(with_auth_header(unauthorized(
                "token-expired",
                format!("token {id} has expired; ask for a new one"),
            )));
        }
        let registry = self.service.registry();
        let member = registry.members().find(|m| m.id == record.member);
        let Some(member) = member.filter(|m| m.status == MemberStatus::Active) else {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "member-inactive",
                "Member not active",
                format!(
                    "token {id} belongs to `{}`, who is not an active member",
                    record.member
                ),
            )
            .into_response());
        };
        let party_role = registry
            .agreement()
            .and_then(|a| a.body.party(&member.party))
            .map_or(PartyRole::Observer, |p| p.role);
        Ok(Caller {
            member: member.id.clone(),
            party: member.party.clone(),
            role: member.role,
            party_role,
            scope: Scope::parse(&record.scope).unwrap_or(Scope::Read),
            token_id: record.id,
        })
    }
}

fn unauthorized(code: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        code,
        "Authentication required",
        detail,
    )
}

/// Set on submissions sent without a token: the per-member limit is charged to each entry's
/// author once admission has verified its signature (so a forged key id drains no one's
/// bucket), before the entry is sequenced.
#[derive(Clone, Debug)]
pub struct SignedLimit(Arc<Guard>);

impl SignedLimit {
    /// Takes one request from `member`'s bucket (the one its tokens share), or says why not.
    pub fn take(&self, member: &str) -> Result<(), (String, u64)> {
        let g = &self.0;
        g.take(member, g.limit).map_err(|retry| {
            (
                format!(
                    "member `{member}` exceeded {} requests per second (bursts of {}); retry in {retry} s",
                    g.limit.per_second, g.limit.burst
                ),
                retry,
            )
        })
    }

    /// [`SignedLimit::take`], with the 429 answer to give if `member` is over its rate.
    pub fn refusal(&self, member: &str) -> Option<Response> {
        self.take(member)
            .err()
            .map(|(detail, retry)| too_many(detail, retry))
    }
}

/// 429 `rate-limited` with `Retry-After`.
fn too_many(detail: String, retry: u64) -> Response {
    let mut res = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many requests",
        detail,
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn forbidden(code: &str, detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::FORBIDDEN, code, "Not allowed", detail)
}

/// What a route requires of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Open,
    /// Entry submissions: signed; a token is optional and must then be the author's.
    Signed,
    /// A write token of a member who submits entries.
    Upload,
    /// A token of any active member or auditor.
    Read,
}

/// The access rule of a request (unknown paths need a token too, so that probing without one
/// learns nothing).
pub fn access(method: &Method, path: &str) -> Access {
    match (method.as_str(), path) {
        ("GET" | "HEAD", "/healthz" | "/v1/openapi.json" | "/") => Access::Open,
        ("GET" | "HEAD", p) if p.starts_with("/assets/") => Access::Open,
        ("POST", "/v1/entries" | "/v1/entries/batch") => Access::Signed,
        ("PUT", p) if p.starts_with("/v1/blobs/") => Access::Upload,
        _ => Access::Read,
    }
}

fn with_auth_header(problem: Problem) -> Response {
    let status = problem.status;
    let mut res = problem.into_response();
    if status == 401 {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"truce\""),
        );
    }
    res
}

/// The middleware: header size, authentication, scope and role, rate limit.
pub async fn guard(State(g): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Problem::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "Request headers too large",
            format!("request headers total {header_bytes} bytes; the limit is {MAX_HEADER_BYTES}"),
        )
        .into_response();
    }
    let access = access(req.method(), req.uri().path());
    if access == Access::Open {
        return next.run(req).await;
    }
    let bearer = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(v) => match v.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) {
            Some(t) => Some(t.trim().to_owned()),
            None => {
                return with_auth_header(unauthorized(
                    "invalid-token",
                    "the Authorization header must be `Bearer <token>`",
                ));
            }
        },
    };
    let Some(bearer) = bearer else {
        // Before the agreement is logged no member exists and the log holds nothing but its
        // key: everything is open (so the mediator can upload the agreement's documents).
        if access == Access::Signed {
            // Authenticated by their signatures: the handler charges each verified author's
            // bucket before sequencing.
            req.extensions_mut().insert(SignedLimit(g.clone()));
            return next.run(req).await;
        }
        if g.service.registry().agreement().is_none() {
            return next.run(req).await;
        }
        return with_auth_header(unauthorized(
            "unauthenticated",
            "this endpoint needs an API token: send `Authorization: Bearer <token>` (tokens are made with `truce token create`)",
        ));
    };
    let caller = match g.caller(&bearer).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    if let Err(retry) = g.take(&caller.member, g.limit) {
        return too_many(
            format!(
                "member `{}` exceeded {} requests per second (bursts of {}); retry in {retry} s",
                caller.member, g.limit.per_second, g.limit.burst
            ),
            retry,
        );
    }
    if matches!(access, Access::Signed | Access::Upload) && caller.scope != Scope::Write {
        return forbidden(
            "insufficient-scope",
            format!(
                "token {} is a read token; writes need a write token",
                caller.token_id
            ),
        )
        .into_response();
    }
    if access == Access::Upload && caller.role == MemberRole::Auditor {
        return forbidden(
            "role-not-allowed",
            "auditors read the log; they do not upload blobs",
        )
        .into_response();
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_and_verify_only_their_own_secret() {
        let t = new_token("sy.ops", Scope::Read, 0, 10).unwrap();
        let (id, secret) = parse_token(&t.token).unwrap();
        assert_eq!(id, t.record.id);
        assert!(secret_matches(&t.record.secret_hash, secret));
        assert!(
            !t.record.secret_hash.contains(secret),
            "only the hash is kept"
        );
        let other = new_token("sy.ops", Scope::Read, 0, 10).unwrap();
        let (_, other_secret) = parse_token(&other.token).unwrap();
        assert!(!secret_matches(&t.record.secret_hash, other_secret));
        for bad in [
            "",
            "truce_",
            "truce_0123_abc",
            &t.token[1..],
            &format!("{}x", t.token),
            &t.token.replace('_', "-"),
        ] {
            assert!(parse_token(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn routes_map_to_their_access_rule() {
        assert_eq!(access(&Method::GET, "/healthz"), Access::Open);
        assert_eq!(access(&Method::GET, "/v1/openapi.json"), Access::Open);
        assert_eq!(access(&Method::GET, "/"), Access::Open);
        assert_eq!(access(&Method::GET, "/assets/app.js"), Access::Open);
        assert_eq!(access(&Method::GET, "/v1/map"), Access::Read);
        assert_eq!(access(&Method::POST, "/v1/entries"), Access::Signed);
        assert_eq!(access(&Method::POST, "/v1/entries/batch"), Access::Signed);
        assert_eq!(access(&Method::PUT, "/v1/blobs/ab"), Access::Upload);
        assert_eq!(access(&Method::GET, "/v1/blobs/ab"), Access::Read);
        assert_eq!(access(&Method::GET, "/log/checkpoint"), Access::Read);
        assert_eq!(access(&Method::POST, "/healthz"), Access::Read);
    }
}
