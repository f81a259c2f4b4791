//! The tokio client, method by method, against the emulator.

use std::time::Duration;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tests::{jpeg_size, wav_format};
use blossom_tokio::*;
use serde_json::json;

fn client(emulator: &Emulator) -> Client {
    Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()
        .unwrap()
}

async fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.unwrap()
}

#[tokio::test]
async fn text_answers_and_keeps_metadata() {
    let emulator = start().await;
    let reply = client(&emulator)
        .text("Write a haiku about Rust")
        .await
        .unwrap();
    assert!(
        reply.text.contains("Write a haiku about Rust"),
        "{}",
        reply.text
    );
    assert!(reply.meta.request_id.is_some());
    assert_eq!(reply.meta.attempts, 1);
    assert_eq!(reply.meta.status, 200);
}

#[tokio::test]
async fn awkward_prompts_reach_the_server_intact() {
    let emulator = start().await;
    let client = client(&emulator);
    for prompt in [
        "a/b?c#d%e",
        "..",
        "line one\nline two",
        "emoji 🌸✨",
        "x=1&y=2+3",
    ] {
        let reply = client.text(prompt).await.unwrap();
        assert!(reply.text.contains(prompt), "{prompt:?} → {}", reply.text);
    }
}

#[tokio::test]
async fn chat_is_deterministic_and_cached_by_the_server() {
    let emulator = start().await;
    let client = client(&emulator);
    let request = ChatRequest::new("openai")
        .system("Be brief")
        .user("Hi")
        .seed(7);
    let first = client.chat(request.clone()).await.unwrap();
    let second = client.chat(request.clone()).await.unwrap();
    assert!(!first.text().is_empty());
    assert_eq!(first.text(), second.text());
    assert_eq!(first.meta.server_cache, Some(ServerCache::Miss));
    // A fixed seed makes the answer deterministic: the client's own cache answers.
    assert!(second.meta.cached && !first.meta.cached);
    assert_eq!(emulator.stats().route("POST /v1/chat/completions"), 1);
    // Past the client cache, the server's cache answers the identical request.
    let third = client.chat(request).no_cache().await.unwrap();
    assert_eq!(third.meta.server_cache, Some(ServerCache::Hit));
    assert_eq!(third.text(), first.text());
    let usage = first.usage.as_ref().unwrap();
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    assert_eq!(first.finish_reason(), Some("stop"));
    assert!(first.created_at().is_some());
}

