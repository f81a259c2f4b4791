//! `GET /text/{prompt}`: plain text, SSE, path-prompt edge cases, determinism.

use std::time::Duration;

use blossom_emulator::EmulatorConfig;
use serde_json::{Value, json};

use crate::client::{parse, read_timed, sse_data};
use crate::{auth, start};

/// Percent-encodes everything but unreserved characters, as one path segment.
fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn get_text_answers_plain_text() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let r = client
        .get("/text/Write%20a%20haiku?model=mistral&seed=3", &auth())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("x-model-used"), Some("mistral"));
    assert!(r.header("x-usage-total-tokens").is_some());
    assert!(
        r.text()
            .starts_with("Emulated mistral reply to \"Write a haiku\": ")
    );
    assert_eq!(r.header("x-cache"), Some("MISS"));
    assert!(r.header("x-cache-key").is_some());

    let r = client
        .get(
            "/text/Give%20me%20JSON?json=true&system=Answer%20in%20JSON",
            &auth(),
        )
        .await;
    let parsed: Value = serde_json::from_slice(&r.body).unwrap();
    assert!(parsed.is_object());

    for bad in [
        "?seed=abc",
        "?temperature=3",
        "?json=maybe",
        "?safe=everything",
    ] {
        let r = client.get(&format!("/text/hi{bad}"), &auth()).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(
            r.json()["error"]["details"]["fieldErrors"].is_object(),
            "{bad}"
        );
    }
    let r = client.get("/text/hi?model=nope", &auth()).await;
    assert_eq!(
        r.json()["error"]["message"],
        "Invalid model or alias: \"nope\""
    );
    assert_eq!(client.get("/text/hi?safe=false", &auth()).await.status, 200);
}

#[tokio::test]
async fn path_prompts_reach_the_handler_intact() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    for prompt in [
        "a/b?c#d%e..f\ng 🌸",
        "..",
        "../../etc/passwd",
        "100% sure? #1",
        "emoji 🌸🚀 and ünïcödé",
        "+plus+signs+",
        "models/extra",
    ] {
        let r = client
            .get(&format!("/text/{}", encode_segment(prompt)), &auth())
            .await;
        assert_eq!(r.status, 200, "{prompt:?}: {}", r.text());
        let expected = format!("reply to \"{prompt}\"");
        assert!(
            r.text().contains(&expected),
            "{prompt:?} not echoed: {}",
            r.text()
        );
    }
    // Literal %2E%2E as written by a client that encodes dots.
    let r = client.get("/text/%2E%2E", &auth()).await;
    assert!(r.text().contains("reply to \"..\""));
    // The same prompt works on the image and audio routes.
    let weird = encode_segment("a/b?c#d%e..f\ng 🌸");
    let r = client
        .get(&format!("/image/{weird}?width=16&height=16"), &auth())
        .await;
    assert_eq!(r.status, 200);
    let r = client.get(&format!("/audio/{weird}"), &auth()).await;
    assert_eq!(r.status, 200);
    // Empty prompts are 400 on every route.
    for path in ["/text/", "/image/", "/audio/"] {
        let r = client.get(path, &auth()).await;
        assert_eq!(r.status, 400, "{path}");
        assert_eq!(r.json()["error"]["code"], "BAD_REQUEST");
    }
}

#[tokio::test]
async fn get_text_streams_sse() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let plain = client
        .get("/text/Tell%20a%20story?seed=9", &auth())
        .await
        .text();
    let r = client
        .get("/text/Tell%20a%20story?seed=9&stream=true", &auth())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    let data = r.sse_data();
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, plain);
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "stop"
    );
    assert_eq!(chunks[chunks.len() - 1]["choices"], json!([]));
    assert!(chunks[chunks.len() - 1]["usage"]["total_tokens"].is_u64());
}

#[tokio::test]
async fn stream_events_arrive_incrementally() {
    let delay = Duration::from_millis(40);
    let (_emulator, client) = start(EmulatorConfig::default().stream_chunk_delay(delay)).await;
    let mut socket = client
        .open("GET", "/text/Count%20slowly?stream=true", &auth(), None)
        .await;
    let reads = read_timed(&mut socket).await;
    let raw: Vec<u8> = reads.iter().flat_map(|(_, b)| b.clone()).collect();
    let response = parse(&raw);
    let events = sse_data(&response.text());
    assert!(events.len() > 6);
    // Find when the first event and [DONE] arrived.
    let mut seen = Vec::new();
    let mut first_event_at = None;
    let mut done_at = None;
    for (at, bytes) in &reads {
        seen.extend_from_slice(bytes);
        let text = String::from_utf8_lossy(&seen);
        if first_event_at.is_none() && text.contains("data: {") {
            first_event_at = Some(*at);
        }
        if done_at.is_none() && text.contains("data: [DONE]") {
            done_at = Some(*at);
        }
    }
    let spread = done_at.unwrap() - first_event_at.unwrap();
    let minimum = delay * (events.len() as u32 - 2) / 2;
    assert!(
        spread >= minimum,
        "events were buffered: {spread:?} < {minimum:?}"
    );
    assert!(
        reads.len() >= 3,
        "the body arrived in {} reads",
        reads.len()
    );
}

#[tokio::test]
async fn same_request_same_bytes() {
    let (_a, client_a) = start(EmulatorConfig::default().seed(5)).await;
    let (_b, client_b) = start(EmulatorConfig::default().seed(5)).await;
    let (_c, client_c) = start(EmulatorConfig::default().seed(6)).await;
    let path = "/text/Determinism%20please?model=openai&seed=11&temperature=0.5";
    let a = client_a.get(path, &auth()).await;
    let b = client_b.get(path, &auth()).await;
    let c = client_c.get(path, &auth()).await;
    assert_eq!(a.body, b.body, "same seed, same answer");
    assert_ne!(a.body, c.body, "another emulator seed, another answer");
    let again = client_a
        .get(&format!("{path}&no-cache=true"), &auth())
        .await;
    assert_eq!(again.header("x-cache"), Some("MISS"));
    assert_eq!(a.body, again.body, "regenerated, still identical");
    let other_seed = client_a
        .get(
            "/text/Determinism%20please?model=openai&seed=12&temperature=0.5",
            &auth(),
        )
        .await;
    assert_ne!(a.body, other_seed.body);

    let image = "/image/red%20apple?width=64&height=48&seed=7";
    assert_eq!(
        client_a.get(image, &auth()).await.body,
        client_b.get(image, &auth()).await.body
    );
    let speech = "/audio/hello%20world?format=wav&voice=echo";
    assert_eq!(
        client_a.get(speech, &auth()).await.body,
        client_b.get(speech, &auth()).await.body
    );

    let body =
        json!({"model": "openai", "seed": 4, "messages": [{"role": "user", "content": "same?"}]});
    let content = |r: crate::Response| r.json()["choices"][0]["message"]["content"].clone();
    let x = content(
        client_a
            .post_json("/v1/chat/completions", &auth(), &body)
            .await,
    );
    let y = content(
        client_b
            .post_json("/v1/chat/completions", &auth(), &body)
            .await,
    );
    assert_eq!(x, y);
}
