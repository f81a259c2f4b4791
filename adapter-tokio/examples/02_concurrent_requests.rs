//! Many requests at once: ten requests take the time of one, not ten.
//!
//! docs/PATTERNS.md row 2. The SDK feature: a call is a plain future and the client is
//! `Clone + Send + Sync`, so the usual future combinators (`join_all`, `tokio::join!`,
//! `tokio::spawn`) run calls side by side over one connection pool and one engine. (For many
//! requests with a limit, see `03_batch_with_limit`.)
//!
//! Run it with `cargo run -p blossom-tokio --example 02_concurrent_requests`.

use std::future::IntoFuture as _;
use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::Client;
use futures_util::future::join_all;

/// How long the emulator takes to start each answer, like a model thinking.
const LATENCY: Duration = Duration::from_millis(200);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Every answer takes LATENCY to start.
    let config = EmulatorConfig::default().faults("latency=200ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::from_env()?` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    let started = Instant::now();
    client.text("a warm-up question").await?;
    let one = started.elapsed();

    let prompts: Vec<String> = (1..=10).map(|i| format!("question number {i}")).collect();
    let started = Instant::now();
    // `.into_future()` turns each call into a future; `join_all` polls them all at once.
    let answers = join_all(
        prompts
            .iter()
            .map(|p| client.text(p.as_str()).into_future()),
    )
    .await;
    let ten = started.elapsed();

    let succeeded = answers.iter().filter(|answer| answer.is_ok()).count();
    println!("one request took {:.2} s", one.as_secs_f64());
    println!(
        "{} requests at once took {:.2} s \
         ({succeeded} succeeded; at most {} in flight at the server)",
        prompts.len(),
        ten.as_secs_f64(),
        emulator.stats().max_in_flight
    );
    if succeeded != prompts.len() {
        return Err("some requests failed".into());
    }
    // At once they take about LATENCY (never less), one after the other 10 × LATENCY = 2 s.
    // The upper bound leaves five times the ideal for a busy machine.
    if ten < LATENCY || ten > LATENCY * 5 {
        return Err(format!("10 requests took {ten:?}, not about {LATENCY:?}").into());
    }
    Ok(())
}
