//! The chat layer over SSE: `data:` payloads → [`ChatChunk`]s, `[DONE]`, in-stream errors.
//!
//! Rules (docs/PROTOCOL.md §4): `[DONE]` ends the stream; a JSON object with an `error` key (or an
//! event named `error`) is a typed [`ErrorKind::Stream`](crate::ErrorKind::Stream) error; a
//! JSON object with `choices` (or `usage`) is a chunk; any other JSON (heartbeats) and any
//! non-JSON payload (keep-alives) is skipped. A body that ends before `[DONE]` is truncated:
//! [`ChatStreamDecoder::finish`] reports it as an error, never as a quiet end.

use memchr::memmem;
use serde::Deserialize;
use serde_json::Value;

use super::decoder::{SseDecoder, SseEvent};
use crate::api::ChatChunk;
use crate::error::Error;

/// Decodes a chat-completions SSE body chunk by chunk.
#[derive(Debug)]
pub struct ChatStreamDecoder {
    sse: SseDecoder,
    done: bool,
    failed: bool,
    /// Finds `"error"` in an event (built once a stream, not once an event).
    error_key: memmem::Finder<'static>,
}

impl Default for ChatStreamDecoder {
    fn default() -> Self {
        Self {
            sse: SseDecoder::default(),
            done: false,
            failed: false,
            error_key: memmem::Finder::new(b"\"error\""),
        }
    }
}

impl ChatStreamDecoder {
    /// A decoder for a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder whose events may be at most `limit` bytes; a longer one fails the stream.
    pub fn with_max_event_bytes(limit: usize) -> Self {
        Self {
            sse: SseDecoder::with_max_event_bytes(limit),
            ..Self::default()
        }
    }

    /// Feeds body bytes, split anywhere.
    pub fn push(&mut self, bytes: &[u8]) {
        if !self.done && !self.failed {
            self.sse.push(bytes);
        }
    }

    /// The next chunk or error; `None` when more bytes are needed or the stream is over.
    /// After an error the decoder yields nothing more: a stream fails once.
    pub fn next_chunk(&mut self) -> Option<Result<ChatChunk, Error>> {
        while !self.done && !self.failed {
            let event = match self.sse.next_event()? {
                Ok(event) => event,
                Err(e) => return Some(Err(self.fail(Error::stream(e.to_string())))),
            };
            match self.interpret(event) {
                Some(Ok(chunk)) => return Some(Ok(chunk)),
                Some(Err(error)) => return Some(Err(self.fail(error))),
                None => {}
            }
        }
        None
    }

    /// Whether `[DONE]` was seen.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Declares the end of the body.
    ///
    /// # Errors
    /// [`ErrorKind::Stream`](crate::ErrorKind::Stream) when the body ended before `[DONE]`
    /// (and no error was reported already).
    pub fn finish(&mut self) -> Result<(), Error> {
        if self.done || self.failed {
            return Ok(());
        }
        self.failed = true;
        Err(Error::stream(
            "the stream ended before [DONE]: the answer is incomplete",
        ))
    }

    fn fail(&mut self, error: Error) -> Error {
        self.failed = true;
        error
    }

    fn interpret(&mut self, event: SseEvent) -> Option<Result<ChatChunk, Error>> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return None;
        }
        // The common case, parsed once and straight into the chunk type: an object that cannot
        // carry an `error` key (the text `"error"` appears nowhere in it) in an event not
        // named `error`. Everything else takes the general path below.
        if data.starts_with('{')
            && event.event.is_none()
            && self.error_key.find(data.as_bytes()).is_none()
            && let Ok(chunk) = serde_json::from_str::<ChatChunk>(data)
        {
            let heartbeat = chunk.choices.is_empty()
                && chunk.usage.is_none()
                && !data.contains("\"choices\"")
                && !data.contains("\"usage\"");
            return (!heartbeat).then_some(Ok(chunk));
        }
        let value: Value = match serde_json::from_str(data) {
            Ok(value) => value,
            Err(_) if event.event.as_deref() == Some("error") => {
                return Some(Err(Error::stream_event(None, data.to_owned())));
            }
            // Starts like JSON but does not parse: a broken chunk. Skipping it would hand the
            // caller an answer with a hole in it as a success (docs/PROTOCOL.md §4).
            Err(error) if data.starts_with(['{', '[']) => {
                return Some(Err(Error::stream(format!(
                    "a stream chunk is not valid JSON ({error}): the answer would be incomplete"
                ))));
            }
            // Not JSON at all (`keep-alive`, `ping`): a keep-alive.
            Err(_) => return None,
        };
        let Value::Object(object) = &value else {
            return None;
        };
        if let Some(error) = object.get("error") {
            return Some(Err(stream_error(error)));
        }
        if event.event.as_deref() == Some("error") {
            return Some(Err(stream_error(&value)));
        }
        if !object.contains_key("choices") && !object.contains_key("usage") {
            return None;
        }
        Some(ChatChunk::deserialize(value).map_err(|e| {
            Error::stream(format!("a stream chunk does not have the chunk shape: {e}"))
        }))
    }
}

