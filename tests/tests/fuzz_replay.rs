//! Replays the fuzz corpora as ordinary tests, so every input a fuzzer ever kept is checked on every change.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(!entries.is_empty(), "the corpus {} is empty", dir.display());
    for path in entries {
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "corpus input {} fails", path.display());
    }
}

#[test]
fn bind_params_corpus() {
    replay("bind_params", asqlite_tests::fuzz::bind_params);
}

#[test]
fn compile_query_corpus() {
    replay("compile_query", asqlite_tests::fuzz_query::compile_query);
}
