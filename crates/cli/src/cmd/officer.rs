//! The entries officers file by hand: disputes and rulings, notices and their answers,
//! ratifications, attestations, participation, civilian cases; and opening sealed parts.

use crate::cmd::submit::{SignArgs, submit_signed};
use crate::{connect, print};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use truce_client::{client, deconflict, keys, submit};
use truce_model::bodies::{
    Acknowledgement, Attestation, Case, CaseAction, Conditions, Dispute, Notice, NoticeAction,
    Participation, Ratification, Response, Ruling,
};
use truce_model::entry::Body;

#[derive(Args)]
pub(crate) struct DisputeArgs {
    #[command(flatten)]
    pub sign: SignArgs,
    /// The finding's id.
    pub finding: String,
    /// Why the finding is wrong.
    #[arg(long)]
    pub reasons: String,
    /// SHA-256 of evidence uploaded with `truce blob` (repeatable).
    #[arg(long)]
    pub evidence: Vec<String>,
}

#[derive(Args)]
pub(crate) struct RuleArgs {
    /// Where and as whom (a mediator officer) to submit.
    #[command(flatten)]
    pub sign: SignArgs,
    /// The finding's id.
    pub finding: String,
    /// upheld or dismissed.
    #[arg(long)]
    pub decision: String,
    #[arg(long)]
    pub reasons: String,
}

#[derive(Args)]
pub(crate) struct NotifyArgs {
    #[command(flatten)]
    pub sign: SignArgs,
    /// security_operation, troop_movement, exercise, flight, humanitarian_convoy, evacuation.
    #[arg(long)]
    pub activity: String,
    /// Zone ids of the area (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub zones: Vec<String>,
    /// A GeoJSON file with the area (Polygon or MultiPolygon, or a Feature holding one).
    #[arg(long)]
    pub area: Option<PathBuf>,
    /// Start of the window, RFC 3339 UTC.
    #[arg(long)]
    pub start: String,
    /// End of the window, RFC 3339 UTC.
    #[arg(long)]
    pub end: String,
    /// Forces involved, category=count (repeatable), e.g. --forces tanks=10.
    #[arg(long)]
    pub forces: Vec<String>,
    /// What the activity is for (every addressee reads it).
    #[arg(long)]
    pub purpose: String,
    /// The parties it is addressed to (comma-separated), e.g. IL,US.
    #[arg(long = "to", value_delimiter = ',', required = true)]
    pub addressees: Vec<String>,
    /// Replace your notice at this log index with this one (its answers are asked again).
    #[arg(long, conflicts_with = "withdraw")]
    pub amend: Option<u64>,
    /// Withdraw your notice at this log index (the other arguments restate it).
    #[arg(long)]
    pub withdraw: Option<u64>,
}

#[derive(Args)]
pub(crate) struct RatifyArgs {
    #[command(flatten)]
    pub sign: SignArgs,
    /// The statement logged with the ratification (default: "<PARTY> ratifies version N").
    #[arg(long)]
    pub statement: Option<String>,
}

#[derive(Args)]
pub(crate) struct AckArgs {
    #[command(flatten)]
    pub sign: SignArgs,
    /// The notice's log index.
    pub notice: u64,
    /// Only confirm receipt; answer later.
    #[arg(long, conflicts_with_all = ["zones", "area", "start", "end", "cap"])]
    pub received: bool,
    /// Condition: only in these zones (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub zones: Vec<String>,
    /// Condition: only in this GeoJSON area.
    #[arg(long)]
    pub area: Option<PathBuf>,
    /// Condition: not before (RFC 3339 UTC; with --end).
    #[arg(long, requires = "end")]
    pub start: Option<String>,
    /// Condition: not after (RFC 3339 UTC; with --start).
    #[arg(long, requires = "start")]
    pub end: Option<String>,
    /// Condition: at most this many, category=count (repeatable), e.g. --cap tanks=10.
    #[arg(long)]
    pub cap: Vec<String>,
    /// Why (optional; every member reads it).
    #[arg(long)]
    pub reasons: Option<String>,
}

#[derive(Args)]
pub(crate) struct ReasonArgs {
    #[command(flatten)]
    pub sign: SignArgs,
    /// The notice's log index.
    pub notice: u64,
    #[arg(long)]
    pub reasons: String,
}

