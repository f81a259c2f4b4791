//! The runtime seam: what an async executor must provide (docs/ARCHITECTURE.md §2, hyper's `rt`).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::transport::Transport;
use blossom_core::ClientConfig;
use blossom_core::error::Error;

/// Time for the driver: the engine never reads a clock, so the driver asks this.
pub trait Timer: Send + Sync + 'static {
    /// What [`sleep_until`](Self::sleep_until) returns: a named type rather than a boxed
    /// future, so that arming a timer (once per attempt) allocates nothing of its own.
    type Sleep: std::future::Future<Output = ()> + Send + 'static;

    /// The current instant (a runtime with paused or virtual time returns its own).
    fn now(&self) -> Instant;

    /// The current wall-clock time, used only to resolve `Retry-After` dates.
    fn wall_now(&self) -> SystemTime;

    /// A future that completes at `deadline` (at once if it has passed). It is made and
    /// polled inside the runtime (a tokio timer needs its runtime's context).
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep;
}

/// An async runtime adapter: a [`Timer`] that also knows how to build the default transport.
/// `blossom-tokio` and `blossom-smol` each provide one; the client is generic over it. A
/// runtime is a handle (usually a unit struct): `Unpin`, so streams can hold it in place.
pub trait Runtime: Timer + Clone + Default + Unpin {
    /// A seed for the engine's random generator (jitter), from the operating system's
    /// entropy; fixed seeds are set on the client builder instead.
    fn seed(&self) -> u64;

    /// Runs `task` in the background: the worker pool's workers, the drain of a stream's
    /// rest, and the attempt watchdog when [`attempt_watchdog`](Self::attempt_watchdog) says
    /// so. The task must be polled to completion even if nobody waits for it.
    fn spawn(&self, task: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>);

    /// Whether one background task per client ([`spawn_watchdog`](Self::spawn_watchdog))
    /// keeps the attempt deadlines of all its calls instead of a timer per attempt
    /// (docs/ARCHITECTURE.md §2). Right for a runtime whose timers are costly to arm and
    /// that can run a task for the client's whole life on the callers' clock: smol, where
    /// each async-io timer wakes the reactor's thread, and the watchdog gets a thread of its
    /// own. Wrong where the task would live on one of several runtimes that share a client,
    /// any of which may end or pause its clock in a test: tokio. The default is `false`.
    fn attempt_watchdog(&self) -> bool {
        false
    }

    /// Runs the attempt watchdog's task: it must run for as long as the client has calls,
    /// whatever else blocks, since no call's attempt times out while it waits. The default
    /// is [`spawn`](Self::spawn).
    fn spawn_watchdog(
        &self,
        task: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    ) {
        self.spawn(task);
    }

    /// The transport a client of this runtime uses unless another is given.
    ///
    /// # Errors
    /// When the transport cannot be built from `config` (for example an invalid TLS setup).
    fn default_transport(config: &ClientConfig) -> Result<Arc<dyn Transport>, Error>;
}
