//! Runs a conformance case: an agreement (rules, zones, procedure), a list of entries and the
//! expected derived state. Entries are signed with each member's key and go through the
//! server's own admission (`truce_model::admission`: schema, mechanism, clock, signature,
//! the registry's rules), then through the engine.

#![allow(dead_code)]

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use truce_engine::{Engine, State};
use truce_log::dsse::Envelope;
use truce_model::admission::{Documents, LogState};
use truce_model::entry::{Entry, Kind, build_payload};
use truce_model::registry::Registry;

pub const ORIGIN: &str = "conformance.example/mechanism";
pub const GOLAN_ZONES: &str = include_str!("../../../../scenarios/golan-1974/zones.geojson");
pub const GOLAN_AGREEMENT: &str = include_str!("../../../../scenarios/golan-1974/agreement.json");
pub const SYNTHETIC_ZONES: &str = include_str!("../conformance/synthetic-zones.geojson");

/// The committed conformance cases (`tests/conformance/*.json`) by file name, sorted.
pub fn conformance_cases() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((path.file_name().unwrap().to_string_lossy().into_owned(), v));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn member_key(id: &str) -> SigningKey {
    let seed: [u8; 32] = Sha256::digest(format!("conformance member {id}").as_bytes()).into();
    SigningKey::from_bytes(&seed)
}

fn key_id(id: &str) -> String {
    truce_log::dsse::key_id(&member_key(id).verifying_key())
}

/// The agreement body for a case: the Golan template's parties and members, the case's rules,
/// zones and procedure.
pub fn agreement_body(case: &Value, zones_doc: &str) -> Value {
    let mut a: Value = serde_json::from_str(GOLAN_AGREEMENT).unwrap();
    a["format"] = "truce-agreement/1".into();
    a["version"] = 1.into();
    if let Some(e) = case.get("effective") {
        a["effective"] = e.clone();
    }
    a["zones"] = json!({
        "sha256": hex::encode(Sha256::digest(zones_doc.as_bytes())),
        "size": zones_doc.len(),
        "media_type": "application/geo+json",
    });
    if let Some(rules) = case.get("rules") {
        a["rules"] = rules.clone();
    }
    if let Some(p) = case.get("procedure") {
        a["procedure"] = p.clone();
    }
    if let Some(f) = case.get("fusion") {
        a["fusion"] = f.clone();
    }
    for m in a["members"].as_array_mut().unwrap() {
        let id = m["id"].as_str().unwrap().to_owned();
        m["public_key"] = base64::engine::general_purpose::STANDARD
            .encode(member_key(&id).verifying_key().as_bytes())
            .into();
    }
    a
}

pub fn zones_of(case: &Value) -> String {
    if let Some(text) = case.get("zones_text").and_then(Value::as_str) {
        return text.to_owned();
    }
    match case.get("zones").and_then(Value::as_str) {
        Some("golan") | None => GOLAN_ZONES.to_owned(),
        Some("synthetic") => SYNTHETIC_ZONES.to_owned(),
        Some(other) => panic!("unknown zones {other}"),
    }
}

pub struct Run {
    pub engine: Engine,
    pub registry: Registry,
    /// Log index of each case entry (`None`: refused at admission), and refusal codes.
    pub refused: BTreeMap<usize, String>,
}

