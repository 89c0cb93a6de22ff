//! The decisions of a C2SP `tlog-witness` (<https://c2sp.org/tlog-witness>), as pure functions:
//! parsing an `add-checkpoint` request body, and deciding, from what the witness holds for the
//! log, whether to cosign it or which status to answer.
//!
//! The HTTP service and the durable record live in the server crate; this module holds no
//! state and does no I/O, so the same rules are tested here, byte for byte, without a network.

use crate::cosignature::Cosigner;
use crate::merkle::{Hash, parse_hash_b64, verify_consistency};
use signed_note::{Note, StandardVerifier};
use tlog_tiles::Checkpoint;

/// The most consistency proof lines a request may carry (the spec's limit).
pub const MAX_PROOF_LINES: usize = 63;

/// The largest request body a witness reads: the old size line, 63 proof lines, and a
/// checkpoint with room for extension lines and cosignatures.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A parsed `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness holds.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub checkpoint: Vec<u8>,
}

/// A malformed request body (the witness answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed add-checkpoint body: {0}")]
pub struct Malformed(pub String);

impl AddCheckpoint {
    /// Parses the body: `old <size>`, up to 63 base64 hashes, an empty line, the checkpoint.
    /// Every line ends in a newline.
    pub fn parse(body: &[u8]) -> Result<Self, Malformed> {
        let bad = |s: &str| Malformed(s.to_owned());
        if body.len() > MAX_BODY_BYTES {
            return Err(Malformed(format!(
                "the body is larger than {MAX_BODY_BYTES} bytes"
            )));
        }
        let text = std::str::from_utf8(body).map_err(|_| bad("the body is not UTF-8"))?;
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old_line = lines.next().unwrap_or_default();
        let old = old_line
            .strip_prefix("old ")
            .ok_or_else(|| bad("the first line must be `old <size>`"))?;
        if old.is_empty()
            || !old.bytes().all(|b| b.is_ascii_digit())
            || (old.len() > 1 && old.starts_with('0'))
        {
            return Err(bad(
                "the old size must be a decimal number without leading zeroes",
            ));
        }
        let old: u64 = old
            .parse()
            .map_err(|_| bad("the old size is out of range"))?;
        let mut proof = Vec::new();
        for (n, line) in lines.enumerate() {
            if proof.len() == MAX_PROOF_LINES {
                return Err(Malformed(format!(
                    "more than {MAX_PROOF_LINES} consistency proof lines"
                )));
            }
            let hash = parse_hash_b64(line)
                .filter(|h| h.to_string() == line)
                .ok_or_else(|| {
                    Malformed(format!(
                        "consistency proof line {} is not a base64 SHA-256 hash",
                        n + 1
                    ))
                })?;
            proof.push(hash);
        }
        if checkpoint.is_empty() {
            return Err(bad("no checkpoint after the empty line"));
        }
        Ok(Self {
            old,
            proof,
            checkpoint: checkpoint.as_bytes().to_vec(),
        })
    }

    /// The body's bytes, as a client sends them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old);
        for h in &self.proof {
            out.push_str(&h.to_string());
            out.push('\n');
        }
        out.push('\n');
        let mut out = out.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }
}

/// A log the witness cosigns for: its origin and the signed-note verifier key of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustedLog {
    pub origin: String,
    pub verifier_key: String,
}

/// What the witness holds for one log: the latest checkpoint it cosigned, as the whole
/// signed note, and the newest timestamp it put on a cosignature.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub size: u64,
    pub root: Hash,
    /// The signed note as submitted (with the log's signature and any cosignatures).
    pub note: Vec<u8>,
    /// The timestamp of the last cosignature (never goes backwards).
    pub timestamp: u64,
}

/// Why a checkpoint that carries a valid log signature was refused: kept as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The same size as the held checkpoint, with another root: two checkpoints that cannot
    /// both be true. This is proof that the log forked.
    SameSizeOtherRoot,
    /// Smaller than the held checkpoint: the log (or its client) tried to roll the witness
    /// back.
    Smaller,
    /// The consistency proof from the held checkpoint does not verify. Proof of a fork only
    /// with a correct proof's absence shown otherwise; kept so that others can look.
    Inconsistent,
}

impl Conflict {
    pub fn slug(self) -> &'static str {
        match self {
            Conflict::SameSizeOtherRoot => "same-size-other-root",
            Conflict::Smaller => "smaller-than-held",
            Conflict::Inconsistent => "inconsistent",
        }
    }
}