#[derive(Args)]
pub(crate) struct AttestArgs {
    #[command(flatten)]
    pub sign: SignArgs,
    /// Start of the period, RFC 3339 UTC.
    #[arg(long)]
    pub from: String,
    /// End of the period (past), RFC 3339 UTC.
    #[arg(long)]
    pub to: String,
    #[arg(long, default_value = "No significant incidents in the period.")]
    pub statement: String,
}

#[derive(Args)]
pub(crate) struct ParticipationArgs {
    #[command(flatten)]
    pub sign: SignArgs,
    /// suspend or resume.
    #[arg(value_parser = ["suspend", "resume"])]
    pub action: String,
    /// Why (every member reads it).
    #[arg(long)]
    pub reason: String,
}

#[derive(Args)]
pub(crate) struct UnsealArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    pub server: String,
    /// Your member key file (with its encryption identity).
    #[arg(long, env = "TRUCE_KEY")]
    pub key: PathBuf,
    /// The entry's log index.
    pub index: u64,
}

#[derive(Subcommand)]
pub(crate) enum CaseCommand {
    /// Report a detention or abduction: the person's record (a JSON file) is sealed to the
    /// members of your party, of the detaining party and of the mediator.
    Report(CaseReportArgs),
    /// File a step of a case (the detaining party or the mediator): acknowledge, deny,
    /// disclose_location, grant_access, release, transfer.
    Step(CaseStepArgs),
    /// Open the sealed record of a case with your key (if it was sealed to you).
    Open(CaseOpenArgs),
}

#[derive(Args)]
pub(crate) struct CaseReportArgs {
    #[command(flatten)]
    pub sign: SignArgs,
    /// The party said to detain the person.
    #[arg(long)]
    pub detaining: String,
    /// JSON file with the personal record (name, age, place last seen, ...).
    #[arg(long)]
    pub person: PathBuf,
    /// A note every member can read: never personal data.
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Args)]
pub(crate) struct CaseStepArgs {
    #[command(flatten)]
    pub sign: SignArgs,
    /// The case's log index.
    pub case: u64,
    #[arg(long)]
    pub action: String,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Args)]
pub(crate) struct CaseOpenArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    pub server: String,
    /// Your member key file (with its encryption identity).
    #[arg(long, env = "TRUCE_KEY")]
    pub key: PathBuf,
    /// The case's log index.
    pub case: u64,
}

/// `truce dispute`.
pub(crate) fn dispute(j: bool, a: DisputeArgs, token: &Option<String>) -> Result<()> {
    let body = Body::Dispute(Dispute {
        finding: a.finding,
        reasons: a.reasons,
        evidence: a.evidence,
        sealed: None,
    });
    submit_signed(j, a.sign, body, token)
}

/// `truce rule`.
pub(crate) fn rule(j: bool, a: RuleArgs, token: &Option<String>) -> Result<()> {
    let client = connect(&a.sign.server, token)?;
    let f = client
        .get_ok(&format!("/v1/findings/{}", a.finding))?
        .json()?;
    let rule = f["finding"]["rule"]
        .as_str()
        .context("the server's finding has no rule")?
        .to_owned();
    let open = f["disputes"].as_array().and_then(|ds| {
        ds.iter()
            .rev()
            .find(|d| d["dispute"]["ruling"].is_null())
            .and_then(|d| d["index"].as_u64())
    });
    let body = Body::Ruling(Ruling {
        finding: a.finding,
        dispute: open,
        rule,
        decision: wire("--decision", &a.decision)?,
        reasons: a.reasons,
    });
    submit_signed(j, a.sign, body, token)
}

/// `truce notify`.
pub(crate) fn notify(j: bool, a: NotifyArgs, token: &Option<String>) -> Result<()> {
    let (action, refers_to) = match (a.amend, a.withdraw) {
        (Some(n), _) => (NoticeAction::Amend, Some(n)),
        (_, Some(n)) => (NoticeAction::Withdraw, Some(n)),
        _ => (NoticeAction::File, None),
    };
    let body = Body::Notice(Box::new(Notice {
        action,
        refers_to,
        activity: wire("--activity", &a.activity)?,
        area: deconflict::area(&a.zones, a.area.as_deref())?,
        window: deconflict::window(&a.start, &a.end),
        forces: deconflict::parse_forces(&a.forces)?,
        purpose: a.purpose,
        addressees: a.addressees,
        sealed: None,
    }));
    submit_signed(j, a.sign, body, token)
}

