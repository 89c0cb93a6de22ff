//! Who may submit what, at a given point of the log.
//!
//! The registry is the part of the derived state admission needs: the agreement in force, the
//! parties, every member's current key, role and status, and who has ratified. It is a pure
//! function of the log prefix: [`Registry::apply`] each admitted entry in log order.

use crate::agreement::{Agreement, PartyRole};
use crate::bodies::{MemberRole, Membership, MembershipAction, PostureType};
use crate::entry::{Body, Entry, Kind};
use crate::ids::wire_name;
use crate::keys::{parse_public_key, prime_component};
use crate::refusal::{Code, Refusal};
use ed25519_dalek::VerifyingKey;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use truce_log::dsse::{Envelope, key_id};

/// Whether a member may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Active,
    Suspended,
    Removed,
}

/// A member as of the current log prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberState {
    pub id: String,
    pub party: String,
    pub role: MemberRole,
    pub key: VerifyingKey,
    pub key_id: String,
    pub status: MemberStatus,
    pub name: Option<String>,
    /// age X25519 recipient for sealed content, if the member has one.
    pub encryption_key: Option<String>,
}

/// The agreement in the log and its ratification.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementState {
    /// Log index of the agreement entry.
    pub index: u64,
    /// SHA-256 (hex) of its payload.
    pub payload_sha256: String,
    pub body: Agreement,
    pub zone_ids: BTreeSet<String>,
    /// Parties (and the mediator) that have ratified.
    pub ratified: BTreeSet<String>,
}

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    agreement: Option<AgreementState>,
    /// A logged amendment awaiting ratification by every party and the mediator.
    pending: Option<AgreementState>,
    /// Ids of the rules of every version in force so far (rulings may cite any).
    rule_ids: BTreeSet<String>,
    members: BTreeMap<String, MemberState>,
    keys: HashMap<String, String>,
    /// Parties that have suspended their participation.
    suspended: BTreeSet<String>,
    /// Key ids that were rotated away or removed: never registered again.
    retired: std::collections::HashSet<String>,
    /// The prime-order component of every key ever registered (current and retired): a new
    /// key must have its own, so that a torsion twin of a key is not another member's key.
    components: std::collections::HashSet<[u8; 32]>,
}

fn genesis_required() -> Refusal {
    refuse(
        Code::GenesisRequired,
        "the log is empty: its first entry must be the agreement, signed by a mediator administrator",
    )
}

