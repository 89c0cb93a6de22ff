//! `truce init` and `truce keygen`: a new data directory, a new member key.

use crate::print;
use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use truce_client::{keys, scenario};

#[derive(Args)]
pub(crate) struct InitArgs {
    /// Directory to create (must not hold a mechanism already).
    pub dir: PathBuf,
    /// Built-in scenario to start from.
    #[arg(long, default_value = "golan-1974", conflicts_with = "scenario_dir")]
    pub scenario: String,
    /// A scenario directory (agreement.json, zones.geojson, optional places.geojson) instead.
    #[arg(long)]
    pub scenario_dir: Option<PathBuf>,
    /// The log's origin: a schema-less URL naming this mechanism (no spaces or `+`).
    #[arg(long, default_value = "truce.example/golan-1974")]
    pub origin: String,
    /// Create only the log key and an empty log: the mediator then submits the agreement
    /// (after uploading its zones with PUT /v1/blobs) and each party ratifies from its own keys.
    #[arg(long, conflicts_with_all = ["scenario", "scenario_dir"])]
    pub empty: bool,
    /// Also make a witness for each party and observer (in DIR/witnesses/), name them in the
    /// agreement with a policy that needs every party's witness and one more, and let
    /// `truce serve` run them on loopback. For a demo: real witnesses run on the parties' own
    /// machines (`truce witness`).
    #[arg(long, conflicts_with = "empty")]
    pub witnesses: bool,
    /// Where the log is stored: `sqlite` (DIR/truce.db, the default) or a PostgreSQL URL
    /// (`postgres://user@host:5432/db`, an empty database). `truce serve` must then be given
    /// the same. The keys and configuration stay in DIR.
    #[arg(long, env = "TRUCE_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
}

#[derive(Args)]
pub(crate) struct KeygenArgs {
    /// Member id the key is for (e.g. `sy.ops2`).
    #[arg(long)]
    pub member: String,
    /// Where to write the key file (mode 0600; never overwritten).
    #[arg(long)]
    pub out: PathBuf,
}

/// `truce init`.
pub(crate) fn init(j: bool, a: InitArgs) -> Result<()> {
    if a.empty {
        let vkey = scenario::init_empty(&a.dir, &a.origin)?;
        let database = truce_client::database::Database::resolve(a.database.as_deref())?;
        database.record(&mut truce_server::DataDir::open(&a.dir)?)?;
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
        return Ok(());
    }
    let scenario = match &a.scenario_dir {
        Some(d) => scenario::Scenario::from_dir(d)?,
        None => scenario::Scenario::built_in(&a.scenario)?,
    };
    let database = truce_client::database::Database::resolve(a.database.as_deref())?;
    let done = scenario::init_with(&a.dir, &a.origin, &scenario, a.witnesses, &database)?;
    print_init(j, &done);
    Ok(())
}

/// `truce keygen`.
pub(crate) fn keygen(j: bool, a: KeygenArgs) -> Result<()> {
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
    Ok(())
}

pub(crate) fn print_init(j: bool, done: &scenario::Initialised) {
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

#[derive(Args)]
pub(crate) struct MigrateArgs {
    /// The database: a PostgreSQL URL (`postgres://user@host:5432/db`), or `sqlite` with
    /// --data.
    #[arg(long, env = "TRUCE_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Data directory whose database to migrate: its SQLite file, or the PostgreSQL database
    /// its configuration records.
    #[arg(long, env = "TRUCE_DATA")]
    pub data: Option<PathBuf>,
}

/// `truce migrate`: applies the store's pending schema migrations (which `truce serve` also
/// applies when it opens the store) and prints the schema version.
pub(crate) fn migrate(j: bool, a: MigrateArgs) -> Result<()> {
    use truce_client::database::Database;
    let dir = a
        .data
        .as_deref()
        .map(truce_server::DataDir::open)
        .transpose()?;
    let database = match &dir {
        Some(dir) => Database::for_dir(a.database.as_deref(), dir)?,
        None => Database::resolve(a.database.as_deref())?,
    };
    let (version, target) = match &database {
        Database::Postgres(url) => {
            let store = truce_store_postgres::PostgresStore::open(url)?;
            (store.migrate()?, truce_store_postgres::redact(url))
        }
        Database::Sqlite => {
            let Some(dir) = &dir else {
                anyhow::bail!(
                    "truce migrate needs --database postgres://… or, for SQLite, --data DIR"
                );
            };
            truce_store_sqlite::SqliteStore::open(&dir.database_path())?;
            (
                truce_store_sqlite::SqliteStore::supported_version(),
                dir.database_path().display().to_string(),
            )
        }
    };
    crate::print(
        j,
        serde_json::json!({"database": target, "schema_version": version}),
        || format!("{target}: schema version {version} (up to date)"),
    );
    Ok(())
}
