//! The server's admission and the verifier's are one function: the same entries, offered in
//! the same order, get the same answers from a live `LogService` and from [`readmit`].

use super::*;
use crate::keys::MemberKey;
use crate::scenario::{Scenario, sign_entry};
use serde_json::{Value, json};
use std::sync::Arc;
use truce_model::Kind;
use truce_server::{DataDir, LogService};
use truce_store::Store;

const ORIGIN: &str = "truce.example/golan-1974";

fn report(narrative: &str) -> Value {
    let mut r: Value = serde_json::from_str(include_str!(
        "../../../scenarios/golan-1974/examples/report-shelling.json"
    ))
    .unwrap();
    r["narrative"] = narrative.into();
    r
}

/// One offer: what it is, and the envelopes submitted together (one batch).
struct Offer {
    what: &'static str,
    batch: Vec<Envelope>,
}

#[test]
fn the_servers_admission_and_the_verifiers_agree_entry_by_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("g");
    crate::scenario::init(&dir, ORIGIN, &Scenario::built_in("golan-1974").unwrap()).unwrap();
    let key = |m: &str| MemberKey::load(&dir.join("keys").join(format!("{m}.key"))).unwrap();
    let as_other = |m: &str, key: &MemberKey| MemberKey {
        member: m.into(),
        key: key.key.clone(),
        encryption: None,
    };
    let now = jiff::Timestamp::now();
    let sign = |k: &MemberKey, kind: Kind, body: &Value| sign_entry(ORIGIN, kind, k, body, now);
    let (sy_ops, il_admin, us_admin) = (key("sy.ops"), key("il.admin"), key("us.admin"));
    let desk2 = MemberKey::generate("il.desk-2");
    let desk3 = MemberKey::generate("il.desk-3");
    let add = |k: &MemberKey, countersigned: bool| {
        let mut env = sign(
            &il_admin,
            Kind::Membership,
            &json!({"action": "add", "member": k.member, "role": "officer",
                    "public_key": k.public_key_b64(), "reason": "a second watch desk"}),
        );
        if countersigned {
            env.countersign(&us_admin.key).unwrap();
        }
        env
    };
    let swapped = {
        let mut a = sign(&sy_ops, Kind::Report, &report("signature of another entry"));
        a.signatures = sign(&sy_ops, Kind::Report, &report("the other entry")).signatures;
        a
    };
    let offers = vec![
        Offer {
            what: "a report by an officer",
            batch: vec![sign(
                &sy_ops,
                Kind::Report,
                &report("shelling near Quneitra"),
            )],
        },
        Offer {
            what: "signed by sy.ops in il.ops's name",
            batch: vec![sign(
                &as_other("il.ops", &sy_ops),
                Kind::Report,
                &report("in another's name"),
            )],
        },
        Offer {
            what: "a signature of another payload",
            batch: vec![swapped],
        },
        Offer {
            what: "another mechanism",
            batch: vec![sign_entry(
                "other.example/log",
                Kind::Report,
                &sy_ops,
                &report("elsewhere"),
                now,
            )],
        },
        Offer {
            what: "an unregistered key",
            batch: vec![sign(
                &MemberKey::generate("sy.ops"),
                Kind::Report,
                &report("unknown key"),
            )],
        },
        Offer {
            what: "a membership the agreement wants countersigned, without it",
            batch: vec![add(&desk2, false)],
        },
        Offer {
            what: "the same membership countersigned by the mediator",
            batch: vec![add(&desk2, true)],
        },
        Offer {
            what: "a report by the new member",
            batch: vec![sign(&desk2, Kind::Report, &report("from the second desk"))],
        },
        Offer {
            what: "a member added and reporting in one batch (key unknown at admission)",
            batch: vec![
                add(&desk3, true),
                sign(&desk3, Kind::Report, &report("from the third desk")),
            ],
        },
        Offer {
            what: "the new member suspended",
            batch: vec![sign(
                &il_admin,
                Kind::Membership,
                &json!({"action": "suspend", "member": "il.desk-2", "reason": "desk closed"}),
            )],
        },
        Offer {
            what: "a report by the suspended member",
            batch: vec![sign(&desk2, Kind::Report, &report("while suspended"))],
        },
        Offer {
            what: "created 400 days before the log's clock",
            batch: vec![sign_entry(
                ORIGIN,
                Kind::Report,
                &sy_ops,
                &{
                    let mut r = report("long ago");
                    r["time"] = json!({"start": "2025-01-01T10:00:00Z", "end": "2025-01-01T11:00:00Z", "precision": "hour"});
                    r
                },
                "2025-01-01T12:00:00Z".parse().unwrap(),
            )],
        },
        Offer {
            what: "a ratification of an agreement that is not logged",
            batch: vec![sign(
                &key("sy.admin"),
                Kind::Ratification,
                &json!({"agreement_index": 99, "agreement_sha256": "00".repeat(32)}),
            )],
        },
        Offer {
            what: "a membership by an officer",
            batch: vec![sign(
                &sy_ops,
                Kind::Membership,
                &json!({"action": "suspend", "member": "sy.admin", "reason": "not an officer's to do"}),
            )],
        },
    ];

    let data = DataDir::open(&dir).unwrap();
    let store: Arc<dyn Store> =
        Arc::new(truce_store_sqlite::SqliteStore::open(&data.database_path()).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let service = rt
        .block_on(async { LogService::open(store.clone(), data.read_log_key().unwrap(), ORIGIN) })
        .unwrap();
    let mut blobs = |sha: &str| -> Result<Vec<u8>> {
        store
            .get_blob(sha)?
            .with_context(|| format!("blob {sha} is not in the store"))
    };
    // The verifier re-admits what `init` logged, then follows the server offer by offer.
    let mut state = LogState::new();
    let mut size = service.checkpoint().size;
    for (i, leaf) in store.leaves(0, size).unwrap().iter().enumerate() {
        readmit(&mut state, ORIGIN, i as u64, leaf, &mut blobs)
            .unwrap()
            .unwrap();
    }
    let mut outcomes = Vec::new();
    for offer in offers {
        let items: Vec<_> = offer
            .batch
            .iter()
            .map(|env| service.prepare(&env.to_leaf(), jiff::Timestamp::now()))
            .collect();
        let answers = rt.block_on(service.submit_many(items));
        for (env, answer) in offer.batch.iter().zip(answers) {
            match answer {
                Ok(admitted) => {
                    outcomes.push("logged".to_owned());
                    assert!(admitted.created, "{}: a repeat", offer.what);
                    let index = admitted.receipt.index;
                    assert_eq!(index, size, "{}", offer.what);
                    let logged = store.leaves(index, index + 1).unwrap().remove(0);
                    let verdict = readmit(&mut state, ORIGIN, index, &logged, &mut blobs).unwrap();
                    assert!(
                        verdict.is_ok(),
                        "{}: the server logged it, the verifier refuses it: {verdict:?}",
                        offer.what
                    );
                    size += 1;
                }
                Err(r) => {
                    outcomes.push(r.code.to_string());
                    let verdict =
                        readmit(&mut state, ORIGIN, size, &env.to_leaf(), &mut blobs).unwrap();
                    let Err(why) = verdict else {
                        panic!(
                            "{}: the server refused it ({}: {}), the verifier admits it",
                            offer.what, r.code, r.detail
                        );
                    };
                    assert!(
                        why.contains(&format!("({})", r.code)),
                        "{}: the server says {}, the verifier {why}",
                        offer.what,
                        r.code
                    );
                }
            }
        }
    }
    assert_eq!(service.checkpoint().size, size);
    // Every offer got the answer it was made for, from both.
    assert_eq!(
        outcomes,
        [
            "logged",
            "author-mismatch",
            "bad-signature",
            "wrong-mechanism",
            "unknown-key",
            "countersignature-required",
            "logged",
            "logged",
            "logged",
            "logged",
            "logged",
            "member-inactive",
            "past-timestamp",
            "conflict",
            "role-not-allowed",
        ]
    );
}
