//! Moving a log between stores: SQLite → PostgreSQL (`truce migrate-store`) → backup (`truce
//! backup`, checked by `truce verify data`) → restore into another PostgreSQL database (`truce
//! restore`). Each store, served, gives the same checkpoint and the same state commitment.

use crate::util::*;
use truce_store_postgres::testing::{TempDatabase, server};

/// The latest checkpoint note and the settled state commitment of a server.
fn served(s: &Server) -> (Vec<u8>, serde_json::Value) {
    let c = s.settled_commitment();
    (s.get("/log/checkpoint").1, c)
}

#[test]
fn sqlite_to_postgresql_to_a_backup_and_back_keeps_roots_and_state() {
    let Some(url) = server() else { return };
    let m = Mechanism::golan();
    let s = m.serve();
    for i in 0..12 {
        let env = sign_report(
            &m,
            ["sy.ops", "il.ops", "undof.ops"][i % 3],
            &format!("copy {i}"),
        );
        let (status, _) = s.post("/v1/entries", &env.to_leaf());
        assert_eq!(status, 201);
    }
    let original = served(&s);
    s.stop();

    // SQLite → PostgreSQL.
    let pg = TempDatabase::new(&url);
    let data = m.data.to_str().unwrap();
    let out = run(
        truce().args([
            "--json",
            "migrate-store",
            "--from",
            &format!("sqlite:{data}"),
            "--to",
            &pg.url,
            "--switch",
        ]),
        true,
    );
    let r = stdout_json(&out);
    assert_eq!(r["verified"], true);
    assert!(r["copied"]["entries"].as_u64().unwrap() >= 16, "{r}");
    // Into a database that holds a log already: refused, nothing written.
    let out = run(
        truce().args([
            "migrate-store",
            "--from",
            &format!("sqlite:{data}"),
            "--to",
            &pg.url,
        ]),
        false,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds a log"));
    // --switch recorded the database in the directory: `serve` and `token` use it.
    let s = m.serve();
    let health = s.get_json("/healthz");
    assert_eq!(health["database"], "postgresql", "{health}");
    assert_eq!(
        served(&s),
        original,
        "PostgreSQL serves the same log and state"
    );
    s.stop();

    // A backup of the PostgreSQL-backed log, checked offline.
    let backup = m.tmp.path().join("backup");
    run(
        truce()
            .args([
                "--json",
                "backup",
                "--data",
                data,
                "--database",
                &pg.url,
                "--out",
            ])
            .arg(&backup),
        true,
    );
    assert!(
        !backup.join("log.key").exists(),
        "a backup holds no secret key"
    );
    let out = run(
        truce()
            .args(["--json", "verify", "data"])
            .arg(&backup)
            .args(["--vkey", &m.vkey]),
        true,
    );
    assert_eq!(stdout_json(&out)["problems"], serde_json::json!([]));

    // Restored into another PostgreSQL database.
    let pg2 = TempDatabase::new(&url);
    run(
        truce()
            .args(["--json", "restore", "--from"])
            .arg(&backup)
            .args(["--data", data, "--database", &pg2.url, "--switch"]),
        true,
    );
    let s = m.serve();
    assert_eq!(served(&s), original, "the restored log and state");
    s.stop();
}
