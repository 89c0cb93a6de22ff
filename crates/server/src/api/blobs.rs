//! Blobs: the content-addressed documents agreements name (zones, places).

use super::*;

pub(super) fn check_sha256_path(sha: &str) -> Result<(), Problem> {
    truce_model::ids::check_sha256_hex("path", sha).map_err(|r| Problem::bad_request(r.detail))
}

pub(super) async fn put_blob(
    State(s): State<LogService>,
    Path(sha): Path<String>,
    body: Body,
) -> ApiResult {
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

pub(super) async fn get_blob(
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
