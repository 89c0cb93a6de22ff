//! `truce witness`: run a C2SP tlog-witness for a party, and read what it holds.

use anyhow::{Context as _, Result};
use clap::Subcommand;
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use truce_server::witness::{self, Witness};

#[derive(Subcommand)]
pub enum WitnessCommand {
    /// Create a witness directory: a new cosigner key (Ed25519, `cosignature/v1`) and the list
    /// of logs to witness. Prints the witness's verifier key, for the agreement's witness list.
    #[command(
        after_help = "Example:\n  truce witness init --dir ./sy-witness --name sy.example/witness \\\n      --log \"$(curl -s -H \"Authorization: Bearer $TOKEN\" $SERVER/v1/mechanism | jq -r .verifier_key)\""
    )]
    Init {
        /// Directory to create (must not hold a witness key already).
        #[arg(long)]
        dir: PathBuf,
        /// The witness's name: a schema-less URL that identifies it (no spaces or `+`).
        #[arg(long)]
        name: String,
        /// A log to witness: its signed-note verifier key (`<origin>+<id>+<key>`, as
        /// `/v1/mechanism` shows it). Repeat for several logs; more can be added to DIR/logs.
        #[arg(long = "log", value_name = "VKEY")]
        logs: Vec<String>,
    },
    /// Serve the witness (`POST /add-checkpoint`, as c2sp.org/tlog-witness specifies) until
    /// Ctrl-C or SIGTERM.
    Serve {
        /// Witness directory created by `truce witness init`.
        #[arg(long, env = "TRUCE_WITNESS_DIR")]
        dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7380")]
        listen: SocketAddr,
        /// Another log to witness (verifier key), besides those in DIR/logs.
        #[arg(long = "log", value_name = "VKEY")]
        logs: Vec<String>,
    },
    /// Print the latest checkpoint the witness cosigned for each log.
    Status {
        #[arg(long, env = "TRUCE_WITNESS_DIR")]
        dir: PathBuf,
    },
    /// Print the evidence kept: each refused checkpoint signed by the log, with the
    /// checkpoint the witness held when it refused it (both signed notes).
    Evidence {
        #[arg(long, env = "TRUCE_WITNESS_DIR")]
        dir: PathBuf,
    },
}

pub fn run(j: bool, c: WitnessCommand) -> Result<()> {
    match c {
        WitnessCommand::Init { dir, name, logs } => {
            let w = witness::init(&dir, &name, &logs)?;
            crate::print(
                j,
                json!({"dir": dir, "name": w.name(), "verifier_key": w.verifier_key(), "logs": logs}),
                || {
                    format!(
                        "witness {} created in {}\nverifier key (for the agreement's witness list):\n  {}\nlogs witnessed: {}",
                        w.name(),
                        dir.display(),
                        w.verifier_key(),
                        if logs.is_empty() {
                            "none yet: add verifier keys to DIR/logs, or pass --log to `truce witness serve`".to_owned()
                        } else {
                            logs.len().to_string()
                        }
                    )
                },
            );
            Ok(())
        }
        WitnessCommand::Serve { dir, listen, logs } => serve(j, dir, listen, &logs),
        WitnessCommand::Status { dir } => {
            let w = Witness::open(&dir, &[])?;
            let held: std::collections::HashMap<_, _> = w.held().into_iter().collect();
            let rows: Vec<_> = w
                .logs()
                .iter()
                .map(|l| {
                    let h = held.get(&l.origin);
                    json!({"origin": l.origin, "size": h.map(|h| h.size), "root": h.map(|h| h.root.to_string()),
                        "cosigned_at": h.map(|h| h.timestamp), "checkpoint": h.map(|h| String::from_utf8_lossy(&h.note).into_owned())})
                })
                .collect();
            crate::print(
                j,
                json!({"name": w.cosigner().name(), "verifier_key": w.cosigner().verifier_key(), "logs": rows}),
                || {
                    let mut out = format!("witness {}\n", w.cosigner().verifier_key());
                    for l in w.logs() {
                        match held.get(&l.origin) {
                            Some(h) => out.push_str(&format!(
                                "  {}: size {}, root {}, cosigned at {}\n",
                                l.origin, h.size, h.root, h.timestamp
                            )),
                            None => {
                                out.push_str(&format!("  {}: nothing cosigned yet\n", l.origin))
                            }
                        }
                    }
                    out.trim_end().to_owned()
                },
            );
            Ok(())
        }
        WitnessCommand::Evidence { dir } => {
            Witness::open(&dir, &[])?;
            let ev = witness::evidence(&dir)?;
            crate::print(j, json!({"evidence": ev}), || {
                if ev.is_empty() {
                    return "no evidence: the witness refused no checkpoint signed by a log it witnesses".into();
                }
                let mut out = String::new();
                for e in &ev {
                    out.push_str(&format!(
                        "{} ({}; received at {}): {}\n-- held:\n{}-- refused:\n{}\n",
                        e.origin, e.conflict, e.received, e.detail, e.held, e.refused
                    ));
                }
                out.trim_end().to_owned()
            });
            Ok(())
        }
    }
}

fn serve(j: bool, dir: PathBuf, listen: SocketAddr, logs: &[String]) -> Result<()> {
    crate::cmd::serve::init_tracing(if j { "json" } else { "text" });
    let w = Witness::open(&dir, logs)?;
    let _lock = w.lock()?;
    if w.logs().is_empty() {
        anyhow::bail!(
            "the witness has no log to witness: add a log's verifier key to {}/logs, or pass --log",
            dir.display()
        );
    }
    let w = Arc::new(w);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| {
            format!("cannot listen on {listen}; choose another address with --listen")
        })?;
        let addr = listener.local_addr()?;
        if j {
            println!(
                "{}",
                json!({"event": "listening", "url": format!("http://{addr}"), "name": w.cosigner().name(), "verifier_key": w.cosigner().verifier_key()})
            );
        } else {
            println!("listening on http://{addr}");
        }
        tracing::info!(%addr, verifier_key = %w.cosigner().verifier_key(), logs = w.logs().len(), "witness serving");
        truce_server::listener::serve(
            listener,
            witness::router(w),
            truce_server::listener::ConnectionLimits::default(),
            truce_server::listener::shutdown_signal(),
        )
        .await
        .context("witness failed")
    })
}
