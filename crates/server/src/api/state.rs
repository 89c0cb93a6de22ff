//! The read side of the derived state: events, findings with their evidence chain, deadlines,
//! scorecards, the state itself and its signed commitments.

use crate::problem::Problem;
use crate::service::LogService;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use truce_engine::state::{Deadline, Event, Finding, Subject};
use truce_engine::{Engine, Status};
use truce_log::Envelope;

type ApiResult = Result<Response, Problem>;

/// Most items in one page.
pub const MAX_PAGE: usize = 1000;

pub fn routes() -> Router<LogService> {
    Router::new()
        .route("/v1/state", get(state))
        .route("/v1/state/commitment", get(commitment))
        .route("/v1/events", get(events))
        .route("/v1/findings", get(findings))
        .route("/v1/findings/{*id}", get(finding))
        .route("/v1/deadlines", get(deadlines))
        .route("/v1/scorecards", get(scorecards))
        .route("/v1/coverage", get(coverage))
        .route("/v1/notices", get(notices))
        .route("/v1/cases", get(cases))
        .route("/v1/attestations", get(attestations))
}

/// Query parameters, or a problem naming what is wrong with them.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Problem> {
    q.map(|Query(t)| t)
        .map_err(|e| Problem::bad_request(format!("query parameters: {}", e.body_text())))
}

fn ok(value: &impl serde::Serialize) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

pub(crate) fn read<T>(s: &LogService, f: impl FnOnce(&Engine) -> T) -> Result<T, Problem> {
    if let Some(why) = s.derived().failure() {
        return Err(Problem::unavailable(format!(
            "the derived state stopped at an entry it could not apply ({why}); the log is intact, restart the server"
        )));
    }
    s.derived()
        .read(f)
        .ok_or_else(|| Problem::unavailable("derived state lock poisoned; restart the server"))
}

/// Filters shared by the list endpoints.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Filters {
    party: Option<String>,
    rule: Option<String>,
    status: Option<String>,
    zone: Option<String>,
    layer: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    bbox: Option<String>,
    period: Option<String>,
    superseded: Option<String>,
    merged: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

struct Parsed {
    superseded: bool,
    merged: bool,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    bbox: Option<[f64; 4]>,
    status: Option<Status>,
    limit: usize,
    offset: usize,
}

fn parse_filters(f: &Filters) -> Result<Parsed, Problem> {
    let time = |name: &str, v: &Option<String>| -> Result<Option<Timestamp>, Problem> {
        v.as_deref()
            .map(|s| {
                truce_model::time::parse_utc(name, s).map_err(|r| Problem::bad_request(r.detail))
            })
            .transpose()
    };
    let bbox = match &f.bbox {
        None => None,
        Some(b) => {
            let parts: Vec<f64> = b
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| bad_bbox(b))?;
            let [w, s, e, n] = parts.as_slice() else {
                return Err(bad_bbox(b));
            };
            if !(parts.iter().all(|x| x.is_finite()) && w <= e && s <= n) {
                return Err(bad_bbox(b));
            }
            Some([*w, *s, *e, *n])
        }
    };
    let status = match &f.status {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            Problem::bad_request(format!(
                "status `{}` is not one of {}",
                s.chars().take(40).collect::<String>(),
                Status::ALL.map(|s| s.as_str()).join(", ")
            ))
        })?),
    };
    let (limit, offset) = paging(&f.limit, &f.offset)?;
    let flag = |name: &str, v: &Option<String>| match v.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(Problem::bad_request(format!(
            "{name} must be true or false"
        ))),
    };
    Ok(Parsed {
        superseded: flag("superseded", &f.superseded)?,
        merged: flag("merged", &f.merged)?,
        from: time("from", &f.from)?,
        to: time("to", &f.to)?,
        bbox,
        status,
        limit,
        offset,
    })
}

/// `limit` (1..=MAX_PAGE, default 100) and `offset` (default 0).
fn paging(limit: &Option<String>, offset: &Option<String>) -> Result<(usize, usize), Problem> {
    let num = |name: &str, v: &Option<String>, default: usize| -> Result<usize, Problem> {
        v.as_deref().map_or(Ok(default), |s| {
            s.parse::<usize>()
                .map_err(|_| Problem::bad_request(format!("{name} must be a non-negative integer")))
        })
    };
    let limit = num("limit", limit, 100)?;
    if limit == 0 || limit > MAX_PAGE {
        return Err(Problem::bad_request(format!("limit must be 1..{MAX_PAGE}")));
    }
    Ok((limit, num("offset", offset, 0)?))
}

