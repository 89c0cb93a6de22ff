//! Gathering witness cosignatures (C2SP `tlog-witness`) for the log's checkpoints.
//!
//! One worker thread per witness the agreement names. Each sends the newest checkpoint with a
//! consistency proof from the size that witness holds, learns that size from a `409` answer
//! (`text/x.tlog.size`), and re-sends the same checkpoint well within the policy's freshness
//! bound while the log is quiet, so that clients always see fresh cosignatures. Sequencing
//! never waits on a witness: a slow or absent one only delays its own cosignature.
//!
//! What is gathered is held in memory for the recent checkpoints. After a restart the workers
//! gather cosignatures for the newest checkpoint again (a witness cosigns the checkpoint it
//! holds as often as it is asked).

pub use crate::cosigned::{Cosigned, Equivocation, Gathered, WitnessStatus, verdict};
use crate::service::LogService;
use crate::witness::unix_now;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use truce_log::cosignature::CosignatureVerifier;
use truce_log::witness::AddCheckpoint;
use truce_model::witnesses::Witnesses;

/// How long a worker waits for a witness's answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts gathering for `service`: a supervisor thread that keeps one worker per witness the
/// agreement in force names. `urls` (witness name → URL) override or complete the
/// agreement's URLs.
pub fn start(service: LogService, urls: HashMap<String, String>) -> std::io::Result<()> {
    let urls = Arc::new(urls);
    std::thread::Builder::new()
        .name("truce-witnesses".into())
        .spawn(move || {
            let mut running: HashMap<String, ()> = HashMap::new();
            while !service.cosigned().stop.load(Ordering::SeqCst) {
                if let Some(w) = witnesses_of(&service) {
                    for v in w.verifiers() {
                        let name = v.name().to_owned();
                        if running.contains_key(&name) {
                            continue;
                        }
                        let (s, u) = (service.clone(), urls.clone());
                        let n = name.clone();
                        let spawned = std::thread::Builder::new()
                            .name(format!("truce-witness-{}", running.len()))
                            .spawn(move || worker(s, n, u));
                        if spawned.is_ok() {
                            running.insert(name, ());
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })
        .map(|_| ())
}

fn witnesses_of(service: &LogService) -> Option<Witnesses> {
    service.witnesses()
}

/// The current URL and verifier of witness `name`, or `None` if the agreement no longer
/// names it.
fn target(
    service: &LogService,
    name: &str,
    urls: &HashMap<String, String>,
) -> Option<(Witnesses, CosignatureVerifier, Option<String>)> {
    let w = witnesses_of(service)?;
    let decl = w
        .list
        .iter()
        .find(|d| CosignatureVerifier::new(&d.verifier_key).is_ok_and(|v| v.name() == name))?
        .clone();
    let v = CosignatureVerifier::new(&decl.verifier_key).ok()?;
    let url = urls.get(name).cloned().or(decl.url);
    Some((w, v, url))
}

fn worker(service: LogService, name: String, urls: Arc<HashMap<String, String>>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(WITNESS_TIMEOUT))
        .build()
        .into();
    let cosigned = service.cosigned().clone();
    // The size the witness holds, once known (it tells us in a 409).
    let mut holds: Option<u64> = None;
    let mut last_sent: Option<(u64, std::time::Instant)> = None;
    let mut backoff = Duration::from_millis(200);
    // How often the newest checkpoint is sent again on a quiet log (a third of the policy's
    // freshness bound, as of the last round).
    let mut refresh = Duration::from_secs(1);
    while !cosigned.stop.load(Ordering::SeqCst) {
        // Nothing to send until the log grows or the cosignature is due for a refresh.
        if let Some((size, at)) = last_sent
            && size >= service.checkpoint().size
            && at.elapsed() < refresh
        {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        let Some((witnesses, _, url)) = target(&service, &name, &urls) else {
            return;
        };
        let set_status = |f: &dyn Fn(&mut WitnessStatus)| {
            let mut st = cosigned.status.write();
            let e = st.entry(name.clone()).or_insert_with(|| WitnessStatus {
                name: name.clone(),
                ..Default::default()
            });
            e.url = url.clone();
            f(e);
        };
        let Some(url) = url.clone() else {
            set_status(&|s| {
                s.error = Some(
                    "no URL: give one in the agreement or with `truce serve --witness NAME=URL`"
                        .into(),
                )
            });
            std::thread::sleep(Duration::from_secs(1));
            continue;
        };
        let cp = service.checkpoint();
        refresh = Duration::from_secs((witnesses.policy.max_age_seconds / 3).max(1));
        let old = holds.unwrap_or(0).min(cp.size);
        let proof = if old == 0 || old == cp.size {
            Ok(Vec::new())
        } else {
            service
                .with_hashes(|h, _| h.prove_consistency(cp.size, old))
                .map_err(|r| r.detail)
                .and_then(|p| p.map_err(|e| e.to_string()))
        };
        let proof = match proof {
            Ok(p) => p,
            Err(e) => {
                set_status(&|s| s.error = Some(format!("cannot prove consistency: {e}")));
                std::thread::sleep(backoff);
                continue;
            }
        };
        let body = AddCheckpoint {
            old,
            proof,
            checkpoint: cp.note.clone(),
        }
        .to_bytes();
        let endpoint = format!("{}/add-checkpoint", url.trim_end_matches('/'));
        let answer = agent
            .post(&endpoint)
            .content_type("text/plain; charset=utf-8")
            .send(&body[..])
            .map_err(|e| e.to_string())
            .and_then(|mut r| {
                let status = r.status().as_u16();
                let ct = r
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let text = r
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_string()
                    .map_err(|e| e.to_string())?;
                Ok((status, ct, text))
            });
        match answer {
            Ok((200, _, lines)) => {
                holds = Some(cp.size);
                last_sent = Some((cp.size, std::time::Instant::now()));
                backoff = Duration::from_millis(200);
                let now = unix_now();
                cosigned.record(&witnesses, cp.size, &cp.note, lines.as_bytes(), now);
                let ts = cosigned.at(cp.size).and_then(|g| {
                    g.cosignatures
                        .iter()
                        .find(|c| c.name == name)
                        .map(|c| c.timestamp)
                });
                set_status(&|s| {
                    s.holds = Some(cp.size);
                    s.last_cosigned = ts;
                    s.error = if ts.is_none() {
                        Some(
                            "the witness answered 200 without a valid cosignature by its key"
                                .into(),
                        )
                    } else {
                        None
                    };
                });
            }
            Ok((409, ct, text)) if ct.starts_with("text/x.tlog.size") => {
                match text.strip_suffix('\n').and_then(|t| t.parse::<u64>().ok()) {
                    Some(size) if size <= cp.size && holds != Some(size) => {
                        // Retry at once from the size the witness holds.
                        holds = Some(size);
                        set_status(&|s| {
                            s.holds = Some(size);
                            s.error = None;
                        });
                    }
                    Some(size) => {
                        let detail = if size > cp.size {
                            format!(
                                "the witness holds size {size}, larger than this log's {}: it has seen another history of this log",
                                cp.size
                            )
                        } else {
                            format!("the witness still answers 409 at size {size}")
                        };
                        if size > cp.size {
                            cosigned.equivocation(Equivocation {
                                witness: name.clone(),
                                detail: detail.clone(),
                                checkpoint: String::from_utf8_lossy(&cp.note).into_owned(),
                                seen: unix_now(),
                            });
                        }
                        tracing::error!(witness = %name, %detail);
                        set_status(&|s| s.error = Some(detail.clone()));
                        holds = Some(size);
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                    None => {
                        set_status(&|s| {
                            s.error = Some(format!("409 with a malformed size body {text:?}"))
                        });
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                }
            }
            Ok((status, _, text)) => {
                let detail = format!("{status}: {}", text.trim());
                // A 409 that is not a size (the same size with another root), or a 422 for a
                // proof from the size the witness said it holds: it holds a checkpoint of this
                // log that this tree does not extend.
                if (status == 409 || (status == 422 && holds.is_some())) && old > 0 {
                    cosigned.equivocation(Equivocation {
                        witness: name.clone(),
                        detail: format!(
                            "the witness refused this log's checkpoint of size {} from size {old} ({detail}): it holds another history of this log",
                            cp.size
                        ),
                        checkpoint: String::from_utf8_lossy(&cp.note).into_owned(),
                        seen: unix_now(),
                    });
                }
                tracing::warn!(witness = %name, %detail, "the witness refused the checkpoint");
                set_status(&|s| s.error = Some(detail.clone()));
                holds = None;
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
            Err(e) => {
                set_status(&|s| s.error = Some(format!("unreachable: {e}")));
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}
