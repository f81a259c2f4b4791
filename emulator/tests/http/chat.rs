//! `POST /v1/chat/completions`: shapes, validation, streaming, tools, JSON modes.

use base64::Engine as _;
use blossom_emulator::EmulatorConfig;
use serde_json::{Value, json};

use crate::{Response, auth, chat_body, start};

const CHAT: &str = "/v1/chat/completions";

/// The JSON chunks of an SSE answer, checking it ends with `[DONE]`.
fn chunks(response: &Response) -> Vec<Value> {
    let data = response.sse_data();
    assert_eq!(
        data.last().map(String::as_str),
        Some("[DONE]"),
        "stream must end with [DONE]"
    );
    data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

fn joined(chunks: &[Value], field: &str) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"][field].as_str())
        .collect()
}

#[tokio::test]
async fn chat_json_shape_usage_and_headers() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let r = client
        .post_json(CHAT, &auth(), &chat_body("Hello there"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let j = r.json();
    assert!(j["id"].as_str().unwrap().starts_with("pllns_"));
    assert_eq!(j["object"], "chat.completion");
    assert!(
        j["created"].as_u64().unwrap() > 1_600_000_000_000,
        "created is in milliseconds"
    );
    assert_eq!(j["model"], "openai");
    let choice = &j["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["message"]["role"], "assistant");
    let content = choice["message"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("Emulated openai reply to \"Hello there\": "),
        "{content}"
    );
    let usage = &j["usage"];
    let (p, c, t) = (
        usage["prompt_tokens"].as_u64().unwrap(),
        usage["completion_tokens"].as_u64().unwrap(),
        usage["total_tokens"].as_u64().unwrap(),
    );
    assert_eq!(p + c, t);
    assert_eq!(c, content.split_whitespace().count() as u64);
    assert_eq!(r.header("x-model-used"), Some("openai"));
    assert_eq!(
        r.header("x-usage-prompt-tokens"),
        Some(p.to_string().as_str())
    );
    assert_eq!(
        r.header("x-usage-completion-tokens"),
        Some(c.to_string().as_str())
    );
    assert_eq!(
        r.header("x-usage-total-tokens"),
        Some(t.to_string().as_str())
    );
    assert!(r.header("x-request-id").unwrap().starts_with("req_"));
    assert_eq!(r.header("x-cache"), Some("MISS"));
    assert_eq!(r.header("x-cache-key").map(str::len), Some(16));
}

#[tokio::test]
async fn max_tokens_caps_words_and_aliases_resolve() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let body = json!({"model": "gpt-5-nano", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]});
    let j = client.post_json(CHAT, &auth(), &body).await.json();
    assert_eq!(j["model"], "openai-fast");
    assert_eq!(j["choices"][0]["finish_reason"], "length");
    let content = j["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(content.split_whitespace().count(), 4);
    assert_eq!(j["usage"]["completion_tokens"], 4);
}

#[tokio::test]
async fn message_content_parts_are_accepted() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let body = json!({"messages": [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
        ]}
    ]});
    let r = client.post_json(CHAT, &auth(), &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let content = r.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(content.contains("What is in this picture?"));
}

#[tokio::test]
async fn bad_chat_body_gets_the_validation_envelope() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let r = client.post_json(CHAT, &auth(), &json!({})).await;
    assert_eq!(r.status, 400);
    let j = r.json();
    assert_eq!(j["status"], 400);
    assert_eq!(j["success"], false);
    assert_eq!(j["error"]["code"], "BAD_REQUEST");
    assert_eq!(j["error"]["message"], "JSON body validation failed");
    let ts = j["error"]["timestamp"].as_str().unwrap();
    assert_eq!(
        (ts.len(), &ts[10..11], &ts[19..20], &ts[23..]),
        (24, "T", ".", "Z")
    );
    assert_eq!(j["error"]["details"]["name"], "ValidationError");
    assert_eq!(j["error"]["details"]["formErrors"], json!([]));
    assert_eq!(
        j["error"]["details"]["fieldErrors"]["messages"],
        json!(["Invalid input: expected array, received undefined"])
    );
    assert!(r.header("x-request-id").is_some());

    let body = json!({
        "messages": [{"role": "robot", "content": "x"}],
        "temperature": 2.5, "top_p": 1.5, "presence_penalty": -3, "frequency_penalty": 3,
        "seed": -2, "stop": ["a", "b", "c", "d", "e"], "max_tokens": -5,
        "tools": [{"type": "function", "function": {"name": "has space"}}],
        "response_format": {"type": "yaml"}, "reasoning_effort": "huge"
    });
    let fields =
        client.post_json(CHAT, &auth(), &body).await.json()["error"]["details"]["fieldErrors"]
            .clone();
    for field in [
        "messages",
        "temperature",
        "top_p",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "stop",
        "max_tokens",
        "tools",
        "response_format",
        "reasoning_effort",
    ] {
        assert!(
            fields[field][0].is_string(),
            "no field error for {field}: {fields}"
        );
    }
    let empty = client
        .post_json(CHAT, &auth(), &json!({"messages": []}))
        .await
        .json();
    assert_eq!(
        empty["error"]["details"]["fieldErrors"]["messages"][0],
        "Too small: expected array to have >=1 items"
    );
}

