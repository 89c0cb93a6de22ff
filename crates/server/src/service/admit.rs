//! Admit: the parallel phase of admission (`LogService::prepare`, on the blocking pool,
//! many at once). It gives the early answers that need only a registry snapshot; the
//! authoritative check is the sequencer's ([`truce_model::admission::check`]).

use super::*;

/// The outcome of admission's parallel phase.
#[derive(Debug)]
pub enum Prepared {
    /// A new entry that passed the checks that need no log state beyond a registry snapshot.
    New(Box<Candidate>),
    /// This exact envelope is already logged at this index (an idempotent repeat).
    Logged(u64),
}

impl Prepared {
    /// The author named by a new entry (whose signature is verified at admission or, for a
    /// key registered earlier in the same batch, by the sequencer); none for a repeat.
    pub fn author(&self) -> Option<&str> {
        match self {
            Prepared::New(c) => Some(&c.entry.author),
            Prepared::Logged(_) => None,
        }
    }

    /// The author of a new entry whose signature was verified at admission (none for a
    /// repeat, nor for an entry whose key the sequencer has yet to resolve).
    pub fn verified_author(&self) -> Option<&str> {
        match self {
            Prepared::New(c) if !c.verified.is_empty() => Some(&c.entry.author),
            _ => None,
        }
    }
}

/// A new entry on its way to the sequencer.
#[derive(Debug)]
pub struct Candidate {
    pub(super) entry: Entry,
    pub(super) leaf: Vec<u8>,
    pub(super) leaf_hash: Hash,
    pub(super) envelope: Envelope,
    /// The keys the envelope's signatures verified under at admission, in order; empty when
    /// a signing key was not registered then: the sequencer verifies against the registry as
    /// of the entry's place in the log (a membership entry earlier in the same batch may
    /// register it).
    pub(super) verified: Vec<admission::VerifyingKey>,
    /// For an agreement entry: its documents, checked at admission (a geometry check is
    /// bounded but not cheap: it must not hold up the one sequencer thread). Blobs are
    /// content-addressed, so the result still holds when the entry is sequenced.
    pub(super) documents: Option<Documents>,
}

impl LogService {
    /// Admission checks that need no sequencing: envelope shape, payload schema, mechanism,
    /// clock, and the signature (strict) under the key the registry knows for its key id.
    /// CPU-bound: run it off the async runtime for big batches.
    pub fn prepare(&self, body: &[u8], now: Timestamp) -> Result<Prepared, Refusal> {
        if let Some(upstream) = &self.mirror {
            return Err(Refusal::new(
                truce_model::refusal::Code::ReadOnlyMirror,
                format!(
                    "this server is a read-only mirror of {upstream}; submit entries to the log's own server"
                ),
            ));
        }
        let mut envelope = Envelope::parse(body).map_err(envelope_refusal)?;
        if envelope.has_missing_key_ids() {
            // DSSE lets a signature leave out its keyid; the log stores the canonical form,
            // with the key id of the key it verifies under.
            let entry = Entry::parse(&envelope.payload)?;
            self.registry().fill_key_ids(&entry, &mut envelope)?;
        }
        envelope.check_entry_shape().map_err(envelope_refusal)?;
        let leaf = envelope.to_leaf();
        let leaf_hash = leaf_hash(&leaf);
        // A repeat was valid when it was logged; it gets its receipt even if, say, its key
        // has been rotated since.
        if let Some(index) = self.find_leaf(&leaf_hash) {
            return Ok(Prepared::Logged(index));
        }
        let entry = Entry::parse(&envelope.payload)?;
        let log_clock = match self.shared.clock.load(Ordering::Acquire) {
            i64::MIN => None,
            secs => Timestamp::from_second(secs).ok(),
        };
        // Early answers, in admission's order; the sequencer's `admission::check` decides.
        entry.check_context(&self.origin, Some(now), log_clock)?;
        let registry = self.registry();
        let verified = match registry.envelope_keys(&entry, &envelope) {
            Ok(keys) => {
                envelope
                    .verify_all_strict(&keys)
                    .map_err(envelope_refusal)?;
                keys
            }
            Err(r) if r.code == "unknown-key" => Vec::new(),
            Err(r) => return Err(r),
        };
        let registry_check = || {
            let countersigners: Vec<&str> = envelope
                .countersignatures()
                .iter()
                .map(|s| s.keyid.as_str())
                .collect();
            registry.check(&entry, &envelope.signature().keyid, &countersigners)
        };
        let mut documents = None;
        if let Body::Agreement(a) = &entry.body {
            // Who may submit it comes first, as the sequencer would answer; then its
            // documents, here rather than on the sequencer.
            if !verified.is_empty() {
                registry_check()?;
            }
            documents = Some(stored_documents(&*self.store, a)?);
        }
        if !verified.is_empty() && matches!(entry.kind, Kind::Dispute | Kind::Ruling) {
            // Who may submit it comes first; then what the derived state says.
            registry_check()?;
            let party = registry
                .members()
                .find(|m| m.id == entry.author)
                .map(|m| m.party.clone())
                .unwrap_or_default();
            self.derived
                .precheck(&entry, &party, self.checkpoint().size)?;
        }
        Ok(Prepared::New(Box::new(Candidate {
            leaf_hash,
            leaf,
            envelope,
            verified,
            entry,
            documents,
        })))
    }

