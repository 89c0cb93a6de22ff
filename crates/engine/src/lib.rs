//! `truce-engine`: the deterministic state machine of a mechanism.
//!
//! [`Engine::apply`] takes the log's entries in log order and maintains the derived
//! [`State`]: events (from reports, through [`fusion`]), findings (events, posture and
//! deadlines checked against the agreement's rules, in [`rules`]), deadlines, disputes and
//! rulings (the findings lifecycle, in [`lifecycle`]), notices and civilian cases.
//! [`scorecard::scorecards`] summarises it per party, rule and month, and
//! [`commitment::state_hash`] hashes its canonical encoding for the signed state commitment.
//!
//! The state is a pure function of the agreement (with its zones document) and the log prefix:
//! no wall clock (deadlines fire on the *log clock*, the latest `created` time applied), no
//! randomness, no hash-map iteration order, no platform maths in decisions. I/O-free: the
//! caller passes entries in and, for the agreement, the zones document through [`Blobs`].
//!
//! The engine trusts that entries were admitted (signature, author's role, schema); a replayer
//! re-checks admission with `truce_model::Registry` before applying. Entries that are
//! well-formed but cannot take effect (a dispute of an unknown finding, a ruling while the
//! dispute window is open) are recorded in [`State::ignored`] with the reason.

pub mod alerts;
pub mod commitment;
pub mod coverage;
pub mod fusion;
pub mod lifecycle;
pub mod rules;
pub mod scorecard;
pub mod state;

pub use state::{Finding, State, Status};

use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use truce_geo::{Containment, ZoneIndex};
use truce_model::agreement::Agreement;
use truce_model::bodies::{CaseAction, NoticeAction, PostureType, Response};
use truce_model::entry::{Body, Entry};
use truce_model::time::{TimePrecision, TimeSpan};

use state::{
    AgreementRec, CaseRec, CaseStatus, Certainty, MemberRec, Name, NoticeRec, PostureRec, ZoneHit,
};

/// Where the engine reads the agreement's annex documents (the zones GeoJSON).
pub trait Blobs {
    fn blob(&self, sha256: &str) -> Option<Vec<u8>>;
}

impl<F: Fn(&str) -> Option<Vec<u8>>> Blobs for F {
    fn blob(&self, sha256: &str) -> Option<Vec<u8>> {
        self(sha256)
    }
}

/// Why the engine could not go on. Each is a problem with the caller's input, not with an
/// entry: an admitted log never produces one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EngineError {
    #[error("entry {got} applied out of order: the engine is at log size {expected}")]
    OutOfOrder { expected: u64, got: u64 },
    #[error("the zones document {0} is not available")]
    MissingBlob(String),
    #[error("the zones document is invalid: {0}")]
    Zones(String),
    #[error("the state cannot be restored: {0}")]
    State(String),
}

/// The agreement's zones, indexed.
#[derive(Debug, Clone)]
pub struct Geography {
    index: ZoneIndex,
    /// Each zone's id and layer, shared by the events' zone hits.
    names: Vec<(Name, Name)>,
}

impl Geography {
    fn load(a: &Agreement, blobs: &dyn Blobs) -> Result<Self, EngineError> {
        let doc = blobs
            .blob(&a.zones.sha256)
            .ok_or_else(|| EngineError::MissingBlob(a.zones.sha256.clone()))?;
        let zones = a
            .check_zones(&doc)
            .map_err(|e| EngineError::Zones(e.detail))?;
        Ok(Geography::new(ZoneIndex::new(zones)))
    }

    /// Loads a zones document already checked at admission, by its SHA-256.
    fn from_doc(sha256: &str, blobs: &dyn Blobs) -> Result<Self, EngineError> {
        use sha2::Digest;
        let doc = blobs
            .blob(sha256)
            .ok_or_else(|| EngineError::MissingBlob(sha256.to_owned()))?;
        if hex_lower(&sha2::Sha256::digest(&doc)) != sha256 {
            return Err(EngineError::Zones(format!(
                "the blob given for {sha256} has another hash"
            )));
        }
        let text = std::str::from_utf8(&doc).map_err(|e| EngineError::Zones(e.to_string()))?;
        let zones = truce_geo::parse_zones(text).map_err(|e| EngineError::Zones(e.to_string()))?;
        Ok(Geography::new(ZoneIndex::new(zones)))
    }

