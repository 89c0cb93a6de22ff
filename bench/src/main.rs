//! `truce-bench`: end-to-end ingest throughput of a real server over HTTP on loopback (signed
//! entries per second, each committed durably before its receipt), and, in the same run, the
//! single-core Ed25519 strict-verification rate of this machine, and their ratio.
//!
//! The server is the library the `truce` binary serves (same admission, sequencer, SQLite
//! store with `synchronous=FULL`), on its own Tokio runtime in this process; clients are
//! threads speaking HTTP/1.1 to it over 127.0.0.1. Entries are signed before timing starts.
//!
//! Run: `cargo run --release -p truce-bench` (see `--help`).

use anyhow::{Context, Result, bail};
use clap::Parser;
use ed25519_dalek::{Signature, VerifyingKey};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use truce_client::database::Database;
use truce_client::keys::MemberKey;
use truce_client::scenario::{Scenario, init_with, sign_entry};
use truce_log::Envelope;
use truce_log::dsse::pae;
use truce_model::Kind;

#[derive(Parser)]
#[command(about = "End-to-end ingest throughput vs single-core Ed25519 strict-verify rate")]
struct Args {
    /// Entries submitted per run (long enough that ramp-up and the tail are a small part).
    #[arg(long, default_value_t = 100_000)]
    entries: usize,
    /// Entries per POST /v1/entries/batch request (1 = POST /v1/entries, one at a time).
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Concurrent client connections.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Runs of each measurement; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Tokio worker threads of the server (default: available cores).
    #[arg(long)]
    server_threads: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Also measure ingest with the log on this PostgreSQL server (each run in a new database
    /// on it, dropped afterwards), interleaved with the SQLite runs, e.g.
    /// `postgres://postgres@127.0.0.1:5432/test`.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// With --postgres: also measure with this many servers on the one database (clients
    /// spread over them; a batch refused because another server committed first is sent again).
    #[arg(long, default_value_t = 1, requires = "postgres")]
    servers: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Signed report envelopes, as a party's system would send them.
fn sign_reports(keys: &[MemberKey], origin: &str, n: usize, tag: &str) -> Vec<Envelope> {
    let template: serde_json::Value = serde_json::from_str(include_str!(
        "../../scenarios/golan-1974/examples/report-shelling.json"
    ))
    .unwrap_or_default();
    let now = jiff::Timestamp::now();
    (0..n)
        .map(|i| {
            let mut body = template.clone();
            body["narrative"] = format!(
                "benchmark report {tag}-{i}: shelling observed near the Area of Separation"
            )
            .into();
            sign_entry(origin, Kind::Report, &keys[i % keys.len()], &body, now)
        })
        .collect()
}

type Work = Vec<(Vec<u8>, Signature, VerifyingKey)>;

fn verify_work(envs: &[Envelope], key_of: &dyn Fn(&str) -> VerifyingKey) -> Work {
    envs.iter()
        .map(|e| {
            (
                pae(&e.payload_type, &e.payload),
                Signature::from_bytes(&e.signature().sig),
                key_of(&e.signature().keyid),
            )
        })
        .collect()
}

/// verify_strict over `work` split across `threads` threads; signatures per second.
fn verify_rate(work: &Work, threads: usize) -> Result<f64> {
    let chunk = work.len().div_ceil(threads.max(1));
    let start = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = work
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .try_for_each(|(msg, sig, key)| key.verify_strict(msg, sig))
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .map_err(|_| anyhow::anyhow!("verify thread panicked"))?
                .context("a benchmark signature failed to verify")
        })
    })?;
    Ok(work.len() as f64 / start.elapsed().as_secs_f64())
}

struct Run {
    entries_per_s: f64,
    seconds: f64,
    /// Process CPU seconds (server and clients) spent during the timed phase.
    cpu_seconds: Option<f64>,
}