/// `truce ratify`.
pub(crate) fn ratify(j: bool, a: RatifyArgs, token: &Option<String>) -> Result<()> {
    let key = keys::MemberKey::load(&a.sign.key)?;
    let client = connect(&a.sign.server, token)?;
    let m: serde_json::Value = serde_json::from_slice(&client.get_ok("/v1/mechanism")?.body)?;
    let me = m["members"]
        .as_array()
        .and_then(|ms| ms.iter().find(|x| x["key_id"] == key.key_id()))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}'s key is not a registered member key of this mechanism",
                key.member
            )
        })?;
    let party = me["party"].as_str().unwrap_or_default().to_owned();
    let agreement = &m["agreement"];
    let awaiting: Vec<&str> = agreement["awaiting_ratification"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
        .unwrap_or_default();
    // A pending amendment is ratified in preference to the agreement in force.
    let target = if agreement["pending"].is_object() {
        &agreement["pending"]
    } else {
        agreement
    };
    if !awaiting.contains(&party.as_str()) {
        anyhow::bail!(
            "{party} has nothing to ratify: the agreement at index {} is ratified by {}",
            target["index"],
            agreement["ratified_by"]
        );
    }
    let (index, sha) = (
        target["index"].as_u64().unwrap_or_default(),
        target["payload_sha256"].as_str().unwrap_or_default(),
    );
    let statement = a
        .statement
        .unwrap_or_else(|| format!("{party} ratifies version {}", target["version"]));
    if !j {
        eprintln!(
            "ratifying for {party}: {:?}, version {}, logged at index {index}\n  payload SHA-256 {sha}\n  statement: {statement}",
            target["title"].as_str().unwrap_or_default(),
            target["version"],
        );
    }
    let body = Body::Ratification(Ratification {
        agreement_index: index,
        agreement_sha256: sha.to_owned(),
        statement: Some(statement),
    });
    submit_signed(j, a.sign, body, token)
}

/// `truce ack`.
pub(crate) fn ack(j: bool, a: AckArgs, token: &Option<String>) -> Result<()> {
    let conditions = Conditions {
        area: (!a.zones.is_empty() || a.area.is_some())
            .then(|| deconflict::area(&a.zones, a.area.as_deref()))
            .transpose()?,
        window: a
            .start
            .as_deref()
            .zip(a.end.as_deref())
            .map(|(s, e)| deconflict::window(s, e)),
        force_caps: deconflict::parse_forces(&a.cap)?,
    };
    let conditional = conditions.area.is_some()
        || conditions.window.is_some()
        || !conditions.force_caps.is_empty();
    let response = if a.received {
        Response::Received
    } else if conditional {
        Response::AcknowledgeWithConditions
    } else {
        Response::Acknowledge
    };
    let body = Body::Acknowledgement(Acknowledgement {
        notice: a.notice,
        response,
        conditions: conditional.then_some(conditions),
        reasons: a.reasons,
    });
    submit_signed(j, a.sign, body, token)
}

/// An answer that needs reasons (`object`, `escalate`).
fn answer(j: bool, a: ReasonArgs, response: Response, token: &Option<String>) -> Result<()> {
    let body = Body::Acknowledgement(Acknowledgement {
        notice: a.notice,
        response,
        conditions: None,
        reasons: Some(a.reasons),
    });
    submit_signed(j, a.sign, body, token)
}

/// `truce object`.
pub(crate) fn object(j: bool, a: ReasonArgs, token: &Option<String>) -> Result<()> {
    answer(j, a, Response::Object, token)
}

/// `truce escalate`.
pub(crate) fn escalate(j: bool, a: ReasonArgs, token: &Option<String>) -> Result<()> {
    answer(j, a, Response::Escalate, token)
}

/// `truce attest`.
pub(crate) fn attest(j: bool, a: AttestArgs, token: &Option<String>) -> Result<()> {
    let body = Body::Attestation(Attestation {
        period: deconflict::window(&a.from, &a.to),
        statement: a.statement,
    });
    submit_signed(j, a.sign, body, token)
}

/// `truce participation`.
pub(crate) fn participation(j: bool, a: ParticipationArgs, token: &Option<String>) -> Result<()> {
    let body = Body::Participation(Participation {
        action: wire("action", &a.action)?,
        reason: a.reason,
    });
    submit_signed(j, a.sign, body, token)
}

