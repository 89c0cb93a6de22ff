//! The log service: admission, the sequencer (one thread, group commit), and reads of the
//! committed tree. Used by the HTTP API and by `truce init` alike, so both go through the same
//! admission path.

use crate::derived::{Derived, LogSize};
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{mpsc, oneshot};
use truce_log::dsse::Envelope;
use truce_log::merkle::{MemoryHashes, leaf_hash};
use truce_log::{Hash, LogKey, Receipt, SignedCheckpoint};
use truce_model::admission::{self, Clock, Documents, envelope_refusal};
use truce_model::agreement::Agreement;
use truce_model::entry::{Body, Entry, Kind};
use truce_model::{Refusal, Registry};
use truce_store::{Append, NewEntry, Store, StoreError};

/// Most entries sequenced in one commit.
const MAX_BATCH: usize = 4096;
/// Group commit: after the first entry of a commit arrives, wait this long for more (unless
/// the batch is full) so that concurrent single submissions share one fsync.
const GROUP_COMMIT_TICK: std::time::Duration = std::time::Duration::from_millis(2);

/// Failures of the service itself (not of a client's entry).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the log key's origin `{key}` is not the data directory's origin `{config}`")]
    OriginMismatch { key: String, config: String },
    #[error("replaying the stored log failed at entry {index}: {detail}")]
    Replay { index: u64, detail: String },
    #[error("signing a checkpoint failed: {0}")]
    Checkpoint(#[from] truce_log::checkpoint::CheckpointError),
    #[error("stored hashes do not match the stored entries: {0}")]
    Hashes(String),
}

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
    entry: Entry,
    leaf: Vec<u8>,
    leaf_hash: Hash,
    envelope: Envelope,
    /// The keys the envelope's signatures verified under at admission, in order; empty when
    /// a signing key was not registered then: the sequencer verifies against the registry as
    /// of the entry's place in the log (a membership entry earlier in the same batch may
    /// register it).
    verified: Vec<admission::VerifyingKey>,
    /// For an agreement entry: its documents, checked at admission (a geometry check is
    /// bounded but not cheap: it must not hold up the one sequencer thread). Blobs are
    /// content-addressed, so the result still holds when the entry is sequenced.
    documents: Option<Documents>,
}

/// The answer to a submission.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub receipt: Receipt,
    /// False when the same envelope was already logged (an idempotent repeat).
    pub created: bool,
}

type Reply = oneshot::Sender<Result<Admitted, Refusal>>;

struct Job {
    prepared: Box<Candidate>,
    reply: Reply,
}

pub use truce_model::admission::Annexes;

struct Shared {
    hashes: RwLock<MemoryHashes>,
    /// Index of every committed leaf by its hash (about 50 bytes per entry), for idempotent
    /// repeats and lookups by leaf hash without a database index on random keys.
    leaf_index: RwLock<HashMap<[u8; 32], u64>>,
    checkpoint: RwLock<SignedCheckpoint>,
    registry: RwLock<Arc<Registry>>,
    annexes: RwLock<Arc<Annexes>>,
    /// The log's clock: the latest `created` time committed (unix seconds; `i64::MIN` while the
    /// log is empty). Admission bounds how far before it a new entry may be created.
    clock: AtomicI64,
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct LogService {
    origin: Arc<str>,
    vkey: Arc<str>,
    store: Arc<dyn Store>,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Job>,
    derived: Arc<Derived>,
    cosigned: Arc<crate::cosign::Cosigned>,
    /// The URL of the log this service mirrors (see [`LogService::open_mirror`]).
    mirror: Option<Arc<str>>,
}

/// Why a mirror's [`LogService::ingest`] stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("this service is the log's own server, not a mirror")]
    NotAMirror,
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("entry {index}: {detail}")]
    Entry { index: u64, detail: String },
    #[error(
        "the root of the {size} entries served ({computed}) is not the signed checkpoint's ({signed})"
    )]
    Root {
        size: u64,
        computed: String,
        signed: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal lock poisoned")]
    Lock,
}