    fn new(index: ZoneIndex) -> Self {
        let names = index
            .zones()
            .iter()
            .map(|z| (Name::from(z.id.as_str()), Name::from(z.layer.as_str())))
            .collect();
        Geography { index, names }
    }

    pub fn layers(&self) -> BTreeSet<String> {
        self.index.zones().iter().map(|z| z.layer.clone()).collect()
    }

    /// The zones (every layer) an uncertainty circle touches, sorted.
    pub fn hits(&self, point: [f64; 2], radius_m: f64) -> Vec<ZoneHit> {
        let mut hits: Vec<ZoneHit> = self
            .index
            .classify(point[0], point[1], radius_m)
            .into_iter()
            .filter_map(|(i, c)| {
                self.names.get(i).map(|(zone, layer)| ZoneHit {
                    zone: zone.clone(),
                    layer: layer.clone(),
                    certainty: match c {
                        Containment::Certain => Certainty::Certain,
                        Containment::Possible => Certainty::Possible,
                    },
                })
            })
            .collect();
        hits.sort();
        hits
    }

    pub fn index(&self) -> &ZoneIndex {
        &self.index
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The state machine. See the crate docs.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    state: State,
    /// Indexed zones documents by SHA-256 (one per agreement version that changed them).
    geos: BTreeMap<String, Geography>,
    /// Timed transitions not yet fired: (due, deadline or finding id). Rebuilt on restore.
    timers: BTreeSet<(Timestamp, Timer)>,
    /// Fusion's spatial index of open events. Rebuilt on restore.
    fusion: fusion::Fusion,
    /// Findings by the event they are about. Rebuilt on restore.
    event_findings: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Deadline(String),
    Expiry(String),
}

impl Engine {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The zones of the agreement version in force.
    pub fn geography(&self) -> Option<&Geography> {
        self.state
            .agreement
            .as_ref()
            .and_then(|a| self.geos.get(&a.zones_sha256))
    }

    fn geo_for(&self, a: &AgreementRec) -> Option<&Geography> {
        self.geos.get(&a.zones_sha256)
    }

    /// Continues from a state saved earlier (for example a snapshot in the store); `blobs`
    /// gives the zones documents of its agreement versions.
    pub fn restore(state: State, blobs: &dyn Blobs) -> Result<Self, EngineError> {
        if state.format != state::STATE_FORMAT {
            return Err(EngineError::State(format!(
                "format `{}`, expected `{}`",
                state.format,
                state::STATE_FORMAT
            )));
        }
        let mut geos = BTreeMap::new();
        let versions = state
            .superseded
            .iter()
            .chain(state.agreement.iter())
            .chain(state.pending_agreement.iter());
        for a in versions {
            if !geos.contains_key(&a.zones_sha256) {
                geos.insert(
                    a.zones_sha256.clone(),
                    Geography::from_doc(&a.zones_sha256, blobs)?,
                );
            }
        }
        let mut engine = Engine {
            fusion: fusion::Fusion::rebuild(&state),
            event_findings: BTreeMap::new(),
            state,
            geos,
            timers: BTreeSet::new(),
        };
        for f in engine.state.findings.values() {
            if let state::Subject::Event { event } = &f.subject {
                engine
                    .event_findings
                    .entry(event.clone())
                    .or_default()
                    .insert(f.id.clone());
            }
        }
        engine.rebuild_timers();
        Ok(engine)
    }

    fn rebuild_timers(&mut self) {
        self.timers.clear();
        for d in self.state.deadlines.values() {
            if d.status == state::DeadlineStatus::Pending {
                self.timers.insert((d.due, Timer::Deadline(d.id.clone())));
            }
        }
        if let Some(days) = self
            .state
            .agreement
            .as_ref()
            .and_then(|a| a.procedure.allegation_expiry_days)
        {
            for f in self.state.findings.values() {
                if f.status == Status::Alleged {
                    self.timers
                        .insert((later(f.made, days_(days)), Timer::Expiry(f.id.clone())));
                }
            }
        }
    }

