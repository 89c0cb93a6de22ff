//! Request limits, rate limits, response headers and secrets kept out of the logs.

use crate::util::*;
use std::process::Stdio;

#[test]
fn a_member_over_its_rate_gets_429_with_retry_after_and_others_are_unaffected() {
    let m = Mechanism::golan();
    let s = Server::start_with(&m.data, &["--rate-limit", "0.5", "--rate-burst", "3"]);
    let sy = format!("Bearer {}", m.token("sy.ops", "read"));
    let il = format!("Bearer {}", m.token("il.ops", "read"));
    let agent = agent();
    let get = |auth: &str| {
        let mut r = agent
            .get(format!("{}/v1/mechanism", s.url))
            .header("authorization", auth)
            .call()
            .unwrap();
        let retry = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = r.body_mut().read_to_vec().unwrap();
        (r.status().as_u16(), retry, body)
    };
    for _ in 0..3 {
        assert_eq!(get(&sy).0, 200);
    }
    let (status, retry, body) = get(&sy);
    assert_eq!(status, 429);
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=2).contains(&retry), "retry after {retry} s");
    let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(p["type"], "urn:truce:problem:rate-limited");
    assert_eq!(p["status"], 429);
    assert!(p["detail"].as_str().unwrap().contains("sy.ops"));
    // Another member's bucket is its own.
    assert_eq!(get(&il).0, 200);
    // The open endpoints are not counted.
    assert_eq!(s.get("/healthz").0, 200);
}

#[test]
fn oversized_headers_security_headers_and_no_cors() {
    let m = Mechanism::golan();
    let s = m.serve();
    let agent = agent();
    let (status, body) = http(
        s.auth(agent.get(format!("{}/v1/mechanism", s.url)))
            .header("x-padding", "a".repeat(20 * 1024))
            .call(),
    );
    assert_eq!(status, 431);
    let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(p["type"], "urn:truce:problem:headers-too-large");
    for path in ["/healthz", "/v1/mechanism", "/no/such/path"] {
        let r = s
            .auth(agent.get(format!("{}{path}", s.url)))
            .header("origin", "https://evil.example")
            .call()
            .unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'"),
            "{path}"
        );
        assert!(h.get("access-control-allow-origin").is_none(), "{path}");
    }
    // A CORS preflight is not answered with permission.
    let r = agent
        .options(format!("{}/v1/mechanism", s.url))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .call()
        .unwrap();
    assert!(r.status().as_u16() >= 400);
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn tokens_never_reach_the_server_log() {
    let m = Mechanism::golan();
    let token = m.token("sy.ops", "write");
    let log = m.tmp.path().join("serve.log");
    let mut child = truce()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&m.data)
        .env("TRUCE_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let url = {
        use std::io::BufRead as _;
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        out.lines()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix("listening on ").map(str::to_owned))
            .unwrap()
    };
    let agent = agent();
    let auth = format!("Bearer {token}");
    assert_eq!(
        http(
            agent
                .get(format!("{url}/v1/mechanism"))
                .header("authorization", &auth)
                .call()
        )
        .0,
        200
    );
    // Refused ones too: a wrong secret for a real id, and a revoked token.
    let wrong = format!("{}{}", &auth[..auth.len() - 4], "AAAA");
    let status = http(
        agent
            .get(format!("{url}/v1/mechanism"))
            .header("authorization", &wrong)
            .call(),
    )
    .0;
    assert_eq!(status, 401);
    // The server may write a request's trace line just after it answered: wait for the line
    // of the refused request (bounded) before stopping it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline
        && std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("/v1/mechanism")
            .count()
            < 2
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("/v1/mechanism"),
        "trace logs requests: {text}"
    );
    // truce_<id>_<secret>: the secret is base64url and may itself contain `_`.
    let secret = token.splitn(3, '_').nth(2).unwrap();
    assert_eq!(secret.len(), 43, "a 32-byte secret in base64url");
    assert!(!text.contains(secret), "the token's secret is in the log");
    assert!(!text.contains(&wrong["Bearer truce_".len()..]));
}

