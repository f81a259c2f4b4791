//! Black-box tests of the emulator over real HTTP on loopback.
//!
//! One integration-test binary; the scenarios live in `tests/http/*.rs`. Requests go
//! through a tiny hand-written HTTP/1.1 client (`tests/http/client.rs`) so the tests see
//! exactly the bytes on the wire. Every request is bounded by a timeout.

// Tests assert by unwrapping: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// A test crate root resolves `mod x;` next to itself, so the files under `http/` are
// named explicitly (and Cargo does not build them as separate test binaries).
#[path = "http/binary.rs"]
mod binary;
#[path = "http/client.rs"]
mod client;

#[path = "http/chat.rs"]
mod chat;
#[path = "http/faults.rs"]
mod faults;
#[path = "http/lifecycle.rs"]
mod lifecycle;
#[path = "http/media.rs"]
mod media;
#[path = "http/outages.rs"]
mod outages;
#[path = "http/service.rs"]
mod service;
#[path = "http/text.rs"]
mod text;

use blossom_emulator::{Emulator, EmulatorConfig};

pub(crate) use client::{Client, Response};

/// A well-formed secret key.
pub(crate) const SK: &str = "sk_TestSecretKey0123456789abcdefghi";
/// `Bearer SK`.
pub(crate) const BEARER: &str = "Bearer sk_TestSecretKey0123456789abcdefghi";
/// A well-formed publishable key.
pub(crate) const PK: &str = "pk_TestPublish01234";

/// An emulator with `config` on the test's runtime, and a client for it.
pub(crate) async fn start(config: EmulatorConfig) -> (Emulator, Client) {
    let emulator = Emulator::start(config).await.expect("start emulator");
    let client = Client::new(emulator.addr());
    (emulator, client)
}

/// `Authorization: Bearer SK`.
pub(crate) fn auth() -> Vec<(&'static str, &'static str)> {
    vec![("Authorization", BEARER)]
}

/// A one-message chat body.
pub(crate) fn chat_body(content: &str) -> serde_json::Value {
    serde_json::json!({"model": "openai", "messages": [{"role": "user", "content": content}]})
}

#[test]
fn test_keys_are_well_formed() {
    assert_eq!(SK.len(), 3 + 32);
    assert_eq!(PK.len(), 3 + 16);
    assert!(SK[3..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(BEARER, format!("Bearer {SK}"));
    assert!(PK[3..].chars().all(|c| c.is_ascii_alphanumeric()));
}
