//! Retries with exponential backoff, jitter, `Retry-After` and a retry budget.
//!
//! docs/PATTERNS.md row 8. The SDK feature: the client's `RetryPolicy` (set with `.retry(..)` on the
//! builder, or per call) retries what a retry can fix (429, 5xx, resets) after
//! `min(cap, base·2ⁿ)` randomised by jitter, never sooner than the server's `Retry-After`;
//! the retry budget (`.retry_budget(..)`, on by default) caps retries at a share of the
//! traffic, so that an outage does not turn into a retry storm. No loop to write.
//!
//! Run it with `cargo run -p blossom-tokio --example 08_retries`.

use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{BudgetConfig, Client, Jitter, RetryPolicy, StreamExt, TextRequest};

/// A client that retries up to 5 times, from 20 ms up to 300 ms apart.
fn retrying_client(
    emulator: &Emulator,
    budget: Option<BudgetConfig>,
) -> Result<Client, blossom_tokio::Error> {
    let mut retry = RetryPolicy::default(); // 2 retries, 0.5 s base, 8 s cap, full jitter
    retry.max_retries = 5;
    retry.base = Duration::from_millis(20);
    retry.cap = Duration::from_millis(300);
    retry.jitter = Jitter::Full;
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .retry(retry)
        .retry_budget(budget)
        // The breaker would stop the outage of part 3 by itself (see 10_circuit_breaker).
        .circuit_breaker(None)
        .build()
}

/// Runs `count` text calls, 5 at a time; returns how many succeeded.
async fn run_batch(client: &Client, count: usize) -> usize {
    let requests = (0..count).map(|i| TextRequest::new(format!("question {i}")));
    let results: Vec<_> = client.batch(requests).concurrency(5).run().collect().await;
    results.iter().filter(|(_, result)| result.is_ok()).count()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Backoff: a fifth of the answers are 503s, yet every call succeeds.
    let config = EmulatorConfig::default().seed(5).faults("503=0.2".parse()?);
    let emulator = Emulator::start(config).await?;
    let client = retrying_client(&emulator, Some(BudgetConfig::default()))?;
    let succeeded = run_batch(&client, 20).await;
    let metrics = client.metrics();
    let injected = emulator.stats().fault("503");
    println!(
        "{succeeded}/20 calls succeeded; the server answered {injected} × 503; \
         the client made {} attempts ({} retries)",
        metrics.attempts, metrics.retried
    );
    if succeeded != 20 || metrics.retried == 0 || metrics.retried != injected {
        return Err("every 503 should have been retried exactly once".into());
    }

    // 2. `Retry-After`: 30 % of the answers are 429s asking for 200 ms. A retried call waits at
    //    least that long, however short its own backoff would be.
    emulator.set_faults("429=0.3,retry_after=200ms".parse()?);
    let client = retrying_client(&emulator, Some(BudgetConfig::default()))?;
    let mut shortest_wait: Option<Duration> = None;
    for i in 0..6 {
        let started = Instant::now();
        let reply = client.text(format!("busy question {i}")).await?;
        let took = started.elapsed();
        let attempts = reply.meta.attempts;
        println!(
            "  call {i}: {attempts} attempt(s) in {:.2} s",
            took.as_secs_f64()
        );
        if attempts > 1 {
            let per_retry = took / (attempts - 1);
            shortest_wait = Some(shortest_wait.map_or(per_retry, |d| d.min(per_retry)));
        }
    }
    let shortest = shortest_wait.ok_or("no call met a 429")?;
    println!(
        "each retry after a 429 came at least {:.2} s later (the server asked for 0.20 s)",
        shortest.as_secs_f64()
    );
    if shortest < Duration::from_millis(200) {
        return Err("a retry came sooner than the server's Retry-After".into());
    }

    // 3. The budget: during an outage, retries without a budget multiply the load by six;
    //    the default budget (20 % of the traffic, at least 10 retries per 10 s) does not.
    emulator.set_faults("503=1".parse()?);
    let mut sent = Vec::new();
    for budget in [None, Some(BudgetConfig::default())] {
        emulator.reset_stats();
        run_batch(&retrying_client(&emulator, budget)?, 20).await;
        sent.push(emulator.stats().requests_total);
    }
    println!(
        "an outage: 20 calls sent {} requests without a retry budget, {} with the default one",
        sent[0], sent[1]
    );
    if sent[0] != 120 || sent[1] > 40 {
        return Err("the retry budget did not hold back the retries".into());
    }
    Ok(())
}
