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
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use truce_model::agreement::PartyRole;
use truce_model::bodies::MemberRole;
use truce_model::refusal::Code;
use truce_model::registry::MemberStatus;
use truce_store::TokenRecord;

/// How long a verified secret is remembered (revocation does not wait for it: the token's row
/// is checked on every request).
pub const VERIFIED_TTL: Duration = Duration::from_secs(300);
/// Largest total size of a request's header names and values.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Checks of one token's secret by argon2 from one client address (those remembered do not
/// count). Keyed by client and token together, so that someone guessing a known token id
/// from elsewhere cannot lock its owner out.
const ARGON2_LIMIT: RateLimit = RateLimit {
    per_second: 1.0,
    burst: 10.0,
};
/// Reads of `/log/tile/*` per member, apart from the member's other requests.
pub const TILE_LIMIT: RateLimit = RateLimit {
    per_second: 2000.0,
    burst: 10_000.0,
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
    buckets: Mutex<Buckets>,
    /// Argon2 checks running at once: at most one per core, so that guesses from many
    /// clients queue instead of taking every core.
    argon2_slots: tokio::sync::Semaphore,
}

/// Token buckets by key, with the time of the last sweep of idle ones.
#[derive(Debug)]
struct Buckets {
    map: HashMap<String, (f64, Instant)>,
    swept: Instant,
}

/// Buckets kept before idle (full) ones are swept away: each is a few dozen bytes, and one
/// is made per client address and token id that fails a check.
const BUCKETS_SWEEP_AT: usize = 50_000;

impl Guard {
    pub fn new(service: LogService, limit: RateLimit) -> Arc<Self> {
        Arc::new(Self {
            service,
            limit,
            verified: Mutex::new(HashMap::new()),
            buckets: Mutex::new(Buckets {
                map: HashMap::new(),
                swept: Instant::now(),
            }),
            argon2_slots: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        })
    }

    /// Takes one request from the bucket `key` under `limit`; on refusal, the seconds until
    /// one is available.
    fn take(&self, key: &str, limit: RateLimit) -> Result<(), u64> {
        match self.take_up_to(key, 1, limit) {
            (1, _) => Ok(()),
            (_, retry) => Err(retry),
        }
    }

    /// Takes up to `n` requests from the bucket `key` under `limit`: how many it got, and the
    /// seconds until the next one is available.
    fn take_up_to(&self, key: &str, n: usize, limit: RateLimit) -> (usize, u64) {
        let Ok(mut buckets) = self.buckets.lock() else {
            return (n, 0);
        };
        let now = Instant::now();
        let refill = |tokens: f64, at: Instant| {
            (tokens + now.duration_since(at).as_secs_f64() * limit.per_second).min(limit.burst)
        };
        if buckets.map.len() >= BUCKETS_SWEEP_AT
            && now.duration_since(buckets.swept) >= Duration::from_secs(1)
        {
            // A full bucket is the same as no bucket.
            buckets
                .map
                .retain(|_, (tokens, at)| refill(*tokens, *at) < limit.burst);
            buckets.swept = now;
        }
        let (tokens, at) = buckets
            .map
            .entry(key.to_owned())
            .or_insert((limit.burst, now));
        let refilled = refill(*tokens, *at);
        *at = now;
        let got = (refilled.floor().max(0.0) as usize).min(n);
        *tokens = refilled - got as f64;
        let retry = ((1.0 - *tokens) / limit.per_second).ceil().max(1.0) as u64;
        (got, retry)
    }

    /// Takes up to `n` entries from `member`'s bucket (the one its tokens and signed
    /// submissions share): how many it got, and the seconds until the next.
    pub fn take_entries(&self, member: &str, n: usize) -> (usize, u64) {
        self.take_up_to(member, n, self.limit)
    }

    /// Why `member` was refused for its rate, for a problem's detail.
    pub fn limit_detail(&self, member: &str, retry: u64) -> String {
        format!(
            "member `{member}` exceeded {} requests per second (bursts of {}; each entry of a batch counts); retry in {retry} s",
            self.limit.per_second, self.limit.burst
        )
    }

