//! `truce`: the command-line interface of a truce mechanism. Thin: it parses arguments and
//! wires the libraries together.

use truce::{client, deconflict, keys, scenario, submit, verify};

mod cmd;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

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
    Init(InitArgs),
    /// Generate a member key file (Ed25519), printing its public key and key id.
    Keygen(KeygenArgs),
    /// Serve the API, the log and its tiles from a data directory.
    Serve(ServeArgs),
    /// Sign an entry and submit it (or queue it with --offline); saves the receipt.
    #[command(
        after_help = "Examples:\n  truce submit --server http://127.0.0.1:8080 --key keys/sy.ops.key \\\n    --kind report --body scenarios/golan-1974/examples/report-shelling.json\n  truce submit --offline --mechanism truce.example/golan-1974 \\\n    --key keys/sy.ops.key --kind report --body r.json\n  truce sync --server http://127.0.0.1:8080\n\nThe receipt is saved as receipts/<index>.receipt.json, with the entry and a C2SP tlog-proof\nbeside it; `truce verify proof` checks them offline."
    )]
    Submit(SubmitArgs),
    /// Send entries queued by `submit --offline`.
    Sync(SyncArgs),
    /// Verify a receipt or tlog-proof offline, or a whole server.
    #[command(subcommand)]
    Verify(VerifyCommand),
    /// Upload evidence or an agreement's documents to the blob store (content-addressed).
    #[command(
        after_help = "Prints, for each file, the reference entries use: {\"sha256\", \"size\", \"media_type\"}.\nAn agreement names its zones document this way; a report lists evidence by sha256.\n\nExample:\n  truce blob --server http://127.0.0.1:8080 scenarios/golan-1974/zones.geojson photo.jpg"
    )]
    Blob(BlobArgs),
    /// Start a throw-away mechanism with the Golan scenario and serve it: the quickest tour.
    Demo(DemoArgs),
    /// List findings (filters: party, rule, status, zone, layer, time), or show one with its
    /// evidence chain.
    #[command(
        after_help = "Examples:\n  truce findings --server http://127.0.0.1:8080 --party IL --status alleged\n  truce findings --server http://127.0.0.1:8080 --id no-hostile-acts/e12\n  truce --json findings --server http://127.0.0.1:8080 --layer agreement"
    )]
    Findings(FindingsArgs),
    /// Dispute a finding against your party (signed with your key), within its dispute window.
    #[command(
        after_help = "Example:\n  truce dispute --server http://127.0.0.1:8080 --key keys/il.ops.key \\\n    no-hostile-acts/e12 --reasons \"Our units were 8 km from the reported position\""
    )]
    Dispute(DisputeArgs),
    /// Rule on a finding (mediator officers): answer its open dispute, or, once the dispute
    /// window has passed, rule without one.
    #[command(
        after_help = "Example:\n  truce rule --server http://127.0.0.1:8080 --key keys/us.ops.key \\\n    no-hostile-acts/e12 --decision upheld --reasons \"UNDOF observation confirms the origin of fire\""
    )]
    Rule(RuleArgs),
    /// File a notice of a planned activity addressed to other parties (or amend or withdraw
    /// one of yours): the record that they were told.
    #[command(
        after_help = "Example:\n  truce notify --server $URL --key keys/sy.ops.key --activity security_operation \\\n    --zones gov-as-suwayda --start 2026-12-01T06:00:00Z --end 2026-12-01T18:00:00Z \\\n    --forces personnel=300 --purpose \"Operation on the Sweida-Damascus road\" --to IL,US\n\nAnswers are due by the start of the window. Details: docs/deconfliction.md"
    )]
    Notify(NotifyArgs),
    /// Answer a notice addressed to your party: acknowledge it (the green light), with
    /// conditions (--zones/--area, --start/--end, --cap), or only sign its receipt (--received).
    #[command(
        after_help = "Examples:\n  truce ack --server $URL --key keys/il.ops.key 24                 # the green light\n  truce ack ... 24 --zones gov-as-suwayda --cap tanks=0             # with conditions\n  truce ack ... 24 --received                                       # receipt only"
    )]
    Ack(AckArgs),
    /// Ratify the agreement (or the amendment) awaiting your party's ratification: shows what
    /// is ratified, then signs and submits the ratification entry.
    #[command(
        after_help = "Reads GET /v1/mechanism (send a token: --token or TRUCE_TOKEN), prints the agreement's\nlog index, title, version and payload SHA-256 (compare them with what your party agreed to),\nthen ratifies exactly that payload.\n\nExample:\n  truce ratify --server $URL --key keys/sy.admin.key --statement \"SY ratifies version 1\""
    )]
    Ratify(RatifyArgs),
    /// Object to a notice addressed to your party, with reasons.
    Object(ReasonArgs),
    /// Press the addressees of a notice for their answers (mediator officers).
    Escalate(ReasonArgs),
    /// Attest that no significant incident happened in a past period; once every party has
    /// attested the same period, calm is on record, co-signed.
    Attest(AttestArgs),
    /// Civilian detention and abduction cases: report one (the personal record sealed to the
    /// entitled members, only a salted commitment in clear), file the detaining party's steps,
    /// or open a record you are entitled to.
    #[command(subcommand)]
    Case(CaseCommand),
    /// Open the sealed (need-to-know) part of an entry with your key, if it was sealed to you.
    Unseal(UnsealArgs),
    /// Suspend or resume your party's participation in the mechanism (party administrators),
    /// with the reason: on record, in the alerts and in the scorecards.
    Participation(ParticipationArgs),
    /// Countersign a membership entry another party's administrator signed (mediator
    /// administrators, where the agreement requires it): shows what it does, adds your
    /// signature to the envelope file, and submits it with --server.
    #[command(
        after_help = "The party's administrator signs without sending:\n  truce submit --kind membership --body add.json --key il-admin.key --server URL --sign-only add.envelope.json\nThe mediator's administrator reads, countersigns and submits it:\n  truce countersign add.envelope.json --key us-admin.key --server URL"
    )]
    Countersign(CountersignArgs),
    /// Follow the hotline: the alerts for a party as they happen (notices, answers, findings,
    /// cases, attestations); reconnects and resumes by log index.
    Watch(WatchArgs),
    /// Replay the server's log locally and check its signed state commitment: proves the
    /// published findings right or wrong.
    #[command(
        after_help = "Exit status 3 when the commitment does not match the replayed log (the findings that\ndiffer are listed), or when the log itself fails verification.\n\nExample:\n  truce replay --server http://127.0.0.1:8080 --vkey \"$VKEY\""
    )]
    Replay(ReplayArgs),
    /// Generate realistic reports for the Golan scenario with their ground truth (a complete
    /// signed log in a directory, or submitted to a server).
    #[command(
        after_help = "Writes DIR/entries.jsonl (one envelope per line, in log order), DIR/truth.jsonl,\nDIR/zones.geojson and DIR/keys/. Byte-reproducible for the same seed and arguments\n(give --end). Noise profiles: low (0.5), default (1), high (2) or a factor; see docs/fusion.md.\n\nExamples:\n  truce simulate --seed 1 --incidents 2000 --end 2026-11-01T00:00:00Z --out /tmp/sim\n  truce eval fusion --dir /tmp/sim\n  truce simulate --seed 1 --incidents 500 --out /tmp/live \\\n    --server http://127.0.0.1:8080 --keys ./golan/keys"
    )]
    Simulate(SimulateArgs),
    /// Evaluate the engine against a simulation's ground truth.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Make, list and revoke API tokens (run on the server's machine, beside `truce serve`).
    #[command(
        subcommand,
        after_help = "Examples:\n  truce token create --data ./golan --member sy.ops --scope read --expires 30d\n  truce token list --data ./golan\n  truce token revoke --data ./golan 3f9c0e1a2b4d5e6f\n\nSend a token as `Authorization: Bearer <token>`, or give it to truce commands with\n--token / TRUCE_TOKEN. Who may read and write what: docs/access.md."
    )]
    Token(TokenCommand),
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

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a token for an active member; prints it once (only its hash is stored).
    Create {
        #[arg(long, env = "TRUCE_DATA")]
        data: PathBuf,
        /// Member id, e.g. `sy.ops`.
        #[arg(long)]
        member: String,
        /// `read` (every read endpoint) or `write` (reads, and writes as the member).
        #[arg(long, default_value = "read")]
        scope: String,
        /// Lifetime: a number and d, h, m or s (at most 366d).
        #[arg(long, default_value = "30d")]
        expires: String,
    },
    /// List every token (id, member, scope, expiry, state); never the secrets.
    List {
        #[arg(long, env = "TRUCE_DATA")]
        data: PathBuf,
    },
    /// Revoke a token by id; it is refused from the next request on.
    Revoke {
        #[arg(long, env = "TRUCE_DATA")]
        data: PathBuf,
        /// The token's id (or the whole token).
        id: String,
    },
}

