//! Rate limiting on the client, before the server has to say 429.
//!
//! docs/PATTERNS.md row 12. The SDK feature: a GCRA limiter per endpoint kind plus one shared by all
//! generations, set with `.rate_limits(LimiterConfig)`; `RateLimit::per_second(rate, burst)`
//! paces, `RateLimit::concurrency(n)` caps calls in flight ("one generation at a time" on
//! the free tier). The defaults follow the key's tier; server 429s slow the pace down
//! further and it recovers gradually.
//!
//! Run it with `cargo run -p blossom-tokio --example 12_rate_limiting`.

use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, LimiterConfig, RateLimit, RetryPolicy, StreamExt, TextRequest};

/// Runs `count` text calls at once and returns how many failed.
async fn burst(client: &Client, count: usize) -> usize {
    let requests = (0..count).map(|i| TextRequest::new(format!("request {i}")));
    let results: Vec<_> = client
        .batch(requests)
        .concurrency(count)
        .run()
        .collect()
        .await;
    results.iter().filter(|(_, result)| result.is_err()).count()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Pacing: 25 calls at once through a limit of 20 per second with a burst of 5.
    let emulator = Emulator::start(EmulatorConfig::default()).await?;
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .rate_limits(LimiterConfig::unlimited().generation(Some(RateLimit::per_second(20.0, 5))))
        .build()?;
    let started = Instant::now();
    let failed = burst(&client, 25).await;
    let took = started.elapsed();
    println!(
        "25 calls at 20/s with a burst of 5 took {:.2} s (5 at once, then one every 50 ms); \
         {} calls waited for the limiter, {failed} failed",
        took.as_secs_f64(),
        client.metrics().limiter_waits
    );
    // 20 calls after the burst, 50 ms apart: 1 s at least (less a little for rounding).
    if failed != 0 || took < Duration::from_millis(900) {
        return Err("the calls were not paced".into());
    }

    // 2. One generation at a time, as a free-tier key must: the server answers 429 to a
    //    second concurrent generation.
    let strict = EmulatorConfig::default()
        .concurrency_limit(Some(1))
        .faults("latency=50ms".parse()?);
    let emulator = Emulator::start(strict).await?;
    let unpaced = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .rate_limits(LimiterConfig::unlimited())
        .retry(RetryPolicy::never())
        .build()?;
    let rejected = burst(&unpaced, 8).await;
    println!("8 calls at once without a client limit: the server rejected {rejected} with 429");
    if rejected == 0 {
        return Err("the server did not enforce its limit: nothing to compare with".into());
    }

    emulator.reset_stats();
    let paced = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .rate_limits(LimiterConfig::unlimited().generation(Some(RateLimit::concurrency(1))))
        .retry(RetryPolicy::never())
        .build()?;
    let failed = burst(&paced, 8).await;
    let stats = emulator.stats();
    println!(
        "8 calls at once with RateLimit::concurrency(1): {failed} failed, the server rejected {}, \
         at most {} in flight",
        stats.rate_limited, stats.max_in_flight
    );
    if failed != 0 || stats.rate_limited != 0 || stats.max_in_flight != 1 {
        return Err("the concurrency cap did not hold".into());
    }
    Ok(())
}
