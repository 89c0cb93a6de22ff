//! Replays the committed fuzz seed corpora (`fuzz/corpus/<target>/*`) through the same target
//! bodies the fuzzer runs (`fuzz/src/targets.rs`), so every seed (and every crash saved as a
//! seed) is checked by a plain `cargo test`, without libFuzzer or nightly.

#[path = "../../../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// The files of one target's corpus, sorted; panics if the directory is missing or empty, so
/// coverage cannot silently vanish.
fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = corpus_root().join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus directory {} is missing: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "corpus directory {} has no seed files",
        dir.display()
    );
    files
}

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let known: Vec<&str> = targets::TARGETS.iter().map(|(name, _)| *name).collect();
    for name in &known {
        seeds(name);
    }
    for dir in std::fs::read_dir(corpus_root()).expect("fuzz/corpus exists") {
        let dir = dir.unwrap();
        let name = dir.file_name().to_string_lossy().into_owned();
        assert!(
            known.contains(&name.as_str()),
            "fuzz/corpus/{name} belongs to no target in fuzz/src/targets.rs"
        );
    }
}

#[test]
fn every_seed_runs_through_its_target() {
    let mut failed = Vec::new();
    let mut total = 0;
    for (name, run) in targets::TARGETS {
        for file in seeds(name) {
            total += 1;
            let data = std::fs::read(&file).unwrap();
            if let Err(panic) = std::panic::catch_unwind(|| run(&data)) {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(non-string panic)");
                failed.push(format!("{name}: {}: {message}", file.display()));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {total} seeds panicked:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
