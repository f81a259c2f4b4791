//! # blossom-blocking
//!
//! A synchronous [Pollinations.AI](https://pollinations.ai) client: the same methods as the
//! async clients, without `.await`. Streams are iterators. No async runtime is created or
//! needed, so it works from plain `main`, from many threads sharing one client, and from
//! inside an async runtime's blocking section (`spawn_blocking`) without deadlocking.
//!
//! ```
//! use blossom_blocking::{ChatRequest, Client, ImageRequest};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = blossom_emulator::Emulator::spawn(Default::default())?;
//! let client = Client::builder()
//!     .base_url(emulator.base_url())
//!     .api_key(blossom_emulator::DEMO_SECRET_KEY)
//!     .build()?;
//! let reply = client.chat(ChatRequest::new("openai").user("Hi"))?;
//! println!("{}", reply.text());
//! for chunk in client.chat_stream(ChatRequest::new("openai").user("Count to 3"))? {
//!     print!("{}", chunk?.text());
//! }
//! let image = client.image(ImageRequest::new("a red apple").size(64, 64))?;
//! assert!(!image.is_empty());
//! # emulator.stop();
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod short_tasks;

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use blossom_client::{BlockingClock, BlockingRuntime, BlockingTransport};
use blossom_transport::IsahcTransport;

pub use blossom_client::prelude::*;
pub use blossom_client::{
    BlockingBatch as Batch, BlockingBatchResults as BatchResults, BlockingChatStream as ChatStream,
    BlockingPoolResults as PoolResults, BlockingSubmitter as Submitter,
};

/// The system clock, thread sleeps, and the isahc transport.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRuntime;

impl BlockingClock for SystemRuntime {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall_now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now());
        if !left.is_zero() {
            std::thread::sleep(left);
        }
    }
}

impl BlockingRuntime for SystemRuntime {
    fn spawn_thread(&self, task: Box<dyn FnOnce() + Send>) {
        std::thread::spawn(task);
    }

    /// On threads that wait a second for the next task before they end
    /// (`short_tasks`): a thread started for every stream's drain cost about 30 µs of CPU a
    /// stream (`BENCHMARKS.md`, "The blocking client's streams").
    fn spawn_short(&self, task: Box<dyn FnOnce() + Send>) {
        short_tasks::SHORT_TASKS.spawn(task);
    }

    fn seed(&self) -> u64 {
        os_seed()
    }

    fn default_transport(config: &ClientConfig) -> Result<Arc<dyn BlockingTransport>, Error> {
        Ok(Arc::new(IsahcTransport::new(config)?))
    }
}

/// A synchronous Pollinations client. See the [crate documentation](crate).
pub type Client = blossom_client::BlockingClient<SystemRuntime>;

/// Builds a [`Client`].
pub type ClientBuilder = blossom_client::BlockingClientBuilder<SystemRuntime>;

/// A seed from the OS-keyed hasher std uses against hash flooding: fresh entropy per client
/// without another dependency.
fn os_seed() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}
