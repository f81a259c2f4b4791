//! Connection pooling: many calls, a few connections, reused.
//!
//! docs/PATTERNS.md row 11. The SDK feature: each client owns one connection pool (keep-alive,
//! HTTP/2 where the server offers it over TLS); `.max_connections(n)` is how many idle
//! connections it keeps for reuse and `.max_concurrent(n)` how many calls run at once (and so
//! how many connections can be busy). Build one client and share it; a client per call pays
//! a new connection every time.
//!
//! hyper, tokio's transport, may open a spare connection when a call starts in the moment
//! between another call's end and its connection's return to the pool (it races a new
//! connection against the idle one, and keeps the loser idle): so a pool of 4 serves 80 calls
//! over 4 connections, sometimes 5 or 6, never one per call.
//!
//! Run it with `cargo run -p blossom-tokio --example 11_connection_pooling`.

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, StreamExt, TextRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = EmulatorConfig::default().faults("latency=20ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .max_connections(4)
        .max_concurrent(4)
        .build()?;

    for round in 1..=2 {
        let requests = (0..40).map(move |i| TextRequest::new(format!("round {round}, call {i}")));
        let mut results = client.batch(requests).concurrency(16).run();
        while let Some((_index, result)) = results.next().await {
            result?;
        }
        let stats = emulator.stats();
        println!(
            "after round {round}: {} requests over {} connections (pool of 4)",
            stats.requests_total, stats.connections_opened
        );
    }
    let pooled = emulator.stats().connections_opened;

    // The anti-pattern, for comparison: a new client (and pool) for every call.
    emulator.reset_stats();
    for i in 0..5 {
        let throwaway = Client::builder()
            .base_url(emulator.base_url())
            .api_key(DEMO_SECRET_KEY)
            .build()?;
        throwaway.text(format!("alone {i}")).await?;
    }
    let unpooled = emulator.stats().connections_opened;
    println!("a client per call: 5 requests needed {unpooled} connections");

    // Reuse, not an exact count (see the note above on spare connections).
    if pooled > 8 || unpooled != 5 {
        return Err(format!("pooled: {pooled} connections, unpooled: {unpooled}").into());
    }
    Ok(())
}
