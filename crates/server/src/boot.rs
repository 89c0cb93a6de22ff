//! Booting a log server: the runtime, the listener, the data directory's own witnesses, the
//! cosignature workers, and a clean stop (the derived state saved) on Ctrl-C or SIGTERM.
//!
//! The caller (the `truce` binary) opens the data directory and the store, so this crate stays
//! independent of which store backs the log.

use crate::auth::RateLimit;
use crate::listener::{ConnectionLimits, shutdown_signal};
use crate::{DataDir, LogService};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the data directory keeps the witnesses `truce init --witnesses` made for a demo.
pub const LOCAL_WITNESSES: &str = "witnesses";

/// What a server is started with.
#[allow(missing_debug_implementations)]
pub struct Config {
    /// The data directory, opened (and locked) by the caller.
    pub dir: DataDir,
    /// The store holding the directory's log.
    pub store: Arc<dyn truce_store::Store>,
    pub listen: SocketAddr,
    /// Per-member submission rate limit.
    pub limit: RateLimit,
    /// Print the start as one JSON line on standard output (otherwise a line of text).
    pub json: bool,
    /// Witness name → URL, to gather cosignatures from (beyond the directory's own).
    pub witness_urls: HashMap<String, String>,
    /// Told the bound address once the server listens (the demo prints its tour here).
    pub on_listening: Option<Box<dyn FnOnce(SocketAddr)>>,
}

/// Runs the server until Ctrl-C or SIGTERM, then saves the derived state so the next start
/// resumes from there.
pub fn run(config: Config) -> Result<()> {
    let Config {
        dir,
        store,
        listen,
        limit,
        json,
        witness_urls,
        on_listening,
    } = config;
    let key = dir.read_log_key()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let service = LogService::open(store, key, &dir.origin)?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {listen} (is another server using it?); choose another address with --listen, e.g. --listen 127.0.0.1:8081"
                )
            })?;
        let addr = listener.local_addr()?;
        tracing::info!(
            %addr,
            origin = service.origin(),
            verifier_key = service.verifier_key(),
            tree_size = service.checkpoint().size,
            "serving"
        );
        // Tests and scripts read this line to learn the port when listening on :0.
        if json {
            println!(
                "{}",
                serde_json::json!({"event": "listening", "url": format!("http://{addr}"), "origin": service.origin(), "verifier_key": service.verifier_key(), "tree_size": service.checkpoint().size})
            );
        } else {
            println!("listening on http://{addr}");
        }
        if let Some(b) = on_listening {
            b(addr);
        }
        let mut witness_urls = witness_urls;
        let local = start_local_witnesses(&dir.root.join(LOCAL_WITNESSES)).await?;
        for (name, url) in &local {
            witness_urls.entry(name.clone()).or_insert_with(|| url.clone());
        }
        crate::cosign::start(service.clone(), witness_urls)
            .context("cannot start gathering witness cosignatures")?;
        if !local.is_empty() && service.witnesses().is_some() {
            // Ready when the newest checkpoint has its quorum (a few round trips on loopback),
            // so that a client's first /log/checkpoint is cosigned.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while std::time::Instant::now() < deadline
                && service
                    .cosigned()
                    .best()
                    .is_none_or(|b| b.size < service.checkpoint().size)
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            tracing::warn!(
                witnesses = local.len(),
                "running the data directory's own witnesses (truce init --witnesses): a demo; they protect nothing, since this operator holds their keys"
            );
        }
        let derived = service.derived().clone();
        let store = service.store().clone();
        let cosigned = service.cosigned().clone();
        let served = crate::listener::serve(
            listener,
            crate::api::router_with(service, limit),
            ConnectionLimits::default(),
            shutdown_signal(),
        )
        .await
        .context("server failed");
        cosigned.stop();
        // Save the derived state so the next start resumes from here.
        derived.stop();
        derived.snapshot(&*store);
        served
    })
}

/// Runs the witnesses `truce init --witnesses` made (each subdirectory of `dir` with a
/// witness key) on loopback ports, in this process; returns their names and URLs.
async fn start_local_witnesses(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("witness.key").exists())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        let w = crate::witness::Witness::open(&sub, &[])?;
        let lock = w.lock()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        out.push((w.cosigner().name().to_owned(), url));
        let router = crate::witness::router(Arc::new(w));
        tokio::spawn(async move {
            let _lock = lock;
            let _ = crate::listener::serve(
                listener,
                router,
                ConnectionLimits::default(),
                std::future::pending(),
            )
            .await;
        });
    }
    Ok(out)
}
