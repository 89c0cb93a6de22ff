//! The happy path, end to end: init, serve, submit from several members, verify offline,
//! mirror the tiles and recompute the root.

use crate::util::*;
use serde_json::Value;
use truce_log::checkpoint::verify_checkpoint;
use truce_log::merkle::{
    Hash, leaf_hash, parse_hash_b64, root_of_leaf_hashes, verify_consistency, verify_inclusion,
};
use truce_log::tiles::TileRef;

#[test]
fn init_serve_submit_verify_offline_and_mirror() {
    let m = Mechanism::golan();
    let server = m.serve();
    assert_eq!(server.tree_size(), 4, "agreement + 3 ratifications");
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/golan-1974/examples/report-shelling.json"
    );
    let receipts = m.tmp.path().join("receipts");

    // Reports by four members of four parties, through the CLI.
    let mut logged = Vec::new();
    for (i, member) in ["sy.ops", "il.ops", "undof.ops", "us.ops"]
        .iter()
        .enumerate()
    {
        let mut body: Value =
            serde_json::from_str(&std::fs::read_to_string(example).unwrap()).unwrap();
        body["narrative"] = format!("report {i} by {member}").into();
        let body_file = m.tmp.path().join(format!("body-{i}.json"));
        std::fs::write(&body_file, body.to_string()).unwrap();
        let out = run(
            server
                .truce()
                .args([
                    "--json",
                    "submit",
                    "--server",
                    &server.url,
                    "--kind",
                    "report",
                    "--key",
                ])
                .arg(m.key_path(member))
                .arg("--body")
                .arg(&body_file)
                .arg("--out")
                .arg(&receipts),
            true,
        );
        let v = stdout_json(&out);
        assert_eq!(v["created"], true);
        logged.push(v["receipt"]["index"].as_u64().unwrap());
    }
    assert_eq!(logged, vec![4, 5, 6, 7]);

    // More than a tile's worth, by batch, to exercise full and partial tiles at two levels.
    let batch: Vec<Value> = (0..300)
        .map(|i| {
            let member = ["sy.ops", "il.ops"][i % 2];
            serde_json::from_slice(&sign_report(&m, member, &format!("batch {i}")).to_leaf())
                .unwrap()
        })
        .collect();
    let (status, v) = server.post("/v1/entries/batch", &serde_json::to_vec(&batch).unwrap());
    assert_eq!(status, 200, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 300);
    assert!(results.iter().all(|r| r["status"] == 201), "{v}");
    let size = server.tree_size();
    assert_eq!(size, 308);

    // Mirror: checkpoint, entry bundles, hash tiles; recompute everything independently.
    let (_, note) = server.get("/log/checkpoint");
    let cp = verify_checkpoint(&note, &m.vkey).unwrap();
    assert_eq!(cp.size, size);
    // Two entry bundles: a full one and a partial one.
    assert_eq!(size, 308);
    let leaves = server.leaves(size);
    assert_eq!(leaves.len() as u64, size);
    let leaf_hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    assert_eq!(
        root_of_leaf_hashes(&leaf_hashes),
        cp.root,
        "root recomputed from the entries"
    );
    for (t, hashes) in [
        ((0u64, 256u16), &leaf_hashes[..256]),
        ((1, 52), &leaf_hashes[256..]),
    ] {
        let tile = TileRef {
            level: Some(0),
            index: t.0,
            width: t.1,
        };
        let (status, data) = server.get(&format!("/log/{}", tile.path()));
        assert_eq!(status, 200);
        let served: Vec<Hash> = data
            .chunks(32)
            .map(|c| Hash(c.try_into().unwrap()))
            .collect();
        assert_eq!(served, hashes, "{}", tile.path());
    }
    let (status, data) = server.get("/log/tile/1/000.p/1");
    assert_eq!(status, 200);
    assert_eq!(
        data,
        root_of_leaf_hashes(&leaf_hashes[..256]).0,
        "level-1 tile holds the subtree root"
    );
    assert_eq!(
        server.get("/log/tile/0/001").0,
        404,
        "full tile beyond the tree"
    );
    assert_eq!(server.get("/log/tile/0/002.p/1").0, 404);

    // GET /v1/entries/{i} serves the leaf verbatim.
    #[derive(serde::Deserialize)]
    struct EntryView {
        envelope: Box<serde_json::value::RawValue>,
    }
    let (_, body) = server.get("/v1/entries/5");
    let view: EntryView = serde_json::from_slice(&body).unwrap();
    assert_eq!(view.envelope.get().as_bytes(), &leaves[5][..]);

    // Every leaf is a valid, compact envelope.
    for l in &leaves {
        assert_eq!(&truce_log::Envelope::parse(l).unwrap().to_leaf(), l);
    }

    // Proof endpoints agree with the signed checkpoint.
    let p = server.get_json(&format!("/v1/proofs/inclusion?index=5&tree_size={size}"));
    let proof: Vec<Hash> = p["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| parse_hash_b64(h.as_str().unwrap()).unwrap())
        .collect();
    verify_inclusion(&proof, size, cp.root, 5, leaf_hashes[5]).unwrap();
    let c = server.get_json(&format!("/v1/proofs/consistency?from=7&to={size}"));
    let cproof: Vec<Hash> = c["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| parse_hash_b64(h.as_str().unwrap()).unwrap())
        .collect();
    verify_consistency(
        &cproof,
        size,
        cp.root,
        7,
        root_of_leaf_hashes(&leaf_hashes[..7]),
    )
    .unwrap();

    // `verify server` replays everything, then sees the log grow consistently.
    let state = m.tmp.path().join("seen.json");
    let out = run(
        server
            .truce()
            .args([
                "--json",
                "verify",
                "server",
                &server.url,
                "--vkey",
                &m.vkey,
                "--state",
            ])
            .arg(&state),
        true,
    );
    assert_eq!(stdout_json(&out)["entries_verified"], size);
    let env = sign_report(&m, "sy.ops", "after the first verification");
    assert_eq!(server.post("/v1/entries", &env.to_leaf()).0, 201);
    let out = run(
        server
            .truce()
            .args(["--json", "verify", "server", &server.url, "--state"])
            .arg(&state),
        true,
    );
    let v = stdout_json(&out);
    assert_eq!(v["consistent_with_previous"], size);
    assert_eq!(v["tree_size"], size + 1);

    // Offline: the server is gone; the saved receipts and tlog-proofs still verify.
    drop(server);
    for index in logged {
        let base = receipts.join(format!("{index:08}"));
        run(
            truce()
                .args(["verify", "receipt"])
                .arg(base.with_extension("receipt.json"))
                .arg("--entry")
                .arg(base.with_extension("entry.json"))
                .args(["--vkey", &m.vkey]),
            true,
        );
        run(
            truce()
                .args(["verify", "proof"])
                .arg(base.with_extension("tlog-proof"))
                .arg("--entry")
                .arg(base.with_extension("entry.json"))
                .args(["--vkey", &m.vkey]),
            true,
        );
    }
    // A receipt does not verify for another entry, nor under another key (exit code 3).
    let other = receipts.join("00000005.entry.json");
    let out = run(
        truce()
            .args(["verify", "receipt"])
            .arg(receipts.join("00000004.receipt.json"))
            .arg("--entry")
            .arg(&other)
            .args(["--vkey", &m.vkey]),
        false,
    );
    assert_eq!(out.status.code(), Some(3));
    let stranger = Mechanism::empty();
    let out = run(
        truce()
            .args(["verify", "proof"])
            .arg(receipts.join("00000004.tlog-proof"))
            .arg("--entry")
            .arg(receipts.join("00000004.entry.json"))
            .args(["--vkey", &stranger.vkey]),
        false,
    );
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn the_same_envelope_twice_gets_the_same_receipt() {
    let m = Mechanism::golan();
    let server = m.serve();
    let env = sign_report(&m, "il.ops", "once");
    let (s1, r1) = server.post("/v1/entries", &env.to_leaf());
    // The log grows in between; the repeat still gets the receipt first issued.
    assert_eq!(
        server
            .post(
                "/v1/entries",
                &sign_report(&m, "sy.ops", "in between").to_leaf()
            )
            .0,
        201
    );
    // Re-serialised with white space and keys reordered: still the same leaf.
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_slice::<Value>(&env.to_leaf()).unwrap())
            .unwrap();
    let (s2, r2) = server.post("/v1/entries", pretty.as_bytes());
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(r1, r2, "the same receipt, checkpoint and proof included");
    let before = server.tree_size();
    let batch = format!("[{0},{0}]", String::from_utf8(env.to_leaf()).unwrap());
    let (status, v) = server.post("/v1/entries/batch", batch.as_bytes());
    assert_eq!(status, 200);
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == 200 && r["receipt"]["index"] == r1["index"])
    );
    assert_eq!(server.tree_size(), before, "a repeat stores nothing");
    let fresh = sign_report(&m, "il.ops", "twice in one batch");
    let batch = format!("[{0},{0}]", String::from_utf8(fresh.to_leaf()).unwrap());
    let (_, v) = server.post("/v1/entries/batch", batch.as_bytes());
    let r = v["results"].as_array().unwrap();
    assert_eq!(
        (r[0]["status"].as_u64(), r[1]["status"].as_u64()),
        (Some(201), Some(200))
    );
    assert_eq!(r[0]["receipt"]["index"], r[1]["receipt"]["index"]);
    assert_eq!(server.tree_size(), before + 1);
}

