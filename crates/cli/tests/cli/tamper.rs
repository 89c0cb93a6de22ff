//! Tamper detection: random changes to the rows of a stopped server's SQLite database (bytes
//! flipped, rows deleted, reordered, duplicated, columns edited) must all be found by
//! `truce verify data`, which must name the entries concerned.
//!
//! `TRUCE_TAMPER_TRIALS=N` sets the number of random trials (default 20); the test prints the
//! detection figures. Full mode (docs/auditing.md):
//! `TRUCE_TAMPER_TRIALS=1000 cargo test -p truce --test cli tamper -- --nocapture`

use crate::util::*;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, params};
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn leaf(c: &Connection, i: i64) -> (Vec<u8>, Vec<u8>, String, String) {
    c.query_row(
        "SELECT leaf, leaf_hash, kind, author FROM entries WHERE idx = ?1",
        [i],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap()
}

fn flip(bytes: &mut [u8], rng: &mut impl Rng) {
    let at = rng.gen_range(0..bytes.len());
    bytes[at] ^= 1 << rng.gen_range(0..8);
}

/// Applies one random change; returns what it did and the entries it touched.
fn tamper(db: &Path, size: i64, rng: &mut impl Rng) -> (String, Vec<u64>) {
    let c = Connection::open(db).unwrap();
    let i = rng.gen_range(0..size);
    let mut j = rng.gen_range(0..size - 1);
    if j >= i {
        j += 1;
    }
    let set = |col: &str, i: i64, v: &dyn rusqlite::ToSql| {
        c.execute(
            &format!("UPDATE entries SET {col} = ?1 WHERE idx = ?2"),
            params![v, i],
        )
        .unwrap();
    };
    match rng.gen_range(0..10) {
        0 => {
            let (mut l, ..) = leaf(&c, i);
            flip(&mut l, rng);
            set("leaf", i, &l);
            (format!("flipped a bit of entry {i}'s leaf"), vec![i as u64])
        }
        1 => {
            let (_, mut h, ..) = leaf(&c, i);
            flip(&mut h, rng);
            set("leaf_hash", i, &h);
            (
                format!("flipped a bit of entry {i}'s leaf hash"),
                vec![i as u64],
            )
        }
        2 => {
            c.execute("DELETE FROM entries WHERE idx = ?1", [i])
                .unwrap();
            (format!("deleted entry {i}"), vec![i as u64])
        }
        3 => {
            let (li, ..) = leaf(&c, i);
            let (lj, ..) = leaf(&c, j);
            set("leaf", i, &lj);
            set("leaf", j, &li);
            (
                format!("swapped the leaves of entries {i} and {j}"),
                vec![i as u64, j as u64],
            )
        }
        4 => {
            let (li, hi, ki, ai) = leaf(&c, i);
            let (lj, hj, kj, aj) = leaf(&c, j);
            for (idx, l, h, k, a) in [(i, lj, hj, kj, aj), (j, li, hi, ki, ai)] {
                c.execute(
                    "UPDATE entries SET leaf = ?1, leaf_hash = ?2, kind = ?3, author = ?4 WHERE idx = ?5",
                    params![l, h, k, a, idx],
                )
                .unwrap();
            }
            (
                format!("swapped the rows of entries {i} and {j}"),
                vec![i as u64, j as u64],
            )
        }
        5 => {
            let (.., author) = leaf(&c, i);
            set("author", i, &format!("{author}x"));
            (format!("edited entry {i}'s author column"), vec![i as u64])
        }
        6 => {
            let (first, mut run): (i64, Vec<u8>) = c
                .query_row(
                    "SELECT first, hashes FROM hash_runs ORDER BY random() LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            flip(&mut run, rng);
            c.execute(
                "UPDATE hash_runs SET hashes = ?1 WHERE first = ?2",
                params![run, first],
            )
            .unwrap();
            (format!("flipped a bit of the hash run at {first}"), vec![])
        }
        7 => {
            let (size, mut note): (i64, Vec<u8>) = c
                .query_row(
                    "SELECT size, note FROM checkpoints ORDER BY random() LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            flip(&mut note, rng);
            c.execute(
                "UPDATE checkpoints SET note = ?1 WHERE size = ?2",
                params![note, size],
            )
            .unwrap();
            (
                format!("flipped a bit of the checkpoint of size {size}"),
                vec![],
            )
        }
        8 => {
            c.execute("DELETE FROM entries WHERE idx = ?1", [size - 1])
                .unwrap();
            ("deleted the last entry".into(), vec![(size - 1) as u64])
        }
        _ => {
            let (lj, hj, kj, aj) = leaf(&c, j);
            c.execute(
                "UPDATE entries SET leaf = ?1, leaf_hash = ?2, kind = ?3, author = ?4 WHERE idx = ?5",
                params![lj, hj, kj, aj, i],
            )
            .unwrap();
            (
                format!("replaced entry {i} by a copy of entry {j}"),
                vec![i as u64],
            )
        }
    }
}

#[test]
fn verify_data_finds_every_change_to_the_stored_log_and_names_the_entries() {
    let m = Mechanism::golan();
    let s = m.serve();
    for (n, member) in ["sy.ops", "il.ops", "undof.ops"]
        .iter()
        .cycle()
        .take(24)
        .enumerate()
    {
        let (status, r) = s.post(
            "/v1/entries",
            &sign_report(&m, member, &format!("tamper {n}")).to_leaf(),
        );
        assert_eq!(status, 201, "{r}");
    }
    let batch: Vec<_> = (0..16)
        .map(|n| {
            serde_json::from_slice::<serde_json::Value>(
                &sign_report(&m, "sy.ops", &format!("tamper batch {n}")).to_leaf(),
            )
            .unwrap()
        })
        .collect();
    assert_eq!(
        s.post("/v1/entries/batch", &serde_json::to_vec(&batch).unwrap())
            .0,
        200
    );
    // On a live server taking entries meanwhile, the check reads one snapshot: all is well.
    let writer = {
        let (url, key) = (s.url.clone(), m.key("il.ops"));
        std::thread::spawn(move || {
            for n in 0..20 {
                let env = sign_with(
                    &key,
                    ORIGIN,
                    "report",
                    "il.ops",
                    &now(),
                    &report(&format!("live {n}")),
                );
                let (status, _) = http(
                    agent()
                        .post(format!("{url}/v1/entries"))
                        .header("content-type", "application/json")
                        .send(&env.to_leaf()[..]),
                );
                assert_eq!(status, 201);
            }
        })
    };
    for _ in 0..3 {
        let out = truce()
            .args(["--json", "verify", "data"])
            .arg(&m.data)
            .args(["--vkey", &m.vkey])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    writer.join().unwrap();
    let size = s.tree_size() as i64;
    let data = s.stop();
    let verify = |dir: &Path| {
        let out = truce()
            .args(["--json", "verify", "data"])
            .arg(dir)
            .args(["--vkey", &m.vkey])
            .output()
            .unwrap();
        (out.status.code(), stdout_json(&out))
    };
    let (code, pristine) = verify(&data);
    assert_eq!(code, Some(0), "the untouched database verifies: {pristine}");
    assert_eq!(pristine["entries"].as_i64(), Some(size));

    let trials: u64 = std::env::var("TRUCE_TAMPER_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("TRUCE_TAMPER_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut detected, mut to_name, mut named) = (0u64, 0u64, 0u64);
    let mut misses = Vec::new();
    for t in 0..trials {
        let copy = m.tmp.path().join(format!("trial-{t}"));
        copy_dir(&data, &copy);
        let (what, touched) = tamper(&copy.join("truce.db"), size, &mut rng);
        let (code, report) = verify(&copy);
        let bad: Vec<u64> = report["bad_entries"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_u64()).collect())
            .unwrap_or_default();
        if code == Some(3) {
            detected += 1;
        } else {
            misses.push(format!(
                "trial {t}: {what}: not detected (exit {code:?}) {report}"
            ));
        }
        if !touched.is_empty() {
            to_name += 1;
            if touched.iter().all(|e| bad.contains(e)) {
                named += 1;
            } else {
                misses.push(format!("trial {t}: {what}: named {bad:?}"));
            }
        }
        std::fs::remove_dir_all(&copy).unwrap();
    }
    println!(
        "tamper: {trials} random changes (seed {seed}) to a log of {size} entries: detected {detected} ({:.1}%), the changed entries named in {named} of {to_name}",
        100.0 * detected as f64 / trials as f64
    );
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}
