//! A streamed chat answer with smol: chunks are printed as they arrive.
//!
//! docs/PATTERNS.md row 1 (streaming). Run it with
//! `cargo run -p blossom-smol --example smol_02_streaming`.

use std::io::Write as _;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_smol::{ChatRequest, Client, StreamExt as _};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::spawn(EmulatorConfig::default())?;
    smol::block_on(async {
        let client = Client::builder()
            .base_url(emulator.base_url())
            .api_key(DEMO_SECRET_KEY)
            .build()?;
        let request = ChatRequest::new("openai").user("Tell me a short story");
        let mut stream = client.chat_stream(request).await?;
        let (mut chunks, mut text) = (0, String::new());
        while let Some(chunk) = stream.next().await {
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
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    emulator.stop();
    Ok(())
}
