//! The blocking seams: a transport and a clock for code without an async runtime.

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::transport::BodyJoiner;
use crate::error::TransportError;

/// A response body read chunk by chunk on the calling thread. Dropping it aborts the transfer.
pub type BlockingBody = Box<dyn Iterator<Item = Result<Bytes, TransportError>> + Send>;

/// A response whose body has not been read yet.
pub struct BlockingResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: BlockingBody,
}

impl std::fmt::Debug for BlockingResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// Sends HTTP requests on the calling thread. The blocking twin of
/// [`Transport`](super::Transport): pooling, TLS and the size limit are its job; retries,
/// caching and call timeouts are the engine's.
pub trait BlockingTransport: Send + Sync + 'static {
    /// Sends `request`, returning once the response head has arrived.
    ///
    /// With a `deadline`, the whole exchange (head and body) must end by then; without one
    /// (streams), only the transport's connect and idle limits apply.
    ///
    /// # Errors
    /// A [`TransportError`] when no response head could be obtained in time.
    fn send(
        &self,
        request: http::Request<Bytes>,
        deadline: Option<Instant>,
    ) -> Result<BlockingResponse, TransportError>;
}

/// A clock for the blocking driver: the engine never reads one itself.
pub trait BlockingClock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
    /// The current wall-clock time, used only to resolve `Retry-After` dates.
    fn wall_now(&self) -> SystemTime;
    /// Blocks the calling thread until `deadline`.
    fn sleep_until(&self, deadline: Instant);
}

/// A blocking runtime: a clock that also knows how to build the default transport.
/// `blossom-blocking` provides the system one; the client is generic over it.
pub trait BlockingRuntime: BlockingClock + Default {
    /// A seed for the engine's random generator (jitter), from the operating system's
    /// entropy; fixed seeds are set on the client builder instead.
    fn seed(&self) -> u64;

    /// Runs `task` on a thread of its own (the workers of blocking batches and pools).
    fn spawn_thread(&self, task: Box<dyn FnOnce() + Send>);

    /// The transport a client of this runtime uses unless another is given.
    ///
    /// # Errors
    /// When the transport cannot be built from `config`.
    fn default_transport(
        config: &crate::ClientConfig,
    ) -> Result<std::sync::Arc<dyn BlockingTransport>, crate::Error>;
}

/// Reads a blocking body to its end under a size limit (one chunk is not copied).
///
/// # Errors
/// The body's own error, or [`TransportErrorKind::BodyTooLarge`](crate::TransportErrorKind::BodyTooLarge).
pub fn read_body_blocking(body: BlockingBody, limit: usize) -> Result<Bytes, TransportError> {
    let mut joiner = BodyJoiner::new(limit);
    for chunk in body {
        joiner.push(chunk?)?;
    }
    Ok(joiner.finish())
}
