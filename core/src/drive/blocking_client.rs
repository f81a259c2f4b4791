//! The blocking client: the engine's loop on the calling thread, over a
//! [`BlockingTransport`] and a [`BlockingClock`]. No async runtime is created or needed, so it
//! works from plain `main`, from many threads at once, and from inside an async runtime's
//! blocking section (`spawn_blocking`) without deadlocking.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use std::marker::PhantomData;

use super::blocking::{BlockingBody, BlockingRuntime, BlockingTransport, read_body_blocking};
use super::call::FromOutput;
use crate::api::{
    Audio, ChatChunk, ChatCompletion, ChatRequest, Image, ImageRequest, ModelKind, ModelList,
    ResponseMeta, SpeechRequest, StreamOptions, TextReply, TextRequest,
};
use crate::codec::{Encoder, Output, Prepared};
use crate::config::ClientConfig;
use crate::engine::{CallOptions, Engine, EngineConfig, RawResponse, Step};
use crate::error::{Error, TransportErrorKind};
use crate::sse::{ChatAccumulator, ChatStreamDecoder};

/// After `[DONE]`, at most this much trailing body is read so the connection can be reused.
const MAX_TRAILING_BYTES: usize = 64 * 1024;

/// A synchronous Pollinations client over the blocking runtime `C`.
///
/// `blossom_blocking::Client` names it with the system clock and the isahc transport. Cheap to clone; clones share
/// the connection pool and the engine. Per-call options apply to a view of the client made
/// with [`with_options`](Self::with_options).
pub struct BlockingClient<C: BlockingRuntime> {
    shared: Arc<Shared<C>>,
    options: CallOptions,
}

struct Shared<C> {
    clock: C,
    transport: Arc<dyn BlockingTransport>,
    encoder: Encoder,
    engine: Mutex<Engine>,
    config: ClientConfig,
}

impl<C> Shared<C> {
    fn engine(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<C: BlockingRuntime> Clone for BlockingClient<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            options: self.options.clone(),
        }
    }
}

