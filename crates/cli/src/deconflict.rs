//! Deconfliction on the command line: the bodies of notices, answers and attestations, sealed
//! civilian case records, and the hotline client (`truce watch`).

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::Duration;

/// Parses force counts written `category=count` (e.g. `tanks=10`).
pub fn parse_forces(specs: &[String]) -> Result<Vec<Value>> {
    specs
        .iter()
        .map(|s| {
            let (cat, n) = s
                .split_once('=')
                .with_context(|| format!("force `{s}`: write category=count, e.g. tanks=10"))?;
            let count: u32 = n
                .trim()
                .parse()
                .with_context(|| format!("force `{s}`: the count must be a whole number"))?;
            Ok(json!({"category": cat.trim(), "count": count}))
        })
        .collect()
}

/// An area: zone ids and/or a GeoJSON geometry read from a file (a Feature's geometry is
/// taken; a FeatureCollection must hold exactly one feature).
pub fn area(zones: &[String], geojson: Option<&Path>) -> Result<Value> {
    let mut a = json!({});
    if !zones.is_empty() {
        a["zones"] = json!(zones);
    }
    if let Some(p) = geojson {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not JSON (expected GeoJSON)", p.display()))?;
        let geometry = match v["type"].as_str() {
            Some("Feature") => v["geometry"].clone(),
            Some("FeatureCollection") => match v["features"].as_array().map(Vec::as_slice) {
                Some([f]) => f["geometry"].clone(),
                _ => bail!(
                    "{}: a FeatureCollection must hold exactly one feature for an area",
                    p.display()
                ),
            },
            Some(_) => v,
            None => bail!("{}: not GeoJSON (no `type`)", p.display()),
        };
        a["geometry"] = geometry;
    }
    if a.as_object().is_some_and(serde_json::Map::is_empty) {
        bail!("an area needs --zones or --area FILE.geojson");
    }
    Ok(a)
}

/// A time window; `end` is required.
pub fn window(start: &str, end: &str) -> Value {
    json!({"start": start, "end": end, "precision": "exact"})
}

