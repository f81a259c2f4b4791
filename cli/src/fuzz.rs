//! An entry point for fuzzing the batch line parser: `fuzz/` calls it with arbitrary bytes and
//! `cli/tests/cli/fuzz_corpus.rs` replays the kept corpus through it on stable.

/// Parses `data` as a `blossom batch` input line, with and without a media directory: a line
/// is a job or an input error with a code and a message, never a panic; an error message is
/// one line.
pub fn batch_line(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for media_dir in [false, true] {
        if let Err((code, message)) = crate::batch::parse_line(7, &text, media_dir) {
            assert!(!code.is_empty(), "an input error without a code: {message}");
            assert!(message.starts_with("line 7: "), "{message}");
            assert!(
                !message.contains('\n'),
                "a multi-line input error: {message}"
            );
        }
    }
}
