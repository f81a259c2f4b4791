//! Server-sent events (docs/PROTOCOL.md §4): a chat reply as `chat.completion.chunk` events, and a
//! streaming body that writes one frame per event, pausing `stream_chunk_delay` between
//! events.
//!
//! Event order: a first delta with `role: "assistant"` (and the first piece), more pieces
//! (reasoning, then content, about a word each; or tool-call fragments with the arguments
//! split over several events; or audio transcript and data), a chunk with `finish_reason`
//! and an empty delta, a usage chunk with `"choices": []`, then `data: [DONE]`.
//! Streams are never cached. The response keeps its events ([`SseEvents`]) so a stream
//! fault can replay them cut short or broken.

use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderValue, header};
use serde_json::{Value, json};

use crate::reply::Reply;
use crate::script::{self, Script};

/// Bytes of a tool-call arguments fragment.
const ARGUMENT_PIECE: usize = 8;
/// Characters of base64 audio per event.
const AUDIO_PIECE: usize = 4096;

/// The events of a stream response and their pacing, kept on the response (an
/// extension) for the fault layer.
#[derive(Debug, Clone)]
pub(crate) struct SseEvents {
    /// Every frame, the last one `data: [DONE]`.
    pub(crate) events: Arc<[Bytes]>,
    /// The pause between two events.
    pub(crate) delay: Duration,
}

/// The `text/event-stream` response for a chat reply.
pub(crate) fn chat_response(reply: &Reply, delay: Duration) -> Response {
    let events: Arc<[Bytes]> = chat_events(reply).into();
    let body = Script::new(script::events(&events, delay)).into_body();
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    for (name, value) in reply.headers() {
        // Usage is only known to the client at the end; the model is known now.
        if name == "x-model-used" {
            headers.insert(name, value);
        }
    }
    response
        .extensions_mut()
        .insert(SseEvents { events, delay });
    script::mark_streaming(&mut response);
    response
}

/// Every event of a reply, each a complete `data: …\n\n` frame.
pub(crate) fn chat_events(reply: &Reply) -> Vec<Bytes> {
    let mut deltas: Vec<Value> = Vec::new();
    if let Some(reasoning) = &reply.reasoning {
        deltas.extend(pieces(reasoning).map(|p| json!({"reasoning_content": p})));
    }
    if let Some(content) = &reply.content {
        let mut content_deltas: Vec<Value> =
            pieces(content).map(|p| json!({"content": p})).collect();
        if content_deltas.is_empty() {
            content_deltas.push(json!({"content": ""}));
        }
        deltas.extend(content_deltas);
    }
    for (index, call) in reply.tool_calls.iter().enumerate() {
        deltas.push(json!({"tool_calls": [{
            "index": index, "id": call.id, "type": "function",
            "function": {"name": call.name, "arguments": ""}
        }]}));
        for fragment in fragments(&call.arguments, ARGUMENT_PIECE) {
            deltas.push(
                json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}),
            );
        }
    }
    if let Some(audio) = &reply.audio {
        for piece in pieces(&audio.transcript) {
            deltas.push(json!({"audio": {"id": audio.id, "transcript": piece}}));
        }
        let data = BASE64.encode(&audio.bytes);
        for chunk in fragments(&data, AUDIO_PIECE) {
            deltas.push(json!({"audio": {"id": audio.id, "data": chunk}}));
        }
        deltas.push(json!({"audio": {"id": audio.id, "expires_at": audio.expires_at}}));
    }
    match deltas.first_mut().and_then(Value::as_object_mut) {
        Some(first) => {
            first.insert("role".to_owned(), json!("assistant"));
        }
        None => deltas.push(json!({"role": "assistant", "content": ""})),
    }

    let chunk = |choices: Value| {
        json!({
            "id": reply.id,
            "object": "chat.completion.chunk",
            "created": reply.created,
            "model": reply.model,
            "choices": choices,
        })
    };
    let mut events: Vec<Bytes> = deltas
        .into_iter()
        .map(|delta| {
            frame(&chunk(
                json!([{"index": 0, "delta": delta, "finish_reason": null}]),
            ))
        })
        .collect();
    events.push(frame(&chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]),
    )));
    let mut usage = chunk(json!([]));
    if let Some(obj) = usage.as_object_mut() {
        obj.insert("usage".to_owned(), reply.usage.to_json());
    }
    events.push(frame(&usage));
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    events
}

fn frame(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// Splits text into pieces of one word plus its following whitespace; concatenating the
/// pieces gives the text back exactly.
pub(crate) fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let word_end = rest
            .char_indices()
            .find(|(i, c)| *i > 0 && c.is_whitespace())
            .map_or(rest.len(), |(i, _)| i);
        let end = rest[word_end..]
            .char_indices()
            .find(|(_, c)| !c.is_whitespace())
            .map_or(rest.len(), |(i, _)| word_end + i);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

/// Splits text into pieces of about `size` bytes on character boundaries, at least two
/// pieces when the text has two characters or more.
fn fragments(text: &str, size: usize) -> Vec<&str> {
    let size = size.min(text.len().div_ceil(2)).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat_request::parse;
    use crate::reply::compose;

    fn decode(events: &[Bytes]) -> Vec<Value> {
        events
            .iter()
            .map(|e| std::str::from_utf8(e).unwrap())
            .take_while(|e| *e != "data: [DONE]\n\n")
            .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap().trim_end()).unwrap())
            .collect()
    }

    #[test]
    fn pieces_rebuild_the_text() {
        let text = "Hello  world,\nthis is 🌸 text ";
        let parts: Vec<&str> = pieces(text).collect();
        assert_eq!(parts.concat(), text);
        assert_eq!(parts[0], "Hello  ");
        assert!(pieces("").next().is_none());
    }

    #[test]
    fn fragments_split_on_char_boundaries() {
        let parts = fragments("{\"a\":\"🌸🌸🌸\"}", 3);
        assert!(parts.len() >= 2);
        assert_eq!(parts.concat(), "{\"a\":\"🌸🌸🌸\"}");
        assert_eq!(fragments("{}", 8), vec!["{", "}"]);
    }

    #[test]
    fn content_stream_shape() {
        let req = parse(&json!({"messages": [{"role": "user", "content": "hi"}]})).unwrap();
        let reply = compose(&req, 1, 1);
        let events = chat_events(&reply);
        assert_eq!(
            events.last().unwrap(),
            &Bytes::from_static(b"data: [DONE]\n\n")
        );
        let chunks = decode(&events);
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(Some(text), reply.content);
        let finish = &chunks[chunks.len() - 2];
        assert_eq!(finish["choices"][0]["finish_reason"], "stop");
        let usage = &chunks[chunks.len() - 1];
        assert_eq!(usage["choices"], json!([]));
        assert!(usage["usage"]["total_tokens"].is_u64());
    }

    #[test]
    fn tool_call_arguments_arrive_in_fragments() {
        let req = parse(&json!({
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}],
            "tool_choice": "required",
            "messages": [{"role": "user", "content": "x"}]
        }))
        .unwrap();
        let reply = compose(&req, 1, 1);
        let chunks = decode(&chat_events(&reply));
        let fragments: Vec<&str> = chunks
            .iter()
            .filter_map(|c| {
                c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str()
            })
            .filter(|a| !a.is_empty())
            .collect();
        assert!(fragments.len() >= 2);
        assert_eq!(fragments.concat(), reply.tool_calls[0].arguments);
        assert_eq!(
            chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
            "tool_calls"
        );
    }
}
