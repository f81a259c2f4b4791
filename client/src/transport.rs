//! The transport seam: send one HTTP request, get the status, headers and a body stream.

use std::pin::Pin;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt as _;
use http::{HeaderMap, StatusCode};

use blossom_core::error::{TransportError, TransportErrorKind};

/// A response body, chunk by chunk, as the network delivers it. Dropping it aborts the
/// transfer and frees the connection.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

/// A response whose body has not been read yet.
pub struct HttpResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The body, to be read whole or streamed.
    pub body: BodyStream,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// Sends HTTP requests. Implementations own connection pooling, TLS, proxies and the
/// response size limit; they do not retry, cache or time out whole calls (the engine does).
///
/// Two crates implement it: `blossom-hyper` (hyper, tokio's default) and
/// `blossom-transport` (isahc); tests may implement it with anything.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Sends `request` and returns as soon as the response head has arrived.
    ///
    /// # Errors
    /// A [`TransportError`] when no response head could be obtained.
    async fn send(&self, request: http::Request<Bytes>) -> Result<HttpResponse, TransportError>;
}

/// Reads a body to its end, refusing to hold more than `limit` bytes. A body that arrives in
/// one chunk is returned without copying; one in several is copied once, into a buffer sized
/// from the stream's `size_hint` (its `Content-Length`) when the transport gives one.
///
/// # Errors
/// The body's own error, or [`TransportErrorKind::BodyTooLarge`] past `limit`.
pub async fn read_body(mut body: BodyStream, limit: usize) -> Result<Bytes, TransportError> {
    let mut joiner = BodyJoiner::new(limit).expecting(body.size_hint().0);
    while let Some(chunk) = body.next().await {
        joiner.push(chunk?)?;
    }
    Ok(joiner.finish())
}

/// Joins body chunks into one buffer under a size limit; shared by the async and blocking
/// readers. One chunk is kept as it is (no copy); several are copied once into one buffer.
#[derive(Debug)]
pub(crate) struct BodyJoiner {
    limit: usize,
    expected: usize,
    first: Option<Bytes>,
    joined: Option<BytesMut>,
}

impl BodyJoiner {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            expected: 0,
            first: None,
            joined: None,
        }
    }

    /// Sizes the joined buffer for a body of `expected` bytes (a hint: never past the limit).
    pub(crate) fn expecting(mut self, expected: usize) -> Self {
        self.expected = expected;
        self
    }

    pub(crate) fn push(&mut self, chunk: Bytes) -> Result<(), TransportError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let held = match (&self.joined, &self.first) {
            (Some(all), _) => all.len(),
            (None, Some(first)) => first.len(),
            (None, None) => 0,
        };
        if held + chunk.len() > self.limit {
            return Err(TransportError::new(
                TransportErrorKind::BodyTooLarge,
                format!(
                    "the response body exceeds the limit of {} bytes",
                    self.limit
                ),
            ));
        }
        match (&mut self.joined, self.first.take()) {
            (Some(all), _) => all.extend_from_slice(&chunk),
            (None, None) => self.first = Some(chunk),
            (None, Some(previous)) => {
                let held = previous.len() + chunk.len();
                let capacity = self.expected.max(held * 2).min(self.limit).max(held);
                let mut all = BytesMut::with_capacity(capacity);
                all.extend_from_slice(&previous);
                all.extend_from_slice(&chunk);
                self.joined = Some(all);
            }
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Bytes {
        match self.joined {
            Some(all) => all.freeze(),
            None => self.first.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    fn body(chunks: Vec<&'static [u8]>) -> BodyStream {
        Box::pin(stream::iter(
            chunks.into_iter().map(|c| Ok(Bytes::from_static(c))),
        ))
    }

    fn block<F: std::future::Future>(future: F) -> F::Output {
        futures_util::FutureExt::now_or_never(future).expect("ready")
    }

    #[test]
    fn joins_chunks_and_enforces_the_limit() {
        assert_eq!(
            block(read_body(body(vec![b"ab", b"", b"cd", b"e"]), 5)).unwrap(),
            "abcde"
        );
        assert_eq!(block(read_body(body(vec![]), 5)).unwrap(), "");
        let error = block(read_body(body(vec![b"abc", b"def"]), 5)).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge);
    }

    #[test]
    fn an_expected_length_sizes_the_joined_buffer_once() {
        let mut joiner = BodyJoiner::new(1000).expecting(300);
        for _ in 0..3 {
            joiner.push(Bytes::from(vec![7u8; 100])).unwrap();
        }
        let joined = joiner.finish();
        assert_eq!(joined.len(), 300);
        // A lying hint is only a hint: the limit still holds, and more than expected joins.
        let mut liar = BodyJoiner::new(250).expecting(usize::MAX);
        liar.push(Bytes::from(vec![1u8; 200])).unwrap();
        liar.push(Bytes::from(vec![1u8; 40])).unwrap();
        assert_eq!(liar.finish().len(), 240);
        let mut short = BodyJoiner::new(1000).expecting(10);
        for _ in 0..5 {
            short.push(Bytes::from(vec![2u8; 100])).unwrap();
        }
        assert_eq!(short.finish().len(), 500);
    }

    #[test]
    fn one_chunk_is_not_copied() {
        let chunk = Bytes::from_static(b"image bytes");
        let pointer = chunk.as_ptr();
        let single: BodyStream = Box::pin(stream::iter([Ok(chunk)]));
        assert_eq!(block(read_body(single, 100)).unwrap().as_ptr(), pointer);
    }
}