#[derive(Args)]
struct SimulateArgs {
    /// Seed of the random generator: the same seed and arguments give the same files.
    #[arg(long)]
    seed: u64,
    /// Number of true incidents.
    #[arg(long, default_value_t = 2000)]
    incidents: u64,
    /// Days the simulated timeline spans, ending at --end (the default gives 8 incidents a
    /// day, about the reported rate in the south of Syria in 2025; see docs/fusion.md).
    #[arg(long, default_value_t = 250)]
    days: u32,
    /// Noise profile: low, default, high, or a factor (0 to 4; default = 1).
    #[arg(long, default_value = "default")]
    noise: String,
    /// End of the timeline, RFC 3339 UTC (default: now, rounded down to the hour).
    #[arg(long)]
    end: Option<String>,
    /// Output directory (new or empty).
    #[arg(long)]
    out: PathBuf,
    /// Submit to this server instead of writing a genesis of its own (needs --keys).
    #[arg(long, requires = "keys")]
    server: Option<String>,
    /// The server's member keys (a data directory's keys/ from `truce init`).
    #[arg(long, requires = "server")]
    keys: Option<PathBuf>,
    /// Agreement fusion parameter `threshold_percent` (offline runs).
    #[arg(long)]
    fusion_threshold: Option<u32>,
    /// Agreement fusion parameter `time_slack_hours` (offline runs).
    #[arg(long)]
    fusion_time_slack: Option<u32>,
    /// Agreement fusion parameter `max_gap_hours` (offline runs).
    #[arg(long)]
    fusion_max_gap: Option<u32>,
    /// Agreement fusion parameter `min_radius_m` (offline runs).
    #[arg(long)]
    fusion_min_radius: Option<u32>,
    /// Agreement fusion parameter `density_per_1000_km2_day` (offline runs).
    #[arg(long)]
    fusion_density: Option<u32>,
    /// Any agreement fusion parameter, NAME=VALUE (repeatable; offline runs), e.g.
    /// `--fusion same_source_percent=25`. See docs/agreement.md for the names.
    #[arg(long, value_name = "NAME=VALUE")]
    fusion: Vec<String>,
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Replay a simulation's log through admission and the engine and score fusion against
    /// the truth: B-cubed precision, recall and F1, attribution accuracy, corroboration
    /// calibration, error breakdown, speed.
    Fusion {
        /// A directory written by `truce simulate` (without --server).
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Args)]
struct FindingsArgs {
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "TRUCE_SERVER")]
    server: String,
    /// Show one finding with its rule, evidence chain (entries and inclusion proofs),
    /// disputes and rulings.
    #[arg(long)]
    id: Option<String>,
    /// Only findings against this party (e.g. `SY`).
    #[arg(long)]
    party: Option<String>,
    /// Only findings under this rule id (e.g. `no-hostile-acts`).
    #[arg(long)]
    rule: Option<String>,
    /// alleged, corroborated, disputed, upheld, dismissed, expired or missed.
    #[arg(long)]
    status: Option<String>,
    /// Only findings about events whose uncertainty circle touches this zone id.
    #[arg(long)]
    zone: Option<String>,
    /// Interpretation layer (e.g. `agreement`).
    #[arg(long)]
    layer: Option<String>,
    /// Only findings about violations at or after this RFC 3339 UTC time.
    #[arg(long)]
    from: Option<String>,
    /// Only findings about violations at or before this RFC 3339 UTC time.
    #[arg(long)]
    to: Option<String>,
    /// At most this many findings (1..1000), oldest violation first.
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

#[derive(Args)]
struct DisputeArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    server: String,
    /// Your member key file.
    #[arg(long, env = "TRUCE_KEY")]
    key: PathBuf,
    /// The finding's id.
    finding: String,
    /// Why the finding is wrong.
    #[arg(long)]
    reasons: String,
    /// SHA-256 of evidence uploaded with `truce blob` (repeatable).
    #[arg(long)]
    evidence: Vec<String>,
    #[arg(long, default_value = "truce-queue")]
    queue: PathBuf,
    #[arg(long, default_value = "receipts")]
    out: PathBuf,
}

#[derive(Args)]
struct RuleArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    server: String,
    /// Your (mediator officer's) key file.
    #[arg(long, env = "TRUCE_KEY")]
    key: PathBuf,
    /// The finding's id.
    finding: String,
    /// upheld or dismissed.
    #[arg(long)]
    decision: String,
    #[arg(long)]
    reasons: String,
    #[arg(long, default_value = "truce-queue")]
    queue: PathBuf,
    #[arg(long, default_value = "receipts")]
    out: PathBuf,
}

/// Where and as whom to submit a signed entry.
#[derive(Args)]
struct SignArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    server: String,
    /// Your member key file.
    #[arg(long, env = "TRUCE_KEY")]
    key: PathBuf,
    /// Where an entry is kept if the server cannot be reached (send it later with `truce sync`).
    #[arg(long, default_value = "truce-queue")]
    queue: PathBuf,
    /// Where receipts are saved.
    #[arg(long, default_value = "receipts")]
    out: PathBuf,
}

#[derive(Args)]
struct NotifyArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// security_operation, troop_movement, exercise, flight, humanitarian_convoy, evacuation.
    #[arg(long)]
    activity: String,
    /// Zone ids of the area (comma-separated).
    #[arg(long, value_delimiter = ',')]
    zones: Vec<String>,
    /// A GeoJSON file with the area (Polygon or MultiPolygon, or a Feature holding one).
    #[arg(long)]
    area: Option<PathBuf>,
    /// Start of the window, RFC 3339 UTC.
    #[arg(long)]
    start: String,
    /// End of the window, RFC 3339 UTC.
    #[arg(long)]
    end: String,
    /// Forces involved, category=count (repeatable), e.g. --forces tanks=10.
    #[arg(long)]
    forces: Vec<String>,
    /// What the activity is for (every addressee reads it).
    #[arg(long)]
    purpose: String,
    /// The parties it is addressed to (comma-separated), e.g. IL,US.
    #[arg(long = "to", value_delimiter = ',', required = true)]
    addressees: Vec<String>,
    /// Replace your notice at this log index with this one (its answers are asked again).
    #[arg(long, conflicts_with = "withdraw")]
    amend: Option<u64>,
    /// Withdraw your notice at this log index (the other arguments restate it).
    #[arg(long)]
    withdraw: Option<u64>,
}

