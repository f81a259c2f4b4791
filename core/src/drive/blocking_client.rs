//! The blocking client: the engine's loop on the calling thread, over a
//! [`BlockingTransport`] and a [`BlockingRuntime`]. No async runtime is created or needed, so
//! it works from plain `main`, from many threads at once, and from inside an async runtime's
//! blocking section (`spawn_blocking`) without deadlocking.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use super::blocking::{BlockingBody, BlockingRuntime, BlockingTransport, read_body_blocking};
use super::blocking_batch::{BlockingBatch, BlockingPoolResults, BlockingSubmitter, start_pool};
use super::call::FromOutput;
use super::client::ShutdownReport;
use super::request::ApiRequest;
use super::settings::{Settings, settings_setters};
use super::stream::{MAX_TRAILING_BYTES, StreamControl};
use super::wake::{BlockingSignal, EngineCell, EngineGuard};
use crate::api::{
    Audio, ChatChunk, ChatCompletion, ChatRequest, Image, ImageRequest, ModelKind, ModelList,
    ResponseMeta, SpeechRequest, StreamOptions, TextReply, TextRequest,
};
use crate::codec::{Encoder, Output, Prepared};
use crate::config::ClientConfig;
use crate::engine::{CallId, CallOptions, RawResponse, Step};
use crate::error::{Error, TransportErrorKind};
use crate::policy::MetricsSnapshot;
use crate::sse::{ChatAccumulator, ChatStreamDecoder};

/// A synchronous Pollinations client over the blocking runtime `C`.
///
/// `blossom_blocking::Client` names it with the system clock and the isahc transport. Cheap
/// to clone; clones share the connection pool and the engine. Per-call options (timeout,
/// priority, no-cache, retry) apply to a view of the client made with
/// [`with_options`](Self::with_options).
pub struct BlockingClient<C: BlockingRuntime> {
    inner: Arc<BlockingInner<C>>,
    options: CallOptions,
}

struct BlockingInner<C> {
    clock: C,
    transport: Arc<dyn BlockingTransport>,
    encoder: Encoder,
    cell: EngineCell<BlockingSignal>,
    config: ClientConfig,
}

impl<C> BlockingInner<C> {
    fn engine(&self) -> EngineGuard<'_, BlockingSignal> {
        self.cell.lock()
    }
}

impl<C: BlockingRuntime> Clone for BlockingClient<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            options: self.options.clone(),
        }
    }
}

