//! `truce`: the command-line interface of a truce mechanism. Thin: it parses arguments and
//! wires the libraries together.

//!
//! This file is the clap root, the dispatch and the exit codes; each command is in
//! `cmd/<group>.rs`.

// The doc comments of the argument structs are the `--help` texts (clap), where `<PARTY>` and
// `<kind>` are meant literally, not as HTML.
#![allow(rustdoc::invalid_html_tags)]

use truce_client::{client, submit, verify};

mod cmd;

use anyhow::Result;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use serde_json::json;
use std::process::ExitCode;

const EXIT_HELP: &str = "Exit codes: 0 success; 1 error; 2 usage error; 3 verification failed; \
4 the entry was refused (by the server, or by the same checks run locally before sending); \
5 the server could not be reached, failed or timed out (a signed entry is then kept in the queue).";

/// truce: signed reports, notices and rulings for a joint security mechanism, on a
/// verifiable transparency log.
#[derive(Parser)]
#[command(name = "truce", version, after_help = EXIT_HELP, propagate_version = true)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// API token for reading from a server (`truce token create`); sent as a bearer token.
    #[arg(long, global = true, env = "TRUCE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a data directory: log key, one key per member, the agreement logged and ratified.
    #[command(
        after_help = "Examples:\n  truce init ./golan                      # the Golan scenario with demo keys\n  truce init ./jsm --empty --origin jsm.example.org/golan   # a real deployment: log key only"
    )]
    Init(cmd::init::InitArgs),
    /// Generate a member key file (Ed25519), printing its public key and key id.
    Keygen(cmd::init::KeygenArgs),
    /// Apply the store's schema migrations (PostgreSQL, or a data directory's SQLite file)
    /// and print the schema version; `truce serve` applies them too when it starts.
    #[command(
        after_help = "Examples:\n  truce migrate --database postgres://truce@db.example:5432/truce\n  truce migrate --data ./golan"
    )]
    Migrate(cmd::init::MigrateArgs),
    /// Copy a log exactly to another store (SQLite to PostgreSQL or back): every entry,
    /// checkpoint, blob, token and state commitment, each checkpoint verified, the copy
    /// compared with the source before success is reported.
    #[command(
        after_help = "Examples:\n  truce migrate-store --from sqlite:./jsm --to postgres://truce@db.example:5432/truce\n  truce migrate-store --from postgres://truce@db.example/truce --to sqlite:./copy --vkey VKEY"
    )]
    MigrateStore(cmd::store::MigrateStoreArgs),
    /// Back up a data directory's log (SQLite or PostgreSQL) into a new directory with a
    /// SQLite copy that `truce verify data` checks; the log key is not copied.
    Backup(cmd::store::BackupArgs),
    /// Restore a backup (`truce backup`) into a data directory's empty database.
    Restore(cmd::store::RestoreArgs),
    /// Serve the API, the log and its tiles from a data directory.
    Serve(cmd::serve::ServeArgs),
    /// Sign an entry and submit it (or queue it with --offline); saves the receipt.
    #[command(
        after_help = "Examples:\n  truce submit --server http://127.0.0.1:8080 --key keys/sy.ops.key \\\n    --kind report --body scenarios/golan-1974/examples/report-shelling.json\n  truce submit --offline --mechanism truce.example/golan-1974 \\\n    --key keys/sy.ops.key --kind report --body r.json\n  truce sync --server http://127.0.0.1:8080\n\nThe receipt is saved as receipts/<index>.receipt.json, with the entry and a C2SP tlog-proof\nbeside it; `truce verify proof` checks them offline."
    )]
    Submit(cmd::submit::SubmitArgs),
    /// Send entries queued by `submit --offline`.
    Sync(cmd::submit::SyncArgs),
    /// Verify a receipt or tlog-proof offline, or a whole server.
    #[command(subcommand)]
    Verify(cmd::verify::VerifyCommand),
    /// Upload evidence or an agreement's documents to the blob store (content-addressed).
    #[command(
        after_help = "Prints, for each file, the reference entries use: {\"sha256\", \"size\", \"media_type\"}.\nAn agreement names its zones document this way; a report lists evidence by sha256.\n\nExample:\n  truce blob --server http://127.0.0.1:8080 scenarios/golan-1974/zones.geojson photo.jpg"
    )]
    Blob(cmd::submit::BlobArgs),
    /// Start a throw-away mechanism with the Golan scenario and serve it: the quickest tour.
    Demo(cmd::serve::DemoArgs),
    /// List findings (filters: party, rule, status, zone, layer, time), or show one with its
    /// evidence chain.
    #[command(
        after_help = "Examples:\n  truce findings --server http://127.0.0.1:8080 --party IL --status alleged\n  truce findings --server http://127.0.0.1:8080 --id no-hostile-acts/e12\n  truce --json findings --server http://127.0.0.1:8080 --layer agreement"
    )]
    Findings(cmd::read::FindingsArgs),
    /// Dispute a finding against your party (signed with your key), within its dispute window.
    #[command(
        after_help = "Example:\n  truce dispute --server http://127.0.0.1:8080 --key keys/il.ops.key \\\n    no-hostile-acts/e12 --reasons \"Our units were 8 km from the reported position\""
    )]
    Dispute(cmd::officer::DisputeArgs),
    /// Rule on a finding (mediator officers): answer its open dispute, or, once the dispute
    /// window has passed, rule without one.
    #[command(
        after_help = "Example:\n  truce rule --server http://127.0.0.1:8080 --key keys/us.ops.key \\\n    no-hostile-acts/e12 --decision upheld --reasons \"UNDOF observation confirms the origin of fire\""
    )]
    Rule(cmd::officer::RuleArgs),
    /// File a notice of a planned activity addressed to other parties (or amend or withdraw
    /// one of yours): the record that they were told.
    #[command(
        after_help = "Example:\n  truce notify --server $URL --key keys/sy.ops.key --activity security_operation \\\n    --zones gov-as-suwayda --start 2026-12-01T06:00:00Z --end 2026-12-01T18:00:00Z \\\n    --forces personnel=300 --purpose \"Operation on the Sweida-Damascus road\" --to IL,US\n\nAnswers are due by the start of the window. Details: docs/deconfliction.md"
    )]
    Notify(cmd::officer::NotifyArgs),
    /// Answer a notice addressed to your party: acknowledge it (the green light), with
    /// conditions (--zones/--area, --start/--end, --cap), or only sign its receipt (--received).
    #[command(
        after_help = "Examples:\n  truce ack --server $URL --key keys/il.ops.key 24                 # the green light\n  truce ack ... 24 --zones gov-as-suwayda --cap tanks=0             # with conditions\n  truce ack ... 24 --received                                       # receipt only"
    )]
    Ack(cmd::officer::AckArgs),
    /// Ratify the agreement (or the amendment) awaiting your party's ratification: shows what
    /// is ratified, then signs and submits the ratification entry.
    #[command(
        after_help = "Reads GET /v1/mechanism (send a token: --token or TRUCE_TOKEN), prints the agreement's\nlog index, title, version and payload SHA-256 (compare them with what your party agreed to),\nthen ratifies exactly that payload.\n\nExample:\n  truce ratify --server $URL --key keys/sy.admin.key --statement \"SY ratifies version 1\""
    )]
    Ratify(cmd::officer::RatifyArgs),
    /// Object to a notice addressed to your party, with reasons.
    Object(cmd::officer::ReasonArgs),
    /// Press the addressees of a notice for their answers (mediator officers).
    Escalate(cmd::officer::ReasonArgs),
    /// Attest that no significant incident happened in a past period; once every party has
    /// attested the same period, calm is on record, co-signed.
    Attest(cmd::officer::AttestArgs),
    /// Civilian detention and abduction cases: report one (the personal record sealed to the
    /// entitled members, only a salted commitment in clear), file the detaining party's steps,
    /// or open a record you are entitled to.
    #[command(subcommand)]
    Case(cmd::officer::CaseCommand),
    /// Open the sealed (need-to-know) part of an entry with your key, if it was sealed to you.
    Unseal(cmd::officer::UnsealArgs),
    /// Suspend or resume your party's participation in the mechanism (party administrators),
    /// with the reason: on record, in the alerts and in the scorecards.
    Participation(cmd::officer::ParticipationArgs),
    /// Countersign a membership entry another party's administrator signed (mediator
    /// administrators, where the agreement requires it): shows what it does, adds your
    /// signature to the envelope file, and submits it with --server.
    #[command(
        after_help = "The party's administrator signs without sending:\n  truce submit --kind membership --body add.json --key il-admin.key --server URL --sign-only add.envelope.json\nThe mediator's administrator reads, countersigns and submits it:\n  truce countersign add.envelope.json --key us-admin.key --server URL"
    )]
    Countersign(cmd::submit::CountersignArgs),
    /// Follow the hotline: the alerts for a party as they happen (notices, answers, findings,
    /// cases, attestations); reconnects and resumes by log index.
    Watch(cmd::read::WatchArgs),
    /// Replay the server's log locally and check its signed state commitment: proves the
    /// published findings right or wrong.
    #[command(
        after_help = "Exit status 3 when the commitment does not match the replayed log (the findings that\ndiffer are listed), or when the log itself fails verification.\n\nExample:\n  truce replay --server http://127.0.0.1:8080 --vkey \"$VKEY\""
    )]
    Replay(cmd::verify::ReplayArgs),
    /// Generate realistic reports for the Golan scenario with their ground truth (a complete
    /// signed log in a directory, or submitted to a server).
    #[command(
        after_help = "Writes DIR/entries.jsonl (one envelope per line, in log order), DIR/truth.jsonl,\nDIR/zones.geojson and DIR/keys/. Byte-reproducible for the same seed and arguments\n(give --end). Noise profiles: low (0.5), default (1), high (2) or a factor; see docs/fusion.md.\n\nExamples:\n  truce simulate --seed 1 --incidents 2000 --end 2026-11-01T00:00:00Z --out /tmp/sim\n  truce eval fusion --dir /tmp/sim\n  truce simulate --seed 1 --incidents 500 --out /tmp/live \\\n    --server http://127.0.0.1:8080 --keys ./golan/keys"
    )]
    Simulate(cmd::simulate::SimulateArgs),
    /// Evaluate the engine against a simulation's ground truth.
    #[command(subcommand)]
    Eval(cmd::simulate::EvalCommand),
    /// Make, list and revoke API tokens (run on the server's machine, beside `truce serve`).
    #[command(
        subcommand,
        after_help = "Examples:\n  truce token create --data ./golan --member sy.ops --scope read --expires 30d\n  truce token list --data ./golan\n  truce token revoke --data ./golan 3f9c0e1a2b4d5e6f\n\nSend a token as `Authorization: Bearer <token>`, or give it to truce commands with\n--token / TRUCE_TOKEN. Who may read and write what: docs/access.md."
    )]
    Token(cmd::token::TokenCommand),
    /// Audit a whole record end to end and report every anomaly: checkpoint, witness policy,
    /// every entry re-admitted, the root, the replayed state against the signed commitment,
    /// equivocations. Exit 3 on any anomaly.
    #[command(
        after_help = "Example:\n  truce audit http://127.0.0.1:8080 --vkey \"$VKEY\" --json > audit.json"
    )]
    Audit(cmd::audit::AuditArgs),
    /// Copy what an audit reads from a server (checkpoint with cosignatures, entry bundles,
    /// the agreements' blobs, state commitment) into a directory, for `truce audit --bundle`
    /// on a machine with no network.
    ExportBundle(cmd::audit::ExportBundleArgs),
    /// Run a witness (C2SP tlog-witness) that cosigns a log's checkpoints only while they
    /// stay consistent, and read what it holds.
    #[command(subcommand)]
    Witness(cmd::witness::WitnessCommand),
    /// Keep your party's own verified copy of a log and serve it: every entry re-admitted,
    /// the root recomputed, the state commitments replayed, before anything is stored. Reads,
    /// proofs and audits keep working from the mirror while the log's server is down.
    #[command(
        after_help = "Example:\n  truce mirror --from http://10.0.0.2:8080 --dir ./sy-mirror --vkey \"$VKEY\" --token \"$SY_READ_TOKEN\"\n  truce token create --data ./sy-mirror --member sy.ops --scope read   # tokens for the mirror's readers\n\nA log that shows two histories is caught: the mirror keeps both signed checkpoints in\nDIR/evidence, prints them, raises the alert on its stream, and stops following."
    )]
    Mirror(cmd::mirror::MirrorArgs),
}

