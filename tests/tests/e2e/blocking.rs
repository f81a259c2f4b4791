//! The blocking client: plain threads, no runtime; also from inside a tokio runtime's
//! blocking section.

use std::sync::Arc;

use blossom_blocking::*;
use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};

fn client(emulator: &Emulator) -> Client {
    Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()
        .unwrap()
}

#[test]
fn every_method_from_plain_threads() {
    let emulator = Emulator::spawn(EmulatorConfig::default()).unwrap();
    let client = Arc::new(client(&emulator));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let client = Arc::clone(&client);
            std::thread::spawn(move || {
                let text = client.text(format!("prompt {i}")).unwrap();
                assert!(text.text.contains(&format!("prompt {i}")));
                let chat = client
                    .chat(ChatRequest::new("openai").user("Hi").seed(i))
                    .unwrap();
                let mut streamed = String::new();
                for chunk in client
                    .chat_stream(ChatRequest::new("openai").user("Hi").seed(i))
                    .unwrap()
                {
                    streamed.push_str(chunk.unwrap().text());
                }
                assert_eq!(chat.text(), streamed);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let image = client.image(ImageRequest::new("x").size(24, 16)).unwrap();
    assert_eq!(blossom_tests::jpeg_size(&image.bytes), Some((24, 16)));
    let audio = client
        .speech(SpeechRequest::new("hi").format(AudioFormat::Wav))
        .unwrap();
    assert!(blossom_tests::wav_format(&audio.bytes).is_some());
    assert!(client.models().unwrap().find("openai").is_some());
    assert!(client.image_models().unwrap().find("flux").is_some());
    assert!(!client.audio_models().unwrap().is_empty());
    let error = client.chat(ChatRequest::new("nope").user("x")).unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    emulator.stop();
}

#[test]
fn works_inside_a_tokio_blocking_section() {
    let emulator = Emulator::spawn(EmulatorConfig::default()).unwrap();
    let client = client(&emulator);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let text = runtime.block_on(async move {
        tokio::task::spawn_blocking(move || {
            // Twice: the Python SDK broke on every second sync call.
            client.text("first").unwrap();
            client.text("second").unwrap().text
        })
        .await
        .unwrap()
    });
    assert!(text.contains("second"));
    emulator.stop();
}
