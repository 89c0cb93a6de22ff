//! Replay: re-admitting logged entries, in log order, exactly as the server's admission
//! ([`crate::admission`]) would have. The verifier (`truce verify server`, `truce verify
//! data`), a mirror's follower and the fusion evaluator replay a log through these functions,
//! so none of them has an admission of its own.
//!
//! I/O-free: the blobs an agreement names (its zones document) come from a callback, whose
//! error is the caller's (a failed fetch is the replayer's failure, not the entry's).

use crate::admission::{self, LogState};
use crate::entry::Body;
use crate::{Entry, Refusal};
use truce_log::Envelope;

/// Re-admits one logged entry exactly as admission should have, and applies it to the
/// registry: the leaf in compact form, the payload, the mechanism, the strict signature under
/// the member's key at that point of the log, and the registry's rules. `zones` fetches an
/// agreement's zones document by SHA-256. The outer error is an I/O failure; the inner one
/// says why the entry should not have been admitted.
pub fn readmit<E: std::fmt::Display>(
    state: &mut LogState,
    origin: &str,
    index: u64,
    leaf: &[u8],
    zones: &mut dyn FnMut(&str) -> Result<Vec<u8>, E>,
) -> Result<Result<Entry, String>, E> {
    match parse_leaf(index, leaf) {
        Ok(parsed) => readmit_parsed(state, origin, index, parsed, zones),
        Err(why) => Ok(Err(why)),
    }
}

/// An entry's leaf, parsed and checked on its own (no registry): compact form, envelope
/// shape, payload. Optionally with the key its signature was already verified under.
#[derive(Debug)]
pub struct ParsedLeaf {
    env: Envelope,
    entry: Entry,
    /// A key under which the envelope's signature verified strictly (see [`Prechecker`]).
    verified_under: Option<ed25519_dalek::VerifyingKey>,
}

impl ParsedLeaf {
    /// The log origin the entry names.
    pub fn mechanism(&self) -> &str {
        &self.entry.mechanism
    }
}

/// The checks of [`readmit`] that need nothing but the leaf.
pub fn parse_leaf(index: u64, leaf: &[u8]) -> Result<ParsedLeaf, String> {
    let bad = |what: String| format!("entry {index}: {what}");
    let env = Envelope::parse(leaf).map_err(|e| bad(e.to_string()))?;
    if env.to_leaf() != leaf {
        return Err(bad("the leaf is not in the canonical compact form".into()));
    }
    if env.has_missing_key_ids() {
        return Err(bad(
            "a signature of the logged envelope has no keyid (the log stores every key id)".into(),
        ));
    }
    env.check_entry_shape().map_err(|e| bad(e.to_string()))?;
    let entry =
        Entry::parse(&env.payload).map_err(|r| bad(format!("({}) {}", r.code, r.detail)))?;
    Ok(ParsedLeaf {
        env,
        entry,
        verified_under: None,
    })
}

/// Parses leaves and verifies their signatures ahead of admission (on other threads than
/// admission's), in chunks spread over the machine's cores: each signature under the key its
/// key id names, when that key was declared by an earlier entry (an agreement's members, a
/// membership) or by the entry itself. A key id is the SHA-256 of the key, so the key is the
/// only one it can name; whether it was the author's registered key at that point of the log
/// is still decided by [`readmit_parsed`], which verifies again whenever the registry's key is
/// another. Each signature is checked singly and strictly (`verify_strict`): ed25519-dalek's
/// batch verification would be faster but is not as strict (no check of small-order or
/// mixed-order `R` and keys), so it could pass what the server refuses.
#[derive(Debug)]
pub struct Prechecker {
    known: std::collections::BTreeMap<String, ed25519_dalek::VerifyingKey>,
    threads: usize,
}

impl Default for Prechecker {
    fn default() -> Self {
        Prechecker {
            known: std::collections::BTreeMap::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

impl Prechecker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the leaves of the entries `first..first + leaves.len()`, which must follow those
    /// checked before, in log order; the results are in the same order.
    pub fn check(&mut self, first: u64, leaves: &[Vec<u8>]) -> Vec<Result<ParsedLeaf, String>> {
        let per = leaves.len().div_ceil(self.threads.max(1)).max(1);
        // Parsing, then the keys in log order (an entry may use a key declared just before
        // it, in the same chunk), then the signatures.
        let mut parsed: Vec<Result<ParsedLeaf, String>> = std::thread::scope(|scope| {
            let parts: Vec<_> = leaves
                .chunks(per)
                .enumerate()
                .map(|(c, chunk)| {
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .enumerate()
                            .map(|(k, leaf)| parse_leaf(first + (c * per + k) as u64, leaf))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        let keys: Vec<Option<ed25519_dalek::VerifyingKey>> = parsed
            .iter()
            .map(|p| {
                let p = p.as_ref().ok()?;
                self.declare(&p.entry);
                self.known.get(&p.env.signature().keyid).copied()
            })
            .collect();
        std::thread::scope(|scope| {
            for (chunk, keys) in parsed.chunks_mut(per).zip(keys.chunks(per)) {
                scope.spawn(move || {
                    for (p, k) in chunk.iter_mut().zip(keys) {
                        if let (Ok(p), Some(k)) = (p, k)
                            && p.env.verify_strict(k).is_ok()
                        {
                            p.verified_under = Some(*k);
                        }
                    }
                });
            }
        });
        parsed
    }

    /// Learns the keys an entry declares.
    fn declare(&mut self, entry: &Entry) {
        let declared: Vec<&str> = match &entry.body {
            Body::Agreement(a) => a.members.iter().map(|m| m.public_key.as_str()).collect(),
            Body::Membership(m) => m.public_key.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        for text in declared {
            if let Ok(k) = crate::keys::parse_public_key("public_key", text) {
                self.known.insert(truce_log::dsse::key_id(&k), k);
            }
        }
    }
}

/// [`readmit`] of a leaf already parsed by [`parse_leaf`] or a [`Prechecker`]: the server's
/// own admission ([`crate::admission`]) at this point of the log, then its effects.
pub fn readmit_parsed<E: std::fmt::Display>(
    state: &mut LogState,
    origin: &str,
    index: u64,
    parsed: ParsedLeaf,
    blobs: &mut dyn FnMut(&str) -> Result<Vec<u8>, E>,
) -> Result<Result<Entry, String>, E> {
    let ParsedLeaf {
        env,
        entry,
        verified_under,
    } = parsed;
    // The author's signature may have been verified ahead (see [`Prechecker`]).
    let verified: Vec<_> = verified_under.into_iter().collect();
    // A blob that cannot be fetched is the verifier's failure, not the entry's.
    let mut unreadable: Option<E> = None;
    let mut docs = |a: &crate::agreement::Agreement| {
        admission::documents(a, &mut |sha| match blobs(sha) {
            Ok(b) => Ok(Some(b)),
            Err(e) => {
                let r = Refusal::new(crate::refusal::Code::Unavailable, format!("{e:#}"));
                unreadable = Some(e);
                Err(r)
            }
        })
    };
    let admitted = state.admit(origin, index, &env, &entry, &verified, &mut docs);
    match (admitted, unreadable) {
        (Ok(()), _) => Ok(Ok(entry)),
        (Err(_), Some(e)) => Err(e),
        (Err(r), None) => Ok(Err(format!(
            "entry {index}: should not have been admitted ({}): {}",
            r.code, r.detail
        ))),
    }
}
