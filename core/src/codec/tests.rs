//! Codec table tests: the exact bytes of every request kind, validation before sending, and
//! decoding of every answer shape.

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::json;

use super::*;
use crate::api::*;
use crate::config::ClientConfig;
use crate::error::ErrorKind;
use crate::testing::headers;

const KEY: &str = "sk_TESTtestTESTtestTESTtestTEST12";

fn encoder() -> Encoder {
    let config = ClientConfig::new()
        .base_url("http://127.0.0.1:9/prefix/")
        .unwrap()
        .api_key(KEY)
        .unwrap();
    Encoder::new(&config).unwrap()
}

fn body(prepared: &Prepared) -> String {
    String::from_utf8(prepared.request().body().to_vec()).unwrap()
}

fn url(prepared: &Prepared) -> String {
    prepared.request().uri().to_string()
}

#[test]
fn every_request_carries_auth_only_in_the_header() {
    let e = encoder();
    let all = [
        e.chat(&ChatRequest::new("openai").user("hi")).unwrap(),
        e.text(&TextRequest::new("hi")).unwrap(),
        e.image(&ImageRequest::new("hi")).unwrap(),
        e.speech(&SpeechRequest::new("hi")).unwrap(),
        e.speech(&SpeechRequest::new("hi").endpoint(SpeechEndpoint::Audio))
            .unwrap(),
        e.models(ModelKind::OpenAi).unwrap(),
    ];
    for prepared in &all {
        let request = prepared.request();
        assert_eq!(
            request.headers()["authorization"],
            format!("Bearer {KEY}").as_str()
        );
        assert!(request.headers()["authorization"].is_sensitive());
        assert!(
            request.headers()["user-agent"]
                .to_str()
                .unwrap()
                .starts_with("blossom-rs/")
        );
        assert!(!request.uri().to_string().contains(KEY));
        assert!(!body(prepared).contains(KEY));
        assert!(
            !format!("{prepared:?}").contains("TESTtest"),
            "{prepared:?}"
        );
        let has_body = !request.body().is_empty();
        assert_eq!(request.headers().contains_key("content-type"), has_body);
    }
    assert!(!format!("{e:?}").contains("TESTtest"));
}

#[test]
fn chat_minimal_exact_bytes() {
    let prepared = encoder()
        .chat(&ChatRequest::new("openai").user("Hi"))
        .unwrap();
    assert_eq!(prepared.request().method(), Method::POST);
    assert_eq!(
        url(&prepared),
        "http://127.0.0.1:9/prefix/v1/chat/completions"
    );
    assert_eq!(
        prepared.request().headers()["content-type"],
        "application/json"
    );
    assert_eq!(prepared.request().headers()["accept"], "application/json");
    assert_eq!(
        body(&prepared),
        r#"{"model":"openai","messages":[{"role":"user","content":"Hi"}]}"#
    );
    assert_eq!(prepared.expect(), Expect::Chat);
    assert_eq!(prepared.endpoint(), EndpointKind::Text);
    assert!(!prepared.is_deterministic());
    assert!(!prepared.is_idempotent());
}

