//! Bad input: each case gets a precise 4xx problem, and nothing is stored.

use crate::util::*;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use truce_log::Envelope;

fn expect_problem(server: &Server, path: &str, body: &[u8], status: u16, code: &str) -> Value {
    let before = server.tree_size();
    let (got, problem) = server.post(path, body);
    assert_eq!(
        (got, problem["type"].as_str()),
        (status, Some(format!("urn:truce:problem:{code}").as_str())),
        "case {code}: {problem}"
    );
    assert_eq!(
        problem["status"], status,
        "problem.status mirrors the HTTP status"
    );
    assert!(
        problem["detail"].as_str().is_some_and(|d| d.len() > 10),
        "a precise detail: {problem}"
    );
    assert_eq!(server.tree_size(), before, "case {code}: nothing stored");
    problem
}

fn with_payload(env: &Envelope, f: impl FnOnce(&mut Value)) -> Value {
    let mut v: Value = serde_json::from_slice(&env.to_leaf()).unwrap();
    f(&mut v);
    v
}

#[test]
fn refusals_are_precise_and_store_nothing() {
    let m = Mechanism::golan();
    let s = m.serve();
    let sy = m.key("sy.ops");
    let good = sign_report(&m, "sy.ops", "a good report");
    let leaf = |e: &Envelope| e.to_leaf();

    expect_problem(
        &s,
        "/v1/entries",
        b"{\"payloadType\":",
        400,
        "malformed-envelope",
    );
    expect_problem(&s, "/v1/entries", b"[]", 400, "malformed-envelope");
    expect_problem(&s, "/v1/entries", b"", 400, "malformed-envelope");
    let wrong_type = Envelope::sign("text/plain", good.payload.clone(), &sy);
    expect_problem(
        &s,
        "/v1/entries",
        &leaf(&wrong_type),
        415,
        "wrong-payload-type",
    );
    let mut bad_sig = good.clone();
    bad_sig.signatures[0].sig[0] ^= 1;
    let bad_sig = with_payload(&good, |v| {
        v["signatures"][0]["sig"] = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            bad_sig.signatures[0].sig,
        )
        .into()
    });
    expect_problem(
        &s,
        "/v1/entries",
        bad_sig.to_string().as_bytes(),
        401,
        "bad-signature",
    );
    let tampered = with_payload(&good, |v| {
        let other = sign_report(&m, "sy.ops", "a different report");
        v["payload"] =
            serde_json::from_slice::<Value>(&other.to_leaf()).unwrap()["payload"].clone();
    });
    expect_problem(
        &s,
        "/v1/entries",
        tampered.to_string().as_bytes(),
        401,
        "bad-signature",
    );
    let two_sigs = with_payload(&good, |v| {
        let sig = v["signatures"][0].clone();
        v["signatures"] = json!([sig.clone(), sig]);
    });
    expect_problem(
        &s,
        "/v1/entries",
        two_sigs.to_string().as_bytes(),
        400,
        "malformed-envelope",
    );
    let unpadded = with_payload(&good, |v| {
        let p = v["payload"]
            .as_str()
            .unwrap()
            .trim_end_matches('=')
            .to_owned();
        v["payload"] = p.into();
    });
    if unpadded != serde_json::from_slice::<Value>(&good.to_leaf()).unwrap() {
        expect_problem(
            &s,
            "/v1/entries",
            unpadded.to_string().as_bytes(),
            400,
            "malformed-envelope",
        );
    }

    let stranger = SigningKey::from_bytes(&[9; 32]);
    let unknown = sign_with(&stranger, ORIGIN, "report", "sy.ops", &now(), &report("x"));
    expect_problem(&s, "/v1/entries", &leaf(&unknown), 403, "unknown-key");
    let impersonation = sign_with(&sy, ORIGIN, "report", "il.ops", &now(), &report("x"));
    let p = expect_problem(
        &s,
        "/v1/entries",
        &leaf(&impersonation),
        403,
        "author-mismatch",
    );
    assert!(p["detail"].as_str().unwrap().contains("sy.ops"));
    let elsewhere = sign_with(
        &sy,
        "other.example/mechanism",
        "report",
        "sy.ops",
        &now(),
        &report("x"),
    );
    expect_problem(&s, "/v1/entries", &leaf(&elsewhere), 422, "wrong-mechanism");
    let future = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut early = report("x");
    early["time"]["start"] = future.clone().into();
    early["time"]["end"] = future.clone().into();
    let from_future = sign_with(&sy, ORIGIN, "report", "sy.ops", &future, &early);
    expect_problem(
        &s,
        "/v1/entries",
        &leaf(&from_future),
        422,
        "future-timestamp",
    );
    let huge = sign_with(
        &sy,
        ORIGIN,
        "report",
        "sy.ops",
        &now(),
        &report(&"x".repeat(60_000)),
    );
    expect_problem(&s, "/v1/entries", &leaf(&huge), 413, "entry-too-large");
    let mut padded = vec![b' '; 200 * 1024];
    padded.extend(leaf(&good));
    expect_problem(&s, "/v1/entries", &padded, 413, "request-too-large");

    // Schema and consistency of the payload and body.
    let raw = |payload: Value| {
        Envelope::sign(
            truce_log::dsse::ENTRY_PAYLOAD_TYPE,
            serde_json::to_vec(&payload).unwrap(),
            &sy,
        )
        .to_leaf()
    };
    let base = json!({"v": 1, "mechanism": ORIGIN, "kind": "report", "author": "sy.ops", "created": now(), "body": report("x")});
    let variant = |f: &dyn Fn(&mut Value)| {
        let mut p = base.clone();
        f(&mut p);
        raw(p)
    };
    for (what, body) in [
        ("unknown kind", variant(&|p| p["kind"] = "gossip".into())),
        ("version 2", variant(&|p| p["v"] = 2.into())),
        ("extra top-level field", variant(&|p| p["extra"] = 1.into())),
        (
            "local time",
            variant(&|p| p["created"] = "2026-11-27T09:00:00+02:00".into()),
        ),
        (
            "missing narrative",
            variant(&|p| {
                p["body"].as_object_mut().unwrap().remove("narrative");
            }),
        ),
        (
            "latitude out of range",
            variant(&|p| p["body"]["location"]["point"] = json!([35.8, 95.0])),
        ),
        (
            "grading F7",
            variant(&|p| p["body"]["grading"]["information_credibility"] = 7.into()),
        ),
        (
            "casualties low > high",
            variant(&|p| {
                p["body"]["casualties"]["killed"] = json!({"low": 3, "best": 2, "high": 1})
            }),
        ),
        (
            "unknown party",
            variant(&|p| p["body"]["perpetrator"] = "XX".into()),
        ),
        (
            "wrong ACLED sub-type",
            variant(&|p| p["body"]["sub_event_type"] = "armed_clash".into()),
        ),
        (
            "evidence not a hash",
            variant(&|p| p["body"]["evidence"] = json!(["photo.jpg"])),
        ),
        ("body not an object", variant(&|p| p["body"] = json!([]))),
    ] {
        let p = expect_problem(&s, "/v1/entries", &body, 422, "invalid-entry");
        assert!(!p["detail"].as_str().unwrap().is_empty(), "{what}");
    }
    let not_utf8 = Envelope::sign(
        truce_log::dsse::ENTRY_PAYLOAD_TYPE,
        vec![0xff, 0xfe, b'{'],
        &sy,
    );
    expect_problem(&s, "/v1/entries", &leaf(&not_utf8), 422, "invalid-entry");

    // Roles and registry.
    let notice = json!({"action": "file", "activity": "security_operation", "area": {"zones": ["gov-daraa"]},
        "window": {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z", "precision": "exact"},
        "purpose": "sweep", "addressees": ["IL"]});
    let by_observer = sign_with(
        &m.key("undof.ops"),
        ORIGIN,
        "notice",
        "undof.ops",
        &now(),
        &notice,
    );
    expect_problem(
        &s,
        "/v1/entries",
        &leaf(&by_observer),
        403,
        "role-not-allowed",
    );
    let ruling = json!({"finding": "no-hostile-acts/e1", "dispute": 1, "rule": "no-hostile-acts", "decision": "upheld", "reasons": "because"});
    let by_party = sign_with(&sy, ORIGIN, "ruling", "sy.ops", &now(), &ruling);
    expect_problem(&s, "/v1/entries", &leaf(&by_party), 403, "role-not-allowed");
    let mut unknown_zone = notice.clone();
    unknown_zone["area"]["zones"] = json!(["atlantis"]);
    let env = sign_with(&sy, ORIGIN, "notice", "sy.ops", &now(), &unknown_zone);
    expect_problem(&s, "/v1/entries", &leaf(&env), 422, "invalid-entry");
    let add_existing = json!({"action": "add", "member": "sy.ops", "role": "officer",
        "public_key": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, SigningKey::from_bytes(&[3; 32]).verifying_key().as_bytes())});
    let env = sign_with(
        &m.key("sy.admin"),
        ORIGIN,
        "membership",
        "sy.admin",
        &now(),
        &add_existing,
    );
    expect_problem(&s, "/v1/entries", &leaf(&env), 409, "conflict");
    let suspend_other = json!({"action": "suspend", "member": "il.ops"});
    let env = sign_with(
        &m.key("sy.admin"),
        ORIGIN,
        "membership",
        "sy.admin",
        &now(),
        &suspend_other,
    );
    expect_problem(&s, "/v1/entries", &leaf(&env), 403, "role-not-allowed");
    let template: Value = serde_json::from_str(include_str!(
        "../../../../scenarios/golan-1974/agreement.json"
    ))
    .unwrap();
    let amendment = sign_with(
        &m.key("us.admin"),
        ORIGIN,
        "agreement",
        "us.admin",
        &now(),
        &Genesis::body(
            &template,
            &HashMap::new(),
            &json!({"sha256": "0".repeat(64), "size": 1, "media_type": "application/geo+json"}),
        ),
    );
    // An amendment must be the next version (this one restates version 1).
    let p = expect_problem(&s, "/v1/entries", &leaf(&amendment), 409, "conflict");
    assert!(p["detail"].as_str().unwrap().contains("version 2"), "{p}");

    // A suspended member is refused; reinstated, accepted again.
    let suspend = sign_with(
        &m.key("sy.admin"),
        ORIGIN,
        "membership",
        "sy.admin",
        &now(),
        &json!({"action": "suspend", "member": "sy.ops", "reason": "test"}),
    );
    assert_eq!(s.post("/v1/entries", &leaf(&suspend)).0, 201);
    let after = sign_report(&m, "sy.ops", "while suspended");
    expect_problem(&s, "/v1/entries", &leaf(&after), 403, "member-inactive");
    let mut reinstate = sign_with(
        &m.key("sy.admin"),
        ORIGIN,
        "membership",
        "sy.admin",
        &now(),
        &json!({"action": "reinstate", "member": "sy.ops"}),
    );
    // The Golan agreement has the mediator countersign reinstatements.
    expect_problem(
        &s,
        "/v1/entries",
        &leaf(&reinstate),
        403,
        "countersignature-required",
    );
    reinstate.countersign(&m.key("us.admin")).unwrap();
    assert_eq!(s.post("/v1/entries", &leaf(&reinstate)).0, 201);
    assert_eq!(s.post("/v1/entries", &leaf(&after)).0, 201);

    // Batches: each item on its own.
    expect_problem(
        &s,
        "/v1/entries/batch",
        b"{\"not\": \"an array\"}",
        400,
        "bad-request",
    );
    let ok = sign_report(&m, "il.ops", "batch item ok");
    let batch = format!(
        "[{}, {}, {{\"payloadType\": 1}}]",
        String::from_utf8(leaf(&ok)).unwrap(),
        String::from_utf8(leaf(&impersonation)).unwrap()
    );
    let (status, v) = s.post("/v1/entries/batch", batch.as_bytes());
    assert_eq!(status, 200);
    let r = v["results"].as_array().unwrap();
    assert_eq!(
        r.iter()
            .map(|x| x["status"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![201, 403, 400]
    );
    assert_eq!(r[1]["problem"]["type"], "urn:truce:problem:author-mismatch");

    // Blobs, reads, routing.
    let (status, p) = s.put(&format!("/v1/blobs/{}", "a".repeat(64)), b"not that");
    assert_eq!(
        (status, p["type"].as_str()),
        (422, Some("urn:truce:problem:blob-hash-mismatch"))
    );
    assert_eq!(s.put("/v1/blobs/nothex", b"x").0, 400);
    let big = vec![0u8; 16 * 1024 * 1024 + 1];
    let (status, p) = s.put(
        &format!("/v1/blobs/{}", hex::encode(Sha256::digest(&big))),
        &big,
    );
    assert_eq!(
        (status, p["type"].as_str()),
        (413, Some("urn:truce:problem:request-too-large"))
    );
    for (path, status) in [
        ("/v1/entries/abc", 400),
        ("/v1/entries/99999", 404),
        ("/v1/entries/-1", 400),
        ("/v1/entries/9985734383296944128", 404),
        ("/v1/entries/18446744073709551615/receipt", 404),
        ("/v1/checkpoints/99999", 404),
        ("/v1/checkpoints/9985734383296944128", 404),
        ("/v1/proofs/inclusion?index=9985734383296944128", 400),
        ("/log/tile/0/1", 404),
        ("/log/tile/9/000", 404),
        ("/log/tile/entries/x001", 404),
        ("/v1/proofs/inclusion?index=zz", 400),
        ("/v1/proofs/inclusion", 400),
        ("/v1/proofs/consistency?from=5&to=2", 400),
        ("/v1/proofs/consistency?from=1&to=99999", 400),
        ("/v1/schemas/gossip", 404),
        ("/nowhere", 404),
        (&format!("/v1/blobs/{}", "b".repeat(64)), 404),
    ] {
        let (got, body) = s.get(path);
        assert_eq!(
            got,
            status,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        let p: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            p["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:truce:problem:"),
            "{path}"
        );
    }
    let (status, _) = http(
        s.auth(s.agent().delete(format!("{}/v1/entries", s.url)))
            .call(),
    );
    assert_eq!(status, 405);

    // Still healthy, and the accepted entries are all that was stored: 4 genesis + suspend,
    // reinstate, the report after, the batch item.
    assert_eq!(s.tree_size(), 8);
    assert_eq!(s.post("/v1/entries", &leaf(&good)).0, 201);
}

/// A genesis built by hand with fresh keys, as a deployment would.
pub struct Genesis {
    pub keys: HashMap<String, SigningKey>,
    template: Value,
    pub zones: Vec<u8>,
    pub zones_sha: String,
    pub last_payload_sha: RefCell<String>,
}

impl Genesis {
    pub fn new() -> Self {
        let template: Value = serde_json::from_str(include_str!(
            "../../../../scenarios/golan-1974/agreement.json"
        ))
        .unwrap();
        let keys = template["members"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, m)| {
                (
                    m["id"].as_str().unwrap().to_owned(),
                    SigningKey::from_bytes(&[i as u8 + 40; 32]),
                )
            })
            .collect();
        let zones = include_bytes!("../../../../scenarios/golan-1974/zones.geojson").to_vec();
        Self {
            keys,
            template,
            zones_sha: hex::encode(Sha256::digest(&zones)),
            zones,
            last_payload_sha: RefCell::default(),
        }
    }

    pub fn zones_ref(&self) -> Value {
        json!({"sha256": self.zones_sha, "size": self.zones.len(), "media_type": "application/geo+json"})
    }

    pub fn body(template: &Value, keys: &HashMap<String, SigningKey>, zones: &Value) -> Value {
        let mut body = template.clone();
        for m in body["members"].as_array_mut().unwrap() {
            let key = keys
                .get(m["id"].as_str().unwrap())
                .cloned()
                .unwrap_or_else(|| SigningKey::generate(&mut rand::rngs::OsRng));
            m["public_key"] = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                key.verifying_key().as_bytes(),
            )
            .into();
        }
        body["format"] = "truce-agreement/1".into();
        body["version"] = 1.into();
        body["zones"] = zones.clone();
        body
    }

    pub fn agreement_by(&self, member: &str, zones: &Value) -> Envelope {
        let env = sign_with(
            &self.keys[member],
            ORIGIN,
            "agreement",
            member,
            &now(),
            &Self::body(&self.template, &self.keys, zones),
        );
        *self.last_payload_sha.borrow_mut() = hex::encode(Sha256::digest(&env.payload));
        env
    }

    pub fn agreement(&self, zones: &Value) -> Envelope {
        self.agreement_by("us.admin", zones)
    }
}

