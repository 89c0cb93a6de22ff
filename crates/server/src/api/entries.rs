//! Entries: submission (one, or a batch), an entry, its receipt and its tlog-proof.

use super::*;

/// A token sent with a submission must be the entry author's. Checked on the entry as
/// admission parsed it (the same parse the sequencer uses), for a single entry and for each
/// entry of a batch alike.
pub(super) fn check_token_author(
    caller: Option<&Caller>,
    prepared: &Prepared,
) -> Result<(), Refusal> {
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

pub(super) async fn post_entry(
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

pub(super) async fn post_batch(
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

pub(super) async fn get_entry(
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

pub(super) async fn get_receipt(
    State(s): State<LogService>,
    Path(index): Path<String>,
) -> ApiResult {
    let index = parse_index(&index)?;
    let r = s.receipt(index).map_err(Problem::from)?;
    Ok(json_response(StatusCode::OK, &r))
}

pub(super) async fn get_tlog_proof(
    State(s): State<LogService>,
    Path(index): Path<String>,
) -> ApiResult {
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
