//! One synchronous face over the three adapters, so each scenario is written once.
//!
//! The tokio harness drives its client on a tokio runtime, the smol harness with
//! `smol::block_on`, the blocking harness directly (threads for concurrency). Everything a
//! scenario observes goes through this trait.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use blossom_client::{AnyRequest, AnyResponse, ShutdownReport};
use blossom_core::Error;
use blossom_core::api::{ChatChunk, ChatRequest, TextRequest};
use blossom_core::engine::{CallOptions, LimiterConfig};
use blossom_core::policy::{BreakerConfig, MetricsSnapshot, RetryPolicy};
use blossom_emulator::DEMO_SECRET_KEY;
use futures_util::StreamExt as _;
use std::future::IntoFuture as _;

/// Which adapter a harness wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// tokio with its default transport, hyper.
    Tokio,
    /// tokio with the isahc transport.
    TokioIsahc,
    Smol,
    Blocking,
}

pub(crate) const ALL: [Kind; 4] = [Kind::Tokio, Kind::TokioIsahc, Kind::Smol, Kind::Blocking];

/// Client settings a scenario may change.
#[derive(Default, Clone)]
pub(crate) struct Settings {
    pub retry: Option<RetryPolicy>,
    pub breaker: Option<Option<BreakerConfig>>,
    pub limits: Option<LimiterConfig>,
    pub max_concurrent: Option<usize>,
    pub max_connections: Option<usize>,
    pub stream_idle: Option<Duration>,
    pub request_timeout: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    /// The drain after `[DONE]`: how long and how many bytes.
    pub stream_drain: Option<(Duration, usize)>,
}

/// A chunk and when it arrived.
pub(crate) type Timed<T> = (Instant, T);

pub(crate) trait Harness: Send + Sync {
    fn call(&self, request: AnyRequest, options: CallOptions) -> Result<AnyResponse, Error>;
    fn stream(&self, request: ChatRequest) -> Result<Vec<Timed<Result<ChatChunk, Error>>>, Error> {
        self.stream_with(request, CallOptions::default())
    }
    /// Opens a stream with `options` and reads it to its end; each chunk with its arrival.
    fn stream_with(
        &self,
        request: ChatRequest,
        options: CallOptions,
    ) -> Result<Vec<Timed<Result<ChatChunk, Error>>>, Error>;
    fn stream_then_drop(&self, request: ChatRequest) -> Result<ChatChunk, Error>;
    /// Runs every call at once, started in order; results with their completion instants.
    fn concurrent(
        &self,
        calls: Vec<(AnyRequest, CallOptions)>,
    ) -> Vec<Timed<Result<AnyResponse, Error>>>;
    fn batch(
        &self,
        requests: Vec<AnyRequest>,
        concurrency: usize,
        ordered: bool,
    ) -> Vec<(usize, Result<AnyResponse, Error>)>;
    /// A lazy batch of `n` generated text requests; returns (succeeded, failed, the most
    /// items ever taken from the input and not yet yielded).
    fn lazy_batch(&self, n: usize, concurrency: usize) -> (usize, usize, usize);
    fn pool(&self, requests: Vec<AnyRequest>, workers: usize) -> Vec<Result<AnyResponse, Error>>;
    /// Starts the calls, lets them get going for `after`, shuts down with `grace`.
    fn shutdown_during(
        &self,
        calls: Vec<AnyRequest>,
        after: Duration,
        grace: Duration,
    ) -> (ShutdownReport, Vec<Result<AnyResponse, Error>>);
    fn metrics(&self) -> MetricsSnapshot;
}

macro_rules! configure {
    ($builder:expr, $url:expr, $settings:expr) => {{
        let settings: &Settings = $settings;
        let mut builder = $builder.base_url($url).api_key(DEMO_SECRET_KEY).seed(1);
        if let Some(retry) = settings.retry.clone() {
            builder = builder.retry(retry);
        }
        if let Some(breaker) = settings.breaker.clone() {
            builder = builder.circuit_breaker(breaker);
        }
        if let Some(limits) = settings.limits.clone() {
            builder = builder.rate_limits(limits);
        }
        if let Some(n) = settings.max_connections {
            builder = builder.max_connections(n);
        }
        if let Some(n) = settings.max_concurrent {
            builder = builder.max_concurrent(n);
        }
        if let Some(idle) = settings.stream_idle {
            builder = builder.stream_idle_timeout(idle);
        }
        if let Some(timeout) = settings.request_timeout {
            builder = builder.request_timeout(timeout);
        }
        if let Some(timeout) = settings.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if let Some((timeout, bytes)) = settings.stream_drain {
            builder = builder.stream_drain(timeout, bytes);
        }
        builder.build().unwrap()
    }};
}

