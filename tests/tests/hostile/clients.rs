//! One synchronous face over the three adapters, so each hostile case is written once.
//!
//! Smaller than the conformance harness: a call, and a stream read to its end without
//! keeping its chunks (a hostile stream may be endless, and memory is under test).

use std::time::Duration;

use blossom_client::{AnyRequest, AnyResponse};
use blossom_core::Error;
use blossom_core::api::ChatRequest;
use blossom_core::engine::CallOptions;
use blossom_core::policy::RetryPolicy;
use futures_util::StreamExt as _;

/// Which adapter a client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Adapter {
    Tokio,
    Smol,
    Blocking,
}

pub(crate) const ALL: [Adapter; 3] = [Adapter::Tokio, Adapter::Smol, Adapter::Blocking];

impl Adapter {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Tokio => "tokio",
            Self::Smol => "smol",
            Self::Blocking => "blocking",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        ALL.into_iter().find(|adapter| adapter.name() == name)
    }
}

/// The settings a hostile case changes; everything else is the SDK's default.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub key: String,
    pub max_body_bytes: Option<usize>,
    pub retry: Option<RetryPolicy>,
}

impl Setup {
    pub(crate) fn new(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            max_body_bytes: None,
            retry: None,
        }
    }

    pub(crate) fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = Some(bytes);
        self
    }

    pub(crate) fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }
}

/// A retry policy with `retries` quick retries (10 ms base, 50 ms cap).
pub(crate) fn quick_retries(retries: u32) -> RetryPolicy {
    let mut retry = RetryPolicy::default();
    retry.max_retries = retries;
    retry.base = Duration::from_millis(10);
    retry.cap = Duration::from_millis(50);
    retry
}

macro_rules! configure {
    ($builder:expr, $url:expr, $setup:expr) => {{
        let setup: &Setup = $setup;
        let mut builder = $builder.base_url($url).api_key(&setup.key).seed(1);
        if let Some(bytes) = setup.max_body_bytes {
            builder = builder.max_body_bytes(bytes);
        }
        if let Some(retry) = setup.retry.clone() {
            builder = builder.retry(retry);
        }
        builder.build().unwrap()
    }};
}

/// How a stream read to its end went: chunks and text bytes seen, and the error it ended
/// with (from opening it, or from a chunk).
#[derive(Debug)]
pub(crate) struct StreamOutcome {
    pub chunks: usize,
    pub text_bytes: usize,
    pub error: Option<Error>,
}

impl StreamOutcome {
    /// Counts one item of the stream; `false` once it was the stream's error.
    fn take(&mut self, item: Result<blossom_core::api::ChatChunk, Error>) -> bool {
        match item {
            Ok(chunk) => {
                self.chunks += 1;
                self.text_bytes += chunk.text().len();
                true
            }
            Err(error) => {
                self.error = Some(error);
                false
            }
        }
    }
}

/// A client of one adapter.
pub(crate) enum Client {
    Tokio(tokio::runtime::Runtime, blossom_tokio::Client),
    Smol(blossom_smol::Client),
    Blocking(blossom_blocking::Client),
}

impl Client {
    pub(crate) fn new(adapter: Adapter, url: &str, setup: &Setup) -> Self {
        match adapter {
            Adapter::Tokio => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                let client = configure!(blossom_tokio::Client::builder(), url, setup);
                Self::Tokio(runtime, client)
            }
            Adapter::Smol => Self::Smol(configure!(blossom_smol::Client::builder(), url, setup)),
            Adapter::Blocking => {
                Self::Blocking(configure!(blossom_blocking::Client::builder(), url, setup))
            }
        }
    }

    pub(crate) fn call(
        &self,
        request: impl Into<AnyRequest>,
        options: CallOptions,
    ) -> Result<AnyResponse, Error> {
        let request = request.into();
        match self {
            Self::Tokio(runtime, client) => {
                runtime.block_on(async { client.call(request).options(options).await })
            }
            Self::Smol(client) => {
                smol::block_on(async { client.call(request).options(options).await })
            }
            Self::Blocking(client) => client.with_options(options).call(request),
        }
    }

    /// Opens a chat stream and reads it to its end (or its first error).
    pub(crate) fn stream(&self, request: ChatRequest, options: CallOptions) -> StreamOutcome {
        macro_rules! read_async {
            ($client:expr) => {
                async {
                    let mut outcome = StreamOutcome {
                        chunks: 0,
                        text_bytes: 0,
                        error: None,
                    };
                    match $client.chat_stream(request).options(options).await {
                        Err(error) => outcome.error = Some(error),
                        Ok(mut stream) => {
                            while let Some(item) = stream.next().await {
                                if !outcome.take(item) {
                                    break;
                                }
                            }
                        }
                    }
                    outcome
                }
            };
        }
        match self {
            Self::Tokio(runtime, client) => runtime.block_on(read_async!(client)),
            Self::Smol(client) => smol::block_on(read_async!(client)),
            Self::Blocking(client) => {
                let mut outcome = StreamOutcome {
                    chunks: 0,
                    text_bytes: 0,
                    error: None,
                };
                match client.with_options(options).chat_stream(request) {
                    Err(error) => outcome.error = Some(error),
                    Ok(stream) => {
                        for item in stream {
                            if !outcome.take(item) {
                                break;
                            }
                        }
                    }
                }
                outcome
            }
        }
    }
}