#[test]
fn chat_every_field_exact_bytes() {
    let request = ChatRequest::new("openai-large")
        .system("sys")
        .message(Message::developer("dev"))
        .message(Message::user(vec![
            ContentPart::text("look"),
            ContentPart::image_url("https://x.example/a.png"),
            ContentPart::image_bytes("image/png", b"\x89PNG"),
            ContentPart::input_audio(b"RIFF", "wav"),
        ]))
        .message(Message::assistant_tool_calls(vec![ToolCall::function(
            "call_1",
            "get_weather",
            r#"{"city":"Paris"}"#,
        )]))
        .message(Message::tool("call_1", "sunny").name("weather"))
        .temperature(0.7)
        .top_p(0.9)
        .max_tokens(100)
        .seed(42)
        .stop(["END", "STOP"])
        .json_schema(
            "city",
            json!({"type":"object","properties":{"name":{"type":"string"}}}),
        )
        .tool(Tool::function("get_weather", "Weather", json!({"type":"object"})).strict(true))
        .tool_choice(ToolChoice::Function("get_weather".into()))
        .parallel_tool_calls(false)
        .frequency_penalty(-1.5)
        .presence_penalty(2.0)
        .reasoning_effort(ReasoningEffort::High)
        .audio_output("nova", ChatAudioFormat::Mp3)
        .logprobs(3)
        .user_id("u-1")
        .safe(Safe::standard())
        .extra("custom_flag", json!(true));
    let prepared = encoder().chat(&request).unwrap();
    let expected = concat!(
        r#"{"model":"openai-large","messages":["#,
        r#"{"role":"system","content":"sys"},"#,
        r#"{"role":"developer","content":"dev"},"#,
        r#"{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"https://x.example/a.png"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw=="}},{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}]},"#,
        r#"{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"#,
        r#"{"role":"tool","content":"sunny","name":"weather","tool_call_id":"call_1"}],"#,
        r#""temperature":0.7,"top_p":0.9,"max_tokens":100,"seed":42,"stop":["END","STOP"],"#,
        r#""response_format":{"type":"json_schema","json_schema":{"name":"city","schema":{"properties":{"name":{"type":"string"}},"type":"object"},"strict":true}},"#,
        r#""tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object"},"strict":true}}],"#,
        r#""tool_choice":{"function":{"name":"get_weather"},"type":"function"},"parallel_tool_calls":false,"#,
        r#""frequency_penalty":-1.5,"presence_penalty":2.0,"reasoning_effort":"high","#,
        r#""modalities":["text","audio"],"audio":{"voice":"nova","format":"mp3"},"#,
        r#""logprobs":true,"top_logprobs":3,"user":"u-1","safe":"privacy,secrets","custom_flag":true}"#,
    );
    assert_eq!(body(&prepared), expected);
    assert!(prepared.is_deterministic());
    assert!(prepared.is_idempotent());
}

#[test]
fn chat_format_and_choice_variants() {
    let e = encoder();
    let cases: Vec<(ChatRequest, &str)> = vec![
        (
            ChatRequest::new("m").user("x").json(),
            r#""response_format":{"type":"json_object"}"#,
        ),
        (
            ChatRequest::new("m")
                .user("x")
                .response_format(ResponseFormat::Text),
            r#""response_format":{"type":"text"}"#,
        ),
        (
            ChatRequest::new("m")
                .user("x")
                .tool(Tool::function("f", "d", json!({})))
                .tool_choice(ToolChoice::Required),
            r#""tool_choice":"required""#,
        ),
        (
            ChatRequest::new("m")
                .user("x")
                .tool_choice(ToolChoice::Auto),
            r#""tool_choice":"auto""#,
        ),
        (
            ChatRequest::new("m")
                .user("x")
                .tool_choice(ToolChoice::None),
            r#""tool_choice":"none""#,
        ),
        (
            ChatRequest::new("m").user("x").stop(["one"]),
            r#""stop":"one""#,
        ),
        (
            ChatRequest::new("m").user("x").safe(Safe::off()),
            r#""safe":"false""#,
        ),
    ];
    for (request, fragment) in cases {
        let text = body(&e.chat(&request).unwrap());
        assert!(text.contains(fragment), "{text} lacks {fragment}");
    }
}

#[test]
fn chat_stream_flags() {
    let mut request = ChatRequest::new("openai").user("Count");
    request.stream = Some(true);
    request.stream_options = Some(StreamOptions {
        include_usage: true,
    });
    let prepared = encoder().chat(&request).unwrap();
    assert_eq!(
        body(&prepared),
        r#"{"model":"openai","messages":[{"role":"user","content":"Count"}],"stream":true,"stream_options":{"include_usage":true}}"#
    );
    assert_eq!(prepared.expect(), Expect::ChatStream);
    assert!(prepared.is_stream());
    assert_eq!(prepared.request().headers()["accept"], "text/event-stream");
}

