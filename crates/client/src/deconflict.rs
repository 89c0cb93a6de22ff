//! Deconfliction on the command line: the bodies of notices, answers and attestations, sealed
//! civilian case records, and the hotline client (`truce watch`).

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;
use truce_model::bodies::{Area, ForceCount};
use truce_model::time::{TimePrecision, TimeSpan};

/// Parses force counts written `category=count` (e.g. `tanks=10`).
pub fn parse_forces(specs: &[String]) -> Result<Vec<ForceCount>> {
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
            let category = serde_json::from_value(Value::String(cat.trim().to_owned()))
                .map_err(|e| anyhow!(crate::submit::Refused(format!("force `{s}`: {e}"))))?;
            Ok(ForceCount { category, count })
        })
        .collect()
}

/// An area: zone ids and/or a GeoJSON geometry read from a file (a Feature's geometry is
/// taken; a FeatureCollection must hold exactly one feature).
pub fn area(zones: &[String], geojson: Option<&Path>) -> Result<Area> {
    let mut a = Area {
        zones: zones.to_vec(),
        geometry: None,
    };
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
        a.geometry = Some(geometry);
    }
    if a.zones.is_empty() && a.geometry.is_none() {
        bail!("an area needs --zones or --area FILE.geojson");
    }
    Ok(a)
}

/// A time window; `end` is required.
pub fn window(start: &str, end: &str) -> TimeSpan {
    TimeSpan {
        start: start.to_owned(),
        end: Some(end.to_owned()),
        precision: TimePrecision::Exact,
    }
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

/// One event of an SSE stream, as the HTML standard dispatches it (a `MessageEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event type: the block's `event` field, or `message`.
    pub event: String,
    /// The block's `data` lines, joined with LF.
    pub data: String,
    /// The stream's last event ID when the event was dispatched: the latest `id` field, of this
    /// block or an earlier one ("" after an empty `id` reset it). What a client resumes from.
    pub last_event_id: String,
}

/// The UTF-8 byte order mark, stripped once from the start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An incremental `text/event-stream` parser: the HTML Living Standard's "Interpreting an event
/// stream" (§9.2.6). Feed it the bytes of one connection as they arrive, cut anywhere; each
/// [`feed`](Self::feed) returns the events it completed. An event still incomplete when the
/// stream ends is never dispatched, so there is nothing to flush: drop the parser.
#[derive(Debug)]
pub struct SseParser {
    /// The stream's first bytes while they may still be a BOM cut across chunks; `None` once
    /// that is decided.
    start: Option<Vec<u8>>,
    /// The current line's bytes, decoded when it ends.
    line: Vec<u8>,
    /// The last line ended with a CR: an LF right after it, in this chunk or the next, is the
    /// rest of a CRLF and ends no line of its own.
    after_cr: bool,
    data: String,
    event_type: String,
    id_buffer: String,
    last_event_id: String,
    reconnection_time: Option<u64>,
}

impl SseParser {
    /// A parser for one stream of an event source whose last event ID string is
    /// `last_event_id` ("" for a first connection).
    ///
    /// The standard initializes a stream's last event ID buffer to the empty string; this
    /// seeds it with the event source's last event ID string instead, as Chromium's parser
    /// does. Taken literally, the first event of a resumed stream that has no `id` (this
    /// server's `due` reminders, sent on connecting) would set the last event ID string back
    /// to "", and the next reconnection would start over from the beginning of the log.
    pub fn new(last_event_id: &str) -> Self {
        SseParser {
            start: Some(Vec::new()),
            line: Vec::new(),
            after_cr: false,
            data: String::new(),
            event_type: String::new(),
            id_buffer: last_event_id.to_owned(),
            last_event_id: last_event_id.to_owned(),
            reconnection_time: None,
        }
    }

    /// The last event ID string: the `id` buffer as of the latest blank line (set even when
    /// that blank line dispatched nothing). Sent as `Last-Event-ID` on reconnecting, unless "".
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time the stream set with its latest valid `retry` field, if any.
    pub fn reconnection_time(&self) -> Option<Duration> {
        self.reconnection_time.map(Duration::from_millis)
    }

