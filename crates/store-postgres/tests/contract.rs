//! The store contract (`truce_store::contract`) against a real PostgreSQL: each check in a new
//! database, dropped afterwards. The server is `TRUCE_TEST_PG_URL` (`.ci/run` sets it and
//! starts PostgreSQL if none is listening). When it is set, an unreachable server fails the
//! test; when it is not set the test says so and checks nothing (a machine without
//! PostgreSQL can still run `cargo test --workspace`; CI never takes that path).

use truce_store::contract;
use truce_store::{Store, StoreError};
use truce_store_postgres::PostgresStore;
use truce_store_postgres::testing::{TempDatabase, server, with_database};

#[test]
fn the_store_contract_holds_on_postgresql() {
    let Some(url) = server() else { return };
    contract::all(&|| Box::new(TempDatabase::new(&url)));
}

#[test]
fn migrations_apply_once_and_a_newer_schema_is_refused() {
    let Some(url) = server() else { return };
    let db = TempDatabase::new(&url);
    // Several servers starting at once: each migration applied exactly once.
    let versions: Vec<i64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| PostgresStore::open(&db.url).map(|st| st.migrate())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread").expect("open").expect("migrate"))
            .collect()
    });
    assert!(
        versions
            .iter()
            .all(|&v| v == PostgresStore::supported_version())
    );
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let rows = c
        .query("SELECT version FROM truce_schema", &[])
        .expect("schema");
    assert_eq!(rows.len(), 1);
    // A schema from a newer binary is refused, not written over.
    c.execute("UPDATE truce_schema SET version = version + 1", &[])
        .expect("bump");
    match PostgresStore::open(&db.url) {
        Err(StoreError::TooNew { found, supported }) => assert_eq!(found, supported + 1),
        other => panic!("expected TooNew, got {other:?}"),
    }
}

#[test]
fn a_store_reconnects_after_the_database_dropped_its_connections() {
    let Some(url) = server() else { return };
    let db = TempDatabase::new(&url);
    let store = PostgresStore::open(&db.url).expect("open");
    assert!(store.put_blob("ab", b"x").expect("put"));
    // What a database restart does to a client: every connection to this database ends.
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db.name],
        )
        .expect("terminate");
    // A read repeats itself once on a new connection; a connection idle for a second is
    // checked before a write uses it. So after a pause, neither fails.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    for _ in 0..8 {
        assert_eq!(
            store.get_blob("ab").expect("read after the restart"),
            Some(b"x".to_vec())
        );
    }
    assert!(!store.put_blob("ab", b"x").expect("write after the restart"));
    assert!(store.put_blob("cd", b"y").expect("write"));
}

#[test]
fn database_names_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

#[test]
fn a_column_of_another_type_is_a_corrupt_store_not_a_panic() {
    let Some(url) = server() else { return };
    let db = TempDatabase::new(&url);
    let store = PostgresStore::open(&db.url).expect("open");
    assert!(store.put_blob("ab", b"x").expect("put"));
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    c.batch_execute("ALTER TABLE blobs ALTER COLUMN data TYPE text USING encode(data, 'hex')")
        .expect("alter");
    match store.get_blob("ab") {
        Err(StoreError::Corrupt(detail)) => assert!(detail.contains("column 0"), "{detail}"),
        other => panic!("expected a corrupt store, got {other:?}"),
    }
}
