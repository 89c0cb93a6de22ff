//! Fuzz targets for truce's parsers. The bodies live in [`targets`], shared with the test that
//! replays the committed corpora (`crates/server/tests/fuzz_corpus.rs`).

pub mod targets;
