//! How an emulator instance behaves: the seed, stream pacing, `pk_` rate limits, injected
//! faults and the per-key concurrency limit.
//!
//! Every field is public and has a builder method of the same name, so both styles work:
//!
//! ```
//! use std::time::Duration;
//! use blossom_emulator::{EmulatorConfig, PkRateLimit};
//!
//! let a = EmulatorConfig { seed: 7, ..EmulatorConfig::default() };
//! let b = EmulatorConfig::default()
//!     .seed(7)
//!     .stream_chunk_delay(Duration::from_millis(5))
//!     .pk_rate_limit(Some(PkRateLimit::new(2, 0.5)))
//!     .faults("503=0.1,latency=5..50ms".parse().expect("a valid spec"))
//!     .concurrency_limit(Some(1));
//! assert_eq!(a.seed, b.seed);
//! ```

use std::time::Duration;

use crate::faults::FaultSpec;

/// Configuration of one emulator instance. `Default` gives the service's behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct EmulatorConfig {
    /// Mixed into every deterministic answer: two emulators with the same seed give the
    /// same text, images and audio for the same request; a different seed gives different
    /// content. Default 0.
    pub seed: u64,
    /// Pause between two server-sent events of a stream, so a test can watch tokens arrive
    /// one by one. Default zero (events are written as fast as the client reads).
    pub stream_chunk_delay: Duration,
    /// The token bucket applied to each publishable (`pk_`) key; `None` disables pacing.
    /// Default: a burst of 10 requests, refilled at 1 request per second.
    pub pk_rate_limit: Option<PkRateLimit>,
    /// When true, `GET /image/models` answers the old shape (a plain array of model names)
    /// instead of model info objects. Default false.
    pub legacy_image_models: bool,
    /// How long a stop waits for in-flight requests to finish before their connections
    /// are closed. Bounds [`Emulator::stop`](crate::Emulator::stop). Default 1 second.
    pub shutdown_grace: Duration,
    /// The faults injected at random, seeded by [`EmulatorConfig::seed`]. Default none.
    /// Change them at run time with
    /// [`Emulator::set_faults`](crate::Emulator::set_faults).
    pub faults: FaultSpec,
    /// How many generations one key may have in progress at once; one more is answered
    /// 429 `concurrency_limit_exceeded` with `Retry-After: 1`, like the service's free
    /// tier. `None` (the default) is unlimited.
    pub concurrency_limit: Option<u32>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: 0,
            stream_chunk_delay: Duration::ZERO,
            pk_rate_limit: Some(PkRateLimit::default()),
            legacy_image_models: false,
            shutdown_grace: Duration::from_secs(1),
            faults: FaultSpec::none(),
            concurrency_limit: None,
        }
    }
}

impl EmulatorConfig {
    /// Sets [`EmulatorConfig::seed`].
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`EmulatorConfig::stream_chunk_delay`].
    #[must_use]
    pub fn stream_chunk_delay(mut self, delay: Duration) -> Self {
        self.stream_chunk_delay = delay;
        self
    }

    /// Sets [`EmulatorConfig::pk_rate_limit`] (`None` disables `pk_` pacing).
    #[must_use]
    pub fn pk_rate_limit(mut self, limit: Option<PkRateLimit>) -> Self {
        self.pk_rate_limit = limit;
        self
    }

    /// Sets [`EmulatorConfig::legacy_image_models`].
    #[must_use]
    pub fn legacy_image_models(mut self, legacy: bool) -> Self {
        self.legacy_image_models = legacy;
        self
    }

    /// Sets [`EmulatorConfig::shutdown_grace`].
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Sets [`EmulatorConfig::faults`].
    #[must_use]
    pub fn faults(mut self, faults: FaultSpec) -> Self {
        self.faults = faults;
        self
    }

    /// Sets [`EmulatorConfig::concurrency_limit`] (`None` is unlimited).
    #[must_use]
    pub fn concurrency_limit(mut self, limit: Option<u32>) -> Self {
        self.concurrency_limit = limit;
        self
    }
}

/// A token bucket per publishable key: `burst` requests at once, refilled continuously at
/// `refill_per_second` requests per second. Cache hits are free.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PkRateLimit {
    /// Bucket capacity: how many requests a fresh key may send back to back.
    pub burst: u32,
    /// Refill rate in requests per second (fractions allowed, e.g. `0.5` = one every 2 s).
    /// A rate of zero or less means the bucket never refills.
    pub refill_per_second: f64,
}

impl PkRateLimit {
    /// A bucket of `burst` requests refilled at `refill_per_second`.
    pub fn new(burst: u32, refill_per_second: f64) -> Self {
        PkRateLimit {
            burst,
            refill_per_second,
        }
    }
}

impl Default for PkRateLimit {
    /// A burst of 10 requests, refilled at 1 request per second.
    fn default() -> Self {
        PkRateLimit::new(10, 1.0)
    }
}