#[tokio::test]
async fn tools_round_trip() {
    let emulator = start().await;
    let client = client(&emulator);
    let weather = Tool::function(
        "get_weather",
        "Current weather for a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    );
    let request = ChatRequest::new("openai")
        .user("Use get_weather for Paris")
        .tool(weather.clone())
        .tool_choice(ToolChoice::Required);
    let answer = client.chat(request.clone()).await.unwrap();
    assert_eq!(answer.finish_reason(), Some("tool_calls"));
    let call = answer.tool_calls()[0].clone();
    assert_eq!(call.function.name, "get_weather");
    assert!(call.arguments_json().unwrap()["city"].is_string());

    let follow_up = request
        .tool_choice(ToolChoice::Auto)
        .message(Message::assistant_tool_calls(vec![call.clone()]))
        .message(Message::tool(call.id.clone(), r#"{"temp_c":21}"#));
    let reply = client.chat(follow_up).await.unwrap();
    assert!(reply.tool_calls().is_empty());
    assert!(!reply.text().is_empty());

    let streamed = client
        .chat_stream(
            ChatRequest::new("openai")
                .user("call get_weather please")
                .tool(weather)
                .tool_choice(ToolChoice::Function("get_weather".into())),
        )
        .await
        .unwrap()
        .collect_message()
        .await
        .unwrap();
    assert_eq!(streamed.finish_reason(), Some("tool_calls"));
    assert!(
        streamed.tool_calls()[0]
            .arguments_json()
            .unwrap()
            .is_object()
    );
}

#[tokio::test]
async fn json_mode_and_schema() {
    let emulator = start().await;
    let client = client(&emulator);
    let any = client
        .chat(ChatRequest::new("openai").user("Describe a cat").json())
        .await
        .unwrap();
    assert!(any.json::<serde_json::Value>().unwrap().is_object());

    let schema = json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "legs": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["name", "legs", "tags"]
    });
    let typed = client
        .chat(
            ChatRequest::new("openai")
                .user("A cat as JSON")
                .json_schema("animal", schema),
        )
        .await
        .unwrap();
    let value: serde_json::Value = typed.json().unwrap();
    assert!(value["name"].is_string());
    assert!(value["legs"].is_i64());
    assert!(value["tags"].is_array());
}

#[tokio::test]
async fn vision_parts_are_accepted() {
    let emulator = start().await;
    let request = ChatRequest::new("openai").user(vec![
        ContentPart::text("What is in these images?"),
        ContentPart::image_url("https://example.invalid/cat.png"),
        ContentPart::image_bytes("image/png", b"\x89PNG\r\n\x1a\n"),
    ]);
    let reply = client(&emulator).chat(request).await.unwrap();
    assert!(!reply.text().is_empty());
}

#[tokio::test]
async fn streams_deliver_chunks_and_usage() {
    let emulator = start().await;
    let client = client(&emulator);
    let mut stream = client
        .chat_stream(ChatRequest::new("openai").user("Tell me a story").seed(3))
        .await
        .unwrap();
    assert!(stream.meta().request_id.is_some());
    let mut text = String::new();
    let mut chunks = 0;
    let mut usage = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        chunks += 1;
        text.push_str(chunk.text());
        if chunk.usage.is_some() {
            usage = chunk.usage;
        }
    }
    assert!(chunks > 3, "{chunks} chunks");
    assert!(usage.is_some());
    let whole = client
        .chat(ChatRequest::new("openai").user("Tell me a story").seed(3))
        .await
        .unwrap();
    assert_eq!(text, whole.text());
}

#[tokio::test]
async fn silent_streams_time_out() {
    let emulator =
        Emulator::start(EmulatorConfig::default().stream_chunk_delay(Duration::from_millis(400)))
            .await
            .unwrap();
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .stream_idle_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let mut stream = client
        .chat_stream(ChatRequest::new("openai").user("slow"))
        .await
        .unwrap();
    let mut error = None;
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            error = Some(e);
            break;
        }
    }
    assert_eq!(error.unwrap().kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn images_are_real_and_sized() {
    let emulator = start().await;
    let client = client(&emulator);
    let image = client
        .image(ImageRequest::new("a red apple").size(96, 64).seed(7))
        .await
        .unwrap();
    assert_eq!(image.format, Some(MediaFormat::Jpeg));
    assert_eq!(jpeg_size(&image.bytes), Some((96, 64)));
    let again = client
        .image(ImageRequest::new("a red apple").size(96, 64).seed(7))
        .await
        .unwrap();
    assert_eq!(image.bytes, again.bytes);

    let png = client
        .image(ImageRequest::new("a logo").size(32, 40).transparent(true))
        .await
        .unwrap();
    assert_eq!(png.format, Some(MediaFormat::Png));
    let decoder = png::Decoder::new(std::io::Cursor::new(png.bytes.to_vec()));
    let reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), (32, 40));

    let dir = std::env::temp_dir().join(format!("blossom-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("apple.jpg");
    image.save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), image.bytes);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn speech_in_both_endpoints_and_formats() {
    let emulator = start().await;
    let client = client(&emulator);
    let wav = client
        .speech(
            SpeechRequest::new("Hello")
                .voice("nova")
                .format(AudioFormat::Wav),
        )
        .await
        .unwrap();
    let (rate, channels, bits) = wav_format(&wav.bytes).unwrap();
    assert!(rate >= 8000 && channels >= 1 && bits == 16);
    let mp3 = client
        .speech(SpeechRequest::new("Hello").endpoint(SpeechEndpoint::Audio))
        .await
        .unwrap();
    assert_eq!(mp3.format, Some(MediaFormat::Mp3));
    assert_eq!(mp3.extension(), "mp3");
}

