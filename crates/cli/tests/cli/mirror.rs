//! `truce mirror`, as processes on loopback: a log server, three witnesses (SY's runs inside
//! SY's mirror), and the mirror; the mirror serves the same bytes, refuses writes, survives
//! kill -9 without downloading again, keeps serving reads and proofs when the log's server is
//! down, and catches a log that rewrote its history.

use crate::util::*;
use crate::witness::{WITNESSES, WitnessProc, Witnessed, size_of, wait_for};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::Duration;
use truce_log::cosignature::{CosignatureVerifier, cosignatures_in};

/// A `truce mirror` process serving its copy; killed (SIGKILL) on drop.
struct MirrorProc {
    child: Child,
    url: String,
    /// A read token made in the mirror's own directory.
    token: String,
}

impl MirrorProc {
    /// Starts `truce mirror` on `dir` (already made), following with `upstream_token`.
    fn start(dir: &Path, upstream_token: &str, token: &str, extra: &[&str]) -> Self {
        let mut child = truce()
            .args([
                "mirror",
                "--listen",
                "127.0.0.1:0",
                "--interval",
                "0.2",
                "--dir",
            ])
            .arg(dir)
            .args(extra)
            .env("TRUCE_TOKEN", upstream_token)
            .env("TRUCE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn truce mirror");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("listening on ") {
                    let url = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send(url);
                }
            }
        });
        let Ok(url) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mirror did not start within 60 s");
        };
        Self {
            child,
            url,
            token: token.to_owned(),
        }
    }

    fn get(&self, path: &str) -> (u16, Vec<u8>) {
        http(
            agent()
                .get(format!("{}{path}", self.url))
                .header("authorization", format!("Bearer {}", self.token))
                .call(),
        )
    }

    fn tree_size(&self) -> u64 {
        let (status, note) = self.get("/v1/checkpoints/latest?cosigned=any");
        assert_eq!(status, 200);
        size_of(&note)
    }
}

impl Drop for MirrorProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port free at the time of asking.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `truce --json mirror --once`: one round of following.
fn mirror_once(dir: &Path, from: Option<&str>, token: &str, want: bool) -> Output {
    let mut cmd = truce();
    cmd.args(["--json", "mirror", "--once", "--dir"])
        .arg(dir)
        .env("TRUCE_TOKEN", token)
        .env("TRUCE_LOG", "warn");
    if let Some(u) = from {
        cmd.args(["--from", u]);
    }
    run(&mut cmd, want)
}

