//! `truce witness`: a C2SP `tlog-witness` (<https://c2sp.org/tlog-witness>) service. It
//! cosigns a log's checkpoint only when it is consistent with the last one it cosigned for that
//! log, and keeps that checkpoint, whole, durably, before it answers.
//!
//! The decisions are [`truce_log::witness::decide`]; this module is the record on disk and the
//! HTTP interface.
//!
//! ```text
//! DIR/witness.key                the cosigner's secret key (mode 0600)
//! DIR/logs                       the logs it witnesses: one signed-note verifier key a line
//! DIR/state/<sha256(origin)>.json       the latest cosigned checkpoint of each log
//! DIR/evidence/<sha256(origin)>/*.json  refused checkpoints signed by the log, with the
//!                                       checkpoint held when each was refused
//! DIR/witness.lock               held by the serving process
//! ```
//!
//! A record is replaced atomically (write a temporary file, flush it to disk, rename it over
//! the old one, flush the directory), and one lock covers check, persist and answer, so two
//! requests cannot interleave (the race the spec describes), and a crash at any point leaves
//! either the old record or the new one, never a cosignature the record does not account for.

use crate::datadir::{DataDirError, read_secret, write_secret};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use truce_log::cosignature::Cosigner;
use truce_log::merkle::parse_hash_b64;
use truce_log::witness::{AddCheckpoint, Conflict, Decision, Held, MAX_BODY_BYTES, TrustedLog};

/// At most this many evidence files are kept per log (each is a distinct note signed by the
/// log's key, so only the log itself can add them).
pub const MAX_EVIDENCE_PER_LOG: usize = 1000;

/// Problems with a witness directory or its configuration.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error(transparent)]
    Dir(#[from] DataDirError),
    #[error("{path}: {detail}")]
    Invalid { path: PathBuf, detail: String },
    #[error(
        "{0}: not a witness directory (no witness.key); create one with `truce witness init --dir {0}`"
    )]
    NotInitialised(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WitnessError + '_ {
    move |e| WitnessError::Invalid {
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

fn origin_file(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

/// Parses the lines of a `logs` file (or `--log` values): signed-note verifier keys, `#`
/// comments and blank lines ignored. A key listed twice, or two keys of one origin, is an
/// error (the witness would not know which record a checkpoint updates).
pub fn parse_logs<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Vec<TrustedLog>, String> {
    let mut logs: Vec<TrustedLog> = Vec::new();
    for (n, line) in lines.into_iter().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = truce_log::checkpoint::verifier_key_origin(line)
            .map_err(|e| format!("line {}: {e}", n + 1))?;
        if let Some(l) = logs.iter().find(|l| l.origin == origin) {
            return Err(if l.verifier_key == line {
                format!("line {}: the log key `{line}` is listed twice", n + 1)
            } else {
                format!(
                    "line {}: a second key for the log `{origin}`; a witness trusts one key per log",
                    n + 1
                )
            });
        }
        logs.push(TrustedLog {
            origin,
            verifier_key: line.to_owned(),
        });
    }
    Ok(logs)
}

/// Creates a witness directory with a new key named `name`, witnessing `logs` (verifier
/// keys). Returns the cosigner.
pub fn init(dir: &Path, name: &str, logs: &[String]) -> Result<Cosigner, WitnessError> {
    let parsed =
        parse_logs(logs.iter().map(String::as_str)).map_err(|detail| WitnessError::Invalid {
            path: dir.join("logs"),
            detail,
        })?;
    let (cosigner, secret) = Cosigner::generate(name).map_err(|e| WitnessError::Invalid {
        path: dir.to_owned(),
        detail: e.to_string(),
    })?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let key = dir.join("witness.key");
    if key.exists() {
        return Err(WitnessError::Invalid {
            path: key,
            detail: "a witness key exists already; this directory is a witness".into(),
        });
    }
    let mut text = String::from(
        "# The logs this witness cosigns: one signed-note verifier key a line (`truce witness serve` reads it at start).\n",
    );
    for l in &parsed {
        text.push_str(&l.verifier_key);
        text.push('\n');
    }
    write_atomically(&dir.join("logs"), text.as_bytes())?;
    write_secret(&key, &format!("{secret}\n"))?;
    Ok(cosigner)
}

/// The record of one log, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    origin: String,
    size: u64,
    /// Base64, as in the checkpoint.
    root: String,
    /// The timestamp of the last cosignature.
    timestamp: u64,
    /// The latest cosigned checkpoint, the whole signed note.
    note: String,
}

/// A refused checkpoint kept as evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub origin: String,
    /// `same-size-other-root`, `smaller-than-held` or `inconsistent`.
    pub conflict: String,
    /// Why it was refused, as answered.
    pub detail: String,
    /// When (POSIX seconds, the witness's clock).
    pub received: u64,
    /// The checkpoint the witness held then (signed note).
    pub held: String,
    /// The refused checkpoint (signed note).
    pub refused: String,
    /// The whole request body, with its consistency proof.
    pub request: String,
}

