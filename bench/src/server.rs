//! `blossom-load serve`: a cheap fixed-answer HTTP/1.1 server, so that what the benchmark
//! measures is the client. One thread (a tokio `current_thread` runtime), keep-alive on,
//! every answer built once at start as `Bytes` and handed out by reference count.
//!
//! Routes (lenient, so that other clients, whose paths differ a little, get answers too):
//! - `GET` of a path ending in `/models`: a model list (docs/PROTOCOL.md §7; `/v1/models` as an
//!   OpenAI list, the others as an array of model infos);
//! - `GET` of any other path containing `image`: a fixed 200 KB JPEG-looking body;
//! - any other `GET`: a short plain-text answer (the `/text/{prompt}` endpoint);
//! - `POST` whose body says `"stream": true`: an SSE stream of `chunks` chat chunks, a final
//!   chunk with `finish_reason: "stop"` and usage, then `data: [DONE]`, in a few large writes;
//! - any other `POST`: a small chat completion with usage.
//!
//! A delay is asked for with `[delay=MS]` in a chat prompt (the body), or `delay=MS` in the
//! request target (a query parameter, or `[delay=MS]` in a path prompt, which arrives
//! percent-encoded as `delay%3DMS`). The answer then waits that long (a tokio sleep: the
//! thread keeps serving others), 60 s at most.

use std::convert::Infallible;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Either, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;

/// The body of every answer: whole, or a stream of a few large frames.
type Body = Either<Full<Bytes>, StreamBody<FrameIter>>;

/// The frames of an SSE answer.
type FrameIter = futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>;

/// The largest delay a request may ask for.
const MAX_DELAY: Duration = Duration::from_secs(60);

/// Bytes of SSE per write.
const STREAM_WRITE: usize = 16 * 1024;

/// The size of the image answer.
pub(crate) const IMAGE_BYTES: usize = 200 * 1024;

/// Options of `serve`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServeOptions {
    /// The port to listen on (0: any free one).
    pub(crate) port: u16,
    /// Chat chunks per stream.
    pub(crate) chunks: usize,
    /// Keep serving when stdin reaches its end (for a server started without a pipe).
    pub(crate) ignore_stdin: bool,
}

/// Every answer, built once.
struct Answers {
    chat: Bytes,
    text: Bytes,
    image: Bytes,
    /// The SSE answer, cut into writes of [`STREAM_WRITE`] bytes.
    stream: Vec<Bytes>,
    models_openai: Bytes,
    models_array: Bytes,
}

/// Runs the server until it is killed or (unless told otherwise) its stdin ends.
///
/// # Errors
/// When the runtime cannot be built or the port cannot be bound.
pub(crate) fn serve(options: ServeOptions) -> std::io::Result<()> {
    if !options.ignore_stdin {
        // The parent holds our stdin open; when it goes away, so do we.
        std::thread::spawn(|| {
            let mut sink = [0u8; 256];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(accept_loop(options))
}

async fn accept_loop(options: ServeOptions) -> std::io::Result<()> {
    let answers = Arc::new(Answers::build(options.chunks));
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port))).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "http://{}", listener.local_addr()?)?;
    stdout.flush()?;
    drop(stdout);
    loop {
        let (socket, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of descriptors or a connection reset before accept: keep serving.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        // Small answers go out at once rather than waiting for an ACK (Nagle).
        let _ = socket.set_nodelay(true);
        let answers = Arc::clone(&answers);
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&answers), request));
            // A client that goes away mid-answer is not our concern.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

async fn answer(
    answers: Arc<Answers>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let path = request.uri().path().to_owned();
    let mut delay =
        delay_in(target.as_bytes(), b"delay=").or_else(|| delay_in(target.as_bytes(), b"delay%3D"));
    let response = if request.method() == Method::POST {
        let body = match request.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => Bytes::new(),
        };
        delay = delay.or_else(|| delay_in(&body, b"[delay="));
        if wants_stream(&body) {
            let frames: Vec<_> = answers
                .stream
                .iter()
                .map(|write| Ok(Frame::data(write.clone())))
                .collect();
            let body = StreamBody::new(futures_util::stream::iter(frames));
            respond(
                Either::Right(body),
                "text/event-stream; charset=utf-8",
                StatusCode::OK,
            )
        } else {
            full(&answers.chat, "application/json")
        }
    } else if path.ends_with("/models") {
        if path.starts_with("/v1/") {
            full(&answers.models_openai, "application/json")
        } else {
            full(&answers.models_array, "application/json")
        }
    } else if path.contains("image") {
        full(&answers.image, "image/jpeg")
    } else {
        full(&answers.text, "text/plain; charset=utf-8")
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    Ok(response)
}

