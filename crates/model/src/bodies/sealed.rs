//! Sealed content: need-to-know parts encrypted with age to named members.

use super::*;

/// Content encrypted with age (X25519 recipients) to named members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// The members it is encrypted to (their `encryption_key` in the agreement or membership).
    pub recipients: Vec<String>,
    /// The binary age file, standard base64.
    pub age: String,
}

/// Largest sealed payload accepted (base64 characters).
pub const MAX_SEALED_B64: usize = 256 * 1024;

impl Sealed {
    pub fn check(&self, at: &str) -> Result<(), Refusal> {
        if self.recipients.is_empty() {
            return Err(Refusal::invalid(format!(
                "{at}.recipients must name at least one member"
            )));
        }
        for r in &self.recipients {
            crate::ids::check_member_id(&format!("{at}.recipients[]"), r)?;
        }
        if self.age.len() > MAX_SEALED_B64 {
            return Err(Refusal::invalid(format!(
                "{at}.age is larger than {MAX_SEALED_B64} base64 characters"
            )));
        }
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.age)
            .map_err(|e| Refusal::invalid(format!("{at}.age is not standard base64: {e}")))?;
        if !bytes.starts_with(b"age-encryption.org/v1\n") {
            return Err(Refusal::invalid(format!(
                "{at}.age is not an age file (it must start with `age-encryption.org/v1`)"
            )));
        }
        Ok(())
    }
}
