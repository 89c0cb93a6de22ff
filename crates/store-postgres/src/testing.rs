//! For tests against a real PostgreSQL (this crate's, and the CLI's): the server named by
//! `TRUCE_TEST_PG_URL`, and throw-away databases on it. When the variable is set, an
//! unreachable server fails the test; when it is not set, [`server`] says so and the test
//! checks nothing (a machine without PostgreSQL can still run `cargo test --workspace`;
//! `.ci/run` always sets it).

use std::sync::atomic::{AtomicUsize, Ordering};

/// The test server's URL, or `None` (with a note) when none is configured.
pub fn server() -> Option<String> {
    match std::env::var("TRUCE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "TRUCE_TEST_PG_URL is not set: the PostgreSQL store's contract is not checked here (CI sets it)"
            );
            None
        }
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// A new database on the test server, dropped when this is.
#[derive(Debug)]
pub struct TempDatabase {
    admin_url: String,
    /// The database's name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl TempDatabase {
    /// Creates it on the server `admin_url` names; panics if that server is unreachable.
    pub fn new(admin_url: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "truce_contract_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = postgres::Client::connect(admin_url, postgres::NoTls).unwrap_or_else(|e| {
            panic!("TRUCE_TEST_PG_URL {admin_url} is set but unreachable: {e}")
        });
        // One statement per call: neither may run in the transaction a multi-statement
        // string makes.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .expect("dropping a stale test database");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("creating a test database");
        TempDatabase {
            admin_url: admin_url.to_owned(),
            url: with_database(admin_url, &name),
            name,
        }
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

impl truce_store::contract::Backing for TempDatabase {
    fn open(&self) -> Result<Box<dyn truce_store::Store>, truce_store::StoreError> {
        Ok(Box::new(crate::PostgresStore::open(&self.url)?))
    }
}

/// Ends every connection to the database `name` (what a database restart does to its
/// clients), from the server `admin_url` names; returns how many were ended.
pub fn drop_connections(admin_url: &str, name: &str) -> u64 {
    let mut admin = postgres::Client::connect(admin_url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("TRUCE_TEST_PG_URL {admin_url} is unreachable: {e}"));
    admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .map(|rows| rows.len() as u64)
        .unwrap_or_else(|e| panic!("ending the connections to {name}: {e}"))
}

/// When the PostgreSQL server `admin_url` names was started (`pg_postmaster_start_time()`),
/// to tell that a restart happened.
pub fn started_at(admin_url: &str) -> String {
    let mut admin = postgres::Client::connect(admin_url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("TRUCE_TEST_PG_URL {admin_url} is unreachable: {e}"));
    admin
        .query_one("SELECT pg_postmaster_start_time()::text", &[])
        .map(|r| r.get(0))
        .unwrap_or_else(|e| panic!("asking when the server started: {e}"))
}
