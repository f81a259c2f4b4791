//! [`ChatStream`]: chunks of a streamed chat answer, delivered as they arrive.
//!
//! The core's [`StreamReader`] decides everything about the stream (framing, the idle
//! timeout, the call's deadline, the verdict, the drain after `[DONE]`); this module only
//! moves bytes into it and sleeps until the instant it names.

use std::future::pending;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt as _;
use futures_util::future::{Either, select};

use crate::cell::EndGuard;
use crate::runtime::{Runtime, Timer};
use crate::signal::AsyncSignal;
use crate::transport::BodyStream;
use blossom_core::api::{ChatChunk, ChatCompletion, ResponseMeta};
use blossom_core::error::{Error, TransportError};
use blossom_core::sse::{ChatAccumulator, Drain, DrainStep, ReadStep, StreamReader};

/// A streamed chat answer: a [`Stream`] of [`ChatChunk`]s, each delivered as soon as its
/// event is complete.
///
/// The stream ends at `[DONE]`, at once: the rest of the body is read in the background
/// (bounded in bytes and time) so the connection can be reused. It yields an error, once,
/// for an error event, a body that ends before `[DONE]`, a connection that fails, silence
/// longer than the idle timeout, the call's own timeout, or the client's shutdown. Dropping
/// it closes the connection and frees the call's permit.
pub struct ChatStream {
    meta: ResponseMeta,
    inner: Pin<Box<dyn Stream<Item = Result<ChatChunk, Error>> + Send>>,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

/// A stream whose attempt succeeded: its body and reader, and the first chunk if one came.
pub(crate) struct Opened {
    body: BodyStream,
    reader: StreamReader,
    first: Option<ChatChunk>,
}

/// An open stream as the call loop hands it over.
pub(crate) struct OpenStream {
    pub(crate) meta: ResponseMeta,
    pub(crate) opened: Box<Opened>,
    pub(crate) signal: Arc<AsyncSignal>,
    pub(crate) guard: EndGuard,
}

/// What waiting on a body produced.
enum Feed {
    Bytes(Bytes),
    End(Result<(), TransportError>),
    /// The instant passed first.
    Later,
    /// The call's signal fired first.
    Woken,
}

/// Sleeps until `until`, or forever without one.
pub(crate) async fn sleep_until<T: Timer>(timer: &T, until: Option<Instant>) {
    match until {
        Some(until) => timer.sleep_until(until).await,
        None => pending().await,
    }
}

/// The next bytes of `body`, waiting until `until` at most, or until `signal` fires.
async fn feed<T: Timer>(
    body: &mut BodyStream,
    until: Option<Instant>,
    timer: &T,
    signal: Option<&AsyncSignal>,
) -> Feed {
    let woken = async {
        match signal {
            Some(signal) => signal.wait().await,
            None => pending().await,
        }
    };
    let sleep = pin!(sleep_until(timer, until));
    let woken = pin!(woken);
    match select(body.next(), select(sleep, woken)).await {
        Either::Left((Some(Ok(bytes)), _)) => Feed::Bytes(bytes),
        Either::Left((Some(Err(error)), _)) => Feed::End(Err(error)),
        Either::Left((None, _)) => Feed::End(Ok(())),
        Either::Right((Either::Left(_), _)) => Feed::Later,
        Either::Right((Either::Right(_), _)) => Feed::Woken,
    }
}

/// Gives what a read produced to the reader.
fn apply<T: Timer>(reader: &mut StreamReader, feed: &Feed, timer: &T) {
    match feed {
        Feed::Bytes(bytes) => reader.push(bytes, timer.now()),
        Feed::End(result) => reader.on_body_end(result.clone()),
        Feed::Later | Feed::Woken => {}
    }
}

/// Reads a stream up to its first chunk or `[DONE]`: the end of its attempt.
///
/// # Errors
/// The reader's verdict when the stream failed first (the engine decides whether to retry).
pub(crate) async fn open<T: Timer>(
    mut body: BodyStream,
    mut reader: StreamReader,
    timer: &T,
) -> Result<Box<Opened>, Error> {
    loop {
        match reader.poll(timer.now()) {
            ReadStep::Chunk(chunk) => {
                return Ok(Box::new(Opened {
                    body,
                    reader,
                    first: Some(chunk),
                }));
            }
            ReadStep::End(Ok(())) => {
                return Ok(Box::new(Opened {
                    body,
                    reader,
                    first: None,
                }));
            }
            ReadStep::End(Err(error)) => return Err(error),
            ReadStep::Read { until } => {
                let fed = feed(&mut body, until, timer, None).await;
                apply(&mut reader, &fed, timer);
            }
        }
    }
}

/// The state a [`ChatStream`] reads from.
struct Reading<R> {
    body: Option<BodyStream>,
    reader: StreamReader,
    first: Option<ChatChunk>,
    runtime: R,
    signal: Arc<AsyncSignal>,
    guard: EndGuard,
}

impl ChatStream {
    pub(crate) fn new<R: Runtime>(open: OpenStream, runtime: R) -> Self {
        let reading = Reading {
            body: Some(open.opened.body),
            reader: open.opened.reader,
            first: open.opened.first,
            runtime,
            signal: open.signal,
            guard: open.guard,
        };
        let inner = futures_util::stream::unfold(reading, |mut reading| async move {
            let item = reading.next_item().await?;
            Some((item, reading))
        });
        Self {
            meta: open.meta,
            inner: Box::pin(inner),
        }
    }