impl<C: BlockingRuntime> fmt::Debug for BlockingClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingClient")
            .field("base_url", &self.inner.config.base_url)
            .field("api_key", &self.inner.config.api_key)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<C: BlockingRuntime> BlockingClient<C> {
    /// A client configured from `POLLINATIONS_API_KEY` and `POLLINATIONS_BASE_URL`.
    ///
    /// # Errors
    /// When a variable holds an invalid value or the configuration is refused.
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().from_env().build()
    }

    /// A client for `config` with the runtime's default transport and default policies.
    ///
    /// # Errors
    /// When the configuration is invalid or the transport cannot be built.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        Self::builder().config(config).build()
    }

    /// A builder, starting from the defaults.
    pub fn builder() -> BlockingClientBuilder<C> {
        BlockingClientBuilder {
            settings: Settings::default(),
            transport: None,
            _runtime: PhantomData,
        }
    }

    /// A view of this client whose calls use `options` (timeout, deadline, priority,
    /// no-cache, retry). It shares everything else with this client.
    #[must_use]
    pub fn with_options(&self, options: CallOptions) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            options,
        }
    }

    /// A view whose calls must each finish within `timeout`.
    #[must_use]
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        self.with_options(self.options.clone().timeout(timeout))
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Runs `task` on a thread from the runtime (batch and pool workers).
    pub(crate) fn spawn_thread(&self, task: Box<dyn FnOnce() + Send>) {
        self.inner.clock.spawn_thread(task);
    }

    /// Sends any request; the typed methods are shorthands for it.
    ///
    /// # Errors
    /// Invalid input, or the call's failure (see [`Error`]).
    pub fn call<Q: ApiRequest>(&self, request: Q) -> Result<Q::Output, Error> {
        self.run(request.prepare(&self.inner.encoder))
    }

    /// Generates text for a prompt (`GET /text/{prompt}`).
    ///
    /// # Errors
    /// Invalid input, or the call's failure (see [`Error`]).
    pub fn text(&self, request: impl Into<TextRequest>) -> Result<TextReply, Error> {
        self.call(request.into())
    }

    /// A chat completion.
    ///
    /// # Errors
    /// Invalid input, or the call's failure.
    pub fn chat(&self, request: ChatRequest) -> Result<ChatCompletion, Error> {
        self.call(request)
    }

    /// A streamed chat completion, as an iterator of chunks.
    ///
    /// # Errors
    /// Invalid input, or a failure before the stream started.
    pub fn chat_stream(&self, mut request: ChatRequest) -> Result<BlockingChatStream, Error> {
        request.stream = Some(true);
        request.stream_options = Some(StreamOptions {
            include_usage: true,
        });
        let prepared = self.inner.encoder.chat(&request)?;
        match self.execute(prepared)? {
            (Output::Stream(meta), Some((id, body))) => {
                let control: Arc<dyn StreamControl> = self.inner.clone();
                Ok(BlockingChatStream {
                    meta,
                    body,
                    decoder: ChatStreamDecoder::new(),
                    control,
                    id,
                    ended: false,
                })
            }
            (other, _) => Err(Error::decode(
                format!("internal: unexpected answer kind {:?}", other.meta()),
                b"",
            )),
        }
    }

    /// Generates an image.
    ///
    /// # Errors
    /// Invalid input, or the call's failure.
    pub fn image(&self, request: impl Into<ImageRequest>) -> Result<Image, Error> {
        self.call(request.into())
    }

    /// Speaks text.
    ///
    /// # Errors
    /// Invalid input, or the call's failure.
    pub fn speech(&self, request: impl Into<SpeechRequest>) -> Result<Audio, Error> {
        self.call(request.into())
    }

    /// The text models.
    ///
    /// # Errors
    /// The call's failure.
    pub fn models(&self) -> Result<ModelList, Error> {
        self.model_list(ModelKind::Text)
    }

    /// The image models.
    ///
    /// # Errors
    /// The call's failure.
    pub fn image_models(&self) -> Result<ModelList, Error> {
        self.model_list(ModelKind::Image)
    }

    /// The audio models.
    ///
    /// # Errors
    /// The call's failure.
    pub fn audio_models(&self) -> Result<ModelList, Error> {
        self.model_list(ModelKind::Audio)
    }

    /// Any model list.
    ///
    /// # Errors
    /// The call's failure.
    pub fn model_list(&self, kind: ModelKind) -> Result<ModelList, Error> {
        self.call(kind)
    }

    /// A batch over a lazy iterator of requests, on `concurrency` worker threads: configure
    /// it, then [`run`](BlockingBatch::run) it for an iterator of `(index, result)`.
    pub fn batch<I>(&self, requests: I) -> BlockingBatch<C, I::IntoIter>
    where
        I: IntoIterator,
        I::Item: ApiRequest,
    {
        BlockingBatch::new(self.clone(), requests.into_iter())
    }

    /// A pool of `workers` threads fed through a bounded queue.
    pub fn worker_pool<Q: ApiRequest>(
        &self,
        workers: usize,
    ) -> (BlockingSubmitter<Q>, BlockingPoolResults<Q::Output>) {
        start_pool(self, workers)
    }

    /// Everything measured so far.
    pub fn metrics(&self) -> MetricsSnapshot {
        let now = self.inner.clock.now();
        self.inner.engine().metrics(now)
    }

    /// Stops admitting calls, lets unfinished ones run for up to `grace`, then ends the rest
    /// with a shutdown error (a thread blocked in the network returns when its exchange ends
    /// or times out).
    pub fn shutdown(&self, grace: Duration) -> ShutdownReport {
        let (cell, clock) = (&self.inner.cell, &self.inner.clock);
        let shutdown = cell.begin_shutdown(clock.now(), grace);
        while let Some(next) = shutdown.next_check(cell, clock.now()) {
            clock.sleep_until(next);
        }
        shutdown.finish(cell, clock.now())
    }

    fn run<T: FromOutput>(&self, prepared: Result<Prepared, Error>) -> Result<T, Error> {
        let (output, _stream) = self.execute(prepared?)?;
        T::from_output(output)
    }

    /// The engine's loop, on this thread.
    fn execute(
        &self,
        prepared: Prepared,
    ) -> Result<(Output, Option<(CallId, BlockingBody)>), Error> {
        let inner = &self.inner;
        let clock = &inner.clock;
        let (id, signal) = {
            let mut engine = inner.engine();
            let id = engine.submit(prepared, self.options.clone(), clock.now());
            (id, engine.register(id))
        };
        let mut stream_body = None;
        loop {
            let step = inner.engine().poll(id, clock.now());
            match step {
                Step::Send(attempt) => {
                    let deadline = (!attempt.stream).then_some(attempt.deadline);
                    let outcome =
                        inner
                            .transport
                            .send(attempt.request, deadline)
                            .and_then(|response| {
                                if attempt.stream && response.status.is_success() {
                                    return Ok(Err(response));
                                }
                                let body =
                                    read_body_blocking(response.body, inner.config.max_body_bytes)?;
                                Ok(Ok(RawResponse {
                                    status: response.status,
                                    headers: response.headers,
                                    body,
                                    received_at: Some(clock.wall_now()),
                                }))
                            });
                    let now = clock.now();
                    let mut engine = inner.engine();
                    match outcome {
                        Ok(Ok(response)) => engine.on_response(id, response, now),
                        Ok(Err(stream)) => {
                            engine.on_stream_open(id, stream.status, &stream.headers, now);
                            stream_body = Some(stream.body);
                        }
                        Err(error) if error.kind() == TransportErrorKind::Timeout => {
                            engine.on_attempt_timeout(id, now);
                        }
                        Err(error) => engine.on_transport_error(id, error, now),
                    }
                }
                Step::Wait(until) => signal.wait(Some(until), || clock.now()),
                Step::Pending => signal.wait(None, || clock.now()),
                Step::Done(result) => {
                    return match (result, stream_body.take()) {
                        (Ok(output @ Output::Stream(_)), Some(body)) => {
                            Ok((output, Some((id, body))))
                        }
                        (result, _) => {
                            inner.engine().unregister(id);
                            result.map(|output| (output, None))
                        }
                    };
                }
            }
        }
    }
}

