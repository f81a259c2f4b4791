//! Graceful shutdown on Ctrl-C (SIGINT).
//!
//! docs/PATTERNS.md row 18. The SDK feature: `client.run_until(work, stop, grace)` drives the
//! program's work until `stop` resolves (Ctrl-C), then shuts the client down: no new calls
//! are admitted (they fail with `ErrorKind::Shutdown`), calls in flight get `grace` to
//! finish while `work` keeps running, and the rest are cancelled. It returns `work`'s output
//! if it finished and a `ShutdownReport`. (`client.shutdown(grace)` alone does the second
//! half.) For SIGTERM on Unix, pass a future that waits for either signal.
//!
//! Run it with `cargo run -p blossom-tokio --example 18_graceful_shutdown`, and press Ctrl-C
//! or wait: the demo stops itself after 300 ms.

use std::time::Duration;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, ErrorKind, StreamExt, TextRequest};

/// The program's work: a long batch. Returns (succeeded, refused by the shutdown).
async fn work(client: Client) -> (usize, usize) {
    let requests = (0..40).map(|i| TextRequest::new(format!("page {i}")));
    let mut results = client.batch(requests).concurrency(4).run();
    let (mut succeeded, mut refused) = (0, 0);
    while let Some((_index, result)) = results.next().await {
        match result {
            Ok(_) => succeeded += 1,
            Err(error) if error.kind() == ErrorKind::Shutdown => refused += 1,
            Err(error) => eprintln!("  failed: {error}"),
        }
    }
    (succeeded, refused)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Each answer takes 200 ms: the whole batch would take 2 s.
    let config = EmulatorConfig::default().faults("latency=200ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    // A real program passes `tokio::signal::ctrl_c()` alone. So that this demo ends by
    // itself (and can run in CI), it stops on Ctrl-C or after 300 ms, whichever is first.
    let stop = async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => println!("Ctrl-C: shutting down"),
            () = tokio::time::sleep(Duration::from_millis(300)) => println!("stop after 300 ms"),
        }
    };
    let (done, report) = client
        .run_until(work(client.clone()), stop, Duration::from_secs(2))
        .await;

    println!(
        "shutdown took {:.2} s: {} calls in flight finished within the grace period, \
         {} were cancelled",
        report.took.as_secs_f64(),
        report.completed,
        report.cancelled
    );
    let Some((succeeded, refused)) = done else {
        return Err("the work did not finish within the grace period".into());
    };
    println!(
        "the batch ended: {succeeded} pages done, {refused} not started (refused by the shutdown)"
    );
    if report.completed == 0 || report.cancelled != 0 || refused == 0 || succeeded + refused != 40 {
        return Err("the shutdown was not graceful".into());
    }
    Ok(())
}
