//! The generic async client: one engine, one transport, one runtime, shared by every clone.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::call::{Call, StreamCall};
use super::{Runtime, Transport};
use crate::api::{
    Audio, ChatCompletion, ChatRequest, Image, ImageRequest, ModelKind, ModelList, SpeechRequest,
    TextReply, TextRequest,
};
use crate::codec::Encoder;
use crate::config::ClientConfig;
use crate::engine::{Engine, EngineConfig};
use crate::error::Error;

/// A Pollinations client for the async runtime `R`.
///
/// Adapters name it for you: `blossom_tokio::Client`, `blossom_smol::Client`. It is cheap to
/// clone; clones share the connection pool and the engine (and so every limit and cache).
/// Each method returns a call that does nothing until awaited; its options (timeout,
/// deadline) are set with methods before the `.await`. Dropping the future cancels the call.
pub struct Client<R: Runtime> {
    pub(crate) shared: Arc<Shared<R>>,
}

pub(crate) struct Shared<R> {
    pub(crate) runtime: R,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) encoder: Encoder,
    pub(crate) engine: Mutex<Engine>,
    pub(crate) config: ClientConfig,
}

impl<R> Shared<R> {
    /// The engine, locked. Never held across an `.await`: every use is one statement.
    pub(crate) fn engine(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<R: Runtime> Clone for Client<R> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<R: Runtime> fmt::Debug for Client<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.shared.config.base_url)
            .field("api_key", &self.shared.config.api_key)
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
        Self::new(ClientConfig::from_lookup(|name| std::env::var(name).ok())?)
    }

    /// A client for `config`, with the runtime's default transport.
    ///
    /// # Errors
    /// When the configuration is invalid or the transport cannot be built.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        Self::builder().config(config).build()
    }

    /// A builder, starting from the defaults.
    pub fn builder() -> ClientBuilder<R> {
        ClientBuilder {
            config: Ok(ClientConfig::new()),
            transport: None,
            _runtime: PhantomData,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.shared.config
    }

    /// Generates text for a prompt (`GET /text/{prompt}`).
    pub fn text(&self, request: impl Into<TextRequest>) -> Call<R, TextReply> {
        let prepared = self.shared.encoder.text(&request.into());
        Call::new(self.clone(), prepared)
    }

    /// A chat completion (`POST /v1/chat/completions`).
    pub fn chat(&self, mut request: ChatRequest) -> Call<R, ChatCompletion> {
        request.stream = None;
        request.stream_options = None;
        let prepared = self.shared.encoder.chat(&request);
        Call::new(self.clone(), prepared)
    }

    /// A streamed chat completion: await it to get a [`ChatStream`](super::ChatStream) of
    /// chunks as they arrive.
    pub fn chat_stream(&self, mut request: ChatRequest) -> StreamCall<R> {
        request.stream = Some(true);
        request.stream_options = Some(crate::api::StreamOptions {
            include_usage: true,
        });
        let prepared = self.shared.encoder.chat(&request);
        StreamCall::new(self.clone(), prepared)
    }

    /// Generates an image (`GET /image/{prompt}`).
    pub fn image(&self, request: impl Into<ImageRequest>) -> Call<R, Image> {
        let prepared = self.shared.encoder.image(&request.into());
        Call::new(self.clone(), prepared)
    }

    /// Speaks text (`POST /v1/audio/speech`, or `GET /audio/{text}` when the request says so).
    pub fn speech(&self, request: impl Into<SpeechRequest>) -> Call<R, Audio> {
        let prepared = self.shared.encoder.speech(&request.into());
        Call::new(self.clone(), prepared)
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
        let prepared = self.shared.encoder.models(kind);
        Call::new(self.clone(), prepared)
    }

    pub(crate) fn now(&self) -> Instant {
        self.shared.runtime.now()
    }

    pub(crate) fn body_limit(&self) -> usize {
        self.shared.config.max_body_bytes
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        self.shared.config.stream_idle_timeout
    }
}

/// Builds a [`Client`].
#[must_use = "call build() to get a client"]
pub struct ClientBuilder<R: Runtime> {
    config: Result<ClientConfig, Error>,
    transport: Option<Arc<dyn Transport>>,
    _runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> fmt::Debug for ClientBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> ClientBuilder<R> {
    fn map(mut self, change: impl FnOnce(ClientConfig) -> Result<ClientConfig, Error>) -> Self {
        self.config = self.config.and_then(change);
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = Ok(config);
        self
    }

    /// Reads `POLLINATIONS_API_KEY` and `POLLINATIONS_BASE_URL` into the configuration.
    pub fn from_env(self) -> Self {
        self.map(|mut config| {
            let env = ClientConfig::from_lookup(|name| std::env::var(name).ok())?;
            if std::env::var(crate::config::ENV_BASE_URL).is_ok_and(|v| !v.trim().is_empty()) {
                config.base_url = env.base_url;
            }
            if env.api_key.is_some() {
                config.api_key = env.api_key;
            }
            Ok(config)
        })
    }

    /// Sets the base URL (default `https://gen.pollinations.ai`).
    pub fn base_url(self, url: &str) -> Self {
        self.map(|config| config.base_url(url))
    }

    /// Sets the API key.
    pub fn api_key(self, key: impl AsRef<str>) -> Self {
        self.map(|config| config.api_key(key))
    }

    /// Allows sending the key over plain HTTP to a remote host.
    pub fn allow_insecure_http(self, allow: bool) -> Self {
        self.map(|mut config| {
            config.allow_insecure_http = allow;
            Ok(config)
        })
    }

    /// Sets the `User-Agent`.
    pub fn user_agent(self, user_agent: impl Into<String>) -> Self {
        self.map(|mut config| {
            config.user_agent = user_agent.into();
            Ok(config)
        })
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.map(|mut config| {
            config.connect_timeout = timeout;
            Ok(config)
        })
    }

    /// Sets how long one attempt may take.
    pub fn request_timeout(self, timeout: Duration) -> Self {
        self.map(|mut config| {
            config.request_timeout = timeout;
            Ok(config)
        })
    }

    /// Sets how long a stream may stay silent.
    pub fn stream_idle_timeout(self, timeout: Duration) -> Self {
        self.map(|mut config| {
            config.stream_idle_timeout = timeout;
            Ok(config)
        })
    }

    /// Sets the connection pool size.
    pub fn max_connections(self, max: usize) -> Self {
        self.map(|mut config| {
            config.max_connections = max;
            Ok(config)
        })
    }

    /// Sets the largest accepted response body.
    pub fn max_body_bytes(self, max: usize) -> Self {
        self.map(|mut config| {
            config.max_body_bytes = max;
            Ok(config)
        })
    }

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
        let config = self.config?;
        let encoder = Encoder::new(&config)?;
        let transport = match self.transport {
            Some(transport) => transport,
            None => R::default_transport(&config)?,
        };
        let engine = Engine::new(EngineConfig::from_client(&config));
        Ok(Client {
            shared: Arc::new(Shared {
                runtime: R::default(),
                transport,
                encoder,
                engine: Mutex::new(engine),
                config,
            }),
        })
    }
}
