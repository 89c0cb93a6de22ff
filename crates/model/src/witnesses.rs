//! The agreement's witnesses and witness policy: who cosigns the log's checkpoints
//! (C2SP `tlog-witness`, `cosignature/v1`), and which cosignatures a client needs before it
//! trusts a checkpoint.
//!
//! The policy is what protects each party from a mediator that shows it a different history
//! (a split view) or an old one (a slow-down): a checkpoint counts only with the cosignatures
//! of the witnesses the parties agreed on, and only while the newest of them is fresh.

use crate::ids::check_text;
use crate::refusal::Refusal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use truce_log::cosignature::{Cosignature, CosignatureVerifier};

/// A witness the agreement names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WitnessDecl {
    /// The witness's verifier key: `<name>+<8 hex id>+base64(0x04 || Ed25519 key)`, as
    /// `truce witness init` prints it. Its name identifies the witness in the policy.
    pub verifier_key: String,
    /// The party that runs it.
    pub party: String,
    /// Where the log sends checkpoints (`<url>/add-checkpoint`). Operational, so a server may
    /// also be given it with `truce serve --witness NAME=URL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Which cosignatures make a checkpoint trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WitnessPolicy {
    /// Witnesses (by name) whose cosignature is always needed, e.g. each party's own.
    #[serde(default)]
    pub required: Vec<String>,
    /// Cosignatures needed in all, from distinct listed witnesses, the required ones included.
    pub quorum: u32,
    /// A client shown a checkpoint whose quorum's newest cosignature is older than this says
    /// the log may be withholding entries from it.
    #[serde(default = "default_max_age")]
    pub max_age_seconds: u64,
}

fn default_max_age() -> u64 {
    600
}

/// The agreement's `witnesses` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Witnesses {
    pub list: Vec<WitnessDecl>,
    pub policy: WitnessPolicy,
}

impl Witnesses {
    /// Checks the block against the agreement's parties.
    pub fn check(&self, parties: &BTreeSet<&str>) -> Result<(), Refusal> {
        let mut names = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for (i, w) in self.list.iter().enumerate() {
            let field = format!("body.witnesses.list[{i}]");
            let v = CosignatureVerifier::new(&w.verifier_key)
                .map_err(|e| Refusal::invalid(format!("{field}.verifier_key: {e}")))?;
            if !keys.insert(v.verifier_key()) {
                return Err(Refusal::invalid(format!(
                    "{field}: the witness key is listed twice"
                )));
            }
            if !names.insert(v.name().to_owned()) {
                return Err(Refusal::invalid(format!(
                    "{field}: a second witness named `{}`; names identify witnesses in the policy",
                    v.name()
                )));
            }
            if !parties.contains(w.party.as_str()) {
                return Err(Refusal::invalid(format!(
                    "{field}.party: `{}` is not a party of the agreement",
                    w.party
                )));
            }
            if let Some(u) = &w.url {
                check_text(&format!("{field}.url"), u, 500)?;
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(Refusal::invalid(format!(
                        "{field}.url must be an http:// or https:// URL"
                    )));
                }
            }
        }
        let p = &self.policy;
        for (i, r) in p.required.iter().enumerate() {
            if !names.contains(r) {
                return Err(Refusal::invalid(format!(
                    "body.witnesses.policy.required[{i}]: `{r}` is not a listed witness"
                )));
            }
            if p.required[..i].contains(r) {
                return Err(Refusal::invalid(format!(
                    "body.witnesses.policy.required[{i}]: `{r}` is listed twice"
                )));
            }
        }
        let n = self.list.len() as u64;
        let q = u64::from(p.quorum);
        if q == 0 || q > n || q < p.required.len() as u64 {
            return Err(Refusal::invalid(format!(
                "body.witnesses.policy.quorum must be at least 1, at least the {} required witnesses, and at most the {n} listed",
                p.required.len()
            )));
        }
        if !(60..=86_400 * 7).contains(&p.max_age_seconds) {
            return Err(Refusal::invalid(
                "body.witnesses.policy.max_age_seconds must be 60..604800",
            ));
        }
        Ok(())
    }

    /// The verifiers of the listed witnesses (the block is checked).
    pub fn verifiers(&self) -> Vec<CosignatureVerifier> {
        self.list
            .iter()
            .filter_map(|w| CosignatureVerifier::new(&w.verifier_key).ok())
            .collect()
    }

    /// Judges the valid cosignatures found on a checkpoint (from
    /// [`truce_log::cosignature::cosignatures_on`] with [`Self::verifiers`]) at `now`.
    pub fn judge(&self, found: &[Cosignature], now: u64) -> Verdict {
        let names: BTreeSet<&str> = found.iter().map(|c| c.name.as_str()).collect();
        let missing_required: Vec<String> = self
            .policy
            .required
            .iter()
            .filter(|r| !names.contains(r.as_str()))
            .cloned()
            .collect();
        let have = self
            .verifiers()
            .iter()
            .filter(|v| names.contains(v.name()))
            .count() as u32;
        let quorum_met = missing_required.is_empty() && have >= self.policy.quorum;
        let newest = found.iter().map(|c| c.timestamp).max();
        let fresh = newest.is_some_and(|t| now.saturating_sub(t) <= self.policy.max_age_seconds);
        Verdict {
            quorum_met,
            have,
            quorum: self.policy.quorum,
            missing_required,
            others: self
                .verifiers()
                .iter()
                .filter(|v| {
                    !names.contains(v.name()) && !self.policy.required.iter().any(|r| r == v.name())
                })
                .map(|v| v.name().to_owned())
                .collect(),
            newest,
            fresh,
        }
    }
}

