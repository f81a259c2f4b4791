//! Faults that break a generated answer's body rather than replace the answer: a short
//! body then a close (`reset_body`), a stall, a cut SSE stream (`truncate`), an error
//! event (`stream_error`), a broken body (`malformed`); and `reset`, which sends nothing.
//!
//! They apply to successful (2xx) answers only; `truncate` and `stream_error` only to
//! SSE streams. An answer they do not apply to is left unchanged (and not counted).
//! The answer cache is untouched: the good answer was stored before it was broken.
//!
//! | Fault | Bytes in memory (JSON, text, image, audio) | SSE stream |
//! |---|---|---|
//! | `reset_body` | the head (with the full `Content-Length`) and the first half, then a close | the first half of the events, then a close |
//! | `stall` | the head and the first half, then nothing for up to 60 s, then a close | the first event, then the same |
//! | `truncate` | — | the first half of the events, then a clean end (no `[DONE]`) |
//! | `stream_error` | — | the first half, then `data: {"error":{…,"code":"usage_missing"}}` and a clean end |
//! | `malformed` | JSON cut in half; text with invalid UTF-8; images and audio replaced by text, with the original content type | one event in the middle cut in half |

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http::{HeaderValue, header};

use super::header::HEADER;
use super::kind::FaultKind;
use crate::errors::ApiError;
use crate::script::{self, Abort, Script, Step};
use crate::sse::SseEvents;

/// How long a stalled body waits before the emulator gives up and closes it.
pub(crate) const STALL_LIMIT: Duration = Duration::from_secs(60);

/// A pause that lets the connection flush what was sent before the close.
const FLUSH: Duration = Duration::from_millis(20);

/// The event a `stream_error` stream ends with.
const ERROR_EVENT: &str = "data: {\"error\":{\"message\":\"The upstream provider ended the \
     stream without usage data (injected fault)\",\"type\":\"upstream_error\",\
     \"code\":\"usage_missing\"}}\n\n";

/// What became of an answer.
pub(crate) enum Shaped {
    /// The fault was applied.
    Applied(Response),
    /// The fault does not apply to this answer, which is returned unchanged.
    Skipped(Response),
}

/// The `reset` answer: a body that fails before its first byte, so neither the head nor
/// anything else is written, and the connection is reset.
pub(crate) fn reset() -> Response {
    let mut response = Response::new(Script::new([Step::Fail(Abort::Reset)]).into_body());
    script::mark_streaming(&mut response);
    response
}

/// Applies a body fault (`kind` other than a status or `reset`) to an answer.
pub(crate) async fn apply(kind: FaultKind, response: Response) -> Shaped {
    if !response.status().is_success() {
        return Shaped::Skipped(response);
    }
    if let Some(sse) = response.extensions().get::<SseEvents>().cloned() {
        let Some(steps) = sse_steps(kind, &sse) else {
            return Shaped::Skipped(response);
        };
        let (mut parts, _body) = response.into_parts();
        parts.extensions.remove::<SseEvents>();
        return Shaped::Applied(finish(parts, Script::new(steps).into_body(), kind, true));
    }
    if script::is_streaming(&response)
        || matches!(kind, FaultKind::Truncate | FaultKind::StreamError)
    {
        return Shaped::Skipped(response);
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let error = ApiError::internal(format!("could not read the answer: {e}"));
            return Shaped::Applied(axum::response::IntoResponse::into_response(error));
        }
    };
    let full = HeaderValue::from(bytes.len());
    let part = bytes.slice(..bytes.len() / 2);
    let (body, streaming) = match kind {
        FaultKind::ResetBody => {
            parts.headers.insert(header::CONTENT_LENGTH, full);
            let steps = [
                Step::Send(part),
                Step::Pause(FLUSH),
                Step::Fail(Abort::Close),
            ];
            (Script::new(steps).into_body(), true)
        }
        FaultKind::Stall => {
            parts.headers.insert(header::CONTENT_LENGTH, full);
            let steps = [
                Step::Send(part),
                Step::Pause(STALL_LIMIT),
                Step::Fail(Abort::Close),
            ];
            (Script::new(steps).into_body(), true)
        }
        _ => {
            parts.headers.remove(header::CONTENT_LENGTH);
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            (Body::from(malformed(content_type, &bytes)), false)
        }
    };
    Shaped::Applied(finish(parts, body, kind, streaming))
}

fn finish(parts: http::response::Parts, body: Body, kind: FaultKind, streaming: bool) -> Response {
    let mut response = Response::from_parts(parts, body);
    if let Ok(token) = HeaderValue::from_str(&kind.token()) {
        response.headers_mut().insert(HEADER, token);
    }
    if streaming {
        script::mark_streaming(&mut response);
    }
    response
}