/// An outcome already reported on stdout that still sets the exit code.
#[derive(Debug)]
pub(crate) struct ExitWith(pub(crate) u8);

impl std::fmt::Display for ExitWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit code {}", self.0)
    }
}

impl std::error::Error for ExitWith {}

/// Commands that never read from a server: the global `--token` is hidden from their help.
const OFFLINE_COMMANDS: [&str; 7] = [
    "init", "keygen", "serve", "demo", "eval", "token", "witness",
];

/// The command line as clap parses and documents it: environment hints name the variable
/// without its value (`[env: TRUCE_SERVER]`, no stray `=`, no secret shown), and `--token`
/// is left out of the help of commands that never read from a server.
fn cli_command() -> clap::Command {
    fn hide_env_values(c: clap::Command) -> clap::Command {
        c.mut_args(|a| a.hide_env_values(true))
            .mut_subcommands(hide_env_values)
    }
    let mut cmd = hide_env_values(Cli::command());
    // Global arguments reach the subcommands when the command is built.
    cmd.build();
    fn hide_token(c: clap::Command) -> clap::Command {
        let c = if c.get_arguments().any(|a| a.get_id() == "token") {
            c.mut_arg("token", |a| a.hide(true))
        } else {
            c
        };
        c.mut_subcommands(hide_token)
    }
    for name in OFFLINE_COMMANDS {
        cmd = cmd.mut_subcommand(name, hide_token);
    }
    cmd
}

