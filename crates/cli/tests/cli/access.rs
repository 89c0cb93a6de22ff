//! The authorization matrix: every route of the server × every kind of caller (each role,
//! each token state), each answer asserted. A route the server gains without a row here fails
//! `every_route_is_in_the_matrix`.

use crate::util::*;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The routes of the matrix as they are written in the server's source (`.route("...")`).
const ROUTES: &[&str] = &[
    "/healthz",
    "/v1/openapi.json",
    "/",
    "/assets/{name}",
    "/v1/map",
    "/v1/mechanism",
    "/v1/entries",
    "/v1/entries/batch",
    "/v1/entries/{index}",
    "/v1/entries/{index}/receipt",
    "/v1/entries/{index}/tlog-proof",
    "/v1/checkpoints/{size}",
    "/v1/checkpoints/latest",
    "/v1/witnesses",
    "/v1/proofs/inclusion",
    "/v1/proofs/consistency",
    "/v1/schemas",
    "/v1/schemas/{kind}",
    "/v1/blobs/{sha256}",
    "/log/checkpoint",
    "/log/tile/{*path}",
    "/v1/state",
    "/v1/state/commitment",
    "/v1/events",
    "/v1/findings",
    "/v1/findings/{*id}",
    "/v1/deadlines",
    "/v1/scorecards",
    "/v1/coverage",
    "/v1/notices",
    "/v1/cases",
    "/v1/attestations",
    "/v1/stream",
    "/v1/stream/alerts",
];