/// An answer to `add-checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [
                (header::CONTENT_TYPE, self.content_type),
                (header::CACHE_CONTROL, "no-store"),
            ],
            self.body,
        )
            .into_response()
    }
}

fn text(status: u16, body: impl Into<String>) -> Answer {
    let mut body = body.into();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    Answer {
        status,
        content_type: "text/plain; charset=utf-8",
        body,
    }
}

/// A witness: its key, the logs it trusts, and the records it holds.
pub struct Witness {
    dir: PathBuf,
    cosigner: Cosigner,
    logs: Vec<TrustedLog>,
    held: Mutex<HashMap<String, Held>>,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("dir", &self.dir)
            .field("cosigner", &self.cosigner)
            .finish_non_exhaustive()
    }
}

/// The time now, in POSIX seconds (what cosignatures are stamped with).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Witness {
    /// Opens a witness directory; `extra_logs` (verifier keys) are witnessed besides those in
    /// its `logs` file.
    pub fn open(dir: &Path, extra_logs: &[String]) -> Result<Self, WitnessError> {
        let key = dir.join("witness.key");
        if !key.exists() {
            return Err(WitnessError::NotInitialised(dir.to_owned()));
        }
        let cosigner =
            Cosigner::from_secret(&read_secret(&key)?).map_err(|e| WitnessError::Invalid {
                path: key.clone(),
                detail: e.to_string(),
            })?;
        let logs_path = dir.join("logs");
        let listed = match std::fs::read_to_string(&logs_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(&logs_path)(e)),
        };
        let logs = parse_logs(listed.lines().chain(extra_logs.iter().map(String::as_str)))
            .map_err(|detail| WitnessError::Invalid {
                path: logs_path.clone(),
                detail,
            })?;
        let mut held = HashMap::new();
        for log in &logs {
            let path = dir
                .join("state")
                .join(format!("{}.json", origin_file(&log.origin)));
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&path)(e)),
            };
            let bad = |detail: String| WitnessError::Invalid {
                path: path.clone(),
                detail,
            };
            let r: Record = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
            let root = parse_hash_b64(&r.root).ok_or_else(|| bad("bad root".into()))?;
            // The record must be what it says: a checkpoint of this log, signed by its key.
            let cp = truce_log::checkpoint::verify_checkpoint(r.note.as_bytes(), &log.verifier_key)
                .map_err(|e| bad(format!("the held checkpoint does not verify: {e}")))?;
            if r.origin != log.origin || cp.size != r.size || cp.root != root {
                return Err(bad("the record does not match its checkpoint".into()));
            }
            held.insert(
                log.origin.clone(),
                Held {
                    size: r.size,
                    root,
                    note: r.note.into_bytes(),
                    timestamp: r.timestamp,
                },
            );
        }
        Ok(Self {
            dir: dir.to_owned(),
            cosigner,
            logs,
            held: Mutex::new(held),
            clock: Box::new(unix_now),
        })
    }

    /// Replaces the clock (POSIX seconds), for tests.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Takes the directory's lock, so that two processes never serve one witness record.
    pub fn lock(&self) -> Result<std::fs::File, WitnessError> {
        Ok(crate::datadir::lock_file(
            &self.dir.join("witness.lock"),
            "another truce witness is serving this directory",
        )?)
    }

    pub fn cosigner(&self) -> &Cosigner {
        &self.cosigner
    }

    pub fn logs(&self) -> &[TrustedLog] {
        &self.logs
    }

    /// The latest cosigned checkpoint of each log it holds one for: (origin, held).
    pub fn held(&self) -> Vec<(String, Held)> {
        let mut v: Vec<_> = self
            .held
            .lock()
            .iter()
            .map(|(o, h)| (o.clone(), h.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Handles an `add-checkpoint` body. Blocking (it writes to disk before it returns).
    pub fn add_checkpoint(&self, body: &[u8]) -> Answer {
        let req = match AddCheckpoint::parse(body) {
            Ok(r) => r,
            Err(e) => return text(400, e.to_string()),
        };
        // One lock over check, persist and answer: the spec's atomicity requirement.
        let mut held = self.held.lock();
        let origin = truce_log::witness::origin_of(&req.checkpoint).unwrap_or_default();
        let current = held.get(origin).cloned();
        let now = (self.clock)();
        match truce_log::witness::decide(&self.logs, current.as_ref(), &req, &self.cosigner, now) {
            Decision::Cosign { lines, held: new } => {
                let record = Record {
                    origin: origin.to_owned(),
                    size: new.size,
                    root: new.root.to_string(),
                    timestamp: new.timestamp,
                    note: String::from_utf8_lossy(&new.note).into_owned(),
                };
                if let Err(e) = self.persist(&record) {
                    tracing::error!(error = %e, "cannot persist the witness record");
                    return text(
                        500,
                        "the witness could not record the checkpoint; try again",
                    );
                }
                held.insert(origin.to_owned(), new);
                Answer {
                    status: 200,
                    content_type: "text/plain; charset=utf-8",
                    body: lines,
                }
            }
            Decision::Refuse {
                status,
                detail,
                size,
                conflict,
            } => {
                if let (Some(conflict), Some(h)) = (conflict, current.as_ref()) {
                    self.keep_evidence(origin, conflict, &detail, h, &req, body, now);
                }
                match (status, size, conflict) {
                    // The old size does not match: the body is the size held, typed so that
                    // a client can retry from it.
                    (409, Some(size), None | Some(Conflict::Smaller)) => Answer {
                        status,
                        content_type: "text/x.tlog.size",
                        body: format!("{size}\n"),
                    },
                    _ => text(status, detail),
                }
            }
        }
    }

    fn persist(&self, record: &Record) -> Result<(), WitnessError> {
        let dir = self.dir.join("state");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let json = serde_json::to_vec_pretty(record).map_err(|e| WitnessError::Invalid {
            path: dir.clone(),
            detail: e.to_string(),
        })?;
        write_atomically(
            &dir.join(format!("{}.json", origin_file(&record.origin))),
            &json,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn keep_evidence(
        &self,
        origin: &str,
        conflict: Conflict,
        detail: &str,
        held: &Held,
        req: &AddCheckpoint,
        body: &[u8],
        now: u64,
    ) {
        let dir = self.dir.join("evidence").join(origin_file(origin));
        let name = format!(
            "{}.json",
            &hex::encode(Sha256::digest(&req.checkpoint))[..32]
        );
        let path = dir.join(name);
        if path.exists() {
            return;
        }
        let count = std::fs::read_dir(&dir).map_or(0, |d| d.count());
        if count >= MAX_EVIDENCE_PER_LOG {
            tracing::warn!(origin, "evidence store full for this log; not kept");
            return;
        }
        let evidence = Evidence {
            origin: origin.to_owned(),
            conflict: conflict.slug().to_owned(),
            detail: detail.to_owned(),
            received: now,
            held: String::from_utf8_lossy(&held.note).into_owned(),
            refused: String::from_utf8_lossy(&req.checkpoint).into_owned(),
            request: String::from_utf8_lossy(body).into_owned(),
        };
        let stored = std::fs::create_dir_all(&dir)
            .map_err(io(&dir))
            .and_then(|()| {
                let json = serde_json::to_vec_pretty(&evidence).unwrap_or_default();
                write_atomically(&path, &json)
            });
        match stored {
            Ok(()) => tracing::warn!(
                origin,
                conflict = conflict.slug(),
                "refused a checkpoint signed by the log; kept both notes as evidence"
            ),
            Err(e) => tracing::error!(error = %e, "cannot keep evidence"),
        }
    }
}

/// The evidence kept in a witness directory, oldest first.
pub fn evidence(dir: &Path) -> Result<Vec<Evidence>, WitnessError> {
    let root = dir.join("evidence");
    let mut out = Vec::new();
    let Ok(logs) = std::fs::read_dir(&root) else {
        return Ok(out);
    };
    for log in logs {
        let log = log.map_err(io(&root))?.path();
        for file in std::fs::read_dir(&log).map_err(io(&log))? {
            let path = file.map_err(io(&log))?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let e: Evidence = serde_json::from_str(&text).map_err(|e| WitnessError::Invalid {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            out.push(e);
        }
    }
    out.sort_by(|a, b| (a.received, &a.refused).cmp(&(b.received, &b.refused)));
    Ok(out)
}

/// Replaces `path` with `bytes` atomically and durably: a temporary file, flushed, renamed
/// over the old one, and the directory flushed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WitnessError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path))?;
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))?;
    Ok(())
}

/// The witness's HTTP interface: `POST /add-checkpoint` (the spec), and `GET /` describing
/// the witness (its name, verifier key and the logs it witnesses, with the size it holds).
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/", get(describe))
        .with_state(witness)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Answer {
    match tokio::task::spawn_blocking(move || w.add_checkpoint(&body)).await {
        Ok(a) => a,
        Err(_) => text(500, "the witness failed on this request"),
    }
}

async fn describe(State(w): State<Arc<Witness>>) -> Response {
    let held: HashMap<String, Held> = w.held().into_iter().collect();
    let logs: Vec<_> = w
        .logs()
        .iter()
        .map(|l| {
            let h = held.get(&l.origin);
            serde_json::json!({
                "origin": l.origin,
                "verifier_key": l.verifier_key,
                "size": h.map(|h| h.size),
                "root": h.map(|h| h.root.to_string()),
                "cosigned_at": h.map(|h| h.timestamp),
            })
        })
        .collect();
    axum::Json(serde_json::json!({
        "name": w.cosigner().name(),
        "verifier_key": w.cosigner().verifier_key(),
        "protocol": "https://c2sp.org/tlog-witness",
        "logs": logs,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use truce_log::LogKey;
    use truce_log::merkle::{MemoryHashes, leaf_hash};

    fn log(n: u64, key: &LogKey, tree: &mut MemoryHashes) -> Vec<u8> {
        for _ in 0..n {
            let i = tree.size();
            tree.append(leaf_hash(&i.to_be_bytes())).unwrap();
        }
        key.sign(tree.size(), tree.root(tree.size()).unwrap(), "")
            .unwrap()
            .note
    }

    fn body(old: u64, tree: &MemoryHashes, note: &[u8]) -> Vec<u8> {
        let size = tree.size();
        AddCheckpoint {
            old,
            proof: if old == 0 || old == size {
                vec![]
            } else {
                tree.prove_consistency(size, old).unwrap()
            },
            checkpoint: note.to_vec(),
        }
        .to_bytes()
    }

    #[test]
    fn the_record_survives_a_restart_and_a_fork_is_kept_as_evidence() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = LogKey::generate("example.org/log").unwrap();
        init(
            dir.path(),
            "witness.example/w",
            &[key.verifier_key().into()],
        )
        .unwrap();
        let w = Witness::open(dir.path(), &[]).unwrap().with_clock(|| 1000);
        let mut tree = MemoryHashes::new();
        let n3 = log(3, &key, &mut tree);
        let a = w.add_checkpoint(&body(0, &tree, &n3));
        assert_eq!(a.status, 200, "{a:?}");
        assert!(a.body.starts_with("— witness.example/w "));
        drop(w);

        // After a restart the witness holds size 3: old 0 is a conflict, answered with the size.
        let w = Witness::open(dir.path(), &[]).unwrap().with_clock(|| 900);
        assert_eq!(w.held()[0].1.size, 3);
        let n5 = log(2, &key, &mut tree);
        let a = w.add_checkpoint(&body(0, &tree, &n5));
        assert_eq!(
            (a.status, a.content_type, a.body.as_str()),
            (409, "text/x.tlog.size", "3\n")
        );
        let a = w.add_checkpoint(&body(3, &tree, &n5));
        assert_eq!(a.status, 200);
        // The clock went back to 900, the record's timestamp did not.
        assert_eq!(w.held()[0].1.timestamp, 1000);

        // A fork: size 5, another root, signed by the log.
        let fork = key
            .sign(5, truce_log::merkle::sha256(b"fork"), "")
            .unwrap()
            .note;
        let a = w.add_checkpoint(&body(5, &tree, &fork));
        assert_eq!(
            (a.status, a.content_type),
            (409, "text/plain; charset=utf-8")
        );
        let ev = evidence(dir.path()).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].conflict, "same-size-other-root");
        assert_eq!(ev[0].held.as_bytes(), n5.as_slice());
        assert_eq!(ev[0].refused.as_bytes(), fork.as_slice());
        // Sent again, it is not stored twice; nothing the log did not sign is stored.
        w.add_checkpoint(&body(5, &tree, &fork));
        let (other, _) = LogKey::generate("example.org/log").unwrap();
        let forged = other
            .sign(5, truce_log::merkle::sha256(b"x"), "")
            .unwrap()
            .note;
        assert_eq!(w.add_checkpoint(&body(5, &tree, &forged)).status, 403);
        assert_eq!(w.add_checkpoint(b"old 0\n").status, 400);
        assert_eq!(evidence(dir.path()).unwrap().len(), 1);
        // The record still holds size 5 with the true root.
        let held = &w.held()[0].1;
        assert_eq!((held.size, held.root), (5, tree.root(5).unwrap()));
    }

    #[test]
    fn configuration_errors_are_precise() {
        let (key, _) = LogKey::generate("example.org/log").unwrap();
        let (key2, _) = LogKey::generate("example.org/log").unwrap();
        let vk = key.verifier_key();
        let twice = parse_logs([vk, vk]).unwrap_err();
        assert!(twice.contains("listed twice"), "{twice}");
        let two = parse_logs([vk, key2.verifier_key()]).unwrap_err();
        assert!(two.contains("one key per log"), "{two}");
        assert!(
            parse_logs(["not a key"])
                .unwrap_err()
                .starts_with("line 1:")
        );
        assert_eq!(parse_logs(["# comment", "", vk]).unwrap().len(), 1);
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Witness::open(dir.path(), &[]),
            Err(WitnessError::NotInitialised(_))
        ));
        assert!(init(dir.path(), "bad name", &[]).is_err());
        assert!(!dir.path().join("witness.key").exists());
    }
}
