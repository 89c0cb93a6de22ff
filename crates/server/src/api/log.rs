//! The log as C2SP clients read it: checkpoints (with cosignatures), the witnesses' status, tiles.

use super::*;

pub(super) async fn checkpoint_at(
    State(s): State<LogService>,
    Path(size): Path<String>,
) -> ApiResult {
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
pub(super) async fn checkpoint(State(s): State<LogService>) -> Response {
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

pub(super) fn no_quorum_yet() -> Response {
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
pub(super) async fn checkpoint_latest(
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
pub(super) async fn witnesses(State(s): State<LogService>) -> Response {
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
pub(super) fn maybe_gzip(data: Vec<u8>, headers: &HeaderMap) -> (Vec<u8>, bool) {
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

pub(super) async fn tile(
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
