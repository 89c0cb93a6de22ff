//! Sequence: one thread, group commit. Each entry of a batch is admitted against the registry
//! at its place in the log ([`truce_model::admission::check`], then `apply`), the batch is
//! appended to the tree, a checkpoint is signed, and all of it is committed in one store
//! transaction before any receipt is sent.

use super::*;

/// Most entries sequenced in one commit.
pub(super) const MAX_BATCH: usize = 4096;
/// Group commit: after the first entry of a commit arrives, wait this long for more (unless
/// the batch is full) so that concurrent single submissions share one fsync.
const GROUP_COMMIT_TICK: std::time::Duration = std::time::Duration::from_millis(2);
/// How often a server on a database other servers may commit to looks for their commits.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// What an agreement's checked documents are a function of: the SHA-256 of its zones and
/// places documents.
fn documents_key(a: &Agreement) -> (String, Option<String>) {
    (
        a.zones.sha256.clone(),
        a.places.as_ref().map(|p| p.sha256.clone()),
    )
}

pub(super) struct Sequencer {
    pub(super) key: Arc<LogKey>,
    pub(super) store: Arc<dyn Store>,
    pub(super) shared: Arc<Shared>,
    pub(super) origin: Arc<str>,
    /// Agreements' documents checked at admission, by the SHA-256 of their zones and places
    /// documents (what they are a function of), so that an amendment coming into force does
    /// not check them again on the sequencer thread.
    pub(super) documents: std::cell::RefCell<HashMap<(String, Option<String>), Documents>>,
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

    /// Sequences batches until the service is dropped. With `follow` (a database that other
    /// servers may commit to), it also looks for their commits every [`FOLLOW_EVERY`] while
    /// idle, and after any commit that failed, and records them ([`Self::catch_up`]).
    pub(super) fn run(self, mut rx: mpsc::Receiver<Job>, follow: bool) {
        // Only a timer: catching up runs outside it, where the store may block.
        let clock = follow
            .then(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
            })
            .transpose();
        let clock = match clock {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the sequencer's timer; not following other servers");
                None
            }
        };
        loop {
            let first = match &clock {
                Some(clock) => self.next_job_following(&mut rx, clock),
                None => rx.blocking_recv(),
            };
            let Some(first) = first else { return };
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

    /// Waits for a job, catching up with the database's log every [`FOLLOW_EVERY`] meanwhile
    /// (`clock` is this thread's own timer runtime).
    fn next_job_following(
        &self,
        rx: &mut mpsc::Receiver<Job>,
        clock: &tokio::runtime::Runtime,
    ) -> Option<Job> {
        loop {
            // The timer is made inside the runtime (it needs its time driver).
            let waited =
                clock.block_on(async { tokio::time::timeout(FOLLOW_EVERY, rx.recv()).await });
            match waited {
                Ok(job) => return job,
                Err(_) => self.catch_up(),
            }
        }
    }

    /// Records the commits another server made to the database since this one's last
    /// (verified: the checkpoint under the log key, its root against the tree with the new
    /// entries), so that admission, the read side and the apply stage continue from the log
    /// as it is. A failure is logged and tried again later.
    pub(super) fn catch_up(&self) {
        if let Err(e) = self.try_catch_up() {
            tracing::warn!(error = %e, "cannot follow the database's log");
        }
    }

    fn try_catch_up(&self) -> Result<(), String> {
        let size = self
            .shared
            .hashes
            .read()
            .map_err(|_| "lock poisoned".to_owned())?
            .size();
        let Some((head, note)) = self.store.head().map_err(|e| e.to_string())? else {
            return Ok(());
        };
        if head <= size {
            return Ok(());
        }
        let cp = truce_log::checkpoint::verify_checkpoint(&note, self.key.verifier_key())
            .map_err(|e| format!("the database's checkpoint of size {head}: {e}"))?;
        if cp.size != head {
            return Err(format!(
                "the database stores a checkpoint of size {} under size {head}",
                cp.size
            ));
        }
        let leaves = self.store.leaves(size, head).map_err(|e| e.to_string())?;
        if leaves.len() as u64 != head - size {
            return Err(format!(
                "the database holds {} entries from {size} to its checkpoint of size {head}",
                leaves.len()
            ));
        }
        let mut entries = Vec::with_capacity(leaves.len());
        for (i, leaf) in leaves.into_iter().enumerate() {
            let index = size + i as u64;
            let env = Envelope::parse(&leaf).map_err(|e| format!("entry {index}: {e}"))?;
            let entry =
                Entry::parse(&env.payload).map_err(|e| format!("entry {index}: {}", e.detail))?;
            entries.push(NewEntry {
                leaf_hash: leaf_hash(&leaf),
                leaf,
                kind: entry.kind.as_str(),
                author: entry.author,
            });
        }
        let signed = SignedCheckpoint {
            note,
            size: head,
            root: cp.root,
        };
        super::record_logged(
            &self.shared,
            &*self.store,
            size,
            &entries,
            signed,
            |_, _, _| Ok(()),
        )
        .map_err(|e| e.to_string())?;
        tracing::info!(
            from = size,
            to = head,
            "recorded entries another server committed"
        );
        Ok(())
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
            let raced = matches!(e, ServiceError::Store(StoreError::Conflict(_)));
            let detail = if raced {
                tracing::warn!(error = %e, "another server committed first; entries not logged");
                "another server of this mechanism committed first; nothing was logged, retry"
            } else {
                tracing::error!(error = %e, "commit failed; entries not logged");
                "the log could not store the entry durably; nothing was logged, retry"
            };
            for a in answers {
                let _ = a.reply.send(Err(Refusal::new(
                    truce_model::refusal::Code::Unavailable,
                    detail,
                )));
            }
            // Another server may have committed to the same database: continue from there.
            self.catch_up();
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
                let appended = self.store.append(Append {
                    first_index: size0,
                    entries,
                    hashes_from: from,
                    hashes: &new_hashes,
                    checkpoint: &cp,
                });
                match appended {
                    Ok(()) => Ok(cp),
                    // A commit whose answer was lost (the connection to the database broke
                    // during COMMIT) may have landed. The checkpoint is written in the same
                    // transaction as the entries, and signing is deterministic: if the store
                    // holds this very note for the new size, the whole batch is stored.
                    Err(e) => match self.store.checkpoint_at(new_size) {
                        Ok(Some(note)) if note == cp.note => {
                            tracing::warn!(error = %e, size = new_size, "the store's answer to a commit was lost, but the commit had landed");
                            Ok(cp)
                        }
                        _ => Err(e.into()),
                    },
                }
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