fn refuse(code: crate::refusal::Code, detail: impl Into<String>) -> Refusal {
    Refusal::new(code, detail)
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn agreement(&self) -> Option<&AgreementState> {
        self.agreement.as_ref()
    }

    /// A logged amendment that is not yet ratified by every party and the mediator.
    pub fn pending_amendment(&self) -> Option<&AgreementState> {
        self.pending.as_ref()
    }

    /// Parties whose participation is suspended.
    pub fn suspended_parties(&self) -> &BTreeSet<String> {
        &self.suspended
    }

    pub fn members(&self) -> impl Iterator<Item = &MemberState> {
        self.members.values()
    }

    /// Parties (role party or mediator) whose ratification is still missing: of the
    /// amendment awaiting ratification if there is one, otherwise of the agreement.
    pub fn awaiting_ratification(&self) -> Vec<String> {
        match self.pending.as_ref().or(self.agreement.as_ref()) {
            None => vec![],
            Some(a) => a
                .body
                .parties
                .iter()
                .filter(|p| p.role != PartyRole::Observer && !a.ratified.contains(&p.id))
                .map(|p| p.id.clone())
                .collect(),
        }
    }

    /// The agreement is logged and every party and the mediator have ratified it (a pending
    /// amendment does not change that: the ratified version stays in force meanwhile).
    pub fn in_force(&self) -> bool {
        self.agreement.as_ref().is_some_and(|a| {
            a.body
                .parties
                .iter()
                .filter(|p| p.role != PartyRole::Observer)
                .all(|p| a.ratified.contains(&p.id))
        })
    }

    /// The member whose current key has the id `keyid`.
    fn member_by_key(&self, keyid: &str) -> Option<&MemberState> {
        self.keys.get(keyid).and_then(|id| self.members.get(id))
    }

    /// The public key an entry signed with `keyid` must verify under. For the first entry of
    /// the log (the agreement) the key comes from the agreement's own member list.
    pub fn signer_key(&self, entry: &Entry, keyid: &str) -> Result<VerifyingKey, Refusal> {
        if self.agreement.is_none() && entry.kind != Kind::Agreement {
            return Err(genesis_required());
        }
        if let Some(m) = self.member_by_key(keyid) {
            return Ok(m.key);
        }
        if self.agreement.is_none()
            && let Body::Agreement(a) = &entry.body
        {
            for m in &a.members {
                if let Ok(k) = parse_public_key("public_key", &m.public_key)
                    && key_id(&k) == keyid
                {
                    return Ok(k);
                }
            }
        }
        Err(refuse(
            Code::UnknownKey,
            format!(
                "key {keyid} is not registered to any member of this mechanism; register it with a membership entry signed by your party's administrator, or sign with your registered key"
            ),
        ))
    }

    /// Fills in the key ids an envelope left out (DSSE makes `keyid` an optional hint), so
    /// that the log stores the canonical form: the author's signature gets the key id of the
    /// author's current key (on an empty log, of the key the agreement lists for its author);
    /// a countersignature gets the key id of the active administrator of the mediator whose
    /// key it verifies under. Whether those keys may sign is still for [`Registry::check`].
    pub fn fill_key_ids(&self, entry: &Entry, envelope: &mut Envelope) -> Result<(), Refusal> {
        if envelope.signature().keyid.is_empty() {
            let key = match self.members.get(&entry.author) {
                Some(m) => Some(m.key),
                None if self.agreement.is_none() => match &entry.body {
                    Body::Agreement(a) => a
                        .members
                        .iter()
                        .find(|m| m.id == entry.author)
                        .and_then(|m| parse_public_key("public_key", &m.public_key).ok()),
                    _ => None,
                },
                None => None,
            };
            let key = key.ok_or_else(|| {
                refuse(Code::UnknownKey,
                    format!(
                        "the signature names no keyid, and the author `{}` is not a member with a registered key; sign with a registered key (its keyid may be left out)",
                        entry.author
                    ),
                )
            })?;
            envelope.set_key_id(0, key_id(&key));
        }
        for i in 1..envelope.signatures.len() {
            if !envelope.signatures[i].keyid.is_empty() {
                continue;
            }
            let mediator_admins = self.members.values().filter(|m| {
                m.role == MemberRole::Administrator
                    && m.status == MemberStatus::Active
                    && self
                        .agreement
                        .as_ref()
                        .and_then(|a| a.body.party(&m.party))
                        .is_some_and(|p| p.role == PartyRole::Mediator)
            });
            let key = mediator_admins
                .map(|m| m.key)
                .find(|k| envelope.signature_verifies(i, k))
                .ok_or_else(|| {
                    refuse(Code::UnknownKey,
                        format!(
                            "countersignature {i} names no keyid and verifies under no active administrator of the mediator"
                        ),
                    )
                })?;
            envelope.set_key_id(i, key_id(&key));
        }
        Ok(())
    }

    /// The keys an entry's envelope must verify under, in the order of its signatures: the
    /// author's ([`Registry::signer_key`]), then each countersigner's (a current member key;
    /// whether that member may countersign is [`Registry::check`]'s to say).
    pub fn envelope_keys(
        &self,
        entry: &Entry,
        envelope: &Envelope,
    ) -> Result<Vec<VerifyingKey>, Refusal> {
        let mut keys = vec![self.signer_key(entry, &envelope.signature().keyid)?];
        for s in envelope.countersignatures() {
            let key = self.member_by_key(&s.keyid)
                .map(|m| m.key)
                .ok_or_else(|| {
                    refuse(Code::UnknownKey,
                        format!(
                            "countersignature key {} is not registered to any member of this mechanism; a countersignature is made with the registered key of an administrator of the mediator",
                            s.keyid
                        ),
                    )
                })?;
            keys.push(key);
        }
        Ok(keys)
    }

    /// The checks that depend on the log so far. Every signature of the envelope must already
    /// have been verified under the keys [`Registry::envelope_keys`] gives: `keyid` is the
    /// author's, `countersigners` the key ids of the further signatures, in order.
    pub fn check(
        &self,
        entry: &Entry,
        keyid: &str,
        countersigners: &[&str],
    ) -> Result<(), Refusal> {
        let Some(agreement) = &self.agreement else {
            if !countersigners.is_empty() {
                return Err(refuse(
                    Code::CountersignatureRefused,
                    "the agreement that opens the log carries only its author's signature",
                ));
            }
            return self.check_genesis(entry, keyid);
        };
        let member = self.member_by_key(keyid).ok_or_else(|| {
            refuse(
                Code::UnknownKey,
                format!("key {keyid} is not a current member key"),
            )
        })?;
        if member.id != entry.author {
            return Err(refuse(
                Code::AuthorMismatch,
                format!(
                    "entry names author `{}` but is signed with the key of `{}`; a member signs only as itself",
                    entry.author, member.id
                ),
            ));
        }
        if member.status != MemberStatus::Active {
            return Err(refuse(
                Code::MemberInactive,
                format!(
                    "member `{}` is {}; ask your party's administrator to reinstate it",
                    member.id,
                    wire_name(&member.status)
                ),
            ));
        }
        let party = agreement.body.party(&member.party).ok_or_else(|| {
            refuse(
                Code::UnknownKey,
                format!("member's party `{}` is not in the agreement", member.party),
            )
        })?;
        check_role(entry.kind, party.role, member.role)?;
        if !self.in_force() && !matches!(entry.kind, Kind::Ratification | Kind::Membership) {
            return Err(refuse(
                Code::NotInForce,
                format!(
                    "the agreement is not in force yet: awaiting ratification by {}; only ratification and membership entries are accepted until then",
                    self.awaiting_ratification().join(", ")
                ),
            ));
        }
        let known_party = |field: &str, p: &str| {
            if agreement.body.party(p).is_some() {
                Ok(())
            } else {
                Err(Refusal::invalid(format!(
                    "{field}: `{p}` is not a party of the agreement"
                )))
            }
        };
        let known_zone = |field: &str, z: &str| {
            if agreement.zone_ids.contains(z) {
                Ok(())
            } else {
                Err(Refusal::invalid(format!(
                    "{field}: zone `{z}` is not in the agreement"
                )))
            }
        };
        if !countersigners.is_empty() && entry.kind != Kind::Membership {
            return Err(refuse(
                Code::CountersignatureRefused,
                format!(
                    "a {} entry carries only its author's signature; only membership entries are countersigned (by the mediator)",
                    entry.kind
                ),
            ));
        }
        match &entry.body {
            Body::Agreement(a) => self.check_amendment(agreement, a)?,
            Body::Ratification(r) => {
                let agreement = self.pending.as_ref().unwrap_or(agreement);
                if r.agreement_index != agreement.index
                    || r.agreement_sha256 != agreement.payload_sha256
                {
                    return Err(refuse(
                        Code::Conflict,
                        format!(
                            "ratification names agreement index {} / {}, but the agreement is at index {} with payload SHA-256 {}",
                            r.agreement_index,
                            r.agreement_sha256,
                            agreement.index,
                            agreement.payload_sha256
                        ),
                    ));
                }
                if agreement.ratified.contains(&member.party) {
                    return Err(refuse(
                        Code::Conflict,
                        format!(
                            "party `{}` has already ratified version {}",
                            member.party, agreement.body.version
                        ),
                    ));
                }
            }
            Body::Membership(m) => {
                self.check_membership(member, m)?;
                self.check_countersigners(agreement, party.role, m, countersigners)?;
            }
            Body::Report(r) => {
                for p in r.named_parties() {
                    known_party("body.perpetrator/target", p)?;
                }
            }
            Body::Notice(n) => {
                for a in &n.addressees {
                    known_party("body.addressees[]", a)?;
                }
                for z in &n.area.zones {
                    known_zone("body.area.zones[]", z)?;
                }
            }
            Body::Posture(p) => {
                let inspection = p.posture_type == PostureType::Inspection;
                if inspection == (party.role == PartyRole::Party) {
                    return Err(refuse(
                        Code::RoleNotAllowed,
                        "parties declare their own posture; inspections are filed by the mediator or observers",
                    ));
                }
                for z in &p.zones {
                    known_zone("body.zones[].zone", &z.zone)?;
                    known_party("body.zones[].party", &z.party)?;
                    if !inspection && z.party != member.party {
                        return Err(Refusal::invalid(format!(
                            "body.zones[].party: a declaration covers only the declaring party `{}`",
                            member.party
                        )));
                    }
                }
            }
            Body::Case(c) => {
                known_party("body.detaining_party", &c.detaining_party)?;
                if let Some(sealed) = &c.sealed {
                    let mediator = agreement
                        .body
                        .parties
                        .iter()
                        .find(|p| p.role == PartyRole::Mediator)
                        .map(|p| p.id.as_str());
                    let entitled = [
                        Some(member.party.as_str()),
                        Some(c.detaining_party.as_str()),
                        mediator,
                    ];
                    self.check_recipients(
                        "body.sealed.recipients",
                        &sealed.recipients,
                        &entitled,
                        Some(&entitled),
                    )?;
                }
            }
            Body::Ruling(r) => {
                if !self.rule_ids.contains(&r.rule) {
                    return Err(Refusal::invalid(format!(
                        "body.rule: `{}` is not a rule of the agreement",
                        r.rule
                    )));
                }
            }
            Body::Acknowledgement(a) => {
                if a.response == crate::bodies::Response::Escalate
                    && party.role != PartyRole::Mediator
                {
                    return Err(refuse(
                        Code::RoleNotAllowed,
                        "only the mediator escalates (response `escalate`); addressees answer",
                    ));
                }
            }
            Body::Participation(p) => {
                let suspended = self.suspended.contains(&member.party);
                let action = p.action;
                let ok = match action {
                    crate::bodies::ParticipationAction::Suspend => !suspended,
                    crate::bodies::ParticipationAction::Resume => suspended,
                };
                if !ok {
                    return Err(refuse(
                        Code::Conflict,
                        format!(
                            "party {} has {} its participation already",
                            member.party,
                            if suspended {
                                "suspended"
                            } else {
                                "not suspended"
                            }
                        ),
                    ));
                }
            }
            Body::Dispute(_) | Body::Sighting(_) | Body::Coverage(_) | Body::Attestation(_) => {}
        }
        if let Some(sealed) = entry.body.sealed_part() {
            // Need-to-know details: the author's own party and the mediator can always read
            // them; whom else they go to is the author's choice.
            let mediator = agreement
                .body
                .parties
                .iter()
                .find(|p| p.role == PartyRole::Mediator)
                .map(|p| p.id.as_str());
            self.check_recipients(
                "body.sealed.recipients",
                &sealed.recipients,
                &[Some(member.party.as_str()), mediator],
                None,
            )?;
        }
        Ok(())
    }

    /// Sealed content goes to active members with an encryption key: at least one of each
    /// `required` party (`None` entries are skipped), and, when `allowed` is given, no member of
    /// a party outside it.
    fn check_recipients(
        &self,
        field: &str,
        recipients: &[String],
        required: &[Option<&str>],
        allowed: Option<&[Option<&str>]>,
    ) -> Result<(), Refusal> {
        let mut seen = BTreeSet::new();
        for r in recipients {
            if !seen.insert(r.as_str()) {
                return Err(Refusal::invalid(format!("{field}: `{r}` is listed twice")));
            }
            let Some(m) = self.members.get(r) else {
                return Err(Refusal::invalid(format!("{field}: `{r}` is not a member")));
            };
            if m.status != MemberStatus::Active || m.encryption_key.is_none() {
                return Err(Refusal::invalid(format!(
                    "{field}: `{r}` is not an active member with an encryption key"
                )));
            }
            if allowed.is_some_and(|a| !a.contains(&Some(m.party.as_str()))) {
                return Err(Refusal::invalid(format!(
                    "{field}: `{r}` belongs to party {}, which is not entitled to this content",
                    m.party
                )));
            }
        }
        for p in required.iter().flatten() {
            if !recipients
                .iter()
                .any(|r| self.members.get(r).is_some_and(|m| m.party == *p))
            {
                return Err(Refusal::invalid(format!(
                    "{field}: no member of party {p}, which must be able to read this content"
                )));
            }
        }
        Ok(())
    }

    /// An amendment: the next version, the same parties and member declarations, while no
    /// other amendment awaits ratification.
    fn check_amendment(&self, current: &AgreementState, a: &Agreement) -> Result<(), Refusal> {
        if let Some(p) = &self.pending {
            return Err(refuse(
                Code::Conflict,
                format!(
                    "version {} (entry {}) awaits ratification by {}; one amendment at a time",
                    p.body.version,
                    p.index,
                    self.awaiting_ratification().join(", ")
                ),
            ));
        }
        let next = current.body.version + 1;
        if a.version != next {
            return Err(refuse(
                Code::Conflict,
                format!(
                    "body.version is {}; the agreement in force is version {}, so an amendment is version {next}",
                    a.version, current.body.version
                ),
            ));
        }
        if a.parties != current.body.parties {
            return Err(Refusal::invalid(
                "body.parties: an amendment keeps the parties of the agreement unchanged (ids, names and roles)",
            ));
        }
        if a.members != current.body.members {
            return Err(Refusal::invalid(
                "body.members: an amendment restates the agreement's member declarations unchanged (copy them from GET /v1/mechanism); members change through membership entries",
            ));
        }
        Ok(())
    }

    fn check_genesis(&self, entry: &Entry, keyid: &str) -> Result<(), Refusal> {
        let Body::Agreement(a) = &entry.body else {
            return Err(genesis_required());
        };
        let signer = a.members.iter().find(|m| {
            parse_public_key("public_key", &m.public_key).is_ok_and(|k| key_id(&k) == keyid)
        });
        let Some(signer) = signer else {
            return Err(refuse(
                Code::UnknownKey,
                format!("key {keyid} is not a member key in the agreement"),
            ));
        };
        if signer.id != entry.author {
            return Err(refuse(
                Code::AuthorMismatch,
                format!(
                    "entry names author `{}` but is signed with the key of `{}`",
                    entry.author, signer.id
                ),
            ));
        }
        let role = a.party(&signer.party).map(|p| p.role);
        if role != Some(PartyRole::Mediator) || signer.role != MemberRole::Administrator {
            return Err(refuse(
                Code::RoleNotAllowed,
                "the agreement is logged by an administrator of the mediator",
            ));
        }
        Ok(())
    }

    /// A membership entry's countersignatures: each by an active administrator of the
    /// mediator, and at least one when the agreement in force requires it for the action
    /// (the mediator's own entries need none).
    fn check_countersigners(
        &self,
        agreement: &AgreementState,
        author_role: PartyRole,
        m: &Membership,
        countersigners: &[&str],
    ) -> Result<(), Refusal> {
        for keyid in countersigners {
            let Some(c) = self.member_by_key(keyid) else {
                return Err(refuse(
                    Code::UnknownKey,
                    format!("countersignature key {keyid} is not a current member key"),
                ));
            };
            let mediator = agreement
                .body
                .party(&c.party)
                .is_some_and(|p| p.role == PartyRole::Mediator);
            if !mediator || c.role != MemberRole::Administrator {
                return Err(refuse(
                    Code::CountersignatureRefused,
                    format!(
                        "`{}` ({} of `{}`) may not countersign: membership entries are countersigned by an administrator of the mediator",
                        c.id,
                        wire_name(&c.role),
                        c.party
                    ),
                ));
            }
            if c.status != MemberStatus::Active {
                return Err(refuse(
                    Code::CountersignatureRefused,
                    format!(
                        "countersigner `{}` is {}; an active administrator of the mediator must countersign",
                        c.id,
                        wire_name(&c.status)
                    ),
                ));
            }
        }
        if countersigners.is_empty()
            && author_role != PartyRole::Mediator
            && agreement.body.membership.needs_countersignature(m.action)
        {
            let mediator = agreement
                .body
                .parties
                .iter()
                .find(|p| p.role == PartyRole::Mediator)
                .map_or("the mediator", |p| p.id.as_str());
            return Err(refuse(
                Code::CountersignatureRequired,
                format!(
                    "the agreement requires the mediator's countersignature to {} a member: have an administrator of {mediator} add its signature to this envelope (`truce countersign`), then submit it",
                    wire_name(&m.action)
                ),
            ));
        }
        Ok(())
    }

    fn check_membership(&self, author: &MemberState, m: &Membership) -> Result<(), Refusal> {
        let target = self.members.get(&m.member);
        let transition_error =
            |what: &str| refuse(Code::Conflict, format!("member `{}` {what}", m.member));
        match m.action {
            MembershipAction::Add => {
                if target.is_some() {
                    return Err(transition_error(
                        "already exists; member ids are never reused",
                    ));
                }
            }
            _ => {
                let Some(t) = target else {
                    return Err(transition_error("does not exist"));
                };
                if t.party != author.party {
                    return Err(refuse(
                        Code::RoleNotAllowed,
                        format!(
                            "member `{}` belongs to `{}`; administrators manage only their own party",
                            t.id, t.party
                        ),
                    ));
                }
                let ok = match m.action {
                    MembershipAction::Rotate | MembershipAction::Suspend => {
                        t.status == MemberStatus::Active
                    }
                    MembershipAction::Reinstate => t.status == MemberStatus::Suspended,
                    MembershipAction::Remove => t.status != MemberStatus::Removed,
                    MembershipAction::Add => false,
                };
                if !ok {
                    return Err(transition_error(&format!(
                        "is {}; cannot {} it",
                        wire_name(&t.status),
                        wire_name(&m.action)
                    )));
                }
                if t.id == author.id
                    && matches!(
                        m.action,
                        MembershipAction::Suspend | MembershipAction::Remove
                    )
                {
                    return Err(refuse(
                        Code::Conflict,
                        "an administrator cannot suspend or remove itself; ask another administrator of the party",
                    ));
                }
            }
        }
        if let Some(k) = &m.public_key {
            let key = parse_public_key("body.public_key", k)?;
            let kid = key_id(&key);
            if self.keys.contains_key(&kid)
                || self.retired.contains(&kid)
                || self.components.contains(&prime_component(&key))
            {
                return Err(refuse(
                    Code::Conflict,
                    "body.public_key is already some member's key; every member has its own",
                ));
            }
        }
        Ok(())
    }

    /// Applies an admitted entry (in log order). `zone_ids` are the ids of the zones document
    /// for an agreement entry.
    pub fn apply(
        &mut self,
        index: u64,
        entry: &Entry,
        payload_sha256: &str,
        zone_ids: BTreeSet<String>,
    ) {
        match &entry.body {
            Body::Agreement(a) if self.agreement.is_none() => {
                for m in &a.members {
                    if let Ok(key) = parse_public_key("public_key", &m.public_key) {
                        self.insert_member(MemberState {
                            id: m.id.clone(),
                            party: m.party.clone(),
                            role: m.role,
                            key_id: key_id(&key),
                            key,
                            status: MemberStatus::Active,
                            name: m.name.clone(),
                            encryption_key: m.encryption_key.clone(),
                        });
                    }
                }
                self.rule_ids = a.rules.iter().map(|r| r.id.clone()).collect();
                self.agreement = Some(AgreementState {
                    index,
                    payload_sha256: payload_sha256.to_owned(),
                    body: (**a).clone(),
                    zone_ids,
                    ratified: BTreeSet::new(),
                });
            }
            Body::Agreement(a) => {
                self.pending = Some(AgreementState {
                    index,
                    payload_sha256: payload_sha256.to_owned(),
                    body: (**a).clone(),
                    zone_ids,
                    ratified: BTreeSet::new(),
                });
            }
            Body::Ratification(_) => {
                let party = self.members.get(&entry.author).map(|m| m.party.clone());
                let Some(p) = party else {
                    return;
                };
                if let Some(pending) = &mut self.pending {
                    pending.ratified.insert(p);
                    let all = pending
                        .body
                        .parties
                        .iter()
                        .filter(|x| x.role != PartyRole::Observer)
                        .all(|x| pending.ratified.contains(&x.id));
                    if all {
                        self.rule_ids
                            .extend(pending.body.rules.iter().map(|r| r.id.clone()));
                        self.agreement = self.pending.take();
                    }
                } else if let Some(a) = &mut self.agreement {
                    a.ratified.insert(p);
                }
            }
            Body::Membership(m) => self.apply_membership(&entry.author, m),
            Body::Participation(p) => {
                if let Some(party) = self.members.get(&entry.author).map(|m| m.party.clone()) {
                    match p.action {
                        crate::bodies::ParticipationAction::Suspend => self.suspended.insert(party),
                        crate::bodies::ParticipationAction::Resume => self.suspended.remove(&party),
                    };
                }
            }
            // No registry effect (their rows in `entry_kinds!` say `registry: false`); listed,
            // not `_`, so that a new kind is a decision here too.
            Body::Report(_)
            | Body::Notice(_)
            | Body::Acknowledgement(_)
            | Body::Dispute(_)
            | Body::Ruling(_)
            | Body::Posture(_)
            | Body::Case(_)
            | Body::Sighting(_)
            | Body::Coverage(_)
            | Body::Attestation(_) => {}
        }
    }

    fn insert_member(&mut self, m: MemberState) {
        self.components.insert(prime_component(&m.key));
        self.keys.insert(m.key_id.clone(), m.id.clone());
        self.members.insert(m.id.clone(), m);
    }

    fn apply_membership(&mut self, author: &str, m: &Membership) {
        let Some(party) = self.members.get(author).map(|a| a.party.clone()) else {
            return;
        };
        let key = m
            .public_key
            .as_deref()
            .and_then(|k| parse_public_key("k", k).ok());
        match (m.action, key) {
            (MembershipAction::Add, Some(key)) => self.insert_member(MemberState {
                id: m.member.clone(),
                party,
                role: m.role.unwrap_or(MemberRole::Officer),
                key_id: key_id(&key),
                key,
                status: MemberStatus::Active,
                name: m.name.clone(),
                encryption_key: m.encryption_key.clone(),
            }),
            (MembershipAction::Rotate, Some(key)) => {
                if let Some(t) = self.members.get_mut(&m.member) {
                    self.keys.remove(&t.key_id);
                    self.retired.insert(t.key_id.clone());
                    t.key = key;
                    t.key_id = key_id(&key);
                    self.components.insert(prime_component(&key));
                    t.encryption_key = m.encryption_key.clone();
                    self.keys.insert(t.key_id.clone(), t.id.clone());
                }
            }
            (action, _) => {
                if let Some(t) = self.members.get_mut(&m.member) {
                    t.status = match action {
                        MembershipAction::Suspend => MemberStatus::Suspended,
                        MembershipAction::Reinstate => MemberStatus::Active,
                        MembershipAction::Remove => MemberStatus::Removed,
                        _ => t.status,
                    };
                    if t.status == MemberStatus::Removed {
                        self.keys.remove(&t.key_id);
                        self.retired.insert(t.key_id.clone());
                    }
                }
            }
        }
    }
}

