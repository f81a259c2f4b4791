//! Publishable-key pacing (docs/PROTOCOL.md §6): one token bucket per `pk_` key.
//!
//! A generation that reaches the generator costs one token; a cache hit costs nothing;
//! `sk_` keys are never limited. An empty bucket answers 429 with `Retry-After` (whole
//! seconds, rounded up) and the service's pk body carrying `retryAfterSeconds`.
//! Time comes from tokio's clock, so a paused test runtime drives it too.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::PkRateLimit;
use crate::errors::{ApiError, seconds_up_to_hundredths};
use crate::hash::StableHasher;

/// Above this many buckets, full ones are forgotten (a full bucket equals a fresh one).
const MAX_BUCKETS: usize = 10_000;

/// The answer when a bucket never refills.
const NEVER: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets by key. Buckets are keyed by a hash of the key, so the limiter never
/// stores a key.
pub(crate) struct RateLimiter {
    limit: Option<PkRateLimit>,
    buckets: HashMap<u64, Bucket>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limit", &self.limit)
            .field("buckets", &self.buckets.len())
            .finish()
    }
}

impl RateLimiter {
    /// A limiter applying `limit` to each key (`None`: everything passes).
    pub(crate) fn new(limit: Option<PkRateLimit>) -> Self {
        RateLimiter {
            limit,
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `key` at `now`, or says how long until one is available.
    pub(crate) fn acquire(&mut self, key: &str, now: Instant) -> Result<(), Duration> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let capacity = f64::from(limit.burst);
        let rate = limit.refill_per_second;
        let id = StableHasher::new().str("pk").str(key).finish();
        if self.buckets.len() >= MAX_BUCKETS && !self.buckets.contains_key(&id) {
            self.forget_full(limit, now);
        }
        let bucket = self.buckets.entry(id).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        if rate > 0.0 {
            let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        }
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        if rate <= 0.0 {
            return Err(NEVER);
        }
        let wait = (1.0 - bucket.tokens) / rate;
        Err(Duration::try_from_secs_f64(wait)
            .unwrap_or(NEVER)
            .min(NEVER))
    }

    fn forget_full(&mut self, limit: PkRateLimit, now: Instant) {
        let capacity = f64::from(limit.burst);
        let rate = limit.refill_per_second.max(0.0);
        self.buckets.retain(|_, b| {
            let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
            b.tokens + elapsed * rate < capacity
        });
    }
}

/// The 429 for an empty bucket.
pub(crate) fn rejection(wait: Duration, limit: Option<PkRateLimit>) -> ApiError {
    let policy = match limit {
        Some(l) => format!(
            "Publishable keys (pk_) allow bursts of {} requests, refilled at {} per second",
            l.burst, l.refill_per_second
        ),
        None => "Publishable keys (pk_) are rate limited".to_owned(),
    };
    ApiError::pk_rate_limited(
        wait,
        format!(
            "Rate limit exceeded. Retry after {:.2}s. {policy}; use a secret key (sk_) from \
             a server for unlimited requests.",
            seconds_up_to_hundredths(wait)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let mut limiter = RateLimiter::new(Some(PkRateLimit::new(2, 1.0)));
        let t0 = Instant::now();
        assert!(limiter.acquire("pk_a", t0).is_ok());
        assert!(limiter.acquire("pk_a", t0).is_ok());
        let wait = limiter.acquire("pk_a", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 1.0).abs() < 1e-9);
        // Another key has its own bucket.
        assert!(limiter.acquire("pk_b", t0).is_ok());
        let t1 = t0 + Duration::from_millis(500);
        let wait = limiter.acquire("pk_a", t1).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9);
        assert!(limiter.acquire("pk_a", t0 + Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn no_limit_and_no_refill() {
        let mut open = RateLimiter::new(None);
        let now = Instant::now();
        for _ in 0..100 {
            assert!(open.acquire("pk_a", now).is_ok());
        }
        let mut once = RateLimiter::new(Some(PkRateLimit::new(1, 0.0)));
        assert!(once.acquire("pk_a", now).is_ok());
        assert_eq!(once.acquire("pk_a", now).unwrap_err(), NEVER);
    }

    #[test]
    fn message_names_the_wait() {
        let err = rejection(Duration::from_millis(1230), Some(PkRateLimit::default()));
        let json = err.to_json();
        assert!(
            json["message"]
                .as_str()
                .unwrap()
                .contains("Retry after 1.23s")
        );
        assert_eq!(json["retryAfterSeconds"], 1.23);
    }
}