    /// Sequences a prepared entry and waits for its durable commit.
    pub async fn submit_prepared(&self, prepared: Prepared) -> Result<Admitted, Refusal> {
        self.submit_many(vec![Ok(prepared)])
            .await
            .pop()
            .unwrap_or_else(|| {
                Err(Refusal::new(
                    truce_model::refusal::Code::Unavailable,
                    "the sequencer dropped the entry; retry",
                ))
            })
    }

    /// Sequences many entries in the given order (a batch) and waits for all of them.
    pub async fn submit_many(
        &self,
        items: Vec<Result<Prepared, Refusal>>,
    ) -> Vec<Result<Admitted, Refusal>> {
        let mut waiting = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Ok(Prepared::New(prepared)) => {
                    let (reply, rx) = oneshot::channel();
                    let sent = self.tx.send(Job { prepared, reply }).await.is_ok();
                    waiting.push(Ok((sent, rx)));
                }
                Ok(Prepared::Logged(index)) => {
                    waiting.push(self.original_receipt(index).map(|receipt| {
                        let (reply, rx) = oneshot::channel();
                        let _ = reply.send(Ok(Admitted {
                            receipt,
                            created: false,
                        }));
                        (true, rx)
                    }));
                }
                Err(r) => waiting.push(Err(r)),
            }
        }
        let mut out = Vec::with_capacity(waiting.len());
        for w in waiting {
            out.push(match w {
                Ok((true, rx)) => rx.await.unwrap_or_else(|_| {
                    Err(Refusal::new(
                        truce_model::refusal::Code::Unavailable,
                        "the sequencer dropped the entry; retry",
                    ))
                }),
                Ok((false, _)) => Err(Refusal::new(
                    truce_model::refusal::Code::Unavailable,
                    "the sequencer has stopped; restart the server",
                )),
                Err(r) => Err(r),
            });
        }
        out
    }

    /// Prepares (on a blocking thread) and sequences one envelope.
    pub async fn submit(&self, body: Vec<u8>) -> Result<Admitted, Refusal> {
        let prepared = self.prepare_blocking(body).await?;
        self.submit_prepared(prepared).await
    }

    /// [`LogService::prepare`] on the blocking pool, now.
    pub async fn prepare_blocking(&self, body: Vec<u8>) -> Result<Prepared, Refusal> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.prepare(&body, Timestamp::now()))
            .await
            .map_err(|_| {
                Refusal::new(
                    truce_model::refusal::Code::Unavailable,
                    "admission worker failed; retry",
                )
            })?
    }
}