/// The members of `parties` (active, with an encryption key) as (member id, `age1…`), from the
/// server's `/v1/mechanism` answer.
pub fn recipients(mechanism: &Value, parties: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = mechanism["members"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|m| {
            m["status"] == "active" && m["party"].as_str().is_some_and(|p| parties.contains(&p))
        })
        .filter_map(|m| {
            Some((
                m["id"].as_str()?.to_owned(),
                m["encryption_key"].as_str()?.to_owned(),
            ))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The party of `member` and the mediator's party id, from the server's `/v1/mechanism`.
pub fn own_party_and_mediator(mechanism: &Value, member: &str) -> Result<(String, String)> {
    let own = mechanism["members"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["id"] == member))
        .and_then(|m| m["party"].as_str())
        .with_context(|| format!("member {member} is not registered on the server"))?
        .to_owned();
    let mediator = mechanism["agreement"]["parties"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["role"] == "mediator"))
        .and_then(|p| p["id"].as_str())
        .context("the agreement names no mediator")?
        .to_owned();
    Ok((own, mediator))
}

/// The commitment to a personal record: SHA-256 of the salt followed by the record's JSON
/// (serde_json's encoding, keys in order), lowercase hex.
pub fn commitment(salt: &[u8], record: &Value) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(record.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Seals a personal record to the recipients: returns the commitment and the `sealed` object
/// of a case body. The plaintext is `{"salt": hex, "record": ...}`.
pub fn seal(record: &Value, recipients: &[(String, String)]) -> Result<(String, Value)> {
    let salt: [u8; 32] = rand::random();
    let commit = commitment(&salt, record);
    let plaintext = json!({"salt": hex::encode(salt), "record": record}).to_string();
    let out = encrypt(plaintext.as_bytes(), recipients)?;
    let sealed = json!({
        "recipients": recipients.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        "age": B64.encode(out),
    });
    Ok((commit, sealed))
}

/// Seals need-to-know details to the recipients: the `sealed` object of a report, notice,
/// dispute or sighting. The plaintext is the details' JSON.
pub fn seal_details(details: &Value, recipients: &[(String, String)]) -> Result<Value> {
    Ok(json!({
        "recipients": recipients.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        "age": B64.encode(encrypt(details.to_string().as_bytes(), recipients)?),
    }))
}

/// Opens the sealed details of an entry with a member's identity.
pub fn unseal(sealed_age_b64: &str, identity: &age::x25519::Identity) -> Result<Value> {
    serde_json::from_slice(&decrypt(sealed_age_b64, identity)?)
        .context("the sealed details are not JSON")
}

/// age-encrypts `plain` to the recipients' X25519 keys.
fn encrypt(plain: &[u8], recipients: &[(String, String)]) -> Result<Vec<u8>> {
    if recipients.is_empty() {
        bail!("no member with an encryption key to seal to");
    }
    let keys: Vec<age::x25519::Recipient> = recipients
        .iter()
        .map(|(id, k)| {
            k.parse::<age::x25519::Recipient>()
                .map_err(|e| anyhow!("member {id}'s encryption key: {e}"))
        })
        .collect::<Result<_>>()?;
    let encryptor = age::Encryptor::with_recipients(keys.iter().map(|k| k as &dyn age::Recipient))
        .map_err(|e| anyhow!("sealing: {e}"))?;
    let mut out = Vec::new();
    let mut w = encryptor.wrap_output(&mut out).context("sealing")?;
    w.write_all(plain)?;
    w.finish().context("sealing")?;
    Ok(out)
}

fn decrypt(sealed_age_b64: &str, identity: &age::x25519::Identity) -> Result<Vec<u8>> {
    let bytes = B64
        .decode(sealed_age_b64)
        .context("the sealed part is not base64")?;
    let decryptor = age::Decryptor::new(&bytes[..]).context("not an age file")?;
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| anyhow!("cannot open the sealed part with this key: {e}"))?;
    let mut plain = Vec::new();
    reader.read_to_end(&mut plain)?;
    Ok(plain)
}

/// Opens a sealed record with a member's identity and checks it against the commitment.
pub fn open(sealed_age_b64: &str, identity: &age::x25519::Identity, commit: &str) -> Result<Value> {
    let plain = decrypt(sealed_age_b64, identity)?;
    let v: Value = serde_json::from_slice(&plain).context("the sealed record is not JSON")?;
    let salt = v["salt"]
        .as_str()
        .and_then(|s| hex::decode(s).ok())
        .context("the sealed record has no salt")?;
    let record = v["record"].clone();
    let got = commitment(&salt, &record);
    if got != commit {
        bail!("the sealed record does not match the case's commitment ({got} != {commit})");
    }
    Ok(record)
}

/// One message of an SSE stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SseMessage {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

/// Reads SSE messages from `r` until it ends or `on` returns false (the text/event-stream
/// format: `field: value` lines, a blank line ends a message, `:` lines are comments).
pub fn read_sse(r: impl Read, mut on: impl FnMut(SseMessage) -> Result<bool>) -> Result<bool> {
    let reader = BufReader::new(r);
    let (mut id, mut event, mut data): (Option<String>, String, Vec<String>) =
        (None, String::new(), Vec::new());
    for line in reader.lines() {
        let line = line?;
        if line.is_empty() {
            if !data.is_empty() || !event.is_empty() {
                let m = SseMessage {
                    id: id.take(),
                    event: if event.is_empty() {
                        "message".to_owned()
                    } else {
                        std::mem::take(&mut event)
                    },
                    data: data.join("\n"),
                };
                data.clear();
                if !on(m)? {
                    return Ok(false);
                }
            }
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((&line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.to_owned()),
            "event" => event = value.to_owned(),
            "data" => data.push(value.to_owned()),
            _ => {}
        }
    }
    Ok(true)
}

/// Follows `/v1/stream` for `party`, reconnecting (with `Last-Event-ID`) when the connection
/// drops, and calls `on` for each message until it returns false. `after` resumes after a log
/// index. Gives up after `retries` failed connections in a row.
pub fn watch(
    base: &str,
    token: Option<&str>,
    party: &str,
    mut after: Option<u64>,
    retries: u32,
    mut on: impl FnMut(&SseMessage) -> Result<bool>,
) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut failures = 0;
    loop {
        let url = format!("{}/v1/stream?party={party}", base.trim_end_matches('/'));
        let mut req = agent.get(&url).header("accept", "text/event-stream");
        if let Some(a) = after {
            req = req.header("last-event-id", a.to_string());
        }
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        match req.call() {
            Ok(mut resp) if resp.status().is_success() => {
                failures = 0;
                let body = resp.body_mut().as_reader();
                let more = read_sse(body, |m| {
                    if let Some(i) = m.id.as_deref().and_then(|i| i.parse::<u64>().ok()) {
                        after = Some(i);
                    }
                    on(&m)
                });
                // The stream ended or broke: reconnect and resume after the last id.
                if let Ok(false) = more {
                    return Ok(());
                }
            }
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let text = resp.body_mut().read_to_string().unwrap_or_default();
                bail!("the server refused the stream: {status} {text}");
            }
            Err(e) => {
                failures += 1;
                if failures > retries {
                    bail!("cannot reach {base}: {e}");
                }
            }
        }
        std::thread::sleep(Duration::from_millis(
            500 * u64::from(failures.min(10)) + 200,
        ));
    }
}

