//! The entry payload: `{"v":1,"mechanism":..,"kind":..,"author":..,"created":..,"body":{..}}`.

use crate::agreement::Agreement;
use crate::bodies::{
    Acknowledgement, Attestation, Case, Coverage, Dispute, Membership, Notice, Participation,
    Posture, Ratification, Ruling, Sighting,
};
use crate::ids::check_member_id;
use crate::refusal::Refusal;
use crate::report::Report;
use crate::time::parse_utc;
use jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// How far before the log's clock (the latest `created` time logged) an entry's own may be:
/// enough for entries signed offline and submitted later, and for a backfill of a year's
/// records; beyond it a time is a mistake or an attempt to backdate (docs/entries.md, "Times").
pub const MAX_PAST_SECONDS: i64 = 366 * 86_400;
/// How far in the future an entry's `created` time may be (clock skew allowance).
pub const MAX_FUTURE_SKEW_SECONDS: i64 = 300;

/// The kinds of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Agreement,
    Ratification,
    Membership,
    Report,
    Notice,
    Acknowledgement,
    Dispute,
    Ruling,
    Posture,
    Case,
    Sighting,
    Coverage,
    Attestation,
    Participation,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Agreement,
        Kind::Ratification,
        Kind::Membership,
        Kind::Report,
        Kind::Notice,
        Kind::Acknowledgement,
        Kind::Dispute,
        Kind::Ruling,
        Kind::Posture,
        Kind::Case,
        Kind::Sighting,
        Kind::Coverage,
        Kind::Attestation,
        Kind::Participation,
    ];

    /// Whether an entry of this kind changes the registry (the agreement, its members and
    /// parties); see [`crate::admission::apply`].
    pub fn affects_registry(self) -> bool {
        match self {
            Kind::Agreement | Kind::Ratification | Kind::Membership | Kind::Participation => true,
            Kind::Report
            | Kind::Notice
            | Kind::Acknowledgement
            | Kind::Dispute
            | Kind::Ruling
            | Kind::Posture
            | Kind::Case
            | Kind::Sighting
            | Kind::Coverage
            | Kind::Attestation => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Agreement => "agreement",
            Kind::Ratification => "ratification",
            Kind::Membership => "membership",
            Kind::Report => "report",
            Kind::Notice => "notice",
            Kind::Acknowledgement => "acknowledgement",
            Kind::Dispute => "dispute",
            Kind::Ruling => "ruling",
            Kind::Posture => "posture",
            Kind::Case => "case",
            Kind::Sighting => "sighting",
            Kind::Coverage => "coverage",
            Kind::Attestation => "attestation",
            Kind::Participation => "participation",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind's body, parsed and checked on its own (cross-references to the agreement are checked
/// by the [`Registry`](crate::Registry)).
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Agreement(Box<Agreement>),
    Ratification(Ratification),
    Membership(Membership),
    Report(Box<Report>),
    Notice(Box<Notice>),
    Acknowledgement(Acknowledgement),
    Dispute(Dispute),
    Ruling(Ruling),
    Posture(Posture),
    Case(Case),
    Sighting(Sighting),
    Coverage(Box<Coverage>),
    Attestation(Attestation),
    Participation(Participation),
}

impl Body {
    /// The kind of entry this body is the body of.
    pub fn kind(&self) -> Kind {
        match self {
            Body::Agreement(_) => Kind::Agreement,
            Body::Ratification(_) => Kind::Ratification,
            Body::Membership(_) => Kind::Membership,
            Body::Report(_) => Kind::Report,
            Body::Notice(_) => Kind::Notice,
            Body::Acknowledgement(_) => Kind::Acknowledgement,
            Body::Dispute(_) => Kind::Dispute,
            Body::Ruling(_) => Kind::Ruling,
            Body::Posture(_) => Kind::Posture,
            Body::Case(_) => Kind::Case,
            Body::Sighting(_) => Kind::Sighting,
            Body::Coverage(_) => Kind::Coverage,
            Body::Attestation(_) => Kind::Attestation,
            Body::Participation(_) => Kind::Participation,
        }
    }

    /// The body as it goes on the wire (what [`Entry::parse`] reads back).
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            Body::Agreement(b) => serde_json::to_value(b),
            Body::Ratification(b) => serde_json::to_value(b),
            Body::Membership(b) => serde_json::to_value(b),
            Body::Report(b) => serde_json::to_value(b),
            Body::Notice(b) => serde_json::to_value(b),
            Body::Acknowledgement(b) => serde_json::to_value(b),
            Body::Dispute(b) => serde_json::to_value(b),
            Body::Ruling(b) => serde_json::to_value(b),
            Body::Posture(b) => serde_json::to_value(b),
            Body::Case(b) => serde_json::to_value(b),
            Body::Sighting(b) => serde_json::to_value(b),
            Body::Coverage(b) => serde_json::to_value(b),
            Body::Attestation(b) => serde_json::to_value(b),
            Body::Participation(b) => serde_json::to_value(b),
        };
        // Every body is a struct of strings, numbers, lists and maps keyed by strings.
        v.unwrap_or(serde_json::Value::Null)
    }

    /// The need-to-know part of a report, notice, dispute or sighting, if it has one (a case's
    /// sealed record is checked with the case).
    pub fn sealed_part(&self) -> Option<&crate::bodies::Sealed> {
        match self {
            Body::Report(r) => r.sealed.as_ref(),
            Body::Notice(n) => n.sealed.as_ref(),
            Body::Dispute(d) => d.sealed.as_ref(),
            Body::Sighting(s) => s.sealed.as_ref(),
            _ => None,
        }
    }

    /// The members any sealed content of the entry is encrypted to.
    pub fn sealed_recipients(&self) -> Option<&[String]> {
        match self {
            Body::Case(c) => c.sealed.as_ref().map(|s| s.recipients.as_slice()),
            b => b.sealed_part().map(|s| s.recipients.as_slice()),
        }
    }
}

