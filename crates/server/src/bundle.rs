//! Serving an export bundle (`truce export-bundle`): a static copy of the read API a log
//! server answered, one file per path, named after the path with `.body` appended (so that
//! `v1/state` and `v1/state/commitment` can both be kept): `DIR/log/checkpoint.body`,
//! `DIR/log/tile/entries/000.body`, `DIR/v1/mechanism.body`, `DIR/v1/blobs/<sha256>.body`, …. `truce audit --bundle` serves it to itself
//! on loopback and audits it with the same code that audits a live server, on a machine with
//! no network.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::path::PathBuf;
use std::sync::Arc;

/// The file of `path` in the bundle, if `path` is a plain relative path (no `..`, no empty,
/// `.` or hidden segments).
pub fn file_of(root: &std::path::Path, path: &str) -> Option<PathBuf> {
    let mut out = root.to_owned();
    for seg in path.split('/') {
        if seg.is_empty() || seg.starts_with('.') || seg.contains('\\') {
            return None;
        }
        out.push(seg);
    }
    let mut name = out.into_os_string();
    name.push(".body");
    Some(PathBuf::from(name))
}

/// Answers `GET /<path>` with the bundle's file for it (query strings are ignored), 404 if
/// there is none.
pub fn router(root: PathBuf) -> Router {
    Router::new()
        .route("/{*path}", get(serve))
        .with_state(Arc::new(root))
}

async fn serve(State(root): State<Arc<PathBuf>>, Path(path): Path<String>) -> Response {
    let Some(file) = file_of(&root, &path) else {
        return (StatusCode::NOT_FOUND, "not in the bundle").into_response();
    };
    match tokio::task::spawn_blocking(move || std::fs::read(file))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    {
        Ok(bytes) => {
            let json = path.starts_with("v1/") && !path.starts_with("v1/blobs/");
            let ct = if json {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            ([(header::CONTENT_TYPE, ct)], bytes).into_response()
        }
        Err(_) => (StatusCode::NOT_FOUND, "not in the bundle").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_name_files() {
        let root = std::path::Path::new("/b");
        assert_eq!(
            file_of(root, "log/tile/entries/000"),
            Some(PathBuf::from("/b/log/tile/entries/000.body"))
        );
        for bad in [
            "../etc/passwd",
            "log/../../x",
            "log//x",
            ".hidden",
            "a\\b",
            "",
        ] {
            assert_eq!(file_of(root, bad), None, "{bad}");
        }
    }
}