#[derive(Args)]
struct RatifyArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The statement logged with the ratification (default: "<PARTY> ratifies version N").
    #[arg(long)]
    statement: Option<String>,
}

#[derive(Args)]
struct AckArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The notice's log index.
    notice: u64,
    /// Only confirm receipt; answer later.
    #[arg(long, conflicts_with_all = ["zones", "area", "start", "end", "cap"])]
    received: bool,
    /// Condition: only in these zones (comma-separated).
    #[arg(long, value_delimiter = ',')]
    zones: Vec<String>,
    /// Condition: only in this GeoJSON area.
    #[arg(long)]
    area: Option<PathBuf>,
    /// Condition: not before (RFC 3339 UTC; with --end).
    #[arg(long, requires = "end")]
    start: Option<String>,
    /// Condition: not after (RFC 3339 UTC; with --start).
    #[arg(long, requires = "start")]
    end: Option<String>,
    /// Condition: at most this many, category=count (repeatable), e.g. --cap tanks=10.
    #[arg(long)]
    cap: Vec<String>,
    /// Why (optional; every member reads it).
    #[arg(long)]
    reasons: Option<String>,
}

#[derive(Args)]
struct ReasonArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The notice's log index.
    notice: u64,
    #[arg(long)]
    reasons: String,
}

#[derive(Args)]
struct AttestArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// Start of the period, RFC 3339 UTC.
    #[arg(long)]
    from: String,
    /// End of the period (past), RFC 3339 UTC.
    #[arg(long)]
    to: String,
    #[arg(long, default_value = "No significant incidents in the period.")]
    statement: String,
}

#[derive(Subcommand)]
enum CaseCommand {
    /// Report a detention or abduction: the person's record (a JSON file) is sealed to the
    /// members of your party, of the detaining party and of the mediator.
    Report(CaseReportArgs),
    /// File a step of a case (the detaining party or the mediator): acknowledge, deny,
    /// disclose_location, grant_access, release, transfer.
    Step(CaseStepArgs),
    /// Open the sealed record of a case with your key (if it was sealed to you).
    Open(CaseOpenArgs),
}

#[derive(Args)]
struct CaseReportArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The party said to detain the person.
    #[arg(long)]
    detaining: String,
    /// JSON file with the personal record (name, age, place last seen, ...).
    #[arg(long)]
    person: PathBuf,
    /// A note every member can read: never personal data.
    #[arg(long)]
    note: Option<String>,
}

#[derive(Args)]
struct CaseStepArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The case's log index.
    case: u64,
    #[arg(long)]
    action: String,
    #[arg(long)]
    note: Option<String>,
}

#[derive(Args)]
struct CaseOpenArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    server: String,
    /// Your member key file (with its encryption identity).
    #[arg(long, env = "TRUCE_KEY")]
    key: PathBuf,
    /// The case's log index.
    case: u64,
}

#[derive(Args)]
struct ParticipationArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// suspend or resume.
    #[arg(value_parser = ["suspend", "resume"])]
    action: String,
    /// Why (every member reads it).
    #[arg(long)]
    reason: String,
}

#[derive(Args)]
struct UnsealArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    server: String,
    /// Your member key file (with its encryption identity).
    #[arg(long, env = "TRUCE_KEY")]
    key: PathBuf,
    /// The entry's log index.
    index: u64,
}

#[derive(Args)]
struct WatchArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    server: String,
    /// The party whose alerts to follow.
    #[arg(long)]
    party: String,
    /// Resume after this log index.
    #[arg(long, conflicts_with = "from_start")]
    after: Option<u64>,
    /// Replay the whole history first (by default a new watch prints only what happens from
    /// now on).
    #[arg(long)]
    from_start: bool,
    /// Stop after this many alert messages (default: follow until interrupted).
    #[arg(long)]
    count: Option<usize>,
    /// Failed connections in a row before giving up.
    #[arg(long, default_value_t = 30)]
    retries: u32,
}

#[derive(Args)]
struct ReplayArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    server: String,
    /// The log's verifier key; without it the server's own key is trusted on first use.
    #[arg(long, env = "TRUCE_VKEY")]
    vkey: Option<String>,
}

#[derive(Args)]
struct InitArgs {
    /// Directory to create (must not hold a mechanism already).
    dir: PathBuf,
    /// Built-in scenario to start from.
    #[arg(long, default_value = "golan-1974", conflicts_with = "scenario_dir")]
    scenario: String,
    /// A scenario directory (agreement.json, zones.geojson, optional places.geojson) instead.
    #[arg(long)]
    scenario_dir: Option<PathBuf>,
    /// The log's origin: a schema-less URL naming this mechanism (no spaces or `+`).
    #[arg(long, default_value = "truce.example/golan-1974")]
    origin: String,
    /// Create only the log key and an empty log: the mediator then submits the agreement
    /// (after uploading its zones with PUT /v1/blobs) and each party ratifies from its own keys.
    #[arg(long, conflicts_with_all = ["scenario", "scenario_dir"])]
    empty: bool,
    /// Also make a witness for each party and observer (in DIR/witnesses/), name them in the
    /// agreement with a policy that needs every party's witness and one more, and let
    /// `truce serve` run them on loopback. For a demo: real witnesses run on the parties' own
    /// machines (`truce witness`).
    #[arg(long, conflicts_with = "empty")]
    witnesses: bool,
}

#[derive(Args)]
struct KeygenArgs {
    /// Member id the key is for (e.g. `sy.ops2`).
    #[arg(long)]
    member: String,
    /// Where to write the key file (mode 0600; never overwritten).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct ServeArgs {
    /// Data directory created by `truce init`.
    #[arg(long, env = "TRUCE_DATA")]
    data: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "TRUCE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Log format.
    #[arg(long, value_parser = ["text", "json"], default_value = "text")]
    log_format: String,
    /// Requests per second allowed to each member's tokens (sustained); beyond it, 429.
    #[arg(long, env = "TRUCE_RATE_LIMIT", default_value_t = 100.0)]
    rate_limit: f64,
    /// Requests a member may send in one burst above the sustained rate.
    #[arg(long, env = "TRUCE_RATE_BURST", default_value_t = 400.0)]
    rate_burst: f64,
    /// Where a witness the agreement names listens: `NAME=URL` (e.g.
    /// `sy.example/witness=http://10.0.0.5:7380`). Overrides the agreement's URL. Repeat for
    /// each witness.
    #[arg(long = "witness", value_name = "NAME=URL")]
    witnesses: Vec<String>,
}