    /// Applies the entry at log index `index`, which must be the next one.
    pub fn apply(
        &mut self,
        index: u64,
        entry: &Entry,
        blobs: &dyn Blobs,
    ) -> Result<(), EngineError> {
        if index != self.state.size {
            return Err(EngineError::OutOfOrder {
                expected: self.state.size,
                got: index,
            });
        }
        // Load the zones first, so that a missing document leaves the state untouched.
        let new_geo = match &entry.body {
            Body::Agreement(a) if !self.geos.contains_key(&a.zones.sha256) => {
                Some(Geography::load(a, blobs)?)
            }
            _ => None,
        };
        let t = entry.created;
        let clock = self.state.clock.map_or(t, |c| c.max(t));
        if let Some(r) = entry.body.sealed_recipients() {
            self.state.sealed.insert(index, r.to_vec());
        }
        // The log learns of everything below at this entry's moment: findings made now are
        // stamped with it. Deadlines strictly before it fire before the entry takes effect;
        // those reached exactly at it fire after, so an entry stamped at the deadline counts.
        self.state.clock = Some(clock);
        self.fire_timers(index, clock, false);
        self.apply_body(index, entry, new_geo);
        self.fire_timers(index, clock, true);
        self.state.size = index + 1;
        Ok(())
    }

    fn fire_timers(&mut self, index: u64, clock: Timestamp, inclusive: bool) {
        loop {
            let Some((due, _)) = self.timers.first() else {
                return;
            };
            if *due > clock || (!inclusive && *due == clock) {
                return;
            }
            let Some((due, timer)) = self.timers.pop_first() else {
                return;
            };
            match timer {
                Timer::Deadline(id) => {
                    let geo = self
                        .state
                        .agreement
                        .as_ref()
                        .and_then(|a| self.geos.get(&a.zones_sha256));
                    lifecycle::fire_deadline(&mut self.state, geo, index, &id, due)
                }
                Timer::Expiry(id) => lifecycle::expire(&mut self.state, index, &id, due),
            }
        }
    }

    fn party_of(&self, member: &str) -> Option<String> {
        self.state.members.get(member).map(|m| m.party.clone())
    }

