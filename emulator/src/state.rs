//! The state shared by every request of one emulator instance.
//!
//! Locks are `std::sync::Mutex`es held for a few map operations, never across an
//! `.await`; a poisoned lock is recovered (the data stays consistent: each critical
//! section is a single update).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::cache::{Answer, CacheKey, ResponseCache};
use crate::concurrency::Concurrency;
use crate::config::EmulatorConfig;
use crate::faults::{FaultSpec, Forced, Plan, decide};
use crate::ratelimit::RateLimiter;
use crate::stats::Stats;

/// Shared state: configuration, cache, counters, rate limiter, faults. Deliberately not
/// `Debug`: it holds cached answers and per-key buckets.
pub(crate) struct AppState {
    pub(crate) config: EmulatorConfig,
    cache: Mutex<ResponseCache>,
    stats: Mutex<Stats>,
    limiter: Mutex<RateLimiter>,
    faults: Mutex<FaultState>,
    pub(crate) concurrency: Arc<Concurrency>,
    stopping: AtomicBool,
    requests: AtomicU64,
    generations: AtomicU64,
}

/// The live fault spec and the number of fault decisions made under it.
struct FaultState {
    spec: Arc<FaultSpec>,
    decisions: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    /// Fresh state for `config`.
    pub(crate) fn new(config: EmulatorConfig) -> Self {
        AppState {
            limiter: Mutex::new(RateLimiter::new(config.pk_rate_limit)),
            faults: Mutex::new(FaultState {
                spec: Arc::new(config.faults.clone()),
                decisions: 0,
            }),
            concurrency: Concurrency::new(config.concurrency_limit),
            config,
            cache: Mutex::new(ResponseCache::new()),
            stats: Mutex::new(Stats::default()),
            stopping: AtomicBool::new(false),
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

    /// Zeroes the counters, except the gauge of requests in flight.
    pub(crate) fn reset_stats(&self) {
        let mut stats = lock(&self.stats);
        let in_flight = stats.in_flight;
        *stats = Stats {
            in_flight,
            max_in_flight: in_flight,
            ..Stats::default()
        };
    }

    /// Counts one injected fault under its token.
    pub(crate) fn count_fault(&self, token: &str) {
        self.with_stats(|s| *s.faults.entry(token.to_owned()).or_default() += 1);
    }

    /// The live fault spec.
    pub(crate) fn faults(&self) -> FaultSpec {
        FaultSpec::clone(&lock(&self.faults).spec)
    }

    /// Replaces the fault spec and restarts its decision sequence, so the same spec set
    /// at the same point of a run decides the same way.
    pub(crate) fn set_faults(&self, spec: FaultSpec) {
        *lock(&self.faults) = FaultState {
            spec: Arc::new(spec),
            decisions: 0,
        };
    }

    /// What happens to the next request on route `label`, and its decision number: the
    /// forced faults of its header, else a seeded decision under the live spec when the
    /// route is in scope.
    pub(crate) fn fault_plan(&self, label: &str, forced: Option<Forced>) -> (Plan, u64) {
        let (spec, n) = {
            let mut state = lock(&self.faults);
            let n = state.decisions;
            state.decisions += 1;
            (state.spec.clone(), n)
        };
        let plan = match forced {
            Some(forced) => forced.plan(self.config.seed, n),
            None if spec.in_scope(label) => decide(&spec, self.config.seed, n),
            None => Plan::default(),
        };
        (plan, n)
    }

    /// Notes that the emulator is stopping: connections closed from now on were not
    /// closed by their clients.
    pub(crate) fn begin_stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    /// Whether the emulator is stopping.
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
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
