//! The paths: the same workload through each SDK client and through the raw transports
//! under them, so the SDK's overhead is a ratio measured on one machine in one run.
//!
//! Raw paths send exactly the request the SDK sends (built by the SDK's own
//! [`Encoder`], about 1 µs a call, so headers and body match byte for byte) and decode the
//! answer with serde_json into the same typed answer the SDK returns (`ChatCompletion`, each
//! `ChatChunk` of a stream); an image is checked for its JPEG signature, as the SDK does. So a
//! raw path does the work any client must do, and the ratio shows what the SDK adds: its
//! engine (scheduler, limiter, breaker, retry and cache bookkeeping), its drivers, and its
//! stream reader. Raw streams are framed with a minimal splitter that knows only this
//! server's `data: …\n\n` events.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use blossom_client::{BlockingTransport, BodyRead, Transport, read_body, read_body_blocking};
use blossom_core::ClientConfig;
use blossom_core::api::{ChatChunk, ChatCompletion, StreamOptions};
use blossom_core::codec::{Encoder, Prepared};
use blossom_core::policy::SchedulerConfig;
use blossom_hyper::HyperTransport;
use blossom_transport::IsahcTransport;
use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::measure::{Outcomes, timed};
use crate::scenarios::{Kind, Scenario};

/// The key every path sends (a secret-tier key: no client-side pacing; the server ignores it).
pub(crate) const API_KEY: &str = "sk_BlossomLoadBenchmarkKey000000000";

/// One way of making the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathName {
    /// `blossom_tokio::Client` with the builder's default transport (hyper).
    Tokio,
    /// The hyper transport (`blossom-hyper`) through the async seam, on tokio.
    RawHyperTokio,
    /// `blossom_tokio::isahc::Client`: tokio with the isahc transport.
    TokioIsahc,
    /// The isahc transport through the async seam, on tokio.
    RawIsahcTokio,
    /// `blossom_smol::Client`.
    Smol,
    /// The isahc transport through the async seam, on smol.
    RawIsahcSmol,
    /// `blossom_blocking::Client`, one thread per call in flight.
    Blocking,
    /// The isahc transport through the blocking seam, one thread per call in flight.
    RawIsahcBlocking,
    /// hyper-util's legacy client on tokio, for reference.
    RawHyperUtil,
}

impl PathName {
    /// Every path, in report order.
    pub(crate) const ALL: [Self; 9] = [
        Self::Tokio,
        Self::RawHyperTokio,
        Self::TokioIsahc,
        Self::RawIsahcTokio,
        Self::Smol,
        Self::RawIsahcSmol,
        Self::Blocking,
        Self::RawIsahcBlocking,
        Self::RawHyperUtil,
    ];

    /// Its name on the command line and in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Tokio => "tokio",
            Self::RawHyperTokio => "raw-hyper-tokio",
            Self::TokioIsahc => "tokio-isahc",
            Self::RawIsahcTokio => "raw-isahc-tokio",
            Self::Smol => "smol",
            Self::RawIsahcSmol => "raw-isahc-smol",
            Self::Blocking => "blocking",
            Self::RawIsahcBlocking => "raw-isahc-blocking",
            Self::RawHyperUtil => "raw-hyper-util",
        }
    }

    /// The path named `name`.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether it is a raw transport (no SDK: no cache, no engine).
    pub(crate) fn is_raw(self) -> bool {
        matches!(
            self,
            Self::RawHyperTokio
                | Self::RawIsahcTokio
                | Self::RawIsahcSmol
                | Self::RawIsahcBlocking
                | Self::RawHyperUtil
        )
    }

    /// The raw transport an SDK path runs on, for the "over its transport" ratio (`tokio`
    /// uses the builder's default transport, hyper).
    pub(crate) fn raw_transport(self) -> Option<Self> {
        match self {
            Self::Tokio => Some(Self::RawHyperTokio),
            Self::TokioIsahc => Some(Self::RawIsahcTokio),
            Self::Smol => Some(Self::RawIsahcSmol),
            Self::Blocking => Some(Self::RawIsahcBlocking),
            _ => None,
        }
    }
}