/// docs/cli-reference.md: every command's `--help`, as clap renders it at 100 columns.
#[cfg(test)]
fn cli_reference() -> String {
    fn walk(cmd: &mut clap::Command, path: &str, out: &mut String) {
        let name = if path.is_empty() {
            cmd.get_name().to_owned()
        } else {
            format!("{path} {}", cmd.get_name())
        };
        let help = cmd.render_long_help().to_string();
        out.push_str(&format!(
            "## `{name}`\n\n```text\n{}\n```\n\n",
            help.trim_end()
        ));
        let mut subs: Vec<clap::Command> = cmd
            .get_subcommands()
            .filter(|c| c.get_name() != "help")
            .cloned()
            .collect();
        for sub in &mut subs {
            walk(sub, &name, out);
        }
    }
    let mut cmd = cli_command().term_width(100);
    let mut out = String::from(
        "# `truce` command reference\n\nGenerated from the command line's own definitions (clap): every command's `--help`.\nThe guide to the commands is [cli.md](cli.md). Regenerate this file with\n`TRUCE_BLESS=1 cargo test -p truce --bin truce cli_reference`; a test fails when it is stale.\n\n",
    );
    walk(&mut cmd, "", &mut out);
    out
}

fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&cli_command().get_matches()) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<ExitWith>() => {
            ExitCode::from(e.downcast_ref::<ExitWith>().map_or(1, |x| x.0))
        }
        Err(e) => {
            let code = if e.is::<verify::Failed>() {
                3
            } else if e.is::<submit::Refused>() {
                4
            } else if e.is::<client::Unreachable>() || e.is::<submit::ServerFailed>() {
                5
            } else {
                1
            };
            if json {
                // An RFC 9457 problem object (no HTTP status: this is a command's outcome),
                // with the exit status beside it.
                let (kind, title) = match code {
                    3 => ("verification-failed", "Verification failed"),
                    4 => ("refused", "The server refused the entry"),
                    5 => ("unreachable", "The server could not be reached or failed"),
                    _ => ("error", "The command failed"),
                };
                println!(
                    "{}",
                    json!({"type": format!("urn:truce:cli:{kind}"), "title": title, "detail": format!("{e:#}"), "exit_code": code})
                );
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(code)
        }
    }
}