pub(crate) fn make(kind: Kind, url: &str, settings: &Settings) -> Box<dyn Harness> {
    match kind {
        Kind::Tokio => Box::new(TokioHarness {
            runtime: tokio_runtime(),
            client: configure!(blossom_tokio::Client::builder(), url, settings),
        }),
        Kind::TokioIsahc => Box::new(TokioIsahcHarness {
            runtime: tokio_runtime(),
            client: configure!(blossom_tokio::isahc::Client::builder(), url, settings),
        }),
        Kind::Smol => Box::new(SmolHarness {
            client: configure!(blossom_smol::Client::builder(), url, settings),
        }),
        Kind::Blocking => Box::new(BlockingHarness {
            client: configure!(blossom_blocking::Client::builder(), url, settings),
        }),
    }
}

/// The async harnesses share their bodies: only how a future is run differs.
macro_rules! async_harness {
    ($name:ident) => {
        impl Harness for $name {
            fn call(
                &self,
                request: AnyRequest,
                options: CallOptions,
            ) -> Result<AnyResponse, Error> {
                let client = self.client.clone();
                self.run(async move { client.call(request).options(options).await })
            }

            fn stream_with(
                &self,
                request: ChatRequest,
                options: CallOptions,
            ) -> Result<Vec<Timed<Result<ChatChunk, Error>>>, Error> {
                let client = self.client.clone();
                self.run(async move {
                    let mut stream = client.chat_stream(request).options(options).await?;
                    let mut chunks = Vec::new();
                    while let Some(chunk) = stream.next().await {
                        chunks.push((Instant::now(), chunk));
                    }
                    Ok(chunks)
                })
            }

            fn stream_then_drop(&self, request: ChatRequest) -> Result<ChatChunk, Error> {
                let client = self.client.clone();
                self.run(async move {
                    let mut stream = client.chat_stream(request).await?;
                    let first = stream
                        .next()
                        .await
                        .ok_or_else(|| Error::stream("empty stream"))?;
                    drop(stream);
                    first
                })
            }

            fn concurrent(
                &self,
                calls: Vec<(AnyRequest, CallOptions)>,
            ) -> Vec<Timed<Result<AnyResponse, Error>>> {
                let client = self.client.clone();
                self.run(async move {
                    let futures = calls.into_iter().map(|(request, options)| {
                        let call = client.call(request).options(options);
                        async move {
                            let result = call.await;
                            (Instant::now(), result)
                        }
                    });
                    futures_util::future::join_all(futures).await
                })
            }

            fn batch(
                &self,
                requests: Vec<AnyRequest>,
                concurrency: usize,
                ordered: bool,
            ) -> Vec<(usize, Result<AnyResponse, Error>)> {
                let client = self.client.clone();
                self.run(async move {
                    client
                        .batch(requests)
                        .concurrency(concurrency)
                        .ordered(ordered)
                        .run()
                        .collect()
                        .await
                })
            }

            fn lazy_batch(&self, n: usize, concurrency: usize) -> (usize, usize, usize) {
                let client = self.client.clone();
                let taken = Arc::new(AtomicUsize::new(0));
                let counter = Arc::clone(&taken);
                let requests = (0..n).map(move |i| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    TextRequest::new(format!("lazy item {i}"))
                });
                self.run(async move {
                    let mut results = client.batch(requests).concurrency(concurrency).run();
                    let (mut ok, mut failed, mut outstanding) = (0, 0, 0);
                    while let Some((_, result)) = results.next().await {
                        if result.is_ok() {
                            ok += 1
                        } else {
                            failed += 1
                        }
                        outstanding =
                            outstanding.max(taken.load(Ordering::SeqCst) - (ok + failed - 1));
                    }
                    (ok, failed, outstanding)
                })
            }

            fn pool(
                &self,
                requests: Vec<AnyRequest>,
                workers: usize,
            ) -> Vec<Result<AnyResponse, Error>> {
                let client = self.client.clone();
                self.run(async move {
                    let (submitter, results) = client.worker_pool::<AnyRequest>(workers);
                    let producer = async move {
                        for request in requests {
                            submitter.submit(request).await?;
                        }
                        Ok::<_, Error>(())
                    };
                    let consumer = results.map(|(_, result)| result).collect::<Vec<_>>();
                    let (produced, collected) =
                        futures_util::future::join(producer, consumer).await;
                    produced
                        .map(|()| collected)
                        .unwrap_or_else(|e| vec![Err(e)])
                })
            }

            fn shutdown_during(
                &self,
                calls: Vec<AnyRequest>,
                after: Duration,
                grace: Duration,
            ) -> (ShutdownReport, Vec<Result<AnyResponse, Error>>) {
                let client = self.client.clone();
                self.run(async move {
                    let running = futures_util::future::join_all(
                        calls
                            .into_iter()
                            .map(|request| client.call(request).into_future()),
                    );
                    let stopper = async {
                        sleep(after).await;
                        client.shutdown(grace).await
                    };
                    let (results, report) = futures_util::future::join(running, stopper).await;
                    (report, results)
                })
            }

            fn metrics(&self) -> MetricsSnapshot {
                self.client.metrics()
            }
        }
    };
}

