//! `truce mirror`: a party's own full copy of a log, verified before it is stored, served like
//! the log's own server.
//!
//! The follower reads the log over the same API a verifier uses (`tlog-tiles` entry bundles,
//! the signed checkpoints, the blobs), re-admits every entry exactly as `truce verify server`
//! does (signatures, the registry's rules at that point of the log), and hands it to the
//! mirror's [`LogService`], which appends it only if the root of its own tree equals the
//! signed checkpoint's. The mirror's apply stage replays the state machine; the log's state
//! commitments are kept only when the replayed state hash is theirs. Two signed checkpoints of
//! the log that cannot both be true are kept as evidence, raised on the mirror's stream, and
//! stop the follower.

use crate::client::{Client, Unreachable};
use anyhow::{Context, Result, anyhow};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use truce_log::checkpoint::verify_checkpoint;
use truce_log::merkle::leaf_hash;
use truce_log::verify_state_commitment;
use truce_model::admission::LogState;
use truce_model::entry::Body;
use truce_model::replay::{Prechecker, readmit_parsed};
use truce_server::LogService;
use truce_server::datadir::MirrorOf;
use truce_store::{Append, NewEntry, Store};

/// The file, in the mirror's directory, that keeps the newest copied checkpoint with its
/// witness cosignatures (so that a restarted mirror serves a cosigned checkpoint while the
/// log's server is down).
pub const COSIGNED_NOTE: &str = "cosigned.note";
/// The directory, in the mirror's directory, where evidence of equivocation is kept.
pub const EVIDENCE_DIR: &str = "evidence";
/// Longest the follower waits for the mirror's apply stage to reach a commitment's size.
const APPLY_WAIT: Duration = Duration::from_secs(120);

/// Two signed checkpoints of the log that cannot both be true: proof that the log showed
/// different histories.
#[derive(Debug, Clone, Serialize)]
pub struct Fork {
    pub detail: String,
    /// The checkpoint the mirror holds (signed note).
    pub held: String,
    /// The checkpoint the log served that contradicts it (signed note).
    pub served: String,
    /// Where the evidence was written.
    pub evidence: Option<PathBuf>,
}

impl std::fmt::Display for Fork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EQUIVOCATION: {}\n--- the checkpoint the mirror holds ---\n{}--- the checkpoint the log served ---\n{}",
            self.detail, self.held, self.served
        )
    }
}

impl std::error::Error for Fork {}

/// What one round of following did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Synced {
    /// The mirror's tree size after the round.
    pub size: u64,
    /// Entries verified and stored in this round.
    pub stored: u64,
    /// The size of the log's state commitment checked (and adopted) in this round, if any.
    pub commitment_checked: Option<u64>,
    /// Witness cosignatures held for the newest checkpoint.
    pub cosignatures: usize,
}