struct CommittedSize(Arc<Shared>);

impl LogSize for CommittedSize {
    fn committed(&self) -> u64 {
        self.0.checkpoint.read().map(|c| c.size).unwrap_or(0)
    }
}

impl std::fmt::Debug for LogService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogService")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

fn lock_poisoned() -> Refusal {
    Refusal::new(
        truce_model::refusal::Code::Unavailable,
        "internal lock poisoned; restart the server",
    )
}

/// An agreement's documents read from the blob store and checked.
fn stored_documents(store: &dyn Store, a: &Agreement) -> Result<Documents, Refusal> {
    admission::documents(a, &mut |sha| {
        store
            .get_blob(sha)
            .map_err(|e| Refusal::new(truce_model::refusal::Code::Unavailable, e.to_string()))
    })
}

impl LogService {
    /// Opens the log: loads the tree, replays the registry from the stored entries, and starts
    /// the sequencer thread. Must be called inside a Tokio runtime.
    pub fn open(store: Arc<dyn Store>, key: LogKey, origin: &str) -> Result<Self, ServiceError> {
        if key.origin() != origin {
            return Err(ServiceError::OriginMismatch {
                key: key.origin().into(),
                config: origin.into(),
            });
        }
        let vkey = key.verifier_key().to_owned();
        Self::start(store, origin, &vkey, Some(key), None)
    }

    /// Opens a mirror's copy of the log of `upstream`, whose checkpoints verify under `vkey`:
    /// the same reads as the log's own server, no sequencer (submissions are refused), and no
    /// signing. Entries arrive only through [`LogService::ingest`], verified beforehand by the
    /// mirror. The store must hold at least the log's first checkpoint.
    pub fn open_mirror(
        store: Arc<dyn Store>,
        origin: &str,
        vkey: &str,
        upstream: &str,
    ) -> Result<Self, ServiceError> {
        Self::start(store, origin, vkey, None, Some(upstream))
    }

    fn start(
        store: Arc<dyn Store>,
        origin: &str,
        vkey: &str,
        key: Option<LogKey>,
        mirror: Option<&str>,
    ) -> Result<Self, ServiceError> {
        let loaded = store.load()?;
        let hashes = MemoryHashes::from_stored(loaded.hashes, loaded.size)
            .map_err(|e| ServiceError::Hashes(e.to_string()))?;
        let admission::LogState {
            registry,
            annexes,
            clock,
        } = replay(&*store, loaded.size)?;
        let clock = clock.log;
        let root = hashes
            .root(loaded.size)
            .map_err(|e| ServiceError::Hashes(e.to_string()))?;
        let checkpoint = match (loaded.checkpoint, &key) {
            (Some(note), _) => {
                let v = truce_log::checkpoint::verify_checkpoint(&note, vkey)?;
                if v.size != loaded.size || v.root != root {
                    return Err(ServiceError::Hashes(format!(
                        "latest checkpoint is for size {} but the store holds {} entries",
                        v.size, loaded.size
                    )));
                }
                SignedCheckpoint {
                    note,
                    size: v.size,
                    root: v.root,
                }
            }
            (None, None) => {
                return Err(ServiceError::Hashes(
                    "the mirror holds no checkpoint of the log yet".into(),
                ));
            }
            (None, Some(key)) => {
                let cp = key.sign(loaded.size, root, "")?;
                store.append(Append {
                    first_index: loaded.size,
                    entries: &[],
                    hashes_from: MemoryHashes::stored_count(loaded.size),
                    hashes: &[],
                    checkpoint: &cp,
                })?;
                cp
            }
        };
        let leaf_index = (0..loaded.size)
            .map(|i| {
                hashes
                    .read_leaf_hash(i)
                    .map(|l| (l.0, i))
                    .ok_or_else(|| ServiceError::Hashes(format!("no leaf hash {i}")))
            })
            .collect::<Result<HashMap<_, _>, _>>()?;
        let shared = Arc::new(Shared {
            leaf_index: RwLock::new(leaf_index),
            hashes: RwLock::new(hashes),
            checkpoint: RwLock::new(checkpoint),
            registry: RwLock::new(Arc::new(registry)),
            annexes: RwLock::new(Arc::new(annexes)),
            clock: AtomicI64::new(clock.map_or(i64::MIN, |c| c.as_second())),
        });
        let vkey: Arc<str> = Arc::from(vkey);
        let key = key.map(Arc::new);
        let derived = Arc::new(Derived::open(&*store));
        {
            let (d, st, k) = (derived.clone(), store.clone(), key.clone());
            let log: Arc<dyn LogSize> = Arc::new(CommittedSize(shared.clone()));
            std::thread::Builder::new()
                .name("truce-applier".into())
                .spawn(move || d.run(st, k, log))
                .map_err(|e| ServiceError::Replay {
                    index: 0,
                    detail: format!("cannot start the applier: {e}"),
                })?;
        }
        let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
        // A mirror has no sequencer: its channel is closed, and admission refuses first.
        if let Some(key) = key {
            let sequencer = Sequencer {
                key,
                store: store.clone(),
                shared: shared.clone(),
                origin: Arc::from(origin),
                documents: std::cell::RefCell::new(HashMap::new()),
            };
            std::thread::Builder::new()
                .name("truce-sequencer".into())
                .spawn(move || sequencer.run(rx))
                .map_err(|e| ServiceError::Replay {
                    index: 0,
                    detail: format!("cannot start sequencer: {e}"),
                })?;
        }
        Ok(Self {
            origin: Arc::from(origin),
            vkey,
            store,
            shared,
            tx,
            derived,
            cosigned: Arc::default(),
            mirror: mirror.map(Arc::from),
        })
    }

