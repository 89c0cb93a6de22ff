//! Output: the files, and a live server in batches.

use super::*;

/// A live server the simulation submits to, in batches (the CLI implements it over HTTP; the
/// simulator has none). It also holds the keys of the members the simulation signs as.
pub trait Live {
    /// The log origin the server's entries must name.
    fn origin(&self) -> Result<String>;
    /// The signing key of `member` (a data directory's key file).
    fn signing_key(&self, member: &str) -> Result<SigningKey>;
    /// Submits a batch of entry leaves and returns their log indices, in order; fails unless
    /// every entry was logged.
    fn submit(&self, leaves: &[Vec<u8>]) -> Result<Vec<u64>>;
    /// Where the server is (for the summary).
    fn base(&self) -> String;
}

/// One truth line waiting for the log index of its entry.
pub(crate) enum TruthLine {
    Report(Box<ReportPlan>),
    Sighting { report: u64, party: &'static str },
}

pub(crate) struct Sink {
    pub(crate) entries: BufWriter<File>,
    pub(crate) truth: BufWriter<File>,
    pub(crate) origin: String,
    pub(crate) keys: HashMap<&'static str, SigningKey>,
    /// Offline: the next log index. With a server: None (the server assigns them).
    pub(crate) next_index: Option<u64>,
    pub(crate) server: Option<Box<dyn Live>>,
    pub(crate) batch: Vec<(Vec<u8>, TruthLine)>,
    /// Log indices of reports a planned sighting will name, by serial.
    pub(crate) indices: HashMap<u64, u64>,
    /// Report serials in the unsent batch that a sighting will name.
    pub(crate) in_batch: std::collections::HashSet<u64>,
    pub(crate) per_party: HashMap<&'static str, u64>,
    pub(crate) summary: Summary,
    pub(crate) bar: Option<indicatif::ProgressBar>,
}

impl Sink {
    pub(crate) fn write_leaf(&mut self, leaf: &[u8]) -> Result<()> {
        self.entries.write_all(leaf)?;
        self.entries.write_all(b"\n")?;
        self.summary.entries += 1;
        Ok(())
    }

    pub(crate) fn sign(
        &self,
        member: &'static str,
        kind: Kind,
        body: &Value,
        created: i64,
    ) -> Result<Vec<u8>> {
        let key = self
            .keys
            .get(member)
            .with_context(|| format!("no key for member {member}"))?;
        Ok(truce_model::entry::sign(&self.origin, kind, member, key, ts(created)?, body).to_leaf())
    }

    /// Logs an entry whose truth line needs its index.
    pub(crate) fn emit(&mut self, leaf: Vec<u8>, truth: TruthLine) -> Result<()> {
        self.write_leaf(&leaf)?;
        match self.next_index {
            Some(i) => {
                self.next_index = Some(i + 1);
                self.logged(i, truth)
            }
            None => {
                if let TruthLine::Report(p) = &truth
                    && p.denied_after.is_some()
                {
                    self.in_batch.insert(p.serial);
                }
                self.batch.push((leaf, truth));
                if self.batch.len() >= BATCH {
                    self.flush()?;
                }
                Ok(())
            }
        }
    }

    /// An entry got its log index: write its truth, plan its denial.
    pub(crate) fn logged(&mut self, index: u64, truth: TruthLine) -> Result<()> {
        if self.summary.first_index == 0 && self.summary.reports + self.summary.sightings == 0 {
            self.summary.first_index = index;
        }
        let line = match truth {
            TruthLine::Report(p) => {
                self.summary.reports += 1;
                if p.duplicate {
                    self.summary.duplicate_reports += 1;
                }
                if p.denied_after.is_some() {
                    self.indices.insert(p.serial, index);
                }
                match p.truth {
                    Some((n, t, perp, point, time)) => json!({
                        "record": "report", "index": index, "incident": n, "party": p.party,
                        "true_type": wire(&t), "true_perpetrator": perp, "true_point": point,
                        "true_time": ts_text(time)?, "duplicate": p.duplicate,
                    }),
                    None => {
                        self.summary.false_reports += 1;
                        json!({
                            "record": "report", "index": index, "incident": null, "party": p.party,
                            "true_type": null, "true_perpetrator": null, "true_point": null,
                            "true_time": null, "duplicate": false,
                        })
                    }
                }
            }
            TruthLine::Sighting { report, party } => {
                self.summary.sightings += 1;
                json!({"record": "sighting", "index": index, "report": report, "party": party, "stance": "deny"})
            }
        };
        serde_json::to_writer(&mut self.truth, &line)?;
        self.truth.write_all(b"\n")?;
        Ok(())
    }

    pub(crate) fn report(
        &mut self,
        plan: Box<ReportPlan>,
        created: i64,
        sim: &mut Generator,
    ) -> Result<()> {
        let n = self.per_party.entry(plan.party).or_insert(0);
        *n += 1;
        let source_ref = format!("SIM-{}-{:07}", plan.party, n);
        let body = report_body(&plan, source_ref)?;
        let leaf = self.sign(member_of(plan.party), Kind::Report, &body, created)?;
        // The accused party's denial comes later; it names the report by its log index,
        // known by the time the denial is signed.
        if let Some(after) = plan.denied_after {
            sim.push(
                created + after,
                Pending::Sighting {
                    party: plan.perpetrator,
                    report_serial: plan.serial,
                },
            );
        }
        self.emit(leaf, TruthLine::Report(plan))
    }

    pub(crate) fn sighting(
        &mut self,
        party: &'static str,
        serial: u64,
        created: i64,
    ) -> Result<()> {
        if self.in_batch.contains(&serial) {
            self.flush()?;
        }
        let report = self.indices.remove(&serial).with_context(|| {
            format!("the report a denial names (serial {serial}) was not logged")
        })?;
        let body = wire(&Sighting {
            report,
            stance: Stance::Deny,
            reasons: "Simulated denial: the accused party says none of its forces were involved."
                .into(),
            evidence: vec![],
            sealed: None,
        });
        let leaf = self.sign(member_of(party), Kind::Sighting, &body, created)?;
        self.emit(leaf, TruthLine::Sighting { report, party })
    }

    /// Sends the batch (with a server) and writes the truth lines with the assigned indices.
    pub(crate) fn flush(&mut self) -> Result<()> {
        let Some(client) = &self.server else {
            return Ok(());
        };
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.in_batch.clear();
        let (leaves, truths): (Vec<Vec<u8>>, Vec<TruthLine>) = batch.into_iter().unzip();
        let indices = client.submit(&leaves)?;
        if indices.len() != leaves.len() {
            bail!(
                "the server answered {} results for a batch of {}",
                indices.len(),
                leaves.len()
            );
        }
        for (truth, index) in truths.into_iter().zip(indices) {
            self.logged(index, truth)?;
        }
        if let Some(b) = &self.bar {
            b.set_message(format!("{} entries sent", self.summary.entries));
        }
        Ok(())
    }
}
