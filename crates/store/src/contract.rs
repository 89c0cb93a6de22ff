//! The store contract: what every [`Store`] must do, as checks that each implementation's tests
//! run against its real database (SQLite in a temporary file, PostgreSQL in a temporary
//! database). A check panics, naming what failed, when the store breaks the contract.

use crate::{Append, NewEntry, Store, StoreError, TokenRecord};
use truce_log::merkle::{MemoryHashes, leaf_hash};
use truce_log::{Hash, LogKey};

/// A database a check may open several times (to see what survives a reopen). Each
/// [`Backing`] given to a check is new and empty.
pub trait Backing {
    /// Opens the store on this database (applying its migrations).
    fn open(&self) -> Result<Box<dyn Store>, StoreError>;
}

/// Runs every check, each on a new backing from `fresh`.
pub fn all(fresh: &dyn Fn() -> Box<dyn Backing>) {
    append_load_and_read_back(fresh().as_ref());
    a_failed_append_stores_nothing(fresh().as_ref());
    appends_continue_across_reopens(fresh().as_ref());
    tokens_are_stored_found_listed_and_revoked_once(fresh().as_ref());
    derived_state_and_commitments(fresh().as_ref());
    blobs_are_content_addressed(fresh().as_ref());
    sizes_beyond_the_database_are_none(fresh().as_ref());
}

fn entry(i: u32) -> NewEntry {
    let leaf = format!("{{\"leaf\":{i}}}").into_bytes();
    NewEntry {
        leaf_hash: leaf_hash(&leaf),
        leaf,
        kind: "report",
        author: "sy.ops".into(),
    }
}

fn key() -> LogKey {
    match LogKey::generate("example.org/contract") {
        Ok((key, _)) => key,
        Err(e) => panic!("generating a log key: {e}"),
    }
}

/// Appends `range` to `store` as one commit, keeping `mem` (the tree) in step.
fn append_range(
    store: &dyn Store,
    mem: &mut MemoryHashes,
    key: &LogKey,
    range: std::ops::Range<u32>,
) -> Vec<NewEntry> {
    let first = u64::from(range.start);
    let entries: Vec<NewEntry> = range.map(entry).collect();
    let hashes_from = MemoryHashes::stored_count(mem.size());
    for e in &entries {
        mem.append(e.leaf_hash).expect("appending to the tree");
    }
    let size = first + entries.len() as u64;
    let cp = key
        .sign(size, mem.root(size).expect("root"), "")
        .expect("signing a checkpoint");
    store
        .append(Append {
            first_index: first,
            entries: &entries,
            hashes_from,
            hashes: mem.stored_from(hashes_from),
            checkpoint: &cp,
        })
        .expect("append");
    entries
}

/// Entries, hashes and checkpoints read back after a reopen, and the tree rebuilt from them.
pub fn append_load_and_read_back(b: &dyn Backing) {
    let key = key();
    let mut mem = MemoryHashes::new();
    let written = {
        let store = b.open().expect("open");
        let loaded = store.load().expect("load");
        assert_eq!(loaded.size, 0, "a new store is empty");
        assert!(loaded.hashes.is_empty() && loaded.checkpoint.is_none());
        append_range(store.as_ref(), &mut mem, &key, 0..5)
    };
    let store = b.open().expect("reopen");
    let loaded = store.load().expect("load");
    assert_eq!(loaded.size, 5);
    let back = MemoryHashes::from_stored(loaded.hashes, 5).expect("stored hashes");
    assert_eq!(
        back.root(5).ok(),
        mem.root(5).ok(),
        "the tree survives a reopen"
    );
    let leaves = store.leaves(1, 3).expect("leaves");
    assert_eq!(
        leaves,
        vec![written[1].leaf.clone(), written[2].leaf.clone()]
    );
    assert_eq!(store.leaves(3, 99).expect("leaves").len(), 2, "clamped");
    assert!(store.leaves(7, 9).expect("leaves").is_empty());
    let note = store.checkpoint_at(5).expect("checkpoint_at");
    assert_eq!(
        note, loaded.checkpoint,
        "the latest checkpoint is the one at 5"
    );
    assert!(store.checkpoint_at(4).expect("checkpoint_at").is_none());
    assert_eq!(
        store.checkpoint_covering(2).expect("covering").map(|c| c.0),
        Some(5)
    );
    assert!(store.checkpoint_covering(5).expect("covering").is_none());
    let all = store.checkpoints().expect("checkpoints");
    assert_eq!(store.head().expect("head"), all.last().cloned());
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].0, Some(all[0].1.clone())), (5, loaded.checkpoint));
}

/// A transaction that fails part-way (an index already taken) stores nothing of itself.
pub fn a_failed_append_stores_nothing(b: &dyn Backing) {
    let store = b.open().expect("open");
    let key = key();
    let mut mem = MemoryHashes::new();
    append_range(store.as_ref(), &mut mem, &key, 0..1);
    let cp2 = key.sign(2, Hash([2; 32]), "").expect("sign");
    let err = store.append(Append {
        first_index: 0,
        entries: &[entry(8), entry(9)],
        hashes_from: 5,
        hashes: &[],
        checkpoint: &cp2,
    });
    assert!(err.is_err(), "index 0 is taken: the append must fail");
    assert_eq!(store.load().expect("load").size, 1);
    assert_eq!(
        store.leaves(0, 5).expect("leaves"),
        vec![entry(0).leaf],
        "nothing of the failed append is stored"
    );
    assert!(store.checkpoint_at(2).expect("checkpoint_at").is_none());
    // The store is still usable after the failure.
    append_range(store.as_ref(), &mut mem, &key, 1..3);
    assert_eq!(store.load().expect("load").size, 3);
}

