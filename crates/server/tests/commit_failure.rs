//! A commit that fails (disk full, I/O error) logs nothing, answers 503, and leaves the log
//! consistent: the next commit continues from the last durable checkpoint. A commit whose
//! answer is lost after it landed (the database connection broke during COMMIT) is found
//! stored and answered as logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use truce_log::{Envelope, LogKey};
use truce_store::{Append, Loaded, Store, StoreError, TokenRecord};
use truce_store_sqlite::SqliteStore;

/// A SQLite store whose appends can be made to fail.
#[derive(Debug)]
struct FlakyStore {
    inner: SqliteStore,
    fail: AtomicBool,
    /// Store the append, then report a failure (the answer to COMMIT lost).
    lose_answer: AtomicBool,
}

impl Store for FlakyStore {
    fn load(&self) -> Result<Loaded, StoreError> {
        self.inner.load()
    }
    fn append(&self, batch: Append<'_>) -> Result<(), StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Database("disk I/O error (injected)".into()));
        }
        self.inner.append(batch)?;
        if self.lose_answer.load(Ordering::SeqCst) {
            return Err(StoreError::Database("connection closed (injected)".into()));
        }
        Ok(())
    }
    fn leaves(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        self.inner.leaves(from, to)
    }
    fn checkpoint_at(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.checkpoint_at(size)
    }
    fn checkpoint_covering(&self, index: u64) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.inner.checkpoint_covering(index)
    }
    fn put_blob(&self, sha256: &str, data: &[u8]) -> Result<bool, StoreError> {
        self.inner.put_blob(sha256, data)
    }
    fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get_blob(sha256)
    }
    fn put_state(&self, size: u64, state: &[u8]) -> Result<(), StoreError> {
        self.inner.put_state(size, state)
    }
    fn latest_state(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.inner.latest_state()
    }
    fn put_commitment(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        self.inner.put_commitment(size, note)
    }
    fn commitment(&self, size: Option<u64>) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.inner.commitment(size)
    }
    fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.inner.put_token(token)
    }
    fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.token(id)
    }
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.tokens()
    }
    fn revoke_token(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        self.inner.revoke_token(id, at)
    }
    fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.inner.checkpoints()
    }
    fn blob_ids(&self) -> Result<Vec<String>, StoreError> {
        self.inner.blob_ids()
    }
    fn commitments(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.inner.commitments()
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_logs_nothing_and_the_log_continues() {
    let dir = tempfile::tempdir().unwrap();
    let origin = "example.org/flaky";
    let (key, _) = LogKey::generate(origin).unwrap();
    let vkey = key.verifier_key().to_owned();
    let store = Arc::new(FlakyStore {
        inner: SqliteStore::open(&dir.path().join("t.db")).unwrap(),
        fail: AtomicBool::new(false),
        lose_answer: AtomicBool::new(false),
    });
    let service = truce_server::LogService::open(store.clone(), key, origin).unwrap();
    // The first entry of a log is its agreement: build one from the Golan template.
    let zones = include_bytes!("../../../scenarios/golan-1974/zones.geojson");
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(zones));
    store.put_blob(&sha, zones).unwrap();
    let admin = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let mut body: serde_json::Value =
        serde_json::from_str(include_str!("../../../scenarios/golan-1974/agreement.json")).unwrap();
    for (i, m) in body["members"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        let k = if m["id"] == "us.admin" {
            admin.clone()
        } else {
            ed25519_dalek::SigningKey::from_bytes(&[100 + i as u8; 32])
        };
        m["public_key"] = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            k.verifying_key().as_bytes(),
        )
        .into();
    }
    body["format"] = "truce-agreement/1".into();
    body["version"] = 1.into();
    body["zones"] = serde_json::json!({"sha256": sha, "size": zones.len(), "media_type": "application/geo+json"});
    let payload = truce_model::entry::build_payload(
        origin,
        truce_model::Kind::Agreement,
        "us.admin",
        jiff::Timestamp::now(),
        &body,
    );
    let agreement_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&payload));
    let genesis = Envelope::sign(truce_log::dsse::ENTRY_PAYLOAD_TYPE, payload, &admin).to_leaf();

    store.fail.store(true, Ordering::SeqCst);
    let refused = service.submit(genesis.clone()).await.unwrap_err();
    assert_eq!((refused.code, refused.status), ("unavailable", 503));
    assert_eq!(service.checkpoint().size, 0, "nothing published");
    assert!(service.registry().agreement().is_none(), "nothing applied");
    assert_eq!(store.load().unwrap().size, 0, "nothing stored");
    assert!(service.sequencer_running());

    store.fail.store(false, Ordering::SeqCst);
    let admitted = service.submit(genesis).await.unwrap();
    assert!(admitted.created);
    assert_eq!(admitted.receipt.index, 0, "the failed attempt left no gap");
    let cp =
        truce_log::checkpoint::verify_checkpoint(admitted.receipt.checkpoint.as_bytes(), &vkey)
            .unwrap();
    assert_eq!(cp.size, 1);
    assert_eq!(store.load().unwrap().size, 1);
    assert!(service.registry().agreement().is_some());

    // The mediator's ratification; the store keeps it but its answer is lost.
    let ratification = Envelope::sign(
        truce_log::dsse::ENTRY_PAYLOAD_TYPE,
        truce_model::entry::build_payload(
            origin,
            truce_model::Kind::Ratification,
            "us.admin",
            jiff::Timestamp::now(),
            &serde_json::json!({"agreement_index": 0, "agreement_sha256": agreement_sha, "statement": "Ratified."}),
        ),
        &admin,
    )
    .to_leaf();
    store.lose_answer.store(true, Ordering::SeqCst);
    let admitted = service.submit(ratification).await.unwrap();
    store.lose_answer.store(false, Ordering::SeqCst);
    assert_eq!(admitted.receipt.index, 1, "answered as logged");
    let cp =
        truce_log::checkpoint::verify_checkpoint(admitted.receipt.checkpoint.as_bytes(), &vkey)
            .unwrap();
    assert_eq!(cp.size, 2);
    assert_eq!(service.checkpoint().size, 2);
    assert_eq!(store.load().unwrap().size, 2);
}
