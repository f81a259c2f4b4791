//! One pooled client shared by many tasks.
//!
//! docs/PATTERNS.md row 14. The SDK feature: `Client` is `Clone + Send + Sync` and cloning it is
//! one reference count: every clone shares the same connection pool and the same engine,
//! so limits, breakers, the cache and metrics are client-wide, not per task. Clone it into
//! each task; never build one per task.
//!
//! Run it with `cargo run -p blossom-tokio --example 14_shared_client`.

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, Error};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = EmulatorConfig::default().faults("latency=20ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .max_connections(4) // one pool of 4 connections…
        .max_concurrent(4) // …and 4 permits, for all the clones
        .build()?;

    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..10 {
        let client = client.clone();
        tasks.spawn(async move {
            for call in 0..5 {
                client.text(format!("task {task}, call {call}")).await?;
            }
            Ok::<(), Error>(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }

    let metrics = client.metrics();
    let stats = emulator.stats();
    println!(
        "10 tasks made {} calls through clones of one client: {} succeeded, \
         at most {} in flight (the client-wide limit is 4), {} connections opened",
        metrics.submitted, metrics.succeeded, metrics.max_in_flight, stats.connections_opened
    );
    if metrics.succeeded != 50 || metrics.max_in_flight > 4 || stats.connections_opened > 4 {
        return Err("the clones did not share one client".into());
    }
    Ok(())
}
