//! "One generation at a time" (docs/PROTOCOL.md §6): with
//! [`EmulatorConfig::concurrency_limit`](crate::EmulatorConfig::concurrency_limit) set, a
//! key that already has that many generations in progress is answered 429
//! `{"error":"concurrency_limit_exceeded","message":"…"}` with `Retry-After: 1`, like the
//! service's free tier.
//!
//! A generation is in progress from the moment its request is admitted (before any
//! injected latency, which stands for generation time) until its answer is fully sent or
//! abandoned, streams included. Keys are counted by a hash, never stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

use crate::hash::StableHasher;

/// Generations in progress, by key.
#[derive(Debug)]
pub(crate) struct Concurrency {
    limit: Option<u32>,
    active: Mutex<HashMap<u64, u32>>,
}

/// One admitted generation; dropping it ends the generation.
#[derive(Debug)]
pub(crate) struct Permit {
    owner: Arc<Concurrency>,
    id: u64,
}

/// A permit that rides along with its response (an extension) until the body is done.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    _permit: Arc<Permit>,
}

impl Concurrency {
    /// A limiter allowing `limit` generations per key (`None`: unlimited).
    pub(crate) fn new(limit: Option<u32>) -> Arc<Self> {
        Arc::new(Concurrency {
            limit,
            active: Mutex::new(HashMap::new()),
        })
    }

    /// Admits a generation for `key`: a permit (none is needed without a limit).
    ///
    /// Fails with [`Refused`] (the 429 answer) when the key is at its limit.
    pub(crate) fn admit(self: &Arc<Self>, key: &str) -> Result<Option<Held>, Refused> {
        let Some(limit) = self.limit else {
            return Ok(None);
        };
        let id = StableHasher::new().str("concurrency").str(key).finish();
        let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        let count = active.entry(id).or_insert(0);
        if *count >= limit {
            return Err(Refused { limit });
        }
        *count += 1;
        Ok(Some(Held {
            _permit: Arc::new(Permit {
                owner: self.clone(),
                id,
            }),
        }))
    }

    /// Generations in progress for all keys.
    #[cfg(test)]
    fn total(&self) -> u32 {
        let active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        active.values().sum()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut active = self
            .owner
            .active
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = active.get_mut(&self.id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                active.remove(&self.id);
            }
        }
    }
}

/// A generation refused because its key is at the limit; answers the service's 429.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused {
    limit: u32,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        rejection(self.limit)
    }
}

/// The service's concurrency 429.
fn rejection(limit: u32) -> Response {
    let plural = if limit == 1 { "" } else { "s" };
    let body = json!({
        "error": "concurrency_limit_exceeded",
        "message": format!(
            "Too many concurrent requests: this key may run {limit} generation{plural} at a \
             time. Wait for the current one to finish, then retry."
        ),
    });
    let mut response = (StatusCode::TOO_MANY_REQUESTS, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_key_and_releases_on_drop() {
        let c = Concurrency::new(Some(1));
        let first = c.admit("a").unwrap();
        assert!(first.is_some());
        let refused = c.admit("a").unwrap_err().into_response();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
        let other = c.admit("b").unwrap();
        assert_eq!(c.total(), 2);
        drop(first);
        assert!(c.admit("a").unwrap().is_some());
        drop(other);
        assert_eq!(c.total(), 0);
    }

    #[test]
    fn no_limit_needs_no_permit() {
        let c = Concurrency::new(None);
        assert!(c.admit("a").unwrap().is_none());
        let two = Concurrency::new(Some(2));
        let _a = two.admit("k").unwrap();
        let _b = two.admit("k").unwrap();
        assert!(two.admit("k").is_err());
    }
}
