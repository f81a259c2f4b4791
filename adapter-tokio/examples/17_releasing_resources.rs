//! Releasing resources on every path: success, error, timeout, cancellation, a dropped stream.
//!
//! docs/PATTERNS.md row 17. The SDK feature: there is nothing to close by hand. Every call frees
//! its permit and connection when it ends, however it ends: dropping a call's future or a
//! stream cancels it (the connection is closed, the permit returns to the queue), and
//! `client.shutdown(grace)` ends whatever is left. This program runs with a single permit,
//! so one leaked permit would hang the next call; `metrics().in_flight` is checked after
//! each path.
//!
//! Run it with `cargo run -p blossom-tokio --example 17_releasing_resources`.

use std::future::IntoFuture as _;
use std::time::Duration;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig, FaultSpec};
use blossom_tokio::{ChatRequest, Client, RetryPolicy, StreamExt};

/// Fails unless no call holds a permit.
fn check_released(client: &Client, path: &str) -> Result<(), String> {
    let in_flight = client.metrics().in_flight;
    println!("  {path:<28} → calls holding a permit: {in_flight}");
    if in_flight == 0 {
        Ok(())
    } else {
        Err(format!("{path}: {in_flight} permits still held"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = EmulatorConfig::default().stream_chunk_delay(Duration::from_millis(20));
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .max_concurrent(1)
        .retry(RetryPolicy::never())
        .build()?;

    client.text("fine").await?;
    check_released(&client, "success")?;

    emulator.set_faults("503=1".parse()?);
    let _ = client.text("failing").await;
    check_released(&client, "error (503)")?;

    emulator.set_faults("latency=2s".parse()?);
    let _ = client.text("slow").timeout(Duration::from_millis(50)).await;
    check_released(&client, "timeout")?;

    // The caller gives up: the future is dropped mid-request.
    let abandoned = tokio::time::timeout(
        Duration::from_millis(50),
        client.text("abandoned").into_future(),
    )
    .await;
    if abandoned.is_ok() {
        return Err("the slow call finished early".into());
    }
    check_released(&client, "dropped future")?;
    emulator.set_faults(FaultSpec::none());

    // A stream read halfway, then dropped: the connection is closed and the server notices.
    let mut stream = client
        .chat_stream(ChatRequest::new("openai").user("Tell me a long story"))
        .await?;
    for _ in 0..3 {
        stream.next().await.transpose()?;
    }
    drop(stream);
    check_released(&client, "stream dropped halfway")?;
    let mut noticed = 0;
    for _ in 0..100 {
        noticed = emulator.stats().aborted_by_client;
        if noticed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("  the server saw {noticed} stream abandoned by the client");

    // The single permit is still there: this call does not hang.
    client
        .text("still works")
        .timeout(Duration::from_secs(2))
        .await?;
    let metrics = client.metrics();
    let report = client.shutdown(Duration::from_secs(1)).await;
    println!(
        "{} calls ({} cancelled, {} timed out); shutdown found {} unfinished",
        metrics.submitted,
        metrics.cancelled,
        metrics.timeouts,
        report.completed + report.cancelled
    );
    if noticed == 0 || metrics.cancelled == 0 || report.cancelled != 0 {
        return Err("a resource was not released".into());
    }
    Ok(())
}