/// The witness's answer to one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// 200: the cosignature lines, and what the witness now holds (persist it before
    /// answering).
    Cosign { lines: String, held: Held },
    /// 400, 403, 404, 409 or 422, with a detail; `size` is the 409 body (the held size).
    Refuse {
        status: u16,
        detail: String,
        size: Option<u64>,
        /// Set when the checkpoint had a valid log signature and conflicts with what is
        /// held: the witness keeps both notes.
        conflict: Option<Conflict>,
    },
}

fn refuse(status: u16, detail: impl Into<String>) -> Decision {
    Decision::Refuse {
        status,
        detail: detail.into(),
        size: None,
        conflict: None,
    }
}

/// The origin line of a checkpoint note, if it has one (for routing to the right record
/// before the full decision).
pub fn origin_of(checkpoint: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(checkpoint).ok()?;
    let line = text.split('\n').next()?;
    (!line.is_empty()).then_some(line)
}

/// Decides on `req` for the log `origin` names, given what the witness holds for it (`None`
/// if it never cosigned a checkpoint of that log) and the time now (POSIX seconds). Follows
/// the order of the spec's checks.
pub fn decide(
    logs: &[TrustedLog],
    held: Option<&Held>,
    req: &AddCheckpoint,
    cosigner: &Cosigner,
    now: u64,
) -> Decision {
    let Ok(note) = Note::from_bytes(&req.checkpoint) else {
        return refuse(400, "the checkpoint is not a well-formed signed note");
    };
    let Ok(body) = Checkpoint::from_bytes(note.text()) else {
        return refuse(400, "the note is not a well-formed checkpoint");
    };
    let trusted: Vec<&TrustedLog> = logs.iter().filter(|l| l.origin == body.origin()).collect();
    if trusted.is_empty() {
        return refuse(
            404,
            format!("this witness does not witness the log `{}`", body.origin()),
        );
    }
    if !trusted
        .iter()
        .any(|log| log_signed(&note, &log.verifier_key))
    {
        return refuse(
            403,
            format!(
                "no signature on the checkpoint verifies with a key of the log `{}`",
                body.origin()
            ),
        );
    }
    let (size, root) = (body.size(), *body.hash());
    if req.old > size {
        return refuse(
            400,
            format!(
                "the old size {} is larger than the checkpoint's {size}",
                req.old
            ),
        );
    }
    let held_size = held.map_or(0, |h| h.size);
    if req.old != held_size {
        let smaller = size < held_size;
        return Decision::Refuse {
            status: 409,
            detail: format!(
                "the old size {} is not the size this witness holds ({held_size})",
                req.old
            ),
            size: Some(held_size),
            conflict: smaller.then_some(Conflict::Smaller),
        };
    }
    if let Some(h) = held
        && size == h.size
        && root != h.root
    {
        return Decision::Refuse {
            status: 409,
            detail: format!(
                "the checkpoint has size {size}, as the one this witness holds, but another root"
            ),
            size: Some(held_size),
            conflict: Some(Conflict::SameSizeOtherRoot),
        };
    }
    let consistent = match held {
        None => req.proof.is_empty(),
        Some(h) if h.size == size => req.proof.is_empty(),
        Some(h) => verify_consistency(&req.proof, size, root, h.size, h.root).is_ok(),
    };
    if !consistent {
        let detail = if req.old == 0 {
            "the consistency proof must be empty when the old size is 0".to_owned()
        } else {
            format!(
                "the consistency proof from size {} to {size} does not verify",
                req.old
            )
        };
        return Decision::Refuse {
            status: 422,
            detail,
            size: None,
            conflict: held.map(|_| Conflict::Inconsistent),
        };
    }
    // A cosignature's timestamp never goes backwards, even if the clock does.
    let timestamp = now.max(held.map_or(0, |h| h.timestamp));
    match cosigner.cosign(note.text(), timestamp) {
        Ok(lines) => Decision::Cosign {
            lines,
            held: Held {
                size,
                root,
                note: req.checkpoint.clone(),
                timestamp,
            },
        },
        Err(e) => refuse(400, e.to_string()),
    }
}

