//! `truce token`: API tokens of a data directory's members, made, listed and revoked beside a
//! running server (SQLite and PostgreSQL both let it write beside the server, which reads a
//! token's row on every request, so a revocation applies at once).

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use std::path::Path;
use truce_model::registry::MemberStatus;
use truce_server::auth::{MAX_TOKEN_DAYS, Scope, new_token};
use truce_store::{Store, TokenRecord};

/// The store of `data`'s log: `DATA/truce.db`, or the PostgreSQL database
/// `TRUCE_DATABASE_URL` or the directory's configuration names (see [`crate::database`]).
fn open(data: &Path) -> Result<std::sync::Arc<dyn Store>> {
    let dir = truce_server::DataDir::open(data)?;
    crate::database::Database::for_dir(None, &dir)?.open(&dir)
}

/// Parses a lifetime such as `30d`, `12h`, `45m` or `90s` into seconds (at most a year and a
/// day).
pub fn parse_lifetime(s: &str) -> Result<i64> {
    let bad = || anyhow!("--expires `{s}` must be a number followed by d, h, m or s (e.g. 30d)");
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "d" => n.checked_mul(86_400),
        "h" => n.checked_mul(3_600),
        "m" => n.checked_mul(60),
        "s" => Some(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    if seconds <= 0 || seconds > MAX_TOKEN_DAYS * 86_400 {
        bail!("--expires `{s}` must be more than 0 and at most {MAX_TOKEN_DAYS}d");
    }
    Ok(seconds)
}

/// A token as listed (never its secret).
#[derive(Debug, Serialize)]
pub struct Listed {
    pub id: String,
    pub member: String,
    pub scope: String,
    pub created: String,
    pub expires: String,
    pub revoked: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

fn time(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map_or_else(|_| unix.to_string(), |t| t.to_string())
}

fn listed(t: TokenRecord, now: i64) -> Listed {
    let state = if t.revoked.is_some() {
        "revoked"
    } else if now >= t.expires {
        "expired"
    } else {
        "active"
    };
    Listed {
        id: t.id,
        member: t.member,
        scope: t.scope,
        created: time(t.created),
        expires: time(t.expires),
        revoked: t.revoked.map(time),
        state,
    }
}

/// A token just made: the secret string is shown once.
#[derive(Debug, Serialize)]
pub struct Created {
    pub token: String,
    #[serde(flatten)]
    pub listed: Listed,
}

/// Makes a token for an active member of the data directory's mechanism.
pub fn create(data: &Path, member: &str, scope: &str, lifetime: &str) -> Result<Created> {
    let scope = Scope::parse(scope)
        .ok_or_else(|| anyhow!("--scope `{scope}` must be `read` or `write`"))?;
    let lifetime = parse_lifetime(lifetime)?;
    let store = open(data)?;
    let registry = truce_server::service::registry_of(store.as_ref())?;
    let m = registry
        .members()
        .find(|m| m.id == member)
        .with_context(|| format!("`{member}` is not a member of this mechanism"))?;
    if m.status != MemberStatus::Active {
        bail!("member `{member}` is not active; no token is made for it");
    }
    let now = jiff::Timestamp::now().as_second();
    let t = new_token(member, scope, now, now + lifetime).map_err(|e| anyhow!(e))?;
    store.put_token(&t.record)?;
    Ok(Created {
        token: t.token,
        listed: listed(t.record, now),
    })
}

/// Every token of the data directory.
pub fn list(data: &Path) -> Result<Vec<Listed>> {
    let now = jiff::Timestamp::now().as_second();
    Ok(open(data)?
        .tokens()?
        .into_iter()
        .map(|t| listed(t, now))
        .collect())
}

/// Revokes a token by its id (the part after `truce_`, or the whole token).
pub fn revoke(data: &Path, id: &str) -> Result<Listed> {
    let id = truce_server::auth::parse_token(id).map_or(id, |(id, _)| id);
    let store = open(data)?;
    let now = jiff::Timestamp::now().as_second();
    if !store.revoke_token(id, now)? {
        match store.token(id)? {
            Some(_) => bail!("token {id} was already revoked"),
            None => bail!("no token {id}; list them with `truce token list`"),
        }
    }
    let t = store
        .token(id)?
        .with_context(|| format!("token {id} vanished"))?;
    Ok(listed(t, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        assert_eq!(parse_lifetime("30d").unwrap(), 30 * 86_400);
        assert_eq!(parse_lifetime("12h").unwrap(), 12 * 3_600);
        assert_eq!(parse_lifetime("1m").unwrap(), 60);
        assert_eq!(parse_lifetime("2s").unwrap(), 2);
        for bad in [
            "",
            "d",
            "0d",
            "-1d",
            "30",
            "30x",
            "367d",
            "99999999999999999d",
        ] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }
}
