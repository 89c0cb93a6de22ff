//! `truce simulate` and `truce eval`: synthetic traffic with its ground truth, and fusion
//! scored against it.

use crate::{connect, print};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use truce_client::client::Client;
use truce_client::keys::MemberKey;
use truce_sim::simulate;

#[derive(Args)]
pub(crate) struct SimulateArgs {
    /// Seed of the random generator: the same seed and arguments give the same files.
    #[arg(long)]
    pub seed: u64,
    /// Number of true incidents.
    #[arg(long, default_value_t = 2000)]
    pub incidents: u64,
    /// Days the simulated timeline spans, ending at --end (the default gives 8 incidents a
    /// day, about the reported rate in the south of Syria in 2025; see docs/fusion.md).
    #[arg(long, default_value_t = 250)]
    pub days: u32,
    /// Noise profile: low, default, high, or a factor (0 to 4; default = 1).
    #[arg(long, default_value = "default")]
    pub noise: String,
    /// End of the timeline, RFC 3339 UTC (default: now, rounded down to the hour).
    #[arg(long)]
    pub end: Option<String>,
    /// Output directory (new or empty).
    #[arg(long)]
    pub out: PathBuf,
    /// Submit to this server instead of writing a genesis of its own (needs --keys).
    #[arg(long, requires = "keys")]
    pub server: Option<String>,
    /// The server's member keys (a data directory's keys/ from `truce init`).
    #[arg(long, requires = "server")]
    pub keys: Option<PathBuf>,
    /// Agreement fusion parameter `threshold_percent` (offline runs).
    #[arg(long)]
    pub fusion_threshold: Option<u32>,
    /// Agreement fusion parameter `time_slack_hours` (offline runs).
    #[arg(long)]
    pub fusion_time_slack: Option<u32>,
    /// Agreement fusion parameter `max_gap_hours` (offline runs).
    #[arg(long)]
    pub fusion_max_gap: Option<u32>,
    /// Agreement fusion parameter `min_radius_m` (offline runs).
    #[arg(long)]
    pub fusion_min_radius: Option<u32>,
    /// Agreement fusion parameter `density_per_1000_km2_day` (offline runs).
    #[arg(long)]
    pub fusion_density: Option<u32>,
    /// Any agreement fusion parameter, NAME=VALUE (repeatable; offline runs), e.g.
    /// `--fusion same_source_percent=25`. See docs/agreement.md for the names.
    #[arg(long, value_name = "NAME=VALUE")]
    pub fusion: Vec<String>,
}

#[derive(Subcommand)]
pub(crate) enum EvalCommand {
    /// Replay a simulation's log through admission and the engine and score fusion against
    /// the truth: B-cubed precision, recall and F1, attribution accuracy, corroboration
    /// calibration, error breakdown, speed.
    Fusion {
        /// A directory written by `truce simulate` (without --server).
        #[arg(long)]
        dir: PathBuf,
    },
}

/// `truce simulate`.
pub(crate) fn simulate(j: bool, a: SimulateArgs, token: &Option<String>) -> Result<()> {
    let cfg = simulate::Config {
        seed: a.seed,
        incidents: a.incidents,
        days: a.days,
        noise: simulate::Noise::parse(&a.noise)?,
        end: simulate::end_time(a.end.as_deref())?,
        fusion: simulate::FusionOverrides::from_flags(
            [
                a.fusion_threshold,
                a.fusion_time_slack,
                a.fusion_max_gap,
                a.fusion_min_radius,
                a.fusion_density,
            ],
            &a.fusion,
        )?,
    };
    let target = match (a.server, a.keys) {
        (Some(url), Some(keys_dir)) => Some(Box::new(Server {
            client: connect(&url, token)?,
            keys_dir,
        }) as Box<dyn simulate::Live>),
        _ => None,
    };
    let s = simulate::simulate(&cfg, &a.out, target, !j)?;
    if !s.keys.is_empty() {
        let keys_dir = a.out.join("keys");
        std::fs::create_dir_all(&keys_dir)
            .with_context(|| format!("creating {}", keys_dir.display()))?;
        for (member, key) in &s.keys {
            let file = MemberKey {
                member: member.clone(),
                key: key.clone(),
                encryption: None,
            };
            file.save(&keys_dir.join(format!("{member}.key")))?;
        }
    }
    print(j, serde_json::to_value(&s)?, || {
        format!(
            "simulated {} incidents ({} reported) from {} to {}: {} reports ({} false, {} duplicates), {} denials; {} entries in {} ({:.1} s){}",
            s.incidents,
            s.incidents_reported,
            s.start,
            s.end,
            s.reports,
            s.false_reports,
            s.duplicate_reports,
            s.sightings,
            s.entries,
            s.dir.display(),
            s.seconds,
            s.server
                .as_deref()
                .map(|u| format!(", submitted to {u}"))
                .unwrap_or_default()
        )
    });
    Ok(())
}

/// `truce eval`.
pub(crate) fn eval(j: bool, e: EvalCommand) -> Result<()> {
    let EvalCommand::Fusion { dir } = e;
    truce_sim::eval::check_dir(&dir)?;
    let e = truce_sim::eval::fusion(&dir, !j)?;
    print(j, serde_json::to_value(&e)?, || truce_sim::eval::render(&e));
    Ok(())
}

/// A live server for `truce simulate --server`: batches over HTTP, and the data directory's
/// member key files.
#[derive(Debug)]
pub(crate) struct Server {
    pub client: Client,
    pub keys_dir: PathBuf,
}

impl simulate::Live for Server {
    fn origin(&self) -> Result<String> {
        let m = self.client.get_ok("/v1/mechanism")?.json()?;
        Ok(m["origin"]
            .as_str()
            .context("the server's /v1/mechanism names no origin")?
            .to_owned())
    }

    fn signing_key(&self, member: &str) -> Result<ed25519_dalek::SigningKey> {
        let path = self.keys_dir.join(format!("{member}.key"));
        let key = MemberKey::load(&path).with_context(|| {
            format!(
                "--keys {}: the simulation signs as {member}",
                self.keys_dir.display()
            )
        })?;
        Ok(key.key)
    }

    fn submit(&self, leaves: &[Vec<u8>]) -> Result<Vec<u64>> {
        let mut body = Vec::with_capacity(leaves.iter().map(|l| l.len() + 1).sum::<usize>() + 2);
        body.push(b'[');
        for (i, leaf) in leaves.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(leaf);
        }
        body.push(b']');
        let answer = self.client.post_json("/v1/entries/batch", &body)?;
        if !answer.ok() {
            bail!("the server refused a batch: {}", answer.problem_text());
        }
        let results = answer.json()?;
        let results = results["results"]
            .as_array()
            .context("the batch answer has no results")?;
        results
            .iter()
            .map(|r| {
                let status = r["status"].as_u64().unwrap_or(0);
                if status != 201 && status != 200 {
                    bail!(
                        "the server refused a simulated entry ({status}): {}",
                        r["problem"]["detail"].as_str().unwrap_or("no detail")
                    );
                }
                r["receipt"]["index"]
                    .as_u64()
                    .context("a batch result has no receipt index")
            })
            .collect()
    }

    fn base(&self) -> String {
        self.client.base().to_owned()
    }
}
