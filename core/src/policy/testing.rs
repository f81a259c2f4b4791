//! Helpers for the policies' tests.

use std::time::Instant;

/// The origin of virtual time. Any instant works: policies only compare and add.
#[allow(clippy::disallowed_methods)] // reading the clock once for an `Instant` value is fine in tests
pub(crate) fn origin() -> Instant {
    Instant::now()
}
