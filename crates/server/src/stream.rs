//! The hotline: `GET /v1/stream`, Server-Sent Events of the alerts addressed to one party.
//!
//! Each SSE message carries the alerts of one log entry: `id` is the entry's log index,
//! `event` is `alerts`, `data` is `{"index", "alerts": [...]}`. A client that reconnects with
//! `Last-Event-ID: n` (or `?after=n`) gets the alerts of the entries after `n`: alerts are
//! derived from the state by log index ([`truce_engine::alerts`]), so nothing is lost or
//! repeated however long it was away. Besides, on connecting and then every minute, an
//! `event: due` message without an id lists the party's pending deadlines due within the next
//! 24 hours of wall-clock time (reminders, not part of the record).
//!
//! A new stream starts at the head of the applied log (what happens from now on) unless it
//! asks for earlier entries: `Last-Event-ID`, `?after=n`, or `?from_start=true` for the whole
//! history.
//!
//! A slow consumer only slows its own connection: alerts are computed when its connection can
//! take them, at most [`STEP`] entries' worth at a time, never queued for it. Streams are
//! bounded per member ([`MAX_STREAMS_PER_MEMBER`]) and in all ([`MAX_STREAMS`]); beyond, the
//! answer is 503 with `Retry-After`.
//!
//! When a witness reveals that it holds another history of this log (see
//! [`crate::cosign::Equivocation`]), every stream gets an `event: equivocation` message without
//! an id, whose data is `{"witness", "detail", "checkpoint", "seen"}`; a new stream gets those
//! already seen first.
//!
//! The credentials a stream was opened with are checked again before every message and at
//! least every [`RECHECK_EVERY`]: once its token is revoked or expired, or its member is
//! suspended or removed, the stream sends a last `event: closed` message whose data says why
//! (`{"code", "detail"}`) and ends.

use crate::auth::{Caller, still_valid};
use crate::problem::Problem;
use crate::service::LogService;
use axum::Extension;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream;
use serde::Deserialize;
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Most log entries whose alerts are computed in one step (what one stream holds at most).
pub const STEP: u64 = 256;
/// Open streams per member.
pub const MAX_STREAMS_PER_MEMBER: usize = 8;
/// Open streams in all.
pub const MAX_STREAMS: usize = 1000;
/// Longest a stream goes without checking its credentials again.
pub const RECHECK_EVERY: Duration = Duration::from_secs(5);
/// `Retry-After` for a stream refused by the bounds.
const STREAMS_RETRY_AFTER_S: u64 = 30;
/// How often deadline reminders are sent.
const DUE_EVERY: Duration = Duration::from_secs(60);
/// How far ahead reminders look.
const DUE_WITHIN_HOURS: i64 = 24;

pub fn routes() -> Router<LogService> {
    Router::new()
        .route("/v1/stream", get(stream))
        .route("/v1/stream/alerts", get(alerts_page))
        .layer(Extension(Arc::new(Streams::default())))
}

/// Streams open now, in all and by member (`""` for streams opened without a token, before
/// the agreement exists).
#[derive(Debug)]
struct Streams {
    open: Mutex<(usize, HashMap<String, usize>)>,
    /// Alert computations running at once, for all streams together: each scans the derived
    /// state, and many at once (a flood waking every stream) would multiply the memory they
    /// hold while they run.
    computing: tokio::sync::Semaphore,
}

impl Default for Streams {
    fn default() -> Self {
        Self {
            open: Mutex::new((0, HashMap::new())),
            computing: tokio::sync::Semaphore::new(2),
        }
    }
}

/// A stream's place in [`Streams`], given back when the stream is dropped.
struct StreamSlot {
    streams: Arc<Streams>,
    member: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.streams.open.lock() {
            open.0 = open.0.saturating_sub(1);
            if let Some(n) = open.1.get_mut(&self.member) {
                *n -= 1;
                if *n == 0 {
                    open.1.remove(&self.member);
                }
            }
        }
    }
}

