//! The apply stage: a thread that follows the committed log, applies each entry to the
//! engine in log order, and publishes signed state commitments.
//!
//! Data flows one way: the sequencer commits entries; this thread reads them back from the
//! store (never from the request path) and applies them; the read API looks at the result.
//! A commitment is published whenever the applier has caught up with the log (at most every
//! [`COMMIT_EVERY`], or ten times the time the last one took to compute, whichever is longer),
//! so not every checkpoint size has one under heavy load; the latest and any published size
//! can be fetched. A snapshot of the state is saved every [`SNAPSHOT_EVERY`] (or twenty times
//! the last save's duration) and on shutdown, and start-up resumes from it.

use parking_lot::{RwLock as FairRwLock, RwLockWriteGuard};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use truce_engine::Engine;
use truce_engine::commitment::{canonical, state_hash};
use truce_log::{Envelope, LogKey};
use truce_model::entry::Body;
use truce_model::{Entry, Refusal};
use truce_store::Store;

/// Minimum time between two state commitments.
pub const COMMIT_EVERY: Duration = Duration::from_millis(200);
/// Minimum time between two state snapshots.
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(30);
/// Entries read from the store at a time.
const CHUNK: u64 = 512;
/// Longest the applier holds the engine's lock before it lets readers in (and looks at its
/// stop flag): readers wait at most about this long, plus one entry's apply.
const LOCK_SLICE: Duration = Duration::from_millis(5);

/// A published state commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    pub size: u64,
    pub state_hash: [u8; 32],
    pub note: Vec<u8>,
}

/// The derived side of a log service. Cheap to share.
#[derive(Debug)]
pub struct Derived {
    /// A fair lock: when the applier lets go, waiting readers go first.
    engine: FairRwLock<Engine>,
    latest: RwLock<Option<Commitment>>,
    /// Why the applier stopped, if it did (a stored entry it could not apply).
    failure: RwLock<Option<String>>,
    stop: AtomicBool,
    /// The number of entries applied, for those who wait for more (the live stream).
    applied: tokio::sync::watch::Sender<u64>,
}

/// Something that tells the applier how far the log is committed.
pub trait LogSize: Send + Sync + 'static {
    fn committed(&self) -> u64;
}

impl Derived {
    /// Restores the engine from the latest snapshot if it is usable, otherwise starts empty.
    pub fn open(store: &dyn Store) -> Self {
        let blobs = |sha: &str| store.get_blob(sha).ok().flatten();
        let engine = match store.latest_state() {
            Ok(Some((size, bytes))) => match serde_json::from_slice::<truce_engine::State>(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|s| Engine::restore(s, &blobs).map_err(|e| e.to_string()))
            {
                Ok(e) if e.state().size == size => {
                    tracing::info!(size, "derived state restored from snapshot");
                    e
                }
                Ok(_) | Err(_) => {
                    tracing::warn!(size, "derived state snapshot unusable; replaying the log");
                    Engine::new()
                }
            },
            _ => Engine::new(),
        };
        let latest = store
            .commitment(None)
            .ok()
            .flatten()
            .and_then(|(size, note)| {
                let body = note_body(&note)?;
                let c = truce_log::StateCommitment::parse_body(body).ok()?;
                Some(Commitment {
                    size,
                    state_hash: c.state_hash,
                    note,
                })
            });
        let (applied, _) = tokio::sync::watch::channel(engine.state().size);
        Derived {
            applied,
            engine: FairRwLock::new(engine),
            latest: RwLock::new(latest),
            failure: RwLock::new(None),
            stop: AtomicBool::new(false),
        }
    }

    /// Wakes when more entries are applied; its value is the number applied.
    /// Entries applied so far.
    pub fn applied_size(&self) -> u64 {
        *self.applied.borrow()
    }

    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// Runs `f` on the engine as currently applied.
    ///
    /// Called from an async handler, it may wait for the applier's slice: on a worker thread
    /// of a multi-threaded runtime, it first hands the worker's other tasks to another thread
    /// (`block_in_place`), so that waiting readers never hold up the runtime (`/healthz`,
    /// submissions, other connections).
    pub fn read<T>(&self, f: impl FnOnce(&Engine) -> T) -> Option<T> {
        let run = || Some(f(&self.engine.read()));
        let on_worker = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_worker {
            tokio::task::block_in_place(run)
        } else {
            run()
        }
    }

    /// Refuses a dispute or ruling the engine would log without effect, judged on the derived
    /// state when it is caught up with the log (`log_size` entries); otherwise, or for other
    /// kinds, lets it through (the engine still decides, deterministically, in log order).
    pub fn precheck(&self, entry: &Entry, party: &str, log_size: u64) -> Result<(), Refusal> {
        let verdict = self.read(|e| {
            let st = e.state();
            if st.size != log_size {
                return Ok(());
            }
            let clock = st.clock.map_or(entry.created, |c| c.max(entry.created));
            match &entry.body {
                Body::Dispute(d) => {
                    truce_engine::lifecycle::check_dispute(st, party, d, clock).map(|_| ())
                }
                Body::Ruling(r) => truce_engine::lifecycle::check_ruling(st, r, clock),
                _ => Ok(()),
            }
        });
        match verdict {
            Some(Err(why)) => Err(Refusal::new(
                truce_model::refusal::Code::NotApplicable,
                format!("{why}; the entry would have no effect, so it was not logged"),
            )),
            _ => Ok(()),
        }
    }

    pub fn latest_commitment(&self) -> Option<Commitment> {
        self.latest.read().ok().and_then(|c| c.clone())
    }

    pub fn failure(&self) -> Option<String> {
        self.failure.read().ok().and_then(|f| f.clone())
    }

