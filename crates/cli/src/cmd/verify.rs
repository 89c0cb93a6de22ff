//! `truce verify` and `truce replay`: receipts, proofs, a data directory or a live server
//! checked, and the state machine run again from the log.

use crate::{ExitWith, connect, print};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use truce_client::verify;

#[derive(Subcommand)]
pub(crate) enum VerifyCommand {
    /// Check a receipt (JSON) for an entry, offline.
    Receipt {
        /// The receipt file saved by `truce submit`.
        receipt: PathBuf,
        /// The entry (its DSSE envelope) the receipt is for.
        #[arg(long)]
        entry: PathBuf,
        /// The log's verifier key (`<origin>+<id>+<key>`).
        #[arg(long, env = "TRUCE_VKEY")]
        vkey: String,
        /// The agreement's witness policy (its `witnesses` block, as `/v1/mechanism` shows it
        /// under `agreement.witnesses`, or the whole agreement body): the receipt's checkpoint
        /// must then carry the cosignatures it needs.
        #[arg(long, value_name = "FILE")]
        witness_policy: Option<PathBuf>,
    },
    /// Check a C2SP tlog-proof file for an entry, offline.
    Proof {
        proof: PathBuf,
        #[arg(long)]
        entry: PathBuf,
        #[arg(long, env = "TRUCE_VKEY")]
        vkey: String,
        /// The agreement's witness policy (see `verify receipt`).
        #[arg(long, value_name = "FILE")]
        witness_policy: Option<PathBuf>,
    },
    /// Check a data directory's database row by row (entries, checkpoints, stored hashes) and
    /// name every entry that was changed, moved or removed; exit 3 if anything is wrong.
    Data {
        /// The data directory (`truce init`), or a copy of it.
        dir: PathBuf,
        /// The log's verifier key. Without it the directory's own log key is trusted, and the
        /// report says so.
        #[arg(long, env = "TRUCE_VKEY")]
        vkey: Option<String>,
    },
    /// Check a server: checkpoint signature, consistency with the last checkpoint seen (kept
    /// in --state), every entry's signature and admission, the root recomputed from the entries.
    Server {
        /// Server base URL.
        url: String,
        /// The log's verifier key. Without it (and without --state) the server's own key is
        /// trusted on first use, and the report says so.
        #[arg(long, env = "TRUCE_VKEY")]
        vkey: Option<String>,
        /// File remembering the last verified checkpoint (created if missing).
        #[arg(long)]
        state: Option<PathBuf>,
    },
}

#[derive(Args)]
pub(crate) struct ReplayArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    pub server: String,
    /// The log's verifier key; without it the server's own key is trusted on first use.
    #[arg(long, env = "TRUCE_VKEY")]
    pub vkey: Option<String>,
}

pub(crate) fn verify(j: bool, v: VerifyCommand, token: &Option<String>) -> Result<()> {
    match v {
        VerifyCommand::Receipt {
            receipt,
            entry,
            vkey,
            witness_policy,
        } => {
            let r = verify::receipt(&receipt, &entry, &vkey, witness_policy.as_deref())?;
            print(j, serde_json::to_value(&r)?, || {
                format!(
                    "OK: entry {} is in the log {} of size {} (checkpoint signature and inclusion proof verified){}",
                    r.index,
                    r.origin,
                    r.tree_size,
                    witnesses_line(r.witnesses.as_ref())
                )
            });
        }
        VerifyCommand::Proof {
            proof,
            entry,
            vkey,
            witness_policy,
        } => {
            let r = verify::proof(&proof, &entry, &vkey, witness_policy.as_deref())?;
            print(j, serde_json::to_value(&r)?, || {
                format!(
                    "OK: entry {} is in the log {} of size {} (tlog-proof verified){}",
                    r.index,
                    r.origin,
                    r.tree_size,
                    witnesses_line(r.witnesses.as_ref())
                )
            });
        }
        VerifyCommand::Data { dir, vkey } => {
            let r = verify::data(&dir, vkey.as_deref())?;
            print(j, serde_json::to_value(&r)?, || {
                let mut s = if r.problems.is_empty() {
                    format!(
                        "OK: {} — {} entries and {} checkpoints verified in {} (signatures, admission rules, stored hashes, roots)",
                        r.origin,
                        r.entries,
                        r.checkpoints,
                        dir.display()
                    )
                } else {
                    format!(
                        "FAILED: {} problems in {}; entries concerned: {:?}",
                        r.problems.len(),
                        dir.display(),
                        r.bad_entries
                    )
                };
                for p in &r.problems {
                    let at = match (p.entry, p.checkpoint) {
                        (Some(e), _) => format!("entry {e}"),
                        (None, Some(c)) => format!("checkpoint {c}"),
                        _ => "tree".to_owned(),
                    };
                    s.push_str(&format!("\n  {at}: {}", p.problem));
                }
                if r.trusted_own_key {
                    s.push_str("\nwarning: no --vkey given; trusted the directory's own log key");
                }
                s
            });
            if !r.problems.is_empty() {
                return Err(anyhow::anyhow!(ExitWith(3)));
            }
        }
        VerifyCommand::Server { url, vkey, state } => {
            let client = connect(&url, token)?;
            let progress = !j && std::io::IsTerminal::is_terminal(&std::io::stderr());
            let r = verify::server(&client, vkey.as_deref(), state.as_deref(), progress)?;
            print(j, serde_json::to_value(&r)?, || {
                let mut s = format!(
                    "OK: {} — {} entries verified (signatures, admission rules), root {} matches the signed checkpoint",
                    r.origin, r.entries_verified, r.root
                );
                if let Some(prev) = r.consistent_with_previous {
                    s.push_str(&format!(
                        "\nconsistent with the checkpoint of size {prev} seen before"
                    ));
                }
                s.push_str(&witnesses_line(r.witnesses.as_ref()));
                if r.trusted_on_first_use {
                    s.push_str(&format!(
                        "\nwarning: no --vkey given; trusted the server's own key {} — compare it with the one your mechanism published",
                        r.verifier_key
                    ));
                }
                s
            });
        }
    }
    Ok(())
}

/// `truce replay`.
pub(crate) fn replay(j: bool, a: ReplayArgs, token: &Option<String>) -> Result<()> {
    let client = connect(&a.server, token)?;
    let r = truce_client::replay::replay(&client, a.vkey.as_deref(), !j)?;
    print(j, serde_json::to_value(&r)?, || {
        format!(
            "replayed {} entries of {}: the state commitment for {} entries matches ({}, {} findings)",
            r.entries_verified, r.origin, r.commitment_size, r.state_hash, r.findings
        )
    });
    Ok(())
}

/// The text report's line on the witness policy (empty when none was checked).
pub(crate) fn witnesses_line(w: Option<&verify::WitnessReport>) -> String {
    match w {
        None => String::new(),
        Some(w) => format!(
            "\nwitness policy met: cosigned by {}{}",
            w.cosigned_by.join(", "),
            if w.freshness_checked {
                format!(", newest at {} (fresh)", w.newest.unwrap_or(0))
            } else {
                String::new()
            }
        ),
    }
}