fn bad_bbox(b: &str) -> Problem {
    Problem::bad_request(format!(
        "bbox `{}` must be west,south,east,north in degrees (west <= east, south <= north)",
        b.chars().take(80).collect::<String>()
    ))
}

fn in_bbox(p: [f64; 2], b: &Option<[f64; 4]>) -> bool {
    b.is_none_or(|[w, s, e, n]| p[0] >= w && p[0] <= e && p[1] >= s && p[1] <= n)
}

fn event_matches(ev: &Event, f: &Filters, p: &Parsed) -> bool {
    (p.merged || ev.merged_into.is_none())
        && f.party
            .as_ref()
            .is_none_or(|x| &ev.perpetrator == x || ev.reporters.contains(x))
        && f.event_type
            .as_ref()
            .is_none_or(|t| truce_model::ids::wire_name(&ev.event_type) == *t)
        && f.zone
            .as_ref()
            .is_none_or(|z| ev.zones.iter().any(|h| &h.zone == z))
        && f.layer
            .as_ref()
            .is_none_or(|l| ev.zones.iter().any(|h| &h.layer == l))
        && p.from.is_none_or(|t| ev.end >= t)
        && p.to.is_none_or(|t| ev.start <= t)
        && in_bbox(ev.point, &p.bbox)
}

fn finding_matches(e: &Engine, fd: &Finding, f: &Filters, p: &Parsed) -> bool {
    let event = match &fd.subject {
        Subject::Event { event } => e.state().events.get(event),
        _ => None,
    };
    (p.superseded || fd.superseded.is_none())
        && f.party.as_ref().is_none_or(|x| &fd.party == x)
        && f.rule.as_ref().is_none_or(|x| &fd.rule == x)
        && p.status.is_none_or(|s| fd.status == s)
        && f.layer
            .as_ref()
            .is_none_or(|l| fd.layer.as_ref() == Some(l))
        && f.zone.as_ref().is_none_or(|z| {
            event.is_some_and(|ev| {
                ev.zones
                    .iter()
                    .any(|h| &h.zone == z && fd.layer.as_ref().is_none_or(|l| &h.layer == l))
            })
        })
        && p.from.is_none_or(|t| fd.occurred >= t)
        && p.to.is_none_or(|t| fd.occurred <= t)
        && (p.bbox.is_none() || event.is_some_and(|ev| in_bbox(ev.point, &p.bbox)))
}

fn page<T: Clone>(items: Vec<&T>, p: &Parsed) -> (Vec<T>, usize) {
    let total = items.len();
    let out = items
        .into_iter()
        .skip(p.offset)
        .take(p.limit)
        .cloned()
        .collect();
    (out, total)
}

async fn state(State(s): State<LogService>) -> ApiResult {
    let bytes = read(&s, |e| truce_engine::commitment::canonical(e.state()))?;
    let mut res = Response::new(axum::body::Body::from(bytes));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(res)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SizeQuery {
    size: Option<String>,
}

async fn commitment(
    State(s): State<LogService>,
    q: Result<Query<SizeQuery>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    let size = q
        .size
        .as_deref()
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| Problem::bad_request("size must be a non-negative integer"))
        })
        .transpose()?;
    let applied = read(&s, |e| e.state().size)?;
    let found = match size {
        None => s.derived().latest_commitment().map(|c| (c.size, c.note)),
        Some(n) => s
            .store()
            .commitment(Some(n))
            .map_err(|e| Problem::unavailable(e.to_string()))?,
    };
    let (size, note) = found.ok_or_else(|| {
        Problem::not_found(match size {
            Some(n) => format!(
                "no state commitment was published for {n} entries; GET /v1/state/commitment gives the latest"
            ),
            None => "no state commitment has been published yet; retry shortly".to_owned(),
        })
    })?;
    let text = String::from_utf8_lossy(&note).into_owned();
    let parsed = text.split_once("\n\n").and_then(|(body, _)| {
        truce_log::StateCommitment::parse_body(format!("{body}\n").as_bytes()).ok()
    });
    Ok(ok(&json!({
        "size": size,
        "state_hash": parsed.map(|c| c.hash_hex()),
        "note": text,
        "applied_size": applied,
    })))
}

