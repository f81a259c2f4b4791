//! isahc response bodies as chunk streams (async) and bounded reads (blocking), with the size
//! limit enforced while reading.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use blossom_client::{BodyRead, ReadBody};
use futures_lite::StreamExt as _;

use blossom_core::TransportError;
use bytes::Bytes;
use futures_core::Stream;
use futures_lite::io::AsyncRead;

use crate::errors::{from_body_io, too_large};
use crate::park::block_on_until;

/// Read size: large enough for images in few reads, small enough to hand out SSE events
/// promptly (a read returns whatever has arrived, never waits to fill the buffer).
const READ_SIZE: usize = 64 * 1024;

/// Counts bytes against the limit; yields one error and then ends.
#[derive(Debug)]
struct Budget {
    limit: usize,
    read: usize,
    done: bool,
}

impl Budget {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            read: 0,
            done: false,
        }
    }

    /// Turns one read result into the next item of the body.
    fn item(
        &mut self,
        result: std::io::Result<usize>,
        buffer: &[u8],
    ) -> Option<Result<Bytes, TransportError>> {
        match result {
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(n) => {
                self.read += n;
                if self.read > self.limit {
                    self.done = true;
                    return Some(Err(too_large(self.limit)));
                }
                Some(Ok(Bytes::copy_from_slice(&buffer[..n])))
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => Some(Ok(Bytes::new())),
            Err(error) => {
                self.done = true;
                Some(Err(from_body_io(error)))
            }
        }
    }
}

/// An async isahc body as a [`Stream`] of chunks.
pub(crate) struct AsyncChunks {
    body: isahc::AsyncBody,
    buffer: Box<[u8]>,
    budget: Budget,
}

impl AsyncChunks {
    pub(crate) fn new(body: isahc::AsyncBody, limit: usize) -> Self {
        Self {
            body,
            buffer: vec![0; READ_SIZE].into_boxed_slice(),
            budget: Budget::new(limit),
        }
    }
}

impl Stream for AsyncChunks {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.budget.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.body).poll_read(cx, &mut this.buffer) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => Poll::Ready(this.budget.item(result, &this.buffer)),
        }
    }
}

/// An isahc body read on the calling thread, each read bounded by the instant it is given.
pub(crate) struct BlockingChunks {
    chunks: AsyncChunks,
}

impl BlockingChunks {
    pub(crate) fn new(body: isahc::AsyncBody, limit: usize) -> Self {
        Self {
            chunks: AsyncChunks::new(body, limit),
        }
    }
}

impl ReadBody for BlockingChunks {
    fn read(&mut self, until: Option<Instant>) -> BodyRead {
        match block_on_until(self.chunks.next(), until) {
            None => BodyRead::Later,
            Some(None) => BodyRead::End,
            Some(Some(Ok(bytes))) => BodyRead::Chunk(bytes),
            Some(Some(Err(error))) => BodyRead::Failed(error),
        }
    }
}
