//! The bad-input corpus (`tests/bad-input/*.json`, described in its README): every case is
//! replayed against a real server or the real `truce` binary. Each must get its precise
//! problem (status and code) or CLI error, store nothing, and leave the server healthy.

use crate::util::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use std::path::Path;
use truce_log::Envelope;

fn corpus(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/bad-input")
        .join(file);
    let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    v.as_array().unwrap().clone()
}

/// Sets `a.b.0.c` in a JSON value, making objects on the way.
fn set_path(v: &mut Value, path: &str, new: Value) {
    let mut cur = v;
    let parts: Vec<&str> = path.split('.').collect();
    for (n, p) in parts.iter().enumerate() {
        let last = n + 1 == parts.len();
        cur = match p.parse::<usize>() {
            Ok(i) if cur.is_array() => &mut cur[i],
            _ => {
                if !cur.is_object() {
                    *cur = json!({});
                }
                cur.as_object_mut()
                    .unwrap()
                    .entry(p.to_string())
                    .or_insert(Value::Null)
            }
        };
        if last {
            *cur = new;
            return;
        }
    }
}

fn edit(v: &mut Value, case: &Value, set: &str, remove: &str) {
    for (k, x) in case[set].as_object().into_iter().flatten() {
        set_path(v, k, x.clone());
    }
    for k in case[remove].as_array().into_iter().flatten() {
        v.as_object_mut().unwrap().remove(k.as_str().unwrap());
    }
}

fn name(case: &Value) -> &str {
    case["name"].as_str().unwrap()
}

/// Checks a problem answer; returns a failure message.
fn check_problem(case: &Value, status: u16, body: &[u8]) -> Option<String> {
    let want = case["status"].as_u64().unwrap() as u16;
    let code = case["code"].as_str().unwrap();
    let p: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let ok = status == want
        && p["type"].as_str() == Some(&format!("urn:truce:problem:{code}"))
        && p["status"].as_u64() == Some(u64::from(want))
        && p["detail"].as_str().is_some_and(|d| d.len() > 10);
    (!ok).then(|| {
        format!(
            "{}: want {want} {code}, got {status} {}",
            name(case),
            String::from_utf8_lossy(body)
                .chars()
                .take(300)
                .collect::<String>()
        )
    })
}

struct Ctx {
    m: Mechanism,
    s: Server,
    write: String,
    read: String,
}

fn setup() -> Ctx {
    let m = Mechanism::golan();
    let s = m.serve();
    let write = m.token("us.ops", "write");
    let read = m.token("sy.ops", "read");
    Ctx { m, s, write, read }
}

fn request(
    ctx: &Ctx,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<Vec<u8>>,
) -> (u16, Vec<u8>) {
    let mut b = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", ctx.s.url));
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into();
    match body {
        Some(body) => http(agent.run(b.body(body).unwrap())),
        None => http(agent.run(b.body(()).unwrap())),
    }
}

fn auth_header(ctx: &Ctx, auth: Option<&str>) -> Vec<(String, String)> {
    let bearer = |t: &str| vec![("authorization".to_owned(), format!("Bearer {t}"))];
    match auth {
        None | Some("token") => bearer(&ctx.write),
        Some("read") => bearer(&ctx.read),
        Some("wrong-secret") => bearer(&format!("{}AA", &ctx.write[..ctx.write.len() - 2])),
        Some("none") => vec![],
        Some(other) => panic!("unknown auth {other}"),
    }
}

