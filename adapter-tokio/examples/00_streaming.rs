//! Streaming a chat answer token by token.
//!
//! docs/PATTERNS.md row 1 (one simple request), in its streamed form: `client.chat_stream(request)`
//! gives a `Stream` of chunks, each delivered as soon as its server-sent event arrives;
//! nothing waits for the whole answer. Dropping the stream closes the connection.
//!
//! Run it with `cargo run -p blossom-tokio --example 00_streaming`.

use std::io::Write as _;
use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{ChatRequest, Client, StreamExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A local emulator that pauses 30 ms between two events, like a model typing.
    let config = EmulatorConfig::default().stream_chunk_delay(Duration::from_millis(30));
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::from_env()?` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    let request = ChatRequest::new("openai")
        .user("Count from one to ten")
        .max_tokens(12);
    let started = Instant::now();
    let mut stream = client.chat_stream(request).await?;
    let mut first_text = None;
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if !chunk.text().is_empty() && first_text.is_none() {
            first_text = Some(started.elapsed());
        }
        chunks += 1;
        print!("{}", chunk.text());
        std::io::stdout().flush()?;
    }
    let total = started.elapsed();
    println!();

    let first_text = first_text.ok_or("the stream carried no text")?;
    println!(
        "{chunks} chunks; the first text arrived after {} ms, the last after {} ms",
        first_text.as_millis(),
        total.as_millis()
    );
    // The point of streaming: text shows up long before the answer is complete.
    if chunks < 3 || first_text * 2 > total {
        return Err("the answer was not streamed as it was produced".into());
    }
    Ok(())
}
