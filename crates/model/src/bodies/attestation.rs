//! Attestations of calm: no significant incident in a period.

use super::*;

/// A party attests that, as far as it knows, no significant incident happened in a period:
/// calm on record. Every party's attestation of the same period makes it co-signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// The period attested: both ends exact UTC times; it must have ended.
    pub period: TimeSpan,
    pub statement: String,
}

/// Longest period one attestation may cover.
pub const MAX_ATTESTATION_DAYS: i64 = 31;

impl Attestation {
    pub fn checked(self, created: jiff::Timestamp) -> Result<Self, Refusal> {
        let (start, end) = self.period.check("body.period")?;
        if self.period.end.is_none() || start == end {
            return Err(Refusal::invalid("body.period needs an end after its start"));
        }
        if end > created {
            return Err(Refusal::invalid(
                "body.period must have ended when the attestation is made",
            ));
        }
        if end.duration_since(start).as_secs() > MAX_ATTESTATION_DAYS * 86_400 {
            return Err(Refusal::invalid(format!(
                "body.period is longer than {MAX_ATTESTATION_DAYS} days"
            )));
        }
        check_text("body.statement", &self.statement, 2000)?;
        Ok(self)
    }
}