#[derive(Args)]
struct SubmitArgs {
    /// Server base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "TRUCE_SERVER", required_unless_present = "offline")]
    server: Option<String>,
    /// The member's key file.
    #[arg(long, env = "TRUCE_KEY")]
    key: PathBuf,
    /// Entry kind: report, sighting, notice, acknowledgement, dispute, ruling, posture,
    /// coverage, case, attestation, participation, membership, ratification, agreement.
    #[arg(long)]
    kind: String,
    /// JSON file with the entry's body (`-` for stdin). Schemas: GET /v1/schemas/<kind>.
    #[arg(long)]
    body: PathBuf,
    /// The mechanism's origin (fetched from the server when omitted; required with --offline).
    #[arg(long, env = "TRUCE_MECHANISM")]
    mechanism: Option<String>,
    /// Sign now and queue the entry in --queue; send it later with `truce sync`.
    #[arg(long)]
    offline: bool,
    /// Queue directory for --offline.
    #[arg(long, default_value = "truce-queue")]
    queue: PathBuf,
    /// Where receipts are saved.
    #[arg(long, default_value = "receipts")]
    out: PathBuf,
    /// A JSON file of need-to-know details (sources, identities) to seal into the entry
    /// (reports, notices, disputes, sightings): encrypted with age to the members of your
    /// party, of the mediator and of --seal-to; every other member sees only that it exists.
    #[arg(long, requires = "server")]
    seal: Option<PathBuf>,
    /// Further parties the sealed details are for (comma-separated).
    #[arg(long, value_delimiter = ',', requires = "seal")]
    seal_to: Vec<String>,
    /// Sign the entry and write its envelope to this file instead of sending it: for a
    /// membership entry the mediator must countersign (`truce countersign FILE`).
    #[arg(long, conflicts_with = "offline")]
    sign_only: Option<PathBuf>,
}

#[derive(Args)]
struct CountersignArgs {
    /// The signed envelope (written by `truce submit --sign-only`); the countersigned
    /// envelope replaces it unless --write names another file.
    envelope: PathBuf,
    /// Your member key file (an administrator of the mediator).
    #[arg(long, env = "TRUCE_KEY")]
    key: PathBuf,
    /// Submit the countersigned entry to this server (and save its receipt in --out).
    #[arg(long, env = "TRUCE_SERVER")]
    server: Option<String>,
    /// The mechanism the entry must be for (taken from --server when omitted).
    #[arg(long, env = "TRUCE_MECHANISM")]
    mechanism: Option<String>,
    /// Write the countersigned envelope here instead of over the input.
    #[arg(long)]
    write: Option<PathBuf>,
    /// Where receipts are saved.
    #[arg(long, default_value = "receipts")]
    out: PathBuf,
}

#[derive(Args)]
struct SyncArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    server: String,
    #[arg(long, default_value = "truce-queue")]
    queue: PathBuf,
    #[arg(long, default_value = "receipts")]
    out: PathBuf,
}

#[derive(Args)]
struct BlobArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    server: String,
    /// Files to upload (at most 16 MiB each).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum VerifyCommand {
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
struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Keep the demo's data in this directory instead of a temporary one.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Simulated incidents to feed the new mechanism with (reports from both parties and
    /// UNDOF over the last 30 days, with noise; see `truce simulate`); 0 for none.
    #[arg(long, default_value_t = 300)]
    simulate: u64,
}

/// An outcome already reported on stdout that still sets the exit code.
#[derive(Debug)]
struct ExitWith(u8);

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