#[test]
fn guessing_a_known_tokens_secret_is_rate_limited_and_its_owner_is_unaffected() {
    let m = Mechanism::golan();
    let s = m.serve();
    let token = m.token("sy.ops", "read");
    let agent = agent();
    let get = |t: &str| {
        let mut r = agent
            .get(format!("{}/v1/mechanism", s.url))
            .header("authorization", format!("Bearer {t}"))
            .call()
            .unwrap();
        let retry = r.headers().get("retry-after").is_some();
        let body: serde_json::Value =
            serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap_or_default();
        (
            r.status().as_u16(),
            retry,
            body["type"].as_str().unwrap_or("").to_owned(),
        )
    };
    // The owner's secret is checked once and remembered.
    assert_eq!(get(&token).0, 200);
    let wrong = format!("{}{}", &token[..token.len() - 3], "xyz");
    // Ten argon2 checks of a token in a burst (the owner's first one included), then one a
    // second.
    let answers: Vec<_> = (0..20).map(|_| get(&wrong)).collect();
    for a in &answers[..9] {
        assert_eq!(
            (a.0, a.2.as_str()),
            (401, "urn:truce:problem:invalid-token")
        );
    }
    assert!(
        answers
            .iter()
            .any(|a| (a.0, a.1, a.2.as_str()) == (429, true, "urn:truce:problem:rate-limited")),
        "{answers:?}"
    );
    assert!(answers.iter().all(|a| a.0 == 401 || a.0 == 429));
    assert_eq!(
        get(&token).0,
        200,
        "the owner's remembered token still works"
    );
}

#[test]
fn submissions_without_a_token_count_against_their_verified_author() {
    let m = Mechanism::golan();
    let s = Server::start_with(&m.data, &["--rate-limit", "0.2", "--rate-burst", "2"]);
    let post = |body: &[u8]| {
        let mut r = agent()
            .post(format!("{}/v1/entries", s.url))
            .header("content-type", "application/json")
            .send(body)
            .unwrap();
        let retry = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: serde_json::Value =
            serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
        (r.status().as_u16(), retry, body)
    };
    // Envelopes naming sy.ops's key id but signed with another key fail verification and
    // drain nobody's bucket.
    for i in 0..5 {
        let mut forged = sign_report(&m, "sy.ops", &format!("forged {i}"));
        let other = sign_report(&m, "il.ops", &format!("forged {i}"));
        let mut leaf: serde_json::Value = serde_json::from_slice(&forged.to_leaf()).unwrap();
        let other: serde_json::Value = serde_json::from_slice(&other.to_leaf()).unwrap();
        leaf["signatures"][0]["sig"] = other["signatures"][0]["sig"].clone();
        forged = truce_log::Envelope::parse(leaf.to_string().as_bytes()).unwrap();
        assert_eq!(post(&forged.to_leaf()).0, 401);
    }
    for i in 0..2 {
        let (status, _, body) = post(&sign_report(&m, "sy.ops", &format!("r{i}")).to_leaf());
        assert_eq!(status, 201, "{body}");
    }
    let size = s.get_json("/v1/mechanism")["tree_size"].clone();
    let (status, retry, p) = post(&sign_report(&m, "sy.ops", "one too many").to_leaf());
    assert_eq!(status, 429, "{p}");
    assert!(retry.expect("Retry-After").parse::<u64>().unwrap() >= 1);
    assert_eq!(p["type"], "urn:truce:problem:rate-limited");
    assert!(p["detail"].as_str().unwrap().contains("`sy.ops`"), "{p}");
    assert_eq!(
        s.get_json("/v1/mechanism")["tree_size"],
        size,
        "nothing was logged"
    );
    // A batch is one request per author in it: IL's two entries pass, SY's is refused.
    let batch = [
        sign_report(&m, "il.ops", "b1"),
        sign_report(&m, "sy.ops", "b2"),
        sign_report(&m, "il.ops", "b3"),
    ]
    .iter()
    .map(|e| String::from_utf8(e.to_leaf()).unwrap())
    .collect::<Vec<_>>()
    .join(",");
    let (status, v) = s.post("/v1/entries/batch", format!("[{batch}]").as_bytes());
    assert_eq!(status, 200);
    let statuses: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![201, 429, 201], "{v}");
    assert_eq!(
        v["results"][1]["problem"]["type"],
        "urn:truce:problem:rate-limited"
    );
}
