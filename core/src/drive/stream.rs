//! [`ChatStream`]: chunks of a streamed chat answer, delivered as they arrive.

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt as _;
use futures_util::future::{Either, select};

use super::call::OpenStream;
use super::client::{Client, Inner};
use super::transport::BodyStream;
use super::wake::AsyncSignal;
use super::{Runtime, Timer};
use crate::api::{ChatChunk, ChatCompletion, ResponseMeta};
use crate::engine::CallId;
use crate::error::Error;
use crate::sse::{ChatAccumulator, ChatStreamDecoder};

/// After `[DONE]`, at most this much trailing body is read (and discarded) so that the
/// connection can return to the pool; a server that keeps talking past it loses the connection.
pub(crate) const MAX_TRAILING_BYTES: usize = 64 * 1024;

/// A streamed chat answer: a [`Stream`] of [`ChatChunk`]s, each delivered as soon as its
/// event is complete.
///
/// The stream ends after `[DONE]` (having read the body to its end, so the connection is
/// reused). It yields an error, once, for an error event, a body that ends before `[DONE]`,
/// a connection that fails, silence longer than the idle timeout, or the client's shutdown.
/// Dropping it closes the connection and frees the call's permit.
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

/// What a stream reports to its engine.
pub(crate) trait StreamControl: Send + Sync + 'static {
    /// The stream ended: read to its end (`None`) or failed.
    fn end(&self, id: CallId, error: Option<&Error>);
    /// The stream was dropped before its end.
    fn cancel(&self, id: CallId);
    /// The engine's error for a call ended from outside (shutdown), if it was.
    fn aborted(&self, id: CallId) -> Option<Error>;
}

impl<R: Runtime> StreamControl for Inner<R> {
    fn end(&self, id: CallId, error: Option<&Error>) {
        self.cell.end_stream(id, error, self.runtime.now());
    }

    fn cancel(&self, id: CallId) {
        self.cell.cancel_call(id, self.runtime.now());
    }

    fn aborted(&self, id: CallId) -> Option<Error> {
        self.cell.take_aborted(id, self.runtime.now())
    }
}

/// Reports the end of the stream to the engine exactly once, or cancels it if dropped first.
struct EndGuard {
    control: Arc<dyn StreamControl>,
    id: CallId,
    ended: bool,
}

impl EndGuard {
    fn end(&mut self, error: Option<&Error>) {
        if !self.ended {
            self.ended = true;
            self.control.end(self.id, error);
        }
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if !self.ended {
            self.control.cancel(self.id);
        }
    }
}

struct Reader<T> {
    body: BodyStream,
    decoder: ChatStreamDecoder,
    timer: T,
    idle: Duration,
    signal: Arc<AsyncSignal>,
    guard: EndGuard,
}

impl ChatStream {
    pub(crate) fn new<R: Runtime>(
        client: &Client<R>,
        meta: ResponseMeta,
        open: OpenStream,
    ) -> Self {
        let control: Arc<dyn StreamControl> = client.inner.clone();
        let reader = Reader {
            body: open.body,
            decoder: ChatStreamDecoder::new(),
            timer: client.inner.runtime.clone(),
            idle: client.idle_timeout(),
            signal: open.signal,
            guard: EndGuard {
                control,
                id: open.id,
                ended: false,
            },
        };
        let inner = futures_util::stream::unfold(reader, |mut reader| async move {
            let item = reader.next_item().await?;
            Some((item, reader))
        });
        Self {
            meta,
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

impl<T: Timer> Reader<T> {
    async fn next_item(&mut self) -> Option<Result<ChatChunk, Error>> {
        loop {
            if let Some(item) = self.decoder.next_chunk() {
                if let Err(error) = &item {
                    self.guard.end(Some(error));
                }
                return Some(item);
            }
            if self.guard.ended {
                return None;
            }
            if self.decoder.is_done() {
                self.drain().await;
                self.guard.end(None);
                return None;
            }
            match self.read().await {
                Ok(Some(bytes)) => self.decoder.push(&bytes),
                Ok(None) => {
                    // Events completed by the last bytes were drained above; what is left
                    // is the verdict on the end of the body.
                    let verdict = self.decoder.finish().err();
                    self.guard.end(verdict.as_ref());
                    return verdict.map(Err);
                }
                Err(error) => {
                    self.guard.end(Some(&error));
                    return Some(Err(error));
                }
            }
        }
    }

    /// The next body chunk, or `None` at its end; fails after `idle` of silence, or when the
    /// engine ended the call (shutdown).
    async fn read(&mut self) -> Result<Option<bytes::Bytes>, Error> {
        let deadline = self.timer.now() + self.idle;
        let mut sleep = pin!(self.timer.sleep_until(deadline));
        loop {
            let woken = pin!(self.signal.wait());
            match select(self.body.next(), select(sleep.as_mut(), woken)).await {
                Either::Left((Some(Ok(bytes)), _)) => return Ok(Some(bytes)),
                Either::Left((Some(Err(error)), _)) => {
                    return Err(Error::stream_interrupted(error));
                }
                Either::Left((None, _)) => return Ok(None),
                Either::Right((Either::Left(((), _)), _)) => {
                    return Err(Error::timeout(format!(
                        "the stream sent nothing for {:.1}s",
                        self.idle.as_secs_f64()
                    )));
                }
                Either::Right((Either::Right(((), _)), _)) => {
                    if let Some(error) = self.guard.control.aborted(self.guard.id) {
                        // The engine already ended the call: nothing more to report.
                        self.guard.ended = true;
                        return Err(error);
                    }
                }
            }
        }
    }

    /// Reads the body to its end after `[DONE]`, so the connection is reused.
    async fn drain(&mut self) {
        let mut trailing = 0usize;
        while trailing <= MAX_TRAILING_BYTES {
            match self.read().await {
                Ok(Some(bytes)) => trailing += bytes.len(),
                Ok(None) | Err(_) => return,
            }
        }
    }
}
