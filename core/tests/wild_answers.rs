//! Answers that OpenAI-compatible servers, gateways and proxies really send, decoded the way
//! the SDK decodes them: whole answers through `codec::decode`, streams through the chat
//! stream decoder and the accumulator. Each row is one case; a failing row names itself.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use blossom_core::ErrorKind;
use blossom_core::api::{ChatCompletion, ModelKind};
use blossom_core::codec::{Expect, Output, decode};
use blossom_core::sse::{ChatAccumulator, ChatStreamDecoder};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};

const KEY: &str = "sk_CanaryCanaryCanaryCanaryCanary12";

fn whole(expect: Expect, status: u16, body: &[u8]) -> Result<Output, blossom_core::Error> {
    decode(
        expect,
        StatusCode::from_u16(status).unwrap(),
        &HeaderMap::new(),
        Bytes::copy_from_slice(body),
        None,
        Some(KEY),
    )
}

fn chat(body: &[u8]) -> ChatCompletion {
    match whole(Expect::Chat, 200, body) {
        Ok(Output::Chat(chat)) => *chat,
        other => panic!("expected a chat answer, got {other:?}"),
    }
}

/// Decodes a stream body; returns the joined message or the stream's first error.
fn stream(body: &[u8]) -> Result<ChatCompletion, blossom_core::Error> {
    let mut decoder = ChatStreamDecoder::new();
    decoder.push(body);
    let mut all = ChatAccumulator::new();
    while let Some(chunk) = decoder.next_chunk() {
        all.push(&chunk?);
    }
    decoder.finish()?;
    Ok(all.finish())
}

#[test]
fn whole_chat_answers() {
    let rows: &[(&str, &[u8], &str)] = &[
        (
            "plain",
            br#"{"choices":[{"message":{"content":"hi"}}]}"#,
            "hi",
        ),
        (
            "a byte-order mark before the JSON",
            b"\xEF\xBB\xBF{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}",
            "hi",
        ),
        (
            "content as typed parts",
            br#"{"choices":[{"message":{"content":[{"type":"text","text":"h"},{"type":"text","text":"i"}]}}]}"#,
            "hi",
        ),
        (
            "choices null",
            br#"{"choices":null,"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}"#,
            "",
        ),
        (
            "numbers as strings and null ids",
            br#"{"id":null,"created":"1767225600","choices":[{"index":"0","message":{"content":"hi"}}]}"#,
            "hi",
        ),
    ];
    for (case, body, text) in rows {
        assert_eq!(chat(body).text(), *text, "{case}");
    }
}

#[test]
fn tool_call_arguments_sent_as_an_object_are_kept_as_json_text() {
    let answer = chat(
        br#"{"choices":[{"finish_reason":"tool_calls","message":{"content":null,"tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]}}]}"#,
    );
    let calls = answer.tool_calls();
    assert_eq!(calls[0].function.arguments, r#"{"city":"Paris"}"#);
    assert_eq!(calls[0].arguments_json().unwrap()["city"], "Paris");
}

#[test]
fn model_lists_and_error_envelopes_after_a_byte_order_mark() {
    let Ok(Output::Models(list)) = whole(
        Expect::Models(ModelKind::OpenAi),
        200,
        b"\xEF\xBB\xBF{\"object\":\"list\",\"data\":[{\"id\":\"openai\"}]}",
    ) else {
        panic!("the model list decodes")
    };
    assert_eq!(list.models[0].name, "openai");

    let error = whole(
        Expect::Chat,
        400,
        b"\xEF\xBB\xBF{\"status\":400,\"error\":{\"code\":\"BAD_REQUEST\",\"message\":\"bad model\"}}",
    )
    .unwrap_err();
    assert_eq!(error.code(), Some("BAD_REQUEST"));
    assert_eq!(error.message(), "bad model");
}

#[test]
fn a_decode_error_says_whether_the_body_was_json() {
    let not_json = whole(Expect::Chat, 200, b"<html>oops</html>").unwrap_err();
    assert!(not_json.message().contains("not valid JSON"), "{not_json}");
    let other_shape = whole(Expect::Chat, 200, br#"{"choices":"nope"}"#).unwrap_err();
    assert!(
        other_shape.message().contains("unexpected shape"),
        "{other_shape}"
    );
    assert_eq!(other_shape.kind(), ErrorKind::Decode);
}

#[test]
fn an_echoed_key_is_redacted_from_every_field_of_an_error() {
    let body = format!(
        r#"{{"status":400,"error":{{"code":"BAD_{KEY}","message":"unknown key {KEY}",
        "details":{{"fieldErrors":{{"authorization":["unknown key {KEY}"],"{KEY}":["x"]}},"formErrors":["{KEY}"]}}}}}}"#
    );
    let error = whole(Expect::Chat, 400, body.as_bytes()).unwrap_err();
    let shown = format!("{error} {error:?} {:?}", error.field_errors());
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("[redacted]"));
    assert!(!error.body().unwrap_or_default().contains(KEY));

    let plain = whole(Expect::Chat, 500, format!("upstream said {KEY}").as_bytes()).unwrap_err();
    assert!(!format!("{plain} {plain:?}").contains(KEY));
}

