//! `truce findings` and `truce watch`: what the mechanism found, and its hotline.

use crate::{connect, print};
use anyhow::Result;
use clap::Args;
use serde_json::json;
use truce_client::deconflict;

#[derive(Args)]
pub(crate) struct FindingsArgs {
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "TRUCE_SERVER")]
    pub server: String,
    /// Show one finding with its rule, evidence chain (entries and inclusion proofs),
    /// disputes and rulings.
    #[arg(long)]
    pub id: Option<String>,
    /// Only findings against this party (e.g. `SY`).
    #[arg(long)]
    pub party: Option<String>,
    /// Only findings under this rule id (e.g. `no-hostile-acts`).
    #[arg(long)]
    pub rule: Option<String>,
    /// alleged, corroborated, disputed, upheld, dismissed, expired or missed.
    #[arg(long)]
    pub status: Option<String>,
    /// Only findings about events whose uncertainty circle touches this zone id.
    #[arg(long)]
    pub zone: Option<String>,
    /// Interpretation layer (e.g. `agreement`).
    #[arg(long)]
    pub layer: Option<String>,
    /// Only findings about violations at or after this RFC 3339 UTC time.
    #[arg(long)]
    pub from: Option<String>,
    /// Only findings about violations at or before this RFC 3339 UTC time.
    #[arg(long)]
    pub to: Option<String>,
    /// At most this many findings (1..1000), oldest violation first.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

#[derive(Args)]
pub(crate) struct WatchArgs {
    #[arg(long, env = "TRUCE_SERVER")]
    pub server: String,
    /// The party whose alerts to follow.
    #[arg(long)]
    pub party: String,
    /// Resume after this log index.
    #[arg(long, conflicts_with = "from_start")]
    pub after: Option<u64>,
    /// Replay the whole history first (by default a new watch prints only what happens from
    /// now on).
    #[arg(long)]
    pub from_start: bool,
    /// Stop after this many alert messages (default: follow until interrupted).
    #[arg(long)]
    pub count: Option<usize>,
    /// Failed connections in a row before giving up.
    #[arg(long, default_value_t = 30)]
    pub retries: u32,
}

pub(crate) fn findings(j: bool, a: FindingsArgs, token: &Option<String>) -> Result<()> {
    let client = connect(&a.server, token)?;
    if let Some(id) = &a.id {
        let v = client.get_ok(&format!("/v1/findings/{id}"))?.json()?;
        print(j, v.clone(), || {
            let f = &v["finding"];
            let mut out = format!(
                "{}  [{}]  against {}  ({})\n{}\nrule: {}\nevidence:",
                f["id"].as_str().unwrap_or(""),
                f["status"].as_str().unwrap_or(""),
                f["party"].as_str().unwrap_or(""),
                f["severity"].as_str().unwrap_or(""),
                f["summary"].as_str().unwrap_or(""),
                v["rule"]["title"].as_str().unwrap_or(""),
            );
            for e in v["evidence"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "\n  entry {} {} by {} at {}",
                    e["index"],
                    e["kind"].as_str().unwrap_or(""),
                    e["author"].as_str().unwrap_or(""),
                    e["created"].as_str().unwrap_or("")
                ));
            }
            out.push_str("\nhistory:");
            for t in f["history"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "\n  {} {} (entry {}): {}",
                    t["at"].as_str().unwrap_or(""),
                    t["status"].as_str().unwrap_or(""),
                    t["index"],
                    t["reason"].as_str().unwrap_or("")
                ));
            }
            out
        });
        return Ok(());
    }
    let mut q = vec![format!("limit={}", a.limit)];
    for (k, v) in [
        ("party", &a.party),
        ("rule", &a.rule),
        ("status", &a.status),
        ("zone", &a.zone),
        ("layer", &a.layer),
        ("from", &a.from),
        ("to", &a.to),
    ] {
        if let Some(v) = v {
            q.push(format!("{k}={}", url_escape(v)));
        }
    }
    let v = client
        .get_ok(&format!("/v1/findings?{}", q.join("&")))?
        .json()?;
    print(j, v.clone(), || {
        let list = v["findings"].as_array().cloned().unwrap_or_default();
        let mut out = format!(
            "{} findings (of {}; derived state at {} entries)",
            list.len(),
            v["total"],
            v["applied_size"]
        );
        for f in &list {
            out.push_str(&format!(
                "\n{:<13} {:<3} {:<8} {}  {}",
                f["status"].as_str().unwrap_or(""),
                f["party"].as_str().unwrap_or(""),
                f["severity"].as_str().unwrap_or(""),
                f["id"].as_str().unwrap_or(""),
                clip(f["summary"].as_str().unwrap_or(""), 100)
            ));
        }
        out
    });
    Ok(())
}