async fn finding(
    State(s): State<LogService>,
    caller: Option<axum::Extension<crate::auth::Caller>>,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = caller.map(|axum::Extension(c)| c);
    let found = read(&s, |e| {
        let st = e.state();
        st.findings.get(&id).map(|f| {
            let rule = st.agreement.as_ref().and_then(|a| a.rule(&f.rule)).cloned();
            let event = match &f.subject {
                Subject::Event { event } => st.events.get(event).cloned(),
                _ => None,
            };
            let deadline = match &f.subject {
                Subject::Deadline { deadline } => st.deadlines.get(deadline).cloned(),
                _ => None,
            };
            let disputes: Vec<Value> = st
                .disputes
                .iter()
                .filter(|(_, d)| d.finding == f.id)
                .map(|(i, d)| json!({"index": i, "dispute": d}))
                .collect();
            let rulings: Vec<Value> = st
                .rulings
                .iter()
                .filter(|(_, r)| r.finding == f.id)
                .map(|(i, r)| json!({"index": i, "ruling": r}))
                .collect();
            (f.clone(), rule, event, deadline, disputes, rulings)
        })
    })?;
    let Some((f, rule, event, deadline, disputes, rulings)) = found else {
        return Err(Problem::not_found(format!(
            "no finding `{}`; list them with GET /v1/findings",
            id.chars().take(200).collect::<String>()
        )));
    };
    // The evidence chain: every entry the finding rests on, with its inclusion proof.
    let mut chain: Vec<u64> = f.evidence.clone();
    chain.extend(disputes.iter().filter_map(|d| d["index"].as_u64()));
    chain.extend(rulings.iter().filter_map(|r| r["index"].as_u64()));
    chain.sort_unstable();
    chain.dedup();
    let store = s.store().clone();
    let svc = s.clone();
    let evidence = tokio::task::spawn_blocking(move || -> Result<Vec<Value>, Problem> {
        chain
            .into_iter()
            .map(|index| {
                let leaf = store
                    .leaves(index, index + 1)
                    .map_err(|e| Problem::unavailable(e.to_string()))?
                    .into_iter()
                    .next()
                    .ok_or_else(|| Problem::unavailable(format!("entry {index} is missing")))?;
                let mut entry = Envelope::parse(&leaf)
                    .ok()
                    .and_then(|e| serde_json::from_slice::<Value>(&e.payload).ok());
                if let Some(e) = entry.as_mut() {
                    crate::auth::mark_sealed(caller.as_ref(), e);
                }
                let receipt = svc.receipt(index).map_err(Problem::from)?;
                Ok(json!({
                    "index": index,
                    "kind": entry.as_ref().map(|e| e["kind"].clone()),
                    "author": entry.as_ref().map(|e| e["author"].clone()),
                    "created": entry.as_ref().map(|e| e["created"].clone()),
                    "sealed": entry.as_ref().map(|e| e["body"]["sealed"].clone()).filter(|v| !v.is_null()),
                    "envelope": String::from_utf8_lossy(&leaf),
                    "receipt": receipt,
                }))
            })
            .collect()
    })
    .await
    .map_err(|e| Problem::unavailable(e.to_string()))??;
    Ok(ok(&json!({
        "finding": f,
        "rule": rule,
        "event": event,
        "deadline": deadline,
        "disputes": disputes,
        "rulings": rulings,
        "evidence": evidence,
        "checkpoint": String::from_utf8_lossy(&s.checkpoint().note),
    })))
}

async fn scorecards(
    State(s): State<LogService>,
    q: Result<Query<Filters>, QueryRejection>,
) -> ApiResult {
    let f = query(q)?;
    let p = parse_filters(&f)?;
    let (items, total, applied) = read(&s, |e| {
        let all = truce_engine::scorecard::scorecards(e.state());
        let v: Vec<_> = all
            .iter()
            .filter(|c| {
                f.party.as_ref().is_none_or(|x| &c.party == x)
                    && f.rule.as_ref().is_none_or(|x| &c.rule == x)
                    && f.period.as_ref().is_none_or(|x| &c.period == x)
            })
            .collect();
        let (items, total) = page(v, &p);
        (items, total, e.state().size)
    })?;
    Ok(ok(
        &json!({"applied_size": applied, "total": total, "scorecards": items}),
    ))
}