/// A parsed entry payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub mechanism: String,
    pub kind: Kind,
    pub author: String,
    pub created: Timestamp,
    pub body: Body,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry {
    v: u64,
    mechanism: String,
    kind: String,
    author: String,
    created: String,
    body: Box<serde_json::value::RawValue>,
}

fn body<T: DeserializeOwned>(raw: &serde_json::value::RawValue) -> Result<T, Refusal> {
    // Fast path without path tracking; on failure, parse again to name the field.
    serde_json::from_str(raw.get()).or_else(|_| {
        let mut de = serde_json::Deserializer::from_str(raw.get());
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." {
                "body".to_owned()
            } else {
                format!("body.{path}")
            };
            Refusal::invalid(format!("{at}: {}", e.into_inner()))
        })
    })
}

impl Entry {
    /// Parses and checks a payload on its own: JSON shape, version, kind, author syntax, time
    /// syntax, and the kind's body schema and internal consistency.
    pub fn parse(payload: &[u8]) -> Result<Self, Refusal> {
        let wire: WireEntry = match serde_json::from_slice(payload) {
            Ok(w) => w,
            Err(plain) => {
                let mut de = serde_json::Deserializer::from_slice(payload);
                let detail = match serde_path_to_error::deserialize::<_, WireEntry>(&mut de) {
                    Err(e) if e.path().to_string() != "." => {
                        let path = e.path().to_string();
                        format!(" at `{path}`: {}", e.into_inner())
                    }
                    _ => format!(": {plain}"),
                };
                return Err(Refusal::invalid(format!(
                    "payload is not a valid entry{detail}"
                )));
            }
        };
        if wire.v != 1 {
            return Err(Refusal::invalid(format!(
                "entry version v={} is not supported; this server speaks v=1",
                wire.v
            )));
        }
        let kind = Kind::parse(&wire.kind).ok_or_else(|| {
            Refusal::invalid(format!(
                "unknown kind `{}`; expected one of {}",
                wire.kind.chars().take(40).collect::<String>(),
                Kind::ALL.map(Kind::as_str).join(", ")
            ))
        })?;
        check_member_id("author", &wire.author)?;
        let created = parse_utc("created", &wire.created)?;
        if !wire.body.get().starts_with('{') {
            return Err(Refusal::invalid("body must be a JSON object"));
        }
        let raw = &*wire.body;
        let body = match kind {
            Kind::Agreement => Body::Agreement(Box::new(body::<Agreement>(raw)?.checked()?)),
            Kind::Ratification => Body::Ratification(body::<Ratification>(raw)?.checked()?),
            Kind::Membership => Body::Membership(body::<Membership>(raw)?.checked()?),
            Kind::Report => Body::Report(Box::new(body::<Report>(raw)?.checked(created)?)),
            Kind::Notice => Body::Notice(Box::new(body::<Notice>(raw)?.checked()?)),
            Kind::Acknowledgement => {
                Body::Acknowledgement(body::<Acknowledgement>(raw)?.checked()?)
            }
            Kind::Dispute => Body::Dispute(body::<Dispute>(raw)?.checked()?),
            Kind::Ruling => Body::Ruling(body::<Ruling>(raw)?.checked()?),
            Kind::Posture => Body::Posture(body::<Posture>(raw)?.checked()?),
            Kind::Case => Body::Case(body::<Case>(raw)?.checked()?),
            Kind::Sighting => Body::Sighting(body::<Sighting>(raw)?.checked()?),
            Kind::Coverage => Body::Coverage(Box::new(body::<Coverage>(raw)?.checked()?)),
            Kind::Attestation => Body::Attestation(body::<Attestation>(raw)?.checked(created)?),
            Kind::Participation => Body::Participation(body::<Participation>(raw)?.checked()?),
        };
        Ok(Self {
            mechanism: wire.mechanism,
            kind,
            author: wire.author,
            created,
            body,
        })
    }