/// `truce watch`.
pub(crate) fn watch(j: bool, a: WatchArgs, token: &Option<String>) -> Result<()> {
    let mut left = a.count;
    deconflict::watch(
        &a.server,
        token.as_deref(),
        &a.party,
        a.after,
        a.from_start,
        a.retries,
        |m| {
            if !["alerts", "due", "equivocation"].contains(&m.event.as_str()) {
                return Ok(true);
            }
            if j {
                let data: serde_json::Value =
                    serde_json::from_str(&m.data).unwrap_or_else(|_| json!(m.data));
                // `id`: the last event ID, what `--after` resumes from (null if none).
                let id = (!m.last_event_id.is_empty()).then_some(&m.last_event_id);
                println!("{}", json!({"event": m.event, "id": id, "data": data}));
            } else {
                print_alerts(&m.event, &m.data);
            }
            use std::io::Write as _;
            std::io::stdout().flush()?;
            if m.event == "alerts"
                && let Some(n) = left.as_mut()
            {
                *n = n.saturating_sub(1);
                return Ok(*n > 0);
            }
            Ok(true)
        },
    )?;
    Ok(())
}

/// One stream message as lines of text.
pub(crate) fn print_alerts(event: &str, data: &str) {
    let v: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    if event == "equivocation" {
        println!(
            "EQUIVOCATION  witness {}: {}",
            v["witness"].as_str().unwrap_or(""),
            v["detail"].as_str().unwrap_or("")
        );
        println!("  the log's checkpoint it refused:");
        for l in v["checkpoint"].as_str().unwrap_or("").lines() {
            println!("    {l}");
        }
        return;
    }
    if event == "due" {
        for d in v["deadlines"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            println!(
                "due   {}  {} must meet {} by {}",
                d["id"].as_str().unwrap_or(""),
                d["party"].as_str().unwrap_or(""),
                d["obligation"]["type"].as_str().unwrap_or(""),
                d["due"].as_str().unwrap_or("")
            );
        }
        return;
    }
    for a in v["alerts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        println!(
            "{:>6}  {:<16} {}",
            v["index"],
            a["type"].as_str().unwrap_or(""),
            a["summary"].as_str().unwrap_or("")
        );
    }
}

/// `text` in at most `max` characters: whole, or cut at the last word boundary before the
/// limit (mid-word only when a single word is longer), with an ellipsis.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match head.rfind(char::is_whitespace) {
        Some(i) if i > 0 => head[..i].trim_end(),
        _ => head.as_str(),
    };
    format!("{cut}…")
}

/// Percent-encodes a query value.
pub(crate) fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_cut_mid_word_regression() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("artillery rounds landed", 20), "artillery rounds…");
        assert_eq!(clip("Qunaytirah-governorate-wide", 10), "Qunaytira…");
        assert_eq!(clip("قصف مدفعي على القنيطرة", 12), "قصف مدفعي…");
        assert!(clip(&"word ".repeat(40), 100).chars().count() <= 100);
    }
}
