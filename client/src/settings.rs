//! What both client builders collect: the configuration and the policy changes. The setters
//! are written once, in [`settings_setters!`], and expanded into each builder.

use std::fmt;

use crate::cell::EngineCell;
use crate::signal::Notify;
use blossom_core::ClientConfig;
use blossom_core::codec::Encoder;
use blossom_core::engine::{Engine, EngineConfig};
use blossom_core::error::Error;

/// A change to the engine's policies, applied when the client is built.
type PolicyChange = Box<dyn FnOnce(&mut EngineConfig) + Send>;

/// The configuration and policy changes a builder has collected.
pub(crate) struct Settings {
    config: Result<ClientConfig, Error>,
    policies: Vec<PolicyChange>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("policy_changes", &self.policies.len())
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            config: Ok(ClientConfig::new()),
            policies: Vec::new(),
        }
    }
}

impl Settings {
    pub(crate) fn map(&mut self, change: impl FnOnce(ClientConfig) -> Result<ClientConfig, Error>) {
        let config = std::mem::replace(&mut self.config, Err(Error::config("unset")));
        self.config = config.and_then(change);
    }

    pub(crate) fn policy(&mut self, change: impl FnOnce(&mut EngineConfig) + Send + 'static) {
        self.policies.push(Box::new(change));
    }

    /// What a client is made of: the validated configuration, its encoder, `transport` (or,
    /// without one, the one `default` builds for the configuration) and the engine, whose
    /// seed is `seed` (the runtime's entropy) unless a policy sets one.
    pub(crate) fn assemble<T, S: Notify + Default>(
        self,
        seed: u64,
        transport: Option<T>,
        default: impl FnOnce(&ClientConfig) -> Result<T, Error>,
    ) -> Result<Parts<T, S>, Error> {
        let config = self.config?;
        config.validate()?;
        let mut engine = EngineConfig::from_client(&config);
        engine.seed = seed;
        for change in self.policies {
            change(&mut engine);
        }
        let encoder = Encoder::new(&config)?;
        let transport = match transport {
            Some(transport) => transport,
            None => default(&config)?,
        };
        Ok(Parts {
            config,
            encoder,
            transport,
            cell: EngineCell::new(Engine::new(engine)),
        })
    }
}

/// The parts of a client, as [`Settings::assemble`] builds them.
pub(crate) struct Parts<T, S> {
    pub(crate) config: ClientConfig,
    pub(crate) encoder: Encoder,
    pub(crate) transport: T,
    pub(crate) cell: EngineCell<S>,
}

