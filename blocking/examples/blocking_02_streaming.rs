//! A streamed chat answer without async: the stream is an iterator of chunks.
//!
//! docs/PATTERNS.md row 1 (streaming). Run it with
//! `cargo run -p blossom-blocking --example blocking_02_streaming`.

use std::io::Write as _;

use blossom_blocking::{ChatRequest, Client};
use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::spawn(EmulatorConfig::default())?;
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;
    let (mut chunks, mut text) = (0, String::new());
    for chunk in client.chat_stream(ChatRequest::new("openai").user("Tell me a short story"))? {
        let chunk = chunk?;
        print!("{}", chunk.text());
        std::io::stdout().flush()?;
        text.push_str(chunk.text());
        chunks += 1;
    }
    println!("\n({chunks} chunks)");
    if chunks < 2 || !text.contains("Tell me a short story") {
        return Err("the answer did not arrive as a stream".into());
    }
    emulator.stop();
    Ok(())
}
