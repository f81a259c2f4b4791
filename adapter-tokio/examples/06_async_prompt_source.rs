//! Prompts arriving from an async generator.
//!
//! docs/PATTERNS.md row 6. The SDK feature: `client.batch_stream(stream)` accepts any `Stream` of
//! requests (a generator, a channel, lines of a file being read) and takes from it lazily:
//! a request is sent as soon as it arrives and a slot is free, without waiting for the
//! source to end, and the source is never read further ahead than the concurrency.
//!
//! Run it with `cargo run -p blossom-tokio --example 06_async_prompt_source`.

use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, StreamExt, TextRequest};
use futures_util::stream;

/// The generator yields a prompt every `EVERY`, `PROMPTS` in all.
const EVERY: Duration = Duration::from_millis(50);
const PROMPTS: u32 = 8;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = EmulatorConfig::default().faults("latency=20ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::from_env()?` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    // The async generator. A channel works the same way:
    // `stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) })`.
    let prompts = stream::unfold(0, |i| async move {
        if i == PROMPTS {
            return None;
        }
        tokio::time::sleep(EVERY).await;
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
    let first = first.ok_or("no answers")?;

    // The generator needs at least PROMPTS × EVERY (400 ms) to yield its last prompt; the
    // first answer (ideally after EVERY + 20 ms) must come before that.
    let generating = EVERY * PROMPTS;
    println!(
        "{count} prompts from a generator; the first answer came after {:.2} s, \
         while the generator was still producing (it runs for {:.2} s)",
        first.as_secs_f64(),
        generating.as_secs_f64()
    );
    if count != PROMPTS || first >= generating {
        return Err("the prompts were not processed as they arrived".into());
    }
    Ok(())
}
