//! Witnesses, as processes on loopback: a log server whose agreement names three witnesses
//! (SY's, IL's and UNDOF's) and a policy that needs all three (SY, IL and one more); the
//! server gathers their cosignatures; a fork signed with the log's own key is refused and kept
//! as evidence; a witness killed mid-request never cosigns two inconsistent checkpoints.

use crate::util::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use truce_log::cosignature::{CosignatureVerifier, cosignatures_in};
use truce_log::witness::AddCheckpoint;

/// A `truce witness serve` process; killed on drop.
pub(crate) struct WitnessProc {
    child: Child,
    pub(crate) url: String,
}

impl WitnessProc {
    pub(crate) fn start(dir: &Path, logs: &[&str]) -> Self {
        let mut cmd = truce();
        cmd.args(["witness", "serve", "--listen", "127.0.0.1:0", "--dir"])
            .arg(dir);
        for l in logs {
            cmd.args(["--log", l]);
        }
        let mut child = cmd
            .env("TRUCE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn truce witness serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            panic!("witness did not start: {line:?}");
        };
        Self {
            url: url.to_owned(),
            child,
        }
    }

    fn post(&self, body: &[u8]) -> (u16, String, String) {
        let mut r = agent()
            .post(format!("{}/add-checkpoint", self.url))
            .send(body)
            .expect("POST add-checkpoint");
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            r.status().as_u16(),
            ct,
            r.body_mut().read_to_string().unwrap(),
        )
    }
}