impl Streams {
    fn take(self: &Arc<Self>, member: &str) -> Result<StreamSlot, Problem> {
        let busy = |detail: String| {
            let mut p = Problem::of(truce_model::refusal::Code::TooManyStreams, detail);
            p.retry_after = Some(STREAMS_RETRY_AFTER_S);
            p
        };
        let mut open = self
            .open
            .lock()
            .map_err(|_| Problem::unavailable("stream table poisoned; restart the server"))?;
        let mine = open.1.get(member).copied().unwrap_or(0);
        if mine >= MAX_STREAMS_PER_MEMBER {
            return Err(busy(format!(
                "member `{member}` has {mine} streams open; the limit is {MAX_STREAMS_PER_MEMBER}: close one, or resume one with Last-Event-ID"
            )));
        }
        if open.0 >= MAX_STREAMS {
            return Err(busy(format!(
                "{MAX_STREAMS} streams are open on this server; retry in {STREAMS_RETRY_AFTER_S} s"
            )));
        }
        open.0 += 1;
        *open.1.entry(member.to_owned()).or_insert(0) += 1;
        Ok(StreamSlot {
            streams: self.clone(),
            member: member.to_owned(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    party: Option<String>,
    after: Option<String>,
    from_start: Option<String>,
}

struct Cursor {
    service: LogService,
    caller: Option<Caller>,
    party: String,
    next: u64,
    rx: tokio::sync::watch::Receiver<u64>,
    /// The number of equivocations the witnesses revealed, and how many this stream sent.
    equivocations: tokio::sync::watch::Receiver<usize>,
    equivocations_sent: usize,
    ready: VecDeque<Event>,
    next_due: Instant,
    next_check: Instant,
    /// Set once the closing message is sent: the stream ends after it.
    closed: bool,
    _slot: StreamSlot,
}

impl Cursor {
    /// The closing message, if the stream's credentials no longer hold.
    fn revoked(&mut self) -> Option<Event> {
        let caller = self.caller.as_ref()?;
        self.next_check = Instant::now() + RECHECK_EVERY;
        let (code, detail) = still_valid(&self.service, caller).err()?;
        self.closed = true;
        let data =
            json!({"code": code.slug(), "detail": format!("{detail}; the stream is closed")});
        Some(Event::default().event("closed").data(data.to_string()))
    }
}

/// Whose alerts a caller follows: its own party's by default; a member of a party (or of the
/// observer) only its own, the mediator's members and auditors any party's.
fn party_for(caller: Option<&Caller>, asked: Option<String>) -> Result<String, Problem> {
    use truce_model::agreement::PartyRole;
    match (caller, asked) {
        (Some(c), None) => Ok(c.party.clone()),
        (Some(c), Some(p)) => {
            let any = c.party_role == PartyRole::Mediator
                || c.role == truce_model::bodies::MemberRole::Auditor;
            if p != c.party && !any {
                return Err(Problem::of(
                    truce_model::refusal::Code::RoleNotAllowed,
                    format!(
                        "member `{}` of {} follows {}'s alerts only; the mediator's members and auditors may follow any party's",
                        c.member, c.party, c.party
                    ),
                ));
            }
            Ok(p)
        }
        (None, Some(p)) => Ok(p),
        (None, None) => Err(Problem::bad_request(
            "party is required: whose alerts to stream, e.g. ?party=SY",
        )),
    }
}

async fn stream(
    State(s): State<LogService>,
    Extension(streams): Extension<Arc<Streams>>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    q: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = q
        .map(|Query(q)| q)
        .map_err(|e| Problem::bad_request(format!("query parameters: {}", e.body_text())))?;
    let party = party_for(caller.as_deref(), q.party)?;
    let known = s
        .derived()
        .read(|e| {
            e.state()
                .agreement
                .as_ref()
                .is_some_and(|a| a.parties.contains_key(&party))
        })
        .unwrap_or(false);
    if !known {
        return Err(Problem::not_found(format!(
            "`{}` is not a party of the agreement in force",
            party.chars().take(40).collect::<String>()
        )));
    }
    let last = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    Problem::bad_request(
                        "Last-Event-ID must be a log index (a non-negative integer)",
                    )
                })?,
        ),
        None => q
            .after
            .as_deref()
            .map(|a| {
                a.parse::<u64>()
                    .map_err(|_| Problem::bad_request("after must be a log index"))
            })
            .transpose()?,
    };
    let from_start = match q.from_start.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(Problem::bad_request("from_start must be true or false")),
    };
    if from_start && last.is_some() {
        return Err(Problem::bad_request(
            "from_start cannot be combined with Last-Event-ID or after",
        ));
    }
    let mut rx = s.derived().subscribe();
    let head = *rx.borrow_and_update();
    let next = match last {
        Some(l) => l.saturating_add(1),
        None if from_start => 0,
        None => head,
    };
    let slot = streams.take(caller.as_deref().map_or("", |c| c.member.as_str()))?;
    let equivocations = s.cosigned().subscribe();
    let cursor = Cursor {
        rx,
        equivocations,
        equivocations_sent: 0,
        service: s,
        caller: caller.map(|Extension(c)| c),
        party,
        next,
        ready: VecDeque::new(),
        next_due: Instant::now(),
        next_check: Instant::now() + RECHECK_EVERY,
        closed: false,
        _slot: slot,
    };
    let events = stream::unfold(cursor, |mut c| async move {
        if c.closed {
            return None;
        }
        loop {
            // Every message waits for a fresh check of the credentials, and so does a quiet
            // stream every RECHECK_EVERY (not every wake: the log may advance every few ms).
            if (!c.ready.is_empty() || Instant::now() >= c.next_check)
                && let Some(e) = c.revoked()
            {
                return Some((Ok::<Event, Infallible>(e), c));
            }
            if let Some(e) = c.ready.pop_front() {
                return Some((Ok(e), c));
            }
            // Equivocation first: every party must hear at once that a witness holds another
            // history of this log (and a new stream hears of those already seen).
            let seen = *c.equivocations.borrow_and_update();
            if seen > c.equivocations_sent {
                let all = c.service.cosigned().equivocations();
                for e in all.iter().skip(c.equivocations_sent) {
                    c.ready.push_back(
                        Event::default()
                            .event("equivocation")
                            .data(json!(e).to_string()),
                    );
                }
                c.equivocations_sent = all.len();
                continue;
            }
            if Instant::now() >= c.next_due {
                c.next_due = Instant::now() + DUE_EVERY;
                if let Some(e) = due(&c).await {
                    c.ready.push_back(e);
                    continue;
                }
            }
            let applied = *c.rx.borrow_and_update();
            if applied > c.next {
                let to = applied.min(c.next + STEP);
                let permit = c._slot.streams.computing.acquire().await.ok()?;
                c.ready = alerts(&c, to).await?;
                drop(permit);
                c.next = to;
                continue;
            }
            let wake = c.next_due.min(c.next_check);
            tokio::select! {
                changed = c.rx.changed() => changed.ok()?,
                changed = c.equivocations.changed() => changed.ok()?,
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// The messages for the entries `c.next..to` that have alerts for the party.
async fn alerts(c: &Cursor, to: u64) -> Option<VecDeque<Event>> {
    let derived = c.service.derived().clone();
    let (from, party) = (c.next, c.party.clone());
    tokio::task::spawn_blocking(move || {
        derived.read(|e| {
            truce_engine::alerts::between(e.state(), from, to)
                .into_iter()
                .filter_map(|(index, all)| {
                    let mine = truce_engine::alerts::for_party(&all, &party);
                    if mine.is_empty() {
                        return None;
                    }
                    let data = json!({"index": index, "alerts": mine}).to_string();
                    Some(
                        Event::default()
                            .id(index.to_string())
                            .event("alerts")
                            .data(data),
                    )
                })
                .collect()
        })
    })
    .await
    .ok()
    .flatten()
}

/// The party's pending deadlines due within the next day, if any.
async fn due(c: &Cursor) -> Option<Event> {
    let now = jiff::Timestamp::now();
    let until = now
        .saturating_add(jiff::SignedDuration::from_hours(DUE_WITHIN_HOURS))
        .ok()?;
    let party = c.party.clone();
    let list = c.service.derived().read(|e| {
        e.state()
            .deadlines
            .values()
            .filter(|d| {
                d.party == party
                    && d.status == truce_engine::state::DeadlineStatus::Pending
                    && d.due <= until
            })
            .cloned()
            .collect::<Vec<_>>()
    })?;
    if list.is_empty() {
        return None;
    }
    let data = json!({"now": now.to_string(), "deadlines": list}).to_string();
    Some(Event::default().event("due").data(data))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    party: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

/// The same alerts as the stream, as one JSON page (for scripts and for checking a stream):
/// the entries after `after` with alerts for `party`, at most `limit` (1..=1000) of them.
async fn alerts_page(
    State(s): State<LogService>,
    caller: Option<Extension<Caller>>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = q
        .map(|Query(q)| q)
        .map_err(|e| Problem::bad_request(format!("query parameters: {}", e.body_text())))?;
    let party = party_for(caller.as_deref(), q.party)?;
    let num = |name: &str, v: Option<&str>| {
        v.map(|v| {
            v.parse::<u64>()
                .map_err(|_| Problem::bad_request(format!("{name} must be a non-negative integer")))
        })
        .transpose()
    };
    let after = num("after", q.after.as_deref())?;
    let limit = num("limit", q.limit.as_deref())?.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Problem::bad_request("limit must be 1..1000"));
    }
    let from = after.map_or(0, |a| a.saturating_add(1));
    let derived = s.derived().clone();
    let answer = tokio::task::spawn_blocking(move || {
        derived.read(|e| {
            let st = e.state();
            let known = st
                .agreement
                .as_ref()
                .is_some_and(|a| a.parties.contains_key(&party));
            if !known {
                return Err(Problem::not_found(format!(
                    "`{}` is not a party of the agreement in force",
                    party.chars().take(40).collect::<String>()
                )));
            }
            let mut items = Vec::new();
            let mut next = from;
            while next < st.size && (items.len() as u64) < limit {
                let to = st.size.min(next.saturating_add(STEP));
                for (index, all) in truce_engine::alerts::between(st, next, to) {
                    let mine = truce_engine::alerts::for_party(&all, &party);
                    if !mine.is_empty() && (items.len() as u64) < limit {
                        items.push(json!({"index": index, "alerts": mine}));
                    }
                }
                next = to;
            }
            Ok(json!({"applied_size": st.size, "party": party, "entries": items}))
        })
    })
    .await
    .map_err(|e| Problem::unavailable(e.to_string()))?
    .ok_or_else(|| Problem::unavailable("derived state lock poisoned; restart the server"))??;
    Ok(axum::Json(answer).into_response())
}
