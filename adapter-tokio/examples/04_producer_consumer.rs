//! Producer/consumer with a fixed number of workers.
//!
//! docs/PATTERNS.md row 4. The SDK feature: `client.worker_pool(n)` starts `n` workers fed by a
//! bounded queue. The `Submitter` waits while the queue is full (back-pressure on the
//! producer); `PoolResults` yields `(ticket, result)` and ends once every submitter is dropped
//! and the queue is drained.
//!
//! Run it with `cargo run -p blossom-tokio --example 04_producer_consumer`.

use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, StreamExt, TextRequest};

const WORKERS: usize = 3;
const JOBS: usize = 12;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Every answer takes 50 ms.
    let config = EmulatorConfig::default().faults("latency=50ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::from_env()?` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    let (submitter, mut results) = client.worker_pool::<TextRequest>(WORKERS);

    // The producer: a task of its own that submits jobs as fast as the pool lets it.
    let producer = tokio::spawn(async move {
        let started = Instant::now();
        for i in 0..JOBS {
            submitter
                .submit(TextRequest::new(format!("job number {i}")))
                .await?;
        }
        // Dropping the submitter closes the queue: the results end once it is drained.
        drop(submitter);
        Ok::<Duration, blossom_tokio::Error>(started.elapsed())
    });

    // The consumer: reads results as the workers finish them.
    let mut done = 0;
    while let Some((ticket, result)) = results.next().await {
        let reply = result?;
        done += 1;
        println!("  job {ticket:>2}: {} characters", reply.text.len());
    }
    let producer_blocked = producer.await??;

    let peak = emulator.stats().max_in_flight;
    println!(
        "{done} jobs by {WORKERS} workers; at most {peak} requests in flight; \
         the producer was held back {:.2} s by the bounded queue",
        producer_blocked.as_secs_f64()
    );
    // Exactly WORKERS requests ran side by side, never more.
    if done != JOBS || peak != WORKERS as u64 {
        return Err(format!("{done} jobs done, peak concurrency {peak}").into());
    }
    // The queue holds as many jobs as there are workers: with 12 jobs, 3 workers and a queue
    // of 3, the producer cannot submit the 7th before a job has completed (50 ms at least).
    // That wait is the back-pressure.
    if producer_blocked < Duration::from_millis(50) {
        return Err("the producer was never held back".into());
    }
    Ok(())
}
