//! Deconfliction through the real binary: the Sweida sequence and its mirror, the hotline with
//! two subscribers, a reconnect and a consumer that never reads, and the privacy of civilian
//! case records.

use crate::util::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::Duration;
use truce_client::deconflict::{SseEvent, read_sse};

/// A place in As-Suwayda governorate (the city) and one in Daraa governorate (the city).
const SUWAYDA: [f64; 2] = [36.566, 32.709];
const DARAA: [f64; 2] = [36.106, 32.625];

fn at(offset_s: i64) -> String {
    jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(offset_s))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `truce --json <args>` as `member`, returning the logged index.
fn logged(s: &Server, m: &Mechanism, member: &str, args: &[&str]) -> u64 {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = as_member(s, m, member, &all, true);
    stdout_json(&out)["receipt"]["index"].as_u64().unwrap()
}

fn incident(event_type: &str, point: [f64; 2], perpetrator: &str, target: &str) -> Value {
    json!({
        "event_type": event_type,
        "time": {"start": now(), "precision": "exact"},
        "location": {"point": point, "precision_m": 500},
        "perpetrator": perpetrator,
        "target": target,
        "narrative": format!("{event_type} by {perpetrator} (deconfliction test)"),
        "grading": {"source_reliability": "B", "information_credibility": 2},
    })
}

fn submit_report(m: &Mechanism, s: &Server, member: &str, body: &Value, name: &str) -> u64 {
    let path = write_json(m.tmp.path(), name, body);
    logged(
        s,
        m,
        member,
        &[
            "submit",
            "--server",
            &s.url,
            "--kind",
            "report",
            "--body",
            path.to_str().unwrap(),
        ],
    )
}

/// `truce notify` as `member`: [activity, zones, start, end, purpose, addressees], plus
/// `extra` arguments; returns the notice's log index.
fn notify(s: &Server, m: &Mechanism, member: &str, a: [&str; 6], extra: &[&str]) -> u64 {
    let [activity, zones, start, end, purpose, to] = a;
    let mut args = vec![
        "notify",
        "--server",
        s.url.as_str(),
        "--activity",
        activity,
        "--zones",
        zones,
        "--start",
        start,
        "--end",
        end,
        "--purpose",
        purpose,
        "--to",
        to,
    ];
    args.extend_from_slice(extra);
    logged(s, m, member, &args)
}

