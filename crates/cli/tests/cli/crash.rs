//! Crash safety: SIGKILL the server under concurrent submissions; every acknowledged entry
//! survives, and the log after restart is consistent with every checkpoint issued before.

use crate::util::*;
use rand::Rng as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use truce_log::checkpoint::verify_checkpoint;
use truce_log::merkle::{leaf_hash, parse_hash_b64, verify_consistency};

struct Acked {
    index: u64,
    leaf: Vec<u8>,
    checkpoint: String,
}

fn submitter(
    m: &Mechanism,
    url: String,
    member: &'static str,
    tag: String,
    batch: bool,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<Acked>>>,
) -> std::thread::JoinHandle<()> {
    let key = m.key(member);
    std::thread::spawn(move || {
        let agent = agent();
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let n = if batch { 16 } else { 1 };
            let envs: Vec<_> = (0..n)
                .map(|j| {
                    sign_with(
                        &key,
                        ORIGIN,
                        "report",
                        member,
                        &now(),
                        &report(&format!("{tag} #{i}.{j}")),
                    )
                })
                .collect();
            i += 1;
            let (path, body) = if batch {
                let items: Vec<String> = envs
                    .iter()
                    .map(|e| String::from_utf8(e.to_leaf()).unwrap())
                    .collect();
                (
                    "/v1/entries/batch",
                    format!("[{}]", items.join(",")).into_bytes(),
                )
            } else {
                ("/v1/entries", envs[0].to_leaf())
            };
            let Ok(mut res) = agent
                .post(format!("{url}{path}"))
                .header("content-type", "application/json")
                .send(&body[..])
            else {
                break; // the server is gone
            };
            let Ok(text) = res.body_mut().read_to_vec() else {
                break;
            };
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text) else {
                break;
            };
            let receipts: Vec<serde_json::Value> = if batch {
                v["results"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| r["receipt"].clone())
                    .collect()
            } else {
                vec![v]
            };
            let mut a = acked.lock().unwrap();
            for (env, r) in envs.iter().zip(receipts) {
                if let (Some(index), Some(cp)) = (r["index"].as_u64(), r["checkpoint"].as_str()) {
                    a.push(Acked {
                        index,
                        leaf: env.to_leaf(),
                        checkpoint: cp.to_owned(),
                    });
                }
            }
        }
    })
}

/// `TRUCE_CRASH_ROUNDS=N` sets the number of SIGKILLs (default 3). Full mode (see
/// docs/deployment.md, Durability):
/// `TRUCE_CRASH_ROUNDS=50 cargo test -p truce --test cli crash -- --nocapture`
#[test]
fn acknowledged_entries_survive_sigkill_and_the_log_stays_consistent() {
    crash_rounds(&Mechanism::golan(), "sqlite");
}

/// The same on PostgreSQL (`TRUCE_TEST_PG_URL`, see `truce_store_postgres::testing`): a
/// receipt is sent only once PostgreSQL has the commit on disk.
#[test]
fn acknowledged_entries_survive_sigkill_on_postgresql() {
    let Some(url) = truce_store_postgres::testing::server() else {
        return;
    };
    let db = truce_store_postgres::testing::TempDatabase::new(&url);
    let m = Mechanism::golan_on_postgres(&db.url);
    // Ends with `truce verify server` re-admitting the whole log from the server.
    crash_rounds(&m, "postgres");
}