/// The steps of a faulted stream, `None` when `kind` does not apply to streams.
fn sse_steps(kind: FaultKind, sse: &SseEvents) -> Option<Vec<Step>> {
    let events = &sse.events;
    // Every stream has at least a first delta, a finish chunk, a usage chunk and [DONE].
    let before_done = events.len().checked_sub(1).filter(|n| *n >= 2)?;
    let half = before_done / 2;
    let delay = sse.delay;
    let mut steps = match kind {
        FaultKind::Truncate | FaultKind::StreamError | FaultKind::ResetBody => {
            script::events(&events[..half], delay)
        }
        FaultKind::Stall => script::events(&events[..1], delay),
        FaultKind::Malformed => {
            let mut broken = events.to_vec();
            broken[half] = cut_event(&events[half]);
            script::events(&broken, delay)
        }
        FaultKind::Status(_) | FaultKind::Reset => return None,
    };
    match kind {
        FaultKind::StreamError => {
            steps.push(Step::Pause(delay));
            steps.push(Step::Send(Bytes::from_static(ERROR_EVENT.as_bytes())));
        }
        FaultKind::ResetBody => {
            steps.push(Step::Pause(FLUSH));
            steps.push(Step::Fail(Abort::Close));
        }
        FaultKind::Stall => {
            steps.push(Step::Pause(STALL_LIMIT));
            steps.push(Step::Fail(Abort::Close));
        }
        _ => {}
    }
    Some(steps)
}

/// `data: {"id":…` cut in the middle of its JSON (on a character boundary), still framed
/// as one event.
fn cut_event(event: &Bytes) -> Bytes {
    let text = String::from_utf8_lossy(event);
    let payload = text.trim_end_matches('\n');
    let mut end = payload.len() / 2;
    while !payload.is_char_boundary(end) {
        end -= 1;
    }
    Bytes::from(format!("{}\n\n", &payload[..end]))
}

/// A body that is not what its content type promises.
fn malformed(content_type: &str, body: &Bytes) -> Bytes {
    let kind = content_type.split(';').next().unwrap_or("").trim();
    if kind.ends_with("json") {
        // Any JSON document cut before its end is invalid: the closing bracket is missing.
        return body.slice(..body.len() / 2);
    }
    if kind.starts_with("text/") {
        let mut broken = BytesMut::from(&body[..body.len() / 2]);
        broken.extend_from_slice(&[0xff, 0xfe, 0xc3]);
        return broken.freeze();
    }
    Bytes::from(format!(
        "This is not {kind} data: the emulator's `malformed` fault replaced a {}-byte body.\n",
        body.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn sse(n: usize) -> SseEvents {
        let mut events: Vec<Bytes> = (0..n)
            .map(|i| {
                Bytes::from(format!(
                    "data: {{\"id\":\"c\",\"n\":{i},\"text\":\"piece\"}}\n\n"
                ))
            })
            .collect();
        events.push(Bytes::from_static(b"data: [DONE]\n\n"));
        SseEvents {
            events: Arc::from(events),
            delay: Duration::ZERO,
        }
    }

    fn sent(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Send(b) => Some(String::from_utf8(b.to_vec()).unwrap()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn stream_faults_end_before_done() {
        let events = sse(6);
        let truncated = sent(&sse_steps(FaultKind::Truncate, &events).unwrap());
        assert_eq!(truncated.len(), 3);
        assert!(truncated.iter().all(|e| !e.contains("[DONE]")));
        let errored = sent(&sse_steps(FaultKind::StreamError, &events).unwrap());
        assert_eq!(errored.last().unwrap(), ERROR_EVENT);
        let error: serde_json::Value = serde_json::from_str(
            errored
                .last()
                .unwrap()
                .trim()
                .strip_prefix("data: ")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(error["error"]["code"], "usage_missing");
        let stalled = sse_steps(FaultKind::Stall, &events).unwrap();
        assert_eq!(sent(&stalled).len(), 1);
        assert!(matches!(stalled.last(), Some(Step::Fail(Abort::Close))));
        let reset = sse_steps(FaultKind::ResetBody, &events).unwrap();
        assert!(matches!(reset.last(), Some(Step::Fail(Abort::Close))));
        assert!(sse_steps(FaultKind::Reset, &events).is_none());
    }

    #[test]
    fn malformed_streams_break_one_event_and_keep_done() {
        let all = sent(&sse_steps(FaultKind::Malformed, &sse(6)).unwrap());
        assert_eq!(all.len(), 7);
        assert_eq!(all.last().unwrap(), "data: [DONE]\n\n");
        let broken: Vec<&String> = all
            .iter()
            .filter(|e| {
                let payload = e.trim().strip_prefix("data: ").unwrap();
                payload != "[DONE]" && serde_json::from_str::<serde_json::Value>(payload).is_err()
            })
            .collect();
        assert_eq!(broken.len(), 1);
        assert!(broken[0].ends_with("\n\n"));
    }

    #[test]
    fn malformed_bodies_do_not_parse() {
        let json = Bytes::from_static(br#"{"object":"list","data":[]}"#);
        let cut = malformed("application/json; charset=utf-8", &json);
        assert!(serde_json::from_slice::<serde_json::Value>(&cut).is_err());
        assert!(
            serde_json::from_slice::<serde_json::Value>(&malformed(
                "application/json",
                &Bytes::from_static(b"[]")
            ))
            .is_err()
        );
        let image = malformed("image/jpeg", &Bytes::from_static(&[0xff, 0xd8, 0xff, 0xe0]));
        assert!(!image.starts_with(&[0xff, 0xd8]));
        let text = malformed(
            "text/plain; charset=utf-8",
            &Bytes::from_static(b"hello there"),
        );
        assert!(std::str::from_utf8(&text).is_err());
    }
}
