//! Why an entry was refused, in terms an API can turn into an RFC 9457 problem.

/// A refusal: a stable machine-readable code, an HTTP status, and a precise, actionable
/// message. Nothing is stored for a refused entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Refusal {
    /// Stable slug (`bad-signature`, `unknown-key`, ...); the problem type is
    /// `urn:truce:problem:<code>`.
    pub code: &'static str,
    /// The HTTP status it maps to.
    pub status: u16,
    /// What went wrong and what to do about it.
    pub detail: String,
}

impl Refusal {
    pub fn new(code: &'static str, status: u16, detail: impl Into<String>) -> Self {
        Self {
            code,
            status,
            detail: detail.into(),
        }
    }

    /// The entry does not follow its schema (422).
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new("invalid-entry", 422, detail)
    }

    /// A short human title for the code, used as the problem's `title`.
    pub fn title(&self) -> &'static str {
        match self.code {
            "malformed-envelope" => "Malformed DSSE envelope",
            "wrong-payload-type" => "Wrong payload type",
            "entry-too-large" => "Entry too large",
            "invalid-entry" => "Entry does not follow its schema",
            "wrong-mechanism" => "Entry is for another mechanism",
            "future-timestamp" => "Entry created in the future",
            "past-timestamp" => "Entry created too long before the log's clock",
            "unknown-key" => "Unknown signing key",
            "bad-signature" => "Signature does not verify",
            "author-mismatch" => "Author is not the key's member",
            "member-inactive" => "Member is not active",
            "role-not-allowed" => "Role may not submit this kind",
            "not-in-force" => "Agreement not in force",
            "genesis-required" => "Log must start with the agreement",
            "missing-blob" => "Referenced blob not uploaded",
            "conflict" => "Conflicts with the log",
            "not-applicable" => "Would have no effect on the findings",
            "not-built" => "Not built yet",
            "not-found" => "Not found",
            "token-member-mismatch" => "Token is another member's",
            "unavailable" => "Temporarily unavailable",
            "read-only-mirror" => "Read-only mirror",
            _ => "Entry refused",
        }
    }
}
