//! `truce migrate-store`, `truce backup`, `truce restore`: a log copied exactly between stores
//! (see `truce_client::copy`), verified before success is reported.

use crate::print;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use truce_client::copy::{CopyReport, copy};
use truce_client::database::Database;
use truce_server::DataDir;
use truce_store::Store;

#[derive(Args)]
pub(crate) struct MigrateStoreArgs {
    /// Where the log is now: `sqlite:DIR` (a data directory's truce.db) or a PostgreSQL URL.
    #[arg(long)]
    pub from: String,
    /// Where to copy it: `sqlite:DIR` (an initialised data directory whose database is empty)
    /// or a PostgreSQL URL (an empty database).
    #[arg(long)]
    pub to: String,
    /// The log's verifier key (default: the log key of the data directory among --from and
    /// --to).
    #[arg(long, env = "TRUCE_VKEY")]
    pub vkey: Option<String>,
    /// Afterwards, record the PostgreSQL database --to names in the --from data directory's
    /// truce.json, so that `truce serve --data DIR` uses it (the SQLite file is left as it
    /// was). Only from `sqlite:DIR` to a URL without a password.
    #[arg(long)]
    pub switch: bool,
}

#[derive(Args)]
pub(crate) struct BackupArgs {
    /// Data directory of the log to back up.
    #[arg(long, env = "TRUCE_DATA")]
    pub data: PathBuf,
    /// Its database, if not what the directory records (`sqlite` or a PostgreSQL URL).
    #[arg(long, env = "TRUCE_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// A new directory for the backup: truce.json and truce.db (SQLite), no secret key.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub(crate) struct RestoreArgs {
    /// A backup directory written by `truce backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// The data directory to restore into (same origin; its database must be empty).
    #[arg(long, env = "TRUCE_DATA")]
    pub data: PathBuf,
    /// Its database, if not what the directory records (`sqlite` or a PostgreSQL URL).
    #[arg(long, env = "TRUCE_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Afterwards, record --database in the data directory's truce.json (a URL without a
    /// password), so that `truce serve --data DIR` uses it.
    #[arg(long, requires = "database")]
    pub switch: bool,
}

/// Records `database` in `dir`'s configuration, or says why it cannot.
fn switch_to(dir: &DataDir, database: &Database) -> Result<()> {
    let mut dir = dir.clone();
    if !database.record(&mut dir)? {
        bail!(
            "--switch: the copy is done and verified, but a database URL with a password is not written to truce.json; give it with --database or TRUCE_DATABASE_URL"
        );
    }
    Ok(())
}

/// One end of a copy.
struct End {
    store: Arc<dyn Store>,
    /// The data directory, for `sqlite:DIR`.
    dir: Option<DataDir>,
    shown: String,
}

fn end(text: &str) -> Result<End> {
    if let Some(path) = text.strip_prefix("sqlite:") {
        let dir = DataDir::open(Path::new(path))?;
        let store = Database::Sqlite.open(&dir)?;
        return Ok(End {
            shown: dir.database_path().display().to_string(),
            store,
            dir: Some(dir),
        });
    }
    match Database::parse(text) {
        Ok(Database::Postgres(url)) => Ok(End {
            store: Arc::new(truce_store_postgres::PostgresStore::open(&url)?),
            dir: None,
            shown: truce_store_postgres::redact(&url),
        }),
        _ => bail!(
            "`{}` is neither sqlite:DIR nor a postgres:// URL",
            truce_store_postgres::redact(text)
        ),
    }
}

fn print_copy(j: bool, r: &CopyReport, from: &str, to: &str, extra: &str) -> Result<()> {
    print(
        j,
        serde_json::json!({"from": from, "to": to, "copied": r, "verified": true}),
        || {
            format!(
                "copied {from} to {to}: {} entries, {} checkpoints (each verified), {} blobs, {} tokens, {} state commitments{}; the copy matches the source{extra}",
                r.entries,
                r.checkpoints,
                r.blobs,
                r.tokens,
                r.commitments,
                r.snapshot
                    .map(|s| format!(", the state snapshot at {s}"))
                    .unwrap_or_default()
            )
        },
    );
    Ok(())
}

/// `truce migrate-store`.
pub(crate) fn migrate_store(j: bool, a: MigrateStoreArgs) -> Result<()> {
    let (from, to) = (end(&a.from)?, end(&a.to)?);
    let vkey = match (&a.vkey, from.dir.as_ref().or(to.dir.as_ref())) {
        (Some(k), _) => k.clone(),
        (None, Some(dir)) => dir
            .read_log_key()
            .context("no --vkey given: reading the data directory's log key")?
            .verifier_key()
            .to_owned(),
        (None, None) => bail!("between two PostgreSQL databases, give the log's --vkey"),
    };
    if let (Some(f), Some(t)) = (&from.dir, &to.dir)
        && f.origin != t.origin
    {
        bail!(
            "--from is the log {} and --to a directory for {}",
            f.origin,
            t.origin
        );
    }
    let switch = match (a.switch, &from.dir, Database::parse(&a.to)) {
        (false, ..) => None,
        (true, Some(dir), Ok(db @ Database::Postgres(_))) => Some((dir, db)),
        (true, ..) => bail!("--switch needs --from sqlite:DIR and --to a postgres:// URL"),
    };
    let r = copy(from.store.as_ref(), to.store.as_ref(), &vkey)?;
    if let Some((dir, db)) = switch {
        switch_to(dir, &db)?;
    }
    print_copy(
        j,
        &r,
        &from.shown,
        &to.shown,
        if a.switch {
            "; the data directory now uses it"
        } else {
            ""
        },
    )
}

/// `truce backup`.
pub(crate) fn backup(j: bool, a: BackupArgs) -> Result<()> {
    let dir = DataDir::open(&a.data)?;
    let vkey = dir.read_log_key()?.verifier_key().to_owned();
    let source = Database::for_dir(a.database.as_deref(), &dir)?.open(&dir)?;
    let out = DataDir::create(&a.out, &dir.origin)
        .with_context(|| format!("--out {}: a new directory for the backup", a.out.display()))?;
    let copied = Database::Sqlite
        .open(&out)
        .and_then(|target| copy(source.as_ref(), target.as_ref(), &vkey));
    let r = match copied {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&a.out);
            return Err(e);
        }
    };
    let check = format!(
        "\ncheck it: truce verify data {} --vkey {vkey}",
        a.out.display()
    );
    print_copy(
        j,
        &r,
        &a.data.display().to_string(),
        &out.database_path().display().to_string(),
        &check,
    )
}

/// `truce restore`.
pub(crate) fn restore(j: bool, a: RestoreArgs) -> Result<()> {
    let backup = DataDir::open(&a.from)?;
    let dir = DataDir::open(&a.data)?;
    if backup.origin != dir.origin {
        bail!(
            "the backup is of the log {}, the data directory is for {}",
            backup.origin,
            dir.origin
        );
    }
    let vkey = dir.read_log_key()?.verifier_key().to_owned();
    let source = Database::Sqlite.open(&backup)?;
    let database = Database::for_dir(a.database.as_deref(), &dir)?;
    let target = database.open(&dir)?;
    let r = copy(source.as_ref(), target.as_ref(), &vkey)?;
    if a.switch {
        switch_to(&dir, &database)?;
    }
    print_copy(
        j,
        &r,
        &backup.database_path().display().to_string(),
        &a.data.display().to_string(),
        "",
    )
}
