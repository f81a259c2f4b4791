//! Prompts arriving from an async generator.
//!
//! PATTERNS row 6. The SDK feature: `client.batch_stream(stream)` accepts any `Stream` of
//! requests (a generator, a channel, lines of a file being read) and takes from it lazily:
//! a request is sent as soon as it arrives and a slot is free, without waiting for the
//! source to end, and the source is never read further ahead than the concurrency.
//!
//! Run it with `cargo run -p blossom-tokio --example 06_async_prompt_source`.

use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, StreamExt, TextRequest};
use futures_util::stream;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = EmulatorConfig::default().faults("latency=50ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::from_env()?` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    // The async generator: a new prompt every 40 ms, eight in all. A channel works the same
    // way: `stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) })`.
    let prompts = stream::unfold(0, |i| async move {
        if i == 8 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
        Some((TextRequest::new(format!("idea number {i}")), i + 1))
    });

    let started = Instant::now();
    let mut results = client.batch_stream(prompts).concurrency(4).run();
    let mut first = None;
    let mut count = 0;
    while let Some((index, result)) = results.next().await {
        let reply = result?;
        let at = started.elapsed();
        first.get_or_insert(at);
        count += 1;
        println!(
            "  {:>4} ms: answer {index} ({} characters)",
            at.as_millis(),
            reply.text.len()
        );
    }
    let total = started.elapsed();
    let first = first.ok_or("no answers")?;

    println!(
        "{count} prompts from a generator; the first answer came after {:.2} s, \
         while the generator was still producing (it ran for 0.32 s)",
        first.as_secs_f64()
    );
    if count != 8 || first * 2 > total {
        return Err("the prompts were not processed as they arrived".into());
    }
    Ok(())
}
