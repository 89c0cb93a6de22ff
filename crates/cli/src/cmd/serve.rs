//! `truce serve` and `truce demo`: the log server on a data directory (booted by
//! `truce_server::boot`), and the demo around it.

use crate::connect;
use anyhow::Result;
use clap::Args;
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use truce_client::scenario;

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Data directory created by `truce init`.
    #[arg(long, env = "TRUCE_DATA")]
    pub data: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "TRUCE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Log format.
    #[arg(long, value_parser = ["text", "json"], default_value = "text")]
    pub log_format: String,
    /// Requests per second allowed to each member's tokens (sustained); beyond it, 429.
    #[arg(long, env = "TRUCE_RATE_LIMIT", default_value_t = 100.0)]
    pub rate_limit: f64,
    /// Requests a member may send in one burst above the sustained rate.
    #[arg(long, env = "TRUCE_RATE_BURST", default_value_t = 400.0)]
    pub rate_burst: f64,
    /// Where a witness the agreement names listens: `NAME=URL` (e.g.
    /// `sy.example/witness=http://10.0.0.5:7380`). Overrides the agreement's URL. Repeat for
    /// each witness.
    #[arg(long = "witness", value_name = "NAME=URL")]
    pub witnesses: Vec<String>,
    /// Where the log is stored: `sqlite` (DATA/truce.db, the default) or a PostgreSQL URL
    /// (`postgres://user@host:5432/db`), as given to `truce init`. See docs/deployment.md.
    #[arg(long, env = "TRUCE_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
}

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Keep the demo's data in this directory instead of a temporary one.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Simulated incidents to feed the new mechanism with (reports from both parties and
    /// UNDOF over the last 30 days, with noise; see `truce simulate`); 0 for none.
    #[arg(long, default_value_t = 300)]
    pub simulate: u64,
}

/// `truce serve`.
pub(crate) fn serve(j: bool, a: ServeArgs) -> Result<()> {
    if !(a.rate_limit > 0.0 && a.rate_burst >= 1.0) {
        anyhow::bail!("--rate-limit must be positive and --rate-burst at least 1");
    }
    let limit = truce_server::auth::RateLimit {
        per_second: a.rate_limit,
        burst: a.rate_burst,
    };
    let mut urls = std::collections::HashMap::new();
    for w in &a.witnesses {
        let Some((name, url)) = w.split_once('=') else {
            anyhow::bail!(
                "--witness must be NAME=URL, e.g. sy.example/witness=http://10.0.0.5:7380; got `{w}`"
            );
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            anyhow::bail!("--witness {name}: the URL must start with http:// or https://");
        }
        urls.insert(name.to_owned(), url.to_owned());
    }
    let database = truce_client::database::Database::for_dir(
        a.database.as_deref(),
        &truce_server::DataDir::open(&a.data)?,
    )?;
    run_server(
        &a.data,
        &database,
        a.listen,
        &a.log_format,
        limit,
        None,
        j,
        urls,
    )
}

pub(crate) fn demo(a: DemoArgs, json: bool) -> Result<()> {
    let temp;
    let dir = match &a.data {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::Builder::new().prefix("truce-demo-").tempdir()?;
            temp.path().join("mechanism")
        }
    };
    let done = if truce_server::DataDir::config_path(&dir).exists() {
        None
    } else {
        Some(scenario::init_with(
            &dir,
            "truce.example/golan-1974",
            &scenario::Scenario::built_in("golan-1974")?,
            true,
            &truce_client::database::Database::Sqlite,
        )?)
    };
    let keys = dir.join("keys");
    let vkey = truce_server::DataDir::open(&dir)?
        .read_log_key()?
        .verifier_key()
        .to_owned();
    let tokens = demo_tokens(&dir)?;
    let reader = tokens
        .iter()
        .find(|(m, _)| m == "us.ops")
        .map(|(_, t)| t.clone());
    let json_tokens = tokens.clone();
    let token_lines: String = tokens
        .iter()
        .map(|(m, t)| format!("  {m:<12} {t}\n"))
        .collect();
    let simulate = (done.is_some() && a.simulate > 0).then_some(a.simulate);
    let sim_out = dir.with_file_name("simulation");
    let sim_keys = keys.clone();
    let banner = Box::new(move |addr: SocketAddr| {
        let url = format!("http://{addr}");
        if let Some(incidents) = simulate {
            let (url, out) = (url.clone(), sim_out.clone());
            let reader = reader.clone();
            std::thread::spawn(move || demo_traffic(&url, reader, &sim_keys, &out, incidents));
        }
        if json {
            let tokens: serde_json::Map<String, serde_json::Value> = json_tokens
                .iter()
                .map(|(m, t)| (m.clone(), t.clone().into()))
                .collect();
            println!(
                "{}",
                json!({"event": "demo", "url": url, "dashboard": format!("{url}/"), "openapi": format!("{url}/v1/openapi.json"), "verifier_key": vkey, "keys": keys, "tokens": tokens, "simulating_incidents": simulate})
            );
            return;
        }
        let example = "scenarios/golan-1974/examples/report-shelling.json";
        eprintln!(
            "\ntruce demo: the Golan 1974 scenario is running at {url}\n\
             \n  dashboard:     {url}/\n  mechanism:     {url}/v1/mechanism\n  API document:  {url}/v1/openapi.json\n  checkpoint:    {url}/log/checkpoint\n  witnesses:     {url}/v1/witnesses (who cosigned the checkpoint)\n\
             \nverifier key of this log:\n  {vkey}\n\
             \nmember keys (demo): {}\n{}\
             \nAPI tokens (write scope, 30 days; every read except /healthz and /v1/openapi.json needs one):\n{token_lines}\
             \nTry, in another terminal:\n  export TRUCE_TOKEN=<a token above>\n  curl -H \"Authorization: Bearer $TRUCE_TOKEN\" {url}/v1/mechanism\n  cargo run -p truce -- submit --server {url} --key {}/sy.ops.key --kind report --body {example}\n  cargo run -p truce -- verify server {url} --vkey '{vkey}'\n\
             \nCtrl-C stops the demo{}.\n",
            keys.display(),
            done.as_ref()
                .map(|d| format!(
                    "  ({} entries logged: the agreement and its ratifications)\n",
                    d.tree_size
                ))
                .unwrap_or_default(),
            keys.display(),
            if a.data.is_none() {
                " and deletes its temporary data"
            } else {
                ""
            }
        );
    });
    // The demo is the embedded SQLite file in its directory, whatever TRUCE_DATABASE_URL says.
    run_server(
        &dir,
        &truce_client::database::Database::Sqlite,
        a.listen,
        "text",
        truce_server::auth::RateLimit::default(),
        Some(banner),
        json,
        std::collections::HashMap::new(),
    )
}