fn zones_doc(geometry: Value) -> Vec<u8> {
    // The scenario's zones with one geometry replaced.
    let mut doc: Value = serde_json::from_str(include_str!(
        "../../../../scenarios/golan-1974/zones.geojson"
    ))
    .unwrap();
    doc["features"][2]["geometry"] = geometry;
    serde_json::to_vec(&doc).unwrap()
}

#[test]
fn a_bad_genesis_is_refused_and_the_log_stays_empty() {
    let m = Mechanism::empty();
    let s = m.serve();
    let g = Genesis::new();
    assert_eq!(s.tree_size(), 0);
    let report = sign_with(
        &g.keys["sy.ops"],
        ORIGIN,
        "report",
        "sy.ops",
        &now(),
        &report("first"),
    );
    expect_problem(
        &s,
        "/v1/entries",
        &report.to_leaf(),
        409,
        "genesis-required",
    );
    let p = expect_problem(
        &s,
        "/v1/entries",
        &g.agreement(&g.zones_ref()).to_leaf(),
        409,
        "missing-blob",
    );
    assert!(p["detail"].as_str().unwrap().contains("PUT /v1/blobs/"));
    expect_problem(
        &s,
        "/v1/entries",
        &g.agreement_by("sy.admin", &g.zones_ref()).to_leaf(),
        403,
        "role-not-allowed",
    );

    for (what, geometry, needle) in [
        (
            "self-intersecting polygon",
            json!({"type": "Polygon", "coordinates": [[[35.8, 33.0], [35.9, 33.1], [35.9, 33.0], [35.8, 33.1], [35.8, 33.0]]]}),
            "self",
        ),
        (
            "latitude out of range",
            json!({"type": "Polygon", "coordinates": [[[35.8, 33.0], [35.9, 95.0], [35.9, 33.0], [35.8, 33.0]]]}),
            "latitude",
        ),
        (
            "unclosed ring",
            json!({"type": "Polygon", "coordinates": [[[35.8, 33.0], [35.9, 33.1], [35.9, 33.0], [35.8, 33.05]]]}),
            "closed",
        ),
    ] {
        let doc = zones_doc(geometry);
        let sha = hex::encode(Sha256::digest(&doc));
        assert_eq!(s.put(&format!("/v1/blobs/{sha}"), &doc).0, 201);
        let zref = json!({"sha256": sha, "size": doc.len(), "media_type": "application/geo+json"});
        let p = expect_problem(
            &s,
            "/v1/entries",
            &g.agreement(&zref).to_leaf(),
            422,
            "invalid-entry",
        );
        let detail = p["detail"].as_str().unwrap().to_lowercase();
        assert!(detail.contains(needle), "{what}: {detail}");
    }
    // A reference whose size disagrees with the blob.
    assert_eq!(
        s.put(&format!("/v1/blobs/{}", g.zones_sha), &g.zones).0,
        201
    );
    let mut wrong_size = g.zones_ref();
    wrong_size["size"] = 1.into();
    expect_problem(
        &s,
        "/v1/entries",
        &g.agreement(&wrong_size).to_leaf(),
        422,
        "invalid-entry",
    );
    assert_eq!(s.tree_size(), 0);
    assert_eq!(
        s.post("/v1/entries", &g.agreement(&g.zones_ref()).to_leaf())
            .0,
        201
    );
}
