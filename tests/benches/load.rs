//! Load runs against the emulator: the same requests through the raw isahc transport and
//! through each client, so the SDK's overhead is a ratio measured in one run.
//!
//! `cargo bench -p blossom-tests --bench load` (add `-- --calls 20000 --concurrency 64` to
//! change the load). Every request has a unique prompt, so neither the client's cache nor
//! the emulator's answers from memory; the engine runs its full path (scheduler, limiter,
//! breaker, retry bookkeeping, decode) on every call.
// A benchmark program: a failure should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use blossom_client::{Client, Runtime, Transport, read_body};
use blossom_core::ClientConfig;
use blossom_core::api::TextRequest;
use blossom_core::codec::Encoder;
use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_transport::IsahcTransport;
use futures_util::StreamExt as _;

struct Run {
    name: &'static str,
    took: Duration,
    ok: usize,
}

fn args() -> (usize, usize) {
    let mut calls = 5_000;
    let mut concurrency = 32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--calls" => calls = args.next().and_then(|v| v.parse().ok()).unwrap_or(calls),
            "--concurrency" => {
                concurrency = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(concurrency)
            }
            _ => {}
        }
    }
    (calls, concurrency)
}

fn prompts(tag: &'static str, calls: usize) -> impl Iterator<Item = TextRequest> {
    (0..calls).map(move |i| TextRequest::new(format!("{tag} load prompt {i}")))
}

/// Times `work`, which returns how many calls succeeded.
fn timed(name: &'static str, work: impl FnOnce() -> usize) -> Run {
    let started = Instant::now();
    let ok = work();
    Run {
        name,
        took: started.elapsed(),
        ok,
    }
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn raw(url: &str, calls: usize, concurrency: usize) -> Run {
    let config = ClientConfig::new()
        .base_url(url)
        .unwrap()
        .api_key(DEMO_SECRET_KEY)
        .unwrap();
    let encoder = Encoder::new(&config).unwrap();
    let transport = Arc::new(IsahcTransport::new(&config).unwrap());
    let runtime = tokio_runtime();
    timed("raw isahc transport", || {
        runtime.block_on(async {
            futures_util::stream::iter(prompts("raw", calls))
                .map(|request| {
                    let prepared = encoder.text(&request).unwrap();
                    let transport = Arc::clone(&transport);
                    async move {
                        let response = transport.send(prepared.attempt()).await.ok()?;
                        let body = read_body(response.body, 1 << 20).await.ok()?;
                        (response.status.is_success() && !body.is_empty()).then_some(())
                    }
                })
                .buffer_unordered(concurrency)
                .filter(|r| futures_util::future::ready(r.is_some()))
                .count()
                .await
        })
    })
}

/// The batch of an async client (tokio or smol): how many calls succeeded.
async fn async_batch<R: Runtime>(
    client: &Client<R>,
    tag: &'static str,
    calls: usize,
    concurrency: usize,
) -> usize {
    client
        .batch(prompts(tag, calls))
        .concurrency(concurrency)
        .run()
        .filter(|(_, r)| futures_util::future::ready(r.is_ok()))
        .count()
        .await
}

fn tokio_client(url: &str, calls: usize, concurrency: usize) -> Run {
    let runtime = tokio_runtime();
    let client = blossom_tokio::Client::builder()
        .base_url(url)
        .api_key(DEMO_SECRET_KEY)
        .build()
        .unwrap();
    timed("blossom-tokio batch", || {
        runtime.block_on(async_batch(&client, "tokio", calls, concurrency))
    })
}

fn smol_client(url: &str, calls: usize, concurrency: usize) -> Run {
    let client = blossom_smol::Client::builder()
        .base_url(url)
        .api_key(DEMO_SECRET_KEY)
        .build()
        .unwrap();
    timed("blossom-smol batch", || {
        smol::block_on(async_batch(&client, "smol", calls, concurrency))
    })
}

fn blocking_client(url: &str, calls: usize, concurrency: usize) -> Run {
    let client = blossom_blocking::Client::builder()
        .base_url(url)
        .api_key(DEMO_SECRET_KEY)
        .build()
        .unwrap();
    timed("blossom-blocking batch (threads)", || {
        client
            .batch(prompts("blocking", calls))
            .concurrency(concurrency)
            .run()
            .filter(|(_, r)| r.is_ok())
            .count()
    })
}

fn main() {
    let (calls, concurrency) = args();
    let emulator = Emulator::spawn(EmulatorConfig::default()).unwrap();
    let url = emulator.base_url().to_owned();
    // Warm the emulator and the connection pools' code paths once.
    raw(&url, 200, concurrency);
    let runs = [
        raw(&url, calls, concurrency),
        tokio_client(&url, calls, concurrency),
        smol_client(&url, calls, concurrency),
        blocking_client(&url, calls, concurrency),
    ];
    let baseline = runs[0].took.as_secs_f64() / runs[0].ok.max(1) as f64;
    println!("{calls} text calls at concurrency {concurrency} against the emulator on loopback");
    println!(
        "{:<34} {:>9} {:>10} {:>12} {:>8}",
        "path", "ok", "wall", "calls/s", "vs raw"
    );
    for run in &runs {
        let per_call = run.took.as_secs_f64() / run.ok.max(1) as f64;
        println!(
            "{:<34} {:>9} {:>9.2}s {:>12.0} {:>7.2}x",
            run.name,
            run.ok,
            run.took.as_secs_f64(),
            run.ok as f64 / run.took.as_secs_f64(),
            per_call / baseline,
        );
        assert_eq!(run.ok, calls, "{} lost calls", run.name);
    }
    emulator.stop();
}