fn http_case(ctx: &Ctx, case: &Value) -> Option<String> {
    let method = case["method"].as_str().unwrap();
    let path = case["path"].as_str().unwrap();
    let mut headers = auth_header(ctx, case["auth"].as_str());
    for (k, v) in case["headers"].as_object().into_iter().flatten() {
        headers.retain(|(h, _)| h != k);
        headers.push((k.clone(), v.as_str().unwrap().to_owned()));
    }
    let body = if let Some(b) = case["body"].as_str() {
        Some(b.as_bytes().to_vec())
    } else if let Some(b) = case["body_b64"].as_str() {
        Some(B64.decode(b).unwrap())
    } else if let Some([c, n]) = case["body_repeat"].as_array().map(Vec::as_slice) {
        Some(
            c.as_str()
                .unwrap()
                .repeat(n.as_u64().unwrap() as usize)
                .into_bytes(),
        )
    } else {
        case["body_batch_of_nulls"]
            .as_u64()
            .map(|n| format!("[{}]", vec!["null"; n as usize].join(",")).into_bytes())
    };
    if body.is_some() && !headers.iter().any(|(k, _)| k == "content-type") {
        headers.push(("content-type".into(), "application/json".into()));
    }
    let (status, answer) = request(ctx, method, path, &headers, body);
    let failed = check_problem(case, status, &answer);
    if method == "PUT" && path.starts_with("/v1/blobs/") {
        let (st, _) = ctx.s.get(path);
        if st == 200 {
            return Some(format!("{}: the refused blob was stored", name(case)));
        }
    }
    failed
}