    /// The answer's metadata (request id, model used, attempts).
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Reads the rest of the stream and joins it into one message (content, reasoning, tool
    /// calls, usage).
    ///
    /// # Errors
    /// The stream's error, if it fails before `[DONE]`.
    pub async fn collect_message(mut self) -> Result<ChatCompletion, Error> {
        let mut all = ChatAccumulator::new();
        while let Some(chunk) = self.inner.next().await {
            all.push(&chunk?);
        }
        let mut message = all.finish();
        message.meta = self.meta;
        Ok(message)
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<R: Runtime> Reading<R> {
    async fn next_item(&mut self) -> Option<Result<ChatChunk, Error>> {
        if let Some(chunk) = self.first.take() {
            return Some(Ok(chunk));
        }
        loop {
            if self.guard.is_ended() {
                return None;
            }
            let now = self.runtime.now();
            match self.reader.poll(now) {
                ReadStep::Chunk(chunk) => return Some(Ok(chunk)),
                ReadStep::End(Ok(())) => {
                    self.guard.end(None);
                    if let Some(body) = self.body.take() {
                        let drain = self.reader.drain(now);
                        let runtime = self.runtime.clone();
                        self.runtime
                            .spawn(Box::pin(drain_body(body, drain, runtime)));
                    }
                    return None;
                }
                ReadStep::End(Err(error)) => {
                    self.guard.end(Some(&error));
                    self.body = None;
                    return Some(Err(error));
                }
                ReadStep::Read { until } => {
                    let Some(body) = &mut self.body else {
                        return None;
                    };
                    let fed = feed(body, until, &self.runtime, Some(&self.signal)).await;
                    if let Feed::Woken = fed
                        && let Some(error) = self.guard.aborted()
                    {
                        // The engine ended the call (shutdown): nothing more to report.
                        self.body = None;
                        return Some(Err(error));
                    }
                    apply(&mut self.reader, &fed, &self.runtime);
                }
            }
        }
    }
}

/// Reads the rest of a body after `[DONE]` within the drain's bounds, so the connection goes
/// back to the pool; past them, dropping the body closes it.
async fn drain_body<T: Timer>(mut body: BodyStream, mut drain: Drain, timer: T) {
    while let DrainStep::Read { until } = drain.poll(timer.now()) {
        match feed(&mut body, Some(until), &timer, None).await {
            Feed::Bytes(bytes) => drain.on_bytes(bytes.len()),
            Feed::End(result) => drain.on_end(result.is_ok()),
            Feed::Later | Feed::Woken => {}
        }
    }
}
