//! [`ChatStream`]: chunks of a streamed chat answer, delivered as they arrive.
//!
//! The core's [`StreamReader`] decides everything about the stream (framing, the idle
//! timeout, the call's deadline, the verdict, the drain after `[DONE]`); this module only
//! moves bytes into it and sleeps until the instant it names.

use std::future::{Future, pending};
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

/// The state a [`ChatStream`] reads from, polled in place (no future is rebuilt per chunk).
struct Reading<R: Runtime> {
    body: Option<BodyStream>,
    reader: StreamReader,
    first: Option<ChatChunk>,
    runtime: R,
    signal: Arc<AsyncSignal>,
    guard: EndGuard,
    /// The timer for the reader's next instant, and that instant. It is kept while the
    /// reader's instant does not move earlier: the idle deadline moves later with every
    /// read, so a timer armed once serves many reads, and firing early only makes the
    /// reader name its new instant.
    sleep: Option<(Instant, Pin<Box<R::Sleep>>)>,
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
            sleep: None,
        };
        Self {
            meta: open.meta,
            inner: Box::pin(reading),
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
    /// Ends the stream at `[DONE]`: the rest of the body is drained in the background,
    /// unless it has already ended (usually its end arrives with `[DONE]`: one look at it
    /// saves a task).
    fn finish(&mut self, now: Instant, cx: &mut Context<'_>) {
        self.guard.end(None);
        let Some(mut body) = self.body.take() else {
            return;
        };
        let mut drain = self.reader.drain(now);
        match body.poll_next_unpin(cx) {
            Poll::Ready(None) => return,
            Poll::Ready(Some(Ok(bytes))) => drain.on_bytes(bytes.len()),
            Poll::Ready(Some(Err(_))) => drain.on_end(false),
            Poll::Pending => {}
        }
        if let DrainStep::Read { .. } = drain.poll(now) {
            let runtime = self.runtime.clone();
            self.runtime
                .spawn(Box::pin(drain_body(body, drain, runtime)));
        }
    }

    /// Whether the timer for `until` has fired (arming it first if needed).
    fn timer_fired(&mut self, until: Instant, cx: &mut Context<'_>) -> bool {
        if !matches!(&self.sleep, Some((armed, _)) if *armed <= until) {
            self.sleep = Some((until, Box::pin(self.runtime.sleep_until(until))));
        }
        let fired = self
            .sleep
            .as_mut()
            .is_some_and(|(_, sleep)| sleep.as_mut().poll(cx).is_ready());
        if fired {
            self.sleep = None;
        }
        fired
    }
}

impl<R: Runtime> Stream for Reading<R> {
    type Item = Result<ChatChunk, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(chunk) = this.first.take() {
            return Poll::Ready(Some(Ok(chunk)));
        }
        loop {
            if this.guard.is_ended() {
                return Poll::Ready(None);
            }
            let now = this.runtime.now();
            let until = match this.reader.poll(now) {
                ReadStep::Chunk(chunk) => return Poll::Ready(Some(Ok(chunk))),
                ReadStep::End(Ok(())) => {
                    this.finish(now, cx);
                    return Poll::Ready(None);
                }
                ReadStep::End(Err(error)) => {
                    this.guard.end(Some(&error));
                    this.body = None;
                    return Poll::Ready(Some(Err(error)));
                }
                ReadStep::Read { until } => until,
            };
            let Some(body) = &mut this.body else {
                return Poll::Ready(None);
            };
            match body.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    this.reader.push(&bytes, this.runtime.now());
                    continue;
                }
                Poll::Ready(Some(Err(error))) => {
                    this.reader.on_body_end(Err(error));
                    continue;
                }
                Poll::Ready(None) => {
                    this.reader.on_body_end(Ok(()));
                    continue;
                }
                Poll::Pending => {}
            }
            if this.signal.poll_wait(cx).is_ready() {
                if let Some(error) = this.guard.aborted() {
                    // The engine ended the call (shutdown): nothing more to report.
                    this.body = None;
                    return Poll::Ready(Some(Err(error)));
                }
                continue;
            }
            match until {
                Some(until) if this.timer_fired(until, cx) => continue,
                _ => return Poll::Pending,
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