/// CPU time of this process so far (user + system), from /proc on Linux.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// One ingest run, with the log in `dir`'s SQLite file or, given `postgres` (a server URL), in
/// a new database on that server, served by `servers` servers.
fn ingest_run(args: &Args, run: usize, postgres: Option<&str>, servers: usize) -> Result<Run> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("m");
    let origin = "bench.truce.example/golan-1974";
    let temp_db = postgres.map(truce_store_postgres::testing::TempDatabase::new);
    let database = match &temp_db {
        Some(db) => Database::Postgres(db.url.clone()),
        None => Database::Sqlite,
    };
    init_with(
        &dir,
        origin,
        &Scenario::built_in("golan-1974")?,
        false,
        &database,
    )?;
    let keys: Vec<MemberKey> = ["sy.ops", "il.ops", "us.ops", "undof.ops"]
        .iter()
        .map(|m| MemberKey::load(&dir.join("keys").join(format!("{m}.key"))))
        .collect::<Result<_>>()?;
    let envs = sign_reports(&keys, origin, args.entries, &format!("run{run}"));
    let bodies: Vec<Vec<u8>> = if args.batch <= 1 {
        envs.iter().map(Envelope::to_leaf).collect()
    } else {
        envs.chunks(args.batch)
            .map(|c| {
                let mut b = b"[".to_vec();
                for (i, e) in c.iter().enumerate() {
                    if i > 0 {
                        b.push(b',');
                    }
                    b.extend(e.to_leaf());
                }
                b.push(b']');
                b
            })
            .collect()
    };

    let data = truce_server::DataDir::open(&dir)?;
    let stores = (0..servers.max(1))
        .map(|_| database.open(&data))
        .collect::<Result<Vec<_>>>()?;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.server_threads {
        rt.worker_threads(n);
    }
    let rt = rt.enable_all().build()?;
    let (addrs, service) = rt.block_on(async {
        let mut addrs = Vec::new();
        let mut first = None;
        for store in stores {
            let service = truce_server::LogService::open(store, data.read_log_key()?, origin)?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            addrs.push(listener.local_addr()?);
            // The ingest rate is measured, not the per-member rate limit (which counts each
            // entry of a batch since the batch-rate fix): the limit is out of the way.
            let unlimited = truce_server::auth::RateLimit {
                per_second: 1e12,
                burst: 1e12,
            };
            let router = truce_server::api::router_with(service.clone(), unlimited);
            tokio::spawn(async move { axum::serve(listener, router).await });
            first.get_or_insert(service);
        }
        anyhow::Ok((addrs, first.context("no server")?))
    })?;
    let size0 = service.checkpoint().size;

    let path = if args.batch <= 1 {
        "/v1/entries"
    } else {
        "/v1/entries/batch"
    };
    let urls: Vec<String> = addrs.iter().map(|a| format!("http://{a}{path}")).collect();
    let next = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(bodies);
    let cpu0 = process_cpu_seconds();
    let start = Instant::now();
    let threads: Vec<_> = (0..args.clients)
        .map(|c| {
            let (next, bodies, url) = (next.clone(), bodies.clone(), urls[c % urls.len()].clone());
            std::thread::Builder::new()
                .name("bench-client".into())
                .spawn(move || -> Result<usize> {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(120)))
                        .build()
                        .into();
                    let mut created = 0;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(body) = bodies.get(i) else {
                            return Ok(created);
                        };
                        // Several servers: a batch another server's commit beat is refused
                        // (503) and sent again; what was logged meanwhile answers 200.
                        let mut attempts = 0;
                        let (status, text) = loop {
                            let mut res = agent
                                .post(&url)
                                .header("content-type", "application/json")
                                .send(&body[..])?;
                            let status = res.status().as_u16();
                            let text = res
                                .body_mut()
                                .with_config()
                                .limit(256 << 20)
                                .read_to_vec()?;
                            attempts += 1;
                            // Count receipts for newly logged entries (status 201), in every
                            // attempt: a retried batch answers 200 for what was logged before.
                            created += if path.ends_with("batch") {
                                // Without building a JSON tree (the client shares the machine
                                // with the server).
                                let needle = b"\"status\":201}";
                                memchr::memmem::find_iter(&text, needle).count()
                            } else {
                                usize::from(status == 201)
                            };
                            let raced = status == 503
                                || memchr::memmem::find(&text, b"\"status\":503").is_some();
                            if !raced || attempts >= 1000 {
                                break (status, text);
                            }
                        };
                        if !(200..300).contains(&status) {
                            bail!(
                                "server answered {status}: {}",
                                String::from_utf8_lossy(&text)
                            );
                        }
                    }
                })
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut created = 0;
    for t in threads {
        created += t
            .join()
            .map_err(|_| anyhow::anyhow!("client thread panicked"))??;
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = process_cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    // With several servers the first one learns of the others' last commits within its
    // follow interval.
    let want = size0 + args.entries as u64;
    let deadline = Instant::now() + Duration::from_secs(10);
    while service.checkpoint().size < want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if created != args.entries || service.checkpoint().size != want {
        bail!("only {created} of {} entries were logged", args.entries);
    }
    rt.shutdown_timeout(Duration::from_secs(5));
    Ok(Run {
        entries_per_s: args.entries as f64 / seconds,
        seconds,
        cpu_seconds,
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);

    // Verify rate: same messages (report entries), one thread.
    let keys: Vec<MemberKey> = (0..4)
        .map(|i| MemberKey::generate(&format!("bench.{i}")))
        .collect();
    let sample = sign_reports(&keys, "bench.truce.example/golan-1974", 20_000, "verify");
    let key_of = |kid: &str| {
        keys.iter()
            .find(|k| k.key_id() == kid)
            .map(|k| k.key.verifying_key())
            .unwrap_or_else(|| keys[0].key.verifying_key())
    };
    let work = verify_work(&sample, &key_of);
    let mut verify = Vec::new();
    let mut verify_all = Vec::new();
    let mut ingest = Vec::new();
    let mut seconds = Vec::new();
    let mut ingest_pg = Vec::new();
    let mut ingest_multi = Vec::new();
    // Interleave the two measurements so both see the same machine conditions.
    for run in 0..args.runs {
        verify.push(verify_rate(&work, 1)?);
        verify_all.push(verify_rate(&work, cores)?);
        let r = ingest_run(&args, run, None, 1)?;
        ingest.push(r.entries_per_s);
        seconds.push(r.seconds);
        if let Some(url) = &args.postgres {
            let p = ingest_run(&args, run, Some(url), 1)?;
            if !args.json {
                eprintln!(
                    "run {}: ingest on PostgreSQL {} entries in {:.2} s = {:.0} entries/s",
                    run + 1,
                    args.entries,
                    p.seconds,
                    p.entries_per_s
                );
            }
            ingest_pg.push(p.entries_per_s);
            if args.servers > 1 {
                let q = ingest_run(&args, run, Some(url), args.servers)?;
                if !args.json {
                    eprintln!(
                        "run {}: ingest on PostgreSQL with {} servers {} entries in {:.2} s = {:.0} entries/s",
                        run + 1,
                        args.servers,
                        args.entries,
                        q.seconds,
                        q.entries_per_s
                    );
                }
                ingest_multi.push(q.entries_per_s);
            }
        }
        if !args.json {
            eprintln!(
                "run {}: verify {:.0}/s single-core; ingest {} entries in {:.2} s = {:.0} entries/s{}",
                run + 1,
                verify[run],
                args.entries,
                r.seconds,
                r.entries_per_s,
                r.cpu_seconds
                    .map(|c| format!(
                        " (CPU {:.0} us/entry, {:.0}% of {cores} cores)",
                        c * 1e6 / args.entries as f64,
                        100.0 * c / (r.seconds * cores as f64)
                    ))
                    .unwrap_or_default()
            );
        }
    }
    let verify_m = median(verify.clone());
    let verify_all_m = median(verify_all.clone());
    let ingest_m = median(ingest.clone());
    let ratio_all = ingest_m / verify_all_m;
    let ratio = ingest_m / (2.0 * verify_m);
    let target = 0.5;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "cores": cores, "entries": args.entries, "batch": args.batch, "clients": args.clients, "runs": args.runs,
                "verify_strict_per_s_single_core": {"median": verify_m, "runs": verify},
                "verify_strict_per_s_all_cores": {"median": verify_all_m, "runs": verify_all},
                "ratio_ingest_to_all_core_verify": ratio_all,
                "ingest_entries_per_s": {"median": ingest_m, "runs": ingest, "seconds": seconds},
                "ratio_ingest_to_2x_verify": ratio, "target": target, "meets_target": ratio >= target,
                "ingest_postgres_entries_per_s": (!ingest_pg.is_empty()).then(|| serde_json::json!({"median": median(ingest_pg.clone()), "runs": ingest_pg})),
                "ratio_postgres_to_sqlite": (!ingest_pg.is_empty()).then(|| median(ingest_pg.clone()) / ingest_m),
                "postgres_servers": args.servers,
                "ingest_postgres_servers_entries_per_s": (!ingest_multi.is_empty()).then(|| serde_json::json!({"median": median(ingest_multi.clone()), "runs": ingest_multi})),
            })
        );
    } else {
        println!("machine: {cores} cores");
        println!(
            "single-core Ed25519 verify_strict: {verify_m:.0}/s (median of {})",
            args.runs
        );
        println!(
            "all-core ({cores} threads) Ed25519 verify_strict: {verify_all_m:.0}/s = {:.2} x single-core (what this machine's cores deliver together)",
            verify_all_m / verify_m
        );
        println!(
            "end-to-end ingest over HTTP, durable: {ingest_m:.0} entries/s (median of {}; {} entries, batches of {}, {} clients)",
            args.runs, args.entries, args.batch, args.clients
        );
        println!(
            "ratio ingest / (2 x verify) = {ratio:.3} (target >= {target}: {})",
            if ratio >= target { "met" } else { "NOT met" }
        );
        println!("ratio ingest / all-core verify = {ratio_all:.3}");
        if !ingest_pg.is_empty() {
            let pg = median(ingest_pg.clone());
            println!(
                "end-to-end ingest with the log on PostgreSQL: {pg:.0} entries/s (median of {}) = {:.2} x SQLite in the same run",
                ingest_pg.len(),
                pg / ingest_m
            );
        }
        if !ingest_multi.is_empty() {
            let multi = median(ingest_multi.clone());
            println!(
                "end-to-end ingest with {} servers on one PostgreSQL database: {multi:.0} entries/s (median of {}) = {:.2} x one server on PostgreSQL, {:.2} x SQLite",
                args.servers,
                ingest_multi.len(),
                multi / median(ingest_pg.clone()),
                multi / ingest_m
            );
        }
    }
    Ok(())
}
