//! The compliance engine through the real binary: findings from reports, a dispute and a
//! ruling with the CLI, `truce replay` agreeing with the server's signed state commitment —
//! and catching an operator who edits a finding in its store.

use crate::util::*;
use serde_json::{Value, json};

fn shelling_by(perpetrator: &str) -> Value {
    let mut r = report("Artillery fire on the outskirts of Al Qunaytirah (test)");
    r["perpetrator"] = perpetrator.into();
    r
}

#[test]
fn findings_disputes_rulings_and_replay() {
    let m = Mechanism::golan();
    let s = m.serve();
    let dir = m.tmp.path();
    let body = write_json(dir, "r.json", &shelling_by("IL"));
    as_member(
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
            body.to_str().unwrap(),
        ],
        true,
    );
    s.settled_commitment();

    // The report of shelling attributed to IL is a finding against IL under no-hostile-acts.
    let out = run(
        s.truce()
            .args(["--json", "findings", "--server", &s.url, "--party", "IL"]),
        true,
    );
    let list = stdout_json(&out);
    let ids: Vec<&str> = list["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    let id = "no-hostile-acts/e4".to_owned();
    assert!(ids.contains(&id.as_str()), "{ids:?}");
    let f = s.get_json(&format!("/v1/findings/{id}"));
    assert_eq!(f["finding"]["status"], "alleged");
    assert_eq!(f["finding"]["party"], "IL");
    assert_eq!(f["rule"]["id"], "no-hostile-acts");
    // The evidence chain carries each entry with a receipt that verifies offline.
    let ev = &f["evidence"][0];
    assert_eq!(ev["index"], 4);
    let receipt: truce_log::Receipt = serde_json::from_value(ev["receipt"].clone()).unwrap();
    receipt
        .verify(ev["envelope"].as_str().unwrap().as_bytes(), &m.vkey)
        .expect("evidence receipt verifies");
    // Monitoring verdicts on the day of the shelling (the default window, the last week of the
    // log clock, moves with the wall clock): the shelled governorate has an event; a zone
    // nobody reported on or observed is not observable.
    let cov = s.get_json("/v1/coverage?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z");
    let verdict = |z: &str| {
        cov["zones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["zone"] == z)
            .map(|v| v["verdict"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(verdict("gov-quneitra"), "events_reported");
    assert_eq!(verdict("gov-as-suwayda"), "not_observable");
    assert_eq!(s.get("/v1/coverage?zone=atlantis").0, 404);
    // Filters are checked.
    assert_eq!(s.get("/v1/findings?status=guilty").0, 400);
    assert_eq!(s.get("/v1/findings?bbox=1,2,3").0, 400);
    assert_eq!(s.get("/v1/findings/no-such/finding").0, 404);
    let none = s.get_json("/v1/findings?party=SY");
    assert_eq!(none["total"], 0);

    // Entries the engine would give no effect are refused at admission, with the reason:
    // SY is not the party held responsible; the mediator may not rule inside the dispute
    // window without a dispute.
    let out = as_member(
        &s,
        &m,
        "sy.ops",
        &[
            "dispute",
            "--server",
            &s.url,
            &id,
            "--reasons",
            "Not us either",
        ],
        false,
    );
    assert_eq!(out.status.code(), Some(4), "refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("only IL, the party held responsible"), "{err}");
    let out = as_member(
        &s,
        &m,
        "us.ops",
        &[
            "rule",
            "--server",
            &s.url,
            &id,
            "--decision",
            "upheld",
            "--reasons",
            "Early",
        ],
        false,
    );
    assert_eq!(out.status.code(), Some(4), "refused");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("dispute window"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.tree_size(), 5, "nothing was logged");

    // IL, the party held responsible, disputes it; the mediator rules on the dispute.
    as_member(
        &s,
        &m,
        "il.ops",
        &[
            "dispute",
            "--server",
            &s.url,
            &id,
            "--reasons",
            "Our guns were silent",
        ],
        true,
    );
    s.settled_commitment();
    assert_eq!(
        s.get_json(&format!("/v1/findings/{id}"))["finding"]["status"],
        "disputed"
    );
    as_member(
        &s,
        &m,
        "us.ops",
        &[
            "rule",
            "--server",
            &s.url,
            &id,
            "--decision",
            "dismissed",
            "--reasons",
            "No observation supports the origin of fire",
        ],
        true,
    );
    let c1 = s.settled_commitment();
    let f = s.get_json(&format!("/v1/findings/{id}"));
    assert_eq!(f["finding"]["status"], "dismissed");
    assert_eq!(f["disputes"].as_array().unwrap().len(), 1);
    assert_eq!(f["rulings"].as_array().unwrap().len(), 1);
    let cards = s.get_json("/v1/scorecards?party=IL");
    assert_eq!(cards["scorecards"][0]["disputes_won"], 1);

    // Two independent replays in fresh processes agree with each other and with the server.
    let replay = |want: bool| {
        run(
            s.truce()
                .args(["--json", "replay", "--server", &s.url, "--vkey", &m.vkey]),
            want,
        )
    };
    let r1 = stdout_json(&replay(true));
    let r2 = stdout_json(&replay(true));
    assert_eq!(r1["state_hash"], r2["state_hash"]);
    assert_eq!(r1["state_hash"], c1["state_hash"]);
    assert_eq!(r1["commitment_size"], c1["size"]);

    // The operator edits the finding in its store (the saved derived state) and restarts.
    let data = s.stop();
    {
        let db = rusqlite::Connection::open(data.join("truce.db")).unwrap();
        let (size, state): (i64, Vec<u8>) = db
            .query_row("SELECT size, state FROM state_snapshots", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        let mut v: Value = serde_json::from_slice(&state).unwrap();
        v["findings"][&id]["status"] = json!("upheld");
        db.execute(
            "UPDATE state_snapshots SET state = ?1 WHERE size = ?2",
            rusqlite::params![serde_json::to_vec(&v).unwrap(), size],
        )
        .unwrap();
    }
    let s = Server::start(&data);
    assert_eq!(
        s.get_json(&format!("/v1/findings/{id}"))["finding"]["status"],
        "upheld"
    );
    // New entries make the server publish a commitment over its (tampered) state.
    let body = write_json(dir, "r2.json", &shelling_by("UNKNOWN"));
    as_member(
        &s,
        &m,
        "undof.ops",
        &[
            "submit",
            "--server",
            &s.url,
            "--kind",
            "report",
            "--body",
            body.to_str().unwrap(),
        ],
        true,
    );
    s.settled_commitment();
    let out = run(
        s.truce()
            .args(["replay", "--server", &s.url, "--vkey", &m.vkey]),
        false,
    );
    assert_eq!(out.status.code(), Some(3), "verification failure exit code");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{id}: server says upheld, the log gives dismissed"
        )),
        "{err}"
    );
}