#[test]
fn genesis_by_api_then_ratification_then_in_force() {
    // The deployment flow without demo shortcuts: empty log, zones uploaded, agreement
    // submitted by the mediator's administrator, each party ratifies with its own key.
    let m = Mechanism::empty();
    let server = m.serve();
    let g = crate::bad_input::Genesis::new();
    // The mediator uploads the zones with the CLI; the printed reference is what the agreement names.
    let zones_file = m.tmp.path().join("zones.geojson");
    std::fs::write(&zones_file, &g.zones).unwrap();
    for created in [true, false] {
        let out = run(
            server
                .truce()
                .args(["--json", "blob", "--server", &server.url])
                .arg(&zones_file),
            true,
        );
        let r = &stdout_json(&out)[0];
        assert_eq!(
            (r["sha256"].as_str(), r["size"].as_u64()),
            (Some(g.zones_sha.as_str()), Some(g.zones.len() as u64))
        );
        assert_eq!(r["media_type"], "application/geo+json");
        assert_eq!(r["created"], created);
    }
    let (status, r) = server.post("/v1/entries", &g.agreement(&g.zones_ref()).to_leaf());
    assert_eq!(status, 201, "{r}");
    let agreement_payload_sha = g.last_payload_sha.borrow().clone();
    // Before ratification, reports are refused.
    let report = sign_with(
        &g.keys["sy.ops"],
        ORIGIN,
        "report",
        "sy.ops",
        &now(),
        &report("early"),
    );
    let (status, p) = server.post("/v1/entries", &report.to_leaf());
    assert_eq!(
        (status, p["type"].as_str()),
        (409, Some("urn:truce:problem:not-in-force")),
        "{p}"
    );
    for admin in ["us.admin", "sy.admin", "il.admin"] {
        let body =
            serde_json::json!({"agreement_index": 0, "agreement_sha256": agreement_payload_sha});
        let env = sign_with(&g.keys[admin], ORIGIN, "ratification", admin, &now(), &body);
        let (status, r) = server.post("/v1/entries", &env.to_leaf());
        assert_eq!(status, 201, "{admin}: {r}");
    }
    let mech = server.get_json("/v1/mechanism");
    assert_eq!(mech["agreement"]["in_force"], true);
    assert_eq!(mech["zones"]["type"], "FeatureCollection");
    let (status, _) = server.post("/v1/entries", &report.to_leaf());
    assert_eq!(status, 201);
}