pub(crate) fn print(json_mode: bool, value: serde_json::Value, text: impl FnOnce() -> String) {
    if json_mode {
        println!("{value}");
    } else {
        println!("{}", text());
    }
}

/// A client for a server, sending the API token if one was given.
pub(crate) fn connect(url: &str, token: &Option<String>) -> Result<client::Client> {
    Ok(client::Client::new(url)?.with_token(token.clone()))
}

fn run(cli: Cli) -> Result<()> {
    let j = cli.json;
    let token = &cli.token;
    use cmd::*;
    match cli.command {
        Command::Init(a) => init::init(j, a),
        Command::Keygen(a) => init::keygen(j, a),
        Command::Migrate(a) => init::migrate(j, a),
        Command::MigrateStore(a) => cmd::store::migrate_store(j, a),
        Command::Backup(a) => cmd::store::backup(j, a),
        Command::Restore(a) => cmd::store::restore(j, a),
        Command::Serve(a) => serve::serve(j, a),
        Command::Demo(a) => serve::demo(a, j),
        Command::Submit(a) => submit::submit_file(j, a, token),
        Command::Sync(a) => submit::sync(j, a, token),
        Command::Blob(a) => submit::blob(j, a, token),
        Command::Countersign(a) => submit::countersign(j, a, token),
        Command::Verify(v) => verify::verify(j, v, token),
        Command::Replay(a) => verify::replay(j, a, token),
        Command::Findings(a) => read::findings(j, a, token),
        Command::Watch(a) => read::watch(j, a, token),
        Command::Dispute(a) => officer::dispute(j, a, token),
        Command::Rule(a) => officer::rule(j, a, token),
        Command::Notify(a) => officer::notify(j, a, token),
        Command::Ack(a) => officer::ack(j, a, token),
        Command::Ratify(a) => officer::ratify(j, a, token),
        Command::Object(a) => officer::object(j, a, token),
        Command::Escalate(a) => officer::escalate(j, a, token),
        Command::Attest(a) => officer::attest(j, a, token),
        Command::Case(c) => officer::case(j, c, token),
        Command::Unseal(a) => officer::unseal(j, a, token),
        Command::Participation(a) => officer::participation(j, a, token),
        Command::Simulate(a) => simulate::simulate(j, a, token),
        Command::Eval(e) => simulate::eval(j, e),
        Command::Token(t) => token::run(j, t),
        Command::Witness(c) => witness::run(j, c),
        Command::Mirror(a) => mirror::run(j, a, token),
        Command::Audit(a) => audit::run(j, a, token),
        Command::ExportBundle(a) => audit::export(j, a, token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_reference_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/cli-reference.md");
        let want = cli_reference();
        if std::env::var_os("TRUCE_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "docs/cli-reference.md is stale: run TRUCE_BLESS=1 cargo test -p truce --bin truce cli_reference"
        );
    }

    #[test]
    fn help_text_polish_regression() {
        let reference = cli_reference();
        // No environment hint ends in a stray `=` (nor shows a value).
        assert!(!reference.contains("=]"), "an env hint shows `=`");
        // Offline commands do not offer --token.
        let mut cmd = cli_command().term_width(100);
        for name in OFFLINE_COMMANDS {
            let help = cmd
                .find_subcommand_mut(name)
                .unwrap()
                .render_long_help()
                .to_string();
            assert!(!help.contains("--token <TOKEN>"), "{name} shows --token");
        }
        // Commands that read from a server do.
        let help = cmd
            .find_subcommand_mut("findings")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(help.contains("--token <TOKEN>"));
        // `submit --kind` names every entry kind.
        let help = cmd
            .find_subcommand_mut("submit")
            .unwrap()
            .render_long_help()
            .to_string();
        for kind in truce_model::Kind::ALL {
            assert!(
                help.contains(kind.as_str()),
                "submit --kind lacks {}",
                kind.as_str()
            );
        }
    }
}
