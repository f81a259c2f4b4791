//! `blossom batch`, run as a process: against its embedded emulator, or against a standalone
//! `blossom emulator` process whose stats show what reached the server.
//!
//! Every child runs under a time limit and is killed past it, so no test can hang.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod exit_codes;
mod faults;
mod input_errors;
#[cfg(unix)]
mod interrupt;
#[cfg(target_os = "linux")]
mod memory;
mod pipes;
