//! [`ChatStream`]: chunks of a streamed chat answer, delivered as they arrive.

use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt as _;
use futures_util::future::{Either, select};

use super::client::Client;
use super::transport::BodyStream;
use super::{Runtime, Timer};
use crate::api::{ChatChunk, ChatCompletion, ResponseMeta};
use crate::error::Error;
use crate::sse::{ChatAccumulator, ChatStreamDecoder};

/// After `[DONE]`, at most this much trailing body is read (and discarded) so that the
/// connection can return to the pool; a server that keeps talking past it loses the connection.
const MAX_TRAILING_BYTES: usize = 64 * 1024;

/// A streamed chat answer: a [`Stream`] of [`ChatChunk`]s, each delivered as soon as its
/// event is complete.
///
/// The stream ends after `[DONE]` (having read the body to its end, so the connection is
/// reused). It yields an error, once, for an error event, a body that ends before `[DONE]`,
/// a connection that fails, or silence longer than the idle timeout. Dropping it closes the
/// connection.
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

struct Reader<T> {
    body: BodyStream,
    decoder: ChatStreamDecoder,
    timer: T,
    idle: Duration,
    ended: bool,
}

impl ChatStream {
    pub(crate) fn new<R: Runtime>(
        client: &Client<R>,
        meta: ResponseMeta,
        body: BodyStream,
    ) -> Self {
        let reader = Reader {
            body,
            decoder: ChatStreamDecoder::new(),
            timer: client.shared.runtime.clone(),
            idle: client.idle_timeout(),
            ended: false,
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
                if item.is_err() {
                    self.ended = true;
                }
                return Some(item);
            }
            if self.ended {
                return None;
            }
            if self.decoder.is_done() {
                self.drain().await;
                self.ended = true;
                return None;
            }
            match self.read().await {
                Ok(Some(bytes)) => self.decoder.push(&bytes),
                Ok(None) => {
                    self.ended = true;
                    // Events completed by the last bytes were drained above; what is left
                    // is the verdict on the end of the body.
                    return self.decoder.finish().err().map(Err);
                }
                Err(error) => {
                    self.ended = true;
                    return Some(Err(error));
                }
            }
        }
    }

    /// The next body chunk, or `None` at its end; fails after `idle` of silence.
    async fn read(&mut self) -> Result<Option<bytes::Bytes>, Error> {
        let deadline = self.timer.now() + self.idle;
        let sleep = self.timer.sleep_until(deadline);
        match select(self.body.next(), pin!(sleep)).await {
            Either::Left((Some(Ok(bytes)), _)) => Ok(Some(bytes)),
            Either::Left((Some(Err(error)), _)) => Err(Error::stream_interrupted(error)),
            Either::Left((None, _)) => Ok(None),
            Either::Right(((), _)) => Err(Error::timeout(format!(
                "the stream sent nothing for {:.1}s",
                self.idle.as_secs_f64()
            ))),
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
