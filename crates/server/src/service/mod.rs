//! The log service: admission (`admit.rs`), the sequencer (`sequencer.rs`: one thread, group
//! commit), and reads of the committed tree. Used by the HTTP API and by `truce init` alike, so both go through the same
//! admission path.

mod admit;
mod sequencer;

pub use admit::{Candidate, Prepared};
use sequencer::{MAX_BATCH, Sequencer};

use crate::apply::{Derived, LogSize};
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
    cosigned: Arc<crate::cosigned::Cosigned>,
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
            // Only a PostgreSQL database can be shared by several servers (a SQLite file is
            // locked by its data directory's one server).
            let follow = store.backend() == "postgresql";
            let sequencer = Sequencer {
                key,
                store: store.clone(),
                shared: shared.clone(),
                origin: Arc::from(origin),
                documents: std::cell::RefCell::new(HashMap::new()),
            };
            std::thread::Builder::new()
                .name("truce-sequencer".into())
                .spawn(move || sequencer.run(rx, follow))
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
        let signed = SignedCheckpoint {
            note: note.to_vec(),
            size,
            root: cp.root,
        };
        record_logged(
            &self.shared,
            &*self.store,
            size0,
            entries,
            signed,
            |from, hashes, cp| {
                self.store.append(Append {
                    first_index: size0,
                    entries,
                    hashes_from: from,
                    hashes,
                    checkpoint: cp,
                })
            },
        )
    }

    /// The witness cosignatures gathered so far (see [`crate::cosign`]).
    pub fn cosigned(&self) -> &Arc<crate::cosigned::Cosigned> {
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

/// Records entries that were admitted elsewhere (re-admitted by a mirror's follower, or
/// committed to the same database by another server) after `size0`: their registry effects,
/// the tree, the leaf index, the log's clock, and `signed`, the checkpoint for them, whose
/// root must be the tree's. `persist` stores them (a mirror) or does nothing (they are stored
/// already); if it fails, nothing changes in memory.
fn record_logged(
    shared: &Shared,
    store: &dyn Store,
    size0: u64,
    entries: &[NewEntry],
    signed: SignedCheckpoint,
    persist: impl FnOnce(u64, &[Hash], &SignedCheckpoint) -> Result<(), StoreError>,
) -> Result<(), IngestError> {
    let size = size0 + entries.len() as u64;
    let registry = shared
        .registry
        .read()
        .map_err(|_| IngestError::Lock)?
        .clone();
    let annexes = shared
        .annexes
        .read()
        .map_err(|_| IngestError::Lock)?
        .clone();
    let mut state = admission::LogState {
        registry: (*registry).clone(),
        annexes: (*annexes).clone(),
        clock: Clock::default(),
    };
    for (i, e) in entries.iter().enumerate() {
        let index = size0 + i as u64;
        let bad = |detail: String| IngestError::Entry { index, detail };
        let env = Envelope::parse(&e.leaf).map_err(|x| bad(x.to_string()))?;
        let entry = Entry::parse(&env.payload).map_err(|x| bad(x.detail))?;
        state
            .record(index, &env, &entry, &mut |a| stored_documents(store, a))
            .map_err(|r| bad(r.detail))?;
    }
    let clock = state.clock.log.map_or(i64::MIN, |c| c.as_second());
    let (registry, annexes) = (state.registry, state.annexes);
    let from = MemoryHashes::stored_count(size0);
    let new_hashes = {
        let mut h = shared.hashes.write().map_err(|_| IngestError::Lock)?;
        if h.size() != size0 {
            return Err(IngestError::Checkpoint(format!(
                "the tree holds {} entries, not the {size0} these follow",
                h.size()
            )));
        }
        let appended = entries
            .iter()
            .try_for_each(|e| h.append(e.leaf_hash).map(|_| ()))
            .map_err(|e| e.to_string())
            .and_then(|()| h.root(size).map_err(|e| e.to_string()));
        match appended {
            Ok(root) if root == signed.root => h.stored_from(from).to_vec(),
            Ok(root) => {
                h.truncate(size0);
                return Err(IngestError::Root {
                    size,
                    computed: root.to_string(),
                    signed: signed.root.to_string(),
                });
            }
            Err(e) => {
                h.truncate(size0);
                return Err(IngestError::Checkpoint(e));
            }
        }
    };
    if let Err(e) = persist(from, &new_hashes, &signed) {
        if let Ok(mut h) = shared.hashes.write() {
            h.truncate(size0);
        }
        return Err(IngestError::Store(e));
    }
    if let Ok(mut g) = shared.leaf_index.write() {
        g.extend(
            entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.leaf_hash.0, size0 + i as u64)),
        );
    }
    shared.clock.fetch_max(clock, Ordering::AcqRel);
    if let Ok(mut g) = shared.registry.write() {
        *g = Arc::new(registry);
    }
    if let Ok(mut g) = shared.annexes.write() {
        *g = Arc::new(annexes);
    }
    if let Ok(mut g) = shared.checkpoint.write() {
        *g = signed;
    }
    Ok(())
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
