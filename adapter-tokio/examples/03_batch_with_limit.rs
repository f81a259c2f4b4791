//! A batch with a concurrency limit: the semaphore pattern, built in.
//!
//! docs/PATTERNS.md row 3. The SDK feature: `client.batch(requests).concurrency(n).run()` takes
//! requests lazily from any iterator, keeps at most `n` in flight, and yields
//! `(index, result)` as each finishes; `.on_progress(..)` reports running totals.
//!
//! Run it with `cargo run -p blossom-tokio --example 03_batch_with_limit`.

use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, StreamExt, TextRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Every answer takes 100 ms.
    let config = EmulatorConfig::default().faults("latency=100ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::from_env()?` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    let requests = (0..20).map(|i| TextRequest::new(format!("summary of chapter {i}")));
    let started = Instant::now();
    let mut results = client
        .batch(requests)
        .concurrency(4)
        .on_progress(|progress| {
            if progress.completed % 5 == 0 {
                println!(
                    "  progress: {}/{} done",
                    progress.completed,
                    progress.total.unwrap_or(0)
                );
            }
        })
        .run();
    let mut succeeded = 0;
    while let Some((index, result)) = results.next().await {
        match result {
            Ok(_reply) => succeeded += 1,
            Err(error) => println!("  request {index} failed: {error}"),
        }
    }
    let took = started.elapsed();

    let peak = emulator.stats().max_in_flight;
    println!(
        "20 requests of 100 ms with concurrency 4 took {:.2} s; \
         the server never saw more than {peak} at once",
        took.as_secs_f64()
    );
    // Four at a time, never more: the server saw exactly 4 at once, and 20 calls of 100 ms
    // in slots of 4 cannot take less than 5 × 100 ms.
    if succeeded != 20 || peak != 4 || took < Duration::from_millis(500) {
        return Err(format!("{succeeded} succeeded, peak concurrency {peak}, {took:?}").into());
    }
    Ok(())
}
