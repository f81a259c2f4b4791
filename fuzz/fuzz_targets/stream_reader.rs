//! cargo-fuzz target: see `blossom_core::fuzz::stream_reader`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| blossom_core::fuzz::stream_reader(data));