    /// Whether `secret` is the token's. An argon2 check (the remembered ones cost nothing) is
    /// itself rate-limited per token, so that someone who knows a token's public id cannot
    /// make the server hash without end: on refusal, the seconds to wait.
    async fn check_secret(
        &self,
        record: &TokenRecord,
        secret: &str,
        client: Option<IpAddr>,
    ) -> Result<bool, u64> {
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
        let client = client.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        self.take(&format!("argon2 {client} {}", record.id), ARGON2_LIMIT)?;
        let Ok(_slot) = self.argon2_slots.acquire().await else {
            return Ok(false);
        };
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
    async fn caller(&self, bearer: &str, client: Option<IpAddr>) -> Result<Caller, Response> {
        let Some((id, secret)) = parse_token(bearer) else {
            return Err(unauthorized(
                Code::InvalidToken,
                "the bearer token is not a truce token (truce_<id>_<secret>); create one with `truce token create`",
            ).into_response());
        };
        let record = self
            .service
            .store()
            .token(id)
            .map_err(|e| Problem::unavailable(e.to_string()).into_response())?;
        let unknown = || {
            unauthorized(
                Code::InvalidToken,
                "the bearer token is not valid; create one with `truce token create`",
            )
        };
        let Some(record) = record else {
            return Err(unknown().into_response());
        };
        match self.check_secret(&record, secret, client).await {
            Ok(true) => {}
            Ok(false) => return Err(unknown().into_response()),
            Err(retry) => {
                return Err(too_many(
                    format!(
                        "too many checks of token {id}'s secret from this address ({} per second, bursts of {}); retry in {retry} s",
                        ARGON2_LIMIT.per_second, ARGON2_LIMIT.burst
                    ),
                    retry,
                ));
            }
        }
        if record.revoked.is_some() {
            return Err(unauthorized(
                Code::TokenRevoked,
                format!("token {id} was revoked; ask for a new one"),
            )
            .into_response());
        }
        if jiff::Timestamp::now().as_second() >= record.expires {
            return Err(unauthorized(
                Code::TokenExpired,
                format!("token {id} has expired; ask for a new one"),
            )
            .into_response());
        }
        let registry = self.service.registry();
        let member = registry.members().find(|m| m.id == record.member);
        let Some(member) = member.filter(|m| m.status == MemberStatus::Active) else {
            return Err(Problem::of(
                Code::MemberInactive,
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

/// Whether a caller's credentials still hold: its token is neither revoked nor expired, and
/// its member is active. Long-lived answers (the hotline) ask again as they go, so that a
/// revocation or a suspension ends them too. On refusal, a problem code and why.
pub fn still_valid(service: &LogService, caller: &Caller) -> Result<(), (Code, String)> {
    let id = &caller.token_id;
    let record = service
        .store()
        .token(id)
        .map_err(|e| (Code::Unavailable, format!("cannot check token {id}: {e}")))?;
    let Some(record) = record else {
        return Err((Code::InvalidToken, format!("token {id} no longer exists")));
    };
    if record.revoked.is_some() {
        return Err((Code::TokenRevoked, format!("token {id} was revoked")));
    }
    if jiff::Timestamp::now().as_second() >= record.expires {
        return Err((Code::TokenExpired, format!("token {id} has expired")));
    }
    let registry = service.registry();
    let active = registry
        .members()
        .any(|m| m.id == caller.member && m.status == MemberStatus::Active);
    if !active {
        return Err((
            Code::MemberInactive,
            format!("member `{}` is no longer active", caller.member),
        ));
    }
    Ok(())
}

fn unauthorized(code: Code, detail: impl Into<String>) -> Problem {
    Problem::of(code, detail)
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
        g.take(member, g.limit)
            .map_err(|retry| (g.limit_detail(member, retry), retry))
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
    let mut res = Problem::of(Code::RateLimited, detail).into_response();
    if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn forbidden(code: Code, detail: impl Into<String>) -> Problem {
    Problem::of(code, detail)
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

/// The middleware: header size, authentication, scope and role, rate limit; and the caching
/// rules of what needs a token.
pub async fn guard(State(g): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    if req.headers().contains_key(header::TRANSFER_ENCODING) {
        // A body framed by Transfer-Encoding is refused, not only one that also has a
        // Content-Length (RFC 9112 §6.1: a request-smuggling risk when a front proxy frames it
        // the other way). hyper drops the Content-Length of such a request before it reaches
        // us, so the two cannot be told apart here; every client of this API knows its body's
        // length.
        let mut res = Problem::bad_request(
            "the request body is framed by Transfer-Encoding; send it with a Content-Length instead (Transfer-Encoding is refused, with or without Content-Length, so that no proxy in front can frame the request otherwise)",
        )
        .into_response();
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    let open = access(req.method(), req.uri().path()) == Access::Open;
    let mut res = admit(g, req, next).await;
    if !open {
        keep_out_of_shared_caches(&mut res);
    }
    res
}

/// What needs a token must never be served from a shared cache (RFC 9111 §3.5, §5.2.2.7) to
/// someone else, with or without one: `public` becomes `private` (a client's own cache may
/// still keep immutable tiles), an answer without caching rules gets `private, no-cache`,
/// and `Vary: Authorization` tells every cache that the answer depends on the token.
fn keep_out_of_shared_caches(res: &mut Response) {
    let cache = res
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let directives: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty() && !d.eq_ignore_ascii_case("public"))
                .filter(|d| !d.to_ascii_lowercase().starts_with("s-maxage"))
                .collect();
            if directives.iter().any(|d| d.eq_ignore_ascii_case("private")) {
                directives.join(", ")
            } else {
                std::iter::once("private")
                    .chain(directives)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        })
        .unwrap_or_else(|| "private, no-cache".to_owned());
    if let Ok(v) = HeaderValue::from_str(&cache) {
        res.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    let vary = match res
        .headers()
        .get(header::VARY)
        .and_then(|v| v.to_str().ok())
    {
        Some(v)
            if v.split(',')
                .any(|f| f.trim().eq_ignore_ascii_case("authorization")) =>
        {
            None
        }
        Some(v) => Some(format!("{v}, Authorization")),
        None => Some("Authorization".to_owned()),
    };
    if let Some(v) = vary.and_then(|v| HeaderValue::from_str(&v).ok()) {
        res.headers_mut().insert(header::VARY, v);
    }
}

async fn admit(g: Arc<Guard>, mut req: Request, next: Next) -> Response {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Problem::of(
            Code::HeadersTooLarge,
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
                return unauthorized(
                    Code::InvalidToken,
                    "the Authorization header must be `Bearer <token>`",
                )
                .into_response();
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
        return unauthorized(
            Code::Unauthenticated,
            "this endpoint needs an API token: send `Authorization: Bearer <token>` (tokens are made with `truce token create`)",
        ).into_response();
    };
    let client = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let caller = match g.caller(&bearer, client).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    if req.uri().path().starts_with("/log/tile/") {
        // Tiles are immutable and cheap: a mirror downloading the log reads thousands, and
        // generic tlog-tiles clients do not retry on 429. They have their own, generous
        // bucket, so neither starves the other.
        if let Err(retry) = g.take(&format!("tiles {}", caller.member), TILE_LIMIT) {
            return too_many(
                format!(
                    "member `{}` exceeded {} tile reads per second (bursts of {}); retry in {retry} s",
                    caller.member, TILE_LIMIT.per_second, TILE_LIMIT.burst
                ),
                retry,
            );
        }
    } else if let Err(retry) = g.take(&caller.member, g.limit) {
        return too_many(g.limit_detail(&caller.member, retry), retry);
    }
    if matches!(access, Access::Signed | Access::Upload) && caller.scope != Scope::Write {
        return forbidden(
            Code::InsufficientScope,
            format!(
                "token {} is a read token; writes need a write token",
                caller.token_id
            ),
        )
        .into_response();
    }
    if access == Access::Upload && caller.role == MemberRole::Auditor {
        return forbidden(
            Code::RoleNotAllowed,
            "auditors read the log; they do not upload blobs",
        )
        .into_response();
    }
    req.extensions_mut().insert(caller);
    // Batches charge their further entries to the caller's bucket.
    req.extensions_mut().insert(g.clone());
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