/// PostgreSQL drops every connection of the server (what a database restart does to its
/// clients) three times under concurrent submissions: every acknowledged entry is in the log,
/// the server takes new entries again without a restart, and the whole log verifies.
#[test]
fn acknowledged_entries_survive_the_database_dropping_every_connection() {
    let Some(url) = truce_store_postgres::testing::server() else {
        return;
    };
    let db = truce_store_postgres::testing::TempDatabase::new(&url);
    let m = Mechanism::golan_on_postgres(&db.url);
    let server = m.serve();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = [("sy.ops", false), ("il.ops", true), ("undof.ops", false)]
        .into_iter()
        .map(|(member, batch)| {
            submitter(
                &m,
                server.url.clone(),
                member,
                format!("drop {member}"),
                batch,
                stop.clone(),
                acked.clone(),
            )
        })
        .collect();
    let mut rng = rand::thread_rng();
    let mut dropped = 0;
    for _ in 0..3 {
        let seen = acked.lock().unwrap().len();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while acked.lock().unwrap().len() <= seen && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(200..700)));
        dropped += truce_store_postgres::testing::drop_connections(&url, &db.name);
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    assert!(dropped >= 3, "connections ended: {dropped}");
    // New entries are taken again, without a restart (within a few attempts: the first may
    // meet a connection found broken).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    loop {
        n += 1;
        let env = sign_report(&m, "sy.ops", &format!("after the drops {n}"));
        if server.post("/v1/entries", &env.to_leaf()).0 == 201 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server does not take entries again"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let size = server.tree_size();
    let leaves = server.leaves(size);
    let acked = acked.lock().unwrap();
    let lost = lost(&acked, &leaves);
    println!(
        "connection drops (postgres): {dropped} connections ended 3 times under 3 submitters; {} acknowledged entries, {lost} lost or changed; final log {size} entries",
        acked.len()
    );
    assert!(!acked.is_empty());
    assert_eq!(lost, 0);
    let out = run(
        server
            .truce()
            .args(["--json", "verify", "server", &server.url, "--vkey", &m.vkey]),
        true,
    );
    assert_eq!(stdout_json(&out)["entries_verified"].as_u64(), Some(size));
}

/// Three `truce serve` on one PostgreSQL database (three copies of the data directory: the
/// same log key), concurrent submissions to all three, and one of them killed with SIGKILL
/// and restarted, three times. Each server commits under the database's constraints (an
/// entry index and a checkpoint size are taken once) and follows the others' commits.
/// Afterwards: no acknowledged entry is lost, one checkpoint per size, every checkpoint any
/// server issued is consistent with the final log, every server serves the same log and
/// state, and `truce verify server` passes against each.
#[test]
fn three_servers_on_one_postgresql_database_keep_one_log() {
    let Some(url) = truce_store_postgres::testing::server() else {
        return;
    };
    let db = truce_store_postgres::testing::TempDatabase::new(&url);
    let m = Mechanism::golan_on_postgres(&db.url);
    let mut servers: Vec<Server> = server_copies(&m, 3)
        .iter()
        .map(|d| Server::start(d))
        .collect();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut rng = rand::thread_rng();
    for round in 0..3 {
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = [("sy.ops", false), ("il.ops", true), ("undof.ops", false)]
            .into_iter()
            .enumerate()
            .map(|(i, (member, batch))| {
                submitter(
                    &m,
                    servers[i].url.clone(),
                    member,
                    format!("three servers round {round} {member}"),
                    batch,
                    stop.clone(),
                    acked.clone(),
                )
            })
            .collect();
        let seen = acked.lock().unwrap().len();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while acked.lock().unwrap().len() <= seen + 50 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(200..800)));
        let victim = round % 3;
        let data = servers.remove(victim).kill9();
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        servers.insert(victim, Server::start(&data));
    }
    // Every server follows the database's log: the same checkpoint everywhere, soon.
    let final_cp = converged(&servers, &m.vkey);
    let acked = acked.lock().unwrap();
    let lost = lost(&acked, &servers[0].leaves(final_cp.size));
    let mut issued: Vec<String> = acked.iter().map(|a| a.checkpoint.clone()).collect();
    issued.sort();
    issued.dedup();
    let mut sizes = std::collections::BTreeMap::new();
    for note in &issued {
        let old = verify_checkpoint(note.as_bytes(), &m.vkey).unwrap();
        assert!(
            sizes
                .insert(old.size, old.root)
                .is_none_or(|r| r == old.root),
            "two checkpoints of size {} differ",
            old.size
        );
        let c = servers[1].get_json(&format!(
            "/v1/proofs/consistency?from={}&to={}",
            old.size, final_cp.size
        ));
        let proof: Vec<_> = c["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| parse_hash_b64(h.as_str().unwrap()).unwrap())
            .collect();
        verify_consistency(&proof, final_cp.size, final_cp.root, old.size, old.root)
            .unwrap_or_else(|e| {
                panic!(
                    "checkpoint {} inconsistent with the final log: {e}",
                    old.size
                )
            });
    }
    println!(
        "three servers (postgres): 3 SIGKILLs under 3 submitters to 3 servers; {} acknowledged entries, {lost} lost or changed; {} issued checkpoints, one per size, consistent with the final log of {} entries",
        acked.len(),
        issued.len(),
        final_cp.size
    );
    assert!(
        acked.len() > 30,
        "only {} entries acknowledged",
        acked.len()
    );
    assert_eq!(lost, 0);
    let commitments: Vec<serde_json::Value> =
        servers.iter().map(|s| s.settled_commitment()).collect();
    assert!(
        commitments
            .iter()
            .all(|c| c["state_hash"] == commitments[0]["state_hash"])
    );
    for s in &servers {
        let out = run(
            s.truce()
                .args(["--json", "verify", "server", &s.url, "--vkey", &m.vkey]),
            true,
        );
        assert_eq!(
            stdout_json(&out)["entries_verified"].as_u64(),
            Some(final_cp.size)
        );
    }
}

