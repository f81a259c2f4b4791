//! A scoped session that always cleans up and reports how long it ran.
//!
//! docs/PATTERNS.md row 5 (Python's `async with session:`). The SDK feature: the client itself.
//! Run the session's work as one future, then `client.shutdown(grace)` on every path
//! (success or error): it stops admitting calls, lets unfinished ones finish within the
//! grace period and returns a `ShutdownReport`; `client.metrics()` tells what the session
//! did. If the session future is dropped instead, its calls are cancelled and their
//! connections freed.
//!
//! Run it with `cargo run -p blossom-tokio --example 05_scoped_session`.

use std::future::Future;
use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, Error, ErrorKind};

/// Runs `work` with `client`, then shuts the client down whatever `work` returned, and prints
/// a summary of the session.
async fn session<T>(
    client: &Client,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let started = Instant::now();
    // A `?` inside `work` ends `work`, never skips the cleanup below.
    let outcome = work.await;
    let report = client.shutdown(Duration::from_secs(5)).await;
    let metrics = client.metrics();
    println!(
        "session ran {:.2} s: {} calls, {} succeeded, {} failed; shutdown took {} ms \
         ({} finished in the grace period, {} cancelled)",
        started.elapsed().as_secs_f64(),
        metrics.submitted,
        metrics.succeeded,
        metrics.failed_total(),
        report.took.as_millis(),
        report.completed,
        report.cancelled,
    );
    outcome
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = EmulatorConfig::default().faults("latency=30ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::from_env()?` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    let words = session(&client, async {
        let mut words = 0;
        for topic in ["tides", "moss", "comets"] {
            let answer = client.text(format!("A short note on {topic}")).await?;
            words += answer.text.split_whitespace().count();
        }
        Ok(words)
    })
    .await?;
    println!("the session's result: {words} words");
    let metrics = client.metrics();
    if words == 0 || metrics.succeeded != 3 || metrics.in_flight != 0 {
        return Err(format!("the session's summary is wrong: {metrics:?}").into());
    }

    // After the session the client is closed: nothing can leak past its scope.
    let late = client.text("one more?").await;
    match late {
        Err(error) if error.kind() == ErrorKind::Shutdown => {
            println!("a call after the session is refused: {error}");
            Ok(())
        }
        other => Err(format!("a call after the session was not refused: {other:?}").into()),
    }
}
