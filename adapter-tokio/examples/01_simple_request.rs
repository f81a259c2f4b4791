//! One simple request: text, chat and an image.
//!
//! docs/PATTERNS.md row 1. The SDK feature: `client.text(prompt)`, `client.chat(request)` and
//! `client.image(request)`, each one `.await` away, with retries, limits and timeouts
//! already applied by the client.
//!
//! Run it with `cargo run -p blossom-tokio --example 01_simple_request`.

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{ChatRequest, Client, ImageRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(EmulatorConfig::default()).await?;
    // A real program uses `Client::from_env()?` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    let answer = client.text("Write a haiku about Rust").await?;
    println!("text:  {}", answer.text.trim());

    let reply = client
        .chat(ChatRequest::new("openai").system("Be brief").user("Hi"))
        .await?;
    println!("chat:  {}", reply.text().trim());

    let image = client
        .image(ImageRequest::new("a red apple").size(64, 64).seed(7))
        .await?;
    println!(
        "image: {} bytes of {} (request id {})",
        image.len(),
        image.extension(),
        image.meta.request_id.as_deref().unwrap_or("-")
    );

    if answer.text.is_empty() || reply.text().is_empty() || image.is_empty() {
        return Err("an answer came back empty".into());
    }
    Ok(())
}