fn findings_of(s: &Server, rule: &str) -> Vec<Value> {
    s.get_json(&format!("/v1/findings?rule={rule}"))["findings"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn the_sweida_sequence_and_its_mirror() {
    let m = Mechanism::golan();
    let s = m.serve();
    let (start, end) = (at(2), at(3 * 3600));
    // SY notifies a security operation in As-Suwayda; IL gives the green light.
    let notice = notify(
        &s,
        &m,
        "sy.ops",
        [
            "security_operation",
            "gov-as-suwayda",
            &start,
            &end,
            "Security operation against armed groups in As-Suwayda",
            "IL,US",
        ],
        &["--forces", "personnel=400"],
    );
    let ack = logged(
        &s,
        &m,
        "il.ops",
        &["ack", "--server", &s.url, &notice.to_string()],
    );
    std::thread::sleep(Duration::from_secs(3)); // into the window

    // An IL strike on SY forces inside the area and window, reported by SY and by UNDOF.
    let strike = incident("explosions_remote_violence", SUWAYDA, "IL", "SY");
    let r1 = submit_report(&m, &s, "sy.ops", &strike, "strike-sy.json");
    let r2 = submit_report(&m, &s, "undof.ops", &strike, "strike-undof.json");
    s.settled_commitment();

    let found = findings_of(&s, "green-light-protection");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f["party"], "IL");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["status"], "corroborated", "SY and UNDOF both reported it");
    let evidence: Vec<u64> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_u64().unwrap())
        .collect();
    for want in [notice, ack, r1, r2] {
        assert!(evidence.contains(&want), "{want} in {evidence:?}");
    }
    // Each piece of evidence comes with an inclusion proof that verifies offline.
    let detail = s.get_json(&format!("/v1/findings/{}", f["id"].as_str().unwrap()));
    let chain = detail["evidence"].as_array().unwrap();
    assert_eq!(chain.len(), evidence.len());
    for ev in chain {
        let receipt: truce_log::Receipt = serde_json::from_value(ev["receipt"].clone()).unwrap();
        receipt
            .verify(ev["envelope"].as_str().unwrap().as_bytes(), &m.vkey)
            .expect("the evidence's receipt verifies");
    }
    let kinds: Vec<&str> = chain.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["notice", "acknowledgement", "report", "report"]);

    // The notice on record: acknowledged by IL; the mediator did not answer before the
    // window opened, and that is on record too.
    let n = &s.get_json("/v1/notices?party=SY")["notices"][0];
    assert_eq!(n["index"], notice);
    assert_eq!(n["addressee_status"]["IL"], "acknowledged");
    assert_eq!(n["addressee_status"]["US"], "expired");
    assert_eq!(n["status"], "expired");

    // The mirror: SY notifies an operation in As-Suwayda and Daraa; IL acknowledges it for
    // As-Suwayda only; SY operates in Daraa: a finding against SY.
    let (start, end) = (at(2), at(3 * 3600));
    let notice2 = notify(
        &s,
        &m,
        "sy.ops",
        [
            "security_operation",
            "gov-as-suwayda,gov-daraa",
            &start,
            &end,
            "Second phase",
            "IL",
        ],
        &[],
    );
    let ack2 = logged(
        &s,
        &m,
        "il.ops",
        &[
            "ack",
            "--server",
            &s.url,
            &notice2.to_string(),
            "--zones",
            "gov-as-suwayda",
        ],
    );
    std::thread::sleep(Duration::from_secs(3));
    let raid = incident("battles", DARAA, "SY", "OTHER");
    let r3 = submit_report(&m, &s, "il.ops", &raid, "raid-il.json");
    s.settled_commitment();
    let scope = findings_of(&s, "acknowledged-scope");
    assert_eq!(scope.len(), 1, "{scope:#?}");
    assert_eq!(scope[0]["party"], "SY");
    assert!(
        scope[0]["summary"]
            .as_str()
            .unwrap()
            .contains("outside the area"),
        "{}",
        scope[0]["summary"]
    );
    let evidence = scope[0]["evidence"].as_array().unwrap();
    for want in [notice2, ack2, r3] {
        assert!(evidence.contains(&json!(want)), "{want} in {evidence:?}");
    }
    let n2 = s.get_json("/v1/notices?status=conditioned");
    assert_eq!(n2["notices"][0]["index"], notice2);

    // A fresh replay of the log reaches the same state as the server.
    run(
        s.truce()
            .args(["replay", "--server", &s.url, "--vkey", &m.vkey]),
        true,
    );
}

/// Reads one subscriber's messages into a channel.
fn subscribe(s: &Server, party: &str, last: Option<u64>) -> mpsc::Receiver<SseEvent> {
    let (tx, rx) = mpsc::channel();
    // Without a place to resume from, from the start (a new stream otherwise starts at the
    // head, and the test's entries may be logged before it connects).
    let url = match last {
        Some(_) => format!("{}/v1/stream?party={party}", s.url),
        None => format!("{}/v1/stream?party={party}&from_start=true", s.url),
    };
    let token = s.token().unwrap().to_owned();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent
            .get(&url)
            .header("authorization", format!("Bearer {token}"));
        if let Some(l) = last {
            req = req.header("last-event-id", l.to_string());
        }
        let Ok(mut resp) = req.call() else {
            return;
        };
        let _ = read_sse(resp.body_mut().as_reader(), |m| Ok(tx.send(m).is_ok()));
    });
    rx
}

