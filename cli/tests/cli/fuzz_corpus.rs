//! Replays the kept fuzzing corpus of the batch line parser (`fuzz/corpus/batch_line/`)
//! through the entry point the fuzz target calls, on stable: whatever a fuzzing run kept stays
//! a regression test.

use std::path::Path;

#[test]
fn batch_line_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/batch_line");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no corpus in {}", dir.display());
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| blossom_cli::fuzz::batch_line(&data));
        assert!(outcome.is_ok(), "{} fails", path.display());
    }
    eprintln!("batch_line: {} inputs replayed", inputs.len());
}