    /// Parses the next bytes of the stream; returns the events they complete, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        let held;
        let mut bytes = chunk;
        if let Some(mut start) = self.start.take() {
            start.extend_from_slice(chunk);
            if start.len() < BOM.len() && BOM.starts_with(&start) {
                self.start = Some(start);
                return out;
            }
            held = start;
            bytes = held.strip_prefix(BOM).unwrap_or(&held);
        }
        while let Some(&first) = bytes.first() {
            if std::mem::take(&mut self.after_cr) && first == b'\n' {
                bytes = &bytes[1..];
                continue;
            }
            let Some(end) = bytes.iter().position(|&b| b == b'\r' || b == b'\n') else {
                self.line.extend_from_slice(bytes);
                break;
            };
            self.line.extend_from_slice(&bytes[..end]);
            self.after_cr = bytes[end] == b'\r';
            bytes = &bytes[end + 1..];
            self.end_line(&mut out);
        }
        out
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let mut raw = std::mem::take(&mut self.line);
        // CR and LF are ASCII, never inside a multi-byte UTF-8 sequence, so decoding line by line
        // decodes the stream as the standard's UTF-8 decode does: a sequence cut short by a line
        // end is an error either way, and errors become U+FFFD per maximal subpart in both.
        self.process_line(&String::from_utf8_lossy(&raw), out);
        raw.clear();
        self.line = raw;
    }

    fn process_line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            return self.dispatch(out);
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event_type),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => value.clone_into(&mut self.id_buffer),
            // "Only ASCII digits": an empty value is no integer, and one past u64 (hundreds of
            // millions of years in milliseconds) is as good as u64::MAX.
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.reconnection_time = Some(value.parse().unwrap_or(u64::MAX));
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        self.last_event_id.clone_from(&self.id_buffer);
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        let event = if self.event_type.is_empty() {
            "message".to_owned()
        } else {
            std::mem::take(&mut self.event_type)
        };
        out.push(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            last_event_id: self.last_event_id.clone(),
        });
    }
}

/// How a stream read by [`pump`] came to an end.
enum Pumped {
    /// The callback asked to stop.
    Stopped,
    /// The server closed the stream.
    Ended,
    /// Reading failed (the connection broke).
    Broke(std::io::Error),
}

/// Feeds `r` to `parser` as it arrives and calls `on` for each event, until the stream ends or
/// breaks or `on` returns false. Only `on`'s errors are errors here.
fn pump(
    mut r: impl Read,
    parser: &mut SseParser,
    on: &mut impl FnMut(SseEvent) -> Result<bool>,
) -> Result<Pumped> {
    // Whatever each read returns is parsed at once: a message is handled as soon as its blank
    // line arrives, whichever line ends the server uses.
    let mut buf = [0u8; 8192];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(Pumped::Ended),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Ok(Pumped::Broke(e)),
        };
        for event in parser.feed(&buf[..n]) {
            if !on(event)? {
                return Ok(Pumped::Stopped);
            }
        }
    }
}

/// Reads one SSE stream from `r`, calling `on` for each event, until the stream ends (`true`)
/// or `on` returns false (`false`). See [`SseParser`].
pub fn read_sse(r: impl Read, mut on: impl FnMut(SseEvent) -> Result<bool>) -> Result<bool> {
    match pump(r, &mut SseParser::new(""), &mut on)? {
        Pumped::Stopped => Ok(false),
        Pumped::Ended => Ok(true),
        Pumped::Broke(e) => Err(anyhow::Error::new(e).context("reading the event stream")),
    }
}

/// The reconnection time until the server sets one with `retry`.
const DEFAULT_RECONNECT: Duration = Duration::from_millis(200);

/// How long to wait before reconnecting: the reconnection time, plus half a second for each
/// failed connection in a row (at most 5 s), the back-off the standard allows on top of it.
fn reconnect_delay(reconnection_time: Duration, failures: u32) -> Duration {
    reconnection_time.saturating_add(Duration::from_millis(500) * failures.min(10))
}

