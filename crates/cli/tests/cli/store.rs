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

/// Two `truce serve` on one PostgreSQL database (not supported yet, but a mistake an operator
/// can make): the database's constraints keep the log whole. A server whose view is stale
/// cannot append (its commit fails on the taken index, 503, nothing stored), no two
/// checkpoints of one size differ, and after a restart it serves the same log.
#[test]
fn a_second_server_on_the_same_database_cannot_fork_the_log() {
    let Some(url) = server() else { return };
    let db = TempDatabase::new(&url);
    let m = Mechanism::golan_on_postgres(&db.url);
    // A copy of the data directory (same log key, same database), as a second machine has.
    let other = m.tmp.path().join("other");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&m.data)
        .arg(&other)
        .status()
        .unwrap();
    assert!(status.success());
    let a = m.serve();
    let b = Server::start(&other);
    let first = sign_report(&m, "sy.ops", "to the first server");
    assert_eq!(a.post("/v1/entries", &first.to_leaf()).0, 201);
    // B still thinks the log ends where it started: its commit is refused by the database.
    let second = sign_report(&m, "il.ops", "to the second server");
    let (status, problem) = b.post("/v1/entries", &second.to_leaf());
    assert_eq!(status, 503, "{problem}");
    // Restarted, B reads the log as it is and can append to it; now A is the stale one.
    let b_data = b.stop();
    let b = Server::start(&b_data);
    assert_eq!(b.get("/log/checkpoint").1, a.get("/log/checkpoint").1);
    assert_eq!(b.post("/v1/entries", &second.to_leaf()).0, 201);
    let third = sign_report(&m, "undof.ops", "to the first server again");
    assert_eq!(a.post("/v1/entries", &third.to_leaf()).0, 503);
    // One checkpoint per size, each consistent with the final log (checked by verify server,
    // which also re-admits every entry).
    let out = run(
        b.truce()
            .args(["--json", "verify", "server", &b.url, "--vkey", &m.vkey]),
        true,
    );
    let v = stdout_json(&out);
    assert_eq!(v["tree_size"].as_u64(), Some(b.tree_size()), "{v}");
    let store = truce_store_postgres::PostgresStore::open(&db.url).unwrap();
    let sizes: Vec<u64> = truce_store::Store::checkpoints(&store)
        .unwrap()
        .iter()
        .map(|c| c.0)
        .collect();
    let mut dedup = sizes.clone();
    dedup.dedup();
    assert_eq!(sizes, dedup);
    for size in sizes {
        let (_, note) = b.get(&format!("/v1/checkpoints/{size}"));
        let cp = truce_log::checkpoint::verify_checkpoint(&note, &m.vkey).unwrap();
        assert_eq!(cp.size, size);
    }
}
