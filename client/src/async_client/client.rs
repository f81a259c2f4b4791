//! The generic async client: one engine, one transport, one runtime, shared by every clone.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::batch::Batch;
use super::call::{Call, StreamCall};
use super::inner::Inner;
use super::pool::{self, PoolResults, Submitter};
use crate::request::ApiRequest;
use crate::runtime::Runtime;
use crate::settings::{Settings, settings_setters};
use crate::shutdown::{Shutdown, ShutdownReport};
use crate::transport::Transport;
use blossom_core::ClientConfig;
use blossom_core::api::{
    Audio, ChatCompletion, ChatRequest, Image, ImageRequest, ModelKind, ModelList, SpeechRequest,
    StreamOptions, TextReply, TextRequest,
};
use blossom_core::engine::CallOptions;
use blossom_core::error::Error;
use blossom_core::policy::MetricsSnapshot;

/// A Pollinations client for the async runtime `R`.
///
/// Adapters name it for you: `blossom_tokio::Client`, `blossom_smol::Client`. It is cheap to
/// clone; clones share the connection pool and the engine (and so every limit, breaker and
/// cache). Each method returns a call that does nothing until awaited; its options (timeout,
/// priority, …) are set with methods before the `.await`. Dropping the future cancels the
/// call and frees its permit and connection.
pub struct Client<R: Runtime> {
    pub(crate) inner: Arc<Inner<R>>,
}

