//! One call with smol: a chat answer and an image, against an in-process emulator.
//!
//! docs/PATTERNS.md row 1. Run it with `cargo run -p blossom-smol --example smol_01_simple_request`.

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_smol::{ChatRequest, Client, ImageRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The emulator runs on a thread of its own; smol needs no runtime object.
    let emulator = Emulator::spawn(EmulatorConfig::default())?;
    smol::block_on(async {
        // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
        let client = Client::builder()
            .base_url(emulator.base_url())
            .api_key(DEMO_SECRET_KEY)
            .build()?;
        let reply = client
            .chat(ChatRequest::new("openai").user("Say hello to smol"))
            .await?;
        println!("chat: {}", reply.text());
        let image = client
            .image(ImageRequest::new("a red apple").size(64, 64).seed(7))
            .await?;
        println!("image: {} bytes of {}", image.len(), image.content_type);
        if !reply.text().contains("Say hello to smol") || image.is_empty() {
            return Err("the answers are not what the emulator sends".into());
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    emulator.stop();
    Ok(())
}