#[tokio::test]
async fn invalid_json_unknown_model_and_oversized_bodies() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let mut headers = auth();
    headers.push(("Content-Type", "application/json"));
    let r = client
        .send("POST", CHAT, &headers, Some(b"{\"messages\": ["))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "BAD_REQUEST");

    let body = json!({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]});
    let r = client.post_json(CHAT, &auth(), &body).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"]["message"],
        "Invalid model or alias: \"gpt-9\""
    );

    // Declared over 20 MiB: refused before any body byte is read.
    headers.push(("Content-Length", "20971521"));
    let r = client.send("POST", CHAT, &headers, None).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["code"], "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn chat_stream_has_the_openai_shape() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let mut body = chat_body("Count to five");
    let plain = client.post_json(CHAT, &auth(), &body).await.json();
    body["stream"] = json!(true);
    let r = client.post_json(CHAT, &auth(), &body).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(r.header("x-cache"), None, "streams are never cached");
    assert!(
        r.text()
            .split("\n\n")
            .all(|e| e.is_empty() || e.starts_with("data: "))
    );
    let chunks = chunks(&r);
    assert!(chunks.len() > 5, "content arrives in many pieces");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], chunks[0]["id"]);
        assert_eq!(chunk["model"], "openai");
    }
    let content = joined(&chunks, "content");
    assert_eq!(
        json!(content),
        plain["choices"][0]["message"]["content"],
        "stream and JSON agree"
    );
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(
        usage["usage"]["completion_tokens"],
        plain["usage"]["completion_tokens"]
    );
    for chunk in &chunks[1..chunks.len() - 2] {
        assert!(chunk["choices"][0]["finish_reason"].is_null());
        let piece = chunk["choices"][0]["delta"]["content"].as_str().unwrap();
        assert!(
            piece.split_whitespace().count() <= 1,
            "about a word per event: {piece:?}"
        );
    }
}

fn weather_tools() -> Value {
    json!([
        {"type": "function", "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7}
            }, "required": ["city", "unit"]}
        }},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
    ])
}

fn check_weather_arguments(arguments: &str) {
    let args: Value = serde_json::from_str(arguments).unwrap();
    assert!(args["city"].is_string());
    assert!(["celsius", "fahrenheit"].contains(&args["unit"].as_str().unwrap()));
    let days = args["days"].as_i64().unwrap();
    assert!((1..=7).contains(&days));
}

