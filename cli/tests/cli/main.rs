//! The `blossom` binary, run as a process: the one-call commands and `blossom batch`,
//! against its embedded emulator, a standalone `blossom emulator` process whose stats show
//! what reached the server, or a scripted loopback server for exact stream faults.
//!
//! Every child runs under a time limit and is killed past it, so no test can hang.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batch;
mod commands;
mod conventions;
mod fuzz_corpus;
mod secrets;
mod streams;
mod support;
