//! Hostile servers: answers built to hurt a client, and a server that echoes the key back.
//!
//! Each case must end in a typed error ([`blossom_core::ErrorKind`]) within a bounded time
//! and bounded memory, on the tokio, smol and blocking clients alike:
//! - `bodies`: whole bodies far past `max_body_bytes` (chunked and with a `Content-Length`),
//!   streams whose first line never ends, endless streams of valid events, a gzip bomb, and
//!   a body that is not the image it claims to be. The large cases run in child processes
//!   of this binary so that their peak memory is their own (see `memory`).
//! - `redirects`: redirect loops and redirects to another host; the key must never follow.
//! - `headers`: header values that are not valid (bytes that are not text, negative and
//!   enormous `Retry-After`s, an oversized header line, a malformed status line).
//! - `secrets`: a server that echoes a canary key in every field it can; the canary must
//!   appear in no `Display`, `Debug` or accessor of any error.
//!
//! Servers listen on loopback only (`127.0.0.1`, and `127.0.0.2` as "another host"); every
//! loop is bounded and every call has a timeout.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bodies;
mod clients;
mod gzip;
mod headers;
mod memory;
mod redirects;
mod secrets;
mod tracing_capture;

/// A well-formed secret key for the cases that are not about the key.
const KEY: &str = "sk_HostileTestsHostileTestsHostile1";
