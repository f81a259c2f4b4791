//! How an emulator instance behaves: the seed, stream pacing, `pk_` rate limits.
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
//!     .pk_rate_limit(Some(PkRateLimit::new(2, 0.5)));
//! assert_eq!(a.seed, b.seed);
//! ```

use std::time::Duration;

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
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: 0,
            stream_chunk_delay: Duration::ZERO,
            pk_rate_limit: Some(PkRateLimit::default()),
            legacy_image_models: false,
            shutdown_grace: Duration::from_secs(1),
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
