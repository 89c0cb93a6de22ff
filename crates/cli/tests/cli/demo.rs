//! `truce demo`: a fresh Golan mechanism, served, fed with simulated traffic.

use crate::util::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

#[test]
fn the_demo_serves_a_mechanism_with_simulated_traffic() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("m");
    let mut child = truce()
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--simulate",
            "40",
            "--data",
        ])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(format!("url {url}"));
            }
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("truce demo: simulated") || line.contains("traffic stopped") {
                let _ = tx2.send(line);
            } else if let Some(t) = line.trim().strip_prefix("us.ops") {
                let _ = tx2.send(format!("token {}", t.trim()));
            }
        }
    });
    let (mut url, mut done, mut token) = (None, None, None);
    while url.is_none() || done.is_none() || token.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the demo did not start, print its tokens and simulate within 60 s");
        if let Some(u) = line.strip_prefix("url ") {
            url = Some(u.to_owned());
        } else if let Some(t) = line.strip_prefix("token ") {
            token = Some(t.to_owned());
        } else {
            done = Some(line);
        }
    }
    let (url, done, token) = (url.unwrap(), done.unwrap(), token.unwrap());
    assert!(token.starts_with("truce_"), "{token}");
    let saved =
        std::fs::metadata(data.join("demo-tokens.json")).expect("the demo saves its tokens");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            saved.permissions().mode() & 0o777,
            0o600,
            "tokens are private"
        );
    }
    let _guard = scopeguard(child);
    assert!(
        done.starts_with("truce demo: simulated 40 incidents"),
        "{done}"
    );
    // The traffic is in the log and applied: events exist and findings were made from them.
    let agent = agent();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = http(agent.get(format!("{url}/v1/events?limit=1")).call());
        assert_eq!(status, 401, "reads need a token");
        let (status, body) = http(
            agent
                .get(format!("{url}/v1/events?limit=1"))
                .header("authorization", format!("Bearer {token}"))
                .call(),
        );
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let (_, hz) = http(agent.get(format!("{url}/healthz")).call());
        let hz: serde_json::Value = serde_json::from_slice(&hz).unwrap();
        if v["applied_size"] == hz["tree_size"] && v["total"].as_u64().unwrap_or(0) > 0 {
            assert!(hz["tree_size"].as_u64().unwrap() > 4 + 40);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "events never appeared: {v}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // And the deconfliction traffic: notices in each state, calm on record, a sealed case.
    let (_, body) = http(
        agent
            .get(format!("{url}/v1/notices"))
            .header("authorization", format!("Bearer {token}"))
            .call(),
    );
    let notices: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let statuses: Vec<&str> = notices["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["delivered", "conditioned", "objected", "filed"],
        "{notices}"
    );
    let (_, body) = http(
        agent
            .get(format!("{url}/v1/attestations?status=cosigned"))
            .header("authorization", format!("Bearer {token}"))
            .call(),
    );
    let calm: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(calm["total"], 1, "{calm}");
    let (_, body) = http(
        agent
            .get(format!("{url}/v1/cases"))
            .header("authorization", format!("Bearer {token}"))
            .call(),
    );
    let cases: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(cases["cases"][0]["status"], "acknowledged", "{cases}");
    // A desk added by IL's administrator with the mediator's countersignature.
    let (_, body) = http(
        agent
            .get(format!("{url}/v1/mechanism"))
            .header("authorization", format!("Bearer {token}"))
            .call(),
    );
    let mechanism: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        mechanism["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "il.desk-2" && m["status"] == "active"),
        "{}",
        mechanism["members"]
    );
}

/// Kills the demo when the test ends, however it ends.
fn scopeguard(child: std::process::Child) -> impl Drop {
    struct Guard(std::process::Child);
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    Guard(child)
}
