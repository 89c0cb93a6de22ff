//! The body of every fuzz target: one function per target, each taking the raw input.
//!
//! Shared by the libFuzzer wrappers in `fuzz/fuzz_targets/` and by the test that replays the
//! committed corpora (`crates/server/tests/fuzz_corpus.rs`, which includes this file with
//! `#[path]`), so only what both the `truce-fuzz` crate and `truce-server`'s tests depend on may
//! be used here: `truce_log`, `truce_model`, `truce_geo`, `truce_server` and `serde_json`.
//!
//! The property is "parsing never panics", plus round trips where they are cheap and must hold.

use truce_log::dsse::Envelope;
use truce_log::proof::TlogProof;
use truce_log::tiles::{TileRef, decode_bundle, encode_bundle};

/// A target's name and the function it runs on each input.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name: the name is the binary in `fuzz_targets/` and the corpus directory
/// `fuzz/corpus/<name>/`.
pub const TARGETS: &[Target] = &[
    ("envelope", envelope),
    ("entry", entry),
    ("checkpoint", checkpoint),
    ("tile_path", tile_path),
    ("entry_bundle", entry_bundle),
    ("tlog_proof", tlog_proof),
    ("zones", zones),
    ("geometry", geometry),
    ("agreement", agreement),
    ("state_commitment", state_commitment),
    ("api_token", api_token),
    ("add_checkpoint", add_checkpoint),
    ("cosignature", cosignature),
];

/// The verifier key the `checkpoint` seeds are signed with (a throwaway key for the log origin
/// `truce.example/golan-1974`; its private half was not kept).
pub const CHECKPOINT_VKEY: &str =
    "truce.example/golan-1974+874067dc+AccO5QqLwt0P4YPjqisKeoB3L9WsBCjSIZuhzX8eBRj5";

/// DSSE envelope JSON; what parses re-parses from its leaf form to the same envelope.
pub fn envelope(data: &[u8]) {
    if let Ok(env) = Envelope::parse(data) {
        let leaf = env.to_leaf();
        let again = Envelope::parse(&leaf).expect("an envelope's leaf form must parse");
        assert_eq!(again, env, "leaf form changes the envelope");
        assert_eq!(again.to_leaf(), leaf, "leaf form is not stable");
        let _ = env.check_entry_shape();
    }
}

/// Entry payload JSON, with every kind's body checks.
pub fn entry(data: &[u8]) {
    let _ = truce_model::Entry::parse(data);
}

/// A signed checkpoint note, verified against a fixed log key; the input is also tried as a
/// verifier key.
pub fn checkpoint(data: &[u8]) {
    let _ = truce_log::checkpoint::verify_checkpoint(data, CHECKPOINT_VKEY);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = truce_log::checkpoint::verifier_key_origin(s);
    }
}

/// A tlog-tiles path; only canonical paths parse, so a parsed path re-renders to itself.
pub fn tile_path(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = TileRef::parse(s) {
        assert_eq!(t.path(), s, "a parsed tile path is not canonical");
        assert_eq!(TileRef::parse(&t.path()), Ok(t));
        let _ = t.entry_range();
        let _ = t.available_in(u64::MAX);
    }
}

/// An API token as sent in `Authorization: Bearer`; what parses is exactly `truce_<id>_<secret>`.
pub fn api_token(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some((id, secret)) = truce_server::auth::parse_token(s) {
        assert_eq!(
            format!("truce_{id}_{secret}"),
            s,
            "a parsed token is its parts"
        );
        assert_eq!(id.len(), 16);
        assert_eq!(secret.len(), 43);
    }
}

/// An entry bundle; what decodes re-encodes to the same bytes.
pub fn entry_bundle(data: &[u8]) {
    if let Ok(entries) = decode_bundle(data) {
        let encoded = encode_bundle(entries.iter().copied()).expect("decoded entries fit");
        assert_eq!(encoded, data, "bundle does not re-encode to its bytes");
    }
}

/// A tlog-proof file; what parses re-parses from its encoding to the same proof.
pub fn tlog_proof(data: &[u8]) {
    if let Ok(p) = TlogProof::parse(data) {
        let again = TlogProof::parse(&p.to_bytes()).expect("an encoded proof must parse");
        assert_eq!(again, p, "encoding changes the proof");
        let _ = p.verify(b"leaf", CHECKPOINT_VKEY);
    }
}

/// A zones FeatureCollection (GeoJSON text).
pub fn zones(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = truce_geo::parse_zones(s);
    }
}

/// One GeoJSON geometry object.
pub fn geometry(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = truce_geo::parse_geometry(&v);
    }
}

/// An agreement body (JSON), with its own consistency checks.
pub fn agreement(data: &[u8]) {
    if let Ok(a) = serde_json::from_slice::<truce_model::agreement::Agreement>(data) {
        let _ = a.checked();
    }
}

/// A signed state commitment note, verified against a fixed log key; the input is also parsed
/// as a commitment body, which must re-render to itself.
pub fn state_commitment(data: &[u8]) {
    let _ = truce_log::verify_state_commitment(data, CHECKPOINT_VKEY);
    if let Ok(c) = truce_log::StateCommitment::parse_body(data) {
        assert_eq!(
            c.body().as_bytes(),
            data,
            "a parsed commitment body is not canonical"
        );
    }
}

/// A tlog-witness `add-checkpoint` body: what parses re-renders to the same bytes, and the
/// witness's decision on it (against a fixed log key, holding nothing) never panics.
pub fn add_checkpoint(data: &[u8]) {
    use truce_log::witness::{AddCheckpoint, TrustedLog, decide};
    let Ok(req) = AddCheckpoint::parse(data) else {
        return;
    };
    assert_eq!(
        req.to_bytes(),
        data,
        "a parsed add-checkpoint body is not canonical"
    );
    let logs = [TrustedLog {
        origin: "truce.example/golan-1974".into(),
        verifier_key: CHECKPOINT_VKEY.into(),
    }];
    let cosigner = truce_log::cosignature::Cosigner::from_secret(COSIGNER_SECRET)
        .expect("the fixed witness key");
    let _ = decide(&logs, None, &req, &cosigner, 0);
}

/// A cosigner verifier key, and the input as a signed note checked for cosignatures by a
/// fixed witness key.
pub fn cosignature(data: &[u8]) {
    use truce_log::cosignature::{CosignatureVerifier, cosignatures_in};
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(v) = CosignatureVerifier::new(s)
    {
        assert_eq!(
            v.verifier_key(),
            s,
            "a parsed cosigner key is not canonical"
        );
    }
    let witness = CosignatureVerifier::new(COSIGNER_VKEY).expect("the fixed witness key");
    let _ = cosignatures_in(data, &[witness]);
}

/// The witness key the `cosignature` seeds are cosigned with (seed `[7; 32]`, name
/// `fuzz.example/witness`: a throwaway test key, public on purpose).
pub const COSIGNER_SECRET: &str =
    "PRIVATE+KEY+fuzz.example/witness+8b935f27+BAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH";

/// Its verifier key.
pub const COSIGNER_VKEY: &str =
    "fuzz.example/witness+8b935f27+BOpKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs";