    /// The URL of the log this service mirrors, when it is a mirror.
    pub fn mirror_of(&self) -> Option<&str> {
        self.mirror.as_deref()
    }

    /// Appends entries that a mirror has verified (see [`LogService::open_mirror`]), with the
    /// log's checkpoint for the new size, in one durable transaction; then the read side,
    /// the registry and the apply stage follow as on the log's own server. Refused, and
    /// nothing stored, unless the checkpoint verifies under the log's key, is for exactly the
    /// new size, and its root is the root of the tree with these entries appended. Blocking;
    /// one caller at a time.
    pub fn ingest(&self, entries: &[NewEntry], note: &[u8]) -> Result<(), IngestError> {
        if self.mirror.is_none() {
            return Err(IngestError::NotAMirror);
        }
        let cp = truce_log::checkpoint::verify_checkpoint(note, &self.vkey)
            .map_err(|e| IngestError::Checkpoint(e.to_string()))?;
        let size0 = self.checkpoint().size;
        let size = size0 + entries.len() as u64;
        if cp.size != size {
            return Err(IngestError::Checkpoint(format!(
                "the checkpoint is for {} entries, not the {size} this append makes",
                cp.size
            )));
        }
        // The follower re-admitted every entry (`admission::check`); the effects are recorded
        // here, against the mirror's own registry.
        let mut state = admission::LogState {
            registry: (*self.registry()).clone(),
            annexes: (*self.annexes()).clone(),
            clock: Clock::default(),
        };
        for (i, e) in entries.iter().enumerate() {
            let index = size0 + i as u64;
            let bad = |detail: String| IngestError::Entry { index, detail };
            let env = Envelope::parse(&e.leaf).map_err(|x| bad(x.to_string()))?;
            let entry = Entry::parse(&env.payload).map_err(|x| bad(x.detail))?;
            state
                .record(index, &env, &entry, &mut |a| {
                    stored_documents(&*self.store, a)
                })
                .map_err(|r| bad(r.detail))?;
        }
        let clock = state.clock.log.map_or(i64::MIN, |c| c.as_second());
        let (registry, annexes) = (state.registry, state.annexes);
        let from = MemoryHashes::stored_count(size0);
        let new_hashes = {
            let mut h = self.shared.hashes.write().map_err(|_| IngestError::Lock)?;
            let appended = entries
                .iter()
                .try_for_each(|e| h.append(e.leaf_hash).map(|_| ()))
                .map_err(|e| e.to_string())
                .and_then(|()| h.root(size).map_err(|e| e.to_string()));
            match appended {
                Ok(root) if root == cp.root => h.stored_from(from).to_vec(),
                Ok(root) => {
                    h.truncate(size0);
                    return Err(IngestError::Root {
                        size,
                        computed: root.to_string(),
                        signed: cp.root.to_string(),
                    });
                }
                Err(e) => {
                    h.truncate(size0);
                    return Err(IngestError::Checkpoint(e));
                }
            }
        };
        let signed = SignedCheckpoint {
            note: note.to_vec(),
            size,
            root: cp.root,
        };
        if let Err(e) = self.store.append(Append {
            first_index: size0,
            entries,
            hashes_from: from,
            hashes: &new_hashes,
            checkpoint: &signed,
        }) {
            if let Ok(mut h) = self.shared.hashes.write() {
                h.truncate(size0);
            }
            return Err(IngestError::Store(e));
        }
        if let Ok(mut g) = self.shared.leaf_index.write() {
            g.extend(
                entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.leaf_hash.0, size0 + i as u64)),
            );
        }
        self.shared.clock.fetch_max(clock, Ordering::AcqRel);
        if let Ok(mut g) = self.shared.registry.write() {
            *g = Arc::new(registry);
        }
        if let Ok(mut g) = self.shared.annexes.write() {
            *g = Arc::new(annexes);
        }
        if let Ok(mut g) = self.shared.checkpoint.write() {
            *g = signed;
        }
        Ok(())
    }

    /// The witness cosignatures gathered so far (see [`crate::cosign`]).
    pub fn cosigned(&self) -> &Arc<crate::cosign::Cosigned> {
        &self.cosigned
    }

    /// Whether the agreement in force names witnesses (without copying the block).
    pub fn has_witnesses(&self) -> bool {
        self.registry()
            .agreement()
            .is_some_and(|a| a.body.witnesses.is_some())
    }

    /// The agreement's witnesses, if it names any.
    pub fn witnesses(&self) -> Option<truce_model::witnesses::Witnesses> {
        self.registry()
            .agreement()
            .and_then(|a| a.body.witnesses.clone())
    }

    /// The derived state (events, findings, commitments) as applied so far.
    pub fn derived(&self) -> &Arc<Derived> {
        &self.derived
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn verifier_key(&self) -> &str {
        &self.vkey
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

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

    /// The registry as of the latest commit.
    pub fn registry(&self) -> Arc<Registry> {
        // A poisoned lock still holds the last committed value.
        match self.shared.registry.read() {
            Ok(r) => r.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn annexes(&self) -> Arc<Annexes> {
        match self.shared.annexes.read() {
            Ok(a) => a.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> SignedCheckpoint {
        match self.shared.checkpoint.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Runs `f` with the committed tree's hashes and its size.
    pub fn with_hashes<T>(&self, f: impl FnOnce(&MemoryHashes, u64) -> T) -> Result<T, Refusal> {
        let size = self.checkpoint().size;
        let h = self.shared.hashes.read().map_err(|_| lock_poisoned())?;
        Ok(f(&h, size))
    }

    /// The receipt first issued for entry `index`: the proof against the checkpoint of the
    /// commit that logged it.
    pub fn original_receipt(&self, index: u64) -> Result<Receipt, Refusal> {
        let h = self.shared.hashes.read().map_err(|_| lock_poisoned())?;
        original_receipt(&*self.store, &h, index)
    }

    /// Whether the sequencer thread is alive (it only stops on an internal failure).
    pub fn sequencer_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// The index of the committed entry with this leaf hash.
    pub fn find_leaf(&self, leaf: &Hash) -> Option<u64> {
        self.shared.leaf_index.read().ok()?.get(&leaf.0).copied()
    }

    /// A receipt for the entry at `index` against the latest checkpoint.
    ///
    /// When the agreement names witnesses, the receipt carries their cosignatures: it is
    /// against the newest checkpoint that meets the witness policy if that one covers the
    /// entry, otherwise against the newest checkpoint with the cosignatures gathered so far.
    pub fn receipt(&self, index: u64) -> Result<Receipt, Refusal> {
        let mut cp = self.checkpoint();
        let h = self.shared.hashes.read().map_err(|_| lock_poisoned())?;
        if self.has_witnesses() {
            if let Some(g) = self.cosigned.best().filter(|g| g.size > index)
                && let Ok(root) = h.root(g.size)
            {
                cp = SignedCheckpoint {
                    note: g.cosigned_note(),
                    size: g.size,
                    root,
                };
            } else if let Some(g) = self.cosigned.at(cp.size) {
                cp.note = g.cosigned_note();
            }
        }
        receipt_for(&h, &cp, index)
    }
}

fn receipt_for(h: &MemoryHashes, cp: &SignedCheckpoint, index: u64) -> Result<Receipt, Refusal> {
    let proof = h
        .prove_inclusion(cp.size, index)
        .map_err(|e| Refusal::new(truce_model::refusal::Code::NotFound, e.to_string()))?;
    let leaf = h.read_leaf_hash(index).ok_or_else(|| {
        Refusal::new(
            truce_model::refusal::Code::NotFound,
            format!("no entry {index}"),
        )
    })?;
    Ok(Receipt::new(index, leaf, &cp.note, proof))
}

fn original_receipt(store: &dyn Store, h: &MemoryHashes, index: u64) -> Result<Receipt, Refusal> {
    let not_found = |d: String| Refusal::new(truce_model::refusal::Code::NotFound, d);
    let (size, note) = store
        .checkpoint_covering(index)
        .map_err(|e| Refusal::new(truce_model::refusal::Code::Unavailable, e.to_string()))?
        .ok_or_else(|| not_found(format!("no checkpoint covers entry {index}")))?;
    let root = h.root(size).map_err(|e| not_found(e.to_string()))?;
    receipt_for(h, &SignedCheckpoint { note, size, root }, index)
}

/// The member registry as of a store's whole log (for tools that run beside the server,
/// such as `truce token create`).
pub fn registry_of(store: &dyn Store) -> Result<Registry, ServiceError> {
    Ok(log_state_of(store)?.registry)
}

/// The admission state (registry, annexes, the log's clock) after the stored log.
pub fn log_state_of(store: &dyn Store) -> Result<admission::LogState, ServiceError> {
    let size = store.load()?.size;
    replay(store, size)
}

/// Rebuilds the registry and annexes from the stored log, in log order, and finds the log's
/// clock.
fn replay(store: &dyn Store, size: u64) -> Result<admission::LogState, ServiceError> {
    let mut state = admission::LogState::new();
    let mut index = 0;
    while index < size {
        let leaves = store.leaves(index, (index + 10_000).min(size))?;
        if leaves.is_empty() {
            return Err(ServiceError::Replay {
                index,
                detail: "entry missing".into(),
            });
        }
        for leaf in leaves {
            let bad = |detail: String| ServiceError::Replay { index, detail };
            let env = Envelope::parse(&leaf).map_err(|e| bad(e.to_string()))?;
            let entry = Entry::parse(&env.payload).map_err(|e| bad(e.detail))?;
            // The store's own log was admitted when it was written: its effects are
            // recorded, not checked again (that is `truce verify data`).
            state
                .record(index, &env, &entry, &mut |a| stored_documents(store, a))
                .map_err(|e| bad(e.detail))?;
            index += 1;
        }
    }
    Ok(state)
}

/// What an agreement's checked documents are a function of: the SHA-256 of its zones and
/// places documents.
fn documents_key(a: &Agreement) -> (String, Option<String>) {
    (
        a.zones.sha256.clone(),
        a.places.as_ref().map(|p| p.sha256.clone()),
    )
}

struct Sequencer {
    key: Arc<LogKey>,
    store: Arc<dyn Store>,
    shared: Arc<Shared>,
    origin: Arc<str>,
    /// Agreements' documents checked at admission, by the SHA-256 of their zones and places
    /// documents (what they are a function of), so that an amendment coming into force does
    /// not check them again on the sequencer thread.
    documents: std::cell::RefCell<HashMap<(String, Option<String>), Documents>>,
}

struct Accepted {
    reply: Reply,
    index: u64,
    created: bool,
}

impl Sequencer {
    fn logged(&self, leaf: &Hash) -> Option<u64> {
        self.shared.leaf_index.read().ok()?.get(&leaf.0).copied()
    }

    fn run(self, mut rx: mpsc::Receiver<Job>) {
        while let Some(first) = rx.blocking_recv() {
            let mut jobs = vec![first];
            let deadline = std::time::Instant::now() + GROUP_COMMIT_TICK;
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(mpsc::error::TryRecvError::Empty)
                        if std::time::Instant::now() < deadline =>
                    {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                    Err(_) => break,
                }
            }
            // A bug must not stop the log: if sequencing panics, the batch is not logged (its
            // submitters get 503) and the in-memory tree is rolled back to the last commit.
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.sequence(jobs)));
            if outcome.is_err() {
                tracing::error!("sequencing a batch panicked; none of it was logged");
                self.roll_back_to_last_commit();
            }
        }
    }

    fn roll_back_to_last_commit(&self) {
        self.shared.checkpoint.clear_poison();
        self.shared.hashes.clear_poison();
        self.shared.registry.clear_poison();
        self.shared.annexes.clear_poison();
        self.shared.leaf_index.clear_poison();
        let size = match self.shared.checkpoint.read() {
            Ok(c) => c.size,
            Err(p) => p.into_inner().size,
        };
        match self.shared.hashes.write() {
            Ok(mut h) => h.truncate(size),
            Err(p) => p.into_inner().truncate(size),
        }
    }

    fn sequence(&self, jobs: Vec<Job>) {
        let Ok(snapshot) = self.shared.registry.read().map(|r| r.clone()) else {
            for j in jobs {
                let _ = j.reply.send(Err(lock_poisoned()));
            }
            return;
        };
        let size0 = match self.shared.hashes.read() {
            Ok(h) => h.size(),
            Err(_) => return,
        };
        let mut working: Option<Registry> = None;
        let mut new_annexes: Option<Annexes> = None;
        let mut in_batch: HashMap<[u8; 32], u64> = HashMap::new();
        let mut entries: Vec<NewEntry> = Vec::new();
        let mut answers: Vec<Accepted> = Vec::new();
        let mut batch_clock = i64::MIN;
        for Job {
            prepared: mut p,
            reply,
        } in jobs
        {
            if let Some(&index) = in_batch.get(&p.leaf_hash.0) {
                answers.push(Accepted {
                    reply,
                    index,
                    created: false,
                });
                continue;
            }
            if let Some(index) = self.logged(&p.leaf_hash) {
                answers.push(Accepted {
                    reply,
                    index,
                    created: false,
                });
                continue;
            }
            let registry = working.as_ref().unwrap_or(&snapshot);
            // The log's clock includes the entries before this one in the batch, exactly as a
            // verifier reading the log in order computes it.
            let clock = Clock {
                now: None,
                log: Timestamp::from_second(
                    batch_clock.max(self.shared.clock.load(Ordering::Acquire)),
                )
                .ok(),
            };
            if let Err(r) = admission::check(
                registry,
                &self.origin,
                clock,
                &p.envelope,
                &p.entry,
                &p.verified,
            ) {
                let _ = reply.send(Err(r));
                continue;
            }
            let index = size0 + entries.len() as u64;
            if p.entry.kind.affects_registry() {
                if let (Body::Agreement(a), Some(d)) = (&p.entry.body, p.documents.take()) {
                    self.documents.borrow_mut().insert(documents_key(a), d);
                }
                let w = working.get_or_insert_with(|| (*snapshot).clone());
                let mut docs = |a: &Agreement| -> Result<Documents, Refusal> {
                    let key = documents_key(a);
                    if let Some(d) = self.documents.borrow().get(&key) {
                        return Ok(d.clone());
                    }
                    // After a restart, an amendment's documents are checked again.
                    let d = stored_documents(&*self.store, a)?;
                    self.documents.borrow_mut().insert(key, d.clone());
                    Ok(d)
                };
                match admission::apply(w, index, &p.envelope, &p.entry, &mut docs) {
                    Ok(Some(ax)) => new_annexes = Some(ax),
                    Ok(None) => {}
                    Err(r) => {
                        let _ = reply.send(Err(r));
                        continue;
                    }
                }
            }
            in_batch.insert(p.leaf_hash.0, index);
            batch_clock = batch_clock.max(p.entry.created.as_second());
            entries.push(NewEntry {
                leaf: p.leaf,
                leaf_hash: p.leaf_hash,
                kind: p.entry.kind.as_str(),
                author: p.entry.author,
            });
            answers.push(Accepted {
                reply,
                index,
                created: true,
            });
        }

        let committed = if entries.is_empty() {
            Ok(())
        } else {
            self.commit(size0, &entries)
        };
        if let Err(e) = committed {
            tracing::error!(error = %e, "commit failed; entries not logged");
            for a in answers {
                let _ = a.reply.send(Err(Refusal::new(
                    truce_model::refusal::Code::Unavailable,
                    "the log could not store the entry durably; nothing was logged, retry",
                )));
            }
            return;
        }
        if let Ok(mut g) = self.shared.leaf_index.write() {
            g.extend(in_batch);
        }
        self.shared.clock.fetch_max(batch_clock, Ordering::AcqRel);
        if let Some(r) = working
            && let Ok(mut g) = self.shared.registry.write()
        {
            *g = Arc::new(r);
        }
        if let Some(ax) = new_annexes
            && let Ok(mut g) = self.shared.annexes.write()
        {
            *g = Arc::new(ax);
        }
        let cp = match self.shared.checkpoint.read() {
            Ok(c) => c.clone(),
            Err(_) => return,
        };
        let Ok(hashes) = self.shared.hashes.read() else {
            return;
        };
        for a in answers {
            let result = if a.created || a.index >= size0 {
                receipt_for(&hashes, &cp, a.index)
            } else {
                original_receipt(&*self.store, &hashes, a.index)
            };
            let result = result.map(|receipt| Admitted {
                receipt,
                created: a.created,
            });
            let _ = a.reply.send(result);
        }
    }

    /// Appends the batch to the tree, signs a checkpoint, stores it all in one durable
    /// transaction, then publishes the checkpoint. On failure the tree is rolled back.
    fn commit(&self, size0: u64, entries: &[NewEntry]) -> Result<(), ServiceError> {
        let new_size = size0 + entries.len() as u64;
        let from = MemoryHashes::stored_count(size0);
        let (new_hashes, root) = {
            let mut h = self
                .shared
                .hashes
                .write()
                .map_err(|_| ServiceError::Hashes("lock".into()))?;
            for e in entries {
                h.append(e.leaf_hash)
                    .map_err(|e| ServiceError::Hashes(e.to_string()))?;
            }
            let root = h
                .root(new_size)
                .map_err(|e| ServiceError::Hashes(e.to_string()))?;
            (h.stored_from(from).to_vec(), root)
        };
        let result = self
            .key
            .sign(new_size, root, "")
            .map_err(ServiceError::from)
            .and_then(|cp| {
                self.store.append(Append {
                    first_index: size0,
                    entries,
                    hashes_from: from,
                    hashes: &new_hashes,
                    checkpoint: &cp,
                })?;
                Ok(cp)
            });
        match result {
            Ok(cp) => {
                if let Ok(mut g) = self.shared.checkpoint.write() {
                    *g = cp;
                }
                Ok(())
            }
            Err(e) => {
                if let Ok(mut h) = self.shared.hashes.write() {
                    h.truncate(size0);
                }
                Err(e)
            }
        }
    }
}