/// Follows `/v1/stream` for `party`, calling `on` for each event until it returns false. When
/// the connection ends or drops it waits the reconnection time (the server's `retry`, else
/// 200 ms) and reconnects, sending the last event ID string as `Last-Event-ID`; `after` (a log
/// index) seeds it. A new stream starts at the server's head (new alerts only) unless
/// `from_start` asks for the whole history or `after` names a place. Gives up after `retries`
/// failed connections in a row, and stops with an error when the server closes the stream for
/// good (`event: closed`: the token was revoked or expired, or the member is not active).
pub fn watch(
    base: &str,
    token: Option<&str>,
    party: &str,
    after: Option<u64>,
    from_start: bool,
    retries: u32,
    mut on: impl FnMut(&SseEvent) -> Result<bool>,
) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .build()
        .into();
    let url = format!("{}/v1/stream?party={party}", base.trim_end_matches('/'));
    let from_start_url = format!("{url}&from_start=true");
    let mut last_event_id = after.map(|a| a.to_string()).unwrap_or_default();
    let mut reconnection_time = DEFAULT_RECONNECT;
    let mut failures = 0;
    loop {
        // Until an event has named a place to resume from, a stream asked to start from the
        // beginning keeps asking for it.
        let target = if from_start && last_event_id.is_empty() {
            &from_start_url
        } else {
            &url
        };
        let mut req = agent.get(target).header("accept", "text/event-stream");
        if !last_event_id.is_empty() {
            // An id holds no CR, LF or NUL, but may hold other control characters, which no
            // header can carry: say so rather than fail to connect `retries` times.
            if ureq::http::HeaderValue::from_str(&last_event_id).is_err() {
                bail!(
                    "cannot resume the stream: the server's last event id {last_event_id:?} has control characters, which a Last-Event-ID header cannot carry"
                );
            }
            req = req.header("last-event-id", last_event_id.as_str());
        }
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        match req.call() {
            Ok(mut resp) if resp.status().is_success() => {
                failures = 0;
                let mut parser = SseParser::new(&last_event_id);
                let mut closed = None;
                let pumped = pump(resp.body_mut().as_reader(), &mut parser, &mut |e| {
                    if e.event == "closed" {
                        closed = Some(e.data.clone());
                        return Ok(false);
                    }
                    on(&e)
                });
                if let Some(why) = closed {
                    let detail = serde_json::from_str::<serde_json::Value>(&why)
                        .ok()
                        .and_then(|v| v["detail"].as_str().map(str::to_owned))
                        .unwrap_or(why);
                    bail!("the server closed the stream: {detail}");
                }
                parser.last_event_id().clone_into(&mut last_event_id);
                if let Some(t) = parser.reconnection_time() {
                    reconnection_time = t;
                }
                if let Pumped::Stopped = pumped? {
                    return Ok(());
                }
                // The stream ended or broke: reconnect and resume after the last event ID.
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
        std::thread::sleep(reconnect_delay(reconnection_time, failures));
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

    fn ev(event: &str, data: &str, last_event_id: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            last_event_id: last_event_id.into(),
        }
    }

    /// A stream fed whole to a new parser: its events, and the parser after them.
    fn parse(stream: &[u8]) -> (Vec<SseEvent>, SseParser) {
        let mut p = SseParser::new("");
        let events = p.feed(stream);
        (events, p)
    }

    /// The events of `stream`, checked to be the same however it is cut into chunks: in two at
    /// every place, and byte by byte.
    fn events(stream: &[u8]) -> Vec<SseEvent> {
        let (whole, _) = parse(stream);
        for cut in 0..=stream.len() {
            let mut p = SseParser::new("");
            let mut got = p.feed(&stream[..cut]);
            got.extend(p.feed(&stream[cut..]));
            assert_eq!(got, whole, "{stream:?} cut at {cut}");
        }
        let mut p = SseParser::new("");
        let bytewise: Vec<_> = stream
            .iter()
            .flat_map(|b| p.feed(std::slice::from_ref(b)))
            .collect();
        assert_eq!(bytewise, whole, "{stream:?} fed byte by byte");
        whole
    }

    // The examples of the HTML standard's §9.2.6, "Interpreting an event stream".

    #[test]
    fn sse_spec_example_stock_ticker() {
        let stream = b"data: YHOO\ndata: +2\ndata: 10\n";
        assert_eq!(events(stream), vec![], "not yet followed by a blank line");
        let followed = [&stream[..], b"\n"].concat();
        assert_eq!(events(&followed), vec![ev("message", "YHOO\n+2\n10", "")]);
    }

    #[test]
    fn sse_spec_example_four_blocks() {
        let blocks: [&[u8]; 4] = [
            b": test stream\n\n",
            b"data: first event\nid: 1\n\n",
            b"data:second event\nid\n\n",
            b"data:  third event\n\n",
        ];
        let mut p = SseParser::new("");
        assert_eq!(p.feed(blocks[0]), vec![], "a comment fires nothing");
        assert_eq!(p.feed(blocks[1]), vec![ev("message", "first event", "1")]);
        assert_eq!(
            p.last_event_id(),
            "1",
            "a reconnection now sends Last-Event-ID: 1"
        );
        assert_eq!(p.feed(blocks[2]), vec![ev("message", "second event", "")]);
        assert_eq!(
            p.last_event_id(),
            "",
            "an empty id resets it: no Last-Event-ID"
        );
        assert_eq!(p.feed(blocks[3]), vec![ev("message", " third event", "")]);
        assert_eq!(events(&blocks.concat()).len(), 3);
        assert_eq!(
            events(b"data:  third event\n"),
            vec![],
            "the end of the stream does not dispatch the last block"
        );
    }

    #[test]
    fn sse_spec_example_empty_data() {
        assert_eq!(
            events(b"data\n\ndata\ndata\n\ndata:"),
            vec![ev("message", "", ""), ev("message", "\n", "")],
            "the last block is discarded: no blank line follows it"
        );
        assert_eq!(
            events(b"data:\n\n"),
            vec![ev("message", "", "")],
            "followed by a blank line, it fires with empty data"
        );
    }

    #[test]
    fn sse_spec_example_space_after_colon() {
        assert_eq!(
            events(b"data:test\n\ndata: test\n\n"),
            vec![ev("message", "test", ""); 2]
        );
    }

    #[test]
    fn sse_lines_end_with_crlf_lf_or_cr() {
        let lf = "id: 1\nevent: alerts\ndata: a\ndata: b\n\n: c\ndata: z\n\n";
        let want = vec![ev("alerts", "a\nb", "1"), ev("message", "z", "1")];
        assert_eq!(events(lf.as_bytes()), want);
        assert_eq!(events(lf.replace('\n', "\r").as_bytes()), want);
        assert_eq!(events(lf.replace('\n', "\r\n").as_bytes()), want);
        // CR then LF is one line end; LF then CR is two, the second ending a blank line.
        assert_eq!(
            events(b"data: a\r\ndata: b\n\rdata: c\r\r"),
            vec![ev("message", "a\nb", ""), ev("message", "c", "")]
        );
    }

    #[test]
    fn sse_crlf_split_across_chunks_is_one_line_end() {
        let mut p = SseParser::new("");
        assert_eq!(p.feed(b"data: a\r"), vec![]);
        // Were this LF a line end of its own, its blank line would dispatch "a" alone.
        assert_eq!(p.feed(b"\ndata: b\r"), vec![]);
        assert_eq!(p.feed(b"\n"), vec![]);
        assert_eq!(p.feed(b"\r"), vec![ev("message", "a\nb", "")]);
        assert_eq!(p.feed(b"\ndata: c\n\n"), vec![ev("message", "c", "")]);
    }

    #[test]
    fn sse_a_leading_bom_is_stripped_once() {
        // `events` also cuts the BOM itself across chunks.
        assert_eq!(
            events(b"\xEF\xBB\xBFid: 7\ndata: x\n\n"),
            vec![ev("message", "x", "7")]
        );
        // A second BOM is content: the first field is then `\u{FEFF}id`, which is ignored.
        assert_eq!(
            events(b"\xEF\xBB\xBF\xEF\xBB\xBFid: 7\ndata: x\n\n"),
            vec![ev("message", "x", "")]
        );
        assert_eq!(
            events("data: \u{FEFF}x\n\n".as_bytes()),
            vec![ev("message", "\u{FEFF}x", "")],
            "a BOM past the start is content"
        );
        // The start of a BOM that is not one is decoded (as U+FFFD), not dropped: the first
        // field is `\u{FFFD}data`.
        assert_eq!(
            events(b"\xEF\xBBdata: x\n\ndata: y\n\n"),
            vec![ev("message", "y", "")]
        );
    }

    #[test]
    fn sse_an_id_with_nul_is_ignored() {
        assert_eq!(
            events(b"id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n"),
            vec![ev("message", "a", "1"), ev("message", "b", "1")]
        );
    }

    #[test]
    fn sse_blocks_without_data_dispatch_nothing() {
        let (got, p) = parse(b"event: due\n\nid: 5\n\nevent: alerts\nid: 6\n\n");
        assert_eq!(got, vec![]);
        assert_eq!(
            p.last_event_id(),
            "6",
            "their blank lines still set the last event ID"
        );
        assert_eq!(
            events(b"event: due\n\ndata: x\n\n"),
            vec![ev("message", "x", "")],
            "and reset the event type"
        );
    }

    #[test]
    fn sse_an_incomplete_event_is_discarded() {
        for stream in [
            &b"id: 1\ndata: a\n\nid: 2\ndata: b\n"[..],
            b"id: 1\ndata: a\n\nid: 2\ndata: b",
        ] {
            let (got, p) = parse(stream);
            assert_eq!(got, vec![ev("message", "a", "1")]);
            assert_eq!(
                p.last_event_id(),
                "1",
                "an unfinished block's id is not the last event ID"
            );
        }
    }

    #[test]
    fn sse_fields_comments_and_retry() {
        // Comments, unknown fields and other cases are ignored; a line without a colon is a
        // field with an empty value; one space after the colon is removed, not two.
        assert_eq!(
            events(b": a comment\nData: no\nfoo: bar\ndata\nevent:x\ndata:  two spaces\n\n"),
            vec![ev("x", "\n two spaces", "")]
        );
        let (_, p) = parse(b"retry: 1500\n");
        assert_eq!(p.reconnection_time(), Some(Duration::from_millis(1500)));
        for ignored in [
            "retry: 1.5",
            "retry: -1",
            "retry: ",
            "retry",
            "retry: 15x",
            "retry:  15",
        ] {
            let (_, p) = parse(format!("retry: 20\n{ignored}\n").as_bytes());
            assert_eq!(
                p.reconnection_time(),
                Some(Duration::from_millis(20)),
                "{ignored:?}"
            );
        }
        let (_, p) = parse(b"retry: 99999999999999999999999\n");
        assert_eq!(p.reconnection_time(), Some(Duration::from_millis(u64::MAX)));
    }

    #[test]
    fn sse_is_decoded_as_utf8() {
        // `events` cuts the multi-byte characters across chunks too.
        assert_eq!(
            events("data: é\u{1F600}\n\n".as_bytes()),
            vec![ev("message", "é\u{1F600}", "")]
        );
        // Invalid bytes, and a sequence cut short by the line end, are U+FFFD.
        assert_eq!(
            events(b"data: a\xFFb\xE2\x82\n\n"),
            vec![ev("message", "a\u{FFFD}b\u{FFFD}", "")]
        );
    }

    /// `truce watch` read SSE with `BufRead::lines` and rules of its own: a CR-only stream was
    /// one endless line (no event, ever), a leading BOM hid the first field (an `id`, so the
    /// watcher resumed with a wrong Last-Event-ID), and a block with an event type but no data
    /// was dispatched.
    #[test]
    fn watch_parses_sse_wrongly_regression() {
        let stream = b"\xEF\xBB\xBFid: 1\revent: alerts\rdata: {\"index\":1}\r\r\
            event: due\r\r: keep-alive\r\r\
            id: 2\revent: alerts\rdata: {\"index\":2}\r\r";
        let mut got = Vec::new();
        let ended = read_sse(&stream[..], |e| {
            got.push(e);
            Ok(true)
        })
        .unwrap();
        assert!(ended);
        assert_eq!(
            got,
            vec![
                ev("alerts", "{\"index\":1}", "1"),
                ev("alerts", "{\"index\":2}", "2")
            ]
        );
    }

    /// A tiny SSE server on 127.0.0.1 that answers its i-th connection with `bodies[i]` and
    /// closes it. Returns its URL and a handle that yields, once all are served, the
    /// `Last-Event-ID` each connection sent.
    fn serve_streams(
        bodies: Vec<&'static [u8]>,
    ) -> (String, std::thread::JoinHandle<Vec<Option<String>>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            bodies
                .into_iter()
                .map(|body| {
                    let (mut conn, _) = listener.accept().unwrap();
                    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    let mut head = Vec::new();
                    let mut byte = [0u8];
                    while !head.ends_with(b"\r\n\r\n") {
                        conn.read_exact(&mut byte).unwrap();
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8(head).unwrap();
                    let last = head.lines().find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("last-event-id")
                            .then(|| value.trim().to_owned())
                    });
                    conn.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
                    )
                    .unwrap();
                    conn.write_all(body).unwrap();
                    last
                })
                .collect()
        });
        (url, server)
    }

    #[test]
    fn watch_resumes_from_the_last_dispatched_event_id() {
        let (url, server) = serve_streams(vec![
            // `retry: 0` keeps the test quick. The stream ends inside event 3, which is never
            // dispatched, so the watcher resumes after 2.
            b"retry: 0\r\rid: 1\rdata: a\r\rid: 2\rdata: b\r\rid: 3\rdata: c",
            // A reminder without an id: the last event ID stays 2.
            b"event: due\rdata: {}\r\r",
            b"id: 3\rdata: c\r\r",
        ]);
        let mut got = Vec::new();
        watch(&url, None, "IL", Some(0), false, 2, |e| {
            got.push(e.clone());
            Ok(e.data != "c")
        })
        .unwrap();
        assert_eq!(
            got,
            vec![
                ev("message", "a", "1"),
                ev("message", "b", "2"),
                ev("due", "{}", "2"),
                ev("message", "c", "3"),
            ]
        );
        assert_eq!(
            server.join().unwrap(),
            vec![Some("0".into()), Some("2".into()), Some("2".into())],
            "the Last-Event-ID of each connection: --after, then the last dispatched id"
        );
    }

    #[test]
    fn watch_says_when_an_id_cannot_be_sent_back() {
        let (url, server) = serve_streams(vec![b"retry: 0\rid: a\x01b\rdata: x\r\r"]);
        let err = watch(&url, None, "IL", None, false, 0, |_| Ok(true)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot resume the stream: the server's last event id \"a\\u{1}b\" has control characters, which a Last-Event-ID header cannot carry"
        );
        assert_eq!(server.join().unwrap(), vec![None]);
    }

    #[test]
    fn reconnecting_waits_the_reconnection_time_then_backs_off() {
        assert_eq!(
            reconnect_delay(DEFAULT_RECONNECT, 0),
            Duration::from_millis(200)
        );
        assert_eq!(
            reconnect_delay(Duration::from_secs(3), 0),
            Duration::from_secs(3),
            "the server's retry"
        );
        assert_eq!(reconnect_delay(Duration::ZERO, 2), Duration::from_secs(1));
        assert_eq!(reconnect_delay(Duration::ZERO, 50), Duration::from_secs(5));
    }

    #[test]
    fn forces_and_areas_are_checked() {
        assert_eq!(
            parse_forces(&["tanks=10".into()]).unwrap(),
            vec![ForceCount {
                category: truce_model::bodies::ForceCategory::Tanks,
                count: 10
            }]
        );
        assert!(parse_forces(&["tanks".into()]).is_err());
        assert!(parse_forces(&["tanks=many".into()]).is_err());
        // An unknown category is refused before anything is signed.
        let e = parse_forces(&["tonks=3".into()]).unwrap_err().to_string();
        assert!(e.contains("force `tonks=3`") && e.contains("tanks"), "{e}");
        assert!(area(&[], None).is_err());
        assert_eq!(
            area(&["zone-a".into()], None).unwrap(),
            Area {
                zones: vec!["zone-a".into()],
                geometry: None
            }
        );
    }
}