/// Creates a mirror's data directory for the log at `upstream`, or opens an existing one.
/// A new mirror learns the log's origin and key from the server unless `vkey` pins the key
/// (the same trust on first use as `truce verify server`); it then holds the log's first
/// checkpoint (size 0).
pub fn create_or_open(
    dir: &Path,
    upstream: Option<&str>,
    client_token: Option<String>,
    vkey: Option<&str>,
) -> Result<(truce_server::DataDir, Arc<dyn Store>, Client)> {
    let data = if truce_server::DataDir::config_path(dir).exists() {
        let mut data = truce_server::DataDir::open(dir)?;
        let Some(m) = data.mirror.clone() else {
            anyhow::bail!(
                "{} is a log's own data directory, not a mirror; mirror into another directory",
                dir.display()
            );
        };
        if let Some(k) = vkey
            && k != m.verifier_key
        {
            anyhow::bail!(
                "--vkey differs from the key this mirror was made with ({}); a log's key does not change, so this is another log: mirror it into another directory",
                m.verifier_key
            );
        }
        if let Some(u) = upstream {
            let u = Client::new(u)?.base().to_owned();
            if u != m.upstream {
                // Only the URL changes; every checkpoint must still verify under the key.
                tracing::info!(from = %m.upstream, to = %u, "the mirror follows the log at a new URL");
                data.set_upstream(&u)?;
            }
        }
        data
    } else {
        let upstream = upstream
            .context("this directory is not a mirror yet: name the log's server with --from URL")?;
        let client = Client::new(upstream)?.with_token(client_token.clone());
        let m = client.get_ok("/v1/mechanism")?.json()?;
        let origin = m["origin"]
            .as_str()
            .context("the server's /v1/mechanism has no origin")?;
        let theirs = m["verifier_key"]
            .as_str()
            .context("the server's /v1/mechanism has no verifier key")?;
        if let Some(k) = vkey
            && k != theirs
        {
            return Err(crate::verify::fail(format!(
                "the server's log key is {theirs}, not the --vkey {k}"
            )));
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        truce_server::DataDir::create_mirror(
            dir,
            origin,
            MirrorOf {
                upstream: client.base().to_owned(),
                verifier_key: theirs.to_owned(),
            },
        )?
    };
    let Some(m) = data.mirror.clone() else {
        unreachable!("checked above")
    };
    let client = Client::new(&m.upstream)?.with_token(client_token);
    let store: Arc<dyn Store> = Arc::new(truce_store_sqlite::SqliteStore::open(
        &data.database_path(),
    )?);
    if store.load()?.checkpoint.is_none() {
        let note = client.get_ok("/v1/checkpoints/0")?.body;
        let cp = verify_checkpoint(&note, &m.verifier_key)
            .map_err(|e| crate::verify::fail(format!("the log's checkpoint 0: {e}")))?;
        if cp.size != 0 {
            return Err(crate::verify::fail("/v1/checkpoints/0 is not for size 0"));
        }
        store.append(Append {
            first_index: 0,
            entries: &[],
            hashes_from: 0,
            hashes: &[],
            checkpoint: &truce_log::SignedCheckpoint {
                note,
                size: 0,
                root: cp.root,
            },
        })?;
    }
    Ok((data, store, client))
}

/// A state commitment of the log: its size, state hash and signed note.
type Commitment = (u64, [u8; 32], Vec<u8>);

/// Follows one log into one mirror. See the module docs.
pub struct Follower {
    client: Client,
    service: LogService,
    /// Admission's state as the follower re-admitted the log (the service keeps its own).
    state: LogState,
    prechecker: Prechecker,
    dir: PathBuf,
    /// Set once a fork is seen: the follower stores nothing more.
    forked: Option<Fork>,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("upstream", &self.client.base())
            .field("size", &self.service.checkpoint().size)
            .finish_non_exhaustive()
    }
}

impl Follower {
    /// A follower for `service` (a mirror opened on the directory `dir`), reading from
    /// `client`. Restores the cosigned checkpoint kept in `dir`, if it is the mirror's.
    pub fn new(client: Client, service: LogService, dir: &Path) -> Result<Self> {
        let state = truce_server::service::log_state_of(&**service.store())?;
        let me = Self {
            client,
            service,
            state,
            prechecker: Prechecker::new(),
            dir: dir.to_owned(),
            forked: None,
        };
        if let Ok(note) = std::fs::read(dir.join(COSIGNED_NOTE)) {
            me.adopt_cosignatures(&note);
        }
        Ok(me)
    }

    /// The fork seen, if any.
    pub fn forked(&self) -> Option<&Fork> {
        self.forked.as_ref()
    }

    /// One round: fetches the log's newest checkpoint and everything up to it, verifies and
    /// stores it, checks the log's state commitment, and copies the cosignatures. An error
    /// that is a [`Fork`] is final; any other leaves the mirror as it was (retry later).
    pub fn sync(&mut self) -> Result<Synced> {
        if let Some(f) = &self.forked {
            return Err(anyhow!(f.clone()));
        }
        let result = self.sync_inner();
        if let Err(e) = &result
            && let Some(f) = e.downcast_ref::<Fork>()
        {
            self.forked = Some(f.clone());
        }
        result
    }

