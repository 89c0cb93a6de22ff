//! Vectors for the dashboard's in-browser verifier (`web/src/verify.ts`): receipts made by this
//! crate (a 7-leaf log, a signed checkpoint, an inclusion proof per entry) and committed as
//! `web/tests/vectors.json`, which the web tests replay. This test fails when the Rust side
//! would produce anything else; `TRUCE_BLESS=1` rewrites the file.

use truce_log::merkle::{MemoryHashes, leaf_hash};
use truce_log::{LogKey, Receipt};

/// The private key of the C2SP signed-note example (public test key, never a real log's).
const SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

#[test]
fn web_verifier_vectors_match_this_crate() {
    let key = LogKey::from_secret(SKEY).unwrap();
    assert_eq!(key.verifier_key(), VKEY);
    let leaves: Vec<String> = (0..7)
        .map(|i| format!("{{\"entry\":{i},\"note\":\"vector for the web verifier\"}}"))
        .collect();
    let mut tree = MemoryHashes::new();
    for l in &leaves {
        tree.append(leaf_hash(l.as_bytes())).unwrap();
    }
    let size = tree.size();
    let cp = key.sign(size, tree.root(size).unwrap(), "").unwrap();
    let cases: Vec<serde_json::Value> = leaves
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let i = i as u64;
            let receipt = Receipt::new(
                i,
                leaf_hash(l.as_bytes()),
                &cp.note,
                tree.prove_inclusion(size, i).unwrap(),
            );
            serde_json::json!({"leaf": l, "receipt": receipt})
        })
        .collect();
    let doc = serde_json::json!({
        "about": "made by crates/log/tests/web_vectors.rs; do not edit",
        "verifier_key": VKEY,
        "cases": cases,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/tests/vectors.json");
    if std::env::var_os("TRUCE_BLESS").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == text,
        "web/tests/vectors.json is stale; rerun with TRUCE_BLESS=1"
    );
}