pub(crate) struct TokioHarness {
    runtime: Arc<tokio::runtime::Runtime>,
    client: blossom_tokio::Client,
}

pub(crate) struct TokioIsahcHarness {
    runtime: Arc<tokio::runtime::Runtime>,
    client: blossom_tokio::isahc::Client,
}

pub(crate) struct SmolHarness {
    client: blossom_smol::Client,
}

fn tokio_runtime() -> Arc<tokio::runtime::Runtime> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    Arc::new(runtime)
}

/// A runtime-neutral sleep for the async harnesses (async-io's timer works under tokio too).
async fn sleep(duration: Duration) {
    smol::Timer::after(duration).await;
}

impl TokioHarness {
    fn run<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

impl TokioIsahcHarness {
    fn run<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

impl SmolHarness {
    fn run<F: std::future::Future>(&self, future: F) -> F::Output {
        smol::block_on(future)
    }
}

async_harness!(TokioHarness);
async_harness!(TokioIsahcHarness);
async_harness!(SmolHarness);

pub(crate) struct BlockingHarness {
    client: blossom_blocking::Client,
}

impl Harness for BlockingHarness {
    fn call(&self, request: AnyRequest, options: CallOptions) -> Result<AnyResponse, Error> {
        self.client.with_options(options).call(request)
    }

    fn stream_with(
        &self,
        request: ChatRequest,
        options: CallOptions,
    ) -> Result<Vec<Timed<Result<ChatChunk, Error>>>, Error> {
        Ok(self
            .client
            .with_options(options)
            .chat_stream(request)?
            .map(|chunk| (Instant::now(), chunk))
            .collect())
    }

    fn stream_then_drop(&self, request: ChatRequest) -> Result<ChatChunk, Error> {
        let mut stream = self.client.chat_stream(request)?;
        stream.next().ok_or_else(|| Error::stream("empty stream"))?
    }

    fn concurrent(
        &self,
        calls: Vec<(AnyRequest, CallOptions)>,
    ) -> Vec<Timed<Result<AnyResponse, Error>>> {
        let base = self.client.metrics().submitted;
        std::thread::scope(|scope| {
            let handles: Vec<_> = calls
                .into_iter()
                .enumerate()
                .map(|(i, (request, options))| {
                    let client = self.client.with_options(options);
                    let handle = scope.spawn(move || {
                        let result = client.call(request);
                        (Instant::now(), result)
                    });
                    // Calls start in order: each is submitted (running or queued) before the
                    // next thread starts, however loaded the machine (bounded wait).
                    let started = Instant::now();
                    while started.elapsed() < Duration::from_secs(2) {
                        if self.client.metrics().submitted > base + i as u64 {
                            break;
                        }
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    handle
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    fn batch(
        &self,
        requests: Vec<AnyRequest>,
        concurrency: usize,
        ordered: bool,
    ) -> Vec<(usize, Result<AnyResponse, Error>)> {
        self.client
            .batch(requests)
            .concurrency(concurrency)
            .ordered(ordered)
            .run()
            .collect()
    }

    fn lazy_batch(&self, n: usize, concurrency: usize) -> (usize, usize, usize) {
        let taken = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&taken);
        let requests = (0..n).map(move |i| {
            counter.fetch_add(1, Ordering::SeqCst);
            TextRequest::new(format!("lazy item {i}"))
        });
        let (mut ok, mut failed, mut outstanding) = (0, 0, 0);
        for (_, result) in self.client.batch(requests).concurrency(concurrency).run() {
            if result.is_ok() {
                ok += 1
            } else {
                failed += 1
            }
            outstanding = outstanding.max(taken.load(Ordering::SeqCst) - (ok + failed - 1));
        }
        (ok, failed, outstanding)
    }

    fn pool(&self, requests: Vec<AnyRequest>, workers: usize) -> Vec<Result<AnyResponse, Error>> {
        let (submitter, results) = self.client.worker_pool::<AnyRequest>(workers);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for request in requests {
                    if submitter.submit(request).is_err() {
                        return;
                    }
                }
            });
            results.map(|(_, result)| result).collect()
        })
    }

    fn shutdown_during(
        &self,
        calls: Vec<AnyRequest>,
        after: Duration,
        grace: Duration,
    ) -> (ShutdownReport, Vec<Result<AnyResponse, Error>>) {
        std::thread::scope(|scope| {
            let handles: Vec<_> = calls
                .into_iter()
                .map(|request| {
                    let client = self.client.clone();
                    scope.spawn(move || client.call(request))
                })
                .collect();
            std::thread::sleep(after);
            let report = self.client.shutdown(grace);
            let results = handles.into_iter().map(|h| h.join().unwrap()).collect();
            (report, results)
        })
    }

    fn metrics(&self) -> MetricsSnapshot {
        self.client.metrics()
    }
}