#[test]
fn text_get_exact_url() {
    let mut request = TextRequest::new("What is 2+2? Say it/shout it #now 100%")
        .model("mistral")
        .seed(7)
        .temperature(0.5)
        .top_p(0.8)
        .system("Be brief")
        .json()
        .private(true)
        .safe(Safe::nsfw())
        .extra_query("referrer_tag", "x y");
    request.presence_penalty = Some(0.1);
    request.frequency_penalty = Some(-0.1);
    request.referrer = Some("docs".into());
    let prepared = encoder().text(&request).unwrap();
    assert_eq!(prepared.request().method(), Method::GET);
    assert_eq!(
        url(&prepared),
        "http://127.0.0.1:9/prefix/text/What%20is%202%2B2%3F%20Say%20it%2Fshout%20it%20%23now%20100%25\
         ?model=mistral&seed=7&temperature=0.5&top_p=0.8&presence_penalty=0.1&frequency_penalty=-0.1\
         &system=Be%20brief&json=true&private=true&safe=sexual%2Cviolence&referrer=docs&referrer_tag=x%20y"
    );
    assert!(prepared.request().body().is_empty());
    assert!(prepared.is_deterministic());
}

#[test]
fn dot_prompts_travel_in_a_body() {
    let e = encoder();
    let prepared = e
        .text(
            &TextRequest::new("..")
                .model("mistral")
                .system("sys")
                .seed(3)
                .json()
                .private(true),
        )
        .unwrap();
    assert_eq!(prepared.request().method(), Method::POST);
    assert_eq!(
        url(&prepared),
        "http://127.0.0.1:9/prefix/text?private=true"
    );
    assert_eq!(
        body(&prepared),
        r#"{"model":"mistral","messages":[{"role":"system","content":"sys"},{"role":"user","content":".."}],"seed":3,"response_format":{"type":"json_object"}}"#
    );
    assert_eq!(prepared.expect(), Expect::Text);
    let speech = e
        .speech(&SpeechRequest::new(".").endpoint(SpeechEndpoint::Audio))
        .unwrap();
    assert_eq!(speech.request().method(), Method::POST);
    let error = e.image(&ImageRequest::new("..")).unwrap_err();
    assert_eq!(error.field_errors()[0].field, "prompt");
}

#[test]
fn path_prompts_round_trip() {
    let e = encoder();
    for prompt in [
        "...",
        "./x",
        "a/../b",
        "line\nbreak",
        "emoji 🌸 ✨",
        "?#%&=+",
        "x/y?z#w%v",
    ] {
        let prepared = e.text(&TextRequest::new(prompt)).unwrap();
        let path = prepared.request().uri().path();
        let segment = path.strip_prefix("/prefix/text/").unwrap();
        assert!(!segment.contains('/'), "{segment}");
        let decoded = percent_encoding::percent_decode_str(segment)
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, prompt);
    }
}

#[test]
fn image_every_parameter_exact_url() {
    let request = ImageRequest::new("a red apple")
        .model("flux")
        .size(512, 768)
        .seed(-1)
        .enhance(true)
        .safe(Safe::standard())
        .quality(ImageQuality::Hd)
        .reference_image("https://x.example/a.png")
        .reference_image("http://y.example/b%20c.jpg")
        .transparent(false)
        .negative_prompt("blurry, dark")
        .nologo(true)
        .private(true)
        .nofeed(true)
        .guidance_scale(7.5)
        .bypass_server_cache();
    let prepared = encoder().image(&request).unwrap();
    assert_eq!(
        url(&prepared),
        "http://127.0.0.1:9/prefix/image/a%20red%20apple?model=flux&width=512&height=768&seed=-1\
         &enhance=true&safe=privacy%2Csecrets&quality=hd\
         &image=https%3A%2F%2Fx.example%2Fa.png%7Chttp%3A%2F%2Fy.example%2Fb%2520c.jpg\
         &transparent=false&negative_prompt=blurry%2C%20dark&nologo=true&private=true&nofeed=true\
         &guidance_scale=7.5&no-cache=true"
    );
    assert_eq!(prepared.expect(), Expect::Image);
    assert!(!prepared.is_deterministic());
    let plain = encoder().image(&ImageRequest::new("x")).unwrap();
    assert_eq!(url(&plain), "http://127.0.0.1:9/prefix/image/x");
    assert!(
        plain.is_deterministic(),
        "the server fixes seed 42 when unset"
    );
}

