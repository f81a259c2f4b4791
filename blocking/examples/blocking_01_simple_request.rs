//! One call without any async runtime: a chat answer and an image.
//!
//! docs/PATTERNS.md row 1. Run it with `cargo run -p blossom-blocking --example blocking_01_simple_request`.

use blossom_blocking::{ChatRequest, Client, ImageRequest};
use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The emulator runs on a thread of its own.
    let emulator = Emulator::spawn(EmulatorConfig::default())?;
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;
    let reply = client.chat(ChatRequest::new("openai").user("Say hello from plain main"))?;
    println!("chat: {}", reply.text());
    let image = client.image(ImageRequest::new("a red apple").size(64, 64).seed(7))?;
    println!("image: {} bytes of {}", image.len(), image.content_type);
    if !reply.text().contains("Say hello from plain main") || image.is_empty() {
        return Err("the answers are not what the emulator sends".into());
    }
    emulator.stop();
    Ok(())
}