fn full(bytes: &Bytes, content_type: &'static str) -> Response<Body> {
    respond(
        Either::Left(Full::new(bytes.clone())),
        content_type,
        StatusCode::OK,
    )
}

fn respond(body: Body, content_type: &'static str, status: StatusCode) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert("x-request-id", HeaderValue::from_static("blossom-load"));
    response
}

/// Whether a request body asks for a stream (`"stream": true`, with or without the space).
fn wants_stream(body: &[u8]) -> bool {
    memchr::memmem::find(body, b"\"stream\":true").is_some()
        || memchr::memmem::find(body, b"\"stream\": true").is_some()
}

/// The delay asked for by the digits after `marker` in `haystack`, if any.
fn delay_in(haystack: &[u8], marker: &[u8]) -> Option<Duration> {
    let start = memchr::memmem::find(haystack, marker)? + marker.len();
    let digits = haystack[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .take(9)
        .fold(None, |ms: Option<u64>, b| {
            Some(ms.unwrap_or(0) * 10 + u64::from(b - b'0'))
        })?;
    Some(Duration::from_millis(digits).min(MAX_DELAY))
}

impl Answers {
    fn build(chunks: usize) -> Self {
        Self {
            chat: Bytes::from(chat_completion()),
            text: Bytes::from_static(
                b"Hello! This is a short plain-text answer from the load benchmark's server.",
            ),
            image: Bytes::from(image_body()),
            stream: sse_stream(chunks)
                .chunks(STREAM_WRITE)
                .map(Bytes::copy_from_slice)
                .collect(),
            models_openai: Bytes::from(models_openai()),
            models_array: Bytes::from(models_array()),
        }
    }
}

/// A chat completion as docs/PROTOCOL.md §3 shows it.
fn chat_completion() -> Vec<u8> {
    json!({
        "id": "pllns_blossom_load_0001",
        "object": "chat.completion",
        "created": 1_767_225_600_000_u64,
        "model": "openai",
        "choices": [{
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Hello! How can I help you today?", "tool_calls": null}
        }],
        "usage": {"prompt_tokens": 14, "completion_tokens": 9, "total_tokens": 23}
    })
    .to_string()
    .into_bytes()
}

/// A 200 KB body that starts like a JPEG (SOI, APP0 JFIF) and ends with EOI; the middle is
/// filler that does not compress (a simple generator), like real entropy-coded data.
fn image_body() -> Vec<u8> {
    let mut body = Vec::with_capacity(IMAGE_BYTES);
    body.extend_from_slice(&[
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00,
    ]);
    let mut state: u32 = 0x9E37_79B9;
    while body.len() < IMAGE_BYTES - 2 {
        // xorshift32
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        body.push(state.to_le_bytes()[0]);
    }
    body.extend_from_slice(&[0xFF, 0xD9]);
    body
}

/// The whole SSE answer: `chunks` content chunks of about 250 bytes each on the wire, a final
/// chunk with the finish reason and usage, and `[DONE]`.
fn sse_stream(chunks: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        " the", " quick", " brown", " fox", " jumps", " over", " a", " lazy", " dog", " and",
    ];
    let mut out = Vec::with_capacity(chunks * 260 + 512);
    for i in 0..chunks {
        let mut delta = json!({"content": WORDS[i % WORDS.len()]});
        if i == 0 {
            delta["role"] = json!("assistant");
        }
        let chunk = json!({
            "id": "chatcmpl-bl0ad42",
            "object": "chat.completion.chunk",
            "created": 1_767_225_600_u64,
            "model": "openai-fast",
            "system_fingerprint": "fp_blossom_load",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": null}],
            "usage": null
        });
        push_event(&mut out, &chunk.to_string());
    }
    let last = json!({
        "id": "chatcmpl-bl0ad42",
        "object": "chat.completion.chunk",
        "created": 1_767_225_600_u64,
        "model": "openai-fast",
        "system_fingerprint": "fp_blossom_load",
        "choices": [{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 14, "completion_tokens": chunks, "total_tokens": chunks + 14}
    });
    push_event(&mut out, &last.to_string());
    push_event(&mut out, "[DONE]");
    out
}

fn push_event(out: &mut Vec<u8>, data: &str) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(data.as_bytes());
    out.extend_from_slice(b"\n\n");
}

