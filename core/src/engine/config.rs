//! Engine settings and per-call options.

use std::time::{Duration, Instant};

use crate::codec::EndpointKind;
use crate::config::ClientConfig;
use crate::policy::{
    BreakerConfig, BudgetConfig, CacheConfig, Priority, RateLimit, RetryPolicy, SchedulerConfig,
};
use crate::secret::{ApiKey, KeyTier};
use crate::sse::StreamLimits;

/// Rate limits: one per endpoint kind, plus one that text, image and audio share (the service
/// counts a publishable key's generations together).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LimiterConfig {
    /// Per endpoint kind, indexed by [`EndpointKind::index`].
    pub per_kind: [RateLimit; 4],
    /// Shared by all generation kinds (text, image, audio); `None` for no shared limit.
    pub generation: Option<RateLimit>,
}

impl LimiterConfig {
    /// No pacing at all (only the server's 429 pauses apply).
    pub fn unlimited() -> Self {
        Self {
            per_kind: [RateLimit::unlimited(); 4],
            generation: None,
        }
    }

    /// Defaults that match the service for a key tier (docs/PROTOCOL.md §6). Only what the service is
    /// known to limit is paced: publishable (`pk_`) keys share 1 generation per second with a
    /// burst of 10 (the service's budget is in pollen, so 429s then tune the pace) and 5 model
    /// lists per second. Secret keys, keys of other shapes (gateways' `sk-…`) and no key are
    /// not paced: the server's 429s, with their `Retry-After`, still slow any of them down.
    pub fn for_tier(tier: Option<KeyTier>) -> Self {
        match tier {
            Some(KeyTier::Publishable) => {
                let mut per_kind = [RateLimit::unlimited(); 4];
                per_kind[EndpointKind::Models.index()] = RateLimit::per_second(5.0, 10);
                Self {
                    per_kind,
                    generation: Some(RateLimit::per_second(1.0, 10)),
                }
            }
            Some(KeyTier::Secret | KeyTier::Other) | None => Self::unlimited(),
        }
    }

    /// Sets the limit for one endpoint kind.
    #[must_use]
    pub fn kind(mut self, kind: EndpointKind, limit: RateLimit) -> Self {
        self.per_kind[kind.index()] = limit;
        self
    }

    /// Sets the shared generation limit.
    #[must_use]
    pub fn generation(mut self, limit: Option<RateLimit>) -> Self {
        self.generation = limit;
        self
    }
}

/// Engine settings: every policy, client-wide.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// How long one attempt may take to produce a complete answer (or a stream's first event).
    pub attempt_timeout: Duration,
    /// The key, only so that it can be scrubbed from server error messages.
    pub redact: Option<ApiKey>,
    /// The key's fingerprint, part of every cache key (0 without a key).
    pub key_identity: u64,
    /// Retries.
    pub retry: RetryPolicy,
    /// The retry budget; `None` lets every call use all its retries.
    pub budget: Option<BudgetConfig>,
    /// Circuit breakers (one per endpoint kind); `None` disables them.
    pub breaker: Option<BreakerConfig>,
    /// Pacing.
    pub limits: LimiterConfig,
    /// Response cache and request coalescing.
    pub cache: CacheConfig,
    /// Permits and priorities.
    pub scheduler: SchedulerConfig,
    /// Seed of the engine's random generator (jitter). Adapters seed it from the OS;
    /// tests fix it.
    pub seed: u64,
    /// Idle timeout and post-`[DONE]` drain bounds of every stream.
    pub stream: StreamLimits,
}

impl EngineConfig {
    /// Settings taken from a client configuration, with every policy at its default.
    pub fn from_client(config: &ClientConfig) -> Self {
        Self {
            attempt_timeout: config.request_timeout,
            redact: config.api_key.clone(),
            key_identity: config.api_key.as_ref().map_or(0, ApiKey::fingerprint),
            retry: RetryPolicy::default(),
            budget: Some(BudgetConfig::default()),
            breaker: Some(BreakerConfig::default()),
            limits: LimiterConfig::for_tier(config.api_key.as_ref().map(ApiKey::tier)),
            cache: CacheConfig::default(),
            scheduler: SchedulerConfig::default(),
            seed: 0,
            stream: config.stream_limits(),
        }
    }
}

/// Per-call options.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CallOptions {
    /// The call must finish within this long of its submission, across all attempts and waits.
    pub timeout: Option<Duration>,
    /// The call must finish by this instant (the earlier of this and `timeout` applies).
    pub deadline: Option<Instant>,
    /// Its priority class for a permit.
    pub priority: Priority,
    /// Skip the client cache and request coalescing (the fresh answer still refreshes the cache).
    pub no_cache: bool,
    /// A retry policy for this call instead of the client's.
    pub retry: Option<RetryPolicy>,
}

impl CallOptions {
    /// Sets a total timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets an absolute deadline.
    #[must_use]
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets the priority.
    #[must_use]
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Skips the cache and coalescing.
    #[must_use]
    pub fn no_cache(mut self) -> Self {
        self.no_cache = true;
        self
    }

    /// Overrides the retry policy.
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The deadline these options set for a call submitted at `now`.
    pub(crate) fn deadline_from(&self, now: Instant) -> Option<Instant> {
        let by_timeout = self.timeout.and_then(|t| now.checked_add(t));
        match (by_timeout, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
