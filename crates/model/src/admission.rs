//! Admission: whether an entry may be logged at a point of the log, and what it changes there.
//!
//! This is the one definition. The server's sequencer decides with [`check`] and records with
//! [`apply`]; its start-up replay, a mirror's ingest, `truce verify server`, `verify data`,
//! `audit`, `replay`, `eval fusion` and the engine's conformance harness run the same two
//! functions over logged entries, so a verifier applies exactly the server's rules.
//!
//! I/O-free and clock-free: the caller passes the registry as the log stands, the time (when
//! there is one), the keys signatures were already verified under, and a lookup for an
//! agreement's documents.
//!
//! What is *not* here, on purpose: the early answers the server gives before sequencing (a
//! repeat is answered with its receipt; a dispute or ruling is prechecked against the derived
//! state, which only the apply stage has). Those never admit anything the sequencer would
//! refuse; the sequencer's [`check`] is authoritative.

use crate::agreement::{Agreement, check_blob};
use crate::entry::{Body, Entry};
use crate::refusal::Code;
use crate::{Refusal, Registry};
pub use ed25519_dalek::VerifyingKey;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use truce_log::dsse::{Envelope, EnvelopeError};

/// The times admission bounds an entry's `created` by.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    /// The admitting server's clock, at submission. A verifier of a logged entry has none.
    pub now: Option<Timestamp>,
    /// The log's clock: the latest `created` of the entries before this one.
    pub log: Option<Timestamp>,
}

impl Clock {
    /// The log's clock after an entry with this `created` time.
    pub fn advance(&mut self, created: Timestamp) {
        self.log = Some(self.log.map_or(created, |c| c.max(created)));
    }
}

/// An agreement's documents (its annexes), parsed: served with the mechanism.
#[derive(Debug, Clone, Default)]
pub struct Annexes {
    pub zones: Option<serde_json::Value>,
    pub places: Option<serde_json::Value>,
}

/// An agreement's documents, checked: the ids of its zones, and the annexes.
#[derive(Debug, Clone, Default)]
pub struct Documents {
    pub zone_ids: BTreeSet<String>,
    pub annexes: Annexes,
}

/// Finds a blob by SHA-256 (hex): `Ok(None)` when it is not there; `Err` when it cannot be
/// read (the refusal to give, e.g. 503).
pub type BlobLookup<'a> = dyn FnMut(&str) -> Result<Option<Vec<u8>>, Refusal> + 'a;

/// Reads and checks an agreement's zones and places documents (size, SHA-256, content).
pub fn documents(a: &Agreement, blob: &mut BlobLookup<'_>) -> Result<Documents, Refusal> {
    let missing = |what: &str, sha: &str| {
        Refusal::new(
            Code::MissingBlob,
            format!(
                "the agreement's {what} document {sha} is not in the blob store; upload it first with PUT /v1/blobs/{sha}"
            ),
        )
    };
    let zones_doc = blob(&a.zones.sha256)?.ok_or_else(|| missing("zones", &a.zones.sha256))?;
    let zones = a.check_zones(&zones_doc)?;
    let mut annexes = Annexes {
        zones: serde_json::from_slice(&zones_doc).ok(),
        places: None,
    };
    if let Some(p) = &a.places {
        let doc = blob(&p.sha256)?.ok_or_else(|| missing("places", &p.sha256))?;
        check_blob("body.places", p, &doc)?;
        let value: serde_json::Value = serde_json::from_slice(&doc)
            .map_err(|e| Refusal::invalid(format!("places document is not JSON: {e}")))?;
        annexes.places = Some(value);
    }
    Ok(Documents {
        zone_ids: zones.into_iter().map(|z| z.id).collect(),
        annexes,
    })
}

/// The refusal for an envelope that does not parse or verify.
pub fn envelope_refusal(e: EnvelopeError) -> Refusal {
    let code = match e {
        EnvelopeError::PayloadType(_) => Code::WrongPayloadType,
        EnvelopeError::TooLarge(_) => Code::EntryTooLarge,
        EnvelopeError::BadSignature(_) | EnvelopeError::KeyMismatch { .. } => Code::BadSignature,
        _ => Code::MalformedEnvelope,
    };
    Refusal::new(code, e.to_string())
}