impl<C: BlockingRuntime> StreamControl for BlockingInner<C> {
    fn end(&self, id: CallId, error: Option<&Error>) {
        self.cell.end_stream(id, error, self.clock.now());
    }

    fn cancel(&self, id: CallId) {
        self.cell.cancel_call(id, self.clock.now());
    }

    fn aborted(&self, id: CallId) -> Option<Error> {
        self.cell.take_aborted(id, self.clock.now())
    }
}

/// Builds a [`BlockingClient`].
#[must_use = "call build() to get a client"]
pub struct BlockingClientBuilder<C: BlockingRuntime> {
    settings: Settings,
    transport: Option<Arc<dyn BlockingTransport>>,
    _runtime: PhantomData<fn() -> C>,
}

impl<C: BlockingRuntime> fmt::Debug for BlockingClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingClientBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<C: BlockingRuntime> BlockingClientBuilder<C> {
    settings_setters!();

    /// Uses `transport` instead of the runtime's default.
    pub fn transport(mut self, transport: Arc<dyn BlockingTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// The first invalid setting, or a transport that cannot be built.
    pub fn build(self) -> Result<BlockingClient<C>, Error> {
        let clock = C::default();
        let parts = self
            .settings
            .assemble(clock.seed(), self.transport, C::default_transport)?;
        Ok(BlockingClient {
            inner: Arc::new(BlockingInner {
                clock,
                transport: parts.transport,
                encoder: parts.encoder,
                cell: parts.cell,
                config: parts.config,
            }),
            options: CallOptions::default(),
        })
    }
}

/// A streamed chat answer read on the calling thread: an [`Iterator`] of chunks.
///
/// Ends after `[DONE]` (the body read to its end so the connection is reused); yields one
/// error for an error event, a truncated body or a failed connection. Dropping it closes the
/// connection and frees the call's permit.
pub struct BlockingChatStream {
    meta: ResponseMeta,
    body: BlockingBody,
    decoder: ChatStreamDecoder,
    control: Arc<dyn StreamControl>,
    id: CallId,
    ended: bool,
}

impl fmt::Debug for BlockingChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingChatStream")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl BlockingChatStream {
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

    fn end(&mut self, error: Option<&Error>) {
        if !self.ended {
            self.ended = true;
            self.control.end(self.id, error);
        }
    }

    fn drain(&mut self) {
        let mut trailing = 0usize;
        for chunk in self.body.by_ref() {
            match chunk {
                Ok(bytes) => trailing += bytes.len(),
                Err(_) => return,
            }
            if trailing > MAX_TRAILING_BYTES {
                return;
            }
        }
    }
}

impl Iterator for BlockingChatStream {
    type Item = Result<ChatChunk, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.decoder.next_chunk() {
                if let Err(error) = &item {
                    self.end(Some(error));
                }
                return Some(item);
            }
            if self.ended {
                return None;
            }
            if let Some(error) = self.control.aborted(self.id) {
                self.ended = true;
                return Some(Err(error));
            }
            if self.decoder.is_done() {
                self.drain();
                self.end(None);
                return None;
            }
            match self.body.next() {
                Some(Ok(bytes)) => self.decoder.push(&bytes),
                Some(Err(error)) => {
                    let error = Error::stream_interrupted(error);
                    self.end(Some(&error));
                    return Some(Err(error));
                }
                None => {
                    let verdict = self.decoder.finish().err();
                    self.end(verdict.as_ref());
                    return verdict.map(Err);
                }
            }
        }
    }
}

impl Drop for BlockingChatStream {
    fn drop(&mut self) {
        if !self.ended {
            self.control.cancel(self.id);
        }
    }
}