/// Makes calls `first..first + count` with `concurrency` in flight and says how they went.
pub(crate) trait Runner {
    /// Runs the calls.
    fn run(&self, first: usize, count: usize, concurrency: usize) -> Outcomes;
}

/// The runner of `path` for `scenario` against `base_url` (clients, pools and runtimes are
/// built here, outside every measurement).
///
/// # Errors
/// When a client or runtime cannot be built.
pub(crate) fn build(
    path: PathName,
    base_url: &str,
    scenario: Scenario,
) -> Result<Box<dyn Runner>, String> {
    let config = ClientConfig::new()
        .base_url(base_url)
        .and_then(|c| c.api_key(API_KEY))
        .map_err(|e| e.to_string())?;
    // A client made for this many calls at once: the default cap when the scenario stays
    // under it, the scenario's concurrency above (as a user running 1,000 calls would set).
    let max_concurrent = scenario
        .concurrency
        .max(SchedulerConfig::default().max_concurrent);
    let raw = || -> Result<Raw, String> {
        Ok(Raw {
            encoder: Encoder::new(&config).map_err(|e| e.to_string())?,
            limit: config.max_body_bytes,
            scenario,
        })
    };
    let isahc = || -> Result<Arc<dyn Transport>, String> {
        Ok(Arc::new(
            IsahcTransport::new(&config).map_err(|e| e.to_string())?,
        ))
    };
    Ok(match path {
        PathName::Tokio => {
            let client = blossom_tokio::Client::builder()
                .config(config.clone())
                .max_concurrent(max_concurrent)
                .build()
                .map_err(|e| e.to_string())?;
            Box::new(TokioRunner::new(AsyncCaller::SdkTokio(client, scenario))?)
        }
        PathName::RawHyperTokio => {
            let transport = HyperTransport::new(&config).map_err(|e| e.to_string())?;
            Box::new(TokioRunner::new(AsyncCaller::RawSeam(
                Arc::new(transport),
                raw()?,
            ))?)
        }
        PathName::TokioIsahc => {
            let client = blossom_tokio::isahc::Client::builder()
                .config(config.clone())
                .max_concurrent(max_concurrent)
                .build()
                .map_err(|e| e.to_string())?;
            Box::new(TokioRunner::new(AsyncCaller::SdkTokioIsahc(
                client, scenario,
            ))?)
        }
        PathName::RawIsahcTokio => {
            Box::new(TokioRunner::new(AsyncCaller::RawSeam(isahc()?, raw()?))?)
        }
        PathName::Smol => {
            let client = blossom_smol::Client::builder()
                .config(config.clone())
                .max_concurrent(max_concurrent)
                .build()
                .map_err(|e| e.to_string())?;
            Box::new(SmolRunner(Arc::new(AsyncCaller::SdkSmol(client, scenario))))
        }
        PathName::RawIsahcSmol => {
            Box::new(SmolRunner(Arc::new(AsyncCaller::RawSeam(isahc()?, raw()?))))
        }
        PathName::Blocking => {
            let client = blossom_blocking::Client::builder()
                .config(config.clone())
                .max_concurrent(max_concurrent)
                .build()
                .map_err(|e| e.to_string())?;
            Box::new(BlockingRunner::Sdk(client, scenario))
        }
        PathName::RawIsahcBlocking => Box::new(BlockingRunner::RawIsahc(
            IsahcTransport::new(&config).map_err(|e| e.to_string())?,
            raw()?,
        )),
        PathName::RawHyperUtil => {
            let mut connector = HttpConnector::new();
            // As the isahc transport does.
            connector.set_nodelay(true);
            let client = HyperClient::builder(TokioExecutor::new()).build(connector);
            Box::new(TokioRunner::new(AsyncCaller::RawHyper(client, raw()?))?)
        }
    })
}

/// What the raw paths share: the SDK's encoder, the body size limit, the scenario.
struct Raw {
    encoder: Encoder,
    limit: usize,
    scenario: Scenario,
}

