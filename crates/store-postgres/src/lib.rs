//! The PostgreSQL store of a truce log, for a mechanism that must stay up: PostgreSQL's own
//! streaming replication and failover keep the log, and `truce serve` runs on any machine that
//! reaches the database.
//!
//! The client is `postgres` (rust-postgres, the blocking face of `tokio-postgres`): the
//! [`Store`] trait is blocking, the crate is widely used and maintained, speaks the protocol
//! natively (no C library) and binds parameters as the wire protocol's binary values.
//!
//! Durability: every session sets `synchronous_commit = on`, so a commit returns only once its
//! WAL is flushed on the primary (and, when the cluster names synchronous standbys, on them),
//! whatever the server's default. The sequencer sends a receipt only after [`Store::append`]
//! returned, so an acknowledged entry is on disk.
//!
//! Connections are made when first needed and made again after the database went away (a
//! restart, a failover): a connection idle for a second is checked before it is used, a read
//! that finds its connection broken reconnects and is repeated once, and a write that does is
//! not repeated (it fails; the next call reconnects). Migrations are embedded and applied by [`PostgresStore::open`] (and by
//! `truce migrate`), under an advisory lock so that several servers starting at once apply
//! each one exactly once.

pub mod testing;

use postgres::{Client, NoTls};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use truce_log::Hash;
use truce_store::{Append, Loaded, Store, StoreError, TokenRecord};

/// Ordered migrations; `truce_schema.version` records how many are applied.
const MIGRATIONS: &[&str] = &[
    // 1: the log, its hashes, issued checkpoints, blobs.
    "CREATE TABLE entries (
        idx BIGINT PRIMARY KEY,
        leaf_hash BYTEA NOT NULL,
        leaf BYTEA NOT NULL,
        kind TEXT NOT NULL,
        author TEXT NOT NULL
    );
    -- Stored hashes (tlog stored-hash order) in runs, one row per commit: `first` is the stored
    -- index of the first hash, `hashes` the concatenated 32-byte hashes.
    CREATE TABLE hash_runs (first BIGINT PRIMARY KEY, hashes BYTEA NOT NULL);
    CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, note BYTEA NOT NULL);
    CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, data BYTEA NOT NULL);",
    // 2: the derived state: the latest snapshot and every published state commitment.
    "CREATE TABLE state_snapshots (size BIGINT PRIMARY KEY, state BYTEA NOT NULL);
    CREATE TABLE state_commitments (size BIGINT PRIMARY KEY, note BYTEA NOT NULL);",
    // 3: API tokens, stored hashed (argon2id); found by their public id.
    "CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        member TEXT NOT NULL,
        scope TEXT NOT NULL,
        created BIGINT NOT NULL,
        expires BIGINT NOT NULL,
        revoked BIGINT,
        secret_hash TEXT NOT NULL
    );",
];

/// The advisory lock key migrations run under (any constant; "truce" in ASCII).
const MIGRATION_LOCK: i64 = 0x0074_7275_6365;

/// How long a session may sit inside a transaction without sending anything before
/// PostgreSQL ends it (our transactions send their statements back to back).
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(10);

/// Readers kept open besides the writer.
const READERS: usize = 4;

fn db(e: postgres::Error) -> StoreError {
    // The server's message (and its SQLSTATE) when there is one: "db error" alone says nothing.
    match e.as_db_error() {
        Some(d) => StoreError::Database(format!("{} ({})", d.message(), d.code().code())),
        None => StoreError::Database(e.to_string()),
    }
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} exceeds PostgreSQL bigint")))
}

fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative size or index {n}")))
}

fn to_hash(bytes: &[u8]) -> Result<Hash, StoreError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("hash is not 32 bytes".into()))?;
    Ok(Hash(arr))
}

/// A connection made when first needed, and again after it broke.
struct Slot {
    client: Mutex<Option<(Client, Instant)>>,
}

/// A connection idle this long is checked (one round trip) before it is used again: a
/// database restart or failover while the server was quiet is then found before a write
/// depends on it.
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// How long that check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// See the crate docs.
pub struct PostgresStore {
    url: String,
    writer: Slot,
    readers: Vec<Slot>,
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: show where, not how.
        f.debug_struct("PostgresStore")
            .field("database", &redact(&self.url))
            .finish_non_exhaustive()
    }
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_info = &url[scheme + 3..at];
            let user = user_info.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