/// Makes a write token (30 days) for every active member of the demo mechanism and saves them
/// in DIR/demo-tokens.json (mode 0600): (member, token) pairs.
pub(crate) fn demo_tokens(dir: &Path) -> Result<Vec<(String, String)>> {
    let store =
        truce_store_sqlite::SqliteStore::open(&truce_server::DataDir::open(dir)?.database_path())?;
    let members: Vec<String> = truce_server::service::registry_of(&store)?
        .members()
        .filter(|m| m.status == truce_model::registry::MemberStatus::Active)
        .map(|m| m.id.clone())
        .collect();
    drop(store);
    let mut out = Vec::new();
    for m in members {
        let c = truce_client::tokens::create(dir, &m, "write", "30d")?;
        out.push((m, c.token));
    }
    let path = dir.join("demo-tokens.json");
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let map: serde_json::Map<String, serde_json::Value> = out
        .iter()
        .map(|(m, t)| (m.clone(), t.clone().into()))
        .collect();
    truce_server::datadir::write_secret(&path, &(serde_json::to_string_pretty(&map)? + "\n"))?;
    Ok(out)
}

/// Feeds the demo's fresh mechanism with simulated traffic, so a newcomer sees events,
/// findings and scorecards at once.
pub(crate) fn demo_traffic(
    url: &str,
    token: Option<String>,
    keys: &std::path::Path,
    out: &std::path::Path,
    incidents: u64,
) {
    use truce_sim::simulate;
    let run = || -> Result<simulate::Summary> {
        let cfg = simulate::Config {
            seed: 1974,
            incidents,
            days: 30,
            noise: simulate::Noise::parse("default")?,
            end: simulate::end_time(None)?,
            fusion: simulate::FusionOverrides::default(),
        };
        let target = super::simulate::Server {
            client: connect(url, &token)?,
            keys_dir: keys.to_owned(),
        };
        simulate::simulate(&cfg, out, Some(Box::new(target)), false)
    };
    let seeded = connect(url, &token).and_then(|c| {
        truce_client::deconflict::seed_demo(&c, keys, &out.with_file_name("deconfliction-receipts"))
    });
    match seeded {
        Ok(n) => eprintln!(
            "truce demo: {n} deconfliction entries logged (notices and answers, a week of calm, a sealed civilian case); see {url}/v1/notices"
        ),
        Err(e) => eprintln!("truce demo: the deconfliction traffic stopped: {e:#}"),
    }
    match run() {
        Ok(s) => eprintln!(
            "truce demo: simulated {} incidents of the last 30 days: {} reports and {} denials logged; see {url}/v1/events, {url}/v1/findings, {url}/v1/scorecards (ground truth in {})",
            s.incidents,
            s.reports,
            s.sightings,
            out.display()
        ),
        Err(e) => eprintln!("truce demo: the simulated traffic stopped: {e:#}"),
    }
}

pub(crate) fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRUCE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // https://no-color.org: a non-empty NO_COLOR turns colour off.
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs the server on the data directory until Ctrl-C or SIGTERM. `banner` is told the bound
/// address. With `json`, the start is one JSON line on standard output and the logs are JSON
/// lines.
#[allow(clippy::too_many_arguments)]
fn run_server(
    data: &Path,
    database: &truce_client::database::Database,
    listen: SocketAddr,
    log_format: &str,
    limit: truce_server::auth::RateLimit,
    banner: Option<Box<dyn FnOnce(SocketAddr)>>,
    json: bool,
    witness_urls: std::collections::HashMap<String, String>,
) -> Result<()> {
    init_tracing(if json { "json" } else { log_format });
    let dir = truce_server::DataDir::open(data)?;
    let _lock = dir.lock()?;
    let store = database.open(&dir)?;
    truce_server::boot::run(truce_server::boot::Config {
        dir,
        store,
        listen,
        limit,
        json,
        witness_urls,
        on_listening: banner,
    })
}
