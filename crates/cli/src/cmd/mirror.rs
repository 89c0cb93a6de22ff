//! `truce mirror`: follow a log into a party's own verified copy, and serve it.

use anyhow::{Context as _, Result};
use clap::Args;
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use truce_client::mirror::{self, Follower};

#[derive(Args)]
pub struct MirrorArgs {
    /// The log's server, e.g. http://10.0.0.2:8080. Needed the first time only: the mirror
    /// remembers it.
    #[arg(long, value_name = "URL")]
    from: Option<String>,
    /// The mirror's data directory (created on first use; holds the copy, its own tokens and
    /// any evidence of equivocation).
    #[arg(long)]
    dir: PathBuf,
    /// The log's verifier key, as your party recorded it. Without it, a new mirror trusts the
    /// key the server shows the first time (and checks it ever after).
    #[arg(long)]
    vkey: Option<String>,
    /// Address the mirror serves its copy on (the same read API, tiles and checkpoints as the
    /// log's server; writes are refused with 405).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Seconds between two rounds of following.
    #[arg(long, default_value_t = 2.0, value_parser = parse_interval)]
    interval: f64,
    /// Follow once (copy and verify up to the log's newest checkpoint), print what was done,
    /// and exit without serving.
    #[arg(long)]
    once: bool,
    /// Also run this party's witness (a directory made by `truce witness init`) in the same
    /// process, on --witness-listen.
    #[arg(long, value_name = "DIR")]
    witness_dir: Option<PathBuf>,
    /// Address the witness listens on, with --witness-dir.
    #[arg(long, default_value = "127.0.0.1:7380", requires = "witness_dir")]
    witness_listen: SocketAddr,
    /// Requests per second allowed to each member's tokens on the mirror (sustained).
    #[arg(long, default_value_t = 100.0)]
    rate_limit: f64,
    /// Requests a member may send in one burst above the sustained rate.
    #[arg(long, default_value_t = 400.0)]
    rate_burst: f64,
}

fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.05..=3600.0).contains(&v) => Ok(v),
        Ok(_) => Err("give between 0.05 and 3600 seconds".into()),
        Err(_) => Err(format!("`{s}` is not a number of seconds")),
    }
}