    /// Asks the applier to save a snapshot and stop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Saves a snapshot of the state as applied now.
    pub fn snapshot(&self, store: &dyn Store) {
        let Some((size, bytes)) = self.read(|e| (e.state().size, canonical(e.state()))) else {
            return;
        };
        if let Err(e) = store.put_state(size, &bytes) {
            tracing::warn!(error = %e, "cannot save the derived-state snapshot");
        }
    }

    /// The applier loop; returns when [`Derived::stop`] is called or an entry cannot be applied.
    /// Without a key (a mirror), it publishes no commitments of its own: the mirror adopts
    /// the log's, once it has checked them (see [`Derived::adopt`]).
    pub fn run(
        self: Arc<Self>,
        store: Arc<dyn Store>,
        key: Option<Arc<LogKey>>,
        log: Arc<dyn LogSize>,
    ) {
        // Hashing (and saving) the whole state costs time proportional to its size: the
        // intervals stretch so that neither takes more than about a tenth of the applier's time.
        let mut last_commit = Instant::now() - COMMIT_EVERY;
        let mut commit_every = COMMIT_EVERY;
        let mut last_snapshot = Instant::now();
        let mut snapshot_every = SNAPSHOT_EVERY;
        loop {
            if self.stop.load(Ordering::SeqCst) {
                self.snapshot(&*store);
                return;
            }
            let committed = log.committed();
            let applied = self.read(|e| e.state().size).unwrap_or(0);
            if applied < committed {
                let to = committed.min(applied + CHUNK);
                if let Err(why) = self.apply_range(&*store, applied, to) {
                    tracing::error!(%why, "the applier stopped");
                    if let Ok(mut f) = self.failure.write() {
                        *f = Some(why);
                    }
                    return;
                }
                if to < committed {
                    continue;
                }
            }
            let published = self.latest_commitment().map(|c| c.size);
            let applied = self.read(|e| e.state().size).unwrap_or(0);
            if let Some(key) = &key
                && published != Some(applied)
                && last_commit.elapsed() >= commit_every
            {
                let started = Instant::now();
                self.publish(&*store, key);
                commit_every = COMMIT_EVERY.max(started.elapsed() * 10);
                last_commit = Instant::now();
            }
            if last_snapshot.elapsed() >= snapshot_every {
                let started = Instant::now();
                self.snapshot(&*store);
                snapshot_every = SNAPSHOT_EVERY.max(started.elapsed() * 20);
                last_snapshot = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Applies the entries `from..to` in slices of at most [`LOCK_SLICE`] under the lock;
    /// between slices, readers go first, and a stop request ends it early (the rest is
    /// applied after the restart, from the snapshot saved on stopping).
    fn apply_range(&self, store: &dyn Store, from: u64, to: u64) -> Result<(), String> {
        // The store not answering (a database restart, a failover) is not a reason to stop
        // applying: try again shortly. Only an entry that cannot be applied stops the stage.
        let leaves = match store.leaves(from, to) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, from, "cannot read entries to apply; retrying");
                std::thread::sleep(Duration::from_millis(500));
                return Ok(());
            }
        };
        let blobs = |sha: &str| store.get_blob(sha).ok().flatten();
        let mut pending = leaves.iter().enumerate().peekable();
        while pending.peek().is_some() {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let mut engine = self.engine.write();
            let slice = Instant::now();
            for (i, leaf) in pending.by_ref() {
                let index = from + i as u64;
                let env = Envelope::parse(leaf).map_err(|e| format!("entry {index}: {e}"))?;
                let entry = Entry::parse(&env.payload)
                    .map_err(|e| format!("entry {index}: {}", e.detail))?;
                engine
                    .apply(index, &entry, &blobs)
                    .map_err(|e| format!("entry {index}: {e}"))?;
                if slice.elapsed() >= LOCK_SLICE {
                    break;
                }
            }
            let size = engine.state().size;
            RwLockWriteGuard::unlock_fair(engine);
            self.applied.send_replace(size);
        }
        Ok(())
    }

    /// The number of entries applied so far and the hash of the state they make.
    pub fn state_hash(&self) -> Option<(u64, [u8; 32])> {
        self.read(|e| (e.state().size, state_hash(e.state())))
    }

    /// Publishes a state commitment signed elsewhere (the log's, copied by a mirror that
    /// replayed the same state): stores it and serves it as the latest. The caller has
    /// verified its signature and compared its hash with [`Derived::state_hash`].
    pub fn adopt(
        &self,
        store: &dyn Store,
        size: u64,
        state_hash: [u8; 32],
        note: Vec<u8>,
    ) -> Result<(), truce_store::StoreError> {
        store.put_commitment(size, &note)?;
        if let Ok(mut l) = self.latest.write()
            && l.as_ref().is_none_or(|c| c.size <= size)
        {
            *l = Some(Commitment {
                size,
                state_hash,
                note,
            });
        }
        Ok(())
    }

    fn publish(&self, store: &dyn Store, key: &LogKey) {
        let Some((size, hash)) = self.read(|e| (e.state().size, state_hash(e.state()))) else {
            return;
        };
        let note = match key.sign_state(size, hash) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "cannot sign the state commitment");
                return;
            }
        };
        if let Err(e) = store.put_commitment(size, &note) {
            tracing::warn!(error = %e, "cannot store the state commitment");
            return;
        }
        if let Ok(mut l) = self.latest.write() {
            *l = Some(Commitment {
                size,
                state_hash: hash,
                note,
            });
        }
    }
}

/// The text of a signed note (before the blank line and signatures).
fn note_body(note: &[u8]) -> Option<&[u8]> {
    let pos = note.windows(2).position(|w| w == b"\n\n")?;
    note.get(..pos + 1)
}
