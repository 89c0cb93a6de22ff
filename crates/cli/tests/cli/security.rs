//! Regression tests for what an attacker found by trying a demo server from outside (the
//! hardening issue's security items), each named after its defect.

use crate::util::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn addr(s: &Server) -> SocketAddr {
    s.url.trim_start_matches("http://").parse().unwrap()
}

/// A TCP connection to the server from the loopback address `from` (127.0.0.0/8 is all
/// local on Linux), so that tests can act as different clients.
fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
        socket.connect(to).await.unwrap().into_std().unwrap()
    });
    stream.set_nonblocking(false).unwrap();
    stream
}

/// Sends one request on a fresh connection from `from` and reads the whole answer (the
/// request asks the server to close): (status, head, body).
fn raw(from: &str, to: SocketAddr, request: &str) -> (u16, String, String) {
    let mut c = connect_from(from, to);
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(request.as_bytes()).unwrap();
    // Read to the end, but for at most 30 s in all: an answer that never ends (a stream)
    // must fail the test, not hang it.
    let mut answer = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn get_from(from: &str, s: &Server, path: &str, token: &str) -> (u16, String, String) {
    raw(
        from,
        addr(s),
        &format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
    )
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads an SSE stream's lines into a channel until it ends (then sends `None`).
fn follow(s: &Server, token: &str, party: &str) -> mpsc::Receiver<Option<String>> {
    follow_from("127.0.0.1", s, token, party)
}

/// [`follow`] from the loopback address `from`.
fn follow_from(from: &str, s: &Server, token: &str, party: &str) -> mpsc::Receiver<Option<String>> {
    let mut c = connect_from(from, addr(s));
    write!(
        c,
        "GET /v1/stream?party={party} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(c).lines() {
            match line {
                Ok(l) => {
                    if tx.send(Some(l)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = tx.send(None);
    });
    rx
}

/// Waits for the stream's `event: closed` message and its end; returns the message's data.
fn closed_within(rx: &mpsc::Receiver<Option<String>>, within: Duration) -> serde_json::Value {
    let deadline = Instant::now() + within;
    let mut saw_closed = false;
    let mut data = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Some(line)) => {
                if line == "event: closed" {
                    saw_closed = true;
                } else if saw_closed
                    && data.is_none()
                    && let Some(d) = line.strip_prefix("data: ")
                {
                    data = Some(serde_json::from_str(d).unwrap());
                }
            }
            // The connection closing.
            Ok(None) => break,
            Err(_) => panic!("the stream was not closed within {within:?}"),
        }
        if data.is_some() {
            break;
        }
    }
    data.expect("a closing message with data")
}

fn token_id(token: &str) -> String {
    token
        .strip_prefix("truce_")
        .and_then(|r| r.split('_').next())
        .unwrap()
        .to_owned()
}

#[test]
fn streams_outlive_their_credentials_regression() {
    let m = Mechanism::golan();
    let s = m.serve();
    // A revoked token ends its open stream.
    let sy = m.token("sy.ops", "read");
    let rx = follow(&s, &sy, "SY");
    std::thread::sleep(Duration::from_millis(300));
    run(
        truce()
            .args(["token", "revoke", "--data"])
            .arg(&m.data)
            .arg(token_id(&sy)),
        true,
    );
    let why = closed_within(&rx, Duration::from_secs(15));
    assert_eq!(why["code"], "token-revoked", "{why}");
    // A suspended member's open stream ends too.
    let il = m.token("il.ops", "read");
    let rx = follow(&s, &il, "IL");
    std::thread::sleep(Duration::from_millis(300));
    let suspend = write_json(
        m.tmp.path(),
        "suspend.json",
        &serde_json::json!({"action": "suspend", "member": "il.ops"}),
    );
    as_member(
        &s,
        &m,
        "il.admin",
        &[
            "submit",
            "--server",
            &s.url,
            "--kind",
            "membership",
            "--body",
            suspend.to_str().unwrap(),
        ],
        true,
    );
    let why = closed_within(&rx, Duration::from_secs(15));
    assert_eq!(why["code"], "member-inactive", "{why}");
}

#[test]
fn shared_caches_can_leak_authenticated_data_regression() {
    let m = Mechanism::golan();
    let s = m.serve();
    let blob = b"evidence".to_vec();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&blob));
    assert_eq!(s.put(&format!("/v1/blobs/{sha}"), &blob).0, 201);
    let size = s.tree_size();
    let token = s.token().unwrap().to_owned();
    for path in [
        "/log/checkpoint".to_owned(),
        "/log/tile/0/000.p/1".to_owned(),
        "/log/tile/entries/000.p/1".to_owned(),
        format!("/v1/checkpoints/{size}"),
        format!("/v1/blobs/{sha}"),
        "/v1/entries/0".to_owned(),
        "/v1/mechanism".to_owned(),
    ] {
        let (status, head, _) = get_from("127.0.0.1", &s, &path, &token);
        assert_eq!(status, 200, "{path}: {head}");
        let cache = header(&head, "cache-control").unwrap_or_default();
        assert!(
            cache.contains("private") && !cache.contains("public"),
            "{path}: Cache-Control {cache:?}"
        );
        let vary = header(&head, "vary").unwrap_or_default();
        assert!(
            vary.to_ascii_lowercase().contains("authorization"),
            "{path}: Vary {vary:?}"
        );
    }
    // What needs no token keeps its own caching rules.
    let (_, head, _) = raw(
        "127.0.0.1",
        addr(&s),
        "GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        !header(&head, "cache-control")
            .unwrap_or_default()
            .contains("private")
    );
}

