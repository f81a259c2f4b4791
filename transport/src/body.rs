//! isahc response bodies as chunk streams (async) and bounded reads (blocking), with the size
//! limit enforced while reading.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use blossom_client::{BodyRead, ReadBody};
use futures_lite::StreamExt as _;

use blossom_core::TransportError;
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_lite::io::AsyncRead;

use crate::errors::{from_body_io, too_large};
use crate::park::block_on_until;

/// The most one read asks for: large enough for images in few reads, small enough to hand
/// out SSE events promptly (a read returns whatever has arrived, never waits to fill it).
const READ_SIZE: usize = 64 * 1024;

/// Below this much room left in the buffer, a read starts a fresh one.
const MIN_READ: usize = 1024;

/// What a read asks for when the body's length is unknown (streams, chunked answers).
const UNKNOWN_LENGTH_READ: usize = 8 * 1024;

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

    /// Turns one read result into the next item of the body: the bytes read are split off
    /// `buffer` and handed on without a copy.
    fn item(
        &mut self,
        result: std::io::Result<usize>,
        buffer: &mut BytesMut,
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
                Some(Ok(buffer.split_to(n).freeze()))
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
///
/// Reads go into one buffer sized for the body (its `Content-Length`, up to [`READ_SIZE`]);
/// each chunk is split off it, so a small answer costs a small allocation, and the buffer's
/// memory is reused once the chunks handed out are dropped.
pub(crate) struct AsyncChunks {
    body: isahc::AsyncBody,
    buffer: BytesMut,
    read_size: usize,
    budget: Budget,
}

impl AsyncChunks {
    pub(crate) fn new(body: isahc::AsyncBody, limit: usize) -> Self {
        let read_size = match body.len() {
            // One byte more than announced, so that the read that finds the end needs no
            // second allocation.
            Some(length) => usize::try_from(length).map_or(READ_SIZE, |l| l.saturating_add(1)),
            None => UNKNOWN_LENGTH_READ,
        }
        .clamp(1, READ_SIZE);
        Self {
            body,
            buffer: BytesMut::new(),
            read_size,
            budget: Budget::new(limit),
        }
    }

    /// Bytes still to come, when the body announced its length.
    fn remaining(&self) -> usize {
        self.body
            .len()
            .and_then(|length| usize::try_from(length).ok())
            .map_or(0, |length| length.saturating_sub(self.budget.read))
    }
}

impl Stream for AsyncChunks {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.budget.done {
            return Poll::Ready(None);
        }
        // Read into what is left of the buffer; when little is, start a fresh one (after
        // `clear`, so nothing is copied: the old memory is reclaimed if every chunk split off
        // it has been dropped, and left to those chunks otherwise).
        if this.buffer.len() < this.read_size.min(MIN_READ) {
            this.buffer.clear();
            this.buffer.resize(this.read_size, 0);
        }
        match Pin::new(&mut this.body).poll_read(cx, &mut this.buffer) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => Poll::Ready(this.budget.item(result, &mut this.buffer)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining(), None)
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

    fn expected_len(&self) -> usize {
        self.chunks.remaining()
    }
}