/// Verifies every signature of `env` under the keys the registry gives for it, in order
/// (author, then countersigners). A signature `i` whose key is `verified[i]` was verified
/// already (strictly, under that very key) and is not verified again.
pub fn verify_signatures(
    registry: &Registry,
    entry: &Entry,
    env: &Envelope,
    verified: &[VerifyingKey],
) -> Result<(), Refusal> {
    let keys = registry.envelope_keys(entry, env)?;
    for (i, (s, k)) in env.signatures.iter().zip(&keys).enumerate() {
        if verified.get(i) != Some(k) {
            env.verify_signature_strict(s, k)
                .map_err(envelope_refusal)?;
        }
    }
    Ok(())
}

/// Whether `entry`, in `env`, may be logged next: it names this log's mechanism; it was created
/// at most five minutes after `clock.now` and at most the allowed days before `clock.log`;
/// every signature verifies under the key the registry gives (see [`verify_signatures`]); and
/// the registry's rules allow it ([`Registry::check`]: membership, role, status, ratification,
/// countersignatures).
pub fn check(
    registry: &Registry,
    origin: &str,
    clock: Clock,
    env: &Envelope,
    entry: &Entry,
    verified: &[VerifyingKey],
) -> Result<(), Refusal> {
    entry.check_context(origin, clock.now, clock.log)?;
    verify_signatures(registry, entry, env, verified)?;
    let countersigners: Vec<&str> = env
        .countersignatures()
        .iter()
        .map(|s| s.keyid.as_str())
        .collect();
    registry.check(entry, &env.signature().keyid, &countersigners)
}

/// The SHA-256 (hex) of an entry's payload, as the registry records it for entries that
/// change it (what a ratification names).
pub fn payload_sha256(env: &Envelope) -> String {
    hex::encode(Sha256::digest(&env.payload))
}

/// Records an admitted entry at `index`: its effects on the registry. Returns the annexes
/// that come into force with it, if any (an agreement opening the log, or an amendment
/// ratified by all). `docs` gives an agreement's checked documents (see [`documents`]). On an
/// error the registry is as it was.
pub fn apply(
    registry: &mut Registry,
    index: u64,
    env: &Envelope,
    entry: &Entry,
    docs: &mut dyn FnMut(&Agreement) -> Result<Documents, Refusal>,
) -> Result<Option<Annexes>, Refusal> {
    if !entry.kind.affects_registry() {
        return Ok(None);
    }
    let mut in_force = None;
    let zone_ids = match &entry.body {
        Body::Agreement(a) => {
            let d = docs(a)?;
            if registry.agreement().is_none() {
                in_force = Some(d.annexes);
            }
            d.zone_ids
        }
        _ => BTreeSet::new(),
    };
    let before = registry.agreement().map(|a| a.index);
    let mut next = registry.clone();
    next.apply(index, entry, &payload_sha256(env), zone_ids);
    if let Some(a) = next.agreement()
        && before.is_some_and(|b| b != a.index)
    {
        in_force = Some(docs(&a.body)?.annexes);
    }
    *registry = next;
    Ok(in_force)
}

/// The state admission runs against, for a reader of a log that admits its entries one by one
/// in log order (a verifier, a mirror, a replay): the registry, the annexes and the log's
/// clock.
#[derive(Debug, Clone, Default)]
pub struct LogState {
    pub registry: Registry,
    pub annexes: Annexes,
    pub clock: Clock,
}

impl LogState {
    pub fn new() -> Self {
        Self::default()
    }

    /// [`check`]s the logged entry at `index` (with no server clock: it was logged already),
    /// then [`apply`]s it and advances the log's clock.
    pub fn admit(
        &mut self,
        origin: &str,
        index: u64,
        env: &Envelope,
        entry: &Entry,
        verified: &[VerifyingKey],
        docs: &mut dyn FnMut(&Agreement) -> Result<Documents, Refusal>,
    ) -> Result<(), Refusal> {
        let clock = Clock {
            now: None,
            log: self.clock.log,
        };
        check(&self.registry, origin, clock, env, entry, verified)?;
        self.record(index, env, entry, docs)
    }

    /// [`apply`] of an entry already admitted (a store's own log, read back at start-up), with
    /// the clock advanced.
    pub fn record(
        &mut self,
        index: u64,
        env: &Envelope,
        entry: &Entry,
        docs: &mut dyn FnMut(&Agreement) -> Result<Documents, Refusal>,
    ) -> Result<(), Refusal> {
        if let Some(annexes) = apply(&mut self.registry, index, env, entry, docs)? {
            self.annexes = annexes;
        }
        self.clock.advance(entry.created);
        Ok(())
    }
}