async fn coverage(
    State(s): State<LogService>,
    q: Result<Query<Filters>, QueryRejection>,
) -> ApiResult {
    let f = query(q)?;
    let p = parse_filters(&f)?;
    let layer = f.layer.clone().unwrap_or_else(|| "agreement".to_owned());
    let answer = read(&s, |e| {
        let st = e.state();
        let to = p.to.or(st.clock).unwrap_or(Timestamp::UNIX_EPOCH);
        let from = p.from.unwrap_or_else(|| {
            to.saturating_sub(jiff::SignedDuration::from_hours(24 * 7))
                .unwrap_or(to)
        });
        let Some(geo) = e.geography() else {
            return Err(Problem::not_found("no agreement is in the log yet"));
        };
        let zones: Vec<String> = match &f.zone {
            Some(z) => vec![z.clone()],
            None => geo
                .index()
                .zones()
                .iter()
                .filter(|z| {
                    z.layer == layer
                        && matches!(
                            z.geometry,
                            geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_)
                        )
                })
                .map(|z| z.id.clone())
                .collect(),
        };
        let mut out = Vec::new();
        for z in zones {
            match truce_engine::coverage::zone_verdict(st, geo, &z, &layer, from, to) {
                Some(v) => out.push(v),
                None => {
                    return Err(Problem::not_found(format!(
                        "no zone `{}` in layer `{layer}`",
                        z.chars().take(63).collect::<String>()
                    )));
                }
            }
        }
        Ok((out, st.size))
    })??;
    Ok(ok(&json!({"applied_size": answer.1, "zones": answer.0})))
}

/// A filtered, paged listing of the derived state: `{"applied_size", "total", <key>: [...]}`.
fn listing<T: Clone + serde::Serialize>(
    s: &LogService,
    q: Result<Query<Filters>, QueryRejection>,
    key: &str,
    pick: for<'a> fn(&'a Engine, &Filters, &Parsed) -> Vec<&'a T>,
) -> ApiResult {
    let f = query(q)?;
    let p = parse_filters(&f)?;
    let (items, total, applied) = read(s, |e| {
        let (items, total) = page(pick(e, &f, &p), &p);
        (items, total, e.state().size)
    })?;
    let mut body = serde_json::Map::new();
    body.insert("applied_size".into(), applied.into());
    body.insert("total".into(), total.into());
    body.insert(
        key.into(),
        serde_json::to_value(items).map_err(|e| Problem::unavailable(e.to_string()))?,
    );
    Ok(ok(&body))
}

fn pick_events<'a>(e: &'a Engine, f: &Filters, p: &Parsed) -> Vec<&'a Event> {
    e.state()
        .events
        .values()
        .map(|ev| &**ev)
        .filter(|ev| event_matches(ev, f, p))
        .collect()
}

/// Findings in the order they happened: by the violation's time, then by the log index of
/// the first entry they rest on, then by id (not by the id string alone, which puts `e189`
/// before `e74`).
fn pick_findings<'a>(e: &'a Engine, f: &Filters, p: &Parsed) -> Vec<&'a Finding> {
    let mut out: Vec<&Finding> = e
        .state()
        .findings
        .values()
        .map(|fd| &**fd)
        .filter(|fd| finding_matches(e, fd, f, p))
        .collect();
    out.sort_by(|a, b| {
        let first = |x: &Finding| x.evidence.iter().min().copied().unwrap_or(u64::MAX);
        (a.occurred, first(a), &a.id).cmp(&(b.occurred, first(b), &b.id))
    });
    out
}

fn pick_deadlines<'a>(e: &'a Engine, f: &Filters, _: &Parsed) -> Vec<&'a Deadline> {
    e.state()
        .deadlines
        .values()
        .filter(|d| {
            f.party.as_ref().is_none_or(|x| &d.party == x)
                && f.rule.as_ref().is_none_or(|x| &d.rule == x)
        })
        .collect()
}

async fn events(
    State(s): State<LogService>,
    q: Result<Query<Filters>, QueryRejection>,
) -> ApiResult {
    listing(&s, q, "events", pick_events)
}

async fn findings(
    State(s): State<LogService>,
    q: Result<Query<Filters>, QueryRejection>,
) -> ApiResult {
    listing(&s, q, "findings", pick_findings)
}

async fn deadlines(
    State(s): State<LogService>,
    q: Result<Query<Filters>, QueryRejection>,
) -> ApiResult {
    listing(&s, q, "deadlines", pick_deadlines)
}

const NOTICE_STATUSES: [&str; 8] = [
    "filed",
    "delivered",
    "acknowledged",
    "conditioned",
    "objected",
    "expired",
    "withdrawn",
    "amended",
];
const CASE_STATUSES: [&str; 7] = [
    "reported",
    "acknowledged",
    "denied",
    "location_disclosed",
    "access_granted",
    "released",
    "transferred",
];

