//! `truce audit URL`: the whole record checked end to end, every anomaly reported.

use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub struct AuditArgs {
    /// The server (or a party's mirror of it) to audit, e.g. http://127.0.0.1:8080.
    #[arg(
        env = "TRUCE_SERVER",
        required_unless_present = "bundle",
        conflicts_with = "bundle"
    )]
    pub url: Option<String>,
    /// Audit an export bundle (`truce export-bundle`) instead, offline. The freshness of the
    /// witness cosignatures is not judged: a bundle is as old as it is.
    #[arg(long, value_name = "DIR")]
    pub bundle: Option<std::path::PathBuf>,
    /// The log's verifier key, obtained out of band; without it the server's own key is
    /// trusted, and the report says so.
    #[arg(long, env = "TRUCE_VKEY")]
    pub vkey: Option<String>,
}

#[derive(Args)]
pub struct ExportBundleArgs {
    /// The server to copy from.
    #[arg(long, env = "TRUCE_SERVER")]
    pub server: String,
    /// A new (or empty) directory to write the bundle to.
    #[arg(long)]
    pub out: std::path::PathBuf,
}

/// `truce export-bundle`.
pub fn export(j: bool, a: ExportBundleArgs, token: &Option<String>) -> Result<()> {
    let client = crate::connect(&a.server, token)?;
    let progress = !j && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let r = truce_client::audit::export_bundle(&client, &a.out, progress)?;
    crate::print(j, serde_json::to_value(&r)?, || {
        format!(
            "exported {} entries to {} ({} files, {} bytes); audit it with: truce audit --bundle {} --vkey <the log's verifier key>",
            r.tree_size,
            r.dir.display(),
            r.files,
            r.bytes,
            r.dir.display()
        )
    });
    Ok(())
}

/// Runs the audit; exit code 3 if it found any anomaly.
pub fn run(j: bool, a: AuditArgs, token: &Option<String>) -> Result<()> {
    let (url, fresh) = match (&a.url, &a.bundle) {
        (_, Some(dir)) => (truce_client::audit::serve_bundle(dir)?, false),
        (Some(u), None) => (u.clone(), true),
        (None, None) => anyhow::bail!("give the server's URL, or --bundle DIR"),
    };
    let client = crate::connect(&url, token)?;
    let progress = !j && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let r = truce_client::audit::audit(&client, a.vkey.as_deref(), progress, fresh)?;
    crate::print(j, serde_json::to_value(&r)?, || {
        let mut s = format!(
            "audit of {} ({} entries) in {:.1} s\nchecked:\n",
            r.origin, r.tree_size, r.seconds
        );
        for c in &r.checked {
            s.push_str(&format!("  - {c}\n"));
        }
        s.push_str(&format!(
            "entries re-admitted without fault: {} of {}\n",
            r.entries_verified, r.tree_size
        ));
        match r.commitment_size {
            Some(n) => s.push_str(&format!("state commitment for {n} entries replayed\n")),
            None => s.push_str("no state commitment to replay yet\n"),
        }
        if let Some(w) = &r.witnesses {
            s.push_str(&format!(
                "witness policy met: cosigned by {}\n",
                w.cosigned_by.join(", ")
            ));
        }
        if r.trusted_on_first_use {
            s.push_str(&format!(
                "warning: no --vkey given; trusted the server's own key {}\n",
                r.verifier_key
            ));
        }
        if r.anomalies.is_empty() {
            s.push_str("OK: no anomaly");
        } else {
            s.push_str(&format!("FAILED: {} anomalies\n", r.anomalies.len()));
            for an in &r.anomalies {
                let at = an
                    .index
                    .map(|i| format!(" (entry {i})"))
                    .unwrap_or_default();
                s.push_str(&format!("  {}{at}: {}\n", an.check, an.detail));
            }
        }
        s.trim_end().to_owned()
    });
    if !r.anomalies.is_empty() {
        return Err(anyhow::anyhow!(crate::ExitWith(3)));
    }
    Ok(())
}