/// How a checkpoint's cosignatures measure against the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Every required witness and the quorum cosigned.
    pub quorum_met: bool,
    /// Distinct listed witnesses that cosigned.
    pub have: u32,
    pub quorum: u32,
    /// Required witnesses whose cosignature is missing.
    pub missing_required: Vec<String>,
    /// Other listed witnesses that did not cosign (any of them can complete the quorum).
    pub others: Vec<String>,
    /// The newest cosignature's timestamp.
    pub newest: Option<u64>,
    /// The newest cosignature is within `max_age_seconds` of now.
    pub fresh: bool,
}

impl Verdict {
    /// Whether a client may trust the checkpoint.
    pub fn trusted(&self) -> bool {
        self.quorum_met && self.fresh
    }

    /// What is missing, in words, or `None` if trusted.
    pub fn explain(&self, max_age: u64) -> Option<String> {
        if !self.quorum_met {
            let mut why = format!(
                "the checkpoint has {} of the {} witness cosignatures the agreement's policy needs",
                self.have, self.quorum
            );
            if !self.missing_required.is_empty() {
                why.push_str(&format!(
                    "; missing the required {}",
                    self.missing_required.join(", ")
                ));
            }
            if self.have < self.quorum && !self.others.is_empty() {
                why.push_str(&format!(
                    "; {} more from any of {}",
                    self.quorum
                        .saturating_sub(self.have + self.missing_required.len() as u32),
                    self.others.join(", ")
                ));
            }
            return Some(why);
        }
        if !self.fresh {
            return Some(format!(
                "the newest witness cosignature is older than {max_age} s: the log may be withholding newer entries from you (a slow-down)"
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use truce_log::cosignature::{Cosigner, cosignatures_in};

    fn block(required: &[&str], quorum: u32) -> (Witnesses, Vec<Cosigner>) {
        let cosigners: Vec<Cosigner> = ["sy.example/w", "il.example/w", "undof.example/w"]
            .iter()
            .map(|n| Cosigner::generate(n).unwrap().0)
            .collect();
        let list = cosigners
            .iter()
            .zip(["SY", "IL", "UNDOF"])
            .map(|(c, p)| WitnessDecl {
                verifier_key: c.verifier_key(),
                party: p.into(),
                url: None,
            })
            .collect();
        let w = Witnesses {
            list,
            policy: WitnessPolicy {
                required: required.iter().map(|s| s.to_string()).collect(),
                quorum,
                max_age_seconds: 600,
            },
        };
        (w, cosigners)
    }

    fn parties() -> BTreeSet<&'static str> {
        ["SY", "IL", "US", "UNDOF"].into_iter().collect()
    }

    #[test]
    fn the_policy_needs_the_required_witnesses_the_quorum_and_freshness() {
        let (w, c) = block(&["sy.example/w", "il.example/w"], 3);
        w.check(&parties()).unwrap();
        let text = "example.org/log\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let note_with = |who: &[usize], ts: u64| {
            let mut note = format!("{text}\n— example.org/log AAAAAAAA\n");
            for &i in who {
                note.push_str(&c[i].cosign(text.as_bytes(), ts).unwrap());
            }
            cosignatures_in(note.as_bytes(), &w.verifiers()).unwrap()
        };
        let v = w.judge(&note_with(&[0, 1, 2], 1000), 1100);
        assert!(v.trusted(), "{v:?}");
        let v = w.judge(&note_with(&[0, 2], 1000), 1100);
        assert!(!v.trusted());
        assert_eq!(v.missing_required, vec!["il.example/w".to_string()]);
        assert!(
            v.explain(600)
                .unwrap()
                .contains("missing the required il.example/w")
        );
        let v = w.judge(&note_with(&[0, 1], 1000), 1100);
        assert!(!v.quorum_met);
        assert!(
            v.explain(600)
                .unwrap()
                .contains("1 more from any of undof.example/w"),
            "{:?}",
            v.explain(600)
        );
        let v = w.judge(&note_with(&[0, 1, 2], 1000), 1000 + 601);
        assert!(v.quorum_met && !v.fresh);
        assert!(v.explain(600).unwrap().contains("slow-down"));
    }

    #[test]
    fn bad_blocks_are_refused_precisely() {
        let p = parties();
        let (w, _) = block(&["nobody"], 1);
        assert!(
            w.check(&p)
                .unwrap_err()
                .detail
                .contains("not a listed witness")
        );
        let (mut w, _) = block(&[], 3);
        w.list.push(w.list[0].clone());
        w.policy.quorum = 3;
        assert!(w.check(&p).unwrap_err().detail.contains("listed twice"));
        let (w, _) = block(&["sy.example/w", "il.example/w"], 1);
        assert!(w.check(&p).unwrap_err().detail.contains("quorum"));
        let (w, _) = block(&[], 4);
        assert!(w.check(&p).unwrap_err().detail.contains("quorum"));
        let (mut w, _) = block(&[], 2);
        w.list[0].party = "XX".into();
        assert!(w.check(&p).unwrap_err().detail.contains("not a party"));
        let (mut w, _) = block(&[], 2);
        w.list[1].verifier_key = "not-a-key".into();
        assert!(
            w.check(&p)
                .unwrap_err()
                .detail
                .contains("list[1].verifier_key")
        );
        let (mut w, _) = block(&[], 2);
        w.list[1].url = Some("ftp://x".into());
        assert!(w.check(&p).unwrap_err().detail.contains("url"));
        let (mut w, _) = block(&[], 2);
        w.policy.max_age_seconds = 5;
        assert!(w.check(&p).unwrap_err().detail.contains("max_age_seconds"));
    }
}
