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
    /// age X25519 identity (`AGE-SECRET-KEY-1…`) that opens content sealed to the member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encryption_secret: Option<String>,
    /// Its recipient (`age1…`), as registered in the agreement or a membership entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encryption_key: Option<String>,
}

/// A member's signing key, and the encryption identity for sealed content if it has one.
pub struct MemberKey {
    pub member: String,
    pub key: SigningKey,
    pub encryption: Option<age::x25519::Identity>,
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
            encryption: Some(age::x25519::Identity::generate()),
        }
    }

    /// The age recipient (`age1…`) sealed content for this member is encrypted to.
    pub fn encryption_key(&self) -> Option<String> {
        self.encryption.as_ref().map(|i| i.to_public().to_string())
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
            encryption_secret: self.encryption.as_ref().map(|i| {
                use age::secrecy::ExposeSecret as _;
                i.to_string().expose_secret().to_owned()
            }),
            encryption_key: self.encryption_key(),
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
        let encryption = f
            .encryption_secret
            .as_deref()
            .map(|s| {
                s.parse::<age::x25519::Identity>().map_err(|e| {
                    anyhow::anyhow!(
                        "{}: encryption_secret is not an age identity: {e}",
                        path.display()
                    )
                })
            })
            .transpose()?;
        let key = Self {
            member: f.member,
            key: SigningKey::from_bytes(&seed),
            encryption,
        };
        if key.encryption_key() != f.encryption_key {
            bail!(
                "{}: encryption_key does not match encryption_secret; the file is damaged",
                path.display()
            );
        }
        if key.public_key_b64() != f.public_key || key.key_id() != f.key_id {
            bail!(
                "{}: public_key/key_id do not match secret_key; the file is damaged",
                path.display()
            );
        }
        Ok(key)
    }
}
