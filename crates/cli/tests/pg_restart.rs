//! A real restart of the PostgreSQL server under load: submissions and the apply stage go on
//! once it is back, and nothing acknowledged is lost. Its own test binary: cargo runs test
//! binaries one after another, so no other test is using the database while it restarts.
//!
//! `TRUCE_TEST_PG_RESTART` is the command that restarts the server `TRUCE_TEST_PG_URL` names
//! (`.ci/run` sets both, e.g. `pg_ctlcluster --skip-systemctl-redirect 15 main restart`); without
//! it the test says so and checks nothing.

#[allow(dead_code)]
#[path = "cli/util.rs"]
mod util;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use util::*;

#[test]
fn servers_reconnect_after_postgresql_restarts_and_nothing_acknowledged_is_lost() {
    let Some(url) = truce_store_postgres::testing::server() else {
        return;
    };
    let Some(restart) = std::env::var("TRUCE_TEST_PG_RESTART")
        .ok()
        .filter(|c| !c.trim().is_empty())
    else {
        eprintln!(
            "TRUCE_TEST_PG_RESTART is not set: PostgreSQL is not restarted here (CI sets it)"
        );
        return;
    };
    let db = truce_store_postgres::testing::TempDatabase::new(&url);
    let m = Mechanism::golan_on_postgres(&db.url);
    let server = m.serve();
    // (index, leaf) of every acknowledged entry.
    type Acked = Arc<Mutex<Vec<(u64, Vec<u8>)>>>;
    let acked: Acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = ["sy.ops", "il.ops", "undof.ops"]
        .into_iter()
        .map(|member| {
            let key = m.key(member);
            let (url, acked, stop) = (server.url.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let env = sign_with(
                        &key,
                        ORIGIN,
                        "report",
                        member,
                        &now(),
                        &report(&format!("restart {member} {i}")),
                    );
                    let leaf = env.to_leaf();
                    let Ok(mut res) = agent
                        .post(format!("{url}/v1/entries"))
                        .header("content-type", "application/json")
                        .send(&leaf[..])
                    else {
                        continue;
                    };
                    let Ok(text) = res.body_mut().read_to_vec() else {
                        continue;
                    };
                    let v: serde_json::Value = serde_json::from_slice(&text).unwrap_or_default();
                    if let Some(index) = v["index"].as_u64() {
                        acked.lock().unwrap().push((index, leaf));
                    } else {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            })
        })
        .collect();
    let wait_for = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked.lock().unwrap().len() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for(100);
    let before = acked.lock().unwrap().len();
    let started = truce_store_postgres::testing::started_at(&url);
    let mut words = restart.split_whitespace();
    let status = std::process::Command::new(words.next().unwrap())
        .args(words)
        .status()
        .expect("run TRUCE_TEST_PG_RESTART");
    assert!(status.success(), "`{restart}` failed");
    assert_ne!(
        truce_store_postgres::testing::started_at(&url),
        started,
        "`{restart}` did not restart the server"
    );
    // After the restart the server takes entries again by itself.
    wait_for(before + 100);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap();
    assert!(
        acked.len() >= before + 100,
        "the server took {} entries after the restart (within 60 s)",
        acked.len() - before
    );
    let size = server.tree_size();
    let leaves = server.leaves(size);
    let lost = acked
        .iter()
        .filter(|(i, leaf)| leaves.get(*i as usize) != Some(leaf))
        .count();
    println!(
        "PostgreSQL restart under load: {} acknowledged entries ({before} before the restart), {lost} lost or changed; final log {size}",
        acked.len()
    );
    assert_eq!(lost, 0);
    // The apply stage went on too: a state commitment for the whole log.
    server.settled_commitment();
    let out = run(
        server
            .truce()
            .args(["--json", "verify", "server", &server.url, "--vkey", &m.vkey]),
        true,
    );
    assert_eq!(stdout_json(&out)["entries_verified"].as_u64(), Some(size));
}