#[test]
fn a_batch_can_register_a_member_and_carry_its_first_entries() {
    let m = Mechanism::golan();
    let server = m.serve();
    let desk = ed25519_dalek::SigningKey::from_bytes(&[77; 32]);
    let add = serde_json::json!({"action": "add", "member": "sy.desk-2", "role": "officer",
        "public_key": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, desk.verifying_key().as_bytes())});
    let mut add = sign_with(
        &m.key("sy.admin"),
        ORIGIN,
        "membership",
        "sy.admin",
        &now(),
        &add,
    );
    // The Golan agreement has the mediator countersign new members and new keys.
    add.countersign(&m.key("us.admin")).unwrap();
    let first = sign_with(
        &desk,
        ORIGIN,
        "report",
        "sy.desk-2",
        &now(),
        &report("first report of a new desk"),
    );
    let forged = sign_with(
        &desk,
        ORIGIN,
        "report",
        "sy.ops",
        &now(),
        &report("a new key claiming another member"),
    );
    let items: Vec<String> = [&add, &first, &forged]
        .iter()
        .map(|e| String::from_utf8(e.to_leaf()).unwrap())
        .collect();
    let (status, v) = server.post(
        "/v1/entries/batch",
        format!("[{}]", items.join(",")).as_bytes(),
    );
    assert_eq!(status, 200);
    let r = v["results"].as_array().unwrap();
    assert_eq!(
        r.iter()
            .map(|x| x["status"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![201, 201, 403],
        "{v}"
    );
    assert_eq!(r[2]["problem"]["type"], "urn:truce:problem:author-mismatch");

    // The desk's key is rotated; its first report, sent again, still gets its original receipt.
    let next = ed25519_dalek::SigningKey::from_bytes(&[78; 32]);
    let rotate = serde_json::json!({"action": "rotate", "member": "sy.desk-2",
        "public_key": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, next.verifying_key().as_bytes())});
    let mut rotate = sign_with(
        &m.key("sy.admin"),
        ORIGIN,
        "membership",
        "sy.admin",
        &now(),
        &rotate,
    );
    rotate.countersign(&m.key("us.admin")).unwrap();
    assert_eq!(server.post("/v1/entries", &rotate.to_leaf()).0, 201);
    let (status, again) = server.post("/v1/entries", &first.to_leaf());
    assert_eq!(status, 200);
    assert_eq!(again, r[1]["receipt"]);
    let late = sign_with(
        &desk,
        ORIGIN,
        "report",
        "sy.desk-2",
        &now(),
        &report("signed with the old key"),
    );
    assert_eq!(
        server.post("/v1/entries", &late.to_leaf()).1["type"],
        "urn:truce:problem:unknown-key"
    );
    run(
        server
            .truce()
            .args(["verify", "server", &server.url, "--vkey", &m.vkey]),
        true,
    );
}

