//! cargo-fuzz target: see `blossom_core::fuzz::chat_stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| blossom_core::fuzz::chat_stream(data));