#[test]
fn every_route_is_in_the_matrix() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../server/src");
    let mut found = Vec::new();
    // The server's sources, and those of its modules' directories (`api/`, `service/`).
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = dirs.pop() {
        for f in std::fs::read_dir(d).unwrap() {
            let path = f.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for path in files {
        // `truce witness` is another server (C2SP tlog-witness, no tokens: a request is
        // authenticated by the log signature it carries); its routes are tested in witness.rs.
        // `bundle.rs` serves an export bundle to `truce audit --bundle`, on loopback only.
        if path
            .file_name()
            .is_some_and(|n| n == "witness.rs" || n == "bundle.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for part in text.split(".route(\"").skip(1) {
            found.push(part.split('"').next().unwrap().to_owned());
        }
    }
    assert!(found.len() >= ROUTES.len(), "routes found: {found:?}");
    for r in &found {
        assert!(
            ROUTES.contains(&r.as_str()),
            "route {r} is served but not in the authorization matrix (crates/cli/tests/cli/access.rs)"
        );
    }
    for r in ROUTES {
        assert!(found.iter().any(|f| f == r), "{r} is no longer served");
    }
}

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Caller {
    NoToken,
    NotBearer,
    Unknown,
    Expired,
    Revoked,
    Suspended,
    /// A read-scope token of the party officer.
    ReadScope,
    PartyOfficer,
    PartyAdmin,
    MediatorOfficer,
    MediatorAdmin,
    ObserverOfficer,
    ObserverAdmin,
    Auditor,
    /// Another party officer's write token, sent with the party officer's entry.
    OtherMember,
}

const CALLERS: &[Caller] = &[
    Caller::NoToken,
    Caller::NotBearer,
    Caller::Unknown,
    Caller::Expired,
    Caller::Revoked,
    Caller::Suspended,
    Caller::ReadScope,
    Caller::PartyOfficer,
    Caller::PartyAdmin,
    Caller::MediatorOfficer,
    Caller::MediatorAdmin,
    Caller::ObserverOfficer,
    Caller::ObserverAdmin,
    Caller::Auditor,
    Caller::OtherMember,
];

impl Caller {
    /// The member whose key signs the entries this caller submits.
    fn signer(self) -> &'static str {
        match self {
            Caller::PartyAdmin => "sy.admin",
            Caller::MediatorOfficer => "us.ops",
            Caller::MediatorAdmin => "us.admin",
            Caller::ObserverOfficer => "undof.ops",
            Caller::ObserverAdmin => "undof.admin",
            Caller::Auditor => "us.audit",
            Caller::Suspended => "sy.clerk",
            _ => "sy.ops",
        }
    }
}

/// The expected answer: status and problem code (None for success).
type Want = (u16, Option<&'static str>);

fn auth_failure(c: Caller) -> Option<Want> {
    match c {
        Caller::NotBearer | Caller::Unknown => Some((401, Some("invalid-token"))),
        Caller::Expired => Some((401, Some("token-expired"))),
        Caller::Revoked => Some((401, Some("token-revoked"))),
        Caller::Suspended => Some((403, Some("member-inactive"))),
        _ => None,
    }
}

fn want_read(c: Caller) -> Want {
    match c {
        Caller::NoToken => (401, Some("unauthenticated")),
        c => auth_failure(c).unwrap_or((200, None)),
    }
}

/// SY's alerts: SY's members, the mediator's and auditors follow them; another party's or the
/// observer's members only their own.
fn want_alerts_of_sy(c: Caller) -> Want {
    match c {
        Caller::ObserverOfficer | Caller::ObserverAdmin | Caller::OtherMember => {
            (403, Some("role-not-allowed"))
        }
        c => want_read(c),
    }
}

/// `POST /v1/entries` with a report signed by the caller's member.
fn want_submit(c: Caller) -> Want {
    if let Some(w) = auth_failure(c) {
        return w;
    }
    match c {
        Caller::ReadScope => (403, Some("insufficient-scope")),
        Caller::OtherMember => (403, Some("token-member-mismatch")),
        // Reports are filed by officers of any party; administrators manage members and
        // auditors submit nothing.
        Caller::PartyAdmin | Caller::MediatorAdmin | Caller::ObserverAdmin | Caller::Auditor => {
            (403, Some("role-not-allowed"))
        }
        _ => (201, None),
    }
}

fn want_upload(c: Caller) -> Want {
    match c {
        Caller::NoToken => (401, Some("unauthenticated")),
        Caller::ReadScope => (403, Some("insufficient-scope")),
        Caller::Auditor => (403, Some("role-not-allowed")),
        c => auth_failure(c).unwrap_or((201, None)),
    }
}

struct Setup {
    server: Server,
    m: Mechanism,
    keys: BTreeMap<&'static str, SigningKey>,
    tokens: BTreeMap<Caller, String>,
    finding: String,
    blob: String,
}

fn b64(k: &SigningKey) -> String {
    base64::engine::general_purpose::STANDARD.encode(k.verifying_key().as_bytes())
}

fn submit(s: &Server, key: &SigningKey, kind: &str, author: &str, body: &Value) {
    let env = sign_with(key, ORIGIN, kind, author, &now(), body);
    let (status, r) = s.post("/v1/entries", &env.to_leaf());
    assert_eq!(status, 201, "{kind} by {author}: {r}");
}

fn setup() -> Setup {
    let m = Mechanism::golan();
    let server = m.serve();
    let mut keys: BTreeMap<&'static str, SigningKey> = [
        "sy.ops",
        "sy.admin",
        "il.ops",
        "us.ops",
        "us.admin",
        "undof.ops",
        "undof.admin",
    ]
    .into_iter()
    .map(|id| (id, m.key(id)))
    .collect();
    keys.insert("us.audit", SigningKey::from_bytes(&[71; 32]));
    keys.insert("sy.clerk", SigningKey::from_bytes(&[72; 32]));
    // An auditor of the mediator, and a party officer who will be suspended.
    submit(
        &server,
        &keys["us.admin"],
        "membership",
        "us.admin",
        &json!({"action": "add", "member": "us.audit", "role": "auditor", "public_key": b64(&keys["us.audit"])}),
    );
    // The Golan agreement has the mediator countersign a party's new members.
    let mut add_clerk = sign_with(
        &keys["sy.admin"],
        ORIGIN,
        "membership",
        "sy.admin",
        &now(),
        &json!({"action": "add", "member": "sy.clerk", "role": "officer", "public_key": b64(&keys["sy.clerk"])}),
    );
    add_clerk.countersign(&keys["us.admin"]).unwrap();
    let (status, r) = server.post("/v1/entries", &add_clerk.to_leaf());
    assert_eq!(status, 201, "countersigned membership: {r}");
    let mut tokens = BTreeMap::new();
    for c in CALLERS {
        let t = match c {
            Caller::NoToken => continue,
            // A one-second token, waited out below.
            Caller::Expired => make_token(&m.data, "sy.ops", "write", "1s").unwrap(),
            Caller::NotBearer => "Basic c3kub3BzOnNlY3JldA==".to_owned(),
            Caller::Unknown => format!("Bearer truce_0123456789abcdef_{}", "A".repeat(43)),
            Caller::ReadScope => m.token("sy.ops", "read"),
            Caller::OtherMember => m.token("il.ops", "write"),
            c => m.token(c.signer(), "write"),
        };
        tokens.insert(*c, t);
    }
    let revoked = tokens[&Caller::Revoked].clone();
    run(
        truce()
            .args(["token", "revoke", "--data"])
            .arg(&m.data)
            .arg(&revoked),
        true,
    );
    submit(
        &server,
        &keys["sy.admin"],
        "membership",
        "sy.admin",
        &json!({"action": "suspend", "member": "sy.clerk"}),
    );
    for (c, t) in tokens.iter_mut() {
        if *c != Caller::NotBearer {
            *t = format!("Bearer {t}");
        }
    }
    // A finding to read: shelling by IL reported by SY.
    let mut r = report("matrix: shelling attributed to IL");
    r["perpetrator"] = "IL".into();
    submit(&server, &keys["sy.ops"], "report", "sy.ops", &r);
    server.settled_commitment();
    let list = server.get_json("/v1/findings?limit=1");
    let finding = list["findings"][0]["id"].as_str().unwrap().to_owned();
    let data = b"matrix evidence".to_vec();
    let blob = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data));
    assert_eq!(server.put(&format!("/v1/blobs/{blob}"), &data).0, 201);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    Setup {
        server,
        m,
        keys,
        tokens,
        finding,
        blob,
    }
}

