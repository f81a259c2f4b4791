//! # blossom-smol
//!
//! The [Pollinations.AI](https://pollinations.ai) client for smol and async-io programs, with
//! no tokio in its dependency tree. Same methods, same behaviour as `blossom-tokio`.
//!
//! ```
//! use blossom_smol::{ChatRequest, Client, StreamExt};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = blossom_emulator::Emulator::spawn(Default::default())?;
//! smol::block_on(async {
//!     let client = Client::builder()
//!         .base_url(emulator.base_url())
//!         .api_key(blossom_emulator::DEMO_SECRET_KEY)
//!         .build()?;
//!     let reply = client.chat(ChatRequest::new("openai").user("Hi")).await?;
//!     println!("{}", reply.text());
//!     let mut stream = client.chat_stream(ChatRequest::new("openai").user("Count to 3")).await?;
//!     while let Some(chunk) = stream.next().await {
//!         print!("{}", chunk?.text());
//!     }
//!     Ok::<_, blossom_smol::Error>(())
//! })?;
//! # emulator.stop();
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use blossom_client::{Runtime, Timer, Transport};
use blossom_transport::IsahcTransport;

pub use blossom_client::prelude::*;
pub use blossom_client::{Batch, BatchResults, Call, PoolResults, StreamCall, Submitter};
pub use futures_util::StreamExt;

/// The smol runtime adapter: async-io timers and the isahc transport.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolRuntime;

impl Timer for SmolRuntime {
    type Sleep = Sleep;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall_now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Sleep(async_io::Timer::at(deadline))
    }
}

/// An async-io timer that completes at its instant (what [`SmolRuntime`]'s `sleep_until`
/// returns).
#[derive(Debug)]
pub struct Sleep(async_io::Timer);

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

impl Runtime for SmolRuntime {
    fn seed(&self) -> u64 {
        os_seed()
    }

    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()> + Send>>) {
        smol::spawn(task).detach();
    }

    /// Yes: an async-io timer per attempt woke the reactor's thread for each call (about a
    /// tenth more client CPU per small call, nearly all of it system time: `BENCHMARKS.md`,
    /// "smol's timer").
    fn attempt_watchdog(&self) -> bool {
        true
    }

    /// On a thread of its own (one per client, ending with it), not on smol's global
    /// executor: a task that blocks the executor's thread, such as a nested `block_on` of a
    /// call, would otherwise keep every attempt from timing out.
    fn spawn_watchdog(&self, task: Pin<Box<dyn Future<Output = ()> + Send>>) {
        let started = std::thread::Builder::new()
            .name("blossom-watchdog".into())
            .spawn(move || async_io::block_on(task));
        // Without a thread the task is dropped, which marks the watchdog stopped: the next
        // attempt tries again.
        drop(started);
    }

    fn default_transport(config: &ClientConfig) -> Result<Arc<dyn Transport>, Error> {
        Ok(Arc::new(IsahcTransport::new(config)?))
    }
}

/// A Pollinations client for smol. See the [crate documentation](crate).
pub type Client = blossom_client::Client<SmolRuntime>;

/// Builds a [`Client`].
pub type ClientBuilder = blossom_client::ClientBuilder<SmolRuntime>;

/// A seed from the OS-keyed hasher std uses against hash flooding: fresh entropy per client
/// without another dependency.
fn os_seed() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}
