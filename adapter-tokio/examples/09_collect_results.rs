//! Collecting the successes and failures of many tasks.
//!
//! docs/PATTERNS.md row 9 (Python's `gather(..., return_exceptions=True)`). The SDK feature: a
//! batch yields `(index, Result)` for every input, in input order with `.ordered(true)`;
//! one failure never stops the others, and each error says what happened
//! (`kind()`, `status()`, `code()`, `attempts()`).
//!
//! Run it with `cargo run -p blossom-tokio --example 09_collect_results`.

use std::collections::BTreeMap;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, ErrorKind, RetryPolicy, StreamExt, TextRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A quarter of the answers are 500s.
    let config = EmulatorConfig::default()
        .seed(9)
        .faults("500=0.25".parse()?);
    let emulator = Emulator::start(config).await?;
    // Retries and the breaker are off so that the failures show; normally they hide most.
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .retry(RetryPolicy::never())
        .circuit_breaker(None)
        .build()?;

    let mut prompts: Vec<String> = (0..20).map(|i| format!("task {i}")).collect();
    prompts[7] = "   ".into(); // an invalid prompt: rejected before it is sent
    let requests = prompts.into_iter().map(TextRequest::new);
    let results: Vec<_> = client
        .batch(requests)
        .concurrency(5)
        .ordered(true)
        .run()
        .collect()
        .await;

    let mut answers = Vec::new();
    let mut failures = BTreeMap::new();
    for (index, result) in &results {
        match result {
            Ok(reply) => answers.push((*index, reply.text.len())),
            Err(error) => {
                println!(
                    "  task {index:>2} failed: {} ({error})",
                    error.kind().as_str()
                );
                *failures.entry(error.kind().as_str()).or_insert(0) += 1;
            }
        }
    }
    println!(
        "{} tasks: {} succeeded, {} failed {failures:?}; nothing stopped early",
        results.len(),
        answers.len(),
        results.len() - answers.len(),
    );
    let invalid_failed = results.iter().any(|(i, r)| {
        *i == 7
            && r.as_ref()
                .is_err_and(|e| e.kind() == ErrorKind::InvalidInput)
    });
    let in_order = results
        .iter()
        .enumerate()
        .all(|(position, (index, _))| position == *index);
    if results.len() != 20
        || answers.is_empty()
        || !failures.contains_key("api")
        || !invalid_failed
        || !in_order
    {
        return Err(
            "expected 20 results in order, with successes, API failures and the invalid task"
                .into(),
        );
    }
    Ok(())
}
