//! Which database holds a data directory's log: the embedded SQLite file `DIR/truce.db` (the
//! default), or a PostgreSQL server named by `--database postgres://…`, else the
//! `TRUCE_DATABASE_URL` environment variable, else the data directory's `truce.json` (which
//! `truce init --database` writes when the URL carries no password). The data directory keeps
//! the keys and configuration either way.

use anyhow::{Context, Result, bail};
use std::sync::Arc;
use truce_server::DataDir;
use truce_store::Store;

/// The environment variable naming the database when `--database` is not given.
pub const DATABASE_ENV: &str = "TRUCE_DATABASE_URL";

/// The database named by `flag`, else by `TRUCE_DATABASE_URL` (an empty one names none).
fn named(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_owned)
        .or_else(|| std::env::var(DATABASE_ENV).ok())
        .filter(|s| !s.is_empty())
}

/// Where a log is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `DIR/truce.db`.
    Sqlite,
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Database {
    /// The database `flag` names, else the one `TRUCE_DATABASE_URL` names, else SQLite.
    /// `sqlite` names SQLite explicitly.
    pub fn resolve(flag: Option<&str>) -> Result<Self> {
        named(flag).map_or(Ok(Database::Sqlite), |text| Database::parse(&text))
    }

    /// [`Database::resolve`], falling back on what `dir`'s configuration records.
    pub fn for_dir(flag: Option<&str>, dir: &DataDir) -> Result<Self> {
        named(flag)
            .or_else(|| dir.database.clone())
            .map_or(Ok(Database::Sqlite), |text| Database::parse(&text))
    }

    /// Records this database in `dir`'s configuration, unless its URL carries a password
    /// (which then has to come from `--database` or `TRUCE_DATABASE_URL` each time).
    /// Returns whether it was recorded.
    pub fn record(&self, dir: &mut DataDir) -> Result<bool> {
        match self {
            Database::Postgres(url) if truce_store_postgres::redact(url) == *url => {
                dir.set_database(url)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Parses `sqlite` or a `postgres://` / `postgresql://` URL.
    pub fn parse(text: &str) -> Result<Self> {
        if text == "sqlite" {
            Ok(Database::Sqlite)
        } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(Database::Postgres(text.to_owned()))
        } else {
            bail!(
                "--database `{}` is neither `sqlite` nor a postgres:// URL (e.g. postgres://truce@db.example:5432/truce)",
                truce_store_postgres::redact(text)
            )
        }
    }

    /// Opens the store of `dir`'s log in this database (applying migrations).
    pub fn open(&self, dir: &DataDir) -> Result<Arc<dyn Store>> {
        Ok(match self {
            Database::Sqlite => Arc::new(
                truce_store_sqlite::SqliteStore::open(&dir.database_path())
                    .with_context(|| format!("opening {}", dir.database_path().display()))?,
            ),
            Database::Postgres(url) => Arc::new(
                truce_store_postgres::PostgresStore::open(url)
                    .with_context(|| format!("opening {}", truce_store_postgres::redact(url)))?,
            ),
        })
    }

    /// Refuses anything but SQLite, for the commands that read `DIR/truce.db` row by row.
    pub fn require_sqlite(&self, what: &str) -> Result<()> {
        match self {
            Database::Sqlite => Ok(()),
            Database::Postgres(url) => bail!(
                "{what} reads the embedded SQLite file row by row and does not yet read PostgreSQL ({}); check a PostgreSQL-backed server with `truce verify server` instead",
                truce_store_postgres::redact(url)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names() {
        assert_eq!(Database::parse("sqlite").unwrap(), Database::Sqlite);
        assert_eq!(
            Database::parse("postgres://u@h/d").unwrap(),
            Database::Postgres("postgres://u@h/d".into())
        );
        let err = Database::parse("mysql://u:pw@h/d").unwrap_err().to_string();
        assert!(
            err.contains("mysql://u@h/d") && !err.contains("pw"),
            "{err}"
        );
    }
}