#[tokio::test]
async fn every_model_list() {
    let emulator = start().await;
    let client = client(&emulator);
    let text = client.models().await.unwrap();
    assert!(text.find("openai").is_some());
    let image = client.image_models().await.unwrap();
    assert!(image.find("flux").is_some());
    let audio = client.audio_models().await.unwrap();
    assert!(audio.models.iter().any(|m| !m.voices.is_empty()));
    let openai = client.model_list(ModelKind::OpenAi).await.unwrap();
    assert!(openai.find("openai").is_some());

    let legacy = Emulator::start(EmulatorConfig::default().legacy_image_models(true))
        .await
        .unwrap();
    let names = self::client(&legacy).image_models().await.unwrap();
    assert!(names.find("flux").is_some());
    assert!(names.models.iter().all(|m| m.description.is_none()));
}

#[tokio::test]
async fn api_errors_are_typed() {
    let emulator = start().await;
    let error = client(&emulator)
        .chat(ChatRequest::new("no-such-model").user("hi"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(error.code(), Some("BAD_REQUEST"));
    assert!(error.message().contains("no-such-model"));
    assert!(error.request_id().is_some());
    assert!(!error.is_retryable());
    assert_eq!(error.attempts(), 1);

    let anonymous = Client::builder()
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let error = anonymous.text("hi").await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.code(), Some("UNAUTHORIZED"));
    // Model lists are public.
    assert!(!anonymous.models().await.unwrap().is_empty());
}

#[tokio::test]
async fn invalid_input_never_reaches_the_server() {
    let emulator = start().await;
    let client = client(&emulator);
    let errors = [
        client.text("").await.unwrap_err(),
        client.chat(ChatRequest::new("openai")).await.unwrap_err(),
        client
            .chat(ChatRequest::new("openai").user("x").temperature(9.0))
            .await
            .unwrap_err(),
        client
            .image(ImageRequest::new("x").size(0, 0))
            .await
            .unwrap_err(),
        client
            .chat_stream(ChatRequest::new("openai"))
            .await
            .unwrap_err(),
    ];
    for error in errors {
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    }
    assert_eq!(emulator.stats().requests_total, 0);
}

#[tokio::test]
async fn the_key_never_leaks() {
    let emulator = start().await;
    let client = client(&emulator);
    let secret = &DEMO_SECRET_KEY[3..];
    let error = client
        .chat(ChatRequest::new("nope").user("x"))
        .await
        .unwrap_err();
    let texts = [
        format!("{client:?}"),
        format!("{:?}", client.config()),
        format!("{error}"),
        format!("{error:?}"),
        serde_json::to_string(&emulator.stats()).unwrap(),
    ];
    for text in texts {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn a_key_over_plain_http_to_a_remote_host_is_refused() {
    let error = Client::builder()
        .base_url("http://example.invalid")
        .api_key(DEMO_SECRET_KEY)
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(!error.to_string().contains(&DEMO_SECRET_KEY[3..]));
}

#[tokio::test]
async fn per_call_timeout_bounds_a_slow_stream_start() {
    // A closed port answers at once; a call whose deadline already passed never sends.
    let emulator = start().await;
    let client = client(&emulator);
    let error = client
        .text("hi")
        .deadline(std::time::Instant::now())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(error.attempts(), 0);
    assert_eq!(emulator.stats().requests_total, 0);
}

#[tokio::test]
async fn connection_refused_is_a_retryable_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = Client::builder()
        .base_url(&format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let error = client.models().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(error.is_retryable());
    assert_eq!(
        error.transport_error().unwrap().kind(),
        TransportErrorKind::Connect
    );
}