fn connect(url: &str) -> Result<Client, StoreError> {
    let mut c = Client::connect(url, NoTls).map_err(|e| {
        // "error connecting to server" alone does not say why: add the cause (refused, no
        // such host, authentication failed).
        let cause = std::error::Error::source(&e)
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        StoreError::Database(format!("connecting to {}: {e}{cause}", redact(url)))
    })?;
    // A server paused or cut off inside a transaction (SIGSTOP, a partition) must not hold
    // the rows it inserted, and so the other servers, for long: PostgreSQL ends such a session
    // after IDLE_IN_TRANSACTION, which aborts its transaction (nothing of it is stored).
    c.batch_execute(&format!(
        "SET synchronous_commit = on; SET idle_in_transaction_session_timeout = '{}s'",
        IDLE_IN_TRANSACTION.as_secs()
    ))
    .map_err(db)?;
    Ok(c)
}

impl Slot {
    fn new() -> Self {
        Slot {
            client: Mutex::new(None),
        }
    }

    /// Runs `f` on this slot's connection, connecting first if there is none, it broke, or it
    /// was idle and no longer answers. A connection found broken is dropped, so the next call
    /// connects again; with `retry` (reads, which are safe to repeat) this call does so once
    /// itself. A write that fails on a broken connection is not repeated: whether it committed
    /// is the caller's question (the sequencer reloads the log from the store).
    fn with<T: Send>(
        &self,
        url: &str,
        retry: bool,
        f: impl FnMut(&mut Client) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        off_runtime(|| self.with_here(url, retry, f))
    }

    fn with_here<T>(
        &self,
        url: &str,
        retry: bool,
        mut f: impl FnMut(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self
            .client
            .lock()
            .map_err(|_| StoreError::Database("connection lock poisoned".into()))?;
        for attempt in 0..2 {
            let stale = match guard.as_mut() {
                None => true,
                Some((c, last)) => {
                    c.is_closed()
                        || (last.elapsed() >= IDLE_CHECK && c.is_valid(CHECK_TIMEOUT).is_err())
                }
            };
            if stale {
                *guard = Some((connect(url)?, Instant::now()));
            }
            let Some((client, last)) = guard.as_mut() else {
                return Err(StoreError::Database("no connection".into()));
            };
            let out = f(client);
            *last = Instant::now();
            if out.is_err() && client.is_closed() {
                *guard = None;
                if retry && attempt == 0 {
                    continue;
                }
            }
            return out;
        }
        Err(StoreError::Database(
            "the database connection broke twice".into(),
        ))
    }
}

/// Runs `f` where the blocking client may block: `postgres` drives each connection with a
/// runtime of its own, which cannot be entered from a thread already inside a Tokio runtime
/// (the server calls the store from its async tasks, as the SQLite store allows). On a
/// multi-threaded runtime `f` runs in `block_in_place` (the worker's other tasks move on);
/// on a current-thread runtime, on a scoped thread while this one waits.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => f(),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| match s.spawn(f).join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        }),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`) and applies pending
    /// migrations.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let store = PostgresStore {
            url: url.to_owned(),
            writer: Slot::new(),
            readers: (0..READERS).map(|_| Slot::new()).collect(),
            next_reader: AtomicUsize::new(0),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Applies pending migrations; returns the schema version (the number applied in all).
    pub fn migrate(&self) -> Result<i64, StoreError> {
        self.writer.with(&self.url, false, migrate)
    }

    /// The schema version this binary writes.
    pub fn supported_version() -> i64 {
        MIGRATIONS.len() as i64
    }

    fn read<T: Send>(
        &self,
        f: impl FnMut(&mut Client) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        self.readers[i].with(&self.url, true, f)
    }

    fn write<T: Send>(
        &self,
        f: impl FnMut(&mut Client) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        self.writer.with(&self.url, false, f)
    }
}

fn migrate(c: &mut Client) -> Result<i64, StoreError> {
    let mut tx = c.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS truce_schema (version BIGINT NOT NULL)")
        .map_err(db)?;
    let version: i64 = match tx
        .query_opt("SELECT version FROM truce_schema", &[])
        .map_err(db)?
    {
        Some(row) => col(&row, 0)?,
        None => {
            tx.execute("INSERT INTO truce_schema (version) VALUES (0)", &[])
                .map_err(db)?;
            0
        }
    };
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(StoreError::TooNew {
            found: version,
            supported,
        });
    }
    for sql in MIGRATIONS.iter().skip(to_u64(version)? as usize) {
        tx.batch_execute(sql).map_err(db)?;
    }
    tx.execute("UPDATE truce_schema SET version = $1", &[&supported])
        .map_err(db)?;
    tx.commit().map_err(db)?;
    Ok(supported)
}

