//! Member key files: `{"format":"truce-member-key/1","member":..,"secret_key":..,...}`, mode 0600.

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::path::Path;
use truce_log::dsse::key_id;
use truce_server::datadir::{read_secret, write_secret};

const FORMAT: &str = "truce-member-key/1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    member: String,
    secret_key: String,
    public_key: String,
    key_id: String,
}

/// A member's signing key.
pub struct MemberKey {
    pub member: String,
    pub key: SigningKey,
}

impl std::fmt::Debug for MemberKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemberKey({}, {})", self.member, self.key_id())
    }
}

impl MemberKey {
    pub fn generate(member: &str) -> Self {
        Self {
            member: member.into(),
            key: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    pub fn public_key_b64(&self) -> String {
        B64.encode(self.key.verifying_key().as_bytes())
    }

    pub fn key_id(&self) -> String {
        key_id(&self.key.verifying_key())
    }

    /// Writes the key file (0600); refuses to overwrite.
    pub fn save(&self, path: &Path) -> Result<()> {
        let file = KeyFile {
            format: FORMAT.into(),
            member: self.member.clone(),
            secret_key: B64.encode(self.key.to_bytes()),
            public_key: self.public_key_b64(),
            key_id: self.key_id(),
        };
        write_secret(path, &(serde_json::to_string_pretty(&file)? + "\n"))?;
        Ok(())
    }

    /// Reads a key file, refusing one that others can read or whose parts disagree.
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_secret(path)?;
        let f: KeyFile = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a truce member key file", path.display()))?;
        if f.format != FORMAT {
            bail!(
                "{}: key format `{}` is not {FORMAT}",
                path.display(),
                f.format
            );
        }
        let seed: [u8; 32] = B64
            .decode(&f.secret_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("{}: secret_key is not 32 bytes of base64", path.display()))?;
        let key = Self {
            member: f.member,
            key: SigningKey::from_bytes(&seed),
        };
        if key.public_key_b64() != f.public_key || key.key_id() != f.key_id {
            bail!(
                "{}: public_key/key_id do not match secret_key; the file is damaged",
                path.display()
            );
        }
        Ok(key)
    }
}