/// Commits after a reopen continue the same tree; checkpoints of every commit are kept.
pub fn appends_continue_across_reopens(b: &dyn Backing) {
    let key = key();
    let mut mem = MemoryHashes::new();
    for (n, range) in [0..3, 3..4, 4..10].into_iter().enumerate() {
        let store = b.open().expect("open");
        let loaded = store.load().expect("load");
        assert_eq!(loaded.size, u64::from(range.start), "commit {n}");
        append_range(store.as_ref(), &mut mem, &key, range);
    }
    let store = b.open().expect("open");
    let loaded = store.load().expect("load");
    assert_eq!(loaded.size, 10);
    let back = MemoryHashes::from_stored(loaded.hashes, 10).expect("stored hashes");
    assert_eq!(back.root(10).ok(), mem.root(10).ok());
    for size in [3, 4, 10] {
        assert!(
            store.checkpoint_at(size).expect("checkpoint").is_some(),
            "{size}"
        );
    }
    let sizes: Vec<u64> = store
        .checkpoints()
        .expect("checkpoints")
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(sizes, [3, 4, 10], "every commit's checkpoint, by size");
    assert_eq!(
        store.checkpoint_covering(3).expect("covering").map(|c| c.0),
        Some(4)
    );
    assert_eq!(store.leaves(0, 10).expect("leaves").len(), 10);
}

/// Tokens: unique ids, found by id, listed oldest first, revoked once.
pub fn tokens_are_stored_found_listed_and_revoked_once(b: &dyn Backing) {
    let store = b.open().expect("open");
    let t = TokenRecord {
        id: "0123456789abcdef".into(),
        member: "sy.ops".into(),
        scope: "read".into(),
        created: 10,
        expires: 20,
        revoked: None,
        secret_hash: "$argon2id$x".into(),
    };
    let older = TokenRecord {
        id: "fedcba9876543210".into(),
        created: 5,
        ..t.clone()
    };
    store.put_token(&t).expect("put_token");
    assert!(store.put_token(&t).is_err(), "ids are unique");
    store.put_token(&older).expect("put_token");
    assert_eq!(store.token(&t.id).expect("token"), Some(t.clone()));
    assert_eq!(store.token("other").expect("token"), None);
    assert!(store.revoke_token(&t.id, 15).expect("revoke"));
    assert!(
        !store.revoke_token(&t.id, 16).expect("revoke"),
        "already revoked"
    );
    assert!(!store.revoke_token("other", 16).expect("revoke"));
    let all = store.tokens().expect("tokens");
    assert_eq!(
        all.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        [older.id.as_str(), t.id.as_str()],
        "oldest first"
    );
    assert_eq!(all[1].revoked, Some(15));
    drop(store);
    let store = b.open().expect("reopen");
    assert_eq!(
        store.token(&t.id).expect("token").and_then(|t| t.revoked),
        Some(15)
    );
}

/// One snapshot kept (the latest), commitments by size, idempotent.
pub fn derived_state_and_commitments(b: &dyn Backing) {
    let store = b.open().expect("open");
    assert_eq!(store.latest_state().expect("state"), None);
    assert_eq!(store.commitment(None).expect("commitment"), None);
    store.put_state(3, b"s3").expect("put_state");
    store.put_state(5, b"s5").expect("put_state");
    assert_eq!(
        store.latest_state().expect("state"),
        Some((5, b"s5".to_vec()))
    );
    store.put_commitment(3, b"c3").expect("put_commitment");
    store.put_commitment(5, b"c5").expect("put_commitment");
    store.put_commitment(5, b"again").expect("idempotent");
    assert_eq!(
        store.commitment(None).expect("c"),
        Some((5, b"c5".to_vec()))
    );
    assert_eq!(
        store.commitment(Some(3)).expect("c"),
        Some((3, b"c3".to_vec()))
    );
    assert_eq!(store.commitment(Some(4)).expect("c"), None);
    assert_eq!(
        store.commitments().expect("commitments"),
        [(3, b"c3".to_vec()), (5, b"c5".to_vec())]
    );
}

/// Blobs: stored once under their SHA-256, read back byte for byte.
pub fn blobs_are_content_addressed(b: &dyn Backing) {
    let store = b.open().expect("open");
    let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    assert!(store.put_blob("ab", &data).expect("put_blob"));
    assert!(
        !store.put_blob("ab", &data).expect("put_blob"),
        "already there"
    );
    assert_eq!(store.get_blob("ab").expect("get_blob"), Some(data));
    assert_eq!(store.get_blob("cd").expect("get_blob"), None);
    assert!(store.put_blob("0a", b"y").expect("put_blob"));
    assert_eq!(store.blob_ids().expect("blob_ids"), ["0a", "ab"]);
}

/// Sizes and indices no database integer holds were never stored: none, not an error.
pub fn sizes_beyond_the_database_are_none(b: &dyn Backing) {
    let store = b.open().expect("open");
    assert!(
        store
            .checkpoint_at(u64::MAX)
            .expect("checkpoint_at")
            .is_none()
    );
    assert!(
        store
            .checkpoint_covering(u64::MAX)
            .expect("covering")
            .is_none()
    );
    assert_eq!(store.commitment(Some(u64::MAX)).expect("commitment"), None);
    assert!(
        store
            .leaves(u64::MAX - 1, u64::MAX)
            .expect("leaves")
            .is_empty()
    );
}
