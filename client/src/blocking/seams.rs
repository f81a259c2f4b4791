//! The blocking seams: a transport and a clock for code without an async runtime.

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::transport::BodyJoiner;
use blossom_core::error::{TransportError, TransportErrorKind};

/// One read of a blocking body.
#[derive(Debug)]
pub enum BodyRead {
    /// More bytes.
    Chunk(Bytes),
    /// The body ended cleanly.
    End,
    /// Nothing arrived by the instant the read was given; the body can be read again.
    Later,
    /// The connection failed.
    Failed(TransportError),
}

/// A response body read on the calling thread, never waiting past the instant it is given.
/// Dropping it aborts the transfer.
pub trait ReadBody: Send {
    /// The next bytes of the body, waiting until `until` at most (`None`: no limit).
    fn read(&mut self, until: Option<Instant>) -> BodyRead;

    /// How many bytes are still expected (from `Content-Length`), 0 when unknown: a hint
    /// for sizing the buffer the body is joined into, never trusted as a limit.
    fn expected_len(&self) -> usize {
        0
    }
}

/// A boxed blocking body.
pub type BlockingBody = Box<dyn ReadBody>;

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
/// [`Transport`](crate::transport::Transport): pooling, TLS and the size limit are its job; retries,
/// caching and call timeouts are the engine's.
pub trait BlockingTransport: Send + Sync + 'static {
    /// Sends `request`, returning once the response head has arrived, and never after
    /// `deadline` (`None`: no limit). The body is read with [`ReadBody::read`], which takes
    /// its own limit per read: the driver decides every timeout.
    ///
    /// # Errors
    /// A [`TransportError`] when no response head could be obtained, of kind
    /// [`Timeout`](blossom_core::TransportErrorKind::Timeout) when `deadline` passed first.
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

    /// Runs a short `task` in the background: the drain of a stream's rest after `[DONE]`,
    /// which lasts at most the stream's drain timeout. A thread that is reused saves one
    /// thread's start per stream. The default is [`spawn_thread`](Self::spawn_thread).
    fn spawn_short(&self, task: Box<dyn FnOnce() + Send>) {
        self.spawn_thread(task);
    }

    /// The transport a client of this runtime uses unless another is given.
    ///
    /// # Errors
    /// When the transport cannot be built from `config`.
    fn default_transport(
        config: &blossom_core::ClientConfig,
    ) -> Result<std::sync::Arc<dyn BlockingTransport>, blossom_core::Error>;
}

/// Reads a blocking body to its end under a size limit (one chunk is not copied), by
/// `until` at most.
///
/// # Errors
/// The body's own error, [`TransportErrorKind::BodyTooLarge`](blossom_core::TransportErrorKind::BodyTooLarge),
/// or [`TransportErrorKind::Timeout`](blossom_core::TransportErrorKind::Timeout) when `until` passed first.
pub fn read_body_blocking(
    mut body: BlockingBody,
    limit: usize,
    until: Option<Instant>,
) -> Result<Bytes, TransportError> {
    let mut joiner = BodyJoiner::new(limit).expecting(body.expected_len());
    loop {
        match body.read(until) {
            BodyRead::Chunk(chunk) => joiner.push(chunk)?,
            BodyRead::End => return Ok(joiner.finish()),
            BodyRead::Later => {
                return Err(TransportError::new(
                    TransportErrorKind::Timeout,
                    "the body did not arrive in time",
                ));
            }
            BodyRead::Failed(error) => return Err(error),
        }
    }
}
