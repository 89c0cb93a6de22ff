//! `truce init`: a data directory with a log key, member keys and the agreement logged and
//! ratified, from a scenario (built in, or a directory with the same files).

use crate::database::Database;
use crate::keys::MemberKey;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use truce_log::{Envelope, LogKey};
use truce_model::Kind;
use truce_server::{DataDir, LogService};

pub use truce_sim::scenario::{BUILT_IN, Scenario};

fn blob_ref(data: &[u8], media_type: &str) -> Value {
    json!({"sha256": hex::encode(Sha256::digest(data)), "size": data.len(), "media_type": media_type})
}

/// Signs an entry as `key`'s member.
pub fn sign_entry(
    origin: &str,
    kind: Kind,
    key: &MemberKey,
    body: &Value,
    created: jiff::Timestamp,
) -> Envelope {
    truce_model::entry::sign(origin, kind, &key.member, &key.key, created, body)
}

/// What `init` made.
#[derive(Debug)]
pub struct Initialised {
    pub dir: PathBuf,
    pub origin: String,
    pub verifier_key: String,
    pub members: Vec<(String, String, String, PathBuf)>,
    pub tree_size: u64,
}

/// Makes a witness for each party and observer of `template` in `DIR/witnesses/<party>/`,
/// witnessing the log `vkey`, and returns the agreement's `witnesses` block: every party's
/// witness required, and the observers' counted towards a quorum of all of them.
fn local_witnesses(dir: &Path, origin: &str, template: &Value, vkey: &str) -> Result<Value> {
    let host = origin.split('/').next().unwrap_or(origin);
    let mut list = Vec::new();
    let mut required = Vec::new();
    for p in template["parties"].as_array().into_iter().flatten() {
        let (Some(id), Some(role)) = (p["id"].as_str(), p["role"].as_str()) else {
            continue;
        };
        if role == "mediator" {
            continue;
        }
        let name = format!("{host}/witness-{}", id.to_lowercase());
        let wdir = dir.join(LOCAL_WITNESSES).join(id.to_lowercase());
        let w = truce_server::witness::init(&wdir, &name, &[vkey.to_owned()])?;
        list.push(json!({"verifier_key": w.verifier_key(), "party": id}));
        if role == "party" {
            required.push(name);
        }
    }
    let quorum = list.len();
    Ok(
        json!({"list": list, "policy": {"required": required, "quorum": quorum, "max_age_seconds": 600}}),
    )
}

/// Where `truce init --witnesses` puts the local witnesses that `truce serve` runs.
pub use truce_server::boot::LOCAL_WITNESSES;

/// Creates a data directory with a log key and no entries; returns the verifier key.
pub fn init_empty(dir: &Path, origin: &str) -> Result<String> {
    let (log_key, secret) = LogKey::generate(origin)
        .with_context(|| format!("origin `{origin}` cannot name a log key (no spaces or `+`)"))?;
    let data = DataDir::create(dir, origin)?;
    truce_server::datadir::write_secret(&data.log_key_path(), &(secret + "\n"))?;
    Ok(log_key.verifier_key().to_owned())
}

/// Creates and populates a data directory. On failure, a directory it created is removed.
pub fn init(dir: &Path, origin: &str, scenario: &Scenario) -> Result<Initialised> {
    init_with(dir, origin, scenario, false, &Database::Sqlite)
}

