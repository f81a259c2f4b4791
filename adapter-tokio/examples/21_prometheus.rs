//! Publishing the SDK's metrics to Prometheus through the `metrics` facade.
//!
//! With the `metrics` feature, every engine event updates a series of the `metrics` crate:
//! `blossom_calls_total{endpoint,outcome}`, `blossom_call_duration_seconds`,
//! `blossom_attempts_total`, `blossom_responses_total{status}`, `blossom_retries_total`,
//! cache hits, coalesced calls, limiter waits, 429 pauses, breaker rejections and state,
//! calls in flight and queued (the names are constants in `blossom_core::engine::export`).
//! Any `metrics` exporter works; this one renders Prometheus's text format, which a real
//! program would serve on `/metrics` (the exporter's `http-listener` feature does that).
//!
//! Run it with `cargo run -p blossom-tokio --features metrics --example 21_prometheus`.

use std::time::Duration;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, RetryPolicy, StreamExt as _, TextRequest};
use metrics_exporter_prometheus::PrometheusBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Install the exporter before the client, so that the client's series are described.
    let prometheus = PrometheusBuilder::new().install_recorder()?;

    // One answer in ten fails with a 503: the retries show in the counters.
    let config = EmulatorConfig::default()
        .seed(21)
        .faults("503=0.1".parse()?);
    let emulator = Emulator::start(config).await?;
    let mut retry = RetryPolicy::default();
    retry.max_retries = 6;
    retry.base = Duration::from_millis(5);
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .retry(retry)
        .build()?;
    let requests = (0..40).map(|i| TextRequest::new(format!("line {i}")));
    let mut results = client.batch(requests).concurrency(8).run();
    while let Some((index, result)) = results.next().await {
        result.map_err(|e| format!("call {index}: {e}"))?;
    }

    let page = prometheus.render();
    for line in page.lines().filter(|l| l.starts_with("blossom_")) {
        println!("{line}");
    }
    // What a scrape would show: 40 calls succeeded, and the 503s were retried.
    let ok = page
        .lines()
        .find(|l| l.starts_with("blossom_calls_total{") && l.contains("outcome=\"ok\""))
        .ok_or("no blossom_calls_total series")?;
    assert!(ok.ends_with(" 40"), "{ok}");
    assert!(page.contains("blossom_retries_total{endpoint=\"text\"}"));
    assert!(page.contains("# TYPE blossom_call_duration_seconds summary"));
    emulator.shutdown().await;
    Ok(())
}