fn problem_code(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("type")?
        .as_str()?
        .strip_prefix("urn:truce:problem:")
        .map(str::to_owned)
}

#[test]
fn every_route_answers_every_caller_as_documented() {
    let st = setup();
    let s = &st.server;
    let agent = agent();
    let reads: Vec<(&str, String)> = vec![
        ("/healthz", "/healthz".into()),
        ("/v1/openapi.json", "/v1/openapi.json".into()),
        ("/", "/".into()),
        ("/assets/{name}", "/assets/app.js".into()),
        ("/v1/map", "/v1/map".into()),
        ("/v1/mechanism", "/v1/mechanism".into()),
        ("/v1/entries/{index}", "/v1/entries/0".into()),
        (
            "/v1/entries/{index}/receipt",
            "/v1/entries/1/receipt".into(),
        ),
        (
            "/v1/entries/{index}/tlog-proof",
            "/v1/entries/2/tlog-proof".into(),
        ),
        ("/v1/checkpoints/{size}", "/v1/checkpoints/0".into()),
        ("/v1/checkpoints/latest", "/v1/checkpoints/latest".into()),
        ("/v1/witnesses", "/v1/witnesses".into()),
        (
            "/v1/proofs/inclusion",
            "/v1/proofs/inclusion?index=0".into(),
        ),
        (
            "/v1/proofs/consistency",
            "/v1/proofs/consistency?from=1&to=4".into(),
        ),
        ("/v1/schemas", "/v1/schemas".into()),
        ("/v1/schemas/{kind}", "/v1/schemas/report".into()),
        ("/v1/blobs/{sha256}", format!("/v1/blobs/{}", st.blob)),
        ("/log/checkpoint", "/log/checkpoint".into()),
        ("/log/tile/{*path}", "/log/tile/entries/000.p/4".into()),
        ("/v1/state", "/v1/state".into()),
        ("/v1/state/commitment", "/v1/state/commitment".into()),
        ("/v1/events", "/v1/events?limit=2".into()),
        ("/v1/findings", "/v1/findings?limit=2".into()),
        ("/v1/findings/{*id}", format!("/v1/findings/{}", st.finding)),
        ("/v1/deadlines", "/v1/deadlines".into()),
        ("/v1/scorecards", "/v1/scorecards".into()),
        ("/v1/coverage", "/v1/coverage".into()),
        ("/v1/notices", "/v1/notices".into()),
        ("/v1/cases", "/v1/cases".into()),
        ("/v1/attestations", "/v1/attestations".into()),
        ("/v1/stream", "/v1/stream?party=SY".into()),
        ("/v1/stream/alerts", "/v1/stream/alerts?party=SY".into()),
    ];
    let mut covered: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut check = |route: &'static str, c: Caller, want: Want, got: (u16, Vec<u8>)| {
        *covered.entry(route).or_default() += 1;
        let code = problem_code(&got.1);
        let ok = got.0 == want.0
            && match want.1 {
                Some(w) => code.as_deref() == Some(w),
                None => code.is_none(),
            };
        if !ok {
            failures.push(format!(
                "{route} as {c:?}: want {want:?}, got {} {}",
                got.0,
                String::from_utf8_lossy(&got.1)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ));
        }
    };
    let with = |req: ureq::RequestBuilder<ureq::typestate::WithoutBody>, c: Caller| match st
        .tokens
        .get(&c)
    {
        Some(t) => req.header("authorization", t.as_str()),
        None => req,
    };
    for (route, path) in &reads {
        for &c in CALLERS {
            let want = if matches!(
                *route,
                "/healthz" | "/v1/openapi.json" | "/" | "/assets/{name}"
            ) {
                (200, None)
            } else if route.starts_with("/v1/stream") {
                want_alerts_of_sy(c)
            } else {
                want_read(c)
            };
            let req = with(agent.get(format!("{}{path}", s.url)), c);
            let got = if *route == "/v1/stream" {
                // An event stream does not end: its status (and a refusal's problem) is the answer.
                let mut res = req.call().unwrap();
                let status = res.status().as_u16();
                let body = if status == 200 {
                    vec![]
                } else {
                    res.body_mut().read_to_vec().unwrap()
                };
                (status, body)
            } else {
                http(req.call())
            };
            check(route, c, want, got);
        }
    }
    let send = |path: &str, c: Caller, body: Vec<u8>, put: bool| {
        let url = format!("{}{path}", s.url);
        let req = if put { agent.put(url) } else { agent.post(url) };
        let req = match st.tokens.get(&c) {
            Some(t) => req.header("authorization", t.as_str()),
            None => req,
        };
        http(req.header("content-type", "application/json").send(body))
    };
    for (i, &c) in CALLERS.iter().enumerate() {
        let signer = c.signer();
        let key = &st.keys[signer];
        let entry = |n: &str| {
            sign_with(
                key,
                ORIGIN,
                "report",
                signer,
                &now(),
                &report(&format!("matrix {c:?} {n}")),
            )
            .to_leaf()
        };
        check(
            "/v1/entries",
            c,
            want_submit(c),
            send("/v1/entries", c, entry("single"), false),
        );
        // A batch answers 200 with one result per entry, unless the request itself is refused.
        let batch = format!("[{}]", String::from_utf8(entry("batch")).unwrap());
        let (status, body) = send("/v1/entries/batch", c, batch.into_bytes(), false);
        let got = if status == 200 {
            let v: Value = serde_json::from_slice(&body).unwrap();
            let item = &v["results"][0];
            let status = item["status"].as_u64().unwrap() as u16;
            let body = serde_json::to_vec(&item["problem"]).unwrap();
            (
                status,
                if item["problem"].is_null() {
                    vec![]
                } else {
                    body
                },
            )
        } else {
            (status, body)
        };
        check("/v1/entries/batch", c, want_submit(c), got);
        let data = format!("matrix upload {i}").into_bytes();
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data));
        check(
            "/v1/blobs/{sha256}",
            c,
            want_upload(c),
            send(&format!("/v1/blobs/{sha}"), c, data, true),
        );
    }
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // 100% of the cells: every route, every caller.
    for r in ROUTES {
        let n = covered.get(r).copied().unwrap_or(0);
        let want = if *r == "/v1/blobs/{sha256}" { 2 } else { 1 } * CALLERS.len();
        assert_eq!(n, want, "{r}: {n} cells of {want}");
    }
    assert_eq!(s.get_json("/healthz")["status"], "ok");
    drop(st.m);
}