#[test]
fn a_multi_line_message_prints_on_one_line() {
    let error = whole(
        Expect::Chat,
        400,
        br#"{"error":{"message":"litellm.BadRequestError:\n  model not found\n\n  Received Model Group=x"}}"#,
    )
    .unwrap_err();
    let shown = error.to_string();
    assert!(!shown.contains('\n'), "{shown:?}");
    assert!(shown.contains("litellm.BadRequestError: model not found Received Model Group=x"));
}

const DONE: &[u8] = b"data: [DONE]\n\n";

fn content(text: &str) -> String {
    format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}}}}]}}\n\n")
}

#[test]
fn streams_with_null_choices_between_content_chunks() {
    let body = [
        content("Hel"),
        "data: {\"choices\":null}\n\n".to_owned(),
        "data: {\"choices\":null,\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n".to_owned(),
        content("lo"),
    ]
    .concat();
    let message = stream(&[body.as_bytes(), DONE].concat()).unwrap();
    assert_eq!(message.text(), "Hello");
    assert_eq!(message.usage.unwrap().total_tokens, 5);
}

#[test]
fn parallel_tool_calls_that_share_index_zero_stay_apart() {
    let fragment = |id: &str, name: &str, args: &str| {
        format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":0,\"id\":\"{id}\",\"type\":\"function\",\"function\":{{\"name\":\"{name}\",\"arguments\":\"{args}\"}}}}]}}}}]}}\n\n"
        )
    };
    let more = |args: &str| {
        format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":0,\"function\":{{\"arguments\":\"{args}\"}}}}]}}}}]}}\n\n"
        )
    };
    let body = [
        fragment("call_A", "get_weather", "{\\\"city\\\":"),
        more("\\\"Paris\\\"}"),
        fragment("call_B", "get_time", "{\\\"zone\\\":\\\"CET\\\"}"),
    ]
    .concat();
    let message = stream(&[body.as_bytes(), DONE].concat()).unwrap();
    let calls = message.tool_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(
        (calls[0].id.as_str(), calls[0].function.name.as_str()),
        ("call_A", "get_weather")
    );
    assert_eq!(calls[0].arguments_json().unwrap()["city"], "Paris");
    assert_eq!(
        (calls[1].id.as_str(), calls[1].function.name.as_str()),
        ("call_B", "get_time")
    );
    assert_eq!(calls[1].arguments_json().unwrap()["zone"], "CET");
}

#[test]
fn streamed_tool_call_arguments_as_an_object() {
    let body = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}]}}]}\n\n";
    let message = stream(&[&body[..], DONE].concat()).unwrap();
    assert_eq!(message.tool_calls()[0].function.arguments, r#"{"a":1}"#);
}

#[test]
fn a_name_repeated_on_every_fragment_is_one_name() {
    let body = [
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"f\",\"arguments\":\"}\"}}]}}]}\n\n",
    ]
    .concat();
    let message = stream(&[body.as_bytes(), DONE].concat()).unwrap();
    assert_eq!(message.tool_calls()[0].function.name, "f");
    assert_eq!(message.tool_calls()[0].function.arguments, "{}");
}

#[test]
fn a_chunk_cut_in_half_fails_the_stream_instead_of_leaving_a_hole() {
    let body = [
        content("Hel").as_str(),
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"s\n\n",
        content("lo").as_str(),
    ]
    .concat();
    let error = stream(&[body.as_bytes(), DONE].concat()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Stream);
    assert!(error.message().contains("not valid JSON"), "{error}");
}

#[test]
fn keep_alives_that_are_not_json_are_still_skipped() {
    let body = [
        "data: keep-alive\n\n",
        "data: ping\n\n",
        ": comment\n\n",
        content("ok").as_str(),
    ]
    .concat();
    assert_eq!(
        stream(&[body.as_bytes(), DONE].concat()).unwrap().text(),
        "ok"
    );
}

#[test]
fn content_as_typed_parts_in_a_stream() {
    let body = b"data: {\"choices\":[{\"delta\":{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}]}}]}\n\n";
    assert_eq!(stream(&[&body[..], DONE].concat()).unwrap().text(), "ok");
}