#[test]
fn speech_both_endpoints() {
    let request = SpeechRequest::new("Hello there")
        .voice("nova")
        .format(AudioFormat::Wav)
        .speed(1.25);
    let post = encoder().speech(&request).unwrap();
    assert_eq!(post.request().method(), Method::POST);
    assert_eq!(url(&post), "http://127.0.0.1:9/prefix/v1/audio/speech");
    assert_eq!(
        body(&post),
        r#"{"input":"Hello there","voice":"nova","response_format":"wav","speed":1.25}"#
    );
    let get = encoder()
        .speech(
            &request
                .model("openai-audio")
                .endpoint(SpeechEndpoint::Audio),
        )
        .unwrap();
    assert_eq!(
        url(&get),
        "http://127.0.0.1:9/prefix/audio/Hello%20there?model=openai-audio&voice=nova&format=wav&speed=1.25"
    );
    assert_eq!(get.expect(), Expect::Audio);
    assert_eq!(get.endpoint(), EndpointKind::Audio);
}

#[test]
fn model_list_paths() {
    let e = encoder();
    for (kind, path) in [
        (ModelKind::OpenAi, "/prefix/v1/models"),
        (ModelKind::Text, "/prefix/text/models"),
        (ModelKind::Image, "/prefix/image/models"),
        (ModelKind::Audio, "/prefix/audio/models"),
    ] {
        let prepared = e.models(kind).unwrap();
        assert_eq!(prepared.request().uri().path(), path);
        assert_eq!(prepared.expect(), Expect::Models(kind));
    }
}

#[test]
fn no_key_means_no_authorization_header() {
    let e = Encoder::new(&ClientConfig::new()).unwrap();
    let prepared = e.models(ModelKind::Text).unwrap();
    assert!(!prepared.request().headers().contains_key("authorization"));
}

