//! [`BlockingChatStream`]: a streamed chat answer read on the calling thread.
//!
//! The core's [`StreamReader`] decides everything about the stream; this module moves bytes
//! into it, and reads with the limit it names.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blossom_core::api::{ChatChunk, ChatCompletion, ResponseMeta};
use blossom_core::error::Error;
use blossom_core::sse::{ChatAccumulator, Drain, DrainStep, ReadStep, StreamReader};

use super::inner::BlockingInner;
use super::seams::{BlockingBody, BlockingClock, BlockingRuntime, BodyRead};
use crate::cell::EndGuard;
use crate::signal::BlockingSignal;

/// How long one read of a stream waits at most before looking whether the engine ended the
/// call (shutdown): a blocked thread cannot be woken otherwise.
const ABORT_CHECK: Duration = Duration::from_millis(100);

/// A stream whose attempt succeeded: its body and reader, and the first chunk if one came.
pub(crate) struct Opened {
    body: BlockingBody,
    reader: StreamReader,
    first: Option<ChatChunk>,
}

/// Gives one read to the reader.
fn apply(reader: &mut StreamReader, read: BodyRead, now: Instant) {
    match read {
        BodyRead::Chunk(bytes) => reader.push(&bytes, now),
        BodyRead::End => reader.on_body_end(Ok(())),
        BodyRead::Failed(error) => reader.on_body_end(Err(error)),
        BodyRead::Later => {}
    }
}

/// The earlier of two optional instants (`None`: no limit).
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Reads a stream up to its first chunk or `[DONE]`, by the attempt's `deadline`.
/// `Ok(None)`: the deadline passed first.
///
/// # Errors
/// The reader's verdict when the stream failed first (the engine decides whether to retry).
pub(crate) fn open(
    mut body: BlockingBody,
    mut reader: StreamReader,
    deadline: Option<Instant>,
    clock: &impl BlockingClock,
) -> Result<Option<Opened>, Error> {
    loop {
        let now = clock.now();
        match reader.poll(now) {
            ReadStep::Chunk(chunk) => {
                return Ok(Some(Opened {
                    body,
                    reader,
                    first: Some(chunk),
                }));
            }
            ReadStep::End(Ok(())) => {
                return Ok(Some(Opened {
                    body,
                    reader,
                    first: None,
                }));
            }
            ReadStep::End(Err(error)) => return Err(error),
            ReadStep::Read { until } => {
                if deadline.is_some_and(|d| now >= d) {
                    return Ok(None);
                }
                let read = body.read(earliest(until, deadline));
                apply(&mut reader, read, clock.now());
            }
        }
    }
}

/// Runs a drain on a thread of the runtime.
type Drainer = Box<dyn FnOnce(BlockingBody, Drain) + Send>;

/// A streamed chat answer read on the calling thread: an [`Iterator`] of chunks.
///
/// Ends at `[DONE]`, at once: the rest of the body is read on another thread (bounded in
/// bytes and time) so the connection can be reused. Yields one error for an error event, a
/// truncated body, a failed connection, silence past the idle timeout, the call's own
/// timeout or the client's shutdown. Dropping it closes the connection and frees the call's
/// permit.
pub struct BlockingChatStream {
    meta: ResponseMeta,
    body: Option<BlockingBody>,
    reader: StreamReader,
    first: Option<ChatChunk>,
    guard: EndGuard,
    signal: Arc<BlockingSignal>,
    drainer: Option<Drainer>,
}

impl fmt::Debug for BlockingChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingChatStream")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl BlockingChatStream {
    pub(crate) fn new<C: BlockingRuntime>(
        meta: ResponseMeta,
        opened: Opened,
        guard: EndGuard,
        signal: Arc<BlockingSignal>,
        inner: &Arc<BlockingInner<C>>,
    ) -> Self {
        let inner = Arc::clone(inner);
        let drainer: Drainer = Box::new(move |body, drain| {
            let runtime = Arc::clone(&inner);
            inner
                .clock
                .spawn_short(Box::new(move || drain_body(body, drain, &runtime.clock)));
        });
        Self {
            meta,
            body: Some(opened.body),
            reader: opened.reader,
            first: opened.first,
            guard,
            signal,
            drainer: Some(drainer),
        }
    }

    /// The answer's metadata.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Reads the rest of the stream into one message.
    ///
    /// # Errors
    /// The stream's error, if it fails before `[DONE]`.
    pub fn collect_message(mut self) -> Result<ChatCompletion, Error> {
        let mut all = ChatAccumulator::new();
        for chunk in self.by_ref() {
            all.push(&chunk?);
        }
        let mut message = all.finish();
        message.meta = self.meta.clone();
        Ok(message)
    }

    /// After `[DONE]`: reads what trailing body has already arrived, and hands the rest of
    /// the drain to another thread if the body has not ended yet.
    fn drain(&mut self, now: Instant) {
        let Some(mut body) = self.body.take() else {
            return;
        };
        let mut drain = self.reader.drain(now);
        while let DrainStep::Read { .. } = drain.poll(now) {
            match body.read(Some(now)) {
                BodyRead::Chunk(bytes) => drain.on_bytes(bytes.len()),
                BodyRead::End => drain.on_end(true),
                BodyRead::Failed(_) => drain.on_end(false),
                BodyRead::Later => {
                    if let Some(drainer) = self.drainer.take() {
                        drainer(body, drain);
                    }
                    return;
                }
            }
        }
    }
}

impl Iterator for BlockingChatStream {
    type Item = Result<ChatChunk, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(chunk) = self.first.take() {
            return Some(Ok(chunk));
        }
        loop {
            if self.guard.is_ended() {
                return None;
            }
            if self.signal.take_fired()
                && let Some(error) = self.guard.aborted()
            {
                // The engine ended the call (shutdown): nothing more to report.
                self.body = None;
                return Some(Err(error));
            }
            let now = self.guard.now();
            match self.reader.poll(now) {
                ReadStep::Chunk(chunk) => return Some(Ok(chunk)),
                ReadStep::End(Ok(())) => {
                    self.guard.end(None);
                    self.drain(now);
                    return None;
                }
                ReadStep::End(Err(error)) => {
                    self.guard.end(Some(&error));
                    self.body = None;
                    return Some(Err(error));
                }
                ReadStep::Read { until } => {
                    let body = self.body.as_mut()?;
                    let check = now.checked_add(ABORT_CHECK);
                    let read = body.read(earliest(until, check));
                    apply(&mut self.reader, read, self.guard.now());
                }
            }
        }
    }
}

/// Reads the rest of a body after `[DONE]` within the drain's bounds, so the connection goes
/// back to the pool; past them, dropping the body closes it.
fn drain_body(mut body: BlockingBody, mut drain: Drain, clock: &impl BlockingClock) {
    while let DrainStep::Read { until } = drain.poll(clock.now()) {
        match body.read(Some(until)) {
            BodyRead::Chunk(bytes) => drain.on_bytes(bytes.len()),
            BodyRead::End => drain.on_end(true),
            BodyRead::Failed(_) => drain.on_end(false),
            BodyRead::Later => {}
        }
    }
}
