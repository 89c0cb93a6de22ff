//! The embedded SQLite store of a truce log: WAL journal, `synchronous=FULL` (every commit is
//! fsynced before it returns), schema migrations embedded and applied on open.

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use truce_log::Hash;
use truce_store::{Append, Loaded, Store, StoreError, TokenRecord};

/// Ordered migrations; `user_version` records how many are applied.
const MIGRATIONS: &[&str] = &[
    // 1: the log, its hashes, issued checkpoints, blobs.
    "CREATE TABLE entries (
        idx INTEGER PRIMARY KEY,
        leaf_hash BLOB NOT NULL,
        leaf BLOB NOT NULL,
        kind TEXT NOT NULL,
        author TEXT NOT NULL
    );
    -- Stored hashes (tlog stored-hash order) in runs, one row per commit: `first` is the stored
    -- index of the first hash, `hashes` the concatenated 32-byte hashes.
    CREATE TABLE hash_runs (first INTEGER PRIMARY KEY, hashes BLOB NOT NULL);
    CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL);
    CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL);",
    // 2: the derived state: the latest snapshot and every published state commitment.
    "CREATE TABLE state_snapshots (size INTEGER PRIMARY KEY, state BLOB NOT NULL);
    CREATE TABLE state_commitments (size INTEGER PRIMARY KEY, note BLOB NOT NULL);",
    // 3: API tokens, stored hashed (argon2id); found by their public id.
    "CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        member TEXT NOT NULL,
        scope TEXT NOT NULL,
        created INTEGER NOT NULL,
        expires INTEGER NOT NULL,
        revoked INTEGER,
        secret_hash TEXT NOT NULL
    );",
];

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// See the crate docs.
#[derive(Debug)]
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    // 64 MiB of page cache: the sequencer appends in big transactions.
    conn.pragma_update(None, "cache_size", -65536).map_err(db)?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = Connection::open(path).map_err(db)?;
        configure(&writer)?;
        migrate(&writer)?;
        let readers = (0..4)
            .map(|_| {
                let c = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(db)?;
                c.busy_timeout(std::time::Duration::from_secs(10))
                    .map_err(db)?;
                Ok(Mutex::new(c))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Self {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// The schema version this binary writes (`user_version` after the migrations).
    pub fn supported_version() -> i64 {
        MIGRATIONS.len() as i64
    }

    fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let conn = self.readers[i]
            .lock()
            .map_err(|_| StoreError::Database("reader lock poisoned".into()))?;
        f(&conn).map_err(db)
    }

    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StoreError::Database("writer lock poisoned".into()))?;
        f(&mut conn)
    }
}

/// One row of the entries table as stored, for audits of the database itself.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub index: u64,
    pub leaf_hash: Vec<u8>,
    pub leaf: Vec<u8>,
    pub kind: String,
    pub author: String,
}

/// Raw reads for `truce verify data`, which checks the database row by row: unlike the
/// [`Store`] methods they return what is stored even when it is inconsistent, and they all see
/// one snapshot of the database (a read transaction), so a server writing meanwhile does not
/// make entries and checkpoints disagree.
#[derive(Debug)]
pub struct Snapshot<'a>(&'a Connection);

impl SqliteStore {
    /// Runs `f` on one consistent snapshot of the database.
    pub fn snapshot<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Snapshot<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let conn = self.readers[i]
            .lock()
            .map_err(|_| StoreError::Database("reader lock poisoned".into()))?;
        conn.execute_batch("BEGIN").map_err(db)?;
        let out = f(&Snapshot(&conn));
        conn.execute_batch("COMMIT").map_err(db)?;
        out
    }
}

