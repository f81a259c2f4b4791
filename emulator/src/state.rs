//! The state shared by every request of one emulator instance.
//!
//! Locks are `std::sync::Mutex`es held for a few map operations, never across an
//! `.await`; a poisoned lock is recovered (the data stays consistent: each critical
//! section is a single update).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::cache::{Answer, CacheKey, ResponseCache};
use crate::config::EmulatorConfig;
use crate::ratelimit::RateLimiter;
use crate::stats::Stats;

/// Shared state: configuration, cache, counters, rate limiter. Deliberately not `Debug`:
/// it holds cached answers and per-key buckets.
pub(crate) struct AppState {
    pub(crate) config: EmulatorConfig,
    cache: Mutex<ResponseCache>,
    stats: Mutex<Stats>,
    limiter: Mutex<RateLimiter>,
    requests: AtomicU64,
    generations: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    /// Fresh state for `config`.
    pub(crate) fn new(config: EmulatorConfig) -> Self {
        AppState {
            limiter: Mutex::new(RateLimiter::new(config.pk_rate_limit)),
            config,
            cache: Mutex::new(ResponseCache::new()),
            stats: Mutex::new(Stats::default()),
            requests: AtomicU64::new(0),
            generations: AtomicU64::new(0),
        }
    }

    /// A unique request id, `req_` and 16 hex digits.
    pub(crate) fn next_request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        format!("req_{n:016x}")
    }

    /// A number that differs for every generation: makes completion ids unique and stands
    /// in for randomness when a request asks for `seed: -1`.
    pub(crate) fn next_generation(&self) -> u64 {
        self.generations.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// A copy of the counters.
    pub(crate) fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    /// Updates the counters.
    pub(crate) fn with_stats(&self, update: impl FnOnce(&mut Stats)) {
        update(&mut lock(&self.stats));
    }

    /// A cached answer, if any (does not count hits; the caller does).
    pub(crate) fn cache_get(&self, key: &CacheKey) -> Option<Answer> {
        lock(&self.cache).get(key)
    }

    /// Stores an answer.
    pub(crate) fn cache_put(&self, key: &CacheKey, answer: Answer) {
        lock(&self.cache).insert(key, answer);
    }

    /// Takes a `pk_` token now, or the wait until one is available.
    pub(crate) fn acquire_pk(&self, key: &str) -> Result<(), std::time::Duration> {
        lock(&self.limiter).acquire(key, tokio::time::Instant::now())
    }
}
