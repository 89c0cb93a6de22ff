//! `truce token`: API tokens in the data directory.

use crate::print;
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Make a token for an active member; prints it once (only its hash is stored).
    Create {
        #[arg(long, env = "TRUCE_DATA")]
        data: PathBuf,
        /// Member id, e.g. `sy.ops`.
        #[arg(long)]
        member: String,
        /// `read` (every read endpoint) or `write` (reads, and writes as the member).
        #[arg(long, default_value = "read")]
        scope: String,
        /// Lifetime: a number and d, h, m or s (at most 366d).
        #[arg(long, default_value = "30d")]
        expires: String,
    },
    /// List every token (id, member, scope, expiry, state); never the secrets.
    List {
        #[arg(long, env = "TRUCE_DATA")]
        data: PathBuf,
    },
    /// Revoke a token by id; it is refused from the next request on.
    Revoke {
        #[arg(long, env = "TRUCE_DATA")]
        data: PathBuf,
        /// The token's id (or the whole token).
        id: String,
    },
}

pub(crate) fn run(j: bool, t: TokenCommand) -> Result<()> {
    use truce_client::tokens;
    let line = |t: &tokens::Listed| {
        format!(
            "{}  {:<12} {:<5} {:<7} expires {}",
            t.id, t.member, t.scope, t.state, t.expires
        )
    };
    match t {
        TokenCommand::Create {
            data,
            member,
            scope,
            expires,
        } => {
            let c = tokens::create(&data, &member, &scope, &expires)?;
            print(j, serde_json::to_value(&c)?, || {
                format!(
                    "{}\n{}\n(the token is shown only now; send it as `Authorization: Bearer <token>`)",
                    c.token,
                    line(&c.listed)
                )
            });
        }
        TokenCommand::List { data } => {
            let all = tokens::list(&data)?;
            print(j, serde_json::to_value(&all)?, || {
                if all.is_empty() {
                    "no tokens".to_owned()
                } else {
                    all.iter().map(line).collect::<Vec<_>>().join("\n")
                }
            });
        }
        TokenCommand::Revoke { data, id } => {
            let r = tokens::revoke(&data, &id)?;
            print(j, serde_json::to_value(&r)?, || {
                format!("revoked {}", line(&r))
            });
        }
    }
    Ok(())
}