fn entry_case(ctx: &Ctx, case: &Value, agreement_sha: &str) -> Option<String> {
    let m = &ctx.m;
    let signer = case["sign_as"].as_str().unwrap_or("sy.ops");
    let kind = case["kind"].as_str().unwrap_or("report");
    let mut body = match &case["body"] {
        Value::Null => report(&format!("corpus: {}", name(case))),
        b => b.clone(),
    };
    edit(&mut body, case, "body_set", "body_remove");
    // Placeholders for values only known at run time.
    for (_, v) in body.as_object_mut().into_iter().flatten() {
        match v.as_str() {
            Some("AGREEMENT_SHA") => *v = agreement_sha.into(),
            Some("PUBKEY_NEW") => {
                *v = B64
                    .encode(SigningKey::from_bytes(&[33; 32]).verifying_key().as_bytes())
                    .into()
            }
            Some(s) if s.starts_with("PUBKEY_TWIN_OF:") => {
                // `PUBKEY_TWIN_OF:<member>:<n>`: the member's key plus the n-th point of the
                // eight-torsion subgroup (a key another secret does not need).
                let (member, n) = s["PUBKEY_TWIN_OF:".len()..].split_once(':').unwrap();
                let t = curve25519_dalek::constants::EIGHT_TORSION[n.parse::<usize>().unwrap()];
                let twin = m.key(member).verifying_key().to_edwards() + t;
                *v = B64.encode(twin.compress().as_bytes()).into()
            }
            Some(s) if s.starts_with("PUBKEY_OF:") => {
                *v = B64
                    .encode(m.key(&s["PUBKEY_OF:".len()..]).verifying_key().as_bytes())
                    .into()
            }
            _ => {}
        }
    }
    let created = match case["created"].as_str() {
        Some("+3600") => (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        Some("-400d") => (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(400 * 24))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        Some(t) => t.to_owned(),
        None => now(),
    };
    let mut payload = json!({"v": 1, "mechanism": ORIGIN, "kind": kind, "author": signer, "created": created, "body": body});
    edit(&mut payload, case, "payload_set", "payload_remove");
    let payload = match case["payload_raw"].as_str() {
        Some(raw) => raw.as_bytes().to_vec(),
        None => serde_json::to_vec(&payload).unwrap(),
    };
    let key = match case["sign_with_seed"].as_u64() {
        Some(seed) => SigningKey::from_bytes(&[seed as u8; 32]),
        None => m.key(signer),
    };
    let mut env = Envelope::sign(truce_log::dsse::ENTRY_PAYLOAD_TYPE, payload, &key);
    // Countersignatures: members' keys, or `seed:N` for a key no member has.
    for c in case["countersign_as"].as_array().into_iter().flatten() {
        let c = c.as_str().unwrap();
        let key = match c.strip_prefix("seed:") {
            Some(n) => SigningKey::from_bytes(&[n.parse::<u8>().unwrap(); 32]),
            None => m.key(c),
        };
        env.countersign(&key).unwrap();
    }
    let mut v: Value = serde_json::from_slice(&env.to_leaf()).unwrap();
    // Flip a bit of the author's signature, or of the first countersignature.
    for (flag, i) in [("flip_sig", 0), ("flip_countersig", 1)] {
        if case[flag] == true {
            let mut sig = B64
                .decode(v["signatures"][i]["sig"].as_str().unwrap())
                .unwrap();
            sig[5] ^= 1;
            v["signatures"][i]["sig"] = B64.encode(sig).into();
        }
    }
    if case["duplicate_sig"] == true {
        let first = v["signatures"][0].clone();
        v["signatures"].as_array_mut().unwrap().push(first);
    }

    if case["swap_payload"] == true {
        let other = sign_report(m, signer, "another report");
        v["payload"] = B64.encode(&other.payload).into();
    }
    for (k, x) in case["envelope_set"].as_object().into_iter().flatten() {
        v[k] = x.clone();
    }
    let leaf = v.to_string().into_bytes();
    let headers = match case["auth"].as_str() {
        Some(a) => auth_header(ctx, Some(a)),
        None => vec![],
    };
    let mut headers = headers;
    headers.push(("content-type".into(), "application/json".into()));
    if case["path"] == "/v1/entries/batch" {
        let batch = format!("[{}]", String::from_utf8(leaf).unwrap()).into_bytes();
        let (status, answer) = request(ctx, "POST", "/v1/entries/batch", &headers, Some(batch));
        if status != 200 {
            return Some(format!("{}: batch answered {status}", name(case)));
        }
        let item = &serde_json::from_slice::<Value>(&answer).unwrap()["results"][0];
        let status = item["status"].as_u64().unwrap_or(0) as u16;
        return check_problem(case, status, item["problem"].to_string().as_bytes());
    }
    let (status, answer) = request(ctx, "POST", "/v1/entries", &headers, Some(leaf));
    check_problem(case, status, &answer)
}

#[test]
fn every_bad_http_request_gets_its_problem_and_stores_nothing() {
    let ctx = setup();
    let before = ctx.s.tree_size();
    let mechanism = ctx.s.get_json("/v1/mechanism");
    let agreement_sha = mechanism["agreement"]["payload_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut failures = Vec::new();
    let (raw, entries) = (corpus("http.json"), corpus("entries.json"));
    for case in &raw {
        failures.extend(http_case(&ctx, case));
    }
    for case in &entries {
        failures.extend(entry_case(&ctx, case, &agreement_sha));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        raw.len() + entries.len(),
        failures.join("\n")
    );
    assert_eq!(ctx.s.tree_size(), before, "nothing was stored");
    // Still healthy: a good entry is logged.
    let (status, r) = ctx.s.post(
        "/v1/entries",
        &sign_report(&ctx.m, "sy.ops", "after the corpus").to_leaf(),
    );
    assert_eq!(status, 201, "{r}");
    let health = ctx.s.get_json("/healthz");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "sqlite");
    assert_eq!(
        health["apply_lag"].as_u64(),
        Some(health["tree_size"].as_u64().unwrap() - health["applied_size"].as_u64().unwrap())
    );
}

/// The Golan scenario's agreement and zones with a case's changes, in a new directory.
fn scenario_case(dir: &Path, case: &Value) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/golan-1974");
    std::fs::create_dir_all(dir).unwrap();
    let agreement = match case["agreement_raw"].as_str() {
        Some(raw) => raw.to_owned(),
        None => {
            let mut a: Value =
                serde_json::from_slice(&std::fs::read(root.join("agreement.json")).unwrap())
                    .unwrap();
            edit(&mut a, case, "agreement_set", "agreement_remove");
            a.to_string()
        }
    };
    let zones = match case["zones_raw"].as_str() {
        Some(raw) => raw.to_owned(),
        None => {
            let mut z: Value =
                serde_json::from_slice(&std::fs::read(root.join("zones.geojson")).unwrap())
                    .unwrap();
            let first = &mut z["features"][0];
            edit(first, case, "zones_feature_set", "zones_feature_remove");
            if case["zones_duplicate_first"] == true {
                let copy = z["features"][0].clone();
                z["features"].as_array_mut().unwrap().push(copy);
            }
            z.to_string()
        }
    };
    std::fs::write(dir.join("agreement.json"), agreement).unwrap();
    std::fs::write(dir.join("zones.geojson"), zones).unwrap();
}

fn listing(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        out.push(e.path());
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        }
    }
    out
}