impl Drop for WitnessProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn witness_init(dir: &Path, name: &str) -> String {
    let out = run(
        truce()
            .args(["--json", "witness", "init", "--name", name, "--dir"])
            .arg(dir),
        true,
    );
    stdout_json(&out)["verifier_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) const WITNESSES: [(&str, &str); 3] = [
    ("SY", "sy.example/witness"),
    ("IL", "il.example/witness"),
    ("UNDOF", "undof.example/witness"),
];

/// The Golan scenario with a witnesses block: returns the scenario directory.
fn scenario_with_witnesses(tmp: &Path, vkeys: &[String]) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/golan-1974");
    let dir = tmp.join("scenario");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["zones.geojson", "places.geojson"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let mut agreement: Value =
        serde_json::from_slice(&std::fs::read(src.join("agreement.json")).unwrap()).unwrap();
    agreement["witnesses"] = json!({
        "list": WITNESSES.iter().zip(vkeys).map(|((party, _), vkey)| json!({"verifier_key": vkey, "party": party})).collect::<Vec<_>>(),
        "policy": {"required": ["sy.example/witness", "il.example/witness"], "quorum": 3, "max_age_seconds": 600},
    });
    write_json(&dir, "agreement.json", &agreement);
    dir
}

pub(crate) fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn size_of(note: &[u8]) -> u64 {
    String::from_utf8_lossy(note)
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap()
}

/// A mechanism made from the Golan scenario with the three witnesses of [`WITNESSES`], each
/// with its own directory under the test's temporary directory.
pub(crate) struct Witnessed {
    pub(crate) dirs: Vec<PathBuf>,
    pub(crate) vkeys: Vec<String>,
    pub(crate) data: PathBuf,
    pub(crate) log_vkey: String,
}

impl Witnessed {
    pub(crate) fn init(tmp: &Path) -> Self {
        let dirs: Vec<PathBuf> = WITNESSES
            .iter()
            .map(|(p, _)| tmp.join(format!("w-{p}")))
            .collect();
        let vkeys: Vec<String> = WITNESSES
            .iter()
            .zip(&dirs)
            .map(|((_, name), d)| witness_init(d, name))
            .collect();
        let scenario = scenario_with_witnesses(tmp, &vkeys);
        let data = tmp.join("m");
        let out = run(
            truce()
                .args(["--json", "init"])
                .arg(&data)
                .arg("--scenario-dir")
                .arg(&scenario),
            true,
        );
        let log_vkey = stdout_json(&out)["verifier_key"]
            .as_str()
            .unwrap()
            .to_owned();
        Self {
            dirs,
            vkeys,
            data,
            log_vkey,
        }
    }
}

#[test]
fn checkpoints_carry_the_policy_quorum_of_witness_cosignatures_and_a_fork_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let Witnessed {
        dirs,
        vkeys,
        data,
        log_vkey,
    } = Witnessed::init(tmp.path());
    let mut witnesses: Vec<Option<WitnessProc>> = dirs
        .iter()
        .map(|d| Some(WitnessProc::start(d, &[&log_vkey])))
        .collect();
    let mut args = vec![
        "--rate-limit".to_owned(),
        "1000000".into(),
        "--rate-burst".into(),
        "1000000".into(),
    ];
    for ((_, name), w) in WITNESSES.iter().zip(&witnesses) {
        args.push("--witness".into());
        args.push(format!("{name}={}", w.as_ref().unwrap().url));
    }
    let server = Server::start_with(&data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let verifiers: Vec<CosignatureVerifier> = vkeys
        .iter()
        .map(|v| CosignatureVerifier::new(v).unwrap())
        .collect();

    // The tlog-tiles checkpoint appears once all three have cosigned the newest one.
    let size = server.tree_size();
    let note = wait_for("a checkpoint with the quorum", 60, || {
        let (status, note) = server.get("/log/checkpoint");
        (status == 200 && size_of(&note) == size).then_some(note)
    });
    truce_log::checkpoint::verify_checkpoint(&note, &log_vkey).unwrap();
    let found = cosignatures_in(&note, &verifiers).unwrap();
    assert_eq!(found.len(), 3, "{}", String::from_utf8_lossy(&note));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(found.iter().all(|c| c.timestamp.abs_diff(now) < 120));

    // New entries: the cosigned checkpoint follows the log.
    let m = Mechanism {
        tmp: tempfile::tempdir().unwrap(),
        data: data.clone(),
        vkey: log_vkey.clone(),
    };
    let env = sign_report(&m, "sy.ops", "witnessed report");
    assert_eq!(server.post("/v1/entries", &env.to_leaf()).0, 201);
    let grown = server.tree_size();
    assert!(grown > size);
    wait_for("the cosigned checkpoint to follow the log", 60, || {
        let (status, note) = server.get("/log/checkpoint");
        (status == 200 && size_of(&note) == grown).then_some(())
    });
    let w = server.get_json("/v1/witnesses");
    assert_eq!(w["best"]["size"], grown);
    assert_eq!(w["best"]["fresh"], true);
    assert!(
        w["witnesses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["holds"] == grown && x["error"].is_null()),
        "{w}"
    );

    // An auditor trusts only the policy: `verify server` checks the cosignatures (and their
    // freshness) on the checkpoint; a tlog-proof carries them for `verify proof` offline.
    let out = run(
        server.truce().args([
            "--json",
            "verify",
            "server",
            &server.url,
            "--vkey",
            &log_vkey,
        ]),
        true,
    );
    let report = stdout_json(&out);
    assert_eq!(
        report["witnesses"]["cosigned_by"].as_array().unwrap().len(),
        3,
        "{report}"
    );
    assert_eq!(report["witnesses"]["freshness_checked"], true);
    let mechanism = server.get_json("/v1/mechanism");
    let policy = write_json(
        m.tmp.path(),
        "policy.json",
        &mechanism["agreement"]["witnesses"],
    );
    let entry_file = m.tmp.path().join("entry.json");
    std::fs::write(&entry_file, env.to_leaf()).unwrap();
    let index = grown - 1;
    let (status, proof) = server.get(&format!("/v1/entries/{index}/tlog-proof"));
    assert_eq!(status, 200);
    let proof_file = m.tmp.path().join("entry.tlog-proof");
    std::fs::write(&proof_file, &proof).unwrap();
    let verify_proof = |want: bool| {
        run(
            truce()
                .args(["--json", "verify", "proof"])
                .arg(&proof_file)
                .arg("--entry")
                .arg(&entry_file)
                .args(["--vkey", &log_vkey, "--witness-policy"])
                .arg(&policy),
            want,
        )
    };
    let ok = stdout_json(&verify_proof(true));
    assert_eq!(
        ok["witnesses"]["cosigned_by"].as_array().unwrap().len(),
        3,
        "{ok}"
    );

    // UNDOF's witness goes down: the quorum (SY, IL and one more) can no longer be met, so
    // the policy's checkpoint stays where it was, while `cosigned=any` shows the newest with
    // the two cosignatures it has.
    drop(witnesses[2].take());
    let env = sign_report(&m, "il.ops", "while a witness is down");
    assert_eq!(server.post("/v1/entries", &env.to_leaf()).0, 201);
    let newest = server.tree_size();
    let any = wait_for("two cosignatures on the newest checkpoint", 60, || {
        let (status, note) = server.get("/v1/checkpoints/latest?cosigned=any");
        let n = cosignatures_in(&note, &verifiers).unwrap_or_default().len();
        (status == 200 && size_of(&note) == newest && n == 2).then_some(note)
    });
    assert_eq!(size_of(&any), newest);
    let (_, policy) = server.get("/log/checkpoint");
    assert_eq!(
        size_of(&policy),
        grown,
        "the policy checkpoint must not move without the quorum"
    );
    let w = wait_for("the down witness reported", 30, || {
        let w = server.get_json("/v1/witnesses");
        w["witnesses"][2]["error"]
            .as_str()
            .is_some_and(|e| e.contains("unreachable"))
            .then_some(w)
    });
    assert_eq!(w["witnesses"][2]["name"], "undof.example/witness");
    assert_eq!(server.get("/v1/checkpoints/latest?cosigned=some").0, 400);
    // A tlog-proof for the newest entry has only the two cosignatures: `verify proof` with the
    // policy refuses it (exit 3) and names what is missing.
    let env3 = sign_report(&m, "sy.ops", "after the witness went down");
    assert_eq!(server.post("/v1/entries", &env3.to_leaf()).0, 201);
    let last = server.tree_size() - 1;
    wait_for("two cosignatures on the newest checkpoint", 60, || {
        let (_, note) = server.get("/v1/checkpoints/latest?cosigned=any");
        (size_of(&note) == last + 1
            && cosignatures_in(&note, &verifiers).unwrap_or_default().len() == 2)
            .then_some(())
    });
    std::fs::write(&entry_file, env3.to_leaf()).unwrap();
    let (_, proof) = server.get(&format!("/v1/entries/{last}/tlog-proof"));
    std::fs::write(&proof_file, &proof).unwrap();
    let refused = verify_proof(false);
    assert_eq!(refused.status.code(), Some(3));
    let problem = stdout_json(&refused);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("2 of the 3") && detail.contains("undof.example/witness"),
        "{detail}"
    );

    // A fork, signed with the log's own key: the same size as SY's witness holds, another
    // root. It is refused with 409 and kept, with the checkpoint it contradicts.
    let held = last + 1;
    let key =
        truce_log::LogKey::from_secret(&std::fs::read_to_string(data.join("log.key")).unwrap())
            .unwrap();
    let fork = key
        .sign(held, truce_log::merkle::sha256(b"another history"), "")
        .unwrap();
    let sy = witnesses[0].as_ref().unwrap();
    let (status, ct, _) = sy.post(
        &AddCheckpoint {
            old: held,
            proof: vec![],
            checkpoint: fork.note.clone(),
        }
        .to_bytes(),
    );
    assert_eq!((status, ct.as_str()), (409, "text/plain; charset=utf-8"));
    drop(witnesses);
    let ev = stdout_json(&run(
        truce()
            .args(["--json", "witness", "evidence", "--dir"])
            .arg(&dirs[0]),
        true,
    ));
    let ev = &ev["evidence"][0];
    assert_eq!(ev["conflict"], "same-size-other-root");
    assert_eq!(
        ev["refused"].as_str().unwrap().as_bytes(),
        fork.note.as_slice()
    );
    assert_eq!(size_of(ev["held"].as_str().unwrap().as_bytes()), held);
    let text = run(
        truce().args(["witness", "evidence", "--dir"]).arg(&dirs[0]),
        true,
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("-- held:") && text.contains("-- refused:"),
        "{text}"
    );
}

/// Two branches of one log: they agree on the first 4 leaves, then diverge.
fn branch(tag: u8) -> Vec<Vec<u8>> {
    (0..40u8)
        .map(|i| if i < 4 { vec![i] } else { vec![tag, i] })
        .collect()
}

/// An add-checkpoint body for the first `size` leaves, and the signed checkpoint in it.
fn request(key: &truce_log::LogKey, leaves: &[Vec<u8>], old: u64, size: u64) -> (Vec<u8>, Vec<u8>) {
    let mut t = truce_log::merkle::MemoryHashes::new();
    for l in &leaves[..size as usize] {
        t.append(truce_log::merkle::leaf_hash(l)).unwrap();
    }
    let note = key.sign(size, t.root(size).unwrap(), "").unwrap().note;
    let proof = if old == 0 || old == size {
        vec![]
    } else {
        t.prove_consistency(size, old).unwrap()
    };
    let body = AddCheckpoint {
        old,
        proof,
        checkpoint: note.clone(),
    }
    .to_bytes();
    (body, note)
}

#[test]
fn a_witness_killed_at_random_never_cosigns_two_inconsistent_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    let vkey = witness_init(&dir, "crash.example/witness");
    let verifier = CosignatureVerifier::new(&vkey).unwrap();
    let (key, secret) = truce_log::LogKey::generate("fork.example/log").unwrap();
    // Every cosignature the witness ever answered with: (branch, size).
    let mut cosigned: Vec<(char, u64)> = Vec::new();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    for _round in 0..12 {
        let w = WitnessProc::start(&dir, &[key.verifier_key()]);
        // A burst of requests from both branches, sent from a thread as a log would (old 0
        // first, then from the size a 409 gives); the witness is killed at a random moment.
        let sizes: Vec<(u8, u64)> = (0..6)
            .map(|_| (if next(2) == 0 { b'a' } else { b'b' }, 1 + next(39)))
            .collect();
        let (url, secret) = (w.url.clone(), secret.clone());
        let kill_after = Duration::from_millis(next(60));
        let sender = std::thread::spawn(move || {
            let key = truce_log::LogKey::from_secret(&secret).unwrap();
            let mut out = Vec::new();
            for (tag, size) in sizes {
                let leaves = branch(tag);
                let mut old = 0;
                for _ in 0..3 {
                    let (body, note) = request(&key, &leaves, old, size);
                    let Ok(mut r) = agent()
                        .post(format!("{url}/add-checkpoint"))
                        .send(&body[..])
                    else {
                        return out;
                    };
                    let status = r.status().as_u16();
                    let Ok(text) = r.body_mut().read_to_string() else {
                        return out;
                    };
                    match (status, text.trim().parse::<u64>()) {
                        (200, _) => {
                            out.push((tag, size, note, text));
                            break;
                        }
                        (409, Ok(held)) if held <= size => old = held,
                        _ => break,
                    }
                }
            }
            out
        });
        std::thread::sleep(kill_after);
        drop(w);
        for (tag, size, note, lines) in sender.join().unwrap() {
            let full = [note, lines.into_bytes()].concat();
            let found = cosignatures_in(&full, std::slice::from_ref(&verifier)).unwrap();
            assert_eq!(
                found.len(),
                1,
                "a 200 answer carries the witness's cosignature"
            );
            cosigned.push((tag as char, size));
        }
    }
    // Every pair of cosigned checkpoints is consistent: on one branch, or both within the
    // common prefix of 4 leaves.
    for &(b1, s1) in &cosigned {
        for &(b2, s2) in &cosigned {
            assert!(
                b1 == b2 || s1 <= 4 || s2 <= 4,
                "cosigned two inconsistent checkpoints: {b1}@{s1} and {b2}@{s2} (all: {cosigned:?})"
            );
        }
    }
    assert!(!cosigned.is_empty(), "no round got a cosignature");
}