/// The configuration and policy setters shared by the async and blocking builders. Each
/// builder has a `settings: Settings` field.
macro_rules! settings_setters {
    () => {
        /// Replaces the whole configuration.
        pub fn config(mut self, config: ::blossom_core::ClientConfig) -> Self {
            self.settings.map(|_| Ok(config));
            self
        }

        /// Reads `POLLINATIONS_API_KEY` and `POLLINATIONS_BASE_URL` into the configuration
        /// (variables that are unset or empty leave it as it is).
        pub fn from_env(mut self) -> Self {
            self.settings
                .map(|config| config.merge_lookup(|name| std::env::var(name).ok()));
            self
        }

        /// Sets the base URL (default `https://gen.pollinations.ai`).
        pub fn base_url(mut self, url: &str) -> Self {
            self.settings.map(|config| config.base_url(url));
            self
        }

        /// Sets the API key.
        pub fn api_key(mut self, key: impl AsRef<str>) -> Self {
            self.settings.map(|config| config.api_key(key));
            self
        }

        /// Allows sending the key over plain HTTP to a remote host.
        pub fn allow_insecure_http(mut self, allow: bool) -> Self {
            self.settings.map(|mut config| {
                config.allow_insecure_http = allow;
                Ok(config)
            });
            self
        }

        /// Sets the `User-Agent`.
        pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
            let user_agent = user_agent.into();
            self.settings.map(|mut config| {
                config.user_agent = user_agent;
                Ok(config)
            });
            self
        }

        /// Sets the connect timeout (values beyond what the transport supports, such as
        /// `Duration::MAX`, mean the longest it supports).
        pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.settings.map(|mut config| {
                config.connect_timeout = timeout;
                Ok(config)
            });
            self
        }

        /// Sets how long one attempt may take (for a stream: up to its first event);
        /// `Duration::MAX` means no limit.
        pub fn request_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.settings.map(|mut config| {
                config.request_timeout = timeout;
                Ok(config)
            });
            self
        }

        /// Sets how long a stream may stay silent (no byte at all) before it fails with a
        /// timeout; `Duration::MAX` means no limit.
        pub fn stream_idle_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.settings.map(|mut config| {
                config.stream_idle_timeout = timeout;
                Ok(config)
            });
            self
        }

        /// After a stream's `[DONE]`, reads the rest of its body for at most `timeout` and
        /// `bytes` (in the background: the caller has its answer already) so the connection
        /// can be reused; past either bound the connection is closed. Default 200 ms, 64 KiB.
        pub fn stream_drain(mut self, timeout: std::time::Duration, bytes: usize) -> Self {
            self.settings.map(|mut config| {
                config.stream_drain_timeout = timeout;
                config.stream_drain_bytes = bytes;
                Ok(config)
            });
            self
        }

        /// Sets the largest single event a stream may send (default 1 MiB); a longer one fails
        /// the stream with a stream error.
        pub fn stream_max_event_bytes(mut self, max: usize) -> Self {
            self.settings.map(|mut config| {
                config.stream_max_event_bytes = max;
                Ok(config)
            });
            self
        }

        /// Sets how many idle connections the pool keeps for reuse (default 64). The calls
        /// running at once are limited separately, by [`max_concurrent`](Self::max_concurrent).
        pub fn max_connections(mut self, max: usize) -> Self {
            self.settings.map(|mut config| {
                config.max_connections = max;
                Ok(config)
            });
            self
        }

        /// Sets the largest accepted response body.
        pub fn max_body_bytes(mut self, max: usize) -> Self {
            self.settings.map(|mut config| {
                config.max_body_bytes = max;
                Ok(config)
            });
            self
        }

        /// Sets the retry policy (default: 2 retries, 0.5 s base, 8 s cap, full jitter).
        pub fn retry(mut self, policy: ::blossom_core::policy::RetryPolicy) -> Self {
            self.settings.policy(move |engine| engine.retry = policy);
            self
        }

        /// Sets the retry budget (`None`: no budget).
        pub fn retry_budget(
            mut self,
            budget: Option<::blossom_core::policy::BudgetConfig>,
        ) -> Self {
            self.settings.policy(move |engine| engine.budget = budget);
            self
        }

        /// Sets the circuit breaker of each endpoint kind (`None`: no breakers).
        pub fn circuit_breaker(
            mut self,
            breaker: Option<::blossom_core::policy::BreakerConfig>,
        ) -> Self {
            self.settings.policy(move |engine| engine.breaker = breaker);
            self
        }

        /// Sets the rate limits (default: by key tier, see
        /// [`LimiterConfig::for_tier`](::blossom_core::engine::LimiterConfig::for_tier)).
        pub fn rate_limits(mut self, limits: ::blossom_core::engine::LimiterConfig) -> Self {
            self.settings.policy(move |engine| engine.limits = limits);
            self
        }

        /// Sets the response cache and coalescing.
        pub fn cache(mut self, cache: ::blossom_core::policy::CacheConfig) -> Self {
            self.settings.policy(move |engine| engine.cache = cache);
            self
        }

        /// Sets how many calls may run at once, client-wide (default 256); more wait in a queue
        /// by priority. Separate from the pool size ([`max_connections`](Self::max_connections)).
        pub fn max_concurrent(mut self, max: usize) -> Self {
            self.settings
                .policy(move |engine| engine.scheduler.max_concurrent = max);
            self
        }

        /// Sets how fast queued low-priority calls rise (one class per `aging` waited).
        pub fn priority_aging(mut self, aging: std::time::Duration) -> Self {
            self.settings
                .policy(move |engine| engine.scheduler.aging = aging);
            self
        }

        /// Fixes the seed of the engine's random generator (jitter), for reproducible runs.
        pub fn seed(mut self, seed: u64) -> Self {
            self.settings.policy(move |engine| engine.seed = seed);
            self
        }
    };
}

pub(crate) use settings_setters;