#[test]
fn a_mirror_verifies_serves_the_same_bytes_and_outlives_the_logs_server() {
    let tmp = tempfile::tempdir().unwrap();
    let Witnessed {
        dirs,
        vkeys,
        data,
        log_vkey,
    } = Witnessed::init(tmp.path());
    // IL's and UNDOF's witnesses run on their own; SY's runs inside SY's mirror.
    let others: Vec<WitnessProc> = dirs[1..]
        .iter()
        .map(|d| WitnessProc::start(d, &[&log_vkey]))
        .collect();
    let sy_witness = format!("127.0.0.1:{}", free_port());
    let mut args = vec![
        "--rate-limit".to_owned(),
        "1000000".into(),
        "--rate-burst".into(),
        "1000000".into(),
        "--witness".into(),
        format!("{}=http://{sy_witness}", WITNESSES[0].1),
    ];
    for ((_, name), w) in WITNESSES[1..].iter().zip(&others) {
        args.push("--witness".into());
        args.push(format!("{name}={}", w.url));
    }
    let server = Server::start_with(&data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let m = Mechanism {
        tmp: tempfile::tempdir().unwrap(),
        data: data.clone(),
        vkey: log_vkey.clone(),
    };
    for i in 0..3 {
        let env = sign_report(&m, ["sy.ops", "il.ops"][i % 2], &format!("mirrored {i}"));
        assert_eq!(server.post("/v1/entries", &env.to_leaf()).0, 201);
    }
    let upstream_token = server.token().unwrap().to_owned();

    // The first round makes the mirror: the log's key is pinned with --vkey.
    let mdir = tmp.path().join("sy-mirror");
    let first = stdout_json(&mirror_once(
        &mdir,
        Some(&server.url),
        &upstream_token,
        true,
    ));
    let size = server.tree_size();
    assert_eq!(first["synced"]["size"], size, "{first}");
    assert_eq!(first["synced"]["stored"], size);
    // The mirror's own tokens, for its own readers.
    let mtoken = make_token(&mdir, "sy.ops", "read", "1d").unwrap();
    let mwrite = make_token(&mdir, "sy.ops", "write", "1d").unwrap();
    let mut mirror = MirrorProc::start(
        &mdir,
        &upstream_token,
        &mtoken,
        &[
            "--vkey",
            &log_vkey,
            "--witness-dir",
            dirs[0].to_str().unwrap(),
            "--witness-listen",
            &sy_witness,
        ],
    );
    let verifiers: Vec<CosignatureVerifier> = vkeys
        .iter()
        .map(|v| CosignatureVerifier::new(v).unwrap())
        .collect();

    // New entries flow to the mirror, with the quorum's cosignatures (SY's from the witness
    // in the mirror's own process).
    let env = sign_report(&m, "sy.ops", "after the mirror started");
    assert_eq!(server.post("/v1/entries", &env.to_leaf()).0, 201);
    let size = server.tree_size();
    let policy_note = wait_for(
        "the mirror's policy checkpoint at the log's size",
        90,
        || {
            let (status, note) = mirror.get("/log/checkpoint");
            (status == 200 && size_of(&note) == size).then_some(note)
        },
    );
    truce_log::checkpoint::verify_checkpoint(&policy_note, &log_vkey).unwrap();
    assert_eq!(
        cosignatures_in(&policy_note, &verifiers).unwrap().len(),
        3,
        "{}",
        String::from_utf8_lossy(&policy_note)
    );
    // Byte-identical tiles, entry bundles and checkpoints.
    for path in [
        format!("/log/tile/0/000.p/{size}"),
        format!("/log/tile/entries/000.p/{size}"),
        format!("/v1/checkpoints/{size}"),
        "/v1/checkpoints/0".to_owned(),
        format!("/v1/entries/{}", size - 1),
    ] {
        let (a, ours) = server.get(&path);
        let (b, theirs) = mirror.get(&path);
        assert_eq!((a, b), (200, 200), "{path}");
        assert_eq!(ours, theirs, "{path} differs on the mirror");
    }
    // The mirror refuses writes, naming itself; its mechanism says whose copy it is.
    let r = agent()
        .post(format!("{}/v1/entries", mirror.url))
        .header("authorization", format!("Bearer {mwrite}"))
        .header("content-type", "application/json")
        .send(env.to_leaf().as_slice());
    let mut r = r.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    let problem: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(problem["type"], "urn:truce:problem:read-only-mirror");
    let (_, mech) = mirror.get("/v1/mechanism");
    let mech: Value = serde_json::from_slice(&mech).unwrap();
    assert_eq!(mech["mirror_of"], server.url.as_str());
    assert_eq!(mech["verifier_key"], log_vkey.as_str());

    // The mirror adopts the log's state commitment only once its own replay matches it; an
    // audit of the mirror passes, end to end.
    server.settled_commitment();
    wait_for("the mirror's state commitment", 60, || {
        let (status, body) = mirror.get("/v1/state/commitment");
        (status == 200 && serde_json::from_slice::<Value>(&body).unwrap()["size"] == size)
            .then_some(())
    });
    let audit = stdout_json(&run(
        truce()
            .args(["--json", "audit", &mirror.url, "--vkey", &log_vkey])
            .env("TRUCE_TOKEN", &mtoken),
        true,
    ));
    assert_eq!(audit["anomalies"], json!([]), "{audit}");
    assert_eq!(audit["entries_verified"], size);
    assert_eq!(audit["commitment_size"], size);
    assert_eq!(
        audit["witnesses"]["cosigned_by"].as_array().unwrap().len(),
        3
    );

    // kill -9 of the mirror: it resumes from what it holds, downloading only what is new.
    drop(mirror);
    let env = sign_report(&m, "il.ops", "while the mirror was down");
    assert_eq!(server.post("/v1/entries", &env.to_leaf()).0, 201);
    let again = stdout_json(&mirror_once(&mdir, None, &upstream_token, true));
    assert_eq!(again["synced"]["stored"], 1, "{again}");
    let size = server.tree_size();
    assert_eq!(again["synced"]["size"], size);
    mirror = MirrorProc::start(
        &mdir,
        &upstream_token,
        &mtoken,
        &[
            "--witness-dir",
            dirs[0].to_str().unwrap(),
            "--witness-listen",
            &sy_witness,
        ],
    );
    wait_for(
        "the quorum for the newest checkpoint on the mirror",
        90,
        || {
            let (status, note) = mirror.get("/log/checkpoint");
            (status == 200 && size_of(&note) == size).then_some(())
        },
    );

    // The mediator's server goes down: the mirror keeps serving reads, proofs and
    // verifications.
    server.kill9();
    let index = size - 1;
    let (status, proof) = mirror.get(&format!("/v1/entries/{index}/tlog-proof"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&proof));
    let proof_file = m.tmp.path().join("entry.tlog-proof");
    std::fs::write(&proof_file, &proof).unwrap();
    let entry_file = m.tmp.path().join("entry.json");
    std::fs::write(&entry_file, env.to_leaf()).unwrap();
    let policy = write_json(m.tmp.path(), "policy.json", &mech["agreement"]["witnesses"]);
    let ok = stdout_json(&run(
        truce()
            .args(["--json", "verify", "proof"])
            .arg(&proof_file)
            .arg("--entry")
            .arg(&entry_file)
            .args(["--vkey", &log_vkey, "--witness-policy"])
            .arg(&policy),
        true,
    ));
    assert_eq!(ok["index"], index);
    assert_eq!(ok["witnesses"]["cosigned_by"].as_array().unwrap().len(), 3);
    let verified = stdout_json(&run(
        truce()
            .args([
                "--json",
                "verify",
                "server",
                &mirror.url,
                "--vkey",
                &log_vkey,
            ])
            .env("TRUCE_TOKEN", &mtoken),
        true,
    ));
    assert_eq!(verified["tree_size"], size, "{verified}");
    assert_eq!(mirror.tree_size(), size);
    let (status, events) = mirror.get("/v1/events");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&events));
    drop(others);
}