#[tokio::test]
async fn tool_calls_in_json_and_in_streams() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let body = json!({
        "tools": weather_tools(),
        "messages": [{"role": "user", "content": "Please call get_weather for Paris"}]
    });
    let j = client.post_json(CHAT, &auth(), &body).await.json();
    let choice = &j["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert!(choice["message"]["content"].is_null());
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    check_weather_arguments(call["function"]["arguments"].as_str().unwrap());

    // "none" never calls; "auto" without a mention answers text.
    let mut none = body.clone();
    none["tool_choice"] = json!("none");
    let j = client.post_json(CHAT, &auth(), &none).await.json();
    assert!(j["choices"][0]["message"]["content"].is_string());
    let mut unrelated = body.clone();
    unrelated["messages"] = json!([{"role": "user", "content": "hello"}]);
    assert_eq!(
        client.post_json(CHAT, &auth(), &unrelated).await.json()["choices"][0]["finish_reason"],
        "stop"
    );

    // After a tool result, a normal answer that uses it.
    let mut after = body.clone();
    after["messages"] = json!([
        {"role": "user", "content": "Please call get_weather for Paris"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "18 degrees and sunny"}
    ]);
    let j = client.post_json(CHAT, &auth(), &after).await.json();
    assert_eq!(j["choices"][0]["finish_reason"], "stop");
    assert!(
        j["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("18 degrees")
    );

    // Streamed: id and name first, then the arguments in several fragments.
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    streamed["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
    let chunks = chunks(&client.post_json(CHAT, &auth(), &streamed).await);
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls[0]["index"], 0);
    assert!(calls[0]["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let fragments: Vec<&str> = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .filter(|a| !a.is_empty())
        .collect();
    assert!(
        fragments.len() >= 3,
        "arguments split across events: {fragments:?}"
    );
    check_weather_arguments(&fragments.concat());
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn json_object_and_json_schema_answers_are_valid_json() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let mut body = chat_body("Describe a cat as JSON");
    body["response_format"] = json!({"type": "json_object"});
    let j = client.post_json(CHAT, &auth(), &body).await.json();
    let content: Value =
        serde_json::from_str(j["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert!(content.is_object());

    body["response_format"] = json!({"type": "json_schema", "json_schema": {
        "name": "cat", "strict": true,
        "schema": {"type": "object", "additionalProperties": false,
            "properties": {
                "name": {"type": "string"},
                "age": {"type": "integer", "minimum": 0, "maximum": 30},
                "weight": {"type": "number"},
                "indoor": {"type": "boolean"},
                "colour": {"type": "string", "enum": ["black", "white", "tabby"]},
                "toys": {"type": "array", "items": {"type": "object", "properties": {"kind": {"type": "string"}}, "required": ["kind"]}},
                "owner": {"type": ["object", "null"], "properties": {"email": {"type": "string", "format": "email"}}, "required": ["email"]}
            },
            "required": ["name", "age", "weight", "indoor", "colour", "toys", "owner"]}
    }});
    let j = client.post_json(CHAT, &auth(), &body).await.json();
    let cat: Value =
        serde_json::from_str(j["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert!(cat["name"].is_string());
    assert!((0..=30).contains(&cat["age"].as_i64().unwrap()));
    assert!(cat["weight"].is_number());
    assert!(cat["indoor"].is_boolean());
    assert!(["black", "white", "tabby"].contains(&cat["colour"].as_str().unwrap()));
    let toys = cat["toys"].as_array().unwrap();
    assert!(!toys.is_empty() && toys.iter().all(|t| t["kind"].is_string()));
    assert!(cat["owner"]["email"].as_str().unwrap().contains('@'));
    assert_eq!(cat.as_object().unwrap().len(), 7);
}

#[tokio::test]
async fn reasoning_content_in_json_and_stream() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let mut body = json!({"model": "deepseek", "reasoning_effort": "high",
                          "messages": [{"role": "user", "content": "Why is the sky blue?"}]});
    let j = client.post_json(CHAT, &auth(), &body).await.json();
    let message = &j["choices"][0]["message"];
    assert!(message["reasoning_content"].as_str().unwrap().len() > 20);
    assert!(message["content"].is_string());
    assert!(
        j["usage"]["completion_tokens_details"]["reasoning_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    body["stream"] = json!(true);
    let chunks = chunks(&client.post_json(CHAT, &auth(), &body).await);
    assert_eq!(
        joined(&chunks, "reasoning_content"),
        message["reasoning_content"].as_str().unwrap()
    );
    assert_eq!(
        joined(&chunks, "content"),
        message["content"].as_str().unwrap()
    );
}

#[tokio::test]
async fn audio_output_carries_a_wav() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let body = json!({"model": "openai-audio", "modalities": ["text", "audio"],
                      "audio": {"voice": "nova", "format": "wav"},
                      "messages": [{"role": "user", "content": "Say hello"}]});
    let j = client.post_json(CHAT, &auth(), &body).await.json();
    let message = &j["choices"][0]["message"];
    assert!(message["content"].is_null());
    let audio = &message["audio"];
    assert!(audio["transcript"].as_str().unwrap().contains("Say hello"));
    assert!(audio["id"].is_string() && audio["expires_at"].is_u64());
    let wav = base64::engine::general_purpose::STANDARD
        .decode(audio["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    let bad = json!({"model": "openai-audio", "modalities": ["audio"], "audio": {"voice": "robot", "format": "wav"},
                     "messages": [{"role": "user", "content": "x"}]});
    assert_eq!(client.post_json(CHAT, &auth(), &bad).await.status, 400);
}

#[tokio::test]
async fn legacy_openai_route_and_post_text() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let j = client
        .post_json("/openai", &auth(), &chat_body("legacy"))
        .await
        .json();
    assert_eq!(j["object"], "chat.completion");
    let r = client
        .post_json("/text", &auth(), &chat_body("plain please"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert!(
        r.text()
            .starts_with("Emulated openai reply to \"plain please\"")
    );
    assert_eq!(
        r.text(),
        j_content(
            &client
                .post_json(CHAT, &auth(), &chat_body("plain please"))
                .await
        )
    );
}

fn j_content(r: &Response) -> String {
    r.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}
