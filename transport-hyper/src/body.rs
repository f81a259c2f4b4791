//! hyper response bodies as chunk streams, inflated when encoded, with the size limit
//! enforced while reading. Chunks are hyper's own buffers, handed on without a copy.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use blossom_core::TransportError;
use bytes::Bytes;
use futures_core::Stream;
use hyper::body::{Body as _, Incoming};

use crate::errors::{from_body, too_large};
use crate::inflate::{Coding, Inflater};

/// A response body as a [`Stream`] of chunks; yields at most one error, then ends.
#[derive(Debug)]
pub(crate) struct HyperBody {
    body: Incoming,
    inflater: Option<Inflater>,
    limit: usize,
    read: usize,
    done: bool,
}

impl HyperBody {
    pub(crate) fn new(body: Incoming, coding: Option<Coding>, limit: usize) -> Self {
        Self {
            body,
            inflater: coding.map(|coding| Inflater::new(coding, limit)),
            limit,
            read: 0,
            done: false,
        }
    }

    /// The next item for a data frame (`None`: nothing to hand out yet).
    fn on_data(&mut self, data: Bytes) -> Option<Result<Bytes, TransportError>> {
        let result = match &mut self.inflater {
            Some(inflater) => inflater.push(&data),
            None => {
                self.read += data.len();
                if self.read > self.limit {
                    Err(too_large(self.limit))
                } else {
                    Ok(data)
                }
            }
        };
        self.item(result)
    }

    /// The body's end: what an inflater still held, or nothing.
    fn on_end(&mut self) -> Option<Result<Bytes, TransportError>> {
        let result = self.inflater.as_mut().map(Inflater::finish);
        self.done = true;
        result.and_then(|result| self.item(result))
    }

    fn item(
        &mut self,
        result: Result<Bytes, TransportError>,
    ) -> Option<Result<Bytes, TransportError>> {
        match result {
            Ok(bytes) if bytes.is_empty() => None,
            Ok(bytes) => Some(Ok(bytes)),
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

impl Stream for HyperBody {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let next = match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
                None => this.on_end(),
                Some(Err(error)) => {
                    this.done = true;
                    Some(Err(from_body(error)))
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => this.on_data(data),
                    // Trailers carry nothing the SDK reads.
                    Err(_) => None,
                },
            };
            if let Some(item) = next {
                return Poll::Ready(Some(item));
            }
        }
    }

    /// The bytes still announced by `Content-Length` (inflated sizes are unknown).
    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.inflater.is_some() {
            return (0, None);
        }
        (
            usize::try_from(self.body.size_hint().lower()).unwrap_or(0),
            None,
        )
    }
}