#[test]
fn a_mirror_catches_a_log_that_rewrote_its_history_and_prints_both_checkpoints() {
    let m = Mechanism::golan();
    let server = m.serve();
    let data = server.stop();
    // The operator keeps a copy of the log as it stood, to rewrite history from it later.
    let rewritten = m.tmp.path().join("rewritten");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&data)
        .arg(&rewritten)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_file(rewritten.join("truce.lock")).ok();

    let server = Server::start(&data);
    let env = sign_report(&m, "sy.ops", "the history SY's mirror saw");
    assert_eq!(server.post("/v1/entries", &env.to_leaf()).0, 201);
    let size = server.tree_size();
    let mdir = m.tmp.path().join("sy-mirror");
    let token = server.token().unwrap().to_owned();
    let first = stdout_json(&mirror_once(&mdir, Some(&server.url), &token, true));
    assert_eq!(first["synced"]["size"], size);
    drop(server);

    // The same log (same key), another history of the same size, at another URL.
    let forked = Server::start(&rewritten);
    let env = sign_report(&m, "il.ops", "the history shown to others");
    assert_eq!(forked.post("/v1/entries", &env.to_leaf()).0, 201);
    assert_eq!(forked.tree_size(), size);
    let out = mirror_once(&mdir, Some(&forked.url), forked.token().unwrap(), false);
    assert_eq!(out.status.code(), Some(3));
    let report = stdout_json(&out);
    assert_eq!(report["event"], "equivocation");
    let fork = &report["fork"];
    let held = fork["held"].as_str().unwrap();
    let served = fork["served"].as_str().unwrap();
    for note in [held, served] {
        truce_log::checkpoint::verify_checkpoint(note.as_bytes(), &m.vkey).unwrap();
        assert_eq!(size_of(note.as_bytes()), size);
    }
    assert_ne!(held, served);
    let evidence = std::fs::read_to_string(fork["evidence"].as_str().unwrap()).unwrap();
    assert!(
        evidence.contains(held) && evidence.contains(served),
        "{evidence}"
    );
    // The mirror stored nothing of the other history: it still holds what it verified.
    let again = mirror_once(&mdir, None, forked.token().unwrap(), false);
    assert_eq!(again.status.code(), Some(3));
    let text = run(
        truce()
            .args(["mirror", "--once", "--dir"])
            .arg(&mdir)
            .env("TRUCE_TOKEN", forked.token().unwrap()),
        false,
    );
    let stderr = String::from_utf8_lossy(&text.stderr);
    assert!(
        stderr.contains("EQUIVOCATION")
            && stderr.contains(held.trim_end())
            && stderr.contains(served.trim_end()),
        "{stderr}"
    );
}

#[test]
fn a_mirror_refuses_what_it_cannot_trust_with_a_clear_error() {
    let m = Mechanism::golan();
    let server = m.serve();
    let token = server.token().unwrap().to_owned();
    let tmp = m.tmp.path();
    // Not a mirror yet, and no --from.
    let out = mirror_once(&tmp.join("none"), None, &token, false);
    let p = stdout_json(&out);
    assert!(p["detail"].as_str().unwrap().contains("--from"), "{p}");
    // A pinned key that is not the log's: nothing is made.
    let other = tmp.join("other");
    let mut cmd = truce();
    cmd.args(["--json", "mirror", "--once", "--from", &server.url, "--dir"])
        .arg(&other)
        .args([
            "--vkey",
            "other.example+01020304+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
        ])
        .env("TRUCE_TOKEN", &token);
    let out = run(&mut cmd, false);
    assert_eq!(out.status.code(), Some(3));
    assert!(!other.join("truce.json").exists());
    // A log's own data directory is not a mirror; `truce serve` refuses a mirror's.
    let out = mirror_once(&m.data, None, &token, false);
    let p = stdout_json(&out);
    assert!(
        p["detail"].as_str().unwrap().contains("not a mirror"),
        "{p}"
    );
    let mdir = tmp.join("mirror");
    mirror_once(&mdir, Some(&server.url), &token, true);
    let out = run(
        truce()
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(&mdir),
        false,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("truce mirror --dir"), "{stderr}");
    // Bad flags.
    for (flag, value, want) in [
        ("--interval", "0", "between 0.05 and 3600"),
        ("--interval", "soon", "not a number"),
    ] {
        let out = run(
            truce()
                .args(["mirror", "--dir"])
                .arg(&mdir)
                .args([flag, value]),
            false,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{flag} {value}: {stderr}");
    }
}