/// Files the demo's deconfliction traffic on a live server, as of now: notices awaiting,
/// acknowledged, acknowledged with conditions and objected to; a co-signed week of calm; a
/// civilian case with a sealed (fictional) record; a new desk added with the mediator's
/// countersignature. Returns the number of entries logged.
pub fn seed_demo(
    client: &crate::client::Client,
    keys_dir: &Path,
    receipts: &Path,
) -> Result<usize> {
    let mechanism = client.get_ok("/v1/mechanism")?.json()?;
    let origin = mechanism["origin"]
        .as_str()
        .context("the server did not say its origin")?
        .to_owned();
    let t = |hours: i64| -> Result<String> {
        let now = jiff::Timestamp::now().as_second();
        let at = jiff::Timestamp::from_second(now - now.rem_euclid(3600) + hours * 3600)?;
        Ok(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    let mut logged = 0;
    let mut send = |member: &str, kind: &str, body: Value| -> Result<u64> {
        let key = crate::keys::MemberKey::load(&keys_dir.join(format!("{member}.key")))?;
        let env = crate::submit::build(&origin, kind, &key, &body)?;
        let saved = crate::submit::post(client, &env, receipts)?;
        logged += 1;
        Ok(saved.receipt.index)
    };
    let notice = |activity: &str,
                  zones: &[&str],
                  from: String,
                  to: String,
                  purpose: &str,
                  to_parties: &[&str]| {
        json!({
            "action": "file", "activity": activity, "area": {"zones": zones},
            "window": window(&from, &to), "purpose": purpose, "addressees": to_parties,
        })
    };
    let n1 = send(
        "sy.ops",
        "notice",
        notice(
            "security_operation",
            &["gov-as-suwayda"],
            t(6)?,
            t(30)?,
            "Security operation on the Sweida-Damascus road (demo)",
            &["IL", "US"],
        ),
    )?;
    send(
        "il.ops",
        "acknowledgement",
        json!({"notice": n1, "response": "acknowledge"}),
    )?;
    send(
        "us.ops",
        "acknowledgement",
        json!({"notice": n1, "response": "received"}),
    )?;
    let n2 = send(
        "sy.ops",
        "notice",
        notice(
            "troop_movement",
            &["gov-daraa"],
            t(2)?,
            t(10)?,
            "Rotation of two battalions north of Daraa (demo)",
            &["IL"],
        ),
    )?;
    send(
        "il.ops",
        "acknowledgement",
        json!({"notice": n2, "response": "acknowledge_with_conditions",
               "conditions": {"window": window(&t(2)?, &t(6)?), "force_caps": [{"category": "tanks", "count": 0}]},
               "reasons": "Daylight only, no tanks (demo)"}),
    )?;
    let n3 = send(
        "il.ops",
        "notice",
        notice(
            "exercise",
            &["gov-quneitra"],
            t(12)?,
            t(36)?,
            "Reserve brigade exercise (demo)",
            &["SY", "US"],
        ),
    )?;
    send(
        "sy.ops",
        "acknowledgement",
        json!({"notice": n3, "response": "object", "reasons": "Too close to the Area of Separation (demo)"}),
    )?;
    send(
        "il.ops",
        "notice",
        notice(
            "flight",
            &["gov-quneitra"],
            t(20)?,
            t(22)?,
            "Medical evacuation flight (demo)",
            &["SY", "US"],
        ),
    )?;
    let (from, to) = (t(-8 * 24)?, t(-24)?);
    for member in ["sy.ops", "il.ops"] {
        send(
            member,
            "attestation",
            json!({"period": window(&from, &to), "statement": "No significant incidents in the week (demo)."}),
        )?;
    }
    let rcpt = recipients(&mechanism, &["SY", "IL", "US"]);
    let record =
        json!({"name": "Fictional Person (demo)", "age": 41, "last_seen": "fictional checkpoint"});
    let (commit, sealed) = seal(&record, &rcpt)?;
    let case = send(
        "sy.ops",
        "case",
        json!({"action": "report", "commitment": commit, "detaining_party": "IL", "sealed": sealed,
               "note": "Demo case: a fictional shepherd reported detained near the line"}),
    )?;
    send(
        "il.ops",
        "case",
        json!({"action": "acknowledge", "case": case, "commitment": commit, "detaining_party": "IL"}),
    )?;
    // A second Israeli desk, added by IL's administrator and countersigned by the mediator's
    // (the Golan agreement asks for it); its key is saved beside the others.
    let desk_file = keys_dir.join("il.desk-2.key");
    if !desk_file.exists() {
        let desk = crate::keys::MemberKey::generate("il.desk-2");
        desk.save(&desk_file)?;
        let mut body = json!({"action": "add", "member": "il.desk-2", "role": "officer",
            "public_key": desk.public_key_b64(), "name": "Second Israeli liaison desk (demo)"});
        if let Some(k) = desk.encryption_key() {
            body["encryption_key"] = k.into();
        }
        let admin = crate::keys::MemberKey::load(&keys_dir.join("il.admin.key"))?;
        let mut env = crate::submit::build(&origin, "membership", &admin, &body)?;
        let mediator = crate::keys::MemberKey::load(&keys_dir.join("us.admin.key"))?;
        env.countersign(&mediator.key)
            .map_err(|e| anyhow::anyhow!("countersigning the demo's membership entry: {e}"))?;
        crate::submit::post(client, &env, receipts)?;
        logged += 1;
    }
    Ok(logged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_records_open_for_recipients_only() {
        let a = age::x25519::Identity::generate();
        let b = age::x25519::Identity::generate();
        let outsider = age::x25519::Identity::generate();
        let record = json!({"name": "Person X", "born": 1990});
        let rcpt = vec![
            ("sy.ops".to_owned(), a.to_public().to_string()),
            ("il.ops".to_owned(), b.to_public().to_string()),
        ];
        let (commit, sealed) = seal(&record, &rcpt).unwrap();
        let age_b64 = sealed["age"].as_str().unwrap();
        assert_eq!(open(age_b64, &a, &commit).unwrap(), record);
        assert_eq!(open(age_b64, &b, &commit).unwrap(), record);
        assert!(open(age_b64, &outsider, &commit).is_err());
        let wrong = "0".repeat(64);
        assert!(open(age_b64, &a, &wrong).is_err());
        // The ciphertext does not carry the record in clear.
        let raw = B64.decode(age_b64).unwrap();
        assert!(!raw.windows(8).any(|w| w == b"Person X"));
    }

    #[test]
    fn sse_messages_are_split_on_blank_lines() {
        let text =
            ": comment\nid: 7\nevent: alerts\ndata: {\"a\":1}\n\nevent: due\ndata: x\ndata: y\n\n";
        let mut got = Vec::new();
        read_sse(text.as_bytes(), |m| {
            got.push(m);
            Ok(true)
        })
        .unwrap();
        assert_eq!(
            got,
            vec![
                SseMessage {
                    id: Some("7".into()),
                    event: "alerts".into(),
                    data: "{\"a\":1}".into()
                },
                SseMessage {
                    id: None,
                    event: "due".into(),
                    data: "x\ny".into()
                },
            ]
        );
    }

    #[test]
    fn forces_and_areas_are_checked() {
        assert_eq!(
            parse_forces(&["tanks=10".into()]).unwrap(),
            vec![json!({"category": "tanks", "count": 10})]
        );
        assert!(parse_forces(&["tanks".into()]).is_err());
        assert!(parse_forces(&["tanks=many".into()]).is_err());
        assert!(area(&[], None).is_err());
        assert_eq!(
            area(&["zone-a".into()], None).unwrap(),
            json!({"zones": ["zone-a"]})
        );
    }
}
