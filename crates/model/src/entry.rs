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

/// The one table of entry kinds. Each row: the variant (of [`Kind`] and of [`Body`]), its
/// wire name, the body type that parses it, the type [`Body`] holds (the body type, or a box
/// of it for the big ones), whether it changes the registry ([`Kind::affects_registry`]), and
/// whether its check reads the entry's `created` time. From it come `Kind`, `Kind::ALL`,
/// `Kind::as_str`, `Body`, `Body::kind`, `Body::to_json`, the parse dispatch of
/// [`Entry::parse`] and the body-type dispatch of [`Kind::visit_body_type`].
///
/// The decisions about a kind (who may submit it, who may read it, what applying it does)
/// stay exhaustive matches where they are made, so the compiler points at each of them when
/// a row is added.
/// A body type's own check: `checked()`, or `checked(created)` for those that compare times
/// with the entry's.
macro_rules! checked {
    ($body:expr, $created:expr, ) => {
        $body.checked()
    };
    ($body:expr, $created:expr, created) => {
        $body.checked($created)
    };
}

macro_rules! entry_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $wire:literal, $ty:ty, $held:ty,
        registry: $registry:literal, check($($created:ident)?); )*) => {
        /// The kinds of entries.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $( $(#[$doc])* $variant, )*
        }

        impl Kind {
            /// Every kind, in the table's order.
            pub const ALL: [Kind; [$($wire),*].len()] = [$(Kind::$variant),*];

            /// Whether an entry of this kind changes the registry (the agreement, its members
            /// and parties); see [`crate::admission::apply`].
            pub fn affects_registry(self) -> bool {
                match self {
                    $( Kind::$variant => $registry, )*
                }
            }

            /// The kind's name on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Kind::$variant => $wire, )*
                }
            }

            /// Calls `v` with the kind's body type (the schema dispatch of
            /// [`crate::schema::body_schema`]).
            pub fn visit_body_type<V: BodyTypeVisitor>(self, v: V) -> V::Out {
                match self {
                    $( Kind::$variant => v.visit::<$ty>(), )*
                }
            }

            /// Parses and checks a body of this kind (see [`Entry::parse`]).
            fn parse_body(
                self,
                raw: &serde_json::value::RawValue,
                created: Timestamp,
            ) -> Result<Body, Refusal> {
                Ok(match self {
                    $( Kind::$variant => {
                        let parsed = body::<$ty>(raw)?;
                        Body::$variant(checked!(parsed, created, $($created)?)?.into())
                    } )*
                })
            }
        }

        /// A kind's body, parsed and checked on its own (cross-references to the agreement
        /// are checked by the [`Registry`](crate::Registry)).
        #[derive(Debug, Clone, PartialEq)]
        pub enum Body {
            $( $(#[$doc])* $variant($held), )*
        }

        impl Body {
            /// The kind of entry this body is the body of.
            pub fn kind(&self) -> Kind {
                match self {
                    $( Body::$variant(_) => Kind::$variant, )*
                }
            }

            /// The body as it goes on the wire (what [`Entry::parse`] reads back).
            pub fn to_json(&self) -> serde_json::Value {
                let v = match self {
                    $( Body::$variant(b) => serde_json::to_value(b), )*
                };
                // Every body is a struct of strings, numbers, lists and maps keyed by strings.
                v.unwrap_or(serde_json::Value::Null)
            }
        }
    };
}

entry_kinds! {
    /// The agreement: parties, members, zones, rules (docs/agreement.md).
    Agreement = "agreement", Agreement, Box<Agreement>, registry: true, check();
    /// A party's ratification of a logged agreement.
    Ratification = "ratification", Ratification, Ratification, registry: true, check();
    /// A member added, re-keyed, suspended, reinstated or removed.
    Membership = "membership", Membership, Membership, registry: true, check();
    /// An incident report.
    Report = "report", Report, Box<Report>, registry: false, check(created);
    /// Notice of a planned activity.
    Notice = "notice", Notice, Box<Notice>, registry: false, check();
    /// An addressee's answer to a notice.
    Acknowledgement = "acknowledgement", Acknowledgement, Acknowledgement, registry: false, check();
    /// A party contests a finding.
    Dispute = "dispute", Dispute, Dispute, registry: false, check();
    /// The mediator's decision on a finding.
    Ruling = "ruling", Ruling, Ruling, registry: false, check();
    /// Forces by zone, declared or observed.
    Posture = "posture", Posture, Posture, registry: false, check();
    /// A step of a civilian detention or abduction case.
    Case = "case", Case, Case, registry: false, check();
    /// A confirmation or denial of a logged report.
    Sighting = "sighting", Sighting, Sighting, registry: false, check();
    /// Where and when a member could observe.
    Coverage = "coverage", Coverage, Box<Coverage>, registry: false, check();
    /// Calm on record: no significant incident in a period.
    Attestation = "attestation", Attestation, Attestation, registry: false, check(created);
    /// A party suspends or resumes its participation.
    Participation = "participation", Participation, Participation, registry: true, check();
}

/// Something done with a kind's body type, for each kind (see [`Kind::visit_body_type`]).
pub trait BodyTypeVisitor {
    type Out;
    fn visit<T: schemars::JsonSchema>(self) -> Self::Out;
}

impl Kind {
    /// The kind named `s` on the wire.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Body {
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
        let body = kind.parse_body(&wire.body, created)?;
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