pub fn run(j: bool, a: MirrorArgs, token: &Option<String>) -> Result<()> {
    if !(a.rate_limit > 0.0 && a.rate_burst >= 1.0) {
        anyhow::bail!("--rate-limit must be positive and --rate-burst at least 1");
    }
    crate::cmd::serve::init_tracing(if j { "json" } else { "text" });
    let (data, store, client) =
        mirror::create_or_open(&a.dir, a.from.as_deref(), token.clone(), a.vkey.as_deref())?;
    let _lock = data.lock()?;
    let Some(of) = data.mirror.clone() else {
        unreachable!("create_or_open returns mirrors only")
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let service = rt.block_on(async {
        truce_server::LogService::open_mirror(store, &data.origin, &of.verifier_key, &of.upstream)
    })?;
    let mut follower = Follower::new(client, service.clone(), &a.dir)?;
    if a.once {
        let done = follower.sync();
        let derived = service.derived().clone();
        derived.stop();
        derived.snapshot(&**service.store());
        if let Some(fork) = follower.forked() {
            report_fork(j, fork);
            return Err(anyhow::anyhow!(crate::ExitWith(3)));
        }
        let done = done?;
        crate::print(j, json!({"upstream": of.upstream, "synced": done}), || {
            format!(
                "mirror of {} holds {} entries ({} verified and stored now){}; {} cosignatures on the newest checkpoint",
                of.upstream,
                done.size,
                done.stored,
                done.commitment_checked
                    .map(|s| format!("; the log's state commitment at {s} matches the replay"))
                    .unwrap_or_default(),
                done.cosignatures
            )
        });
        return Ok(());
    }
    let witness = match &a.witness_dir {
        Some(d) => {
            // The witness witnesses the log this mirror follows, besides those in DIR/logs.
            let w =
                truce_server::witness::Witness::open(d, std::slice::from_ref(&of.verifier_key))?;
            let lock = w.lock()?;
            Some((Arc::new(w), lock))
        }
        None => None,
    };
    let interval = Duration::from_secs_f64(a.interval);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let following = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("mirror-follow".into())
            .spawn(move || follow(&mut follower, interval, &stop, j))?
    };
    let limit = truce_server::auth::RateLimit {
        per_second: a.rate_limit,
        burst: a.rate_burst,
    };
    let served = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.listen).await.with_context(|| {
            format!("cannot listen on {}; choose another address with --listen", a.listen)
        })?;
        let addr = listener.local_addr()?;
        let mut witness_url = None;
        if let Some((w, lock)) = witness {
            let wl = tokio::net::TcpListener::bind(a.witness_listen).await.with_context(|| {
                format!(
                    "cannot listen on {} for the witness; choose another address with --witness-listen",
                    a.witness_listen
                )
            })?;
            witness_url = Some(format!("http://{}", wl.local_addr()?));
            tracing::info!(url = witness_url.as_deref(), verifier_key = %w.cosigner().verifier_key(), "witness serving");
            tokio::spawn(async move {
                let _lock = lock;
                if let Err(e) = truce_server::listener::serve(
                    wl,
                    truce_server::witness::router(w),
                    truce_server::listener::ConnectionLimits::default(),
                    std::future::pending(),
                )
                .await
                {
                    tracing::error!(error = %e, "the witness stopped");
                }
            });
        }
        if j {
            println!(
                "{}",
                json!({"event": "listening", "url": format!("http://{addr}"), "mirror_of": of.upstream,
                    "origin": service.origin(), "tree_size": service.checkpoint().size, "witness_url": witness_url})
            );
        } else {
            println!("listening on http://{addr} (mirror of {})", of.upstream);
            if let Some(u) = &witness_url {
                println!("witness listening on {u}");
            }
        }
        tracing::info!(%addr, upstream = %of.upstream, tree_size = service.checkpoint().size, "mirror serving");
        truce_server::listener::serve(
            listener,
            truce_server::api::router_with(service.clone(), limit),
            truce_server::listener::ConnectionLimits::default(),
            truce_server::listener::shutdown_signal(),
        )
        .await
        .context("mirror failed")
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = following.join();
    let derived = service.derived().clone();
    derived.stop();
    derived.snapshot(&**service.store());
    served
}

/// The follower's loop: a round every `interval` until `stop`, or until a fork is seen.
fn follow(f: &mut Follower, interval: Duration, stop: &std::sync::atomic::AtomicBool, j: bool) {
    let mut was_unreachable = false;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        match f.sync() {
            Ok(done) => {
                if was_unreachable {
                    tracing::info!("the log's server answers again");
                    was_unreachable = false;
                }
                if done.stored > 0 {
                    tracing::info!(
                        size = done.size,
                        stored = done.stored,
                        cosignatures = done.cosignatures,
                        "mirror extended"
                    );
                }
            }
            Err(e) if mirror::is_unreachable(&e) => {
                if !was_unreachable {
                    tracing::warn!(error = %e, "cannot reach the log's server; serving the copy held, and trying again");
                    was_unreachable = true;
                }
            }
            Err(e) => {
                if let Some(fork) = f.forked() {
                    report_fork(j, fork);
                    tracing::error!(detail = %fork.detail, "the log equivocated; the mirror stopped following and keeps serving what it verified");
                    return;
                }
                tracing::warn!(
                    error = format!("{e:#}"),
                    "a round of following failed; the mirror holds what it verified and tries again"
                );
            }
        }
        let until = std::time::Instant::now() + interval;
        while std::time::Instant::now() < until && !stop.load(std::sync::atomic::Ordering::Relaxed)
        {
            std::thread::sleep(Duration::from_millis(50).min(interval));
        }
    }
}

/// Prints the evidence of a fork: both signed checkpoints (JSON on stdout with --json).
fn report_fork(j: bool, fork: &mirror::Fork) {
    if j {
        println!(
            "{}",
            json!({"event": "equivocation", "type": "urn:truce:cli:verification-failed", "title": "The log equivocated",
                "detail": fork.detail, "exit_code": 3, "fork": fork})
        );
    } else {
        eprintln!("{fork}");
        if let Some(p) = &fork.evidence {
            eprintln!("evidence kept in {}", p.display());
        }
    }
}