impl Snapshot<'_> {
    /// Entry rows with index at least `from`, in index order, at most `limit`.
    pub fn entry_rows(&self, from: u64, limit: usize) -> Result<Vec<EntryRow>, StoreError> {
        let from = to_i64(from)?;
        let mut stmt = self.0.prepare_cached(
            "SELECT idx, leaf_hash, leaf, kind, author FROM entries WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
        ).map_err(db)?;
        let rows = stmt
            .query_map(params![from, limit as i64], |r| {
                Ok(EntryRow {
                    index: r.get::<_, i64>(0)? as u64,
                    leaf_hash: r.get(1)?,
                    leaf: r.get(2)?,
                    kind: r.get(3)?,
                    author: r.get(4)?,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    /// A blob by SHA-256 (hex).
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0
            .query_row("SELECT data FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)
    }

    /// Every stored checkpoint: tree size and note, by size.
    pub fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.sized_rows("SELECT size, note FROM checkpoints ORDER BY size")
    }

    /// The stored hash runs: first stored index and concatenated hashes, by first index.
    pub fn hash_runs(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.sized_rows("SELECT first, hashes FROM hash_runs ORDER BY first")
    }

    fn sized_rows(&self, sql: &str) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        sized_rows(self.0, sql).map_err(db)
    }
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db)?;
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(StoreError::TooNew {
            found: version,
            supported,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))
        .map_err(db)?;
    }
    Ok(())
}

fn to_hash(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("hash is not 32 bytes".into()))?;
    Ok(Hash(arr))
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} exceeds SQLite integers")))
}

