//! Prioritised requests: urgent calls overtake queued ones.
//!
//! docs/PATTERNS.md row 16. The SDK feature: `.priority(Priority::…)` on any call (or for a whole
//! batch via `CallOptions`). When the client is at its concurrency limit, queued calls get
//! the next free permit by class (critical, high, normal, low), first come first served
//! within a class. Aging (`.priority_aging(d)`, default 2 s) raises a waiting call one class
//! per `d`, so low-priority work is delayed, never starved.
//!
//! Run it with `cargo run -p blossom-tokio --example 16_priorities`.

use std::time::Instant;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, Priority};
use futures_util::future::join_all;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = EmulatorConfig::default().faults("latency=20ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .max_concurrent(1) // one call at a time, so that the others queue
        .build()?;

    // Submitted in this order: the first takes the only permit, the rest queue.
    let mut submitted = vec![Priority::Normal];
    submitted.extend([Priority::Low; 3]);
    submitted.extend([Priority::Normal; 3]);
    submitted.extend([Priority::High; 2]);
    submitted.extend([Priority::Critical; 2]);

    let calls = submitted.iter().enumerate().map(|(i, &priority)| {
        let call = client
            .text(format!("{} job {i}", priority.as_str()))
            .priority(priority);
        async move { call.await.map(|_| (Instant::now(), priority)) }
    });
    let mut finished = join_all(calls)
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    finished.sort_by_key(|(at, _)| *at);
    let order: Vec<Priority> = finished.iter().map(|(_, priority)| *priority).collect();

    let names: Vec<&str> = submitted.iter().map(|p| p.as_str()).collect();
    println!("submitted: {}", names.join(", "));
    let names: Vec<&str> = order.iter().map(|p| p.as_str()).collect();
    println!("finished:  {}", names.join(", "));

    // After the call that already held the permit, the queue drains most urgent first.
    // (`Priority` orders Critical < High < Normal < Low. Aging, one class per 2 s by
    // default, does not come into play in these 0.2 s.)
    if !order[1..].is_sorted() {
        return Err("queued calls did not run in priority order".into());
    }
    Ok(())
}
