//! Testing code that uses the SDK: the emulator in-process, seeded, with forced faults.
//!
//! docs/PATTERNS.md row 19. The SDK feature: `blossom-emulator`, a real local Pollinations server
//! (add it as a dev-dependency). A test starts it on an ephemeral port, points a client at
//! it, forces the faults it wants (`set_faults("503=1")`) and checks what reached the
//! server (`stats()`). Same seed, same answers. In a project, each check below is a
//! `#[tokio::test]`; here they run as one program:
//!
//! ```ignore
//! #[tokio::test]
//! async fn headline_reports_an_outage() {
//!     let (emulator, client) = setup().await.unwrap();
//!     emulator.set_faults("503=1".parse().unwrap());
//!     let error = headline(&client, "tides").await.unwrap_err();
//!     assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
//! }
//! ```
//!
//! Run it with `cargo run -p blossom-tokio --example 19_testing_with_the_emulator`.

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, Error, RetryPolicy, TextRequest};

/// The code under test: the user's own function, taking the SDK's client.
async fn headline(client: &Client, topic: &str) -> Result<String, Error> {
    let reply = client
        .text(TextRequest::new(format!("One headline about {topic}")).seed(1))
        .await?;
    Ok(reply
        .text
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned())
}

/// A fresh emulator and a client for it; retries off so each call is one request.
async fn setup() -> Result<(Emulator, Client), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(EmulatorConfig::default().seed(7)).await?;
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .retry(RetryPolicy::never())
        .build()?;
    Ok((emulator, client))
}

/// Test: a headline comes back and mentions the topic.
async fn headline_mentions_the_topic() -> Result<(), Box<dyn std::error::Error>> {
    let (emulator, client) = setup().await?;
    let title = headline(&client, "tides").await?;
    if !title.contains("tides") || emulator.stats().route("GET /text") != 1 {
        return Err(format!("unexpected headline {title:?}").into());
    }
    Ok(())
}

/// Test: the same seed gives the same answer, so expectations can be exact.
async fn headlines_are_reproducible() -> Result<(), Box<dyn std::error::Error>> {
    let (_first_emulator, first) = setup().await?;
    let (_second_emulator, second) = setup().await?;
    let (a, b) = (
        headline(&first, "moss").await?,
        headline(&second, "moss").await?,
    );
    if a != b {
        return Err(format!("{a:?} != {b:?}").into());
    }
    Ok(())
}

/// Test: an outage reaches the caller as a typed error, after exactly one request.
async fn headline_reports_an_outage() -> Result<(), Box<dyn std::error::Error>> {
    let (emulator, client) = setup().await?;
    emulator.set_faults("503=1".parse()?);
    let Err(error) = headline(&client, "comets").await else {
        return Err("the outage went unnoticed".into());
    };
    let stats = emulator.stats();
    if error.status().map(|s| s.as_u16()) != Some(503)
        || stats.fault("503") != 1
        || stats.requests_total != 1
    {
        return Err(format!("unexpected: {error}, {stats:?}").into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut failed = 0;
    for (name, outcome) in [
        (
            "headline_mentions_the_topic",
            headline_mentions_the_topic().await,
        ),
        (
            "headlines_are_reproducible",
            headlines_are_reproducible().await,
        ),
        (
            "headline_reports_an_outage",
            headline_reports_an_outage().await,
        ),
    ] {
        match outcome {
            Ok(()) => println!("test {name} ... ok"),
            Err(error) => {
                println!("test {name} ... FAILED: {error}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} test(s) failed").into());
    }
    Ok(())
}