impl<R: Runtime> Clone for Client<R> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<R: Runtime> fmt::Debug for Client<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.config.base_url)
            .field("api_key", &self.inner.config.api_key)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Client<R> {
    /// A client configured from `POLLINATIONS_API_KEY` and `POLLINATIONS_BASE_URL`.
    ///
    /// # Errors
    /// When a variable holds an invalid value or the configuration is refused (a key over
    /// plain HTTP to a remote host).
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().from_env().build()
    }

    /// A client for `config`, with the runtime's default transport and default policies.
    ///
    /// # Errors
    /// When the configuration is invalid or the transport cannot be built.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        Self::builder().config(config).build()
    }

    /// A builder, starting from the defaults.
    pub fn builder() -> ClientBuilder<R> {
        ClientBuilder {
            settings: Settings::default(),
            transport: None,
            _runtime: PhantomData,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Sends any request; the typed methods below are shorthands for it.
    pub fn call<Q: ApiRequest>(&self, request: Q) -> Call<R, Q::Output> {
        Call::new(Arc::clone(&self.inner), self.inner.prepare(request))
    }

    /// Generates text for a prompt (`GET /text/{prompt}`).
    pub fn text(&self, request: impl Into<TextRequest>) -> Call<R, TextReply> {
        self.call(request.into())
    }

    /// A chat completion (`POST /v1/chat/completions`).
    pub fn chat(&self, request: ChatRequest) -> Call<R, ChatCompletion> {
        self.call(request)
    }

    /// A streamed chat completion: await it to get a [`ChatStream`](super::stream::ChatStream) of
    /// chunks as they arrive. The call's timeout bounds the whole stream.
    pub fn chat_stream(&self, mut request: ChatRequest) -> StreamCall<R> {
        request.stream = Some(true);
        request.stream_options = Some(StreamOptions {
            include_usage: true,
        });
        let prepared = self.inner.encoder.chat(&request);
        StreamCall::new(Arc::clone(&self.inner), prepared)
    }

    /// Generates an image (`GET /image/{prompt}`).
    pub fn image(&self, request: impl Into<ImageRequest>) -> Call<R, Image> {
        self.call(request.into())
    }

    /// Speaks text (`POST /v1/audio/speech`, or `GET /audio/{text}` when the request says so).
    pub fn speech(&self, request: impl Into<SpeechRequest>) -> Call<R, Audio> {
        self.call(request.into())
    }

    /// The text models (`GET /text/models`).
    pub fn models(&self) -> Call<R, ModelList> {
        self.model_list(ModelKind::Text)
    }

    /// The image models (`GET /image/models`).
    pub fn image_models(&self) -> Call<R, ModelList> {
        self.model_list(ModelKind::Image)
    }

    /// The audio models (`GET /audio/models`).
    pub fn audio_models(&self) -> Call<R, ModelList> {
        self.model_list(ModelKind::Audio)
    }

    /// Any model list, including the OpenAI-compatible `GET /v1/models`.
    pub fn model_list(&self, kind: ModelKind) -> Call<R, ModelList> {
        self.call(kind)
    }

    /// A batch over a lazy iterator of requests: configure it, then
    /// [`run`](Batch::run) it for a stream of `(index, result)`.
    pub fn batch<I>(&self, requests: I) -> Batch<R, futures_util::stream::Iter<I::IntoIter>>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'static,
        I::Item: ApiRequest,
    {
        let requests = requests.into_iter();
        let total = match requests.size_hint() {
            (low, Some(high)) if low == high => Some(low),
            _ => None,
        };
        Batch::new(
            Arc::clone(&self.inner),
            futures_util::stream::iter(requests),
            total,
        )
    }

    /// A batch over an async stream of requests (prompts arriving from a generator, a file
    /// being read, a channel).
    pub fn batch_stream<S>(&self, requests: S) -> Batch<R, S>
    where
        S: futures_core::Stream + Send + 'static,
        S::Item: ApiRequest,
    {
        Batch::new(Arc::clone(&self.inner), requests, None)
    }

    /// A pool of `workers` workers fed through a bounded queue: submit requests with the
    /// [`Submitter`], read `(ticket, result)` from the [`PoolResults`]. Workers run on the
    /// client's runtime.
    pub fn worker_pool<Q: ApiRequest>(
        &self,
        workers: usize,
    ) -> (Submitter<Q>, PoolResults<Q::Output>) {
        pool::start(&self.inner, workers, CallOptions::default())
    }

    /// Everything measured so far: counters, gauges, breaker states, latency percentiles.
    pub fn metrics(&self) -> MetricsSnapshot {
        let now = self.now();
        self.inner.engine().metrics(now)
    }

    /// Stops admitting calls (new ones fail with [`ErrorKind::Shutdown`](blossom_core::ErrorKind::Shutdown)),
    /// lets unfinished calls run for up to `grace`, then cancels the rest with a shutdown
    /// error. Every call still ends with exactly one result.
    pub async fn shutdown(&self, grace: Duration) -> ShutdownReport {
        let cell = &self.inner.cell;
        let shutdown = Shutdown::begin(cell, self.now(), grace);
        while let Some(next) = shutdown.next_check(cell, self.now()) {
            self.inner.runtime.sleep_until(next).await;
        }
        shutdown.finish(cell, self.now())
    }

    /// Runs `work` (typically the body of `main`) until it finishes or `stop` fires (a
    /// Ctrl-C future, say), then shuts the client down with `grace`: while the grace period
    /// runs, `work` keeps being driven so its calls in flight can finish. Returns `work`'s
    /// output if it finished, and what the shutdown did.
    ///
    /// ```ignore
    /// let (done, report) = client.run_until(work, tokio::signal::ctrl_c(), Duration::from_secs(10)).await;
    /// ```
    pub async fn run_until<W, S>(
        &self,
        work: W,
        stop: S,
        grace: Duration,
    ) -> (Option<W::Output>, ShutdownReport)
    where
        W: std::future::Future,
        S: std::future::Future,
    {
        let mut work = std::pin::pin!(work);
        let stop = std::pin::pin!(stop);
        let output = match futures_util::future::select(work.as_mut(), stop).await {
            futures_util::future::Either::Left((output, _)) => Some(output),
            futures_util::future::Either::Right(_) => None,
        };
        if let Some(output) = output {
            return (Some(output), self.shutdown(grace).await);
        }
        let shutdown = std::pin::pin!(self.shutdown(grace));
        match futures_util::future::select(work.as_mut(), shutdown).await {
            futures_util::future::Either::Left((output, shutdown)) => {
                (Some(output), shutdown.await)
            }
            futures_util::future::Either::Right((report, _)) => (None, report),
        }
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }
}

/// Builds a [`Client`].
#[must_use = "call build() to get a client"]
pub struct ClientBuilder<R: Runtime> {
    settings: Settings,
    transport: Option<Arc<dyn Transport>>,
    _runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> fmt::Debug for ClientBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> ClientBuilder<R> {
    settings_setters!();

    /// Uses `transport` instead of the runtime's default (a proxy stack, a test double).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// The first invalid setting, or a transport that cannot be built.
    pub fn build(self) -> Result<Client<R>, Error> {
        let runtime = R::default();
        let parts = self
            .settings
            .assemble(runtime.seed(), self.transport, R::default_transport)?;
        Ok(Client {
            inner: Arc::new(Inner {
                runtime,
                transport: parts.transport,
                encoder: parts.encoder,
                cell: parts.cell,
                config: parts.config,
                watchdog: AtomicBool::new(false),
            }),
        })
    }
}