#[test]
fn batch_submissions_and_tokens_regression() {
    let m = Mechanism::golan();
    let s = Server::start_with(&m.data, &["--rate-limit", "0.5", "--rate-burst", "3"]);
    let sy_token = m.token("sy.ops", "write");
    let batch = |entries: &[truce_log::Envelope], token: Option<&str>| {
        let body = format!(
            "[{}]",
            entries
                .iter()
                .map(|e| String::from_utf8(e.to_leaf()).unwrap())
                .collect::<Vec<_>>()
                .join(",")
        );
        let mut req = agent().post(format!("{}/v1/entries/batch", s.url));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let (status, body) = http(req.send(body.as_bytes()));
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["status"].as_u64().unwrap(),
                    r["problem"]["type"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    // Another member's entry in a batch sent with sy.ops's write token is refused, as a
    // single submission would be; sy.ops's own is logged.
    let own = sign_report(&m, "sy.ops", "own report");
    let other = sign_report(&m, "il.ops", "il's report in sy's batch");
    let results = batch(&[own, other], Some(&sy_token));
    assert_eq!(results[0].0, 201, "{results:?}");
    assert_eq!(results[1].0, 403, "{results:?}");
    assert_eq!(results[1].1, "urn:truce:problem:token-member-mismatch");
    // Every entry counts against the rate, with a token (the bucket holds 3)...
    let il_token = m.token("il.ops", "write");
    let many: Vec<_> = (0..10)
        .map(|i| sign_report(&m, "il.ops", &format!("il report {i}")))
        .collect();
    let results = batch(&many, Some(&il_token));
    let logged = results.iter().filter(|r| r.0 == 201).count();
    let limited = results
        .iter()
        .filter(|r| r.1 == "urn:truce:problem:rate-limited")
        .count();
    assert_eq!((logged, limited), (3, 7), "{results:?}");
    // ...and without one, against the verified author's.
    let many: Vec<_> = (0..10)
        .map(|i| sign_report(&m, "undof.ops", &format!("undof report {i}")))
        .collect();
    let results = batch(&many, None);
    let logged = results.iter().filter(|r| r.0 == 201).count();
    assert_eq!(logged, 3, "{results:?}");
}

#[test]
fn token_guessing_lockout_regression() {
    let m = Mechanism::golan();
    let s = m.serve();
    let owner = m.token("sy.ops", "read");
    let id = token_id(&owner);
    let wrong = format!("truce_{id}_{}", "A".repeat(43));
    // A guesser from another address drains its own bucket for this token id...
    let mut statuses = Vec::new();
    for _ in 0..15 {
        statuses.push(get_from("127.0.0.2", &s, "/v1/mechanism", &wrong).0);
    }
    assert!(statuses.contains(&401), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // ...but the owner, never seen before, is not locked out.
    let (status, head, body) = get_from("127.0.0.1", &s, "/v1/mechanism", &owner);
    assert_eq!(status, 200, "{head}\n{body}");
}

#[test]
fn http_401_challenge_and_request_smuggling_regression() {
    let m = Mechanism::golan();
    let s = m.serve();
    // Every 401 carries a challenge (RFC 9110 §15.5.2): no token, a bad token, and an entry
    // whose signature does not verify.
    let (status, head, _) = raw(
        "127.0.0.1",
        addr(&s),
        "GET /v1/mechanism HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 401);
    assert!(header(&head, "www-authenticate").is_some(), "{head}");
    let mut env: serde_json::Value =
        serde_json::from_slice(&sign_report(&m, "sy.ops", "tampered").to_leaf()).unwrap();
    // 64 bytes of 0x07, in standard base64.
    env["signatures"][0]["sig"] = format!("{}Bw==", "BwcH".repeat(21)).into();
    let body = env.to_string();
    let (status, head, body) = raw(
        "127.0.0.1",
        addr(&s),
        &format!(
            "POST /v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 401, "{head}\n{body}");
    assert!(header(&head, "www-authenticate").is_some(), "{head}");
    // Content-Length and Transfer-Encoding together (request smuggling): refused, never
    // framed one way or the other, and nothing is logged.
    let size = s.tree_size();
    let entry = String::from_utf8(sign_report(&m, "sy.ops", "smuggled").to_leaf()).unwrap();
    let chunked = format!("{:x}\r\n{entry}\r\n0\r\n\r\n", entry.len());
    let (status, head, body) = raw(
        "127.0.0.1",
        addr(&s),
        &format!(
            "POST /v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}"
        ),
    );
    assert_eq!(status, 400, "{head}\n{body}");
    assert!(body.contains("Transfer-Encoding"), "{body}");
    // Chunked alone is refused the same way (hyper drops the Content-Length of a request
    // with both, so the two look alike), and still nothing is logged.
    let (status, head, body) = raw(
        "127.0.0.1",
        addr(&s),
        &format!(
            "POST /v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunked}"
        ),
    );
    assert_eq!(status, 400, "{head}\n{body}");
    assert_eq!(s.tree_size(), size);
}

#[test]
fn resources_without_bounds_regression() {
    let m = Mechanism::golan();
    let s = m.serve();
    let to = addr(&s);
    // A connection that sends nothing, and one that sends half a request line, are closed
    // after the header-read timeout (10 s).
    let mut idle = connect_from("127.0.0.1", to);
    let mut partial = connect_from("127.0.0.1", to);
    partial.write_all(b"GET /healthz HT").unwrap();
    let started = Instant::now();
    for c in [&mut idle, &mut partial] {
        c.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
        let mut buf = Vec::new();
        let _ = c.read_to_end(&mut buf);
    }
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(25),
        "idle connections were held {waited:?}"
    );
    // One client's idle connections are bounded: beyond 256, new ones are closed at once,
    // and other clients are served meanwhile.
    let hoard: Vec<TcpStream> = (0..300).map(|_| connect_from("127.0.0.2", to)).collect();
    std::thread::sleep(Duration::from_millis(500));
    let (status, _, _) = raw(
        "127.0.0.1",
        to,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    let mut refused = 0;
    for mut c in hoard.iter().skip(256) {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 1];
        if matches!(c.read(&mut buf), Ok(0) | Err(_)) {
            refused += 1;
        }
    }
    assert!(refused >= 40, "{refused} of 44 over the limit were closed");
    drop(hoard);
    // Streams per member are bounded: the ninth gets 503 with Retry-After.
    let token = m.token("us.ops", "read");
    let streams: Vec<_> = (0..8).map(|_| follow(&s, &token, "US")).collect();
    // Each of the eight is open (answered 200) before the ninth is tried: on a loaded machine
    // a sleep is not enough, and a ninth accepted as a stream would never end.
    for rx in &streams {
        let first = rx.recv_timeout(Duration::from_secs(60)).ok().flatten();
        assert!(
            first
                .as_deref()
                .is_some_and(|l| l.starts_with("HTTP/1.1 200")),
            "{first:?}"
        );
    }
    let (status, head, body) = get_from("127.0.0.1", &s, "/v1/stream?party=US", &token);
    assert_eq!(status, 503, "{head}\n{body}");
    assert!(header(&head, "retry-after").is_some(), "{head}");
    assert!(body.contains("too-many-streams"), "{body}");
    drop(streams);
}

/// The resident set of a process, in KiB (Linux).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// The defect: one officer's flood of reports that all join one event, two readers of the
/// derived state, idle connections and streams, all at once, froze `/healthz`, submissions and
/// the apply stage. Now: `/healthz` and a submission keep answering quickly, the applier
/// catches up, and the server's memory comes back down. Figures are printed (`--nocapture`).
#[test]
fn one_officer_can_freeze_the_server_regression() {
    let m = Mechanism::golan();
    let s = m.serve();
    let to = addr(&s);
    let pid = s.child.id();
    let token = s.token().unwrap().to_owned();
    let baseline = |what: &str| {
        let t = Instant::now();
        let (status, _) = s.get(what);
        assert_eq!(status, 200, "{what}");
        t.elapsed()
    };
    let quiet: Vec<Duration> = (0..20).map(|_| baseline("/healthz")).collect();
    let rss_start = rss_kib(pid);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Two readers polling the derived state.
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (url, token, stop) = (s.url.clone(), token.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = http(
                        agent
                            .get(format!("{url}/v1/state/commitment"))
                            .header("authorization", format!("Bearer {token}"))
                            .call(),
                    );
                    n += 1;
                }
                n
            })
        })
        .collect();
    // 1,000 idle connections from four other addresses, and 300 stream attempts.
    let idle: Vec<TcpStream> = (0..1000)
        .map(|i| connect_from(&format!("127.0.0.{}", 2 + i % 4), to))
        .collect();
    let members = [
        "sy.ops",
        "il.ops",
        "us.ops",
        "undof.ops",
        "sy.admin",
        "il.admin",
        "us.admin",
        "undof.admin",
    ];
    let stream_tokens: Vec<String> = members.iter().map(|mb| m.token(mb, "read")).collect();
    let streams: Vec<_> = (0..300)
        .map(|i| {
            let party = ["SY", "IL", "US", "UNDOF"][i % 8 % 4];
            follow_from(
                &format!("127.0.0.{}", 10 + i % 10),
                &s,
                &stream_tokens[i % 8],
                party,
            )
        })
        .collect();
    // The flood: 2,048 reports of one incident by one officer, in batches.
    let flood = {
        let (url, key) = (s.url.clone(), m.key("sy.ops"));
        std::thread::spawn(move || {
            let agent = agent();
            for b in 0..8 {
                let items: Vec<String> = (0..256)
                    .map(|i| {
                        let env = sign_with(
                            &key,
                            ORIGIN,
                            "report",
                            "sy.ops",
                            &now(),
                            &report(&format!("flood {b}.{i}")),
                        );
                        String::from_utf8(env.to_leaf()).unwrap()
                    })
                    .collect();
                let (status, _) = http(
                    agent
                        .post(format!("{url}/v1/entries/batch"))
                        .header("content-type", "application/json")
                        .send(format!("[{}]", items.join(",")).as_bytes()),
                );
                assert_eq!(status, 200);
            }
        })
    };
    // Meanwhile: /healthz and a single submission by another member.
    let mut probes = Vec::new();
    let mut submissions = Vec::new();
    let t0 = Instant::now();
    while !flood.is_finished() || t0.elapsed() < Duration::from_secs(3) {
        probes.push(baseline("/healthz"));
        let env = sign_report(
            &m,
            "il.ops",
            &format!("during the flood {}", submissions.len()),
        );
        let t = Instant::now();
        let (status, _) = s.post("/v1/entries", &env.to_leaf());
        assert_eq!(status, 201);
        submissions.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "the flood took over 300 s"
        );
    }
    flood.join().unwrap();
    let logged_at = Instant::now();
    // The applier catches up with the whole log.
    let size = s.tree_size();
    let lag = loop {
        let (status, body) = s.get("/v1/state/commitment");
        if status == 200 {
            let c: serde_json::Value = serde_json::from_slice(&body).unwrap();
            if c["size"].as_u64() == Some(size) {
                break logged_at.elapsed();
            }
        }
        assert!(
            logged_at.elapsed() < Duration::from_secs(120),
            "the applier did not catch up within 120 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads: u32 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    let accepted_streams = streams
        .iter()
        .filter(|rx| {
            rx.recv_timeout(Duration::from_millis(50))
                .ok()
                .flatten()
                .is_some_and(|l| l.starts_with("HTTP/1.1 200"))
        })
        .count();
    let rss_load = rss_kib(pid);
    drop(idle);
    drop(streams);
    std::thread::sleep(Duration::from_secs(3));
    let rss_end = rss_kib(pid);
    let worst = |v: &[Duration]| v.iter().max().copied().unwrap_or_default();
    eprintln!(
        "flood figures: /healthz quiet median {:?}; under load median {:?}, max {:?} ({} probes); \
         submission median {:?}, max {:?}; apply lag after the last batch {:?}; {} derived-state reads; \
         {accepted_streams} of 300 streams accepted; RSS {rss_start} KiB at start, {rss_load} KiB under load, {rss_end} KiB after",
        median(quiet.clone()),
        median(probes.clone()),
        worst(&probes),
        probes.len(),
        median(submissions.clone()),
        worst(&submissions),
        lag,
        reads
    );
    assert!(worst(&probes) < Duration::from_secs(2), "/healthz stalled");
    assert!(
        median(submissions.clone()) < Duration::from_millis(500),
        "submissions slowed"
    );
    assert!(
        worst(&submissions) < Duration::from_secs(5),
        "a submission stalled"
    );
    assert!(lag < Duration::from_secs(60), "apply lag {lag:?}");
    assert!(
        accepted_streams <= 8 * members.len(),
        "streams per member bounded"
    );
}

/// The DSSE envelope spec allows standard or URL-safe base64 (padded or not), a missing or
/// empty `keyid` and fields it does not define; the server refused them. Each is accepted,
/// logged in the canonical form, and recognised as the same entry as its canonical form.
#[test]
fn envelopes_the_dsse_spec_allows_were_refused_regression() {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    let m = Mechanism::golan();
    let s = m.serve();
    let recode =
        |text: &str, e: &base64::engine::GeneralPurpose| e.encode(STANDARD.decode(text).unwrap());
    let variants = [
        "url-safe",
        "url-safe without padding",
        "no keyid",
        "empty keyid",
        "unknown fields",
    ];
    for (i, name) in variants.into_iter().enumerate() {
        // A narrative whose payload's standard base64 has `+` and `/`.
        let env = sign_report(&m, "sy.ops", &format!("dsse variant {i} \u{fe}\u{ff}~~>?"));
        let canonical = env.to_leaf();
        let mut v: serde_json::Value = serde_json::from_slice(&canonical).unwrap();
        match name {
            "url-safe" => {
                v["payload"] = recode(v["payload"].as_str().unwrap(), &URL_SAFE).into();
                v["signatures"][0]["sig"] =
                    recode(v["signatures"][0]["sig"].as_str().unwrap(), &URL_SAFE).into();
            }
            "url-safe without padding" => {
                v["payload"] = recode(v["payload"].as_str().unwrap(), &URL_SAFE_NO_PAD).into();
                v["signatures"][0]["sig"] = recode(
                    v["signatures"][0]["sig"].as_str().unwrap(),
                    &URL_SAFE_NO_PAD,
                )
                .into();
            }
            "no keyid" => {
                v["signatures"][0].as_object_mut().unwrap().remove("keyid");
            }
            "empty keyid" => v["signatures"][0]["keyid"] = "".into(),
            _ => {
                v["x-annotation"] = serde_json::json!({"by": "another tool"});
                v["signatures"][0]["x-note"] = 1.into();
            }
        }
        let body = serde_json::to_vec(&v).unwrap();
        assert_ne!(body, canonical, "{name}: a variant");
        let (status, r) = s.post("/v1/entries", &body);
        assert_eq!(status, 201, "{name}: {r}");
        let index = r["index"].as_u64().unwrap();
        let logged = s.leaves(index + 1).pop().unwrap();
        assert_eq!(logged, canonical, "{name}: logged in canonical form");
        let (status, again) = s.post("/v1/entries", &canonical);
        assert_eq!(
            (status, again["index"].as_u64()),
            (200, Some(index)),
            "{name}"
        );
    }

    // A countersignature without a keyid: resolved to the mediator administrator whose key
    // it verifies under.
    let desk = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let body = serde_json::json!({"action": "add", "member": "il.desk-9", "role": "officer",
        "public_key": STANDARD.encode(desk.verifying_key().as_bytes())});
    let mut env = sign_with(
        &m.key("il.admin"),
        ORIGIN,
        "membership",
        "il.admin",
        &now(),
        &body,
    );
    env.countersign(&m.key("us.admin")).unwrap();
    let canonical = env.to_leaf();
    let mut v: serde_json::Value = serde_json::from_slice(&canonical).unwrap();
    v["signatures"][1].as_object_mut().unwrap().remove("keyid");
    v["signatures"][0]["keyid"] = "".into();
    let (status, r) = s.post("/v1/entries", &serde_json::to_vec(&v).unwrap());
    assert_eq!(status, 201, "{r}");
    let index = r["index"].as_u64().unwrap();
    assert_eq!(s.leaves(index + 1).pop().unwrap(), canonical);
    // One that verifies under no mediator administrator's key is refused, precisely.
    let mut env = sign_with(
        &m.key("il.admin"),
        ORIGIN,
        "membership",
        "il.admin",
        &now(),
        &serde_json::json!({"action": "add", "member": "il.desk-10", "role": "officer",
            "public_key": STANDARD.encode(ed25519_dalek::SigningKey::from_bytes(&[43; 32]).verifying_key().as_bytes())}),
    );
    env.countersign(&m.key("sy.admin")).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&env.to_leaf()).unwrap();
    v["signatures"][1].as_object_mut().unwrap().remove("keyid");
    let (status, r) = s.post("/v1/entries", &serde_json::to_vec(&v).unwrap());
    assert_eq!((status, r["code"].as_str()), (403, None), "{r}");
    assert!(r["type"].as_str().unwrap().ends_with("unknown-key"), "{r}");
}