#[test]
fn invalid_input_is_caught_before_sending() {
    let e = encoder();
    let chat = |r: ChatRequest| e.chat(&r).map(|_| ()).unwrap_err();
    let user = || ChatRequest::new("openai").user("hi");
    let cases: Vec<(&str, crate::Error)> = vec![
        ("messages", chat(ChatRequest::new("openai"))),
        ("model", chat(ChatRequest::new("").user("x"))),
        ("temperature", chat(user().temperature(2.5))),
        ("temperature", chat(user().temperature(f64::NAN))),
        ("top_p", chat(user().top_p(1.5))),
        ("seed", chat(user().seed(-2))),
        ("seed", chat(user().seed(2_147_483_648))),
        ("frequency_penalty", chat(user().frequency_penalty(3.0))),
        ("presence_penalty", chat(user().presence_penalty(-2.1))),
        ("stop", chat(user().stop(["a", "b", "c", "d", "e"]))),
        ("stop", chat(user().stop(Vec::<String>::new()))),
        (
            "tools[0].function.name",
            chat(user().tool(Tool::function("bad name", "d", json!({})))),
        ),
        (
            "tool_choice",
            chat(user().tool_choice(ToolChoice::Function("missing".into()))),
        ),
        (
            "tool_choice",
            chat(user().tool_choice(ToolChoice::Required)),
        ),
        ("extra", chat(user().extra("model", json!("x")))),
        (
            "messages[0].content[0]",
            chat(ChatRequest::new("m").user(vec![ContentPart::image_url("ftp://x")])),
        ),
        (
            "messages[0].tool_call_id",
            chat(ChatRequest::new("m").message(Message::tool("", "r"))),
        ),
        (
            "response_format.json_schema.name",
            chat(user().json_schema("bad name", json!({}))),
        ),
        ("top_logprobs", chat(user().logprobs(21))),
        (
            "prompt",
            e.text(&TextRequest::new(" ")).map(|_| ()).unwrap_err(),
        ),
        (
            "extra_query",
            e.text(&TextRequest::new("x").extra_query("key", KEY))
                .map(|_| ())
                .unwrap_err(),
        ),
        (
            "extra_query",
            e.text(&TextRequest::new("x").extra_query("model", "m"))
                .map(|_| ())
                .unwrap_err(),
        ),
        (
            "prompt",
            e.image(&ImageRequest::new("")).map(|_| ()).unwrap_err(),
        ),
        (
            "width",
            e.image(&ImageRequest::new("x").size(0, 10))
                .map(|_| ())
                .unwrap_err(),
        ),
        (
            "height",
            e.image(&ImageRequest::new("x").size(10, 100_000))
                .map(|_| ())
                .unwrap_err(),
        ),
        (
            "image[0]",
            e.image(&ImageRequest::new("x").reference_image("file:///etc/passwd"))
                .map(|_| ())
                .unwrap_err(),
        ),
        (
            "seed",
            e.image(&ImageRequest::new("x").seed(-5))
                .map(|_| ())
                .unwrap_err(),
        ),
        (
            "text",
            e.speech(&SpeechRequest::new("")).map(|_| ()).unwrap_err(),
        ),
        (
            "speed",
            e.speech(&SpeechRequest::new("x").speed(9.0))
                .map(|_| ())
                .unwrap_err(),
        ),
        (
            "voice",
            e.speech(&SpeechRequest::new("x").voice("two words"))
                .map(|_| ())
                .unwrap_err(),
        ),
    ];
    for (field, error) in cases {
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{field}: {error}");
        assert_eq!(error.field_errors()[0].field, field, "{error}");
        assert!(!error.is_retryable());
        assert!(!error.to_string().contains(KEY));
    }
}

#[test]
fn oversized_bodies_are_refused() {
    let huge = "x".repeat(MAX_REQUEST_BODY);
    let error = encoder()
        .chat(&ChatRequest::new("m").user(huge))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(error.field_errors()[0].field, "body");
}

fn ok(expect: Expect, head: &[(&str, &str)], body: &'static [u8]) -> Result<Output, crate::Error> {
    decode(
        expect,
        StatusCode::OK,
        &headers(head),
        Bytes::from_static(body),
        None,
        None,
    )
}

#[test]
fn chat_answers_decode_leniently() {
    let body = br#"{"id":"pllns_1","object":"chat.completion","created":1767225600000,"model":"openai",
        "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
          "reasoning_content":"thinking","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}],
          "audio":{"data":"UklGRg==","transcript":"hi","id":"a1","expires_at":1767225600}}}],
        "usage":{"prompt_tokens":7,"completion_tokens":"3","total_tokens":10.0,
          "prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":2},"cost":0.1},
        "citations":["https://a.example", {"url":"https://b.example"}],"brand_new_field":{"x":1}}"#;
    let output = ok(
        Expect::Chat,
        &[
            ("x-request-id", "req_9"),
            ("x-model-used", "openai-fast"),
            ("x-cache", "HIT"),
        ],
        body,
    )
    .unwrap();
    let Output::Chat(chat) = output else { panic!() };
    assert_eq!(chat.text(), "");
    assert_eq!(chat.reasoning(), Some("thinking"));
    assert_eq!(chat.tool_calls()[0].function.name, "f");
    assert_eq!(chat.finish_reason(), Some("tool_calls"));
    assert_eq!(chat.audio().unwrap().bytes().unwrap(), b"RIFF");
    let usage = chat.usage.as_ref().unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (7, 3, 10)
    );
    assert_eq!(usage.extra["cost"], 0.1);
    assert_eq!(chat.citations.as_ref().unwrap().len(), 2);
    let seconds = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
    assert_eq!(chat.created_at(), Some(seconds));
    assert_eq!(chat.meta.request_id.as_deref(), Some("req_9"));
    assert_eq!(chat.meta.model_used.as_deref(), Some("openai-fast"));
    assert_eq!(chat.meta.server_cache, Some(ServerCache::Hit));

    let Output::Chat(seconds_chat) =
        ok(Expect::Chat, &[], br#"{"created":1767225600,"choices":[]}"#).unwrap()
    else {
        panic!()
    };
    assert_eq!(seconds_chat.created_at(), Some(seconds));
    let Output::Chat(empty) = ok(Expect::Chat, &[], b"{}").unwrap() else {
        panic!()
    };
    assert!(empty.choices.is_empty());
}

