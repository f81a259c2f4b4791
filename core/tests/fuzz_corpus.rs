//! Replays the kept fuzzing corpus (`fuzz/corpus/<target>/`, seeds and the inputs cargo-fuzz
//! found interesting, findings included) through the same entry points the fuzz targets call,
//! on the stable toolchain: every input any fuzzing run kept stays a regression test.
// Tests unwrap freely: a failure should stop the test with its message. This test reads the
// corpus files; the core's rule against files is for the library, not its tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no corpus in {}", dir.display());
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
    }
    eprintln!("{target}: {} inputs replayed", inputs.len());
}

#[test]
fn chat_stream_corpus() {
    replay("chat_stream", blossom_core::fuzz::chat_stream);
}

#[test]
fn stream_reader_corpus() {
    replay("stream_reader", blossom_core::fuzz::stream_reader);
}

#[test]
fn answers_corpus() {
    replay("answers", blossom_core::fuzz::answers);
}

#[test]
fn requests_corpus() {
    replay("requests", blossom_core::fuzz::requests);
}