/// Whether a signature line on the note verifies with the log key `vkey`. Signatures by other
/// keys are ignored, and so is a line that names the key but does not verify.
fn log_signed(note: &Note, vkey: &str) -> bool {
    let Ok(verifier) = StandardVerifier::new(vkey) else {
        return false;
    };
    let name = signed_note::Verifier::name(&verifier);
    let id = signed_note::Verifier::key_id(&verifier);
    crate::cosignature::note_signatures(note)
        .iter()
        .filter(|s| s.name() == name && s.id() == id)
        .any(|s| signed_note::Verifier::verify(&verifier, note.text(), s.signature()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::LogKey;
    use crate::cosignature::{CosignatureVerifier, cosignatures_on};
    use crate::merkle::{MemoryHashes, leaf_hash};

    const SPEC_BODY: &str = "old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
";

    #[test]
    fn the_spec_example_body_parses() {
        let req = AddCheckpoint::parse(SPEC_BODY.as_bytes()).unwrap();
        assert_eq!(req.old, 20852014);
        assert_eq!(req.proof.len(), 4);
        assert!(
            req.checkpoint
                .starts_with(b"example.com/behind-the-sofa\n20852163\n")
        );
        assert_eq!(req.to_bytes(), SPEC_BODY.as_bytes());
        assert_eq!(
            origin_of(&req.checkpoint),
            Some("example.com/behind-the-sofa")
        );
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let cp = "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— x y\n";
        let hash = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        let many = format!("old 1\n{}\n{cp}", format!("{hash}\n").repeat(64));
        for bad in [
            String::new(),
            format!("old 1\n{cp}"),
            format!("old 01\n\n{cp}"),
            format!("old -1\n\n{cp}"),
            format!("old +1\n\n{cp}"),
            format!("old  1\n\n{cp}"),
            format!("old 18446744073709551616\n\n{cp}"),
            format!("new 1\n\n{cp}"),
            format!("old 1\nnot-a-hash\n\n{cp}"),
            format!("old 1\n{}\n\n{cp}", &hash[..40]),
            format!("old 1\r\n\n{cp}"),
            "old 1\n\n".to_owned(),
            many,
        ] {
            assert!(AddCheckpoint::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(AddCheckpoint::parse(&[b'x'; MAX_BODY_BYTES + 1]).is_err());
        assert!(AddCheckpoint::parse(b"old 0\n\n\xff\n").is_err());
        let sixty_three = format!("old 1\n{}\n{cp}", format!("{hash}\n").repeat(63));
        assert_eq!(
            AddCheckpoint::parse(sixty_three.as_bytes())
                .unwrap()
                .proof
                .len(),
            63
        );
    }

    struct Log {
        key: LogKey,
        tree: MemoryHashes,
    }

    impl Log {
        fn new() -> Self {
            Self {
                key: LogKey::generate("example.org/log").unwrap().0,
                tree: MemoryHashes::new(),
            }
        }
        fn grow(&mut self, n: u64) -> Vec<u8> {
            for _ in 0..n {
                let i = self.tree.size();
                self.tree.append(leaf_hash(&i.to_be_bytes())).unwrap();
            }
            let size = self.tree.size();
            self.key
                .sign(size, self.tree.root(size).unwrap(), "")
                .unwrap()
                .note
        }
        fn request(&self, old: u64, note: &[u8]) -> AddCheckpoint {
            let size = self.tree.size();
            let proof = if old == 0 || old == size {
                vec![]
            } else {
                self.tree.prove_consistency(size, old).unwrap()
            };
            AddCheckpoint {
                old,
                proof,
                checkpoint: note.to_vec(),
            }
        }
        fn trusted(&self) -> Vec<TrustedLog> {
            vec![TrustedLog {
                origin: "example.org/log".into(),
                verifier_key: self.key.verifier_key().into(),
            }]
        }
    }

    fn status(d: &Decision) -> u16 {
        match d {
            Decision::Cosign { .. } => 200,
            Decision::Refuse { status, .. } => *status,
        }
    }

    #[test]
    fn a_growing_log_is_cosigned_and_every_refusal_has_the_spec_code() {
        let mut log = Log::new();
        let (w, _) = Cosigner::generate("witness.example/w1").unwrap();
        let logs = log.trusted();
        let note5 = log.grow(5);
        // First contact: old 0, empty proof.
        let d = decide(&logs, None, &log.request(0, &note5), &w, 100);
        let Decision::Cosign { lines, held } = d else {
            panic!("{d:?}")
        };
        assert_eq!((held.size, held.timestamp), (5, 100));
        let cosigned = format!("{}{lines}", String::from_utf8(note5.clone()).unwrap());
        let v = CosignatureVerifier::new(&w.verifier_key()).unwrap();
        let found = cosignatures_on(&Note::from_bytes(cosigned.as_bytes()).unwrap(), &[v]);
        assert_eq!(found[0].timestamp, 100);

        let note9 = log.grow(4);
        // 409: the client thinks the witness holds nothing.
        let d = decide(&logs, Some(&held), &log.request(0, &note9), &w, 101);
        assert!(matches!(
            d,
            Decision::Refuse {
                status: 409,
                size: Some(5),
                conflict: None,
                ..
            }
        ));
        // 400: old larger than the checkpoint.
        let mut req = log.request(5, &note9);
        req.old = 10;
        assert_eq!(status(&decide(&logs, Some(&held), &req, &w, 101)), 400);
        // 422: a wrong proof.
        let mut req = log.request(5, &note9);
        req.proof[0] = crate::merkle::sha256(b"wrong");
        let d = decide(&logs, Some(&held), &req, &w, 101);
        assert!(matches!(
            d,
            Decision::Refuse {
                status: 422,
                conflict: Some(Conflict::Inconsistent),
                ..
            }
        ));
        // 422: a proof with old 0.
        let mut req = log.request(0, &note5);
        req.proof = vec![crate::merkle::sha256(b"x")];
        assert_eq!(status(&decide(&logs, None, &req, &w, 101)), 422);
        // 404: unknown origin.
        let other = LogKey::generate("example.org/other").unwrap().0;
        let foreign = other.sign(1, crate::merkle::sha256(b"a"), "").unwrap().note;
        assert_eq!(
            status(&decide(&logs, None, &log.request(0, &foreign), &w, 101)),
            404
        );
        // 403: the right origin, signed by another key.
        let impostor = LogKey::generate("example.org/log").unwrap().0;
        let forged = impostor
            .sign(9, log.tree.root(9).unwrap(), "")
            .unwrap()
            .note;
        assert_eq!(
            status(&decide(
                &logs,
                Some(&held),
                &log.request(5, &forged),
                &w,
                101
            )),
            403
        );
        // 400: not a checkpoint.
        let req = AddCheckpoint {
            old: 0,
            proof: vec![],
            checkpoint: b"hello\n".to_vec(),
        };
        assert_eq!(status(&decide(&logs, None, &req, &w, 101)), 400);

        // 200: consistent growth; a clock that went backwards does not move the timestamp back.
        let d = decide(&logs, Some(&held), &log.request(5, &note9), &w, 50);
        let Decision::Cosign { held: held9, .. } = d else {
            panic!("{d:?}")
        };
        assert_eq!((held9.size, held9.timestamp), (9, 100));
        // The same checkpoint again (old == size): cosigned again.
        assert_eq!(
            status(&decide(
                &logs,
                Some(&held9),
                &log.request(9, &note9),
                &w,
                102
            )),
            200
        );
        // 409, evidence: the same size, another root.
        let fork = log
            .key
            .sign(9, crate::merkle::sha256(b"fork"), "")
            .unwrap()
            .note;
        let d = decide(&logs, Some(&held9), &log.request(9, &fork), &w, 103);
        assert!(matches!(
            d,
            Decision::Refuse {
                status: 409,
                size: Some(9),
                conflict: Some(Conflict::SameSizeOtherRoot),
                ..
            }
        ));
        // 409, evidence: a smaller tree after a larger one.
        let d = decide(&logs, Some(&held9), &log.request(5, &note5), &w, 103);
        assert!(matches!(
            d,
            Decision::Refuse {
                status: 409,
                conflict: Some(Conflict::Smaller),
                ..
            }
        ));
    }

    #[test]
    fn a_fork_is_never_cosigned_after_its_other_branch() {
        // Two logs with one key: the first 4 leaves agree, then they diverge.
        let mut a = Log::new();
        let mut b = Log {
            key: LogKey::from_secret(&{
                let (k, s) = LogKey::generate("example.org/log").unwrap();
                a.key = k;
                s
            })
            .unwrap(),
            tree: MemoryHashes::new(),
        };
        let (w, _) = Cosigner::generate("witness.example/w1").unwrap();
        let logs = a.trusted();
        let note4 = a.grow(4);
        b.grow(4);
        let Decision::Cosign { held, .. } = decide(&logs, None, &a.request(0, &note4), &w, 1)
        else {
            panic!()
        };
        let na = a.grow(3);
        b.tree.append(leaf_hash(b"divergent")).unwrap();
        let nb = b.grow(2);
        let Decision::Cosign { held: ha, .. } =
            decide(&logs, Some(&held), &a.request(4, &na), &w, 2)
        else {
            panic!()
        };
        // b's checkpoint of size 7 with a proof from 4 (valid in b's tree) is refused.
        assert_eq!(
            status(&decide(&logs, Some(&ha), &b.request(7, &nb), &w, 3)),
            409
        );
        let nb8 = b.grow(1);
        let mut req = b.request(4, &nb8);
        req.old = 7;
        req.proof = b.tree.prove_consistency(8, 7).unwrap();
        let d = decide(&logs, Some(&ha), &req, &w, 3);
        assert!(matches!(d, Decision::Refuse { status: 422, .. }), "{d:?}");
    }
}