    fn apply_body(&mut self, index: u64, entry: &Entry, new_geo: Option<Geography>) {
        let clock = self.state.clock.unwrap_or(entry.created);
        match &entry.body {
            Body::Agreement(a) => {
                if let Some(geo) = new_geo {
                    self.geos.insert(a.zones.sha256.clone(), geo);
                }
                let rec = agreement_rec(index, a, self.geos.get(&a.zones.sha256));
                if self.state.agreement.is_none() {
                    for m in &a.members {
                        self.state.members.insert(
                            m.id.clone(),
                            MemberRec {
                                party: m.party.clone(),
                                role: m.role,
                            },
                        );
                    }
                    self.state.agreement = Some(rec);
                } else {
                    self.state.pending_agreement = Some(rec);
                }
            }
            Body::Ratification(_) => {
                let Some(party) = self.party_of(&entry.author) else {
                    return;
                };
                let amending = self.state.pending_agreement.is_some();
                let Some(a) = self
                    .state
                    .pending_agreement
                    .as_mut()
                    .or(self.state.agreement.as_mut())
                else {
                    return;
                };
                a.ratified.insert(party);
                let all = a
                    .parties
                    .iter()
                    .filter(|(_, r)| **r != truce_model::agreement::PartyRole::Observer)
                    .all(|(p, _)| a.ratified.contains(p));
                if all && a.in_force_since.is_none() {
                    a.in_force_since = Some((index, clock));
                    if amending {
                        self.on_amended(index);
                    } else {
                        self.on_in_force(index);
                    }
                }
            }
            Body::Membership(m) => {
                let Some(party) = self.party_of(&entry.author) else {
                    return;
                };
                if m.action == truce_model::bodies::MembershipAction::Add {
                    self.state.members.insert(
                        m.member.clone(),
                        MemberRec {
                            party,
                            role: m.role.unwrap_or(truce_model::bodies::MemberRole::Officer),
                        },
                    );
                }
            }
            Body::Report(r) => {
                let Some(party) = self.party_of(&entry.author) else {
                    return;
                };
                let (start, _) = widen(&r.time);
                let geo = self
                    .state
                    .version_at(start)
                    .and_then(|a| self.geos.get(&a.zones_sha256));
                let changed = self
                    .fusion
                    .add_report(&mut self.state, geo, index, &party, r, clock);
                for id in changed {
                    self.evaluate_event(index, &id);
                }
            }
            Body::Posture(p) => self.apply_posture(index, p),
            Body::Notice(n) => self.apply_notice(index, entry, n),
            Body::Acknowledgement(ack) => self.apply_answer(index, entry, ack),
            Body::Dispute(d) => {
                let party = self.party_of(&entry.author).unwrap_or_default();
                if let Err(why) =
                    lifecycle::dispute(&mut self.state, index, &entry.author, &party, d, clock)
                {
                    self.ignore(index, why);
                }
            }
            Body::Ruling(r) => {
                match lifecycle::rule(&mut self.state, index, &entry.author, r, clock) {
                    Ok(()) => {}
                    Err(why) => self.ignore(index, why),
                }
            }
            Body::Case(c) => self.apply_case(index, entry, c),
            Body::Sighting(sg) => self.apply_sighting(index, entry, sg, clock),
            Body::Participation(p) => {
                let Some(party) = self.party_of(&entry.author) else {
                    return;
                };
                self.state
                    .participation
                    .entry(party)
                    .or_default()
                    .push(state::ParticipationRec {
                        index,
                        action: p.action,
                        at: clock,
                        reason: p.reason.clone(),
                    });
            }
            Body::Attestation(a) => {
                let Some(party) = self.party_of(&entry.author) else {
                    return;
                };
                let (start, end) = widen(&a.period);
                let key = format!("{start}/{end}");
                let parties: Vec<String> = self
                    .state
                    .agreement
                    .as_ref()
                    .map(|a| {
                        a.parties
                            .iter()
                            .filter(|(_, r)| **r == truce_model::agreement::PartyRole::Party)
                            .map(|(p, _)| p.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                let rec =
                    self.state
                        .attestations
                        .entry(key)
                        .or_insert_with(|| state::AttestationRec {
                            start,
                            end,
                            signers: BTreeMap::new(),
                            cosigned: false,
                        });
                if rec.signers.contains_key(&party) {
                    self.ignore(
                        index,
                        format!("party {party} has already attested this period"),
                    );
                    return;
                }
                rec.signers.insert(party, index);
                rec.cosigned = parties.iter().all(|p| rec.signers.contains_key(p));
            }
            Body::Coverage(c) => {
                let Some(party) = self.party_of(&entry.author) else {
                    return;
                };
                let (start, end) = widen(&c.window);
                self.state.coverage.insert(
                    index,
                    coverage::CoverageRec {
                        party,
                        method: c.method,
                        start,
                        end,
                        observed: c.observed.clone(),
                        width_m: c.width_m,
                    },
                );
            }
        }
    }

    fn ignore(&mut self, index: u64, why: impl Into<String>) {
        self.state.ignored.insert(index, why.into());
    }

    /// The agreement came into force: schedule the withdrawal deadlines.
    fn on_in_force(&mut self, _index: u64) {
        let Some(a) = &self.state.agreement else {
            return;
        };
        let new = rules::in_force_deadlines(a, |_| true, "");
        for d in new {
            self.add_deadline(d);
        }
    }

    /// An amendment came into force: it replaces the current version, which is kept for
    /// judging what happened before the amendment's effective time. Pending withdrawal
    /// deadlines of rules the amendment removed or changed lapse; its new or changed
    /// withdrawal rules get deadlines of their own (ids carry the version).
    fn on_amended(&mut self, index: u64) {
        let Some(new) = self.state.pending_agreement.take() else {
            return;
        };
        let Some(old) = self.state.agreement.replace(new) else {
            return;
        };
        let (Some(new), old_rules) = (self.state.agreement.clone(), old.rules.clone()) else {
            return;
        };
        self.state.superseded.push(old);
        let unchanged = |id: &str| {
            old_rules.iter().find(|r| r.id == id) == new.rules.iter().find(|r| r.id == id)
        };
        let mut lapsed = Vec::new();
        for d in self.state.deadlines.values_mut() {
            if d.status == state::DeadlineStatus::Pending
                && matches!(d.obligation, state::Obligation::Withdrawal { .. })
                && !unchanged(&d.rule)
            {
                d.status = state::DeadlineStatus::Lapsed;
                d.evidence.push(index);
                lapsed.push((d.due, Timer::Deadline(d.id.clone())));
            }
        }
        for t in lapsed {
            self.timers.remove(&t);
        }
        let suffix = format!("v{}", new.version);
        for d in rules::in_force_deadlines(&new, |id| !unchanged(id), &suffix) {
            self.add_deadline(d);
        }
    }

    fn add_deadline(&mut self, d: state::Deadline) {
        self.timers.insert((d.due, Timer::Deadline(d.id.clone())));
        self.state.deadlines.insert(d.id.clone(), d);
    }

    /// (Re-)evaluates the rules for an event that was created or changed. Findings it no
    /// longer supports (merged away, or fused so that a rule no longer applies) are marked
    /// superseded.
    fn evaluate_event(&mut self, index: u64, event_id: &str) {
        let Some(ev) = self.state.events.get(event_id) else {
            return;
        };
        let drafts = match &ev.merged_into {
            Some(_) => vec![],
            None => match self.state.version_at(ev.start) {
                Some(a) => rules::evaluate_event(a, &self.state, self.geo_for(a), ev),
                None => vec![],
            },
        };
        let why = match &ev.merged_into {
            Some(into) => format!("event {event_id} was merged into {into}"),
            None => format!("after fusion, event {event_id} no longer supports it"),
        };
        let kept: BTreeSet<String> = drafts.iter().map(|d| d.id.clone()).collect();
        let before = self
            .event_findings
            .get(event_id)
            .cloned()
            .unwrap_or_default();
        for id in before.difference(&kept) {
            lifecycle::supersede(&mut self.state, index, id, &why);
        }
        for d in &drafts {
            self.event_findings
                .entry(event_id.to_owned())
                .or_default()
                .insert(d.id.clone());
        }
        self.record(index, drafts);
    }

    /// Records findings: new ones are made, existing ones are updated to their event and,
    /// when it became corroborated, move from alleged to corroborated.
    fn record(&mut self, index: u64, drafts: Vec<rules::Draft>) {
        let expiry = self
            .state
            .agreement
            .as_ref()
            .and_then(|a| a.procedure.allegation_expiry_days);
        for d in drafts {
            if let Some(made) = lifecycle::record(&mut self.state, index, d)
                && let Some(days) = expiry
            {
                self.timers
                    .insert((later(made.1, days_(days)), Timer::Expiry(made.0)));
            }
        }
    }

    /// A confirmation or denial of a report. A denial by the party a finding on the event
    /// holds responsible disputes that finding (the sighting is the dispute).
    fn apply_sighting(
        &mut self,
        index: u64,
        entry: &Entry,
        sg: &truce_model::bodies::Sighting,
        clock: Timestamp,
    ) {
        let Some(party) = self.party_of(&entry.author) else {
            return;
        };
        let geo = self
            .state
            .reports
            .get(&sg.report)
            .and_then(|r| self.state.version_at(r.start))
            .and_then(|a| self.geos.get(&a.zones_sha256));
        match self
            .fusion
            .add_sighting(&mut self.state, geo, sg.report, &party, sg.stance)
        {
            Err(why) => self.ignore(index, why),
            Ok(event) => {
                self.state.sightings.insert(
                    index,
                    state::SightingRec {
                        report: sg.report,
                        party: party.clone(),
                        stance: sg.stance,
                    },
                );
                self.evaluate_event(index, &event);
                if sg.stance == truce_model::bodies::Stance::Deny {
                    let findings = self.event_findings.get(&event).cloned().unwrap_or_default();
                    for id in findings {
                        let d = truce_model::bodies::Dispute {
                            finding: id,
                            reasons: format!("denied in sighting {index}: {}", sg.reasons),
                            evidence: sg.evidence.clone(),
                            sealed: None,
                        };
                        // Only the responsible party's denial, inside the window, disputes.
                        let _ = lifecycle::dispute(
                            &mut self.state,
                            index,
                            &entry.author,
                            &party,
                            &d,
                            clock,
                        );
                    }
                }
            }
        }
    }

    fn apply_posture(&mut self, index: u64, p: &truce_model::bodies::Posture) {
        let Some(as_of) = parse(&p.as_of) else {
            return;
        };
        let kind = match p.posture_type {
            PostureType::Declaration => "declaration",
            PostureType::Inspection => "inspection",
        };
        // The mismatch check compares with the declarations in force before this entry.
        let before = self.state.posture.clone();
        for z in &p.zones {
            let key = format!("{}/{}/{kind}", z.party, z.zone);
            if let Some(prev) = self.state.posture.get(&key)
                && prev.as_of > as_of
            {
                continue; // an older picture does not replace a newer one
            }
            let mut forces = BTreeMap::new();
            for f in &z.forces {
                let n: &mut u32 = forces.entry(f.category).or_insert(0);
                *n = n.saturating_add(f.count);
            }
            self.state.posture.insert(
                key,
                PostureRec {
                    index,
                    as_of,
                    forces,
                },
            );
        }
        let Some(a) = self.state.version_at(as_of) else {
            return;
        };
        let drafts = rules::evaluate_posture(a, &self.state, &before, index, p, as_of);
        self.record(index, drafts);
    }

    fn apply_notice(&mut self, index: u64, entry: &Entry, n: &truce_model::bodies::Notice) {
        let Some(party) = self.party_of(&entry.author) else {
            return;
        };
        let clock = self.state.clock.unwrap_or(entry.created);
        let (start, end) = widen(&n.window);
        let mut notified = entry.created;
        if let Some(old) = n.refers_to {
            match self.state.notices.get_mut(&old) {
                Some(o) if o.party == party && o.current() => {
                    notified = o.notified;
                    if n.action == NoticeAction::Withdraw {
                        o.withdrawn = true;
                        o.withdrawn_at = Some(index);
                    } else {
                        o.replaced_by = Some(index);
                    }
                    o.settle();
                }
                Some(_) => {
                    self.ignore(
                        index,
                        format!("notice {old} is not a current notice of party {party}"),
                    );
                    return;
                }
                None => {
                    self.ignore(index, format!("no notice at log index {old}"));
                    return;
                }
            }
            // Answers still awaited for the old notice are no longer due.
            let mut lapsed = Vec::new();
            for d in self.state.deadlines.values_mut() {
                if d.status == state::DeadlineStatus::Pending
                    && d.obligation == (state::Obligation::NoticeAnswer { notice: old })
                {
                    d.status = state::DeadlineStatus::Lapsed;
                    d.evidence.push(index);
                    lapsed.push((d.due, Timer::Deadline(d.id.clone())));
                }
            }
            for t in lapsed {
                self.timers.remove(&t);
            }
            if n.action == NoticeAction::Withdraw {
                return;
            }
        }
        // An amended notice needs answers of its own: the earlier green light was for
        // something else.
        let answer_due = start.max(clock);
        let addressees: Vec<String> = n
            .addressees
            .iter()
            .filter(|a| **a != party)
            .cloned()
            .collect();
        let mut rec = NoticeRec {
            party,
            activity: n.activity,
            area: n.area.clone(),
            start,
            end,
            notified,
            addressees: addressees.clone(),
            withdrawn: false,
            withdrawn_at: None,
            replaced_by: None,
            answers: BTreeMap::new(),
            answer_log: Vec::new(),
            conditions: BTreeMap::new(),
            answer_due,
            escalations: Vec::new(),
            addressee_status: addressees
                .iter()
                .map(|a| (a.clone(), state::AnswerStatus::Filed))
                .collect(),
            status: state::NoticeStatus::Filed,
        };
        rec.settle();
        self.state.notices.insert(index, rec);
        for a in addressees {
            self.add_deadline(state::Deadline {
                id: format!("notice/{index}/{a}"),
                rule: String::new(),
                party: a,
                due: answer_due,
                obligation: state::Obligation::NoticeAnswer { notice: index },
                status: state::DeadlineStatus::Pending,
                evidence: Vec::new(),
                basis: None,
                finding: None,
                settled_at: None,
            });
        }
    }

    /// An addressee's receipt or answer, or the mediator's escalation.
    fn apply_answer(
        &mut self,
        index: u64,
        entry: &Entry,
        ack: &truce_model::bodies::Acknowledgement,
    ) {
        use state::AnswerStatus as A;
        let Some(party) = self.party_of(&entry.author) else {
            return;
        };
        let Some(n) = self.state.notices.get_mut(&ack.notice) else {
            self.ignore(index, format!("no notice at log index {}", ack.notice));
            return;
        };
        if !n.current() {
            let why = format!("notice {} was withdrawn or amended", ack.notice);
            self.ignore(index, why);
            return;
        }
        if ack.response == Response::Escalate {
            n.escalations.push(index);
            return;
        }
        if !n.addressees.contains(&party) {
            let why = format!("party {party} is not an addressee of notice {}", ack.notice);
            self.ignore(index, why);
            return;
        }
        let status = match ack.response {
            Response::Received => A::Delivered,
            Response::Acknowledge => A::Acknowledged,
            Response::AcknowledgeWithConditions => A::Conditioned,
            Response::Object | Response::Escalate => A::Objected,
        };
        if ack.response == Response::Received {
            if n.answers.contains_key(&party) {
                return; // a receipt after an answer changes nothing
            }
            if n.addressee_status.get(&party) == Some(&A::Filed) {
                n.addressee_status.insert(party, status);
                n.settle();
            }
            return;
        }
        n.answers.insert(party.clone(), (index, ack.response));
        n.answer_log.push((index, party.clone(), ack.response));
        match &ack.conditions {
            Some(c) => n.conditions.insert(party.clone(), c.clone()),
            None => n.conditions.remove(&party),
        };
        n.addressee_status.insert(party.clone(), status);
        n.settle();
        let id = format!("notice/{}/{party}", ack.notice);
        if let Some(d) = self.state.deadlines.get_mut(&id)
            && d.status == state::DeadlineStatus::Pending
        {
            d.status = state::DeadlineStatus::Met;
            d.evidence.push(index);
            self.timers.remove(&(d.due, Timer::Deadline(id)));
        }
    }

    fn apply_case(&mut self, index: u64, entry: &Entry, c: &truce_model::bodies::Case) {
        let Some(party) = self.party_of(&entry.author) else {
            return;
        };
        let clock = self.state.clock.unwrap_or(entry.created);
        if c.action == CaseAction::Report {
            self.state.cases.insert(
                index,
                CaseRec {
                    reported_by: party,
                    detaining_party: c.detaining_party.clone(),
                    commitment: c.commitment.clone(),
                    reported: clock,
                    status: CaseStatus::Reported,
                    steps: vec![(index, CaseAction::Report)],
                    recipients: c
                        .sealed
                        .as_ref()
                        .map(|s| s.recipients.clone())
                        .unwrap_or_default(),
                },
            );
            let new = rules::case_deadlines(
                self.state.version_at(clock),
                index,
                &c.detaining_party,
                clock,
            );
            for d in new {
                self.add_deadline(d);
            }
            return;
        }
        let Some(case_index) = c.case else {
            return;
        };
        let mediator = self
            .state
            .agreement
            .as_ref()
            .and_then(|a| a.party_role(&party))
            == Some(truce_model::agreement::PartyRole::Mediator);
        let Some(case) = self.state.cases.get_mut(&case_index) else {
            self.ignore(index, format!("no case reported at log index {case_index}"));
            return;
        };
        if party != case.detaining_party && !mediator {
            let why = format!(
                "only the detaining party {} or the mediator files steps of case {case_index}",
                case.detaining_party
            );
            self.ignore(index, why);
            return;
        }
        case.steps.push((index, c.action));
        case.status = match c.action {
            CaseAction::Report => CaseStatus::Reported,
            CaseAction::Acknowledge => CaseStatus::Acknowledged,
            CaseAction::Deny => CaseStatus::Denied,
            CaseAction::DiscloseLocation => CaseStatus::LocationDisclosed,
            CaseAction::GrantAccess => CaseStatus::AccessGranted,
            CaseAction::Release => CaseStatus::Released,
            CaseAction::Transfer => CaseStatus::Transferred,
        };
        let answered = matches!(c.action, CaseAction::Acknowledge | CaseAction::Deny)
            || matches!(c.action, CaseAction::Release | CaseAction::Transfer);
        let resolved = matches!(c.action, CaseAction::Release | CaseAction::Transfer);
        for d in self.state.deadlines.values_mut() {
            if d.status != state::DeadlineStatus::Pending {
                continue;
            }
            let hit = match d.obligation {
                state::Obligation::CaseAnswer { case } => case == case_index && answered,
                state::Obligation::CaseResolution { case } => case == case_index && resolved,
                _ => false,
            };
            if hit {
                d.status = state::DeadlineStatus::Met;
                d.evidence.push(index);
                self.timers.remove(&(d.due, Timer::Deadline(d.id.clone())));
            }
        }
    }
}

/// The engine's record of an agreement version.
fn agreement_rec(index: u64, a: &Agreement, geo: Option<&Geography>) -> AgreementRec {
    AgreementRec {
        index,
        version: a.version,
        title: a.title.clone(),
        effective: parse(&a.effective).unwrap_or(Timestamp::UNIX_EPOCH),
        parties: a.parties.iter().map(|p| (p.id.clone(), p.role)).collect(),
        rules: a.rules.clone(),
        procedure: a.procedure.clone(),
        fusion: a.fusion.clone(),
        zones_sha256: a.zones.sha256.clone(),
        layers: geo.map(Geography::layers).unwrap_or_default(),
        ratified: BTreeSet::new(),
        in_force_since: None,
    }
}

pub(crate) fn later(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.saturating_add(d).unwrap_or(t)
}

/// Parses an RFC 3339 UTC time the model has already checked.
pub(crate) fn parse(s: &str) -> Option<Timestamp> {
    truce_model::time::parse_utc("t", s).ok()
}

pub(crate) fn hours(h: u32) -> SignedDuration {
    SignedDuration::from_hours(i64::from(h))
}

pub(crate) fn days_(d: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(d))
}

/// The window a time with its precision stands for: `start..end` when an end is given,
/// otherwise `start` widened by the precision (an hour, a day, 7 days, 30 days; exact: none).
pub fn widen(span: &TimeSpan) -> (Timestamp, Timestamp) {
    let start = parse(&span.start).unwrap_or(Timestamp::UNIX_EPOCH);
    if let Some(end) = span.end.as_deref().and_then(parse) {
        return (start, end);
    }
    let width = match span.precision {
        TimePrecision::Exact => SignedDuration::ZERO,
        TimePrecision::Hour => SignedDuration::from_hours(1),
        TimePrecision::Day => SignedDuration::from_hours(24),
        TimePrecision::Week => SignedDuration::from_hours(24 * 7),
        TimePrecision::Month => SignedDuration::from_hours(24 * 30),
    };
    (start, start.saturating_add(width).unwrap_or(start))
}