/// A value of one of the model's enums, from its wire name as given on the command line.
fn wire<T: serde::de::DeserializeOwned>(flag: &str, s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| anyhow::anyhow!(submit::Refused(format!("{flag} {s}: {e}"))))
}

/// `truce unseal`.
pub(crate) fn unseal(j: bool, a: UnsealArgs, token: &Option<String>) -> Result<()> {
    let client = connect(&a.server, token)?;
    let key = keys::MemberKey::load(&a.key)?;
    let identity = key.encryption.as_ref().with_context(|| {
        format!(
            "{}: this key file has no encryption identity",
            a.key.display()
        )
    })?;
    let entry = logged_body(&client, a.index)?;
    let sealed = entry["body"]["sealed"]["age"]
        .as_str()
        .with_context(|| format!("entry {} has no sealed part", a.index))?;
    let details = deconflict::unseal(sealed, identity)?;
    print(j, json!({"index": a.index, "sealed": details}), || {
        serde_json::to_string_pretty(&details).unwrap_or_default()
    });
    Ok(())
}

pub(crate) fn case(j: bool, c: CaseCommand, token: &Option<String>) -> Result<()> {
    match c {
        CaseCommand::Report(a) => {
            let client = connect(&a.sign.server, token)?;
            let mechanism = client.get_ok("/v1/mechanism")?.json()?;
            let key = keys::MemberKey::load(&a.sign.key)?;
            let (own, mediator) = deconflict::own_party_and_mediator(&mechanism, &key.member)?;
            let record = submit::read_json(&a.person)?;
            let rcpt = deconflict::recipients(&mechanism, &[&own, &a.detaining, &mediator]);
            let (commitment, sealed) = deconflict::seal(&record, &rcpt)?;
            let body = Body::Case(Case {
                action: CaseAction::Report,
                case: None,
                commitment,
                detaining_party: a.detaining,
                sealed: Some(serde_json::from_value(sealed)?),
                note: a.note,
            });
            submit_signed(j, a.sign, body, token)
        }
        CaseCommand::Step(a) => {
            let client = connect(&a.sign.server, token)?;
            let case = find_case(&client, a.case)?;
            let text = |field: &str| case[field].as_str().unwrap_or_default().to_owned();
            let body = Body::Case(Case {
                action: wire("--action", &a.action)?,
                case: Some(a.case),
                commitment: text("commitment"),
                detaining_party: text("detaining_party"),
                sealed: None,
                note: a.note,
            });
            submit_signed(j, a.sign, body, token)
        }
        CaseCommand::Open(a) => {
            let client = connect(&a.server, token)?;
            let key = keys::MemberKey::load(&a.key)?;
            let identity = key.encryption.as_ref().with_context(|| {
                format!(
                    "{}: this key file has no encryption identity",
                    a.key.display()
                )
            })?;
            let entry = logged_body(&client, a.case)?;
            let body = &entry["body"];
            let (Some(sealed), Some(commitment)) =
                (body["sealed"]["age"].as_str(), body["commitment"].as_str())
            else {
                anyhow::bail!("entry {} is not a case report with a sealed record", a.case);
            };
            let record = deconflict::open(sealed, identity, commitment)?;
            print(j, json!({"case": a.case, "record": record}), || {
                serde_json::to_string_pretty(&record).unwrap_or_default()
            });
            Ok(())
        }
    }
}

/// An entry's payload as logged, decoded from its verbatim envelope (the decoded view the
/// server adds leaves out sealed parts the token's member may not read).
pub(crate) fn logged_body(client: &client::Client, index: u64) -> Result<serde_json::Value> {
    use base64::Engine as _;
    let answer = client.get_ok(&format!("/v1/entries/{index}"))?.json()?;
    let payload = answer["envelope"]["payload"]
        .as_str()
        .context("the server's entry has no envelope payload")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .context("the envelope payload is not base64")?;
    serde_json::from_slice(&bytes).context("the envelope payload is not JSON")
}

/// The body of a case's report entry, from the log.
pub(crate) fn find_case(client: &client::Client, case: u64) -> Result<serde_json::Value> {
    let entry = client.get_ok(&format!("/v1/entries/{case}"))?.json()?;
    let e = &entry["entry"];
    if e["kind"] != "case" || e["body"]["action"] != "report" {
        anyhow::bail!("entry {case} is not the report of a case (see GET /v1/cases)");
    }
    Ok(e["body"].clone())
}