    /// Checks what depends on where and when the entry is submitted: the mechanism it names,
    /// that it was not created more than five minutes after `now` (the server's clock, when
    /// there is one), and not more than [`MAX_PAST_SECONDS`] before `log_clock` (the latest
    /// `created` logged before it).
    pub fn check_context(
        &self,
        origin: &str,
        now: Option<Timestamp>,
        log_clock: Option<Timestamp>,
    ) -> Result<(), Refusal> {
        if self.mechanism != origin {
            return Err(Refusal::new(
                crate::refusal::Code::WrongMechanism,
                format!(
                    "entry is for mechanism `{}` but this log is `{origin}`; sign a new entry naming `{origin}`",
                    self.mechanism.chars().take(100).collect::<String>()
                ),
            ));
        }
        if let Some(now) = now
            && self.created.as_second() - now.as_second() > MAX_FUTURE_SKEW_SECONDS
        {
            let ahead = self.created.as_second() - now.as_second();
            return Err(Refusal::new(
                crate::refusal::Code::FutureTimestamp,
                format!(
                    "created {} is {ahead} s ahead of the server clock ({now}); at most {MAX_FUTURE_SKEW_SECONDS} s is allowed: check the signing machine's clock",
                    self.created
                ),
            ));
        }
        if let Some(clock) = log_clock {
            let behind = clock.as_second() - self.created.as_second();
            if behind > MAX_PAST_SECONDS {
                return Err(Refusal::new(
                    crate::refusal::Code::PastTimestamp,
                    format!(
                        "created {} is {} days before the log's clock ({clock}); at most {} days is allowed: sign the entry again with the current time",
                        self.created,
                        behind / 86_400,
                        MAX_PAST_SECONDS / 86_400
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Signs an entry: the payload from its parts ([`build_payload`]) in a DSSE envelope under
/// the author's key.
pub fn sign(
    mechanism: &str,
    kind: Kind,
    author: &str,
    key: &ed25519_dalek::SigningKey,
    created: Timestamp,
    body: &serde_json::Value,
) -> truce_log::Envelope {
    let payload = build_payload(mechanism, kind, author, created, body);
    truce_log::Envelope::sign(truce_log::dsse::ENTRY_PAYLOAD_TYPE, payload, key)
}

/// Builds a payload (for signing) from its parts, in the canonical field order.
pub fn build_payload(
    mechanism: &str,
    kind: Kind,
    author: &str,
    created: Timestamp,
    body: &serde_json::Value,
) -> Vec<u8> {
    let mut out = String::from("{\"v\":1,\"mechanism\":");
    out.push_str(&serde_json::Value::from(mechanism).to_string());
    out.push_str(",\"kind\":\"");
    out.push_str(kind.as_str());
    out.push_str("\",\"author\":");
    out.push_str(&serde_json::Value::from(author).to_string());
    out.push_str(",\"created\":\"");
    out.push_str(&created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    out.push_str("\",\"body\":");
    out.push_str(&body.to_string());
    out.push('}');
    out.into_bytes()
}