/// `truce init --witnesses`: a witness for SY, IL and UNDOF in the data directory, named in
/// the agreement (every party's required, and one more); `truce serve` runs them on loopback
/// and is ready once the checkpoint has its quorum, also after a restart.
#[test]
fn a_mechanism_made_with_local_witnesses_serves_cosigned_checkpoints_from_the_start() {
    let m = Mechanism::golan_with_witnesses();
    let (data, vkey) = (m.data.clone(), m.vkey.clone());
    for party in ["sy", "il", "undof"] {
        assert!(
            data.join("witnesses")
                .join(party)
                .join("witness.key")
                .exists()
        );
    }
    for round in 0..2 {
        let server = m.serve();
        let mech = server.get_json("/v1/mechanism");
        let w = &mech["agreement"]["witnesses"];
        assert_eq!(w["policy"]["quorum"], 3, "{w}");
        assert_eq!(
            w["policy"]["required"],
            json!(["truce.example/witness-sy", "truce.example/witness-il"])
        );
        let verifiers: Vec<CosignatureVerifier> = w["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| CosignatureVerifier::new(d["verifier_key"].as_str().unwrap()).unwrap())
            .collect();
        // The first read after the server said it listens is already cosigned.
        let (status, note) = server.get("/log/checkpoint");
        assert_eq!(
            status,
            200,
            "round {round}: {}",
            String::from_utf8_lossy(&note)
        );
        assert_eq!(size_of(&note), server.tree_size());
        assert_eq!(cosignatures_in(&note, &verifiers).unwrap().len(), 3);
        let env = sign_report(&m, "sy.ops", &format!("round {round}"));
        assert_eq!(server.post("/v1/entries", &env.to_leaf()).0, 201);
        let size = server.tree_size();
        wait_for("the new checkpoint cosigned", 30, || {
            let (_, note) = server.get("/log/checkpoint");
            (size_of(&note) == size).then_some(())
        });
        let report = stdout_json(&run(
            server
                .truce()
                .args(["--json", "verify", "server", &server.url, "--vkey", &vkey]),
            true,
        ));
        assert_eq!(
            report["witnesses"]["cosigned_by"].as_array().unwrap().len(),
            3
        );
        server.stop();
    }
    // What each witness holds survived the restarts.
    let status = stdout_json(&run(
        truce()
            .args(["--json", "witness", "status", "--dir"])
            .arg(data.join("witnesses").join("undof")),
        true,
    ));
    assert_eq!(status["logs"][0]["size"], 6, "{status}");
}

/// A witness that holds another history of the log (here SY's, shown a fork signed with the
/// log's own key: the log's first entries and then others) makes the log's next checkpoint
/// impossible to cosign; the server says so on every party's hotline stream and in
/// `/v1/witnesses`.
#[test]
fn an_equivocation_a_witness_reveals_reaches_every_partys_stream() {
    use std::io::BufRead as _;
    let m = Mechanism::golan_with_witnesses();
    let data = m.data.clone();
    let server = m.serve();
    let n = server.tree_size();
    let w = server.get_json("/v1/witnesses");
    let sy_url = w["witnesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["party"] == "SY")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    // The fork: the log's n entries, then two that the log never held, signed with its key.
    let key =
        truce_log::LogKey::from_secret(&std::fs::read_to_string(data.join("log.key")).unwrap())
            .unwrap();
    let mut fork = truce_log::merkle::MemoryHashes::new();
    for l in server.leaves(n) {
        fork.append(truce_log::merkle::leaf_hash(&l)).unwrap();
    }
    for i in 0..2u8 {
        fork.append(truce_log::merkle::leaf_hash(&[b'x', i]))
            .unwrap();
    }
    let forged = key.sign(n + 2, fork.root(n + 2).unwrap(), "").unwrap();
    let body = AddCheckpoint {
        old: n,
        proof: fork.prove_consistency(n + 2, n).unwrap(),
        checkpoint: forged.note.clone(),
    }
    .to_bytes();
    let (status, _) = http(
        agent()
            .post(format!("{sy_url}/add-checkpoint"))
            .send(&body[..]),
    );
    assert_eq!(
        status, 200,
        "the witness cannot tell a consistent fork from the log"
    );

    // IL follows its hotline; the log grows; SY's witness now holds a tree the log's does not
    // extend, and IL hears of it.
    let il = m.token("il.ops", "read");
    let mut stream = agent()
        .get(format!("{}/v1/stream?party=IL", server.url))
        .header("authorization", format!("Bearer {il}"))
        .call()
        .unwrap();
    let lines = std::io::BufReader::new(stream.body_mut().as_reader());
    let env = sign_report(&m, "sy.ops", "after the fork");
    assert_eq!(server.post("/v1/entries", &env.to_leaf()).0, 201);
    let mut event = None;
    let mut lines = lines.lines();
    while let Some(Ok(line)) = lines.next() {
        if line == "event: equivocation" {
            event = lines.next().and_then(Result::ok);
            break;
        }
    }
    let data_line = event.unwrap_or_else(|| {
        panic!(
            "no equivocation message on IL's stream; /v1/witnesses: {}",
            server.get_json("/v1/witnesses")
        )
    });
    let e: Value = serde_json::from_str(data_line.strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(e["witness"], "truce.example/witness-sy", "{e}");
    assert!(
        e["detail"].as_str().unwrap().contains("another history"),
        "{e}"
    );
    let w = server.get_json("/v1/witnesses");
    assert_eq!(
        w["equivocations"][0]["witness"], "truce.example/witness-sy",
        "{w}"
    );
}

/// `truce audit`: a sound mechanism with witnesses passes every check; after two entries'
/// signatures are swapped in the database, it reports each bad entry by index, the root and
/// the state commitment, instead of stopping at the first.
#[test]
fn an_audit_reports_every_anomaly_with_its_index() {
    let m = Mechanism::golan_with_witnesses();
    let server = m.serve();
    for i in 0..4 {
        let env = sign_report(
            &m,
            if i % 2 == 0 { "sy.ops" } else { "il.ops" },
            &format!("audited {i}"),
        );
        assert_eq!(server.post("/v1/entries", &env.to_leaf()).0, 201);
    }
    let size = server.tree_size();
    server.settled_commitment();
    let audit = |s: &Server, want: bool| {
        run(
            s.truce()
                .args(["--json", "audit", &s.url, "--vkey", &m.vkey]),
            want,
        )
    };
    let ok = stdout_json(&audit(&server, true));
    assert_eq!(ok["anomalies"], json!([]), "{ok}");
    assert_eq!(ok["entries_verified"], size);
    assert_eq!(ok["commitment_size"], size);
    assert_eq!(ok["witnesses"]["cosigned_by"].as_array().unwrap().len(), 3);
    // The same audit offline, from an export bundle, with the server stopped.
    let bundle = m.tmp.path().join("bundle");
    let exported = stdout_json(&run(
        server
            .truce()
            .args(["--json", "export-bundle", "--server", &server.url, "--out"])
            .arg(&bundle),
        true,
    ));
    assert_eq!(exported["tree_size"], size);
    let data = server.stop();
    let offline = stdout_json(&run(
        truce()
            .args(["--json", "audit", "--bundle"])
            .arg(&bundle)
            .args(["--vkey", &m.vkey]),
        true,
    ));
    assert_eq!(offline["anomalies"], json!([]), "{offline}");
    assert_eq!(offline["entries_verified"], size);
    assert_eq!(offline["commitment_size"], size);
    assert_eq!(offline["witnesses"]["freshness_checked"], false);
    // A bundle whose entry bundle was edited is audited as faulty.
    let tile = bundle
        .join("log/tile/entries/000.p")
        .join(format!("{size}.body"));
    let mut bytes = std::fs::read(&tile).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    let out = run(
        truce()
            .args(["--json", "audit", "--bundle"])
            .arg(&bundle)
            .args(["--vkey", &m.vkey]),
        false,
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Swap the signatures of the last two reports.
    let db = rusqlite::Connection::open(data.join("truce.db")).unwrap();
    let leaf = |i: u64| -> Value {
        let b: Vec<u8> = db
            .query_row("SELECT leaf FROM entries WHERE idx = ?1", [i as i64], |r| {
                r.get(0)
            })
            .unwrap();
        serde_json::from_slice(&b).unwrap()
    };
    let (a, b) = (size - 2, size - 1);
    let (mut la, mut lb) = (leaf(a), leaf(b));
    let sa = la["signatures"][0]["sig"].clone();
    la["signatures"][0]["sig"] = lb["signatures"][0]["sig"].clone();
    lb["signatures"][0]["sig"] = sa;
    for (i, l) in [(a, &la), (b, &lb)] {
        db.execute(
            "UPDATE entries SET leaf = ?1 WHERE idx = ?2",
            rusqlite::params![serde_json::to_vec(l).unwrap(), i as i64],
        )
        .unwrap();
    }
    drop(db);
    let server = Server::start(&data);
    let out = audit(&server, false);
    assert_eq!(out.status.code(), Some(3));
    let r = stdout_json(&out);
    let anomalies = r["anomalies"].as_array().unwrap();
    let entries: Vec<u64> = anomalies
        .iter()
        .filter(|x| x["check"] == "entry")
        .map(|x| x["index"].as_u64().unwrap())
        .collect();
    assert_eq!(entries, vec![a, b], "{r}");
    assert!(anomalies.iter().any(|x| x["check"] == "root"), "{r}");
    assert!(
        anomalies.iter().any(|x| x["check"] == "state-commitment"),
        "{r}"
    );
    assert_eq!(r["entries_verified"], size - 2);
    let plain = run(
        server
            .truce()
            .args(["audit", &server.url, "--vkey", &m.vkey]),
        false,
    );
    let plain = String::from_utf8_lossy(&plain.stdout);
    assert!(
        plain.contains(&format!("entry (entry {a})")) && plain.contains("FAILED"),
        "{plain}"
    );
}