/// Waits (bounded) until every server serves the same checkpoint, and returns it verified.
fn converged(servers: &[Server], vkey: &str) -> truce_log::checkpoint::VerifiedCheckpoint {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let notes: Vec<Vec<u8>> = servers.iter().map(|s| s.get("/log/checkpoint").1).collect();
        if notes.iter().all(|n| n == &notes[0]) {
            return verify_checkpoint(&notes[0], vkey).unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the servers do not converge"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How many acknowledged entries are not in `leaves` (the log) as they were acknowledged.
fn lost(acked: &[Acked], leaves: &[Vec<u8>]) -> usize {
    acked
        .iter()
        .filter(|a| leaves.get(a.index as usize) != Some(&a.leaf))
        .count()
}

/// `n` copies of `m`'s data directory (the same log key and database), as `n` machines
/// running a server of the mechanism have.
fn server_copies(m: &Mechanism, n: usize) -> Vec<std::path::PathBuf> {
    (0..n)
        .map(|i| {
            let d = m.tmp.path().join(format!("server{i}"));
            let ok = std::process::Command::new("cp")
                .arg("-r")
                .arg(&m.data)
                .arg(&d)
                .status()
                .unwrap()
                .success();
            assert!(ok, "cp -r {}", m.data.display());
            d
        })
        .collect()
}

/// Fencing: one of two servers on one PostgreSQL database is paused (SIGSTOP) for longer
/// than PostgreSQL lets a session sit in a transaction, under submissions to both, then
/// resumed. The other keeps logging meanwhile; the paused one, whatever it was doing, cannot
/// append what it sequenced before the pause on top of the other's commits: afterwards it
/// follows the log, no acknowledged entry is lost, one checkpoint per size, and the log
/// verifies from both.
#[test]
fn a_paused_server_cannot_append_after_another_took_over() {
    let Some(url) = truce_store_postgres::testing::server() else {
        return;
    };
    let db = truce_store_postgres::testing::TempDatabase::new(&url);
    let m = Mechanism::golan_on_postgres(&db.url);
    let servers: Vec<Server> = server_copies(&m, 2)
        .iter()
        .map(|d| Server::start(d))
        .collect();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = [("sy.ops", true), ("il.ops", false)]
        .into_iter()
        .enumerate()
        .map(|(i, (member, batch))| {
            submitter(
                &m,
                servers[i].url.clone(),
                member,
                format!("fencing {member}"),
                batch,
                stop.clone(),
                acked.clone(),
            )
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 50 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let paused = servers[0].child.id().to_string();
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &paused])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {paused}");
    };
    signal("-STOP");
    let before = acked.lock().unwrap().len();
    std::thread::sleep(Duration::from_secs(13));
    let during = acked.lock().unwrap().len() - before;
    signal("-CONT");
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    assert!(
        during > 0,
        "the other server logged nothing while one was paused"
    );
    let final_cp = converged(&servers, &m.vkey);
    let acked = acked.lock().unwrap();
    let lost = lost(&acked, &servers[0].leaves(final_cp.size));
    let mut sizes = std::collections::BTreeMap::new();
    for a in acked.iter() {
        let cp = verify_checkpoint(a.checkpoint.as_bytes(), &m.vkey).unwrap();
        assert!(
            sizes.insert(cp.size, cp.root).is_none_or(|r| r == cp.root),
            "two checkpoints of size {} differ",
            cp.size
        );
    }
    println!(
        "fencing (postgres): one of two servers paused 13 s; {during} entries acknowledged by the other meanwhile; {} acknowledged in all, {lost} lost or changed; final log {} entries",
        acked.len(),
        final_cp.size
    );
    assert_eq!(lost, 0);
    for s in &servers {
        let out = run(
            s.truce()
                .args(["--json", "verify", "server", &s.url, "--vkey", &m.vkey]),
            true,
        );
        assert_eq!(
            stdout_json(&out)["entries_verified"].as_u64(),
            Some(final_cp.size)
        );
    }
}

fn crash_rounds(m: &Mechanism, store: &str) {
    let rounds: usize = std::env::var("TRUCE_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut server = m.serve();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut rng = rand::thread_rng();
    let mut checked = 0usize;
    let mut checkpoints_checked = 0usize;
    let mut last_seen: Option<String> = None;
    for round in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = [
            ("sy.ops", false),
            ("il.ops", false),
            ("undof.ops", true),
            ("us.ops", false),
        ]
        .into_iter()
        .map(|(member, batch)| {
            submitter(
                m,
                server.url.clone(),
                member,
                format!("round {round} {member}"),
                batch,
                stop.clone(),
                acked.clone(),
            )
        })
        .collect();
        // The kill comes at a random moment after the first acknowledgement of the round (on
        // a loaded machine the submitters may need longer than the random delay to get one).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while acked.lock().unwrap().len() <= checked && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(300..1200)));
        let data = server.kill9();
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        server = Server::start(&data);

        let acked = acked.lock().unwrap();
        assert!(
            acked.len() > checked,
            "round {round}: nothing was acknowledged before the kill"
        );
        let (_, note) = server.get("/log/checkpoint");
        let now_cp = verify_checkpoint(&note, &m.vkey).unwrap();
        // This round's acknowledged entries: present, unchanged.
        for a in &acked[checked..] {
            assert!(
                a.index < now_cp.size,
                "acknowledged entry {} lost (log size {})",
                a.index,
                now_cp.size
            );
            let e = server.get_json(&format!("/v1/entries/{}", a.index));
            assert_eq!(
                e["leaf_hash"].as_str().unwrap(),
                leaf_hash(&a.leaf).to_string(),
                "entry {} changed",
                a.index
            );
        }
        // Every checkpoint issued this round (and the last one seen before) is consistent
        // with the log after the restart.
        let mut seen: Vec<_> = acked[checked..]
            .iter()
            .map(|a| a.checkpoint.clone())
            .chain(last_seen.clone())
            .collect();
        seen.sort();
        seen.dedup();
        checked = acked.len();
        for note in &seen {
            let old = verify_checkpoint(note.as_bytes(), &m.vkey).unwrap();
            let c = server.get_json(&format!(
                "/v1/proofs/consistency?from={}&to={}",
                old.size, now_cp.size
            ));
            let proof: Vec<_> = c["proof"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| parse_hash_b64(h.as_str().unwrap()).unwrap())
                .collect();
            verify_consistency(&proof, now_cp.size, now_cp.root, old.size, old.root)
                .unwrap_or_else(|e| {
                    panic!(
                        "checkpoint {} inconsistent with the log after restart: {e}",
                        old.size
                    )
                });
        }
        checkpoints_checked += seen.len();
        last_seen = Some(String::from_utf8(note).unwrap());
        eprintln!(
            "round {round}: {} acknowledged entries present after SIGKILL; log size {}",
            acked.len(),
            now_cp.size
        );
    }
    // All acknowledged entries of every round, against the log as it is at the end.
    let size = server.tree_size();
    let leaves = server.leaves(size);
    let acked = acked.lock().unwrap();
    let lost = lost(&acked, &leaves);
    println!(
        "crash ({store}): {rounds} SIGKILLs under 4 concurrent submitters; {} acknowledged entries, {lost} lost or changed; {checkpoints_checked} issued checkpoints consistent with the log after restart; final log {size} entries",
        acked.len()
    );
    assert_eq!(lost, 0);
    let out = run(
        server
            .truce()
            .args(["--json", "verify", "server", &server.url, "--vkey", &m.vkey]),
        true,
    );
    assert_eq!(stdout_json(&out)["entries_verified"].as_u64(), Some(size));
}
