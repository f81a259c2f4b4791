//! # blossom-tokio
//!
//! The [Pollinations.AI](https://pollinations.ai) client for tokio programs: text, chat
//! (streaming, tools, JSON output, vision), images, speech and model lists, with the
//! resilience of `blossom-core` built in.
//!
//! ```
//! use blossom_tokio::{ChatRequest, Client, ImageRequest, SaveMedia as _, StreamExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = blossom_emulator::Emulator::start(Default::default()).await?;
//! // Reads POLLINATIONS_API_KEY and POLLINATIONS_BASE_URL; here, a local emulator.
//! let client = Client::builder()
//!     .base_url(emulator.base_url())
//!     .api_key(blossom_emulator::DEMO_SECRET_KEY)
//!     .build()?;
//!
//! let answer = client.text("Write a haiku about Rust").await?;
//! println!("{answer}");
//!
//! let reply = client.chat(ChatRequest::new("openai").system("Be brief").user("Hi")).await?;
//! println!("{}", reply.text());
//!
//! let mut stream = client.chat_stream(ChatRequest::new("openai").user("Count to 5")).await?;
//! while let Some(chunk) = stream.next().await {
//!     print!("{}", chunk?.text());
//! }
//!
//! let image = client.image(ImageRequest::new("a red apple").size(64, 64).seed(7)).await?;
//! assert_eq!(image.extension(), "jpg");
//! image.save(std::env::temp_dir().join("blossom-doc-apple.jpg"))?;
//! # emulator.stop();
//! # Ok(()) }
//! ```
//!
//! The client is `Clone + Send + Sync`; clones share one connection pool and one engine.
//! Each method returns a call that starts when awaited; set per-call options first, e.g.
//! `client.chat(request).timeout(Duration::from_secs(20)).await`. Dropping a call's future
//! (or a stream) cancels it and frees its connection.
//!
//! Resilience is built in and configured on the builder: retries with jitter, a budget and
//! `Retry-After` (`.retry(..)`, `.retry_budget(..)`), circuit breakers per endpoint kind
//! (`.circuit_breaker(..)`), pacing by key tier with 429 feedback (`.rate_limits(..)`), a
//! byte-bounded cache with request coalescing (`.cache(..)`), priority scheduling
//! (`.max_concurrent(..)`, `.priority(..)` per call). `client.metrics()` reports what they did.
//!
//! Many calls: `client.batch(requests).concurrency(8).run()` is a stream of
//! `(index, result)` over a lazy input; `client.worker_pool(n)` gives a producer/consumer
//! pair with back-pressure.
//!
//! Shutting down on Ctrl-C is one line around the body of `main`:
//!
//! ```no_run
//! # use std::time::Duration;
//! # async fn demo(client: blossom_tokio::Client, work: impl std::future::Future<Output = ()>) {
//! let (_finished, report) = client.run_until(work, tokio::signal::ctrl_c(), Duration::from_secs(10)).await;
//! eprintln!("{} calls finished in the grace period, {} cancelled", report.completed, report.cancelled);
//! # }
//! ```
//!
//! Time comes from tokio's clock, so `tokio::time::pause()` applies to the SDK's timers too.
//!
//! **Transports.** Calls go through `blossom-hyper` (hyper 1 with rustls; cargo feature
//! `hyper`, on by default). The `isahc` feature adds `blossom_tokio::isahc::Client`, the same client over
//! libcurl, which reads the usual proxy variables; with `default-features = false` and only
//! `isahc`, [`Client`] itself uses isahc. `BENCHMARKS.md` compares the two.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use blossom_client::{Runtime, Timer, Transport};

pub use blossom_client::prelude::*;
pub use blossom_client::{Batch, BatchResults, Call, PoolResults, StreamCall, Submitter};
pub use futures_util::StreamExt;

#[cfg(not(any(feature = "hyper", feature = "isahc")))]
compile_error!("blossom-tokio needs a transport: enable the `hyper` feature, `isahc`, or both");

/// The tokio runtime adapter: tokio's clock and timers, and the default transport (hyper
/// with the `hyper` feature, the default; isahc otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioRuntime;

/// Implements the runtime seam with tokio for `$runtime`, whose transport `$transport` makes.
macro_rules! tokio_runtime {
    ($runtime:ty, $transport:expr) => {
        impl Timer for $runtime {
            type Sleep = tokio::time::Sleep;

            fn now(&self) -> Instant {
                tokio::time::Instant::now().into_std()
            }

            fn wall_now(&self) -> SystemTime {
                SystemTime::now()
            }

            fn sleep_until(&self, deadline: Instant) -> Self::Sleep {
                tokio::time::sleep_until(deadline.into())
            }
        }

        impl Runtime for $runtime {
            fn seed(&self) -> u64 {
                os_seed()
            }

            fn spawn(&self, task: Pin<Box<dyn Future<Output = ()> + Send>>) {
                spawn(task);
            }

            fn default_transport(config: &ClientConfig) -> Result<Arc<dyn Transport>, Error> {
                let make: fn(&ClientConfig) -> Result<Arc<dyn Transport>, Error> = $transport;
                make(config)
            }
        }
    };
}

#[cfg(feature = "hyper")]
tokio_runtime!(TokioRuntime, |config| Ok(Arc::new(
    blossom_hyper::HyperTransport::new(config)?
)));

#[cfg(not(feature = "hyper"))]
tokio_runtime!(TokioRuntime, |config| Ok(Arc::new(
    blossom_transport::IsahcTransport::new(config)?
)));

/// A Pollinations client for tokio. See the [crate documentation](crate).
pub type Client = blossom_client::Client<TokioRuntime>;

/// Builds a [`Client`].
pub type ClientBuilder = blossom_client::ClientBuilder<TokioRuntime>;

/// The client on tokio with the isahc (libcurl) transport, for programs that need what
/// libcurl brings (the usual proxy variables, its TLS stack) or that compare the two.
///
/// ```no_run
/// # fn demo() -> Result<(), blossom_tokio::Error> {
/// let client = blossom_tokio::isahc::Client::builder().build()?;
/// # Ok(()) }
/// ```
#[cfg(feature = "isahc")]
pub mod isahc {
    use super::*;

    /// The tokio runtime adapter with the isahc transport.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct TokioIsahcRuntime;

    tokio_runtime!(TokioIsahcRuntime, |config| Ok(Arc::new(
        blossom_transport::IsahcTransport::new(config)?
    )));

    /// A Pollinations client for tokio over isahc.
    pub type Client = blossom_client::Client<TokioIsahcRuntime>;

    /// Builds a [`Client`].
    pub type ClientBuilder = blossom_client::ClientBuilder<TokioIsahcRuntime>;
}

/// Runs `task` on the current tokio runtime.
fn spawn(task: Pin<Box<dyn Future<Output = ()> + Send>>) {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(task);
        }
        // Outside a runtime (a worker pool made from synchronous code): run the task on a
        // thread of its own with a small runtime, rather than panicking.
        Err(_) => {
            std::thread::spawn(move || {
                if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    runtime.block_on(task);
                }
            });
        }
    }
}

/// A seed from the OS-keyed hasher std uses against hash flooding: fresh entropy per client
/// without another dependency.
fn os_seed() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}
