//! `audit`: how fast `truce audit --bundle` checks an export bundle, against, in the same run,
//! this machine's two-core Ed25519 `verify_strict` rate (the ceiling of a check that verifies
//! every signature). The target of the witnesses issue is at least 0.5 of that ceiling.
//!
//! The bundle is built here, as `truce export-bundle` writes it: the Golan agreement and its
//! ratifications (from `truce init`), then N signed reports by the four officers, in entry
//! bundles, with a checkpoint signed by the log key. It holds no state commitment, so the
//! figure is the audit's verification (tiles read over loopback, every entry re-admitted
//! strictly, the root recomputed), not the replay of the derived state, which is fusion's
//! cost (docs/fusion.md).
//!
//! Run: `cargo run --release -p truce-bench --bin audit -- --entries 1000000`.

use anyhow::{Context, Result};
use clap::Parser;
use ed25519_dalek::Signature;
use std::time::Instant;
use truce_client::keys::MemberKey;
use truce_client::scenario::{Scenario, init, sign_entry};
use truce_log::merkle::{MemoryHashes, leaf_hash};
use truce_log::tiles::{TILE_WIDTH, TileRef, encode_bundle};
use truce_model::Kind;

#[derive(Parser)]
#[command(about = "truce audit --bundle rate vs the two-core Ed25519 strict-verify rate")]
struct Args {
    /// Reports in the bundle (besides the agreement and its ratifications).
    #[arg(long, default_value_t = 100_000)]
    entries: usize,
    /// Audits timed; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let args = Args::parse();
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("m");
    let origin = "bench.truce.example/golan-1974";
    let scenario = Scenario::built_in("golan-1974")?;
    init(&data, origin, &scenario)?;
    let dir = truce_server::DataDir::open(&data)?;
    let key = dir.read_log_key()?;
    let store = truce_store_sqlite::SqliteStore::open(&dir.database_path())?;
    let genesis = truce_store::Store::leaves(&store, 0, 4)?;
    drop(store);
    let officers: Vec<MemberKey> = ["sy.ops", "il.ops", "us.ops", "undof.ops"]
        .iter()
        .map(|m| MemberKey::load(&data.join("keys").join(format!("{m}.key"))))
        .collect::<Result<_>>()?;

    eprintln!("signing {} reports…", args.entries);
    let template: serde_json::Value = serde_json::from_str(include_str!(
        "../../../scenarios/golan-1974/examples/report-shelling.json"
    ))?;
    let now = jiff::Timestamp::now();
    let mut leaves = genesis;
    for i in 0..args.entries {
        let mut body = template.clone();
        body["narrative"] = format!("audit benchmark report {i}").into();
        let env = sign_entry(origin, Kind::Report, &officers[i % 4], &body, now);
        leaves.push(env.to_leaf());
    }

    // The bundle, as `truce export-bundle` lays it out.
    let bundle = tmp.path().join("bundle");
    let save = |path: &str, body: &[u8]| -> Result<()> {
        let file = truce_server::bundle::file_of(&bundle, path).context("bundle path")?;
        std::fs::create_dir_all(file.parent().context("parent")?)?;
        std::fs::write(file, body)?;
        Ok(())
    };
    let size = leaves.len() as u64;
    let mut tree = MemoryHashes::new();
    for l in &leaves {
        tree.append(leaf_hash(l))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let cp = key
        .sign(
            size,
            tree.root(size).map_err(|e| anyhow::anyhow!("{e}"))?,
            "",
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    save("log/checkpoint", &cp.note)?;
    save(
        "v1/mechanism",
        serde_json::json!({"origin": origin, "verifier_key": key.verifier_key()})
            .to_string()
            .as_bytes(),
    )?;
    use sha2_hex::hex_sha256;
    save(
        &format!("v1/blobs/{}", hex_sha256(&scenario.zones)),
        &scenario.zones,
    )?;
    if let Some(p) = &scenario.places {
        save(&format!("v1/blobs/{}", hex_sha256(p)), p)?;
    }
    let mut index = 0u64;
    while index < size {
        let t = TileRef {
            level: None,
            index: index / TILE_WIDTH,
            width: (size - index).min(TILE_WIDTH) as u16,
        };
        let range = t.entry_range();
        let b = encode_bundle(
            leaves[range.start as usize..range.end as usize]
                .iter()
                .map(Vec::as_slice),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        save(&format!("log/{}", t.path()), &b)?;
        index = range.end;
    }

    // The two-core Ed25519 ceiling, on these very signatures.
    let work: Vec<(Vec<u8>, Signature, ed25519_dalek::VerifyingKey)> = leaves[4..]
        .iter()
        .map(|l| {
            let env = truce_log::Envelope::parse(l).map_err(|e| anyhow::anyhow!("{e}"))?;
            let who = env.signature().keyid.clone();
            let k = officers
                .iter()
                .find(|o| o.key_id() == who)
                .context("an officer's key")?;
            Ok((
                truce_log::dsse::pae(&env.payload_type, &env.payload),
                Signature::from_bytes(&env.signature().sig),
                k.key.verifying_key(),
            ))
        })
        .collect::<Result<_>>()?;
    let verify_rate = |threads: usize| -> f64 {
        let chunk = work.len().div_ceil(threads);
        let start = Instant::now();
        std::thread::scope(|s| {
            for part in work.chunks(chunk) {
                s.spawn(move || {
                    for (m, sig, k) in part {
                        assert!(k.verify_strict(m, sig).is_ok());
                    }
                });
            }
        });
        work.len() as f64 / start.elapsed().as_secs_f64()
    };
    let ceiling = median((0..args.runs).map(|_| verify_rate(2)).collect());

    // The audit, as `truce audit --bundle` runs it: the bundle served on loopback.
    let url = truce_client::audit::serve_bundle(&bundle)?;
    let client = truce_client::client::Client::new(&url)?;
    let mut rates = Vec::new();
    let mut seconds = Vec::new();
    for run in 0..args.runs {
        let r = truce_client::audit::audit(&client, Some(key.verifier_key()), false, false)?;
        anyhow::ensure!(
            r.anomalies.is_empty() && r.entries_verified == size,
            "the benchmark bundle must audit clean: {:?}",
            r.anomalies
        );
        eprintln!("run {run}: {:.1} s", r.seconds);
        seconds.push(r.seconds);
        rates.push(size as f64 / r.seconds);
    }
    let rate = median(rates);
    println!(
        "{}",
        serde_json::json!({
            "entries": size,
            "audit_seconds_median": median(seconds),
            "audit_entries_per_s_median": rate.round(),
            "two_core_verify_strict_per_s_median": ceiling.round(),
            "ratio": (rate / ceiling * 1000.0).round() / 1000.0,
            "target_ratio": 0.5,
            "runs": args.runs,
        })
    );
    Ok(())
}

mod sha2_hex {
    /// Lowercase hex SHA-256, as blob addresses are written.
    pub fn hex_sha256(data: &[u8]) -> String {
        truce_log::merkle::sha256(data)
            .0
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
