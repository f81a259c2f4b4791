//! cargo-fuzz target: see `blossom_cli::fuzz::batch_line`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| blossom_cli::fuzz::batch_line(data));
