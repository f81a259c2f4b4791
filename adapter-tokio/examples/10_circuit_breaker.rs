//! A circuit breaker: stop hammering a failing service, fail fast, recover by itself.
//!
//! docs/PATTERNS.md row 10. The SDK feature: a breaker per endpoint kind, configured with
//! `.circuit_breaker(Some(BreakerConfig))` (on by default: 50 % failures over the last 50
//! calls). While open, calls fail at once with `ErrorKind::CircuitOpen` and
//! `retry_after()` says when the next probe goes through; a successful probe closes it.
//!
//! Run it with `cargo run -p blossom-tokio --example 10_circuit_breaker`.

use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig, FaultSpec};
use blossom_tokio::{BreakerConfig, BreakerStatus, Client, ErrorKind, RetryPolicy};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // An outage: every answer is a 503.
    let config = EmulatorConfig::default().faults("503=1".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        // Open after 5 failures in a row; let a probe through after 300 ms.
        .circuit_breaker(Some(BreakerConfig::consecutive(
            5,
            Duration::from_millis(300),
        )))
        .retry(RetryPolicy::never()) // so that each call is one request
        .build()?;

    let mut api_errors = 0;
    let mut fast_failures = 0;
    let mut next_probe = None;
    let mut fast_time = Duration::ZERO;
    for i in 0..25 {
        let started = Instant::now();
        let Err(error) = client.text(format!("during the outage {i}")).await else {
            return Err("a call succeeded during the outage".into());
        };
        match error.kind() {
            ErrorKind::Api => api_errors += 1,
            ErrorKind::CircuitOpen => {
                fast_failures += 1;
                fast_time += started.elapsed();
                next_probe = error.retry_after();
            }
            _ => return Err(error.into()),
        }
    }
    let reached_server = emulator.stats().requests_total;
    println!(
        "breaker opened after {api_errors} failures; \
         the next {fast_failures} calls failed fast in {:.1} ms \
         all together (next probe in {} ms); the server saw {reached_server} requests",
        fast_time.as_secs_f64() * 1e3,
        next_probe.unwrap_or_default().as_millis()
    );
    if api_errors != 5 || fast_failures != 20 || reached_server != 5 {
        return Err("the breaker did not stop the requests".into());
    }

    // The service recovers; after `open_for`, a probe succeeds and the breaker closes.
    emulator.set_faults(FaultSpec::none());
    tokio::time::sleep(Duration::from_millis(350)).await;
    client.text("after the outage").await?;
    let state = client.metrics().breakers.get("text").copied();
    println!("after recovery the first call succeeded; text breaker: {state:?}");
    if state != Some(BreakerStatus::Closed) {
        return Err("the breaker did not close again".into());
    }
    Ok(())
}