#[test]
fn entry_bundles_are_gzipped_for_clients_that_accept_it() {
    use std::io::{Read as _, Write as _};
    let m = Mechanism::golan();
    let server = m.serve();
    let addr = server.url.trim_start_matches("http://").to_owned();
    let token = server.token().unwrap().to_owned();
    let fetch = |accept_gzip: bool| {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let extra = if accept_gzip {
            "Accept-Encoding: gzip\r\n"
        } else {
            ""
        };
        write!(s, "GET /log/tile/entries/000.p/4 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{extra}Connection: close\r\n\r\n").unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        (
            String::from_utf8_lossy(&raw[..split]).to_lowercase(),
            raw[split + 4..].to_vec(),
        )
    };
    let (plain_head, plain) = fetch(false);
    assert!(!plain_head.contains("content-encoding"), "{plain_head}");
    let (gz_head, gz) = fetch(true);
    assert!(gz_head.contains("content-encoding: gzip"), "{gz_head}");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
    assert_eq!(truce_log::tiles::decode_bundle(&plain).unwrap().len(), 4);
}

/// The flow of docs/deployment.md ("A real mechanism"), command by command, as a new operator
/// and the parties would run it: keys made on each member's machine (signing and encryption),
/// zones uploaded, the agreement submitted, a token per party administrator, `truce ratify`;
/// then a civilian case, which needs the members' encryption keys.
#[test]
fn a_deployment_done_from_the_docs_can_ratify_and_seal_regression() {
    let m = Mechanism::empty();
    let server = m.serve();
    let dir = m.tmp.path();
    let keys = dir.join("party-keys");
    let mut agreement: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../scenarios/golan-1974/agreement.json"
    ))
    .unwrap();
    for member in agreement["members"].as_array_mut().unwrap() {
        let id = member["id"].as_str().unwrap().to_owned();
        let out = run(
            truce()
                .args(["--json", "keygen", "--member", &id, "--out"])
                .arg(keys.join(format!("{id}.key"))),
            true,
        );
        let k = stdout_json(&out);
        assert!(
            k["encryption_key"].as_str().unwrap().starts_with("age1"),
            "keygen prints the encryption key: {k}"
        );
        member["public_key"] = k["public_key"].clone();
        member["encryption_key"] = k["encryption_key"].clone();
    }
    let zones = dir.join("zones.geojson");
    std::fs::copy("../../scenarios/golan-1974/zones.geojson", &zones).unwrap();
    let out = run(
        truce()
            .args(["--json", "blob", "--server", &server.url])
            .arg(&zones),
        true,
    );
    let r = &stdout_json(&out)[0];
    agreement["format"] = "truce-agreement/1".into();
    agreement["version"] = 1.into();
    agreement["zones"] = serde_json::json!({"sha256": r["sha256"], "size": r["size"], "media_type": r["media_type"]});
    let body = write_json(dir, "agreement.json", &agreement);
    let receipts = dir.join("receipts");
    let submit = |args: &[&str]| {
        run(
            truce()
                .args(args)
                .arg("--out")
                .arg(&receipts)
                .arg("--queue")
                .arg(dir.join("queue")),
            true,
        )
    };
    submit(&[
        "submit",
        "--server",
        &server.url,
        "--kind",
        "agreement",
        "--key",
        keys.join("us.admin.key").to_str().unwrap(),
        "--body",
        body.to_str().unwrap(),
    ]);
    // The operator makes a token for each party's administrator; each ratifies with its own key.
    for admin in ["us.admin", "sy.admin", "il.admin"] {
        let token = make_token(&m.data, admin, "write", "1d").unwrap();
        let out = submit(&[
            "--token",
            &token,
            "ratify",
            "--server",
            &server.url,
            "--key",
            keys.join(format!("{admin}.key")).to_str().unwrap(),
        ]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("ratifying for"), "{said}");
    }
    let token = make_token(&m.data, "sy.ops", "write", "1d").unwrap();
    let mech: serde_json::Value = serde_json::from_slice(
        &http(
            agent()
                .get(format!("{}/v1/mechanism", server.url))
                .header("authorization", format!("Bearer {token}"))
                .call(),
        )
        .1,
    )
    .unwrap();
    assert_eq!(mech["agreement"]["in_force"], true, "{}", mech["agreement"]);
    // Nothing left to ratify: said so, not logged twice.
    let size = server.tree_size();
    let out = run(
        truce()
            .args([
                "--token",
                &token,
                "ratify",
                "--server",
                &server.url,
                "--key",
            ])
            .arg(keys.join("sy.admin.key")),
        false,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing to ratify"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.tree_size(), size);
    // A civilian case: the record is sealed to members' encryption keys.
    let person = write_json(
        dir,
        "person.json",
        &serde_json::json!({"name": "A. N. Other", "age": 34, "last_seen": "Al Qunaytirah"}),
    );
    submit(&[
        "--token",
        &token,
        "case",
        "report",
        "--server",
        &server.url,
        "--key",
        keys.join("sy.ops.key").to_str().unwrap(),
        "--detaining",
        "IL",
        "--person",
        person.to_str().unwrap(),
    ]);
    assert_eq!(server.tree_size(), size + 1);
}