/// The text report's line on the witness policy (empty when none was checked).
fn witnesses_line(w: Option<&verify::WitnessReport>) -> String {
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

fn print(json_mode: bool, value: serde_json::Value, text: impl FnOnce() -> String) {
    if json_mode {
        println!("{value}");
    } else {
        println!("{}", text());
    }
}

/// A client for a server, sending the API token if one was given.
fn connect(url: &str, token: &Option<String>) -> Result<client::Client> {
    Ok(client::Client::new(url)?.with_token(token.clone()))
}

fn run(cli: Cli) -> Result<()> {
    let j = cli.json;
    let token = cli.token;
    match cli.command {
        Command::Init(a) if a.empty => {
            let vkey = scenario::init_empty(&a.dir, &a.origin)?;
            print(
                j,
                json!({"dir": a.dir, "origin": a.origin, "verifier_key": vkey, "tree_size": 0}),
                || {
                    format!(
                        "initialised an empty log in {}\norigin:       {}\nverifier key: {vkey}\nnext: truce serve --data {}, upload the zones (PUT /v1/blobs/<sha256>), then submit the agreement as a mediator administrator",
                        a.dir.display(),
                        a.origin,
                        a.dir.display()
                    )
                },
            );
        }
        Command::Init(a) => {
            let scenario = match &a.scenario_dir {
                Some(d) => scenario::Scenario::from_dir(d)?,
                None => scenario::Scenario::built_in(&a.scenario)?,
            };
            let done = scenario::init_with(&a.dir, &a.origin, &scenario, a.witnesses)?;
            print_init(j, &done);
        }
        Command::Keygen(a) => {
            truce_model::ids::check_member_id("--member", &a.member)
                .map_err(|r| anyhow::anyhow!(r.detail))?;
            let key = keys::MemberKey::generate(&a.member);
            if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            key.save(&a.out)?;
            let encryption_key = key.encryption_key().unwrap_or_default();
            print(
                j,
                json!({"member": a.member, "public_key": key.public_key_b64(), "key_id": key.key_id(), "encryption_key": encryption_key, "file": a.out}),
                || {
                    format!(
                        "wrote {} (mode 0600)\nmember:         {}\npublic key:     {}\nkey id:         {}\nencryption key: {}\nRegister both with a membership entry signed by your party's administrator\n(`public_key` and `encryption_key`; the encryption key lets the member open sealed case records and reports).",
                        a.out.display(),
                        a.member,
                        key.public_key_b64(),
                        key.key_id(),
                        encryption_key
                    )
                },
            );
        }
        Command::Serve(a) => {
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
            serve(&a.data, a.listen, &a.log_format, limit, None, j, urls)?
        }
        Command::Submit(a) => submit_cmd(j, a, &token)?,
        Command::Sync(a) => {
            let client = connect(&a.server, &token)?;
            let r = submit::sync(&client, &a.queue, &a.out)?;
            let value = serde_json::to_value(&r)?;
            print(j, value, || {
                format!(
                    "sent {} (indexes {:?}), already logged {}, refused {}{}",
                    r.sent.len(),
                    r.sent,
                    r.already_logged.len(),
                    r.refused.len(),
                    r.refused
                        .iter()
                        .map(|(f, why)| format!("\n  {f}: {why}"))
                        .collect::<String>()
                )
            });
            if !r.refused.is_empty() {
                if !j {
                    eprintln!(
                        "{} queued entries were refused; they are in {}/refused/ with their reasons",
                        r.refused.len(),
                        a.queue.display()
                    );
                }
                return Err(anyhow::anyhow!(ExitWith(4)));
            }
        }
        Command::Verify(v) => verify_cmd(j, v, &token)?,
        Command::Findings(a) => findings_cmd(j, a, &token)?,
        Command::Dispute(a) => {
            let body = json!({"finding": a.finding, "reasons": a.reasons, "evidence": a.evidence});
            let sign = SignArgs {
                server: a.server,
                key: a.key,
                queue: a.queue,
                out: a.out,
            };
            submit_signed(j, sign, "dispute", &body, &token)?;
        }
        Command::Notify(a) => {
            let (action, refers_to) = match (a.amend, a.withdraw) {
                (Some(n), _) => ("amend", Some(n)),
                (_, Some(n)) => ("withdraw", Some(n)),
                _ => ("file", None),
            };
            let mut body = json!({
                "action": action,
                "activity": a.activity,
                "area": deconflict::area(&a.zones, a.area.as_deref())?,
                "window": deconflict::window(&a.start, &a.end),
                "purpose": a.purpose,
                "addressees": a.addressees,
            });
            let forces = deconflict::parse_forces(&a.forces)?;
            if !forces.is_empty() {
                body["forces"] = forces.into();
            }
            if let Some(r) = refers_to {
                body["refers_to"] = r.into();
            }
            submit_signed(j, a.sign, "notice", &body, &token)?;
        }
        Command::Ratify(a) => {
            let key = keys::MemberKey::load(&a.sign.key)?;
            let client = connect(&a.sign.server, &token)?;
            let m: serde_json::Value =
                serde_json::from_slice(&client.get_ok("/v1/mechanism")?.body)?;
            let me = m["members"]
                .as_array()
                .and_then(|ms| ms.iter().find(|x| x["key_id"] == key.key_id()))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}'s key is not a registered member key of this mechanism",
                        key.member
                    )
                })?;
            let party = me["party"].as_str().unwrap_or_default().to_owned();
            let agreement = &m["agreement"];
            let awaiting: Vec<&str> = agreement["awaiting_ratification"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
                .unwrap_or_default();
            // A pending amendment is ratified in preference to the agreement in force.
            let target = if agreement["pending"].is_object() {
                &agreement["pending"]
            } else {
                agreement
            };
            if !awaiting.contains(&party.as_str()) {
                anyhow::bail!(
                    "{party} has nothing to ratify: the agreement at index {} is ratified by {}",
                    target["index"],
                    agreement["ratified_by"]
                );
            }
            let (index, sha) = (
                target["index"].as_u64().unwrap_or_default(),
                target["payload_sha256"].as_str().unwrap_or_default(),
            );
            let statement = a
                .statement
                .unwrap_or_else(|| format!("{party} ratifies version {}", target["version"]));
            if !j {
                eprintln!(
                    "ratifying for {party}: {:?}, version {}, logged at index {index}\n  payload SHA-256 {sha}\n  statement: {statement}",
                    target["title"].as_str().unwrap_or_default(),
                    target["version"],
                );
            }
            let body =
                json!({"agreement_index": index, "agreement_sha256": sha, "statement": statement});
            submit_signed(j, a.sign, "ratification", &body, &token)?;
        }
        Command::Ack(a) => {
            let mut body = json!({"notice": a.notice, "response": "acknowledge"});
            if a.received {
                body["response"] = "received".into();
            }
            let mut conditions = json!({});
            if !a.zones.is_empty() || a.area.is_some() {
                conditions["area"] = deconflict::area(&a.zones, a.area.as_deref())?;
            }
            if let (Some(s), Some(e)) = (&a.start, &a.end) {
                conditions["window"] = deconflict::window(s, e);
            }
            let caps = deconflict::parse_forces(&a.cap)?;
            if !caps.is_empty() {
                conditions["force_caps"] = caps.into();
            }
            if conditions.as_object().is_some_and(|c| !c.is_empty()) {
                body["response"] = "acknowledge_with_conditions".into();
                body["conditions"] = conditions;
            }
            if let Some(r) = a.reasons {
                body["reasons"] = r.into();
            }
            submit_signed(j, a.sign, "acknowledgement", &body, &token)?;
        }
        Command::Object(a) => {
            let body = json!({"notice": a.notice, "response": "object", "reasons": a.reasons});
            submit_signed(j, a.sign, "acknowledgement", &body, &token)?;
        }
        Command::Escalate(a) => {
            let body = json!({"notice": a.notice, "response": "escalate", "reasons": a.reasons});
            submit_signed(j, a.sign, "acknowledgement", &body, &token)?;
        }
        Command::Attest(a) => {
            let body =
                json!({"period": deconflict::window(&a.from, &a.to), "statement": a.statement});
            submit_signed(j, a.sign, "attestation", &body, &token)?;
        }
        Command::Case(c) => case_cmd(j, c, &token)?,
        Command::Countersign(a) => countersign_cmd(j, a, &token)?,
        Command::Participation(a) => {
            let body = json!({"action": a.action, "reason": a.reason});
            submit_signed(j, a.sign, "participation", &body, &token)?;
        }
        Command::Unseal(a) => {
            let client = connect(&a.server, &token)?;
            let key = keys::MemberKey::load(&a.key)?;
            let identity = key.encryption.as_ref().with_context(|| {
                format!(
                    "{}: this key file has no encryption identity",
                    a.key.display()
                )
            })?;
            let entry = logged_body(&client, a.index)?;
            let sealed = entry["body"]["sealed"]["age"]
                .as_str()
                .with_context(|| format!("entry {} has no sealed part", a.index))?;
            let details = deconflict::unseal(sealed, identity)?;
            print(j, json!({"index": a.index, "sealed": details}), || {
                serde_json::to_string_pretty(&details).unwrap_or_default()
            });
        }
        Command::Watch(a) => {
            let mut left = a.count;
            deconflict::watch(
                &a.server,
                token.as_deref(),
                &a.party,
                a.after,
                a.from_start,
                a.retries,
                |m| {
                    if !["alerts", "due", "equivocation"].contains(&m.event.as_str()) {
                        return Ok(true);
                    }
                    if j {
                        let data: serde_json::Value =
                            serde_json::from_str(&m.data).unwrap_or_else(|_| json!(m.data));
                        // `id`: the last event ID, what `--after` resumes from (null if none).
                        let id = (!m.last_event_id.is_empty()).then_some(&m.last_event_id);
                        println!("{}", json!({"event": m.event, "id": id, "data": data}));
                    } else {
                        print_alerts(&m.event, &m.data);
                    }
                    use std::io::Write as _;
                    std::io::stdout().flush()?;
                    if m.event == "alerts"
                        && let Some(n) = left.as_mut()
                    {
                        *n = n.saturating_sub(1);
                        return Ok(*n > 0);
                    }
                    Ok(true)
                },
            )?;
        }
        Command::Rule(a) => {
            let client = connect(&a.server, &token)?;
            let f = client
                .get_ok(&format!("/v1/findings/{}", a.finding))?
                .json()?;
            let rule = f["finding"]["rule"]
                .as_str()
                .context("the server's finding has no rule")?
                .to_owned();
            let open = f["disputes"].as_array().and_then(|ds| {
                ds.iter()
                    .rev()
                    .find(|d| d["dispute"]["ruling"].is_null())
                    .and_then(|d| d["index"].as_u64())
            });
            let mut body = json!({"finding": a.finding, "rule": rule, "decision": a.decision, "reasons": a.reasons});
            if let Some(d) = open {
                body["dispute"] = d.into();
            }
            let sign = SignArgs {
                server: a.server,
                key: a.key,
                queue: a.queue,
                out: a.out,
            };
            submit_signed(j, sign, "ruling", &body, &token)?;
        }
        Command::Replay(a) => {
            let client = connect(&a.server, &token)?;
            let r = truce::replay::replay(&client, a.vkey.as_deref(), !j)?;
            print(j, serde_json::to_value(&r)?, || {
                format!(
                    "replayed {} entries of {}: the state commitment for {} entries matches ({}, {} findings)",
                    r.entries_verified, r.origin, r.commitment_size, r.state_hash, r.findings
                )
            });
        }
        Command::Blob(a) => {
            let client = connect(&a.server, &token)?;
            let mut refs = Vec::new();
            for f in &a.files {
                let data = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
                let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data));
                let answer = client.put(&format!("/v1/blobs/{sha}"), &data)?;
                if !answer.ok() {
                    let e = anyhow::anyhow!("{}: {}", f.display(), answer.problem_text());
                    return Err(if answer.status >= 500 {
                        e.context("server failure")
                    } else {
                        anyhow::anyhow!(submit::Refused(e.to_string()))
                    });
                }
                let media_type = match f.extension().and_then(|x| x.to_str()) {
                    Some("geojson") => "application/geo+json",
                    Some("json") => "application/json",
                    Some("csv") => "text/csv",
                    Some("pdf") => "application/pdf",
                    Some("jpg" | "jpeg") => "image/jpeg",
                    Some("png") => "image/png",
                    _ => "application/octet-stream",
                };
                refs.push(json!({"file": f, "sha256": sha, "size": data.len(), "media_type": media_type, "created": answer.status == 201}));
            }
            print(j, json!(refs), || {
                refs.iter()
                    .map(|r| {
                        format!(
                            "{}  {}  {} bytes  {}{}",
                            r["sha256"].as_str().unwrap_or(""),
                            r["media_type"].as_str().unwrap_or(""),
                            r["size"],
                            r["file"].as_str().unwrap_or(""),
                            if r["created"] == true {
                                ""
                            } else {
                                "  (already stored)"
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::Demo(a) => demo(a, j)?,
        Command::Simulate(a) => {
            use truce::simulate;
            let cfg = simulate::Config {
                seed: a.seed,
                incidents: a.incidents,
                days: a.days,
                noise: simulate::Noise::parse(&a.noise)?,
                end: simulate::end_time(a.end.as_deref())?,
                fusion: simulate::FusionOverrides::from_flags(
                    [
                        a.fusion_threshold,
                        a.fusion_time_slack,
                        a.fusion_max_gap,
                        a.fusion_min_radius,
                        a.fusion_density,
                    ],
                    &a.fusion,
                )?,
            };
            let target = match (a.server, a.keys) {
                (Some(url), Some(keys_dir)) => Some(simulate::Target {
                    client: connect(&url, &token)?,
                    keys_dir,
                }),
                _ => None,
            };
            let s = simulate::simulate(&cfg, &a.out, target, !j)?;
            print(j, serde_json::to_value(&s)?, || {
                format!(
                    "simulated {} incidents ({} reported) from {} to {}: {} reports ({} false, {} duplicates), {} denials; {} entries in {} ({:.1} s){}",
                    s.incidents,
                    s.incidents_reported,
                    s.start,
                    s.end,
                    s.reports,
                    s.false_reports,
                    s.duplicate_reports,
                    s.sightings,
                    s.entries,
                    s.dir.display(),
                    s.seconds,
                    s.server
                        .as_deref()
                        .map(|u| format!(", submitted to {u}"))
                        .unwrap_or_default()
                )
            });
        }
        Command::Token(t) => token_cmd(j, t)?,
        Command::Witness(c) => cmd::witness::run(j, c)?,
        Command::Mirror(a) => cmd::mirror::run(j, a, &token)?,
        Command::Audit(a) => cmd::audit::run(j, a, &token)?,
        Command::ExportBundle(a) => cmd::audit::export(j, a, &token)?,
        Command::Eval(EvalCommand::Fusion { dir }) => {
            truce::eval::check_dir(&dir)?;
            let e = truce::eval::fusion(&dir, !j)?;
            print(j, serde_json::to_value(&e)?, || truce::eval::render(&e));
        }
    }
    Ok(())
}

fn token_cmd(j: bool, t: TokenCommand) -> Result<()> {
    use truce::tokens;
    let line = |t: &tokens::Listed| {
        format!(
            "{}  {:<12} {:<5} {:<7} expires {}",
            t.id, t.member, t.scope, t.state, t.expires
        )
    };
    match t {
        TokenCommand::Create {
            data,
            member,
            scope,
            expires,
        } => {
            let c = tokens::create(&data, &member, &scope, &expires)?;
            print(j, serde_json::to_value(&c)?, || {
                format!(
                    "{}\n{}\n(the token is shown only now; send it as `Authorization: Bearer <token>`)",
                    c.token,
                    line(&c.listed)
                )
            });
        }
        TokenCommand::List { data } => {
            let all = tokens::list(&data)?;
            print(j, serde_json::to_value(&all)?, || {
                if all.is_empty() {
                    "no tokens".to_owned()
                } else {
                    all.iter().map(line).collect::<Vec<_>>().join("\n")
                }
            });
        }
        TokenCommand::Revoke { data, id } => {
            let r = tokens::revoke(&data, &id)?;
            print(j, serde_json::to_value(&r)?, || {
                format!("revoked {}", line(&r))
            });
        }
    }
    Ok(())
}

fn print_init(j: bool, done: &scenario::Initialised) {
    let members: Vec<_> = done
        .members
        .iter()
        .map(|(id, party, role, path)| json!({"member": id, "party": party, "role": role, "key_file": path}))
        .collect();
    print(
        j,
        json!({"dir": done.dir, "origin": done.origin, "verifier_key": done.verifier_key, "tree_size": done.tree_size, "members": members}),
        || {
            let mut s = format!(
                "initialised {}\norigin:       {}\nverifier key: {}\nlog:          {} entries (the agreement and its ratifications)\nmember keys (demo keys; mode 0600):\n",
                done.dir.display(),
                done.origin,
                done.verifier_key,
                done.tree_size
            );
            for (id, party, role, path) in &done.members {
                s.push_str(&format!(
                    "  {id:<12} {party:<6} {role:<14} {}\n",
                    path.display()
                ));
            }
            s.push_str(&format!("next: truce serve --data {}", done.dir.display()));
            s
        },
    );
}

fn init_tracing(format: &str) {
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

/// Runs the server until Ctrl-C or SIGTERM. `banner` is told the bound address. With `json`,
/// the start is one JSON line on standard output and the logs are JSON lines.
fn serve(
    data: &Path,
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
    let key = dir.read_log_key()?;
    let store: Arc<dyn truce_store::Store> =
        Arc::new(truce_store_sqlite::SqliteStore::open(&dir.database_path())?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let service = truce_server::LogService::open(store, key, &dir.origin)?;
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
                json!({"event": "listening", "url": format!("http://{addr}"), "origin": service.origin(), "verifier_key": service.verifier_key(), "tree_size": service.checkpoint().size})
            );
        } else {
            println!("listening on http://{addr}");
        }
        if let Some(b) = banner {
            b(addr);
        }
        let mut witness_urls = witness_urls;
        let local = start_local_witnesses(&dir.root.join(scenario::LOCAL_WITNESSES)).await?;
        for (name, url) in &local {
            witness_urls.entry(name.clone()).or_insert_with(|| url.clone());
        }
        truce_server::cosign::start(service.clone(), witness_urls)
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
        let served = truce_server::listener::serve(
            listener,
            truce_server::api::router_with(service, limit),
            truce_server::listener::ConnectionLimits::default(),
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
        let w = truce_server::witness::Witness::open(&sub, &[])?;
        let lock = w.lock()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        out.push((w.cosigner().name().to_owned(), url));
        let router = truce_server::witness::router(Arc::new(w));
        tokio::spawn(async move {
            let _lock = lock;
            let _ = truce_server::listener::serve(
                listener,
                router,
                truce_server::listener::ConnectionLimits::default(),
                std::future::pending(),
            )
            .await;
        });
    }
    Ok(out)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn countersign_cmd(j: bool, a: CountersignArgs, token: &Option<String>) -> Result<()> {
    let key = keys::MemberKey::load(&a.key)?;
    let client = a.server.as_deref().map(|u| connect(u, token)).transpose()?;
    let origin = match (&a.mechanism, &client) {
        (Some(m), _) => Some(m.clone()),
        (None, Some(c)) => Some(
            c.get_ok("/v1/mechanism")?.json()?["origin"]
                .as_str()
                .context("server did not say its origin")?
                .to_owned(),
        ),
        (None, None) => None,
    };
    let (env, summary) = submit::countersign(&a.envelope, &key, origin.as_deref())?;
    let written = a.write.as_ref().unwrap_or(&a.envelope);
    let Some(client) = client else {
        submit::write_envelope(written, &env)?;
        print(
            j,
            json!({"envelope": written, "entry": summary, "submitted": false}),
            || {
                format!(
                    "countersigned: {summary}\nwrote {} (not sent; submit it with --server)",
                    written.display()
                )
            },
        );
        return Ok(());
    };
    // Written once admitted: a refused countersignature leaves the file as it was.
    let saved = submit::post(&client, &env, &a.out)?;
    submit::write_envelope(written, &env)?;
    print(
        j,
        json!({"envelope": written, "entry": summary, "submitted": true, "created": saved.created, "receipt": saved.receipt, "files": saved.files}),
        || format!("countersigned: {summary}\n{}", saved.describe()),
    );
    Ok(())
}

fn submit_cmd(j: bool, a: SubmitArgs, token: &Option<String>) -> Result<()> {
    let body = submit::read_json(&a.body)?;
    submit_body(j, &a, &body, token)
}

/// Signs `body` as an entry of `a.kind` with the key in `a.key` and submits it.
/// Signs and submits a body built by a command.
fn submit_signed(
    j: bool,
    s: SignArgs,
    kind: &str,
    body: &serde_json::Value,
    token: &Option<String>,
) -> Result<()> {
    let a = SubmitArgs {
        server: Some(s.server),
        key: s.key,
        kind: kind.into(),
        body: PathBuf::new(),
        mechanism: None,
        offline: false,
        queue: s.queue,
        out: s.out,
        seal: None,
        seal_to: vec![],
        sign_only: None,
    };
    submit_body(j, &a, body, token)
}

/// One stream message as lines of text.
fn print_alerts(event: &str, data: &str) {
    let v: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    if event == "equivocation" {
        println!(
            "EQUIVOCATION  witness {}: {}",
            v["witness"].as_str().unwrap_or(""),
            v["detail"].as_str().unwrap_or("")
        );
        println!("  the log's checkpoint it refused:");
        for l in v["checkpoint"].as_str().unwrap_or("").lines() {
            println!("    {l}");
        }
        return;
    }
    if event == "due" {
        for d in v["deadlines"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            println!(
                "due   {}  {} must meet {} by {}",
                d["id"].as_str().unwrap_or(""),
                d["party"].as_str().unwrap_or(""),
                d["obligation"]["type"].as_str().unwrap_or(""),
                d["due"].as_str().unwrap_or("")
            );
        }
        return;
    }
    for a in v["alerts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        println!(
            "{:>6}  {:<16} {}",
            v["index"],
            a["type"].as_str().unwrap_or(""),
            a["summary"].as_str().unwrap_or("")
        );
    }
}

fn case_cmd(j: bool, c: CaseCommand, token: &Option<String>) -> Result<()> {
    match c {
        CaseCommand::Report(a) => {
            let client = connect(&a.sign.server, token)?;
            let mechanism = client.get_ok("/v1/mechanism")?.json()?;
            let key = keys::MemberKey::load(&a.sign.key)?;
            let (own, mediator) = deconflict::own_party_and_mediator(&mechanism, &key.member)?;
            let record = submit::read_json(&a.person)?;
            let rcpt = deconflict::recipients(&mechanism, &[&own, &a.detaining, &mediator]);
            let (commitment, sealed) = deconflict::seal(&record, &rcpt)?;
            let mut body = json!({
                "action": "report",
                "commitment": commitment,
                "detaining_party": a.detaining,
                "sealed": sealed,
            });
            if let Some(n) = a.note {
                body["note"] = n.into();
            }
            submit_signed(j, a.sign, "case", &body, token)
        }
        CaseCommand::Step(a) => {
            let client = connect(&a.sign.server, token)?;
            let case = find_case(&client, a.case)?;
            let mut body = json!({
                "action": a.action,
                "case": a.case,
                "commitment": case["commitment"],
                "detaining_party": case["detaining_party"],
            });
            if let Some(n) = a.note {
                body["note"] = n.into();
            }
            submit_signed(j, a.sign, "case", &body, token)
        }
        CaseCommand::Open(a) => {
            let client = connect(&a.server, token)?;
            let key = keys::MemberKey::load(&a.key)?;
            let identity = key.encryption.as_ref().with_context(|| {
                format!(
                    "{}: this key file has no encryption identity",
                    a.key.display()
                )
            })?;
            let entry = logged_body(&client, a.case)?;
            let body = &entry["body"];
            let (Some(sealed), Some(commitment)) =
                (body["sealed"]["age"].as_str(), body["commitment"].as_str())
            else {
                anyhow::bail!("entry {} is not a case report with a sealed record", a.case);
            };
            let record = deconflict::open(sealed, identity, commitment)?;
            print(j, json!({"case": a.case, "record": record}), || {
                serde_json::to_string_pretty(&record).unwrap_or_default()
            });
            Ok(())
        }
    }
}

/// An entry's payload as logged, decoded from its verbatim envelope (the decoded view the
/// server adds leaves out sealed parts the token's member may not read).
fn logged_body(client: &client::Client, index: u64) -> Result<serde_json::Value> {
    use base64::Engine as _;
    let answer = client.get_ok(&format!("/v1/entries/{index}"))?.json()?;
    let payload = answer["envelope"]["payload"]
        .as_str()
        .context("the server's entry has no envelope payload")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .context("the envelope payload is not base64")?;
    serde_json::from_slice(&bytes).context("the envelope payload is not JSON")
}

/// The body of a case's report entry, from the log.
fn find_case(client: &client::Client, case: u64) -> Result<serde_json::Value> {
    let entry = client.get_ok(&format!("/v1/entries/{case}"))?.json()?;
    let e = &entry["entry"];
    if e["kind"] != "case" || e["body"]["action"] != "report" {
        anyhow::bail!("entry {case} is not the report of a case (see GET /v1/cases)");
    }
    Ok(e["body"].clone())
}

fn submit_body(
    j: bool,
    a: &SubmitArgs,
    body: &serde_json::Value,
    token: &Option<String>,
) -> Result<()> {
    let key = keys::MemberKey::load(&a.key)?;
    let client = a.server.as_deref().map(|u| connect(u, token)).transpose()?;
    let origin = match (&a.mechanism, &client) {
        (Some(m), _) => m.clone(),
        (None, Some(c)) if !a.offline => c.get_ok("/v1/mechanism")?.json()?["origin"]
            .as_str()
            .context("server did not say its origin")?
            .to_owned(),
        _ => anyhow::bail!(
            "--offline needs --mechanism ORIGIN (the log origin, e.g. truce.example/golan-1974)"
        ),
    };
    let mut body = body.clone();
    if let Some(path) = &a.seal {
        let client = client
            .as_ref()
            .context("--seal needs --server (for the members' keys)")?;
        let mechanism = client.get_ok("/v1/mechanism")?.json()?;
        let (own, mediator) = deconflict::own_party_and_mediator(&mechanism, &key.member)?;
        let mut parties = vec![own.as_str(), mediator.as_str()];
        parties.extend(a.seal_to.iter().map(String::as_str));
        let details = submit::read_json(path)?;
        let rcpt = deconflict::recipients(&mechanism, &parties);
        body["sealed"] = deconflict::seal_details(&details, &rcpt)?;
    }
    let body = &body;
    let env = submit::build(&origin, &a.kind, &key, body)?;
    if let Some(path) = &a.sign_only {
        submit::write_envelope(path, &env)?;
        print(j, json!({"envelope": path}), || {
            format!(
                "signed and wrote {} (not sent); to countersign it: `truce countersign {} --key MEDIATOR-ADMIN.key --server URL`",
                path.display(),
                path.display()
            )
        });
        return Ok(());
    }
    if a.offline {
        let path = submit::enqueue(&a.queue, &env)?;
        print(j, json!({"queued": path}), || {
            format!(
                "signed and queued {} (send it with `truce sync --server URL --queue {}`)",
                path.display(),
                a.queue.display()
            )
        });
        return Ok(());
    }
    let client = client.context("--server is required unless --offline")?;
    let saved = match submit::post(&client, &env, &a.out) {
        Ok(saved) => saved,
        Err(e) if e.is::<client::Unreachable>() || e.is::<submit::ServerFailed>() => {
            // Signed at capture time: keep it, so a retry sends this very envelope.
            let path = submit::enqueue(&a.queue, &env)?;
            return Err(e.context(format!(
                "the signed entry was queued as {}; send it with `truce sync --server {}` (sending it again is safe: a repeat gets the same receipt)",
                path.display(),
                client.base()
            )));
        }
        Err(e) => return Err(e),
    };
    print(
        j,
        json!({"created": saved.created, "receipt": saved.receipt, "files": saved.files}),
        || saved.describe(),
    );
    Ok(())
}

fn findings_cmd(j: bool, a: FindingsArgs, token: &Option<String>) -> Result<()> {
    let client = connect(&a.server, token)?;
    if let Some(id) = &a.id {
        let v = client.get_ok(&format!("/v1/findings/{id}"))?.json()?;
        print(j, v.clone(), || {
            let f = &v["finding"];
            let mut out = format!(
                "{}  [{}]  against {}  ({})\n{}\nrule: {}\nevidence:",
                f["id"].as_str().unwrap_or(""),
                f["status"].as_str().unwrap_or(""),
                f["party"].as_str().unwrap_or(""),
                f["severity"].as_str().unwrap_or(""),
                f["summary"].as_str().unwrap_or(""),
                v["rule"]["title"].as_str().unwrap_or(""),
            );
            for e in v["evidence"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "\n  entry {} {} by {} at {}",
                    e["index"],
                    e["kind"].as_str().unwrap_or(""),
                    e["author"].as_str().unwrap_or(""),
                    e["created"].as_str().unwrap_or("")
                ));
            }
            out.push_str("\nhistory:");
            for t in f["history"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "\n  {} {} (entry {}): {}",
                    t["at"].as_str().unwrap_or(""),
                    t["status"].as_str().unwrap_or(""),
                    t["index"],
                    t["reason"].as_str().unwrap_or("")
                ));
            }
            out
        });
        return Ok(());
    }
    let mut q = vec![format!("limit={}", a.limit)];
    for (k, v) in [
        ("party", &a.party),
        ("rule", &a.rule),
        ("status", &a.status),
        ("zone", &a.zone),
        ("layer", &a.layer),
        ("from", &a.from),
        ("to", &a.to),
    ] {
        if let Some(v) = v {
            q.push(format!("{k}={}", url_escape(v)));
        }
    }
    let v = client
        .get_ok(&format!("/v1/findings?{}", q.join("&")))?
        .json()?;
    print(j, v.clone(), || {
        let list = v["findings"].as_array().cloned().unwrap_or_default();
        let mut out = format!(
            "{} findings (of {}; derived state at {} entries)",
            list.len(),
            v["total"],
            v["applied_size"]
        );
        for f in &list {
            out.push_str(&format!(
                "\n{:<13} {:<3} {:<8} {}  {}",
                f["status"].as_str().unwrap_or(""),
                f["party"].as_str().unwrap_or(""),
                f["severity"].as_str().unwrap_or(""),
                f["id"].as_str().unwrap_or(""),
                clip(f["summary"].as_str().unwrap_or(""), 100)
            ));
        }
        out
    });
    Ok(())
}

