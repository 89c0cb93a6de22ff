//! Why an entry was refused, in terms an API can turn into an RFC 9457 problem.

/// Declares the problem codes: one line per code with its slug, HTTP status and title.
macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $slug:literal, $status:literal, $title:literal; )+) => {
        /// Every problem code the server sends (`urn:truce:problem:<slug>`), with its HTTP
        /// status and title: the table in docs/api.md ("Problem codes"), which a test compares
        /// with this one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$doc])* $variant, )+
        }

        impl Code {
            /// Every code, in the order of docs/api.md's table.
            pub const ALL: &'static [Code] = &[$( Code::$variant, )+];

            /// The stable slug (`bad-signature`).
            pub fn slug(self) -> &'static str {
                match self { $( Code::$variant => $slug, )+ }
            }

            /// The HTTP status it is sent with.
            pub fn status(self) -> u16 {
                match self { $( Code::$variant => $status, )+ }
            }

            /// A short human title, the problem's `title`.
            pub fn title(self) -> &'static str {
                match self { $( Code::$variant => $title, )+ }
            }
        }
    };
}

codes! {
    MalformedEnvelope = "malformed-envelope", 400, "Malformed DSSE envelope";
    WrongPayloadType = "wrong-payload-type", 415, "Wrong payload type";
    EntryTooLarge = "entry-too-large", 413, "Entry too large";
    RequestTooLarge = "request-too-large", 413, "Request too large";
    BatchTooLarge = "batch-too-large", 413, "Batch too large";
    InvalidEntry = "invalid-entry", 422, "Entry does not follow its schema";
    WrongMechanism = "wrong-mechanism", 422, "Entry is for another mechanism";
    FutureTimestamp = "future-timestamp", 422, "Entry created in the future";
    PastTimestamp = "past-timestamp", 422, "Entry created too long before the log's clock";
    BadSignature = "bad-signature", 401, "Signature does not verify";
    UnknownKey = "unknown-key", 403, "Unknown signing key";
    AuthorMismatch = "author-mismatch", 403, "Author is not the key's member";
    MemberInactive = "member-inactive", 403, "Member is not active";
    CountersignatureRequired = "countersignature-required", 403, "Mediator's countersignature required";
    CountersignatureRefused = "countersignature-refused", 403, "Countersignature not accepted";
    RoleNotAllowed = "role-not-allowed", 403, "Role may not submit this kind";
    NotInForce = "not-in-force", 409, "Agreement not in force";
    GenesisRequired = "genesis-required", 409, "Log must start with the agreement";
    MissingBlob = "missing-blob", 409, "Referenced blob not uploaded";
    Conflict = "conflict", 409, "Conflicts with the log";
    NotApplicable = "not-applicable", 409, "Would have no effect on the findings";
    ReadOnlyMirror = "read-only-mirror", 405, "Read-only mirror";
    Unauthenticated = "unauthenticated", 401, "Authentication required";
    InvalidToken = "invalid-token", 401, "Authentication required";
    TokenExpired = "token-expired", 401, "Authentication required";
    TokenRevoked = "token-revoked", 401, "Authentication required";
    InsufficientScope = "insufficient-scope", 403, "Not allowed";
    TokenMemberMismatch = "token-member-mismatch", 403, "Token is another member's";
    RateLimited = "rate-limited", 429, "Too many requests";
    NoWitnessQuorum = "no-witness-quorum", 503, "No checkpoint has its witness quorum yet";
    TooManyStreams = "too-many-streams", 503, "Too many streams";
    HeadersTooLarge = "headers-too-large", 431, "Request headers too large";
    BadRequest = "bad-request", 400, "Bad request";
    NotFound = "not-found", 404, "Not found";
    MethodNotAllowed = "method-not-allowed", 405, "Method not allowed";
    BlobHashMismatch = "blob-hash-mismatch", 422, "Blob does not match its address";
    Unavailable = "unavailable", 503, "Temporarily unavailable";
    Timeout = "timeout", 503, "Request timed out";
}

impl Code {
    /// The code with this slug.
    pub fn parse(slug: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.slug() == slug)
    }
}

/// A refusal: a stable machine-readable code, an HTTP status, and a precise, actionable
/// message. Nothing is stored for a refused entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Refusal {
    /// Stable slug (`bad-signature`, `unknown-key`, ...); the problem type is
    /// `urn:truce:problem:<code>`. It is `kind.slug()`.
    pub code: &'static str,
    /// The HTTP status it maps to (`kind.status()`).
    pub status: u16,
    /// The code itself.
    pub kind: Code,
    /// What went wrong and what to do about it.
    pub detail: String,
}

impl Refusal {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Self {
            code: code.slug(),
            status: code.status(),
            kind: code,
            detail: detail.into(),
        }
    }

    /// The entry does not follow its schema (422).
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(Code::InvalidEntry, detail)
    }

    /// A short human title for the code, used as the problem's `title`.
    pub fn title(&self) -> &'static str {
        self.kind.title()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows `| `code` | status | ... |` of docs/api.md's "Problem codes" table.
    fn documented() -> Vec<(String, u16)> {
        let doc = include_str!("../../../docs/api.md");
        let table = &doc[doc
            .find("## Problem codes")
            .expect("docs/api.md has a Problem codes section")..];
        table
            .lines()
            .filter_map(|l| {
                let mut cells = l.strip_prefix("| `")?.split(" | ");
                let code = cells.next()?.strip_suffix('`')?;
                let status = cells.next()?.parse().ok()?;
                Some((code.to_owned(), status))
            })
            .collect()
    }

    #[test]
    fn the_problem_codes_are_the_documented_table() {
        let doc = documented();
        let code: Vec<(String, u16)> = Code::ALL
            .iter()
            .map(|c| (c.slug().to_owned(), c.status()))
            .collect();
        assert_eq!(
            code, doc,
            "docs/api.md's problem table and refusal.rs's `codes!` differ"
        );
        for c in Code::ALL {
            assert_eq!(Code::parse(c.slug()), Some(*c));
            assert!(!c.title().is_empty());
        }
    }
}