impl Store for SqliteStore {
    fn load(&self) -> Result<Loaded, StoreError> {
        self.with_writer(|conn| {
            let size: i64 = conn
                .query_row("SELECT COUNT(*) FROM entries", [], |r| r.get(0))
                .map_err(db)?;
            let mut stmt = conn
                .prepare("SELECT first, hashes FROM hash_runs ORDER BY first")
                .map_err(db)?;
            let mut hashes = Vec::new();
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
                .map_err(db)?;
            for row in rows {
                let (first, run) = row.map_err(db)?;
                if first != hashes.len() as i64 || run.len() % 32 != 0 {
                    return Err(StoreError::Corrupt(format!(
                        "stored hashes from {} are missing or truncated",
                        hashes.len()
                    )));
                }
                for h in run.chunks_exact(32) {
                    hashes.push(to_hash(h.to_vec())?);
                }
            }
            let checkpoint = conn
                .query_row(
                    "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            Ok(Loaded {
                size: size as u64,
                hashes,
                checkpoint,
            })
        })
    }

    fn append(&self, batch: Append<'_>) -> Result<(), StoreError> {
        self.with_writer(|conn| {
            let tx = conn.transaction().map_err(db)?;
            {
                let mut ins = tx
                    .prepare_cached(
                        "INSERT INTO entries (idx, leaf_hash, leaf, kind, author) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(db)?;
                for (i, e) in batch.entries.iter().enumerate() {
                    ins.execute(params![
                        to_i64(batch.first_index + i as u64)?,
                        &e.leaf_hash.0[..],
                        &e.leaf,
                        e.kind,
                        &e.author
                    ])
                    .map_err(db)?;
                }
                if !batch.hashes.is_empty() {
                    let run: Vec<u8> = batch.hashes.iter().flat_map(|h| h.0).collect();
                    tx.execute(
                        "INSERT INTO hash_runs (first, hashes) VALUES (?1, ?2)",
                        params![to_i64(batch.hashes_from)?, run],
                    )
                    .map_err(db)?;
                }
                tx.execute(
                    "INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?1, ?2)",
                    params![to_i64(batch.checkpoint.size)?, &batch.checkpoint.note],
                )
                .map_err(db)?;
            }
            tx.commit().map_err(db)
        })
    }

    fn leaves(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        // Indices SQLite cannot hold were never stored: clamp, as for any range past the end.
        let Ok(from) = i64::try_from(from) else {
            return Ok(Vec::new());
        };
        let to = i64::try_from(to).unwrap_or(i64::MAX);
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT leaf FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            )?;
            let rows = stmt.query_map(params![from, to], |r| r.get(0))?;
            rows.collect()
        })
    }

    fn checkpoint_at(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        // A size SQLite cannot hold was never stored: the answer is "none", not an error.
        let Ok(size) = i64::try_from(size) else {
            return Ok(None);
        };
        self.with_reader(|conn| {
            conn.query_row(
                "SELECT note FROM checkpoints WHERE size = ?1",
                [size],
                |r| r.get(0),
            )
            .optional()
        })
    }

    fn checkpoint_covering(&self, index: u64) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let Ok(index) = i64::try_from(index) else {
            return Ok(None);
        };
        self.with_reader(|conn| {
            conn.query_row(
                "SELECT size, note FROM checkpoints WHERE size > ?1 ORDER BY size LIMIT 1",
                [index],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()
        })
    }

    fn put_state(&self, size: u64, state: &[u8]) -> Result<(), StoreError> {
        let size = to_i64(size)?;
        self.with_writer(|conn| {
            let tx = conn.transaction().map_err(db)?;
            tx.execute("DELETE FROM state_snapshots", []).map_err(db)?;
            tx.execute(
                "INSERT INTO state_snapshots (size, state) VALUES (?1, ?2)",
                params![size, state],
            )
            .map_err(db)?;
            tx.commit().map_err(db)
        })
    }

    fn latest_state(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.with_reader(|conn| {
            conn.query_row(
                "SELECT size, state FROM state_snapshots ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()
        })
    }

    fn put_commitment(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        let size = to_i64(size)?;
        self.with_writer(|conn| {
            conn.execute(
                "INSERT OR IGNORE INTO state_commitments (size, note) VALUES (?1, ?2)",
                params![size, note],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    fn commitment(&self, size: Option<u64>) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let row = |r: &rusqlite::Row<'_>| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?));
        match size {
            None => self.with_reader(|conn| {
                conn.query_row(
                    "SELECT size, note FROM state_commitments ORDER BY size DESC LIMIT 1",
                    [],
                    row,
                )
                .optional()
            }),
            Some(size) => {
                let Ok(size) = i64::try_from(size) else {
                    return Ok(None);
                };
                self.with_reader(|conn| {
                    conn.query_row(
                        "SELECT size, note FROM state_commitments WHERE size = ?1",
                        [size],
                        row,
                    )
                    .optional()
                })
            }
        }
    }

    fn put_blob(&self, sha256: &str, data: &[u8]) -> Result<bool, StoreError> {
        self.with_writer(|conn| {
            let n = conn
                .execute(
                    "INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?1, ?2, ?3)",
                    params![sha256, data.len() as i64, data],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
    }

    fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_reader(|conn| {
            conn.query_row("SELECT data FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    fn put_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.with_writer(|conn| {
            conn.execute(
                &format!(
                    "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    t.id,
                    t.member,
                    t.scope,
                    t.created,
                    t.expires,
                    t.revoked,
                    t.secret_hash
                ],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.with_reader(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?1"
            ))?
            .query_row([id], token_row)
            .optional()
        })
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created, id"
            ))?;
            let rows = stmt.query_map([], token_row)?;
            rows.collect()
        })
    }

    fn revoke_token(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        self.with_writer(|conn| {
            conn.execute(
                "UPDATE api_tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
                params![id, at],
            )
            .map(|n| n == 1)
            .map_err(db)
        })
    }

    fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.sized_rows("SELECT size, note FROM checkpoints ORDER BY size")
    }

    fn blob_ids(&self) -> Result<Vec<String>, StoreError> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare("SELECT sha256 FROM blobs ORDER BY sha256")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    fn head(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.with_reader(|conn| {
            conn.query_row(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()
        })
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn commitments(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.sized_rows("SELECT size, note FROM state_commitments ORDER BY size")
    }
}

/// `(size, bytes)` rows of a query, in its order.
fn sized_rows(conn: &Connection, sql: &str) -> Result<Vec<(u64, Vec<u8>)>, rusqlite::Error> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?;
    rows.collect()
}

impl SqliteStore {
    fn sized_rows(&self, sql: &str) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.with_reader(|conn| sized_rows(conn, sql))
    }
}

const TOKEN_COLUMNS: &str = "id, member, scope, created, expires, revoked, secret_hash";

fn token_row(r: &rusqlite::Row<'_>) -> Result<TokenRecord, rusqlite::Error> {
    Ok(TokenRecord {
        id: r.get(0)?,
        member: r.get(1)?,
        scope: r.get(2)?,
        created: r.get(3)?,
        expires: r.get(4)?,
        revoked: r.get(5)?,
        secret_hash: r.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use truce_store::contract::{self, Backing};

    /// A database file in a temporary directory, removed with it.
    struct TempFile(tempfile::TempDir);

    impl Backing for TempFile {
        fn open(&self) -> Result<Box<dyn Store>, StoreError> {
            Ok(Box::new(SqliteStore::open(&self.0.path().join("t.db"))?))
        }
    }

    #[test]
    fn the_store_contract_holds() {
        contract::all(&|| Box::new(TempFile(tempfile::tempdir().expect("tempdir"))));
    }
}
