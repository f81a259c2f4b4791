//! Performance monitoring: totals, success rate, concurrency, latency percentiles.
//!
//! docs/PATTERNS.md row 20. The SDK feature: `client.metrics()` returns a `MetricsSnapshot` at any
//! moment, cheap enough to read on every progress tick: calls submitted, succeeded and
//! failed by kind, attempts and retries, cache hits, breaker states, calls in flight and the
//! peak, and latency percentiles per endpoint kind.
//!
//! Run it with `cargo run -p blossom-tokio --example 20_metrics`.

use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{AnyRequest, Client, ImageRequest, RetryPolicy, StreamExt, TextRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Latency between 20 and 80 ms, and 10 % of answers fail with a 503.
    let config = EmulatorConfig::default()
        .seed(20)
        .faults("503=0.1,latency=20..80ms".parse()?);
    let emulator = Emulator::start(config).await?;
    let mut retry = RetryPolicy::default();
    retry.base = Duration::from_millis(10);
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .retry(retry)
        .build()?;

    // A mixed workload: 50 texts and 10 small images, 8 at a time.
    let texts = (0..50).map(|i| AnyRequest::from(TextRequest::new(format!("note {i}"))));
    let images =
        (0..10).map(|i| AnyRequest::from(ImageRequest::new(format!("tile {i}")).size(32, 32)));
    let started = Instant::now();
    let mut results = client.batch(texts.chain(images)).concurrency(8).run();
    while let Some((index, _result)) = results.next().await {
        if (index + 1) % 20 == 0 {
            let now = client.metrics();
            println!(
                "  … {} finished, {} in flight",
                now.finished(),
                now.in_flight
            );
        }
    }
    let took = started.elapsed();

    let m = client.metrics();
    println!(
        "calls:       {} submitted in {:.2} s, {} succeeded, failed {:?}",
        m.submitted,
        took.as_secs_f64(),
        m.succeeded,
        m.failed
    );
    println!("success:     {:.1} %", m.success_rate() * 100.0);
    println!("attempts:    {} ({} retries)", m.attempts, m.retried);
    println!("concurrency: at most {} in flight", m.max_in_flight);
    for (kind, latency) in &m.latency {
        println!(
            "latency {kind:<5} n={:<3} p50 {:>4} ms  p90 {:>4} ms  p99 {:>4} ms  max {:>4} ms",
            latency.count,
            latency.p50.as_millis(),
            latency.p90.as_millis(),
            latency.p99.as_millis(),
            latency.max.as_millis()
        );
    }

    // Every answer took 20 ms at least, so no measured latency can be shorter.
    let measured = m
        .latency
        .values()
        .all(|l| l.p50 >= Duration::from_millis(20) && l.p50 <= l.p99 && l.p99 <= l.max);
    if m.submitted != 60
        || m.finished() != 60
        || m.max_in_flight > 8
        || m.retried == 0
        || m.latency.len() != 2
        || !measured
    {
        return Err(format!("unexpected metrics: {m:?}").into());
    }
    Ok(())
}