impl Raw {
    /// The request the SDK would send for call `i`.
    fn prepare(&self, i: usize) -> Result<Prepared, String> {
        let prepared = match self.scenario.kind {
            Kind::Chat | Kind::CacheHit => self.encoder.chat(&self.scenario.chat(i)),
            Kind::Image => self.encoder.image(&self.scenario.image(i)),
            Kind::Stream => {
                // What `chat_stream` sets.
                let mut request = self.scenario.chat(i);
                request.stream = Some(true);
                request.stream_options = Some(StreamOptions {
                    include_usage: true,
                });
                self.encoder.chat(&request)
            }
        };
        prepared.map_err(|e| e.to_string())
    }

    /// Decodes a whole answer as the SDK would (into the same typed value).
    fn decode(&self, status: http::StatusCode, body: &[u8]) -> Result<u64, String> {
        if !status.is_success() {
            return Err(format!("status {status}"));
        }
        match self.scenario.kind {
            Kind::Image => image_ok(body),
            _ => {
                let reply: ChatCompletion =
                    serde_json::from_slice(body).map_err(|e| e.to_string())?;
                reply_ok(&reply)
            }
        }
    }
}

fn reply_ok(reply: &ChatCompletion) -> Result<u64, String> {
    if reply.text().is_empty() {
        Err("an empty chat answer".to_owned())
    } else {
        Ok(0)
    }
}

fn image_ok(body: &[u8]) -> Result<u64, String> {
    if body.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(0)
    } else {
        Err(format!("not a JPEG ({} bytes)", body.len()))
    }
}

/// The raw paths' SSE reader: splits `data: …\n\n` events (the only shape this server
/// writes) and decodes each chunk into a `ChatChunk`.
#[derive(Default)]
struct RawSse {
    pending: Vec<u8>,
    chunks: u64,
    done: bool,
}

impl RawSse {
    fn push(&mut self, bytes: &[u8]) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(length) = memchr::memmem::find(&self.pending[start..], b"\n\n") {
            let event = &self.pending[start..start + length];
            start += length + 2;
            let data = event.strip_prefix(b"data: ").unwrap_or(event);
            if data == b"[DONE]" {
                self.done = true;
                break;
            }
            let chunk: ChatChunk = serde_json::from_slice(data).map_err(|e| e.to_string())?;
            std::hint::black_box(chunk.text());
            self.chunks += 1;
        }
        self.pending.drain(..start);
        Ok(())
    }

    fn finish(self) -> Result<u64, String> {
        if self.done {
            Ok(self.chunks)
        } else {
            Err(format!(
                "the stream ended before [DONE] ({} chunks)",
                self.chunks
            ))
        }
    }
}

/// An async way of making one call.
// One value per process, behind an `Arc`: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum AsyncCaller {
    SdkTokio(blossom_tokio::Client, Scenario),
    SdkTokioIsahc(blossom_tokio::isahc::Client, Scenario),
    SdkSmol(blossom_smol::Client, Scenario),
    RawSeam(Arc<dyn Transport>, Raw),
    RawHyper(HyperClient<HttpConnector, Full<Bytes>>, Raw),
}

impl AsyncCaller {
    async fn call(&self, i: usize) -> Result<u64, String> {
        match self {
            Self::SdkTokio(client, scenario) => sdk_call(client, scenario, i).await,
            Self::SdkTokioIsahc(client, scenario) => sdk_call(client, scenario, i).await,
            Self::SdkSmol(client, scenario) => sdk_call(client, scenario, i).await,
            Self::RawSeam(transport, raw) => raw_seam_call(transport.as_ref(), raw, i).await,
            Self::RawHyper(client, raw) => raw_hyper_call(client, raw, i).await,
        }
    }
}

/// One call through an async SDK client.
async fn sdk_call<R: blossom_client::Runtime>(
    client: &blossom_client::Client<R>,
    scenario: &Scenario,
    i: usize,
) -> Result<u64, String> {
    match scenario.kind {
        Kind::Chat => reply_ok(&client.chat(scenario.chat(i)).await.map_err(text)?),
        Kind::CacheHit => {
            let reply = client.chat(scenario.chat(i)).await.map_err(text)?;
            cached(reply.meta.cached)?;
            reply_ok(&reply)
        }
        Kind::Image => image_ok(&client.image(scenario.image(i)).await.map_err(text)?.bytes),
        Kind::Stream => {
            let mut stream = client.chat_stream(scenario.chat(i)).await.map_err(text)?;
            let mut chunks = 0;
            while let Some(chunk) = stream.next().await {
                std::hint::black_box(chunk.map_err(text)?.text());
                chunks += 1;
            }
            Ok(chunks)
        }
    }
}

