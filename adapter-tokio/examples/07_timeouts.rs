//! Timeouts per request and across a batch.
//!
//! docs/PATTERNS.md row 7. The SDK feature: per-call `.timeout(d)` and `.deadline(instant)`, which
//! bound the whole call (queueing, pacing, every attempt and every backoff), and the same
//! options for every call of a batch with `.options(CallOptions::default().deadline(..))`.
//! A retry that would end past the deadline is not attempted.
//!
//! Run it with `cargo run -p blossom-tokio --example 07_timeouts`.

use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{CallOptions, Client, ErrorKind, StreamExt, TextRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(EmulatorConfig::default()).await?;
    // A real program uses `Client::from_env()?` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    // 1. One call: the server takes 300 ms, the call allows 100 ms.
    emulator.set_faults("latency=300ms".parse()?);
    let started = Instant::now();
    let error = client
        .text("a slow answer")
        .timeout(Duration::from_millis(100))
        .await
        .err()
        .ok_or("the slow call did not time out")?;
    let took = started.elapsed();
    println!(
        "one call with a 100 ms timeout: {} after {:.2} s",
        error.kind().as_str(),
        took.as_secs_f64()
    );
    // Never before the 100 ms; the upper bound leaves five times that for a busy machine.
    let expected = Duration::from_millis(100)..=Duration::from_millis(500);
    if error.kind() != ErrorKind::Timeout || !expected.contains(&took) {
        return Err(format!("expected a timeout at 0.1 s, got {error} after {took:?}").into());
    }

    // 2. A whole batch shares one deadline: 20 calls of 50 ms, two at a time, need 500 ms at
    //    least; the batch has 400 ms.
    emulator.set_faults("latency=50ms".parse()?);
    let started = Instant::now();
    let deadline = started + Duration::from_millis(400);
    let requests = (0..20).map(|i| TextRequest::new(format!("item {i}")));
    let mut results = client
        .batch(requests)
        .concurrency(2)
        .options(CallOptions::default().deadline(deadline))
        .run();
    let (mut finished, mut timed_out) = (0, 0);
    while let Some((_index, result)) = results.next().await {
        match result {
            Ok(_) => finished += 1,
            Err(error) if error.kind() == ErrorKind::Timeout => timed_out += 1,
            Err(error) => return Err(error.into()),
        }
    }
    let took = started.elapsed();
    println!(
        "a batch with a 400 ms deadline: {finished} finished, {timed_out} timed out, \
         all done after {:.2} s",
        took.as_secs_f64()
    );
    if finished == 0 || timed_out == 0 || took > Duration::from_secs(2) {
        return Err("the batch deadline was not applied".into());
    }

    // 3. The timeout covers retries too: the server asks to come back in 1 s, which is past
    //    the call's 300 ms, so the client returns the error now instead of waiting.
    emulator.set_faults("503=1,retry_after=1s".parse()?);
    let started = Instant::now();
    let error = client
        .text("during an outage")
        .timeout(Duration::from_millis(300))
        .await
        .err()
        .ok_or("the call succeeded during an outage")?;
    let took = started.elapsed();
    println!(
        "a 503 asking for a 1 s wait, 300 ms allowed: gave up after {} attempt in {:.2} s ({})",
        error.attempts(),
        took.as_secs_f64(),
        error.status().map_or(0, |s| s.as_u16())
    );
    // The server's own 503 after one attempt, well before the 300 ms: waiting for the retry,
    // or for the deadline, would take 300 ms at least.
    let status = error.status().map(|s| s.as_u16());
    if status != Some(503) || error.attempts() != 1 || took >= Duration::from_millis(300) {
        return Err(format!("expected the 503 at once, got {error} after {took:?}").into());
    }
    Ok(())
}