    fn sync_inner(&mut self) -> Result<Synced> {
        let vkey = self.service.verifier_key().to_owned();
        let any = self
            .client
            .get_ok("/v1/checkpoints/latest?cosigned=any")?
            .body;
        let cp = verify_checkpoint(&any, &vkey)
            .map_err(|e| crate::verify::fail(format!("the log's checkpoint: {e}")))?;
        if cp.origin != self.service.origin() {
            return Err(crate::verify::fail(format!(
                "the log's checkpoint is for origin `{}`, not `{}`",
                cp.origin,
                self.service.origin()
            )));
        }
        let mut synced = Synced::default();
        let held = self.service.checkpoint();
        if cp.size <= held.size {
            let ours = self
                .service
                .with_hashes(|h, _| h.root(cp.size))
                .map_err(|r| anyhow!(r.detail))?
                .map_err(|e| anyhow!(e.to_string()))?;
            if ours != cp.root {
                return Err(self.fork(
                    &held.note,
                    &any,
                    format!(
                        "the log signed a checkpoint of {} entries with root {}, but the tree the mirror verified has root {ours} at that size",
                        cp.size, cp.root
                    ),
                ));
            }
            if cp.size < held.size {
                tracing::warn!(
                    served = cp.size,
                    held = held.size,
                    "the log serves an older checkpoint than the mirror holds"
                );
            }
        } else {
            // Stop at the size of the log's state commitment on the way, to check it there.
            let commitment = self.commitment()?;
            let mut targets = Vec::new();
            if let Some((size, _, _)) = &commitment
                && *size > held.size
                && *size < cp.size
            {
                targets.push(*size);
            }
            targets.push(cp.size);
            for target in targets {
                let note = self
                    .client
                    .get_ok(&format!("/v1/checkpoints/{target}"))?
                    .body;
                synced.stored += self.extend_to(target, &note)?;
            }
            // The plain note and the cosigned one must be one checkpoint.
            let now = self.service.checkpoint();
            if now.root != cp.root {
                return Err(self.fork(
                    &now.note,
                    &any,
                    format!(
                        "the log served two checkpoints of {} entries with different roots",
                        cp.size
                    ),
                ));
            }
        }
        synced.commitment_checked = self.check_commitment()?;
        synced.cosignatures = self.adopt_cosignatures(&any);
        synced.size = self.service.checkpoint().size;
        Ok(synced)
    }

    /// The log's latest state commitment.
    fn commitment(&self) -> Result<Option<Commitment>> {
        let answer = self.client.get("/v1/state/commitment")?;
        if answer.status == 404 {
            return Ok(None);
        }
        if !answer.ok() {
            return Err(anyhow!(
                "reading the log's state commitment: {}",
                answer.problem_text()
            ));
        }
        let note = answer.json()?["note"]
            .as_str()
            .context("the state commitment answer has no note")?
            .as_bytes()
            .to_vec();
        let c = verify_state_commitment(&note, self.service.verifier_key())
            .map_err(|e| crate::verify::fail(format!("the log's state commitment: {e}")))?;
        Ok(Some((c.size, c.state_hash, note)))
    }