fn parse_time(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

/// The zones document of a replay, served to the engine by its hash.
struct ZonesDoc {
    sha256: String,
    text: String,
}

impl truce_engine::Blobs for ZonesDoc {
    fn blob(&self, sha256: &str) -> Option<Vec<u8>> {
        (sha256 == self.sha256).then(|| self.text.clone().into_bytes())
    }
}

/// A log being replayed one entry at a time, through admission and the engine.
pub struct Replay {
    pub engine: Engine,
    /// Admission's state: the registry, the annexes and the log's clock.
    pub admission: LogState,
    zones: ZonesDoc,
    /// Log index of the next admitted entry.
    next: u64,
    /// The case, for amendments built from it.
    case: Value,
    /// Log index and payload SHA-256 of the latest admitted agreement entry.
    last_agreement: Option<(u64, String)>,
}

impl Replay {
    /// The case's agreement and every ratification, at the case's genesis time.
    pub fn start(case: &Value) -> Replay {
        let text = zones_of(case);
        let body = agreement_body(case, &text);
        let mut replay = Replay {
            engine: Engine::new(),
            admission: LogState::new(),
            zones: ZonesDoc {
                sha256: hex::encode(Sha256::digest(text.as_bytes())),
                text,
            },
            next: 0,
            case: case.clone(),
            last_agreement: None,
        };
        let start = case
            .get("genesis")
            .and_then(Value::as_str)
            .unwrap_or("2026-01-01T00:00:00Z");
        replay
            .submit("us.admin", Kind::Agreement, start, &body)
            .expect("agreement admitted");
        let agreement_sha = {
            let payload = build_payload(
                ORIGIN,
                Kind::Agreement,
                "us.admin",
                parse_time(start),
                &body,
            );
            hex::encode(Sha256::digest(&payload))
        };
        for admin in ["us.admin", "sy.admin", "il.admin"] {
            let r = json!({"agreement_index": 0, "agreement_sha256": agreement_sha});
            replay
                .submit(admin, Kind::Ratification, start, &r)
                .expect("ratification admitted");
        }
        replay
    }

    /// Admits and applies one entry; returns its log index, or why admission refused it.
    pub fn submit(
        &mut self,
        author: &str,
        kind: Kind,
        created: &str,
        body: &Value,
    ) -> Result<u64, String> {
        let payload = build_payload(ORIGIN, kind, author, parse_time(created), body);
        let entry = Entry::parse(&payload).map_err(|r| format!("{}: {}", r.code, r.detail))?;
        let psha = hex::encode(Sha256::digest(&payload));
        let env = Envelope::sign(
            truce_log::dsse::ENTRY_PAYLOAD_TYPE,
            payload,
            &member_key(author),
        );
        let zones = &self.zones;
        let mut docs = |a: &truce_model::agreement::Agreement| -> Result<Documents, _> {
            truce_model::admission::documents(a, &mut |sha| {
                Ok((sha == zones.sha256).then(|| zones.text.clone().into_bytes()))
            })
        };
        self.admission
            .admit(ORIGIN, self.next, &env, &entry, &[], &mut docs)
            .map_err(|r| format!("{}: {}", r.code, r.detail))?;
        if kind == Kind::Agreement {
            self.last_agreement = Some((self.next, psha.clone()));
        }
        self.engine
            .apply(self.next, &entry, &self.zones)
            .map_err(|e| e.to_string())?;
        self.next += 1;
        Ok(self.next - 1)
    }

    /// Submits a case entry: an object with `author`, `kind`, `created` and `body`. Two
    /// shorthands: an `agreement` entry with `"amendment": {...}` instead of a body is the
    /// case's agreement with those fields replaced (`version`, `effective`, `rules`,
    /// `procedure`, `parties`); a `ratification` with body `"latest"` ratifies the latest
    /// logged agreement entry.
    pub fn submit_entry(&mut self, e: &Value) -> Result<u64, String> {
        let kind = Kind::parse(e["kind"].as_str().unwrap()).unwrap();
        let body = if let Some(am) = e.get("amendment") {
            let mut c = self.case.clone();
            for k in ["effective", "rules", "procedure", "fusion"] {
                if let Some(v) = am.get(k) {
                    c[k] = v.clone();
                }
            }
            let mut b = agreement_body(&c, &self.zones.text);
            for k in ["version", "parties", "title"] {
                if let Some(v) = am.get(k) {
                    b[k] = v.clone();
                }
            }
            b
        } else if e["body"] == "latest" {
            let (index, sha) = self.last_agreement.clone().unwrap();
            json!({"agreement_index": index, "agreement_sha256": sha})
        } else {
            e["body"].clone()
        };
        self.submit(
            e["author"].as_str().unwrap(),
            kind,
            e["created"].as_str().unwrap(),
            &body,
        )
    }
}

/// Replays a case: the agreement, every ratification, then the case's entries.
pub fn run(case: &Value) -> Run {
    let mut replay = Replay::start(case);
    let mut refused = BTreeMap::new();
    for (i, e) in case["entries"].as_array().unwrap().iter().enumerate() {
        if let Err(why) = replay.submit_entry(e) {
            refused.insert(i, why);
        }
    }
    Run {
        engine: replay.engine,
        registry: replay.admission.registry,
        refused,
    }
}

/// Checks a run against the case's `expect`; returns the problems found.
pub fn check(case: &Value, run: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    let state: &State = run.engine.state();
    let expect = &case["expect"];
    let findings = expect["findings"].as_object().cloned().unwrap_or_default();
    for (id, want) in &findings {
        let Some(f) = state.findings.get(id) else {
            problems.push(format!("missing finding {id}"));
            continue;
        };
        let got = serde_json::to_value(f).unwrap();
        for (k, v) in want.as_object().unwrap() {
            if &got[k] != v {
                problems.push(format!("finding {id}: {k} is {}, expected {v}", got[k]));
            }
        }
    }
    if expect.get("only_these_findings") != Some(&Value::Bool(false)) {
        for id in state.findings.keys() {
            if !findings.contains_key(id) {
                problems.push(format!(
                    "unexpected finding {id}: {}",
                    state.findings[id].summary
                ));
            }
        }
    }
    for (id, want) in expect["events"].as_object().cloned().unwrap_or_default() {
        match state.events.get(&id) {
            None => problems.push(format!("missing event {id}")),
            Some(e) => {
                let got = serde_json::to_value(e).unwrap();
                for (k, v) in want.as_object().unwrap() {
                    if &got[k] != v {
                        problems.push(format!("event {id}: {k} is {}, expected {v}", got[k]));
                    }
                }
            }
        }
    }
    if let Some(want) = expect.get("fusion_log") {
        let got = serde_json::to_value(&state.fusion_log).unwrap();
        let actions: Vec<Value> = got
            .as_array()
            .unwrap()
            .iter()
            .map(|s| json!({"action": s["action"], "events": s["events"], "index": s["index"]}))
            .collect();
        if &Value::Array(actions.clone()) != want {
            problems.push(format!("fusion log is {actions:?}, expected {want}"));
        }
    }
    for (id, want) in expect["deadlines"].as_object().cloned().unwrap_or_default() {
        match state.deadlines.get(&id) {
            None => problems.push(format!("missing deadline {id}")),
            Some(d) => {
                let got = serde_json::to_value(d).unwrap();
                for (k, v) in want.as_object().unwrap() {
                    if &got[k] != v {
                        problems.push(format!("deadline {id}: {k} is {}, expected {v}", got[k]));
                    }
                }
            }
        }
    }
    let partial = |what: &str, got: Option<Value>, want: &Value, problems: &mut Vec<String>| {
        let Some(got) = got else {
            problems.push(format!("missing {what}"));
            return;
        };
        for (k, v) in want.as_object().unwrap() {
            if &got[k] != v {
                problems.push(format!("{what}: {k} is {}, expected {v}", got[k]));
            }
        }
    };
    for (index, want) in expect["notices"].as_object().cloned().unwrap_or_default() {
        let got = state
            .notices
            .get(&index.parse::<u64>().unwrap())
            .map(|n| serde_json::to_value(n).unwrap());
        partial(&format!("notice {index}"), got, &want, &mut problems);
    }
    for (period, want) in expect["attestations"]
        .as_object()
        .cloned()
        .unwrap_or_default()
    {
        let got = state
            .attestations
            .get(&period)
            .map(|a| serde_json::to_value(a).unwrap());
        partial(&format!("attestation {period}"), got, &want, &mut problems);
    }
    for (party, want) in expect["participation"]
        .as_object()
        .cloned()
        .unwrap_or_default()
    {
        let got: Vec<Value> = state
            .participation
            .get(&party)
            .map(|v| {
                v.iter()
                    .map(|r| serde_json::to_value(r.action).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        if Value::Array(got.clone()) != want {
            problems.push(format!(
                "participation of {party}: {got:?}, expected {want}"
            ));
        }
    }
    // Entries the engine must ignore (by position in the case's entry list), with a word of
    // the reason.
    let offset = 4u64; // agreement and three ratifications
    let want_ignored = expect["ignored"].as_object().cloned().unwrap_or_default();
    for (pos, word) in &want_ignored {
        let idx = offset + pos.parse::<u64>().unwrap();
        match state.ignored.get(&idx) {
            None => problems.push(format!("entry {pos} was not ignored")),
            Some(why) if !why.contains(word.as_str().unwrap()) => problems.push(format!(
                "entry {pos} ignored for `{why}`, expected `{word}`"
            )),
            _ => {}
        }
    }
    for (idx, why) in &state.ignored {
        let pos = (idx - offset).to_string();
        if !want_ignored.contains_key(&pos) {
            problems.push(format!("entry {pos} unexpectedly ignored: {why}"));
        }
    }
    let want_refused = expect["refused"].as_object().cloned().unwrap_or_default();
    for (pos, word) in &want_refused {
        match run.refused.get(&pos.parse::<usize>().unwrap()) {
            None => problems.push(format!("entry {pos} was not refused")),
            Some(why) if !why.contains(word.as_str().unwrap()) => problems.push(format!(
                "entry {pos} refused for `{why}`, expected `{word}`"
            )),
            _ => {}
        }
    }
    for (pos, why) in &run.refused {
        if !want_refused.contains_key(&pos.to_string()) {
            problems.push(format!("entry {pos} unexpectedly refused: {why}"));
        }
    }
    problems
}
