//! `truce init` and `truce keygen`: a new data directory, a new member key.

use crate::print;
use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use truce_client::{keys, scenario};

#[derive(Args)]
pub(crate) struct InitArgs {
    /// Directory to create (must not hold a mechanism already).
    pub dir: PathBuf,
    /// Built-in scenario to start from.
    #[arg(long, default_value = "golan-1974", conflicts_with = "scenario_dir")]
    pub scenario: String,
    /// A scenario directory (agreement.json, zones.geojson, optional places.geojson) instead.
    #[arg(long)]
    pub scenario_dir: Option<PathBuf>,
    /// The log's origin: a schema-less URL naming this mechanism (no spaces or `+`).
    #[arg(long, default_value = "truce.example/golan-1974")]
    pub origin: String,
    /// Create only the log key and an empty log: the mediator then submits the agreement
    /// (after uploading its zones with PUT /v1/blobs) and each party ratifies from its own keys.
    #[arg(long, conflicts_with_all = ["scenario", "scenario_dir"])]
    pub empty: bool,
    /// Also make a witness for each party and observer (in DIR/witnesses/), name them in the
    /// agreement with a policy that needs every party's witness and one more, and let
    /// `truce serve` run them on loopback. For a demo: real witnesses run on the parties' own
    /// machines (`truce witness`).
    #[arg(long, conflicts_with = "empty")]
    pub witnesses: bool,
}

#[derive(Args)]
pub(crate) struct KeygenArgs {
    /// Member id the key is for (e.g. `sy.ops2`).
    #[arg(long)]
    pub member: String,
    /// Where to write the key file (mode 0600; never overwritten).
    #[arg(long)]
    pub out: PathBuf,
}

/// `truce init`.
pub(crate) fn init(j: bool, a: InitArgs) -> Result<()> {
    if a.empty {
        let vkey = scenario::init_empty(&a.dir, &a.origin)?;
        print(
            j,
            json!({"dir": a.dir, "origin": a.origin, "verifier_key": vkey, "tree_size": 0}),
            || {
                format!(
                    "initialised an empty log in {}\norigin:       {}\nverifier key: {vkey}\nnext: truce serve --data {}, upload the zones (PUT /v1/blobs/<sha256>), then submit the agreement as a mediator administrator",
                    a.dir.display(),
                    a.origin,
                    a.dir.display()
                )
            },
        );
        return Ok(());
    }
    let scenario = match &a.scenario_dir {
        Some(d) => scenario::Scenario::from_dir(d)?,
        None => scenario::Scenario::built_in(&a.scenario)?,
    };
    let done = scenario::init_with(&a.dir, &a.origin, &scenario, a.witnesses)?;
    print_init(j, &done);
    Ok(())
}

/// `truce keygen`.
pub(crate) fn keygen(j: bool, a: KeygenArgs) -> Result<()> {
    truce_model::ids::check_member_id("--member", &a.member)
        .map_err(|r| anyhow::anyhow!(r.detail))?;
    let key = keys::MemberKey::generate(&a.member);
    if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    key.save(&a.out)?;
    let encryption_key = key.encryption_key().unwrap_or_default();
    print(
        j,
        json!({"member": a.member, "public_key": key.public_key_b64(), "key_id": key.key_id(), "encryption_key": encryption_key, "file": a.out}),
        || {
            format!(
                "wrote {} (mode 0600)\nmember:         {}\npublic key:     {}\nkey id:         {}\nencryption key: {}\nRegister both with a membership entry signed by your party's administrator\n(`public_key` and `encryption_key`; the encryption key lets the member open sealed case records and reports).",
                a.out.display(),
                a.member,
                key.public_key_b64(),
                key.key_id(),
                encryption_key
            )
        },
    );
    Ok(())
}

pub(crate) fn print_init(j: bool, done: &scenario::Initialised) {
    let members: Vec<_> = done
        .members
        .iter()
        .map(|(id, party, role, path)| json!({"member": id, "party": party, "role": role, "key_file": path}))
        .collect();
    print(
        j,
        json!({"dir": done.dir, "origin": done.origin, "verifier_key": done.verifier_key, "tree_size": done.tree_size, "members": members}),
        || {
            let mut s = format!(
                "initialised {}\norigin:       {}\nverifier key: {}\nlog:          {} entries (the agreement and its ratifications)\nmember keys (demo keys; mode 0600):\n",
                done.dir.display(),
                done.origin,
                done.verifier_key,
                done.tree_size
            );
            for (id, party, role, path) in &done.members {
                s.push_str(&format!(
                    "  {id:<12} {party:<6} {role:<14} {}\n",
                    path.display()
                ));
            }
            s.push_str(&format!("next: truce serve --data {}", done.dir.display()));
            s
        },
    );
}