/// [`init`], and with `witnesses` a local witness for each party and observer in
/// `DIR/witnesses/<party>/`, named in the agreement with a policy that needs every party's
/// witness and one more (for a demo on one machine: a real mechanism's witnesses run on the
/// parties' own machines). `truce serve` runs them on loopback.
pub fn init_with(
    dir: &Path,
    origin: &str,
    scenario: &Scenario,
    witnesses: bool,
    database: &Database,
) -> Result<Initialised> {
    let existed = dir.exists();
    let result = init_inner(dir, origin, scenario, witnesses, database);
    if result.is_err() && !existed {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn init_inner(
    dir: &Path,
    origin: &str,
    scenario: &Scenario,
    witnesses: bool,
    database: &Database,
) -> Result<Initialised> {
    let mut template: Value = serde_json::from_str(&scenario.agreement)
        .with_context(|| format!("scenario {}: agreement.json is not JSON", scenario.name))?;
    init_empty(dir, origin)?;
    let mut data = DataDir::open(dir)?;
    database.record(&mut data)?;
    let log_key = data.read_log_key()?;
    if witnesses {
        template["witnesses"] = local_witnesses(dir, origin, &template, log_key.verifier_key())?;
    }

    let mut keys = Vec::new();
    let mut members_out = Vec::new();
    let Some(members) = template.get_mut("members").and_then(Value::as_array_mut) else {
        bail!(
            "scenario {}: agreement.json has no `members` list",
            scenario.name
        );
    };
    for m in members.iter_mut() {
        let id = m["id"].as_str().context("a member has no id")?.to_owned();
        let key = MemberKey::generate(&id);
        let path = data.keys_dir().join(format!("{id}.key"));
        key.save(&path)?;
        m["public_key"] = key.public_key_b64().into();
        if let Some(k) = key.encryption_key() {
            m["encryption_key"] = k.into();
        }
        members_out.push((
            id,
            m["party"].as_str().unwrap_or("").to_owned(),
            m["role"].as_str().unwrap_or("").to_owned(),
            path,
        ));
        keys.push(key);
    }
    template["format"] = truce_model::agreement::AGREEMENT_FORMAT.into();
    template["version"] = 1.into();
    template["zones"] = blob_ref(&scenario.zones, "application/geo+json");
    if let Some(p) = &scenario.places {
        template["places"] = blob_ref(p, "application/geo+json");
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = database.open(&data)?;
    let held = store.load()?.size;
    if held > 0 {
        bail!(
            "the database already holds a log of {held} entries; `truce init` starts a new log in an empty database"
        );
    }
    let size = rt.block_on(async {
        let service = LogService::open(store.clone(), log_key, origin)?;
        for doc in std::iter::once(&scenario.zones).chain(scenario.places.iter()) {
            store.put_blob(&hex::encode(Sha256::digest(doc)), doc)?;
        }
        let parties = template["parties"].as_array().cloned().unwrap_or_default();
        let role_of = |party: &str| {
            parties.iter().find(|p| p["id"] == party).and_then(|p| p["role"].as_str()).unwrap_or("").to_owned()
        };
        let admin_of = |role: &str| {
            members_out.iter().position(|(_, party, r, _)| r == "administrator" && role_of(party) == role)
        };
        let mediator_admin = admin_of("mediator").context("the scenario has no mediator administrator")?;
        let now = jiff::Timestamp::now();
        let agreement = sign_entry(origin, Kind::Agreement, &keys[mediator_admin], &template, now);
        let payload_sha = hex::encode(Sha256::digest(&agreement.payload));
        let admitted = service
            .submit(agreement.to_leaf())
            .await
            .map_err(|r| anyhow::anyhow!("the scenario's agreement was refused: {}", r.detail))?;
        let mut ratified = std::collections::BTreeSet::new();
        for (i, (_, party, role, _)) in members_out.iter().enumerate() {
            if role != "administrator" || role_of(party) == "observer" || !ratified.insert(party.clone()) {
                continue;
            }
            let body = json!({
                "agreement_index": admitted.receipt.index,
                "agreement_sha256": payload_sha,
                "statement": format!("{party} ratifies the agreement (demo key generated by truce init)"),
            });
            service
                .submit(sign_entry(origin, Kind::Ratification, &keys[i], &body, now).to_leaf())
                .await
                .map_err(|r| anyhow::anyhow!("ratification by {party} was refused: {}", r.detail))?;
        }
        // This service is done: its applier must not go on beside the server that a demo
        // starts next in the same process (it stops after saving its snapshot).
        service.derived().stop();
        anyhow::Ok(service.checkpoint().size)
    })?;
    Ok(Initialised {
        dir: dir.to_owned(),
        origin: origin.into(),
        verifier_key: data.read_log_key()?.verifier_key().to_owned(),
        members: members_out,
        tree_size: size,
    })
}