#[test]
fn every_bad_agreement_bundle_and_cli_input_is_refused_and_leaves_nothing() {
    let m = Mechanism::golan();
    let mut failures = Vec::new();
    let agreements = corpus("agreements.json");
    for (n, case) in agreements.iter().enumerate() {
        let dir = m.tmp.path().join(format!("agreement-{n}"));
        scenario_case(&dir.join("s"), case);
        let out = truce()
            .arg("init")
            .arg(dir.join("m"))
            .arg("--scenario-dir")
            .arg(dir.join("s"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want = case["stderr"].as_str().unwrap();
        if out.status.code() != Some(1) || !stderr.contains(want) || dir.join("m").exists() {
            failures.push(format!(
                "{}: want exit 1 with `{want}` and no data directory, got {:?}: {stderr}",
                name(case),
                out.status.code()
            ));
        }
    }
    let tokens_before = run(
        truce()
            .args(["--json", "token", "list", "--data"])
            .arg(&m.data),
        true,
    )
    .stdout;
    let good_envelope = sign_report(&m, "sy.ops", "corpus").to_leaf();
    let cli = corpus("cli.json");
    for (n, case) in cli.iter().enumerate() {
        let dir = m.tmp.path().join(format!("cli-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        for (f, content) in case["files"].as_object().into_iter().flatten() {
            let bytes = match content {
                Value::String(s) if s == "ENVELOPE" => good_envelope.clone(),
                Value::String(s) if s.starts_with("REPORT_WITHOUT:") => {
                    let mut r = report("corpus");
                    r.as_object_mut()
                        .unwrap()
                        .remove(&s["REPORT_WITHOUT:".len()..]);
                    r.to_string().into_bytes()
                }
                Value::String(s) if s.starts_with("KEY_OF:") => {
                    std::fs::read(m.key_path(&s["KEY_OF:".len()..])).unwrap()
                }
                Value::String(s) => s.clone().into_bytes(),
                other => other.to_string().into_bytes(),
            };
            std::fs::write(dir.join(f), bytes).unwrap();
            // Key files are private (0600) unless the case is about that.
            #[cfg(unix)]
            if f.ends_with(".key") {
                use std::os::unix::fs::PermissionsExt as _;
                let mode =
                    u32::from_str_radix(case["key_mode"].as_str().unwrap_or("600"), 8).unwrap();
                std::fs::set_permissions(dir.join(f), std::fs::Permissions::from_mode(mode))
                    .unwrap();
            }
        }
        let files_before = listing(&dir);
        let args: Vec<String> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let a = a.as_str().unwrap();
                if let Some(member) = a.strip_prefix("{key:").and_then(|x| x.strip_suffix('}')) {
                    m.key_path(member).display().to_string()
                } else if let Some(f) = a.strip_prefix("{file:").and_then(|x| x.strip_suffix('}')) {
                    dir.join(f).display().to_string()
                } else {
                    a.replace("{dir}", &dir.display().to_string())
                        .replace("{data}", &m.data.display().to_string())
                        .replace("{vkey}", &m.vkey)
                }
            })
            .collect();
        let out = truce().args(&args).current_dir(&dir).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want_exit = case["exit"].as_i64().unwrap() as i32;
        let want = case["stderr"].as_str().unwrap();
        if out.status.code() != Some(want_exit) || !stderr.contains(want) || stderr.is_empty() {
            failures.push(format!(
                "{}: want exit {want_exit} with `{want}`, got {:?}: {stderr}",
                name(case),
                out.status.code()
            ));
        }
        if listing(&dir) != files_before {
            failures.push(format!(
                "{}: left files behind: {:?}",
                name(case),
                listing(&dir)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        agreements.len() + cli.len(),
        failures.join("\n")
    );
    let tokens_after = run(
        truce()
            .args(["--json", "token", "list", "--data"])
            .arg(&m.data),
        true,
    )
    .stdout;
    assert_eq!(tokens_before, tokens_after, "no token was made or revoked");
}

#[test]
fn the_corpus_has_at_least_200_cases() {
    let n: usize = ["http.json", "entries.json", "agreements.json", "cli.json"]
        .iter()
        .map(|f| corpus(f).len())
        .sum();
    assert!(n >= 200, "{n} cases");
}
