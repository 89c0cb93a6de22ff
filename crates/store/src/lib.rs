//! The storage interface of a truce log: what the sequencer and the read side need from a
//! database, and nothing about which database.
//!
//! Implementations: `truce-store-sqlite` (embedded, the default) and `truce-store-postgres`.
//! Every method is blocking; async callers run them on a blocking thread. [`contract`] is what
//! every implementation must do, as checks their tests run against a real database.

pub mod contract;

use truce_log::{Hash, SignedCheckpoint};

/// A storage failure. Its message is for logs, not for API clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("storage schema version {found} is newer than this binary supports ({supported})")]
    TooNew { found: i64, supported: i64 },
    /// Another server committed to the same database first (an entry index or a checkpoint
    /// size this append would take is taken): nothing of the append is stored.
    #[error("another server committed first: {0}")]
    Conflict(String),
}

/// An entry about to be appended.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The leaf bytes (the compact envelope).
    pub leaf: Vec<u8>,
    pub leaf_hash: Hash,
    /// For queries and operators; the leaf is the record.
    pub kind: &'static str,
    pub author: String,
}

/// One durable append: entries `first_index..`, the stored hashes they add (from stored index
/// `hashes_from`), and the checkpoint that commits to the new tree.
#[derive(Debug)]
pub struct Append<'a> {
    pub first_index: u64,
    pub entries: &'a [NewEntry],
    pub hashes_from: u64,
    pub hashes: &'a [Hash],
    pub checkpoint: &'a SignedCheckpoint,
}

/// What a store holds at start-up.
#[derive(Debug, Default)]
pub struct Loaded {
    pub size: u64,
    /// Every stored hash, in stored-index order.
    pub hashes: Vec<Hash>,
    /// The latest checkpoint's note, if any was issued.
    pub checkpoint: Option<Vec<u8>>,
}

/// An API token as stored: never the secret, only its argon2 hash (PHC string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The public part of the token, by which it is found.
    pub id: String,
    /// The member the token acts for.
    pub member: String,
    /// `read` or `write`.
    pub scope: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds; the token is refused from then on.
    pub expires: i64,
    /// Unix seconds of revocation, if revoked.
    pub revoked: Option<i64>,
    /// argon2id hash of the secret part, as a PHC string.
    pub secret_hash: String,
}

/// See the crate docs.
pub trait Store: Send + Sync + 'static {
    /// Reads the tree state to resume from.
    fn load(&self) -> Result<Loaded, StoreError>;

    /// Appends entries, hashes and checkpoint in one transaction, durable (fsynced) when it
    /// returns. Either all of it is stored or none.
    fn append(&self, batch: Append<'_>) -> Result<(), StoreError>;

    /// Leaves `from..to` (clamped to what exists), in order.
    fn leaves(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError>;

    /// A checkpoint issued for exactly this tree size, if any.
    fn checkpoint_at(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// The first checkpoint issued for a tree containing entry `index` (the one its commit
    /// published): its size and note.
    fn checkpoint_covering(&self, index: u64) -> Result<Option<(u64, Vec<u8>)>, StoreError>;

    /// Stores a blob under its SHA-256 (hex). Returns false if it was already there.
    fn put_blob(&self, sha256: &str, data: &[u8]) -> Result<bool, StoreError>;

    /// A blob by SHA-256 (hex).
    fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Saves a snapshot of the derived state after `size` entries, replacing older ones. A
    /// snapshot only saves start-up time: the log remains the record, and a state commitment
    /// made from a snapshot is checked by anyone who replays the log.
    fn put_state(&self, size: u64, state: &[u8]) -> Result<(), StoreError>;

    /// The latest derived-state snapshot: its size and bytes.
    fn latest_state(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError>;

    /// Stores a signed state commitment for `size` entries (idempotent).
    fn put_commitment(&self, size: u64, note: &[u8]) -> Result<(), StoreError>;

    /// The state commitment for exactly `size` entries, or with `None` the latest: its size
    /// and note.
    fn commitment(&self, size: Option<u64>) -> Result<Option<(u64, Vec<u8>)>, StoreError>;

    /// Stores a new API token (its id must be new).
    fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError>;

    /// An API token by id.
    fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Every API token, revoked and expired ones included, oldest first.
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// Marks a token revoked at `at` (unix seconds). Returns false if there is no such token
    /// or it was already revoked.
    fn revoke_token(&self, id: &str, at: i64) -> Result<bool, StoreError>;

    /// Every issued checkpoint: tree size and note, by size (for copies and backups).
    fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;

    /// The SHA-256 (hex) of every stored blob, in order.
    fn blob_ids(&self) -> Result<Vec<String>, StoreError>;

    /// Every stored state commitment: size and note, by size.
    fn commitments(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;

    /// The latest issued checkpoint: its size and note. Several servers on one database
    /// poll it to follow each other's commits.
    fn head(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        Ok(self.checkpoints()?.pop())
    }

    /// Which database this is (`sqlite`, `postgresql`), for health reports.
    fn backend(&self) -> &'static str;

    /// A cheap round trip to the database, for health reports: fails when it is unreachable.
    fn ping(&self) -> Result<(), StoreError> {
        self.checkpoint_at(0).map(|_| ())
    }
}