/// The alert messages (index → alerts) received until `want` entries are seen.
fn collect(
    rx: &mpsc::Receiver<SseEvent>,
    want: usize,
    into: &mut BTreeMap<u64, Value>,
) -> Option<u64> {
    let mut last = None;
    let mut seen = 0;
    while seen < want {
        let m = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("an alert within 30 s");
        if m.event != "alerts" {
            continue;
        }
        let id: u64 = m.last_event_id.parse().unwrap();
        let data: Value = serde_json::from_str(&m.data).unwrap();
        assert_eq!(data["index"], id);
        assert!(
            into.insert(id, data["alerts"].clone()).is_none(),
            "alert {id} delivered twice"
        );
        last = Some(id);
        seen += 1;
    }
    last
}

fn expected(s: &Server, party: &str) -> BTreeMap<u64, Value> {
    s.get_json(&format!("/v1/stream/alerts?party={party}&limit=1000"))["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["alerts"].clone()))
        .collect()
}

#[test]
fn the_hotline_reaches_each_party_resumes_and_is_not_stalled() {
    let m = Mechanism::golan();
    let s = m.serve();
    // A consumer that connects and never reads.
    let addr = s.url.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        slow,
        "GET /v1/stream?party=US HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nAuthorization: Bearer {}\r\n\r\n",
        s.token().unwrap()
    )
    .unwrap();
    let sy = subscribe(&s, "SY", None);
    let il = subscribe(&s, "IL", None);
    // `truce watch` follows IL too, as an officer would.
    let mut watch = s
        .truce()
        .args([
            "--json",
            "watch",
            "--server",
            &s.url,
            "--party",
            "IL",
            "--from-start",
            "--count",
            "4",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    let (start, end) = (at(3600), at(7200));
    let sy_notice = notify(
        &s,
        &m,
        "sy.ops",
        [
            "troop_movement",
            "gov-daraa",
            &start,
            &end,
            "Rotation of units",
            "IL",
        ],
        &[],
    );
    logged(
        &s,
        &m,
        "il.ops",
        &["ack", "--server", &s.url, &sy_notice.to_string()],
    );
    // IL's notice to the mediator alone: SY must not hear of it.
    let il_notice = notify(
        &s,
        &m,
        "il.ops",
        ["exercise", "gov-quneitra", &start, &end, "Exercise", "US"],
        &[],
    );
    // A finding against IL, on SY's report.
    let shelling = incident("explosions_remote_violence", SUWAYDA, "IL", "SY");
    submit_report(&m, &s, "sy.ops", &shelling, "shelling.json");
    s.settled_commitment();

    let want_sy = expected(&s, "SY");
    let want_il = expected(&s, "IL");
    assert!(!want_sy.contains_key(&il_notice), "SY hears of IL's notice");
    assert!(want_il.contains_key(&il_notice));
    assert!(want_sy.contains_key(&sy_notice) && want_il.contains_key(&sy_notice));

    // SY reads two messages, drops the connection, and resumes from the last id it saw.
    let mut got_sy = BTreeMap::new();
    let last = collect(&sy, 2, &mut got_sy);
    drop(sy);
    // More alerts while SY is away.
    let calm_from = at(-8 * 86400);
    let calm_to = at(-7 * 86400);
    for member in ["sy.ops", "il.ops"] {
        logged(
            &s,
            &m,
            member,
            &[
                "attest", "--server", &s.url, "--from", &calm_from, "--to", &calm_to,
            ],
        );
    }
    s.settled_commitment();
    let want_sy = expected(&s, "SY");
    let want_il = expected(&s, "IL");
    let sy = subscribe(&s, "SY", last);
    collect(&sy, want_sy.len() - got_sy.len(), &mut got_sy);
    assert_eq!(got_sy, want_sy, "SY: nothing lost, nothing twice");
    let mut got_il = BTreeMap::new();
    collect(&il, want_il.len(), &mut got_il);
    assert_eq!(got_il, want_il, "IL's subscriber");

    // `truce watch` printed IL's first four alert messages as JSON lines, then stopped.
    let mut out = String::new();
    watch
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(watch.wait().unwrap().success());
    let ids: Vec<u64> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["event"] == "alerts")
        .map(|v| v["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, want_il.keys().take(4).copied().collect::<Vec<_>>());

    // The reader that never read did not stall anything: the server still answers.
    let (status, _) = s.get("/healthz");
    assert_eq!(status, 200);
    drop(slow);
}

#[test]
fn case_records_reach_the_entitled_members_only() {
    let m = Mechanism::golan();
    let s = m.serve();
    let name = "Rami Haddad-Testcase";
    let person = write_json(
        m.tmp.path(),
        "person.json",
        &json!({"name": name, "age": 34, "last_seen": "Checkpoint Testplace-7"}),
    );
    let case = logged(
        &s,
        &m,
        "sy.ops",
        &[
            "case",
            "report",
            "--server",
            &s.url,
            "--detaining",
            "IL",
            "--person",
            person.to_str().unwrap(),
            "--note",
            "Shepherd detained near the line",
        ],
    );
    logged(
        &s,
        &m,
        "il.ops",
        &[
            "case",
            "step",
            "--server",
            &s.url,
            &case.to_string(),
            "--action",
            "acknowledge",
        ],
    );
    s.settled_commitment();

    // The three entitled parties' members open it; the observer's cannot.
    for member in ["sy.ops", "il.ops", "us.ops"] {
        let out = run(
            s.truce()
                .args([
                    "--json",
                    "case",
                    "open",
                    "--server",
                    &s.url,
                    &case.to_string(),
                ])
                .arg("--key")
                .arg(m.key_path(member)),
            true,
        );
        assert_eq!(stdout_json(&out)["record"]["name"], name, "{member}");
    }
    let out = run(
        s.truce()
            .args(["case", "open", "--server", &s.url, &case.to_string()])
            .arg("--key")
            .arg(m.key_path("undof.ops")),
        false,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot open"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Everyone sees that the case exists and its status, never the person.
    let cases = s.get_json("/v1/cases");
    assert_eq!(cases["cases"][0]["status"], "acknowledged");
    let recipients = cases["cases"][0]["recipients"].as_array().unwrap();
    assert!(
        recipients
            .iter()
            .all(|r| !r.as_str().unwrap().starts_with("undof"))
    );
    let size = s.tree_size();
    let mut paths = vec![
        "/v1/state".to_owned(),
        "/v1/cases".to_owned(),
        "/v1/notices".to_owned(),
        "/v1/findings".to_owned(),
        "/v1/deadlines".to_owned(),
        "/v1/scorecards".to_owned(),
        "/v1/mechanism".to_owned(),
        "/v1/stream/alerts?party=UNDOF&limit=1000".to_owned(),
        "/v1/stream/alerts?party=US&limit=1000".to_owned(),
        format!("/log/tile/entries/000.p/{size}"),
        "/log/checkpoint".to_owned(),
    ];
    for i in 0..size {
        paths.push(format!("/v1/entries/{i}"));
        paths.push(format!("/v1/entries/{i}/tlog-proof"));
    }
    for p in &paths {
        let (status, body) = s.get(p);
        assert_eq!(status, 200, "{p}");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("Rami"), "{p} gives the person away");
        assert!(!text.contains("Testplace-7"), "{p} gives the place away");
    }
}

#[test]
fn need_to_know_details_of_a_report_are_sealed() {
    let m = Mechanism::golan();
    let s = m.serve();
    let report = write_json(
        m.tmp.path(),
        "r.json",
        &incident("explosions_remote_violence", SUWAYDA, "IL", "SY"),
    );
    let details = write_json(
        m.tmp.path(),
        "sources.json",
        &json!({"source": "Informant Zeta-Testsource", "contact": "redacted channel 7"}),
    );
    let index = logged(
        &s,
        &m,
        "sy.ops",
        &[
            "submit",
            "--server",
            &s.url,
            "--kind",
            "report",
            "--body",
            report.to_str().unwrap(),
            "--seal",
            details.to_str().unwrap(),
        ],
    );
    s.settled_commitment();
    // SY and the mediator read the sealed details; IL and UNDOF cannot.
    for (member, ok) in [
        ("sy.ops", true),
        ("us.ops", true),
        ("il.ops", false),
        ("undof.ops", false),
    ] {
        let out = run(
            s.truce()
                .args(["--json", "unseal", "--server", &s.url, &index.to_string()])
                .arg("--key")
                .arg(m.key_path(member)),
            ok,
        );
        if ok {
            assert_eq!(
                stdout_json(&out)["sealed"]["source"],
                "Informant Zeta-Testsource"
            );
        }
    }
    // The finding made from the report says that it rests on sealed evidence.
    let f = &s.get_json("/v1/findings?party=IL")["findings"][0];
    assert_eq!(f["sealed_evidence"], json!([index]), "{f}");
    // The public part is in the log for all; the sealed part never in clear. A member outside
    // the recipients sees that there is a sealed part, not its ciphertext, in the decoded view.
    let (_, body) = s.get(&format!("/v1/entries/{index}"));
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("explosions_remote_violence"));
    assert!(!text.contains("Zeta-Testsource"));
    let il = m.token("il.ops", "read");
    let (status, body) = http(
        agent()
            .get(format!("{}/v1/entries/{index}", s.url))
            .header("authorization", format!("Bearer {il}"))
            .call(),
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["entry"]["body"]["sealed"]["readable"], false, "{v}");
    assert!(v["entry"]["body"]["sealed"]["age"].is_null());
    let mine: Value = s.get_json(&format!("/v1/entries/{index}"));
    assert_eq!(
        mine["entry"]["body"]["sealed"]["readable"], true,
        "the mediator's view"
    );
}

#[test]
fn a_party_suspends_and_resumes_its_participation() {
    let m = Mechanism::golan();
    let s = m.serve();
    let args = |action: &'static str, reason: &'static str| {
        [
            "participation",
            "--server",
            s.url.as_str(),
            action,
            "--reason",
            reason,
        ]
    };
    logged(
        &s,
        &m,
        "sy.admin",
        &args("suspend", "Consultations in the capital (test)"),
    );
    assert_eq!(
        s.get_json("/v1/mechanism")["agreement"]["suspended_parties"],
        json!(["SY"])
    );
    // Twice is refused; an officer does not decide it.
    as_member(&s, &m, "sy.admin", &args("suspend", "again"), false);
    as_member(&s, &m, "sy.ops", &args("resume", "an officer"), false);
    logged(
        &s,
        &m,
        "sy.admin",
        &args("resume", "Back at the table (test)"),
    );
    assert_eq!(
        s.get_json("/v1/mechanism")["agreement"]["suspended_parties"],
        json!([])
    );
    s.settled_commitment();
    let cards = s.get_json("/v1/scorecards?party=SY&rule=participation");
    assert_eq!(cards["scorecards"][0]["suspensions"], 1, "{cards}");
}

/// `truce watch` against a tiny server of the test's own whose stream opens with a BOM and ends
/// its lines with CR alone: it prints both alert messages and not the reminder without data.
/// (It once read lines ending in LF only, and printed nothing from such a stream.)
#[test]
fn watch_prints_the_events_of_a_cr_only_stream() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let alert = |i: u64| json!({"index": i, "alerts": [{"type": "notice", "summary": format!("notice {i}")}]});
    let body = format!(
        "\u{FEFF}id: 7\revent: alerts\rdata: {}\r\revent: due\r\r: keep-alive\r\rid: 9\revent: alerts\rdata: {}\r\r",
        alert(7),
        alert(9)
    );
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            conn.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        conn.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
        )
        .unwrap();
        conn.write_all(body.as_bytes()).unwrap();
        // The listener goes with this thread: a watcher that reconnects finds no server and,
        // with --retries 0, gives up at once.
    });
    let mut watch = truce()
        .args([
            "--json",
            "watch",
            "--server",
            &url,
            "--party",
            "IL",
            "--count",
            "2",
            "--retries",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = watch.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = watch.kill();
            panic!("truce watch still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    server.join().unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    watch
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    watch
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "truce watch failed: {err}");
    let got: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        got,
        vec![
            json!({"event": "alerts", "id": "7", "data": alert(7)}),
            json!({"event": "alerts", "id": "9", "data": alert(9)}),
        ]
    );
}