/// `GET /v1/models` (docs/PROTOCOL.md §7).
fn models_openai() -> Vec<u8> {
    json!({"object": "list", "data": [
        {"id": "openai", "object": "model", "created": 1_767_225_600_000_u64,
         "input_modalities": ["text", "image"], "output_modalities": ["text"],
         "supported_endpoints": ["/v1/chat/completions"],
         "pricing": {"currency": "pollen", "promptTextTokens": "0.00000015", "completionTextTokens": "0.0000006"},
         "capabilities": ["tool_calling"], "tools": true, "context_length": 400_000},
        {"id": "flux", "object": "model", "created": 1_767_225_600_000_u64,
         "input_modalities": ["text"], "output_modalities": ["image"],
         "supported_endpoints": ["/image"]}
    ]})
    .to_string()
    .into_bytes()
}

/// `GET /text/models`, `/image/models`, `/audio/models` (docs/PROTOCOL.md §7).
fn models_array() -> Vec<u8> {
    json!([
        {"name": "openai", "aliases": ["gpt-5-nano"], "description": "OpenAI GPT-5 Nano",
         "input_modalities": ["text", "image"], "output_modalities": ["text"], "tools": true,
         "context_length": 400_000, "pricing": {"currency": "pollen", "promptTextTokens": "0.00000015"}},
        {"name": "flux", "aliases": [], "description": "Flux Schnell",
         "input_modalities": ["text"], "output_modalities": ["image"],
         "pricing": {"currency": "pollen", "completionImageTokens": "0.00012"}}
    ])
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_chunks_are_about_250_bytes_and_end_with_done() {
        let stream = sse_stream(200);
        let text = String::from_utf8(stream).unwrap_or_default();
        let events: Vec<&str> = text.split_terminator("\n\n").collect();
        assert_eq!(events.len(), 202);
        assert_eq!(events.last(), Some(&"data: [DONE]"));
        let sizes: Vec<usize> = events[..200].iter().map(|e| e.len() + 2).collect();
        assert!(sizes.iter().all(|s| (230..=270).contains(s)), "{sizes:?}");
    }

    #[test]
    fn delays_are_found_in_targets_and_bodies() {
        assert_eq!(
            delay_in(b"/text/hi?delay=200", b"delay="),
            Some(Duration::from_millis(200))
        );
        assert_eq!(
            delay_in(b"/text/%5Bdelay%3D50%5D", b"delay%3D"),
            Some(Duration::from_millis(50))
        );
        assert_eq!(
            delay_in(br#"{"content":"[delay=1000] hi"}"#, b"[delay="),
            Some(Duration::from_millis(1000))
        );
        assert_eq!(delay_in(b"/text/delay=", b"delay="), None);
        assert_eq!(delay_in(b"/text/hi", b"delay="), None);
    }

    #[test]
    fn image_looks_like_a_jpeg() {
        let image = image_body();
        assert_eq!(image.len(), IMAGE_BYTES);
        assert_eq!(&image[..3], &[0xFF, 0xD8, 0xFF]);
    }

    #[test]
    fn stream_requests_are_recognised() {
        assert!(wants_stream(br#"{"model":"openai","stream":true}"#));
        assert!(wants_stream(br#"{"model": "openai", "stream": true}"#));
        assert!(!wants_stream(br#"{"model":"openai","stream":false}"#));
    }
}