fn cached(cached: bool) -> Result<(), String> {
    if cached {
        Ok(())
    } else {
        Err("a cache-hit call was not answered from the cache".to_owned())
    }
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

async fn raw_seam_call(transport: &dyn Transport, raw: &Raw, i: usize) -> Result<u64, String> {
    let prepared = raw.prepare(i)?;
    let response = transport.send(prepared.attempt()).await.map_err(text)?;
    if raw.scenario.kind == Kind::Stream {
        if !response.status.is_success() {
            return Err(format!("status {}", response.status));
        }
        let mut body = response.body;
        let mut sse = RawSse::default();
        while let Some(chunk) = body.next().await {
            sse.push(&chunk.map_err(text)?)?;
        }
        return sse.finish();
    }
    let body = read_body(response.body, raw.limit).await.map_err(text)?;
    raw.decode(response.status, &body)
}

async fn raw_hyper_call(
    client: &HyperClient<HttpConnector, Full<Bytes>>,
    raw: &Raw,
    i: usize,
) -> Result<u64, String> {
    let prepared = raw.prepare(i)?;
    let response = client
        .request(prepared.attempt().map(Full::new))
        .await
        .map_err(text)?;
    let status = response.status();
    if raw.scenario.kind == Kind::Stream {
        if !status.is_success() {
            return Err(format!("status {status}"));
        }
        let mut body = response.into_body();
        let mut sse = RawSse::default();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.map_err(text)?.into_data() {
                sse.push(&data)?;
            }
        }
        return sse.finish();
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(text)?
        .to_bytes();
    raw.decode(status, &body)
}

/// Runs `call(i)` for each `i` of `first..first + count`, `concurrency` at a time, in one
/// task (`buffer_unordered`), timing each call from its first poll.
async fn drive<F, Fut>(first: usize, count: usize, concurrency: usize, call: F) -> Outcomes
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<u64, String>>,
{
    let mut outcomes = Outcomes::default();
    let mut results = futures_util::stream::iter(first..first + count)
        .map(|i| {
            let call = call(i);
            async move {
                let started = Instant::now();
                let result = call.await;
                (started.elapsed(), result)
            }
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((took, result)) = results.next().await {
        outcomes.record(took, result);
    }
    outcomes
}

/// The tokio paths: a multi-thread runtime with one worker thread (what `#[tokio::main]`
/// builds for a process allowed one core), the workload spawned onto it as one task.
struct TokioRunner {
    runtime: tokio::runtime::Runtime,
    caller: Arc<AsyncCaller>,
}

impl TokioRunner {
    fn new(caller: AsyncCaller) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(text)?;
        Ok(Self {
            runtime,
            caller: Arc::new(caller),
        })
    }
}

impl Runner for TokioRunner {
    fn run(&self, first: usize, count: usize, concurrency: usize) -> Outcomes {
        let caller = Arc::clone(&self.caller);
        let work = drive(first, count, concurrency, move |i| {
            let caller = Arc::clone(&caller);
            async move { caller.call(i).await }
        });
        match self.runtime.block_on(self.runtime.spawn(work)) {
            Ok(outcomes) => outcomes,
            Err(error) => failed_all(count, format!("the workload task failed: {error}")),
        }
    }
}

/// The smol paths: `smol::block_on` on the calling thread.
struct SmolRunner(Arc<AsyncCaller>);

impl Runner for SmolRunner {
    fn run(&self, first: usize, count: usize, concurrency: usize) -> Outcomes {
        let caller = &self.0;
        smol::block_on(drive(first, count, concurrency, |i| caller.call(i)))
    }
}

/// The blocking paths: `concurrency` threads, each making calls in a loop.
enum BlockingRunner {
    Sdk(blossom_blocking::Client, Scenario),
    RawIsahc(IsahcTransport, Raw),
}

impl BlockingRunner {
    fn call(&self, i: usize) -> Result<u64, String> {
        match self {
            Self::Sdk(client, scenario) => blocking_sdk_call(client, scenario, i),
            Self::RawIsahc(transport, raw) => raw_isahc_blocking_call(transport, raw, i),
        }
    }
}

impl Runner for BlockingRunner {
    fn run(&self, first: usize, count: usize, concurrency: usize) -> Outcomes {
        let next = AtomicUsize::new(first);
        let end = first + count;
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..concurrency.clamp(1, count.max(1)))
                .map(|_| {
                    scope.spawn(|| {
                        let mut outcomes = Outcomes::default();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= end {
                                return outcomes;
                            }
                            let (took, result) = timed(|| self.call(i));
                            outcomes.record(took, result);
                        }
                    })
                })
                .collect();
            let mut all = Outcomes::default();
            for worker in workers {
                match worker.join() {
                    Ok(outcomes) => all.merge(outcomes),
                    Err(_) => all.record(
                        std::time::Duration::ZERO,
                        Err("a worker thread panicked".to_owned()),
                    ),
                }
            }
            all
        })
    }
}

