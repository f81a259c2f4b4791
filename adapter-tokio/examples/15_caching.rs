//! Caching results with a time to live, and single-flight for identical calls.
//!
//! docs/PATTERNS.md row 15. The SDK feature: the client's response cache (`.cache(CacheConfig)`:
//! an LRU bounded in bytes, with a TTL) answers repeated deterministic requests (a fixed
//! seed, or temperature 0) without the network, and identical calls in flight at the same
//! time share one request (coalescing). Keys hash the whole request, never the API key.
//! `.no_cache()` skips both for one call.
//!
//! Run it with `cargo run -p blossom-tokio --example 15_caching`.

use std::future::IntoFuture as _;
use std::time::Duration;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig, FaultSpec};
use blossom_tokio::{CacheConfig, Client, TextRequest};
use futures_util::future::join_all;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(EmulatorConfig::default()).await?;
    let mut cache = CacheConfig::default(); // 64 MiB, answers fresh for an hour
    cache.ttl = Duration::from_millis(300);
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .cache(cache)
        .build()?;
    let requests_so_far = || emulator.stats().route("GET /text");

    // 1. A hundred identical calls, one after the other: one request.
    let question = TextRequest::new("What is a monad?").seed(42);
    for _ in 0..100 {
        client.text(question.clone()).await?;
    }
    let sequential = requests_so_far();
    println!(
        "100 identical calls in a row → {sequential} request ({} cache hits)",
        client.metrics().cache_hits
    );

    // 2. Fifty identical calls at the same moment, while the answer is still being made:
    //    one request, shared.
    emulator.set_faults("latency=100ms".parse()?);
    let other = TextRequest::new("What is a functor?").seed(42);
    let answers = join_all((0..50).map(|_| client.text(other.clone()).into_future())).await;
    let concurrent = requests_so_far() - sequential;
    let shared = answers
        .iter()
        .filter(|a| a.as_ref().is_ok_and(|r| r.meta.coalesced))
        .count();
    println!("50 identical calls at once → {concurrent} request ({shared} shared it)");
    emulator.set_faults(FaultSpec::none());

    // 3. After the TTL the answer is fetched again.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let before = requests_so_far();
    client.text(question.clone()).await?;
    let after_ttl = requests_so_far() - before;
    println!("the same call after the 300 ms TTL → {after_ttl} new request");

    // 4. Without a seed each answer may differ, so nothing is cached.
    let before = requests_so_far();
    for _ in 0..3 {
        client.text("Tell me a story").await?;
    }
    let unseeded = requests_so_far() - before;
    println!("3 identical calls without a seed → {unseeded} requests (not cacheable)");

    if (sequential, concurrent, after_ttl, unseeded) != (1, 1, 1, 3) || shared != 49 {
        return Err("the cache did not behave as described".into());
    }
    Ok(())
}