fn one_of(status: &Option<String>, allowed: &[&str]) -> Result<(), Problem> {
    match status.as_deref() {
        Some(s) if !allowed.contains(&s) => Err(Problem::bad_request(format!(
            "status `{}` is not one of {}",
            s.chars().take(40).collect::<String>(),
            allowed.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// Query of the deconfliction listings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordQuery {
    party: Option<String>,
    status: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// A paged listing of records keyed by log index (or period), each given as
/// `{"index": key, ...record}`; `keep` filters by party and status (wire names).
fn records<'a, K: serde::Serialize, T: serde::Serialize + 'a>(
    q: &RecordQuery,
    items: impl Iterator<Item = (K, &'a T)>,
    keep: impl Fn(&T, &str, Option<&str>) -> bool,
) -> Result<(Vec<Value>, usize), Problem> {
    let (limit, offset) = paging(&q.limit, &q.offset)?;
    let mut total = 0;
    let mut out = Vec::new();
    for (k, t) in items {
        let status = serde_json::to_value(t)
            .ok()
            .and_then(|v| v["status"].as_str().map(str::to_owned))
            .unwrap_or_default();
        if q.status.as_deref().is_some_and(|s| s != status) || !keep(t, &status, q.party.as_deref())
        {
            continue;
        }
        total += 1;
        if total > offset && out.len() < limit {
            let mut v = serde_json::to_value(t).map_err(|e| Problem::unavailable(e.to_string()))?;
            if let Some(m) = v.as_object_mut() {
                m.insert(
                    "index".into(),
                    serde_json::to_value(&k).unwrap_or(Value::Null),
                );
            }
            out.push(v);
        }
    }
    Ok((out, total))
}

fn record_page(key: &str, applied: u64, (items, total): (Vec<Value>, usize)) -> Response {
    ok(&json!({"applied_size": applied, "total": total, key: items}))
}

/// Notices with their answers, addressees' standing and status; `party` matches the notifying
/// party or an addressee, `status` the notice's status.
async fn notices(
    State(s): State<LogService>,
    q: Result<Query<RecordQuery>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    one_of(&q.status, &NOTICE_STATUSES)?;
    let (page, applied) = read(&s, |e| {
        let st = e.state();
        let page = records(&q, st.notices.iter(), |n, _, party| {
            party.is_none_or(|p| n.party == p || n.addressees.iter().any(|a| a == p))
        });
        (page, st.size)
    })?;
    Ok(record_page("notices", applied, page?))
}

/// Civilian cases: status, steps and who the sealed record is for; never the person (the log
/// holds only a salted commitment and the sealed record). `party` matches the reporting or the
/// detaining party.
async fn cases(
    State(s): State<LogService>,
    q: Result<Query<RecordQuery>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    one_of(&q.status, &CASE_STATUSES)?;
    let (page, applied) = read(&s, |e| {
        let st = e.state();
        let page = records(&q, st.cases.iter(), |c, _, party| {
            party.is_none_or(|p| c.reported_by == p || c.detaining_party == p)
        });
        (page, st.size)
    })?;
    Ok(record_page("cases", applied, page?))
}

/// Attestations of calm by period; `party` matches a signer, `status` is `cosigned` or
/// `signed` (not yet by every party).
async fn attestations(
    State(s): State<LogService>,
    q: Result<Query<RecordQuery>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    one_of(&q.status, &["cosigned", "signed"])?;
    let (page, applied) = read(&s, |e| {
        let st = e.state();
        let status_of = |a: &truce_engine::state::AttestationRec| {
            if a.cosigned { "cosigned" } else { "signed" }
        };
        let plain = RecordQuery {
            party: q.party.clone(),
            status: None,
            limit: q.limit.clone(),
            offset: q.offset.clone(),
        };
        let page = records(&plain, st.attestations.iter(), |a, _, party| {
            party.is_none_or(|p| a.signers.contains_key(p))
                && q.status.as_deref().is_none_or(|want| want == status_of(a))
        });
        (page, st.size)
    })?;
    // The documented `status` of each item, from whether every party co-signed.
    let (mut items, total) = page?;
    for item in &mut items {
        let cosigned = item["cosigned"].as_bool().unwrap_or(false);
        if let Some(m) = item.as_object_mut() {
            let status = if cosigned { "cosigned" } else { "signed" };
            m.insert("status".into(), status.into());
        }
    }
    Ok(record_page("attestations", applied, (items, total)))
}