    /// Checks the log's latest state commitment when the mirror holds exactly its size and
    /// has not adopted it yet: the mirror's replayed state must hash to it.
    fn check_commitment(&self) -> Result<Option<u64>> {
        let Some((size, hash, note)) = self.commitment()? else {
            return Ok(None);
        };
        let derived = self.service.derived();
        if size != self.service.checkpoint().size
            || derived.latest_commitment().is_some_and(|c| c.size >= size)
        {
            return Ok(None);
        }
        let deadline = Instant::now() + APPLY_WAIT;
        let ours = loop {
            if let Some(why) = derived.failure() {
                return Err(anyhow!("the mirror's apply stage stopped: {why}"));
            }
            match derived.state_hash() {
                Some((applied, h)) if applied == size => break h,
                _ if Instant::now() > deadline => {
                    return Err(anyhow!(
                        "the mirror's apply stage did not reach {size} entries within {} s",
                        APPLY_WAIT.as_secs()
                    ));
                }
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        if ours != hash {
            return Err(crate::verify::fail(format!(
                "the log's state commitment for {size} entries is {}, but the mirror's replay of the same entries gives {}: the log's published findings are not what its entries imply",
                hex::encode(hash),
                hex::encode(ours)
            )));
        }
        derived.adopt(&**self.service.store(), size, hash, note)?;
        Ok(Some(size))
    }

    /// Fetches, verifies and stores the entries from the mirror's size to `target`, with the
    /// log's checkpoint `note` for `target`. Returns how many were stored.
    fn extend_to(&mut self, target: u64, note: &[u8]) -> Result<u64> {
        let from = self.service.checkpoint().size;
        // Re-admission changes the follower's registry; it is kept only if the append is.
        let before = self.state.clone();
        let stored = self.fetch_verified(from, target).and_then(|entries| {
            self.service.ingest(&entries, note).map_err(|e| {
                crate::verify::fail(format!(
                    "the log's entries {from}..{target} were verified but not stored: {e}"
                ))
            })?;
            Ok(entries.len() as u64)
        });
        if stored.is_err() {
            self.state = before;
        }
        stored
    }

    /// Fetches the entries `from..target` from the log's entry bundles and re-admits each one
    /// (copying the blobs it needs); returns them ready to store.
    fn fetch_verified(&mut self, from: u64, target: u64) -> Result<Vec<NewEntry>> {
        let origin = self.service.origin().to_owned();
        let mut entries = Vec::with_capacity((target - from) as usize);
        let mut index = from;
        while index < target {
            let owned = crate::verify::entry_bundle(&self.client, index, target)?;
            let checked = self.prechecker.check(index, &owned);
            for (leaf, parsed) in owned.into_iter().zip(checked) {
                let client = &self.client;
                let store = self.service.store().clone();
                let mut fetch = |sha: &str| copy_blob(client, &*store, sha, true);
                let admitted = match parsed {
                    Ok(p) => readmit_parsed(&mut self.state, &origin, index, p, &mut fetch),
                    Err(why) => Ok(Err(why)),
                };
                let entry = match admitted {
                    Ok(Ok(entry)) => entry,
                    Ok(Err(why)) => {
                        return Err(crate::verify::fail(format!(
                            "the log holds an entry that should not have been admitted; the mirror stored nothing from it on: {why}"
                        )));
                    }
                    Err(e) => return Err(e),
                };
                // The agreement's documents are part of its admission: the mirror must hold them
                // (re-admission fetched the zones; the places document too).
                if let Body::Agreement(a) = &entry.body {
                    for d in [Some(&a.zones), a.places.as_ref()].into_iter().flatten() {
                        copy_blob(&self.client, &**self.service.store(), &d.sha256, true)?;
                    }
                }
                for sha in referenced_blobs(&entry.body) {
                    if let Err(e) = copy_blob(&self.client, &**self.service.store(), sha, false) {
                        tracing::warn!(index, blob = sha, error = %e, "cannot copy a blob the entry references");
                    }
                }
                entries.push(NewEntry {
                    leaf_hash: leaf_hash(&leaf),
                    leaf,
                    kind: entry.kind.as_str(),
                    author: entry.author,
                });
                index += 1;
            }
        }
        Ok(entries)
    }

    /// Keeps the valid witness cosignatures of `cosigned` (a log-signed checkpoint with
    /// cosignature lines) when it is a checkpoint the mirror holds; persists the newest.
    /// Returns how many are held for it.
    fn adopt_cosignatures(&self, cosigned: &[u8]) -> usize {
        let Some(witnesses) = self.service.witnesses() else {
            return 0;
        };
        let Ok(cp) = verify_checkpoint(cosigned, self.service.verifier_key()) else {
            return 0;
        };
        let held = self.service.checkpoint();
        let ours = self.service.with_hashes(|h, _| h.root(cp.size).ok());
        if cp.size > held.size || !matches!(ours, Ok(Some(r)) if r == cp.root) {
            return 0;
        }
        let plain = if cp.size == held.size {
            held.note
        } else {
            match self.service.store().checkpoint_at(cp.size) {
                Ok(Some(n)) => n,
                _ => return 0,
            }
        };
        let Some(pos) = cosigned.windows(2).position(|w| w == b"\n\n") else {
            return 0;
        };
        let lines = &cosigned[pos + 2..];
        let cosigned_ = self.service.cosigned();
        cosigned_.record(
            &witnesses,
            cp.size,
            &plain,
            lines,
            truce_server::witness::unix_now(),
        );
        let Some(g) = cosigned_.at(cp.size) else {
            return 0;
        };
        if cp.size == held.size
            && let Err(e) = write_atomic(&self.dir.join(COSIGNED_NOTE), &g.cosigned_note())
        {
            tracing::warn!(error = %e, "cannot keep the cosigned checkpoint");
        }
        g.cosignatures.len()
    }

    /// Records a fork: the evidence in the mirror's directory and on its stream.
    fn fork(&self, held: &[u8], served: &[u8], detail: String) -> anyhow::Error {
        let now = truce_server::witness::unix_now();
        let dir = self.dir.join(EVIDENCE_DIR);
        let path = dir.join(format!("fork-{now}.txt"));
        let text = format!(
            "{detail}\n\n--- held ---\n{}--- served ---\n{}",
            String::from_utf8_lossy(held),
            String::from_utf8_lossy(served)
        );
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| write_atomic(&path, text.as_bytes()))
            .is_ok();
        self.service
            .cosigned()
            .equivocation(truce_server::cosign::Equivocation {
                witness: format!("mirror of {}", self.client.base()),
                detail: detail.clone(),
                checkpoint: String::from_utf8_lossy(served).into_owned(),
                seen: now,
            });
        anyhow!(Fork {
            detail,
            held: String::from_utf8_lossy(held).into_owned(),
            served: String::from_utf8_lossy(served).into_owned(),
            evidence: written.then_some(path),
        })
    }
}

/// Whether an error is only that the log's server could not be reached (the mirror keeps
/// serving and tries again).
pub fn is_unreachable(e: &anyhow::Error) -> bool {
    e.is::<Unreachable>()
}

/// The blobs an entry refers to besides an agreement's documents (which admission fetches):
/// the evidence of reports, sightings and disputes.
fn referenced_blobs(body: &Body) -> Vec<&str> {
    match body {
        Body::Report(r) => r.evidence.iter().map(String::as_str).collect(),
        Body::Sighting(s) => s.evidence.iter().map(String::as_str).collect(),
        Body::Dispute(d) => d.evidence.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Copies a blob from the log's server into the mirror's store (unless it is there), checked
/// against its address; returns its bytes. `required` blobs must exist.
fn copy_blob(client: &Client, store: &dyn Store, sha: &str, required: bool) -> Result<Vec<u8>> {
    if let Some(b) = store.get_blob(sha)? {
        return Ok(b);
    }
    let answer = client.get(&format!("/v1/blobs/{sha}"))?;
    if !answer.ok() {
        let why = format!("blob {sha}: {}", answer.problem_text());
        return Err(if required {
            crate::verify::fail(why)
        } else {
            anyhow!(why)
        });
    }
    let got = hex::encode(Sha256::digest(&answer.body));
    if got != sha {
        return Err(crate::verify::fail(format!(
            "the log's server sent blob {sha} with SHA-256 {got}"
        )));
    }
    store.put_blob(sha, &answer.body)?;
    Ok(answer.body)
}

/// Writes a file atomically and durably (temporary file, fsync, rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent()
        && let Ok(d) = std::fs::File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(())
}