impl<C: BlockingRuntime> fmt::Debug for BlockingClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingClient")
            .field("base_url", &self.shared.config.base_url)
            .field("api_key", &self.shared.config.api_key)
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
        Self::new(ClientConfig::from_lookup(|name| std::env::var(name).ok())?)
    }

    /// A client for `config` with the runtime's default transport.
    ///
    /// # Errors
    /// When the configuration is invalid or the transport cannot be built.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        Self::builder().config(config).build()
    }

    /// A builder, starting from the defaults.
    pub fn builder() -> BlockingClientBuilder<C> {
        BlockingClientBuilder {
            config: Ok(ClientConfig::new()),
            transport: None,
            _runtime: PhantomData,
        }
    }

    /// A view of this client whose calls use `options` (timeout, deadline, …). It shares
    /// everything else with this client.
    #[must_use]
    pub fn with_options(&self, options: CallOptions) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            options,
        }
    }

    /// A view whose calls must finish within `timeout` each.
    #[must_use]
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        self.with_options(self.options.clone().timeout(timeout))
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.shared.config
    }

    /// Generates text for a prompt (`GET /text/{prompt}`).
    ///
    /// # Errors
    /// Invalid input, or the call's failure (see [`Error`]).
    pub fn text(&self, request: impl Into<TextRequest>) -> Result<TextReply, Error> {
        self.run(self.shared.encoder.text(&request.into()))
    }

    /// A chat completion.
    ///
    /// # Errors
    /// Invalid input, or the call's failure.
    pub fn chat(&self, mut request: ChatRequest) -> Result<ChatCompletion, Error> {
        request.stream = None;
        request.stream_options = None;
        self.run(self.shared.encoder.chat(&request))
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
        let prepared = self.shared.encoder.chat(&request)?;
        match self.execute(prepared)? {
            (Output::Stream(meta), Some(body)) => Ok(BlockingChatStream {
                meta,
                body,
                decoder: ChatStreamDecoder::new(),
                ended: false,
            }),
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
        self.run(self.shared.encoder.image(&request.into()))
    }

    /// Speaks text.
    ///
    /// # Errors
    /// Invalid input, or the call's failure.
    pub fn speech(&self, request: impl Into<SpeechRequest>) -> Result<Audio, Error> {
        self.run(self.shared.encoder.speech(&request.into()))
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
        self.run(self.shared.encoder.models(kind))
    }

    fn run<T: FromOutput>(&self, prepared: Result<Prepared, Error>) -> Result<T, Error> {
        let (output, _body) = self.execute(prepared?)?;
        T::from_output(output)
    }

    /// The engine's loop, on this thread.
    fn execute(&self, prepared: Prepared) -> Result<(Output, Option<BlockingBody>), Error> {
        let shared = &self.shared;
        let clock = &shared.clock;
        let id = shared
            .engine()
            .submit(prepared, self.options.clone(), clock.now());
        let mut stream_body = None;
        loop {
            let step = shared.engine().poll(id, clock.now());
            match step {
                Step::Send(attempt) => {
                    let deadline = (!attempt.stream).then_some(attempt.deadline);
                    let outcome =
                        shared
                            .transport
                            .send(attempt.request, deadline)
                            .and_then(|response| {
                                if attempt.stream && response.status.is_success() {
                                    return Ok(Err(response));
                                }
                                let body = read_body_blocking(
                                    response.body,
                                    shared.config.max_body_bytes,
                                )?;
                                Ok(Ok(RawResponse {
                                    status: response.status,
                                    headers: response.headers,
                                    body,
                                    received_at: Some(clock.wall_now()),
                                }))
                            });
                    let now = clock.now();
                    let mut engine = shared.engine();
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
                Step::Wait(until) => clock.sleep_until(until),
                Step::Pending => {
                    return Err(Error::invalid_input(
                        "call",
                        "internal: the engine has nothing for this call to do",
                    ));
                }
                Step::Done(result) => return result.map(|output| (output, stream_body.take())),
            }
        }
    }
}

/// Builds a [`BlockingClient`].
#[must_use = "call build() to get a client"]
pub struct BlockingClientBuilder<C: BlockingRuntime> {
    config: Result<ClientConfig, Error>,
    transport: Option<Arc<dyn BlockingTransport>>,
    _runtime: PhantomData<fn() -> C>,
}

impl<C: BlockingRuntime> fmt::Debug for BlockingClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingClientBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<C: BlockingRuntime> BlockingClientBuilder<C> {
    fn map(mut self, change: impl FnOnce(ClientConfig) -> Result<ClientConfig, Error>) -> Self {
        self.config = self.config.and_then(change);
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = Ok(config);
        self
    }

    /// Reads `POLLINATIONS_API_KEY` and `POLLINATIONS_BASE_URL`.
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

    /// Sets the base URL.
    pub fn base_url(self, url: &str) -> Self {
        self.map(|config| config.base_url(url))
    }

    /// Sets the API key.
    pub fn api_key(self, key: impl AsRef<str>) -> Self {
        self.map(|config| config.api_key(key))
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
        let config = self.config?;
        let encoder = Encoder::new(&config)?;
        let transport = match self.transport {
            Some(transport) => transport,
            None => C::default_transport(&config)?,
        };
        let engine = Engine::new(EngineConfig::from_client(&config));
        Ok(BlockingClient {
            shared: Arc::new(Shared {
                clock: C::default(),
                transport,
                encoder,
                engine: Mutex::new(engine),
                config,
            }),
            options: CallOptions::default(),
        })
    }
}

/// A streamed chat answer read on the calling thread: an [`Iterator`] of chunks.
///
/// Ends after `[DONE]` (the body read to its end so the connection is reused); yields one
/// error for an error event, a truncated body or a failed connection. Dropping it closes the
/// connection.
pub struct BlockingChatStream {
    meta: ResponseMeta,
    body: BlockingBody,
    decoder: ChatStreamDecoder,
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
        message.meta = self.meta;
        Ok(message)
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
                if item.is_err() {
                    self.ended = true;
                }
                return Some(item);
            }
            if self.ended {
                return None;
            }
            if self.decoder.is_done() {
                self.drain();
                self.ended = true;
                return None;
            }
            match self.body.next() {
                Some(Ok(bytes)) => self.decoder.push(&bytes),
                Some(Err(error)) => {
                    self.ended = true;
                    return Some(Err(Error::stream_interrupted(error)));
                }
                None => {
                    self.ended = true;
                    return self.decoder.finish().err().map(Err);
                }
            }
        }
    }
}
