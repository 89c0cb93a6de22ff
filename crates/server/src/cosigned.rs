//! The witness cosignatures gathered for the log's checkpoints (what the cosignature workers
//! of [`crate::cosign`] fill and the API serves): the recent checkpoints with their
//! cosignatures, each witness's status, and any equivocation seen.

use crate::witness::unix_now;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use truce_log::cosignature::{Cosignature, cosignatures_in};
use truce_model::witnesses::{Verdict, Witnesses};

/// Checkpoints whose cosignatures are kept (besides the newest one that meets the policy).
const RECENT: usize = 32;

/// A checkpoint with the cosignatures gathered for it.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub size: u64,
    /// The log-signed note.
    pub note: Vec<u8>,
    /// Valid cosignatures by listed witnesses, one per witness (its newest).
    pub cosignatures: Vec<Cosignature>,
}

impl Gathered {
    /// The note with every gathered cosignature line appended.
    pub fn cosigned_note(&self) -> Vec<u8> {
        let mut out = self.note.clone();
        for c in &self.cosignatures {
            out.extend_from_slice(c.line.as_bytes());
        }
        out
    }
}

/// What a witness worker last saw, for `/v1/witnesses`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct WitnessStatus {
    pub name: String,
    pub url: Option<String>,
    /// The size the witness holds, as it last told us.
    pub holds: Option<u64>,
    /// When it last cosigned (its timestamp).
    pub last_cosigned: Option<u64>,
    /// The last failure, if the last attempt failed.
    pub error: Option<String>,
}

/// A witness answered in a way only another history of this log explains: it holds a
/// checkpoint signed by this log's key that this log's tree does not extend. Raised on the
/// hotline to every party (`event: equivocation`) and listed by `/v1/witnesses`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Equivocation {
    /// The witness that holds the other history.
    pub witness: String,
    /// What it answered, in words.
    pub detail: String,
    /// This log's checkpoint it refused (signed note).
    pub checkpoint: String,
    /// When it was seen (POSIX seconds).
    pub seen: u64,
}

/// The cosignatures gathered so far, shared by the workers and the API.
#[derive(Debug)]
pub struct Cosigned {
    recent: RwLock<BTreeMap<u64, Gathered>>,
    /// The newest checkpoint that met the policy when gathered.
    best: RwLock<Option<Gathered>>,
    pub(crate) status: RwLock<BTreeMap<String, WitnessStatus>>,
    equivocations: RwLock<Vec<Equivocation>>,
    /// The number of equivocations seen, for the streams to follow.
    seen: tokio::sync::watch::Sender<usize>,
    pub(crate) stop: AtomicBool,
}

impl Default for Cosigned {
    fn default() -> Self {
        Self {
            recent: RwLock::default(),
            best: RwLock::default(),
            status: RwLock::default(),
            equivocations: RwLock::default(),
            seen: tokio::sync::watch::Sender::new(0),
            stop: AtomicBool::new(false),
        }
    }
}

/// At most this many equivocations are kept (the first ones: the evidence that matters).
const MAX_EQUIVOCATIONS: usize = 100;

impl Cosigned {
    /// The newest checkpoint that meets the policy, with its cosignatures.
    pub fn best(&self) -> Option<Gathered> {
        self.best.read().clone()
    }

    /// The gathered cosignatures of the checkpoint of `size`, if it is recent.
    pub fn at(&self, size: u64) -> Option<Gathered> {
        self.recent.read().get(&size).cloned()
    }

    /// Each witness worker's view.
    pub fn status(&self) -> Vec<WitnessStatus> {
        self.status.read().values().cloned().collect()
    }

    /// The equivocations seen since the server started.
    pub fn equivocations(&self) -> Vec<Equivocation> {
        self.equivocations.read().clone()
    }

    /// Follows the number of equivocations seen.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<usize> {
        self.seen.subscribe()
    }

    /// Records an equivocation, once per witness and checkpoint.
    pub fn equivocation(&self, e: Equivocation) {
        let mut all = self.equivocations.write();
        if all.len() >= MAX_EQUIVOCATIONS
            || all
                .iter()
                .any(|x| x.witness == e.witness && x.checkpoint == e.checkpoint)
        {
            return;
        }
        tracing::error!(witness = %e.witness, detail = %e.detail, "EQUIVOCATION: a witness holds another history of this log");
        all.push(e);
        let n = all.len();
        drop(all);
        self.seen.send_replace(n);
    }

    /// Stops the workers (they finish their current request).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Records the cosignature `lines` for the log-signed checkpoint `note` of `size`: only
    /// valid ones by the listed witnesses are kept, one per witness (its newest). Used by the
    /// workers, and by a mirror copying what the log gathered.
    pub fn record(&self, witnesses: &Witnesses, size: u64, note: &[u8], lines: &[u8], now: u64) {
        let verifiers = witnesses.verifiers();
        let mut full = note.to_vec();
        full.extend_from_slice(lines);
        let fresh = cosignatures_in(&full, &verifiers).unwrap_or_default();
        let mut recent = self.recent.write();
        let g = recent.entry(size).or_insert_with(|| Gathered {
            size,
            note: note.to_vec(),
            cosignatures: Vec::new(),
        });
        for c in fresh {
            match g
                .cosignatures
                .iter_mut()
                .find(|x| x.verifier_key == c.verifier_key)
            {
                Some(x) if x.timestamp >= c.timestamp => {}
                Some(x) => *x = c,
                None => g.cosignatures.push(c),
            }
        }
        g.cosignatures.sort_by(|a, b| a.name.cmp(&b.name));
        let verdict = witnesses.judge(&g.cosignatures, now);
        if verdict.quorum_met {
            let mut best = self.best.write();
            if best.as_ref().is_none_or(|b| b.size <= size) {
                *best = Some(g.clone());
            }
        }
        while recent.len() > RECENT {
            recent.pop_first();
        }
    }
}

/// The policy's verdict on a gathered checkpoint, now.
pub fn verdict(witnesses: &Witnesses, g: &Gathered) -> Verdict {
    witnesses.judge(&g.cosignatures, unix_now())
}
