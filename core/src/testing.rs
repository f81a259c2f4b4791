//! Helpers shared by the core's unit tests.

use std::time::Instant;

use http::HeaderMap;
use http::header::HeaderName;

/// The origin of virtual time. Any instant works: the core only compares and adds.
#[allow(clippy::disallowed_methods)] // reading the clock once for an `Instant` value is fine in tests
pub(crate) fn origin() -> Instant {
    Instant::now()
}

/// A header map of `(name, value)` pairs.
#[allow(clippy::unwrap_used)] // test input: a bad name or value should stop the test
pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    map
}