/// `text` in at most `max` characters: whole, or cut at the last word boundary before the
/// limit (mid-word only when a single word is longer), with an ellipsis.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match head.rfind(char::is_whitespace) {
        Some(i) if i > 0 => head[..i].trim_end(),
        _ => head.as_str(),
    };
    format!("{cut}…")
}

/// Percent-encodes a query value.
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn verify_cmd(j: bool, v: VerifyCommand, token: &Option<String>) -> Result<()> {
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

fn demo(a: DemoArgs, json: bool) -> Result<()> {
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
    serve(
        &dir,
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
fn demo_tokens(dir: &Path) -> Result<Vec<(String, String)>> {
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
        let c = truce::tokens::create(dir, &m, "write", "30d")?;
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
fn demo_traffic(
    url: &str,
    token: Option<String>,
    keys: &std::path::Path,
    out: &std::path::Path,
    incidents: u64,
) {
    use truce::simulate;
    let run = || -> Result<simulate::Summary> {
        let cfg = simulate::Config {
            seed: 1974,
            incidents,
            days: 30,
            noise: simulate::Noise::parse("default")?,
            end: simulate::end_time(None)?,
            fusion: simulate::FusionOverrides::default(),
        };
        let target = simulate::Target {
            client: connect(url, &token)?,
            keys_dir: keys.to_owned(),
        };
        simulate::simulate(&cfg, out, Some(target), false)
    };
    let seeded = connect(url, &token).and_then(|c| {
        truce::deconflict::seed_demo(&c, keys, &out.with_file_name("deconfliction-receipts"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_cut_mid_word_regression() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("artillery rounds landed", 20), "artillery rounds…");
        assert_eq!(clip("Qunaytirah-governorate-wide", 10), "Qunaytira…");
        assert_eq!(clip("قصف مدفعي على القنيطرة", 12), "قصف مدفعي…");
        assert!(clip(&"word ".repeat(40), 100).chars().count() <= 100);
    }

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
