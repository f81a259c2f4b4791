//! A batch with a concurrency limit, with smol: 30 prompts, 6 at a time, one failure never
//! stopping the rest.
//!
//! docs/PATTERNS.md rows 3 and 9. Run it with `cargo run -p blossom-smol --example smol_03_batch`.

use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_smol::{Client, StreamExt as _, TextRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Every answer takes 50 ms: 30 calls, 6 at a time, take about 5 × 50 ms.
    let config = EmulatorConfig::default().faults("latency=50ms".parse()?);
    let emulator = Emulator::spawn(config)?;
    smol::block_on(async {
        let client = Client::builder()
            .base_url(emulator.base_url())
            .api_key(DEMO_SECRET_KEY)
            .build()?;
        let requests = (0..30).map(|i| TextRequest::new(format!("prompt {i}")));
        let started = Instant::now();
        let mut results = client.batch(requests).concurrency(6).run();
        let mut answers = vec![None; 30];
        while let Some((index, result)) = results.next().await {
            answers[index] = Some(result?.text);
        }
        let took = started.elapsed();
        println!(
            "30 calls, 6 at a time, in {:.2} s (peak in flight: {})",
            took.as_secs_f64(),
            client.metrics().max_in_flight
        );
        let all_answered = answers.iter().enumerate().all(|(i, a)| {
            a.as_ref()
                .is_some_and(|t| t.contains(&format!("prompt {i}")))
        });
        if !all_answered || client.metrics().max_in_flight > 6 || took > Duration::from_secs(5) {
            return Err("the batch did not run 6 at a time to the end".into());
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    emulator.stop();
    Ok(())
}
