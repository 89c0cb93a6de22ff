//! Offline capture and sync, exit codes, key file permissions.

use crate::util::*;

#[test]
fn offline_submissions_are_signed_at_capture_and_synced_later() {
    let m = Mechanism::golan();
    let queue = m.tmp.path().join("queue");
    let out_dir = m.tmp.path().join("receipts");
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/golan-1974/examples/report-shelling.json"
    );
    for _ in 0..2 {
        run(
            truce()
                .args([
                    "submit",
                    "--offline",
                    "--mechanism",
                    ORIGIN,
                    "--kind",
                    "report",
                    "--body",
                    example,
                    "--key",
                ])
                .arg(m.key_path("il.ops"))
                .arg("--queue")
                .arg(&queue),
            true,
        );
        std::thread::sleep(std::time::Duration::from_millis(1100)); // distinct created times
    }
    // One entry for another mechanism: refused at sync, set aside with its reason.
    run(
        truce()
            .args([
                "submit",
                "--offline",
                "--mechanism",
                "other.example/x",
                "--kind",
                "report",
                "--body",
                example,
                "--key",
            ])
            .arg(m.key_path("il.ops"))
            .arg("--queue")
            .arg(&queue),
        true,
    );
    assert_eq!(std::fs::read_dir(&queue).unwrap().count(), 3);
    let server = m.serve();
    let out = run(
        server
            .truce()
            .args(["--json", "sync", "--server", &server.url])
            .arg("--queue")
            .arg(&queue)
            .arg("--out")
            .arg(&out_dir),
        false,
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "a refused queued entry is exit code 4"
    );
    let v = stdout_json(&out);
    assert_eq!(v["sent"].as_array().unwrap().len(), 2);
    assert_eq!(v["refused"].as_array().unwrap().len(), 1);
    assert!(queue.join("refused").is_dir());
    assert_eq!(server.tree_size(), 6);
    let out = run(
        server
            .truce()
            .args(["--json", "sync", "--server", &server.url])
            .arg("--queue")
            .arg(&queue)
            .arg("--out")
            .arg(&out_dir),
        true,
    );
    assert_eq!(stdout_json(&out)["sent"].as_array().unwrap().len(), 0);
    let receipts = std::fs::read_dir(&out_dir).unwrap().count();
    assert_eq!(
        receipts, 6,
        "entry, receipt and tlog-proof for each of two entries"
    );
}

#[test]
fn exit_codes_and_key_hygiene() {
    let m = Mechanism::golan();
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/golan-1974/examples/report-shelling.json"
    );
    // Unreachable server: 5, and the signed entry is kept in the queue for `truce sync`.
    let queue = m.tmp.path().join("q");
    let out = run(
        truce()
            .args([
                "submit",
                "--server",
                "http://127.0.0.1:9",
                "--mechanism",
                ORIGIN,
            ])
            .args(["--kind", "report", "--body", example, "--key"])
            .arg(m.key_path("sy.ops"))
            .arg("--queue")
            .arg(&queue),
        false,
    );
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("truce sync"));
    assert_eq!(std::fs::read_dir(&queue).unwrap().count(), 1);
    // Invalid body caught before sending: 4, with the reason.
    let bad = m.tmp.path().join("bad.json");
    std::fs::write(&bad, r#"{"event_type": "gossip"}"#).unwrap();
    let out = run(
        truce()
            .args([
                "submit",
                "--server",
                "http://127.0.0.1:9",
                "--mechanism",
                ORIGIN,
                "--kind",
                "report",
                "--key",
            ])
            .arg(m.key_path("sy.ops"))
            .arg("--body")
            .arg(&bad),
        false,
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("event_type"));
    // A key file readable by others is refused with the fix.
    let loose = m.tmp.path().join("loose.key");
    std::fs::copy(m.key_path("sy.ops"), &loose).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = run(
            truce()
                .args([
                    "submit",
                    "--offline",
                    "--mechanism",
                    ORIGIN,
                    "--kind",
                    "report",
                    "--body",
                    example,
                    "--key",
                ])
                .arg(&loose),
            false,
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    }
    // Verifying a server under the wrong key: 3.
    let server = m.serve();
    let other = Mechanism::empty();
    let out = run(
        server
            .truce()
            .args(["verify", "server", &server.url, "--vkey", &other.vkey]),
        false,
    );
    assert_eq!(out.status.code(), Some(3));
    // Usage errors: 2, and --help teaches.
    assert_eq!(
        run(truce().args(["submit", "--nope"]), false).status.code(),
        Some(2)
    );
    let help = run(truce().args(["verify", "server", "--help"]), true);
    assert!(String::from_utf8_lossy(&help.stdout).contains("consistency"));
    // init refuses to overwrite a mechanism.
    let out = run(truce().arg("init").arg(&m.data), false);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already initialised"));
}