fn stream_error(error: &Value) -> Error {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    match error {
        Value::Object(e) => {
            let code = text(e.get("code")).or_else(|| text(e.get("type")));
            let message = text(e.get("message"))
                .unwrap_or_else(|| "the server reported an error in the stream".to_owned());
            Error::stream_event(code, message)
        }
        Value::String(message) => Error::stream_event(None, message.clone()),
        other => Error::stream_event(None, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn run(body: &str) -> (Vec<Result<ChatChunk, Error>>, bool) {
        let mut decoder = ChatStreamDecoder::new();
        decoder.push(body.as_bytes());
        let mut out = Vec::new();
        while let Some(item) = decoder.next_chunk() {
            out.push(item);
        }
        (out, decoder.is_done())
    }

    const EXAMPLE: &str = concat!(
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}\n\n",
        "data: [DONE]\n\n",
    );

    #[test]
    fn protocol_example() {
        let (items, done) = run(EXAMPLE);
        assert!(done);
        let chunks: Vec<ChatChunk> = items.into_iter().map(Result::unwrap).collect();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].text(), "Hel");
        assert_eq!(chunks[1].text(), "lo");
        assert_eq!(chunks[2].finish_reason(), Some("stop"));
        assert_eq!(chunks[2].usage.as_ref().unwrap().total_tokens, 9);
    }

    #[test]
    fn keepalives_heartbeats_and_comments_are_skipped() {
        let body = concat!(
            ": ping\n\n",
            "data: keep-alive\n\n",
            "data: {\"type\":\"heartbeat\"}\n\n",
            "event: message\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\n",
            "data: [DONE]\n\n",
        );
        let (items, done) = run(body);
        assert!(done);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap().text(), "x");
        assert!(items[1].as_ref().unwrap().choices.is_empty());
    }

    #[test]
    fn error_event_is_typed_and_final() {
        let body = concat!(
            "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n",
            "data: {\"error\":{\"message\":\"upstream died\",\"type\":\"upstream_error\",\"code\":\"usage_missing\"}}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"never\"}}]}\n\n",
            "data: [DONE]\n\n",
        );
        let (items, done) = run(body);
        assert!(!done);
        assert_eq!(items.len(), 2);
        let error = items[1].as_ref().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Stream);
        assert_eq!(error.code(), Some("usage_missing"));
        assert_eq!(error.message(), "upstream died");
        assert!(!error.is_retryable());
    }

    #[test]
    fn string_error_and_named_error_event() {
        let (items, _) = run("data: {\"error\":\"boom\"}\n\n");
        assert_eq!(items[0].as_ref().unwrap_err().message(), "boom");
        let (items, _) = run("event: error\ndata: {\"message\":\"bad\",\"code\":\"x\"}\n\n");
        let error = items[0].as_ref().unwrap_err();
        assert_eq!((error.code(), error.message()), (Some("x"), "bad"));
    }

    #[test]
    fn truncation_is_an_error() {
        let mut decoder = ChatStreamDecoder::new();
        decoder.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n");
        assert!(decoder.next_chunk().unwrap().is_ok());
        assert!(decoder.next_chunk().is_none());
        let error = decoder.finish().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Stream);
        assert!(decoder.finish().is_ok(), "a stream fails once");

        let mut complete = ChatStreamDecoder::new();
        complete.push(b"data: [DONE]\n\n");
        assert!(complete.next_chunk().is_none());
        assert!(complete.finish().is_ok());
    }

    #[test]
    fn wrong_chunk_shape_is_a_stream_error() {
        let (items, _) = run("data: {\"choices\":\"nope\"}\n\n");
        assert_eq!(items[0].as_ref().unwrap_err().kind(), ErrorKind::Stream);
    }
}