/// Column `i` of `row`: a column of another type than our schema's (a database that is not
/// truce's, or was changed by hand) is a corrupt store, never a panic.
fn col<'a, T: postgres::types::FromSql<'a>>(
    row: &'a postgres::Row,
    i: usize,
) -> Result<T, StoreError> {
    row.try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

fn sized(row: &postgres::Row) -> Result<(u64, Vec<u8>), StoreError> {
    Ok((to_u64(col(row, 0)?)?, col(row, 1)?))
}

impl Store for PostgresStore {
    fn load(&self) -> Result<Loaded, StoreError> {
        self.write(|c| {
            // One snapshot for the size, the hashes and the checkpoint.
            let mut tx = c
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(db)?;
            let size: i64 = col(
                &tx.query_one("SELECT COUNT(*) FROM entries", &[])
                    .map_err(db)?,
                0,
            )?;
            let mut hashes = Vec::new();
            for row in tx
                .query("SELECT first, hashes FROM hash_runs ORDER BY first", &[])
                .map_err(db)?
            {
                let first: i64 = col(&row, 0)?;
                let run: &[u8] = col(&row, 1)?;
                if first != hashes.len() as i64 || !run.len().is_multiple_of(32) {
                    return Err(StoreError::Corrupt(format!(
                        "stored hashes from {} are missing or truncated",
                        hashes.len()
                    )));
                }
                for h in run.chunks_exact(32) {
                    hashes.push(to_hash(h)?);
                }
            }
            let checkpoint = tx
                .query_opt(
                    "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1",
                    &[],
                )
                .map_err(db)?
                .map(|r| col(&r, 0))
                .transpose()?;
            tx.commit().map_err(db)?;
            Ok(Loaded {
                size: to_u64(size)?,
                hashes,
                checkpoint,
            })
        })
    }

    fn append(&self, batch: Append<'_>) -> Result<(), StoreError> {
        // Arrays bound once: one statement for the whole batch of entries.
        let mut idx = Vec::with_capacity(batch.entries.len());
        for i in 0..batch.entries.len() {
            idx.push(to_i64(batch.first_index + i as u64)?);
        }
        let hashes: Vec<&[u8]> = batch.entries.iter().map(|e| &e.leaf_hash.0[..]).collect();
        let leaves: Vec<&[u8]> = batch.entries.iter().map(|e| e.leaf.as_slice()).collect();
        let kinds: Vec<&str> = batch.entries.iter().map(|e| e.kind).collect();
        let authors: Vec<&str> = batch.entries.iter().map(|e| e.author.as_str()).collect();
        let hashes_from = to_i64(batch.hashes_from)?;
        let size = to_i64(batch.checkpoint.size)?;
        self.write(|c| {
            let mut tx = c.transaction().map_err(db)?;
            if !idx.is_empty() {
                tx.execute(
                    "INSERT INTO entries (idx, leaf_hash, leaf, kind, author)
                     SELECT * FROM UNNEST($1::bigint[], $2::bytea[], $3::bytea[], $4::text[], $5::text[])",
                    &[&idx, &hashes, &leaves, &kinds, &authors],
                )
                .map_err(|e| {
                    if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
                        StoreError::Conflict(format!(
                            "entry index {} is taken",
                            batch.first_index
                        ))
                    } else {
                        db(e)
                    }
                })?;
            }
            if !batch.hashes.is_empty() {
                let run: Vec<u8> = batch.hashes.iter().flat_map(|h| h.0).collect();
                tx.execute(
                    "INSERT INTO hash_runs (first, hashes) VALUES ($1, $2)",
                    &[&hashes_from, &run],
                )
                .map_err(db)?;
            }
            // A checkpoint of a size is written once. Signing is deterministic, so the same
            // tree gives the same note again; a different note for a stored size means that
            // another server committed another tree of that size: refuse, never overwrite.
            let stored = tx
                .execute(
                    "INSERT INTO checkpoints (size, note) VALUES ($1, $2)
                     ON CONFLICT (size) DO UPDATE SET note = EXCLUDED.note
                     WHERE checkpoints.note = EXCLUDED.note",
                    &[&size, &batch.checkpoint.note],
                )
                .map_err(db)?;
            if stored != 1 {
                return Err(StoreError::Conflict(format!(
                    "another checkpoint of size {size} is stored"
                )));
            }
            tx.commit().map_err(db)
        })
    }

    fn leaves(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        // Indices a bigint cannot hold were never stored: clamp, as for any range past the end.
        let Ok(from) = i64::try_from(from) else {
            return Ok(Vec::new());
        };
        let to = i64::try_from(to).unwrap_or(i64::MAX);
        self.read(|c| {
            let rows = c
                .query(
                    "SELECT leaf FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                    &[&from, &to],
                )
                .map_err(db)?;
            rows.iter().map(|r| col(r, 0)).collect()
        })
    }

    fn checkpoint_at(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let Ok(size) = i64::try_from(size) else {
            return Ok(None);
        };
        self.read(|c| {
            c.query_opt("SELECT note FROM checkpoints WHERE size = $1", &[&size])
                .map_err(db)?
                .map(|r| col(&r, 0))
                .transpose()
        })
    }

    fn checkpoint_covering(&self, index: u64) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let Ok(index) = i64::try_from(index) else {
            return Ok(None);
        };
        self.read(|c| {
            c.query_opt(
                "SELECT size, note FROM checkpoints WHERE size > $1 ORDER BY size LIMIT 1",
                &[&index],
            )
            .map_err(db)?
            .as_ref()
            .map(sized)
            .transpose()
        })
    }

    fn put_state(&self, size: u64, state: &[u8]) -> Result<(), StoreError> {
        let size = to_i64(size)?;
        self.write(|c| {
            let mut tx = c.transaction().map_err(db)?;
            tx.execute("DELETE FROM state_snapshots", &[]).map_err(db)?;
            tx.execute(
                "INSERT INTO state_snapshots (size, state) VALUES ($1, $2)",
                &[&size, &state],
            )
            .map_err(db)?;
            tx.commit().map_err(db)
        })
    }

    fn latest_state(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.read(|c| {
            c.query_opt(
                "SELECT size, state FROM state_snapshots ORDER BY size DESC LIMIT 1",
                &[],
            )
            .map_err(db)?
            .as_ref()
            .map(sized)
            .transpose()
        })
    }

    fn put_commitment(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        let size = to_i64(size)?;
        self.write(|c| {
            c.execute(
                "INSERT INTO state_commitments (size, note) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&size, &note],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    fn commitment(&self, size: Option<u64>) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let row = match size {
            None => self.read(|c| {
                c.query_opt(
                    "SELECT size, note FROM state_commitments ORDER BY size DESC LIMIT 1",
                    &[],
                )
                .map_err(db)
            })?,
            Some(size) => {
                let Ok(size) = i64::try_from(size) else {
                    return Ok(None);
                };
                self.read(|c| {
                    c.query_opt(
                        "SELECT size, note FROM state_commitments WHERE size = $1",
                        &[&size],
                    )
                    .map_err(db)
                })?
            }
        };
        row.as_ref().map(sized).transpose()
    }

    fn put_blob(&self, sha256: &str, data: &[u8]) -> Result<bool, StoreError> {
        let size = data.len() as i64;
        self.write(|c| {
            let n = c
                .execute(
                    "INSERT INTO blobs (sha256, size, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&sha256, &size, &data],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
    }

    fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| {
            c.query_opt("SELECT data FROM blobs WHERE sha256 = $1", &[&sha256])
                .map_err(db)?
                .map(|r| col(&r, 0))
                .transpose()
        })
    }

    fn put_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.write(|c| {
            c.execute(
                &format!(
                    "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ),
                &[
                    &t.id,
                    &t.member,
                    &t.scope,
                    &t.created,
                    &t.expires,
                    &t.revoked,
                    &t.secret_hash,
                ],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.read(|c| {
            c.query_opt(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"),
                &[&id],
            )
            .map_err(db)?
            .as_ref()
            .map(token_row)
            .transpose()
        })
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.read(|c| {
            c.query(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created, id"),
                &[],
            )
            .map_err(db)?
            .iter()
            .map(token_row)
            .collect()
        })
    }

    fn revoke_token(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        self.write(|c| {
            c.execute(
                "UPDATE api_tokens SET revoked = $2 WHERE id = $1 AND revoked IS NULL",
                &[&id, &at],
            )
            .map(|n| n == 1)
            .map_err(db)
        })
    }

    fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.read(|c| {
            c.query("SELECT size, note FROM checkpoints ORDER BY size", &[])
                .map_err(db)?
                .iter()
                .map(sized)
                .collect()
        })
    }

    fn blob_ids(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            c.query("SELECT sha256 FROM blobs ORDER BY sha256", &[])
                .map_err(db)?
                .iter()
                .map(|r| col(r, 0))
                .collect()
        })
    }

    fn head(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.read(|c| {
            c.query_opt(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                &[],
            )
            .map_err(db)?
            .as_ref()
            .map(sized)
            .transpose()
        })
    }

    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn commitments(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.read(|c| {
            c.query(
                "SELECT size, note FROM state_commitments ORDER BY size",
                &[],
            )
            .map_err(db)?
            .iter()
            .map(sized)
            .collect()
        })
    }
}

const TOKEN_COLUMNS: &str = "id, member, scope, created, expires, revoked, secret_hash";

fn token_row(r: &postgres::Row) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: col(r, 0)?,
        member: col(r, 1)?,
        scope: col(r, 2)?,
        created: col(r, 3)?,
        expires: col(r, 4)?,
        revoked: col(r, 5)?,
        secret_hash: col(r, 6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_left_out_of_messages() {
        assert_eq!(
            redact("postgres://truce:s3cret@db.example:5432/truce"),
            "postgres://truce@db.example:5432/truce"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact("host=/run/postgresql"), "host=/run/postgresql");
    }
}
