//! Membership entries the agreement has the mediator countersign: the party's administrator
//! signs without sending, the mediator's administrator reads and countersigns, the server
//! admits the two-signature envelope, and an offline verifier re-checks both signatures.

use crate::util::*;
use base64::Engine as _;
use serde_json::{Value, json};

fn problem(v: &Value) -> &str {
    v["type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("urn:truce:problem:")
}

#[test]
fn the_mediator_countersigns_new_members_where_the_agreement_says_so() {
    let m = Mechanism::golan();
    let server = m.serve();
    let dir = m.tmp.path();
    let agreement = server.get_json("/v1/mechanism");
    assert_eq!(
        agreement["agreement"]["membership"]["countersign"],
        json!(["add", "rotate", "reinstate"]),
        "{agreement}"
    );

    // IL's administrator makes a key for a new desk and signs its addition, without sending.
    let desk_key = dir.join("il.desk-2.key");
    let out = run(
        truce()
            .args(["--json", "keygen", "--member", "il.desk-2", "--out"])
            .arg(&desk_key),
        true,
    );
    let public_key = stdout_json(&out)["public_key"].as_str().unwrap().to_owned();
    let body = write_json(
        dir,
        "add.json",
        &json!({"action": "add", "member": "il.desk-2", "role": "officer",
                "public_key": public_key, "reason": "second watch desk at the Quneitra crossing"}),
    );
    let envelope = dir.join("add.envelope.json");
    run(
        server
            .truce()
            .args([
                "submit",
                "--kind",
                "membership",
                "--server",
                &server.url,
                "--key",
            ])
            .arg(m.key_path("il.admin"))
            .arg("--body")
            .arg(&body)
            .arg("--sign-only")
            .arg(&envelope),
        true,
    );
    let signed = std::fs::read(&envelope).unwrap();

    // Sent as it is, the server asks for the mediator's countersignature and logs nothing.
    let size = |s: &Server| s.get_json("/v1/mechanism")["tree_size"].as_u64().unwrap();
    let before = size(&server);
    let (status, v) = server.post("/v1/entries", &signed);
    assert_eq!(status, 403, "{v}");
    assert_eq!(problem(&v), "countersignature-required");
    assert!(
        v["detail"].as_str().unwrap().contains("truce countersign"),
        "{v}"
    );

    // Neither another party's administrator nor a mediator officer may countersign.
    for (member, why) in [
        ("sy.admin", "(administrator of `SY`) may not countersign"),
        ("us.ops", "(officer of `US`) may not countersign"),
    ] {
        let attempt = dir.join(format!("{member}.envelope.json"));
        let out = run(
            server
                .truce()
                .arg("countersign")
                .arg(&envelope)
                .arg("--write")
                .arg(&attempt)
                .arg("--key")
                .arg(m.key_path(member))
                .args(["--server", &server.url]),
            false,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("403") && err.contains(why), "{member}: {err}");
        assert!(
            !attempt.exists(),
            "a refused countersignature is not written"
        );
    }
    assert_eq!(std::fs::read(&envelope).unwrap(), signed, "input untouched");
    assert_eq!(size(&server), before, "nothing was logged");

    // The mediator's administrator reads what it signs, countersigns and submits.
    let out = run(
        server
            .truce()
            .args(["--json", "countersign"])
            .arg(&envelope)
            .arg("--key")
            .arg(m.key_path("us.admin"))
            .args(["--server", &server.url])
            .arg("--out")
            .arg(dir.join("receipts")),
        true,
    );
    let done = stdout_json(&out);
    assert_eq!(done["submitted"], true);
    let summary = done["entry"].as_str().unwrap();
    assert!(
        summary.contains("il.admin") && summary.contains("add member `il.desk-2` as officer"),
        "{summary}"
    );
    let index = done["receipt"]["index"].as_u64().unwrap();
    let logged = server.get_json(&format!("/v1/entries/{index}"));
    let sigs = logged["envelope"]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{logged}");
    let key_id = |member: &str| {
        agreement["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == member)
            .unwrap()["key_id"]
            .clone()
    };
    assert_eq!(
        sigs[0]["keyid"],
        key_id("il.admin"),
        "the author signs first"
    );
    assert_eq!(sigs[1]["keyid"], key_id("us.admin"));
    // The file now holds exactly the logged leaf.
    let leaf = std::fs::read(&envelope).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&leaf).unwrap(),
        logged["envelope"]
    );
    let again = run(
        server
            .truce()
            .arg("countersign")
            .arg(&envelope)
            .arg("--key")
            .arg(m.key_path("us.admin")),
        false,
    );
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("signs the envelope twice"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // The new desk is a member and submits in its own name.
    let mech = server.get_json("/v1/mechanism");
    assert!(
        mech["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == "il.desk-2" && x["status"] == "active"),
        "{mech}"
    );
    let first = sign_with(
        &load_key(&desk_key),
        ORIGIN,
        "report",
        "il.desk-2",
        &now(),
        &report("first report of the second desk"),
    );
    assert_eq!(server.post("/v1/entries", &first.to_leaf()).0, 201);

    // Suspension is not on the agreement's list: the party acts alone; reinstatement is.
    let by_il_admin = |body: Value| {
        sign_with(
            &m.key("il.admin"),
            ORIGIN,
            "membership",
            "il.admin",
            &now(),
            &body,
        )
    };
    let suspend = by_il_admin(json!({"action": "suspend", "member": "il.desk-2"}));
    assert_eq!(server.post("/v1/entries", &suspend.to_leaf()).0, 201);
    let mut reinstate = by_il_admin(json!({"action": "reinstate", "member": "il.desk-2"}));
    let (status, v) = server.post("/v1/entries", &reinstate.to_leaf());
    assert_eq!((status, problem(&v)), (403, "countersignature-required"));
    // A countersignature that does not verify is refused, whoever's key id it names.
    let mut forged = reinstate.clone();
    forged.countersign(&m.key("us.admin")).unwrap();
    let mut leaf: Value = serde_json::from_slice(&forged.to_leaf()).unwrap();
    leaf["signatures"][1]["sig"] = leaf["signatures"][0]["sig"].clone();
    let (status, v) = server.post("/v1/entries", leaf.to_string().as_bytes());
    assert_eq!((status, problem(&v)), (401, "bad-signature"), "{v}");
    reinstate.countersign(&m.key("us.admin")).unwrap();
    assert_eq!(server.post("/v1/entries", &reinstate.to_leaf()).0, 201);

    // Only membership entries are countersigned.
    let mut report_env = sign_report(&m, "sy.ops", "a report with a second signature");
    report_env.countersign(&m.key("us.admin")).unwrap();
    let (status, v) = server.post("/v1/entries", &report_env.to_leaf());
    assert_eq!(
        (status, problem(&v)),
        (403, "countersignature-refused"),
        "{v}"
    );
    let report_file = dir.join("report.envelope.json");
    std::fs::write(&report_file, sign_report(&m, "sy.ops", "r").to_leaf()).unwrap();
    let out = run(
        truce()
            .arg("countersign")
            .arg(&report_file)
            .arg("--key")
            .arg(m.key_path("us.admin")),
        false,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only membership entries are countersigned")
    );

    // The mediator's own members need no countersignature.
    let own = sign_with(
        &m.key("us.admin"),
        ORIGIN,
        "membership",
        "us.admin",
        &now(),
        &json!({"action": "add", "member": "us.desk-2", "role": "officer",
                "public_key": base64::engine::general_purpose::STANDARD.encode(
                    ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key().as_bytes())}),
    );
    let (status, v) = server.post("/v1/entries", &own.to_leaf());
    assert_eq!(status, 201, "{v}");

    // An auditor replaying the log re-checks every signature, countersignatures included.
    run(
        server
            .truce()
            .args(["verify", "server", &server.url, "--vkey", &m.vkey]),
        true,
    );
    let data = server.stop();
    run(
        truce()
            .args(["verify", "data"])
            .arg(&data)
            .args(["--vkey", &m.vkey]),
        true,
    );
}