#[test]
fn malformed_success_bodies_are_retryable_decode_errors() {
    for (expect, body) in [
        (Expect::Chat, &b"{\"choices\":[{"[..]),
        (Expect::Models(ModelKind::Text), &b"<html>"[..]),
        (Expect::Image, &b"{\"error\":\"not an image\"}"[..]),
        (Expect::Image, &b""[..]),
        (Expect::Audio, &b"<html>oops</html>"[..]),
        (Expect::Text, &b"\xff\xfe"[..]),
    ] {
        let error = decode(
            expect,
            StatusCode::OK,
            &headers(&[("x-request-id", "r1")]),
            Bytes::from_static(body),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Decode, "{expect:?}");
        assert!(error.is_retryable(), "{expect:?}");
        assert_eq!(error.request_id(), Some("r1"));
    }
}

#[test]
fn text_refuses_audio_answers() {
    let error = ok(
        Expect::Text,
        &[("content-type", "audio/mpeg")],
        b"\xff\xfb\x90\x64",
    )
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(!error.is_retryable());
    let Output::Text(text) = ok(
        Expect::Text,
        &[("content-type", "text/plain; charset=utf-8")],
        "héllo".as_bytes(),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(text.text, "héllo");
}

#[test]
fn media_is_recognised_and_not_copied() {
    let png: &'static [u8] = b"\x89PNG\r\n\x1a\nrest";
    let body = Bytes::from_static(png);
    let pointer = body.as_ptr();
    let Output::Media(image) = decode(
        Expect::Image,
        StatusCode::OK,
        &headers(&[("content-type", "image/png")]),
        body,
        None,
        None,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(image.format, Some(MediaFormat::Png));
    assert_eq!(image.extension(), "png");
    assert_eq!(image.bytes.as_ptr(), pointer);

    let Output::Media(pcm) = ok(
        Expect::Audio,
        &[("content-type", "audio/pcm")],
        b"\x00\x01\x02\x03",
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(pcm.format, None);
    assert_eq!(pcm.extension(), "pcm");
    let Output::Media(mp3) = ok(
        Expect::Audio,
        &[("content-type", "audio/mpeg")],
        b"\xff\xfb\x90\x64\0\0",
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(mp3.format, Some(MediaFormat::Mp3));
    assert!(
        ok(
            Expect::Image,
            &[("content-type", "audio/wav")],
            b"RIFF\0\0\0\0WAVEfmt "
        )
        .is_err()
    );
}

#[test]
fn error_statuses_become_api_errors() {
    let error = decode(
        Expect::Chat,
        StatusCode::TOO_MANY_REQUESTS,
        &headers(&[("retry-after", "3"), ("x-request-id", "req_7")]),
        Bytes::from_static(br#"{"status":429,"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}"#),
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.code(), Some("RATE_LIMITED"));
    assert!(error.is_rate_limited());
    assert_eq!(error.retry_after(), Some(std::time::Duration::from_secs(3)));
    assert_eq!(error.request_id(), Some("req_7"));
}