/// Which member roles of which party roles may submit each kind.
pub fn check_role(kind: Kind, party: PartyRole, member: MemberRole) -> Result<(), Refusal> {
    use MemberRole::*;
    use PartyRole::*;
    let ok = match kind {
        Kind::Agreement => party == Mediator && member == Administrator,
        Kind::Ratification => party != Observer && member == Administrator,
        Kind::Membership => member == Administrator,
        Kind::Report | Kind::Posture | Kind::Case | Kind::Sighting | Kind::Coverage => {
            member == Officer
        }
        Kind::Notice | Kind::Dispute => party == Party && member == Officer,
        Kind::Acknowledgement | Kind::Attestation => party != Observer && member == Officer,
        Kind::Participation => party != Mediator && member == Administrator,
        Kind::Ruling => party == Mediator && member == Officer,
    };
    if ok {
        Ok(())
    } else {
        Err(refuse(
            Code::RoleNotAllowed,
            format!(
                "members with role `{}` of a party with role `{}` may not submit `{kind}` entries (see docs/entries.md, \"Who may submit what\")",
                wire_name(&member),
                wire_name(&party)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::build_payload;
    use base64::Engine as _;
    use ed25519_dalek::SigningKey;
    use serde_json::json;

    const ORIGIN: &str = "example.org/m";

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn b64(k: &SigningKey) -> String {
        base64::engine::general_purpose::STANDARD.encode(k.verifying_key().as_bytes())
    }

    fn agreement() -> serde_json::Value {
        json!({
            "format": "truce-agreement/1", "title": "t", "version": 1, "effective": "2026-01-01T00:00:00Z",
            "parties": [{"id": "AA", "name": "A", "role": "party"}, {"id": "BB", "name": "B", "role": "party"},
                        {"id": "MM", "name": "M", "role": "mediator"}],
            "members": [
                {"id": "aa.admin", "party": "AA", "role": "administrator", "public_key": b64(&key(1))},
                {"id": "aa.ops", "party": "AA", "role": "officer", "public_key": b64(&key(2))},
                {"id": "bb.admin", "party": "BB", "role": "administrator", "public_key": b64(&key(3))},
                {"id": "mm.admin", "party": "MM", "role": "administrator", "public_key": b64(&key(4))},
            ],
            "zones": {"sha256": "0".repeat(64), "size": 1, "media_type": "application/geo+json"},
            "rules": []
        })
    }

    fn entry(kind: Kind, author: &str, body: serde_json::Value) -> Entry {
        let created = "2026-06-01T00:00:00Z".parse().unwrap();
        Entry::parse(&build_payload(ORIGIN, kind, author, created, &body)).unwrap()
    }

    fn kid(n: u8) -> String {
        key_id(&key(n).verifying_key())
    }

    fn genesis() -> Registry {
        let mut r = Registry::new();
        let a = entry(Kind::Agreement, "mm.admin", agreement());
        r.check(&a, &kid(4), &[]).unwrap();
        r.apply(0, &a, &"ab".repeat(32), BTreeSet::new());
        r
    }

    #[test]
    fn genesis_must_be_the_agreement_by_a_mediator_administrator() {
        let r = Registry::new();
        let a = entry(Kind::Agreement, "aa.admin", agreement());
        assert_eq!(
            r.check(&a, &kid(1), &[]).unwrap_err().code,
            "role-not-allowed"
        );
        let a = entry(Kind::Agreement, "aa.admin", agreement());
        assert_eq!(
            r.check(&a, &kid(4), &[]).unwrap_err().code,
            "author-mismatch"
        );
        assert_eq!(r.signer_key(&a, &kid(9)).unwrap_err().code, "unknown-key");
        let ratify = entry(
            Kind::Ratification,
            "aa.admin",
            json!({"agreement_index": 0, "agreement_sha256": "ab".repeat(32)}),
        );
        assert_eq!(
            r.signer_key(&ratify, &kid(1)).unwrap_err().code,
            "genesis-required"
        );
    }

    #[test]
    fn in_force_after_every_party_and_the_mediator_ratify() {
        let mut r = genesis();
        assert_eq!(r.awaiting_ratification(), vec!["AA", "BB", "MM"]);
        let report_body = json!({"event_type": "overflight", "time": {"start": "2026-05-01T00:00:00Z", "precision": "day"},
            "location": {"point": [35.8, 33.1], "precision_m": 1000}, "perpetrator": "BB", "narrative": "n",
            "grading": {"source_reliability": "C", "information_credibility": 3}});
        let report = entry(Kind::Report, "aa.ops", report_body.clone());
        assert_eq!(
            r.check(&report, &kid(2), &[]).unwrap_err().code,
            "not-in-force"
        );
        let wrong = entry(
            Kind::Ratification,
            "aa.admin",
            json!({"agreement_index": 0, "agreement_sha256": "cd".repeat(32)}),
        );
        assert_eq!(r.check(&wrong, &kid(1), &[]).unwrap_err().code, "conflict");
        for (i, (m, k)) in [("aa.admin", 1), ("bb.admin", 3), ("mm.admin", 4)]
            .into_iter()
            .enumerate()
        {
            let e = entry(
                Kind::Ratification,
                m,
                json!({"agreement_index": 0, "agreement_sha256": "ab".repeat(32)}),
            );
            r.check(&e, &kid(k), &[]).unwrap();
            r.apply(1 + i as u64, &e, "x", BTreeSet::new());
            assert_eq!(
                r.check(&e, &kid(k), &[]).unwrap_err().code,
                "conflict",
                "ratifying twice"
            );
        }
        assert!(r.in_force());
        r.check(&report, &kid(2), &[]).unwrap();
        let mut unknown_party = report_body;
        unknown_party["perpetrator"] = "ZZ".into();
        let e = entry(Kind::Report, "aa.ops", unknown_party);
        assert_eq!(r.check(&e, &kid(2), &[]).unwrap_err().code, "invalid-entry");
    }

    /// The table "Who may submit what" in docs/entries.md is `check_role`, cell by cell (a
    /// cell that starts with ✓, or says "first entry only", allows; "—" refuses).
    #[test]
    fn the_documented_role_table_is_the_code() {
        let doc = include_str!("../../../docs/entries.md");
        let table = doc
            .split("## Who may submit what")
            .nth(1)
            .and_then(|s| s.split("\n\n").find(|p| p.starts_with("| kind |")))
            .expect("the table in docs/entries.md");
        let columns = [
            (PartyRole::Party, MemberRole::Officer),
            (PartyRole::Party, MemberRole::Administrator),
            (PartyRole::Mediator, MemberRole::Officer),
            (PartyRole::Mediator, MemberRole::Administrator),
            (PartyRole::Observer, MemberRole::Officer),
            (PartyRole::Observer, MemberRole::Administrator),
        ];
        let mut kinds = BTreeSet::new();
        for row in table.lines().skip(2) {
            let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
            let kind = Kind::parse(cells[0].trim_matches('`')).expect(cells[0]);
            kinds.insert(kind);
            for ((party, member), cell) in columns.iter().zip(&cells[1..]) {
                let documented = cell.starts_with('✓') || *cell == "first entry only";
                assert!(documented || *cell == "—", "unreadable cell {cell:?}");
                assert_eq!(
                    check_role(kind, *party, *member).is_ok(),
                    documented,
                    "{kind} by a {member:?} of a {party:?}: docs say {cell:?}"
                );
            }
            for party in [PartyRole::Party, PartyRole::Mediator, PartyRole::Observer] {
                assert!(check_role(kind, party, MemberRole::Auditor).is_err());
            }
        }
        assert_eq!(kinds.len(), Kind::ALL.len(), "every kind has its row");
    }

    #[test]
    fn membership_countersignatures_follow_the_agreement() {
        let mut body = agreement();
        body["membership"] = json!({"countersign": ["add", "reinstate"]});
        body["members"].as_array_mut().unwrap().extend([
            json!({"id": "mm.ops", "party": "MM", "role": "officer", "public_key": b64(&key(5))}),
            json!({"id": "mm.admin2", "party": "MM", "role": "administrator", "public_key": b64(&key(6))}),
        ]);
        let mut r = Registry::new();
        let a = entry(Kind::Agreement, "mm.admin", body);
        r.check(&a, &kid(4), &[]).unwrap();
        r.apply(0, &a, &"ab".repeat(32), BTreeSet::new());
        let by_aa = |b: serde_json::Value| entry(Kind::Membership, "aa.admin", b);
        let add = by_aa(
            json!({"action": "add", "member": "aa.desk", "role": "officer", "public_key": b64(&key(10))}),
        );
        let code = |r: &Registry, e: &Entry, counter: &[&str]| {
            r.check(e, &kid(1), counter).err().map(|x| x.code)
        };
        assert_eq!(code(&r, &add, &[]), Some("countersignature-required"));
        // Only an administrator of the mediator countersigns: not another party's, not a
        // mediator officer, not an unknown key.
        assert_eq!(code(&r, &add, &[&kid(3)]), Some("countersignature-refused"));
        assert_eq!(code(&r, &add, &[&kid(5)]), Some("countersignature-refused"));
        assert_eq!(code(&r, &add, &[&kid(42)]), Some("unknown-key"));
        assert_eq!(code(&r, &add, &[&kid(4)]), None);
        assert_eq!(code(&r, &add, &[&kid(4), &kid(6)]), None);
        // One bad countersigner spoils the entry even beside a good one.
        assert_eq!(
            code(&r, &add, &[&kid(4), &kid(5)]),
            Some("countersignature-refused")
        );
        r.apply(1, &add, "x", BTreeSet::new());
        // Suspension is not on the agreement's list: the party acts alone.
        let suspend = by_aa(json!({"action": "suspend", "member": "aa.desk"}));
        assert_eq!(code(&r, &suspend, &[]), None);
        r.apply(2, &suspend, "x", BTreeSet::new());
        let reinstate = by_aa(json!({"action": "reinstate", "member": "aa.desk"}));
        assert_eq!(code(&r, &reinstate, &[]), Some("countersignature-required"));
        // A suspended mediator administrator cannot countersign.
        let suspend_admin2 = entry(
            Kind::Membership,
            "mm.admin",
            json!({"action": "suspend", "member": "mm.admin2"}),
        );
        r.check(&suspend_admin2, &kid(4), &[]).unwrap();
        r.apply(3, &suspend_admin2, "x", BTreeSet::new());
        assert_eq!(
            code(&r, &reinstate, &[&kid(6)]),
            Some("countersignature-refused")
        );
        assert_eq!(code(&r, &reinstate, &[&kid(4)]), None);
        // The mediator's own membership entries need no countersignature.
        let own = entry(
            Kind::Membership,
            "mm.admin",
            json!({"action": "add", "member": "mm.desk", "role": "officer", "public_key": b64(&key(11))}),
        );
        r.check(&own, &kid(4), &[]).unwrap();
        // Nothing but membership entries is countersigned.
        let ratify = entry(
            Kind::Ratification,
            "aa.admin",
            json!({"agreement_index": 0, "agreement_sha256": "ab".repeat(32)}),
        );
        assert_eq!(
            r.check(&ratify, &kid(1), &[&kid(4)]).unwrap_err().code,
            "countersignature-refused"
        );
        r.check(&ratify, &kid(1), &[]).unwrap();
        // Nor is the agreement that opens a log.
        let fresh = Registry::new();
        assert_eq!(
            fresh.check(&a, &kid(4), &[&kid(6)]).unwrap_err().code,
            "countersignature-refused"
        );
    }

    #[test]
    fn an_agreement_lists_each_countersigned_action_once() {
        let mut body = agreement();
        body["membership"] = json!({"countersign": ["add", "add"]});
        let created = "2026-06-01T00:00:00Z".parse().unwrap();
        let err = Entry::parse(&build_payload(
            ORIGIN,
            Kind::Agreement,
            "mm.admin",
            created,
            &body,
        ))
        .unwrap_err();
        assert!(
            err.detail.contains("body.membership.countersign[1]"),
            "{}",
            err.detail
        );
        body["membership"] = json!({"countersign": ["promote"]});
        assert!(
            Entry::parse(&build_payload(
                ORIGIN,
                Kind::Agreement,
                "mm.admin",
                created,
                &body
            ))
            .is_err()
        );
    }

    /// Every key plus each of the seven non-trivial points of order 2, 4 or 8 (the key's
    /// "torsion twins"), as standard base64.
    fn torsion_twins(k: &SigningKey) -> Vec<String> {
        let point = k.verifying_key().to_edwards();
        curve25519_dalek::constants::EIGHT_TORSION[1..]
            .iter()
            .map(|t| {
                base64::engine::general_purpose::STANDARD.encode((point + t).compress().as_bytes())
            })
            .collect()
    }

    /// Why an entry is refused, whether by its own checks or by the registry's.
    fn refusal(r: &Registry, kind: Kind, author: &str, body: &serde_json::Value) -> Refusal {
        let payload = build_payload(
            ORIGIN,
            kind,
            author,
            "2026-06-01T00:00:00Z".parse().unwrap(),
            body,
        );
        match Entry::parse(&payload) {
            Err(e) => e,
            Ok(e) => {
                let signer = r
                    .members()
                    .find(|m| m.id == author)
                    .map(|m| m.key_id.clone())
                    .unwrap_or_else(|| kid(4));
                r.check(&e, &signer, &[]).unwrap_err()
            }
        }
    }

    #[test]
    fn torsion_twins_of_a_key_regression() {
        let mut r = genesis();
        // A twin of a current member's key, for every small-order offset: refused as a key,
        // so one secret cannot act as two members.
        let twins = torsion_twins(&key(1));
        assert_eq!(twins.len(), 7);
        for (i, twin) in twins.iter().enumerate() {
            assert_ne!(twin, &b64(&key(1)));
            let add = json!({"action": "add", "member": format!("aa.twin{i}"), "role": "officer", "public_key": twin});
            let err = refusal(&r, Kind::Membership, "aa.admin", &add);
            assert!(
                err.detail.contains("small-order component"),
                "offset {i}: {}",
                err.detail
            );
        }
        // A key rotated away cannot come back as its twin.
        let m = |body: serde_json::Value| entry(Kind::Membership, "aa.admin", body);
        let add = m(
            json!({"action": "add", "member": "aa.desk", "role": "officer", "public_key": b64(&key(10))}),
        );
        r.check(&add, &kid(1), &[]).unwrap();
        r.apply(1, &add, "x", BTreeSet::new());
        let rotate =
            m(json!({"action": "rotate", "member": "aa.desk", "public_key": b64(&key(11))}));
        r.check(&rotate, &kid(1), &[]).unwrap();
        r.apply(2, &rotate, "x", BTreeSet::new());
        for (i, twin) in torsion_twins(&key(10)).iter().enumerate() {
            let back = json!({"action": "rotate", "member": "aa.desk", "public_key": twin});
            let err = refusal(&r, Kind::Membership, "aa.admin", &back);
            assert!(err.detail.contains("small-order component"), "offset {i}");
        }
        // The agreement itself refuses a member whose key is another's twin.
        let mut a = agreement();
        a["members"][1]["public_key"] = json!(torsion_twins(&key(1))[3]);
        let err = refusal(&Registry::default(), Kind::Agreement, "mm.admin", &a);
        assert!(
            err.detail.contains("small-order component"),
            "{}",
            err.detail
        );
    }

    #[test]
    fn keys_are_unique_by_their_prime_order_component() {
        let k = key(7).verifying_key();
        assert_eq!(
            crate::keys::prime_component(&k),
            crate::keys::prime_component(&k)
        );
        for twin in torsion_twins(&key(7)) {
            let raw: [u8; 32] = base64::engine::general_purpose::STANDARD
                .decode(&twin)
                .unwrap()
                .try_into()
                .unwrap();
            let twin = VerifyingKey::from_bytes(&raw).unwrap();
            assert_ne!(key_id(&twin), key_id(&k), "another key id");
            assert_eq!(
                crate::keys::prime_component(&twin),
                crate::keys::prime_component(&k),
                "the same secret's component"
            );
        }
        assert_ne!(
            crate::keys::prime_component(&k),
            crate::keys::prime_component(&key(8).verifying_key())
        );
    }

    #[test]
    fn non_canonical_key_encodings_are_refused() {
        // y + p for the points whose y coordinate is below 19 (the only ones with a second,
        // non-canonical encoding that fits in 255 bits).
        let p_minus: [u8; 32] = {
            let mut b = [0xffu8; 32];
            b[0] = 0xed;
            b[31] = 0x7f;
            b
        };
        for y in 0u8..19 {
            let mut b = p_minus;
            // p + y, little-endian: p ends in 0xed; adding y < 19 does not carry.
            b[0] = 0xed + y;
            let text = base64::engine::general_purpose::STANDARD.encode(b);
            assert!(
                crate::keys::parse_public_key("k", &text).is_err(),
                "y = {y}"
            );
        }
    }

    #[test]
    fn membership_transitions_and_retired_keys() {
        let mut r = genesis();
        let m = |body: serde_json::Value| entry(Kind::Membership, "aa.admin", body);
        let add = m(
            json!({"action": "add", "member": "aa.desk", "role": "officer", "public_key": b64(&key(10))}),
        );
        r.check(&add, &kid(1), &[]).unwrap();
        r.apply(1, &add, "x", BTreeSet::new());
        assert_eq!(
            r.check(&add, &kid(1), &[]).unwrap_err().code,
            "conflict",
            "ids are never reused"
        );
        let other_party = m(json!({"action": "suspend", "member": "bb.admin"}));
        assert_eq!(
            r.check(&other_party, &kid(1), &[]).unwrap_err().code,
            "role-not-allowed"
        );
        let self_remove = m(json!({"action": "remove", "member": "aa.admin"}));
        assert_eq!(
            r.check(&self_remove, &kid(1), &[]).unwrap_err().code,
            "conflict"
        );
        let reinstate_active = m(json!({"action": "reinstate", "member": "aa.desk"}));
        assert!(
            r.check(&reinstate_active, &kid(1), &[])
                .unwrap_err()
                .detail
                .contains("is active; cannot reinstate")
        );
        let rotate =
            m(json!({"action": "rotate", "member": "aa.desk", "public_key": b64(&key(11))}));
        r.check(&rotate, &kid(1), &[]).unwrap();
        r.apply(2, &rotate, "x", BTreeSet::new());
        assert!(
            r.signer_key(&add, &kid(10)).is_err(),
            "the old key no longer signs"
        );
        let reuse = m(
            json!({"action": "add", "member": "aa.desk2", "role": "officer", "public_key": b64(&key(10))}),
        );
        assert_eq!(
            r.check(&reuse, &kid(1), &[]).unwrap_err().code,
            "conflict",
            "a retired key is never registered again"
        );
        let by_officer = entry(
            Kind::Membership,
            "aa.ops",
            json!({"action": "suspend", "member": "aa.desk"}),
        );
        assert_eq!(
            r.check(&by_officer, &kid(2), &[]).unwrap_err().code,
            "role-not-allowed"
        );
    }
}