fn blocking_sdk_call(
    client: &blossom_blocking::Client,
    scenario: &Scenario,
    i: usize,
) -> Result<u64, String> {
    match scenario.kind {
        Kind::Chat => reply_ok(&client.chat(scenario.chat(i)).map_err(text)?),
        Kind::CacheHit => {
            let reply = client.chat(scenario.chat(i)).map_err(text)?;
            cached(reply.meta.cached)?;
            reply_ok(&reply)
        }
        Kind::Image => image_ok(&client.image(scenario.image(i)).map_err(text)?.bytes),
        Kind::Stream => {
            let mut chunks = 0;
            for chunk in client.chat_stream(scenario.chat(i)).map_err(text)? {
                std::hint::black_box(chunk.map_err(text)?.text());
                chunks += 1;
            }
            Ok(chunks)
        }
    }
}

fn raw_isahc_blocking_call(transport: &IsahcTransport, raw: &Raw, i: usize) -> Result<u64, String> {
    let prepared = raw.prepare(i)?;
    let response = BlockingTransport::send(transport, prepared.attempt(), None).map_err(text)?;
    if raw.scenario.kind == Kind::Stream {
        if !response.status.is_success() {
            return Err(format!("status {}", response.status));
        }
        let mut body = response.body;
        let mut sse = RawSse::default();
        loop {
            match body.read(None) {
                BodyRead::Chunk(chunk) => sse.push(&chunk)?,
                BodyRead::End => return sse.finish(),
                BodyRead::Later => {}
                BodyRead::Failed(error) => return Err(error.to_string()),
            }
        }
    }
    let body = read_body_blocking(response.body, raw.limit, None).map_err(text)?;
    raw.decode(response.status, &body)
}

/// Outcomes where every one of `count` calls failed with `error`.
fn failed_all(count: usize, error: String) -> Outcomes {
    let mut outcomes = Outcomes::default();
    for _ in 0..count {
        outcomes.record(std::time::Duration::ZERO, Err(error.clone()));
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_sse_reads_events_split_anywhere() {
        let chunk = r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}"#;
        let all = format!("data: {chunk}\n\ndata: {chunk}\n\ndata: [DONE]\n\n");
        for cut in 0..all.len() {
            let mut sse = RawSse::default();
            assert!(sse.push(&all.as_bytes()[..cut]).is_ok());
            assert!(sse.push(&all.as_bytes()[cut..]).is_ok());
            assert_eq!(sse.finish(), Ok(2), "cut at {cut}");
        }
        let mut truncated = RawSse::default();
        assert!(
            truncated
                .push(format!("data: {chunk}\n\n").as_bytes())
                .is_ok()
        );
        assert!(truncated.finish().is_err());
    }

    #[test]
    fn every_path_has_a_name_that_parses_back() {
        for path in PathName::ALL {
            assert_eq!(PathName::parse(path.name()), Some(path));
        }
        assert_eq!(PathName::parse("nope"), None);
    }
}
