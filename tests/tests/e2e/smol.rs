//! The smol client: the same calls under `smol::block_on`, with no tokio runtime.

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_smol::*;

#[test]
fn chat_stream_image_under_smol() {
    let emulator = Emulator::spawn(EmulatorConfig::default()).unwrap();
    smol::block_on(async {
        let client = Client::builder()
            .base_url(emulator.base_url())
            .api_key(DEMO_SECRET_KEY)
            .build()
            .unwrap();
        let reply = client
            .chat(ChatRequest::new("openai").user("Hi").seed(1))
            .await
            .unwrap();
        let streamed = client
            .chat_stream(ChatRequest::new("openai").user("Hi").seed(1))
            .await
            .unwrap()
            .collect_message()
            .await
            .unwrap();
        assert_eq!(reply.text(), streamed.text());
        let image = client
            .image(ImageRequest::new("x").size(16, 16))
            .await
            .unwrap();
        assert_eq!(blossom_tests::jpeg_size(&image.bytes), Some((16, 16)));
        assert!(!client.models().await.unwrap().is_empty());
    });
    emulator.stop();
}

#[test]
fn concurrent_calls_inside_a_smol_executor() {
    let emulator = Emulator::spawn(EmulatorConfig::default()).unwrap();
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()
        .unwrap();
    let executor = smol::Executor::new();
    let texts: Vec<String> = smol::block_on(executor.run(async {
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let client = client.clone();
                executor.spawn(async move { client.text(format!("task {i}")).await })
            })
            .collect();
        let mut texts = Vec::new();
        for task in tasks {
            texts.push(task.await.unwrap().text);
        }
        texts
    }));
    for (i, text) in texts.iter().enumerate() {
        assert!(text.contains(&format!("task {i}")), "{text}");
    }
    assert_eq!(client.metrics().succeeded, 16);
    emulator.stop();
}
