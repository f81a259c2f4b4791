//! End-to-end: every client method of every adapter against the real emulator on loopback.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abandoned_connections;
mod blocking;
mod call_lifecycle;
mod cancellation;
mod faults;
mod metrics_export;
mod smol;
mod smol_watchdog;
mod tokio_client;
mod transports_and_drains;
mod watchdog;
