//! The blocking client: the engine's loop on the calling thread, over a
//! [`BlockingTransport`] and a [`BlockingRuntime`]. No async runtime is created or needed, so
//! it works from plain `main`, from many threads at once, and from inside an async runtime's
//! blocking section (`spawn_blocking`) without deadlocking.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use super::batch::{BlockingBatch, BlockingPoolResults, BlockingSubmitter, start_pool};
use super::call::{self, Executed};
use super::inner::BlockingInner;
use super::seams::{BlockingRuntime, BlockingTransport};
use super::stream::BlockingChatStream;
use crate::request::{ApiRequest, mismatch};
use crate::settings::{Settings, settings_setters};
use crate::shutdown::{Shutdown, ShutdownReport};
use blossom_core::ClientConfig;
use blossom_core::api::{
    Audio, ChatCompletion, ChatRequest, Image, ImageRequest, ModelKind, ModelList, SpeechRequest,
    StreamOptions, TextReply, TextRequest,
};
use blossom_core::engine::CallOptions;
use blossom_core::error::Error;
use blossom_core::policy::MetricsSnapshot;

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

    /// Sends any request; the typed methods are shorthands for it.
    ///
    /// # Errors
    /// Invalid input, or the call's failure (see [`Error`]).
    pub fn call<Q: ApiRequest>(&self, request: Q) -> Result<Q::Output, Error> {
        call::call(&self.inner, request, self.options.clone())
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
        match call::execute(&self.inner, prepared, self.options.clone())? {
            Executed::Stream(stream) => Ok(*stream),
            Executed::Output(other) => Err(mismatch(&other)),
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
        BlockingBatch::new(
            Arc::clone(&self.inner),
            self.options.clone(),
            requests.into_iter(),
        )
    }

    /// A pool of `workers` threads fed through a bounded queue.
    pub fn worker_pool<Q: ApiRequest>(
        &self,
        workers: usize,
    ) -> (BlockingSubmitter<Q>, BlockingPoolResults<Q::Output>) {
        start_pool(&self.inner, self.options.clone(), workers)
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
        let shutdown = Shutdown::begin(cell, clock.now(), grace);
        while let Some(next) = shutdown.next_check(cell, clock.now()) {
            clock.sleep_until(next);
        }
        shutdown.finish(cell, clock.now())
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
