//! Bodies too large to hold: whole bodies past `max_body_bytes` (chunked and with a
//! `Content-Length`), streams that never end an event, streams of valid events that never
//! end, and a gzip bomb; and a body that is not the image it claims to be.
//!
//! The large cases run in child processes (see `memory`), each printing its peak-memory
//! figures; every one must end in a typed error, within a bounded time, with the process's
//! peak RSS growing by far less than the hostile size.

use std::time::Duration;

use blossom_client::AnyResponse;
use blossom_core::api::{ChatRequest, ImageRequest, TextRequest};
use blossom_core::engine::CallOptions;
use blossom_core::{Error, ErrorKind, TransportErrorKind};
use blossom_tests::loopback::{LAST_CHUNK, Script, Server, content_event, response_head};

use crate::clients::{ALL, Adapter, Client, Setup, quick_retries};
use crate::memory::{Case, Measured, isolated, measure};
use crate::{KEY, gzip};

const MIB: u64 = 1024 * 1024;
/// The piece the large bodies are written from: one write, or one chunk, each.
const PIECE: usize = 64 * 1024;
/// The size of the hostile bodies.
const HOSTILE: u64 = 200 * MIB;
/// `max_body_bytes` in these cases.
const LIMIT: usize = 1024 * 1024;
/// The most the peak RSS may grow in any of them.
const GROWTH_BUDGET_KIB: u64 = 64 * 1024;
/// The call timeout of every hostile call: nothing may take longer.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// The cases the children run, by name.
pub(crate) const CASES: &[Case] = &[
    ("chunked_body", chunked_body),
    ("length_body", length_body),
    ("sse_endless_line", sse_endless_line),
    (
        "sse_endless_line_default_limit",
        sse_endless_line_default_limit,
    ),
    ("sse_fast_valid_events", sse_fast_valid_events),
    ("sse_valid_events_forever", sse_valid_events_forever),
    ("gzip_bomb", gzip_bomb),
];

#[test]
fn a_200_mib_chunked_body_fails_at_the_limit() {
    isolated("chunked_body");
}

#[test]
fn a_200_mib_content_length_body_fails_at_the_limit() {
    isolated("length_body");
}

#[test]
fn an_sse_line_that_never_ends_fails_at_the_limit() {
    isolated("sse_endless_line");
}

#[test]
fn an_sse_line_that_never_ends_fails_at_the_event_limit() {
    isolated("sse_endless_line_default_limit");
}

#[test]
fn valid_events_sent_as_fast_as_possible_fail_at_the_limit() {
    isolated("sse_fast_valid_events");
}

#[test]
fn valid_events_sent_forever_end_at_the_call_timeout() {
    isolated("sse_valid_events_forever");
}

#[test]
fn a_gzip_bomb_fails_at_the_limit() {
    isolated("gzip_bomb");
}

// --- The cases ----------------------------------------------------------------------------

/// A server that answers its first request (the warm-up, `GET /text/warmup`) with `ok` and
/// every later one with `hostile`, closing the connection after each answer.
fn hostile_server(hostile: Script) -> Server {
    let warmup = Script::ok("text/plain; charset=utf-8", "ok").close();
    Server::start(vec![warmup, hostile.close()]).unwrap()
}

/// A client of `adapter` for `server`, with quick retries, warmed up by one small call.
fn warm_client(adapter: Adapter, server: &Server, setup: Setup) -> Client {
    let client = Client::new(adapter, &server.base_url(), &setup.retry(quick_retries(2)));
    let warm = client.call(TextRequest::new("warmup"), CallOptions::default());
    assert_eq!(
        warm.unwrap().text(),
        Some("ok"),
        "the warm-up call failed on {adapter:?}"
    );
    assert_eq!(
        server.request_lines().first().map(String::as_str),
        Some("GET /text/warmup HTTP/1.1"),
        "the warm-up was not the first request"
    );
    client
}

fn options() -> CallOptions {
    CallOptions::default().timeout(CALL_TIMEOUT)
}

/// The error's kinds, as the figures line shows them.
fn kinds(error: &Error) -> String {
    format!(
        "{:?}/{:?}",
        error.kind(),
        error.transport_error().map(|t| t.kind())
    )
}

/// Asserts the bounds every large case shares: memory growth and time.
fn assert_bounded(measured: &Measured, limit: Duration) {
    assert!(
        measured.growth_kib() < GROWTH_BUDGET_KIB,
        "the peak RSS grew by {} KiB (budget {GROWTH_BUDGET_KIB} KiB) for a {} MiB body",
        measured.growth_kib(),
        HOSTILE / MIB
    );
    assert!(
        measured.took < limit,
        "the call took {:?} (limit {limit:?})",
        measured.took
    );
}

/// Drops the client, waits for the server to stop writing, and describes what it wrote.
fn server_wrote(client: Client, server: &Server) -> u64 {
    drop(client);
    assert!(
        server.wait_until(Duration::from_secs(20), |s| s.playing() == 0),
        "the server still writes 20 s after the client was dropped"
    );
    let written = server.written();
    assert!(
        written < HOSTILE,
        "the server wrote all {written} bytes: the client read the whole hostile body"
    );
    written
}

/// A whole body of `HOSTILE` bytes, chunked or with its `Content-Length`.
fn whole_body(adapter: Adapter, chunked: bool) -> (Measured, String) {
    let length = (!chunked).then(|| usize::try_from(HOSTILE).unwrap());
    let head = Script::new().write(response_head(200, "text/plain; charset=utf-8", length));
    let server = hostile_server(if chunked {
        head.repeat_chunks(vec![b'a'; PIECE], HOSTILE)
            .write(LAST_CHUNK)
    } else {
        head.repeat(vec![b'a'; PIECE], HOSTILE)
    });
    let client = warm_client(adapter, &server, Setup::new(KEY).max_body_bytes(LIMIT));
    let (result, measured) = measure(|| client.call(TextRequest::new("hostile"), options()));
    let error = result.expect_err("a 200 MiB body was accepted");
    assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
    assert_eq!(
        error.transport_error().map(|t| t.kind()),
        Some(TransportErrorKind::BodyTooLarge),
        "{error:?}"
    );
    assert!(!error.is_retryable(), "{error:?}");
    let requests = server.requests() - 1;
    assert_eq!(requests, 1, "an oversized body is not retried");
    assert_bounded(&measured, Duration::from_secs(10));
    let written = server_wrote(client, &server);
    let outcome = format!(
        "{} requests={requests} server_wrote={:.1}MiB",
        kinds(&error),
        written as f64 / MIB as f64
    );
    (measured, outcome)
}

fn chunked_body(adapter: Adapter) -> (Measured, String) {
    whole_body(adapter, true)
}

fn length_body(adapter: Adapter) -> (Measured, String) {
    whole_body(adapter, false)
}

fn sse_head() -> Vec<u8> {
    response_head(200, "text/event-stream; charset=utf-8", None)
}

/// An event stream whose first event's `data:` line goes on for `total` bytes of `a`.
fn endless_line_script(total: u64) -> Script {
    Script::new()
        .write(sse_head())
        .chunk(br#"data: {"choices":[{"index":0,"delta":{"content":""#)
        .repeat_chunks(vec![b'a'; PIECE], total)
        .write(LAST_CHUNK)
}

fn chat() -> ChatRequest {
    ChatRequest::new("openai").user("hostile")
}

/// A stream whose first event's `data:` line never ends, with `max_body_bytes` = `limit`
/// (`None`: the default, 64 MiB; the SSE decoder's 1 MiB event limit is then the bound).
fn endless_line(adapter: Adapter, limit: Option<usize>) -> (Measured, String) {
    let server = hostile_server(endless_line_script(HOSTILE));
    let mut setup = Setup::new(KEY);
    if let Some(limit) = limit {
        setup = setup.max_body_bytes(limit);
    }
    let client = warm_client(adapter, &server, setup);
    let (outcome, measured) = measure(|| client.stream(chat(), options()));
    let error = outcome
        .error
        .expect("a stream whose first line never ends succeeded");
    assert_eq!(outcome.chunks, 0);
    assert!(
        matches!(
            error.kind(),
            ErrorKind::Transport | ErrorKind::Stream | ErrorKind::Decode
        ),
        "{error:?}"
    );
    let requests = server.requests() - 1;
    // Retries (at most 2) may each read up to the limit: still bounded.
    assert!((1..=3).contains(&requests), "{requests} requests");
    assert_bounded(&measured, Duration::from_secs(15));
    let written = server_wrote(client, &server);
    let outcome = format!(
        "{} retryable={} requests={requests} server_wrote={:.1}MiB error=\"{error}\"",
        kinds(&error),
        error.is_retryable(),
        written as f64 / MIB as f64
    );
    (measured, outcome)
}

fn sse_endless_line(adapter: Adapter) -> (Measured, String) {
    endless_line(adapter, Some(LIMIT))
}

fn sse_endless_line_default_limit(adapter: Adapter) -> (Measured, String) {
    endless_line(adapter, None)
}

/// About 64 KiB of valid content events.
fn event_batch() -> Vec<u8> {
    let event = content_event("token ");
    let mut batch = Vec::with_capacity(64 * 1024 + event.len());
    while batch.len() < 64 * 1024 {
        batch.extend_from_slice(&event);
    }
    batch
}

/// Valid events as fast as the socket takes them, never `[DONE]`: past `max_body_bytes`
/// the stream must fail.
fn sse_fast_valid_events(adapter: Adapter) -> (Measured, String) {
    // Whole batches, the last one reaching or passing `HOSTILE` bytes.
    let batch = event_batch();
    let total = HOSTILE.div_ceil(batch.len() as u64) * batch.len() as u64;
    let server = hostile_server(
        Script::new()
            .write(sse_head())
            .repeat_chunks(batch, total)
            .write(LAST_CHUNK),
    );
    let client = warm_client(adapter, &server, Setup::new(KEY).max_body_bytes(LIMIT));
    let (outcome, measured) = measure(|| client.stream(chat(), options()));
    let error = outcome
        .error
        .expect("an endless stream of events succeeded");
    assert!(outcome.chunks > 0, "no chunk reached the caller");
    assert!(
        (outcome.text_bytes as u64) < LIMIT as u64,
        "{} text bytes passed a {LIMIT}-byte limit",
        outcome.text_bytes
    );
    assert!(
        matches!(error.kind(), ErrorKind::Transport | ErrorKind::Stream),
        "{error:?}"
    );
    let requests = server.requests() - 1;
    assert_eq!(requests, 1, "a stream that started is never retried");
    assert_bounded(&measured, Duration::from_secs(10));
    let written = server_wrote(client, &server);
    let outcome = format!(
        "{} chunks={} requests={requests} server_wrote={:.1}MiB error=\"{error}\"",
        kinds(&error),
        outcome.chunks,
        written as f64 / MIB as f64
    );
    (measured, outcome)
}

/// One valid event every 10 ms, forever: only the call's timeout (2 s here) ends it.
fn sse_valid_events_forever(adapter: Adapter) -> (Measured, String) {
    let server = hostile_server(Script::new().write(sse_head()).repeat_chunks_every(
        content_event("tick "),
        u64::MAX,
        Duration::from_millis(10),
    ));
    let client = warm_client(adapter, &server, Setup::new(KEY).max_body_bytes(LIMIT));
    let timeout = Duration::from_secs(2);
    let (outcome, measured) =
        measure(|| client.stream(chat(), CallOptions::default().timeout(timeout)));
    let error = outcome.error.expect("an endless stream succeeded");
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert!(outcome.chunks > 10, "{} chunks", outcome.chunks);
    assert!(
        measured.took >= timeout - Duration::from_millis(100),
        "the stream ended after {:?}, before its timeout",
        measured.took
    );
    assert_bounded(&measured, timeout + Duration::from_secs(3));
    let requests = server.requests() - 1;
    assert_eq!(requests, 1);
    let written = server_wrote(client, &server);
    let outcome = format!(
        "{} chunks={} requests={requests} server_wrote={:.1}KiB",
        kinds(&error),
        outcome.chunks,
        written as f64 / 1024.0
    );
    (measured, outcome)
}

/// 1 GiB of zeros as about 1 MiB of gzip, with a 4 MiB limit: only the inflated size passes
/// the limit.
fn gzip_bomb(adapter: Adapter) -> (Measured, String) {
    let bomb = gzip::zeros(1 << 30);
    let compressed = bomb.len();
    let limit = 4 * 1024 * 1024;
    assert!(compressed < limit);
    let server = hostile_server(Script::new().write(gzip_head(compressed)).write(bomb));
    let client = warm_client(adapter, &server, Setup::new(KEY).max_body_bytes(limit));
    let (result, measured) = measure(|| client.call(TextRequest::new("hostile"), options()));
    let error = result.expect_err("a gzip bomb was accepted");
    let accept_encoding = server.request_heads().last().and_then(|h| {
        h.header("accept-encoding")
            .map(|v| String::from_utf8_lossy(v).into_owned())
    });
    assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
    assert_eq!(
        error.transport_error().map(|t| t.kind()),
        Some(TransportErrorKind::BodyTooLarge),
        "{error:?}"
    );
    let requests = server.requests() - 1;
    assert_eq!(requests, 1);
    assert_bounded(&measured, Duration::from_secs(10));
    drop(client);
    server.wait_until(Duration::from_secs(20), |s| s.playing() == 0);
    let outcome = format!(
        "{} requests={requests} compressed={compressed}B inflated=1GiB limit={limit}B \
         accept_encoding={accept_encoding:?}",
        kinds(&error)
    );
    (measured, outcome)
}

/// The head of a `200 OK` gzip-encoded text body of `length` bytes.
fn gzip_head(length: usize) -> Vec<u8> {
    let mut head = response_head(200, "text/plain; charset=utf-8", Some(length));
    // The extra field goes before the blank line that ends the head.
    head.truncate(head.len() - 2);
    head.extend_from_slice(b"Content-Encoding: gzip\r\n\r\n");
    head
}

// --- Small cases, in the test process ----------------------------------------------------

/// The positive control of the bomb: a small member of the same construction inflates, on
/// every adapter, to exactly its zeros. (Without this, a bomb the transport could not
/// decode at all would look like a pass.)
#[test]
fn a_small_gzip_member_of_the_same_construction_inflates() {
    let size = 3 * 1024 * 1024 + 7;
    let member = gzip::zeros(size);
    for adapter in ALL {
        let server = Server::start(vec![
            Script::new()
                .write(gzip_head(member.len()))
                .write(&member)
                .close(),
        ])
        .unwrap();
        let client = Client::new(
            adapter,
            &server.base_url(),
            &Setup::new(KEY).max_body_bytes(4 * 1024 * 1024),
        );
        let reply = client
            .call(TextRequest::new("zeros"), options())
            .unwrap_or_else(|e| panic!("{adapter:?}: {e:?}"));
        let AnyResponse::Text(reply) = reply else {
            panic!("{adapter:?}: not a text reply")
        };
        assert_eq!(reply.text.len() as u64, size, "{adapter:?}");
        assert!(reply.text.bytes().all(|b| b == 0), "{adapter:?}");
    }
}

/// An image call answered `200 image/jpeg` with something that is not an image.
#[test]
fn a_body_that_is_not_an_image_is_a_decode_error() {
    let html = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>\
                 <body>Checking your browser</body></html>";
    let bodies: [(&str, &[u8]); 3] = [
        ("html", html),
        ("json", br#"{"error":{"message":"image failed"}}"#),
        ("empty", b""),
    ];
    for (name, body) in bodies {
        for adapter in ALL {
            let server = Server::start(vec![Script::ok("image/jpeg", body).close()]).unwrap();
            let client = Client::new(
                adapter,
                &server.base_url(),
                &Setup::new(KEY).retry(quick_retries(1)),
            );
            let error = client
                .call(ImageRequest::new("x"), options())
                .expect_err("a non-image was accepted as an image");
            eprintln!(
                "{name} as image/jpeg on {}: {:?} retryable={} requests={}: {error}",
                adapter.name(),
                error.kind(),
                error.is_retryable(),
                server.requests()
            );
            assert_eq!(
                error.kind(),
                ErrorKind::Decode,
                "{name} on {adapter:?}: {error:?}"
            );
        }
    }
}

/// A stream whose body passes `max_body_bytes` before its first event is the same hostile
/// answer as an oversized whole body, and should fail the same way: `BodyTooLarge`, not
/// retryable, one request. (`sse_endless_line` above only asserts that it fails, bounded.)
#[test]
fn a_stream_too_large_before_its_first_event_is_body_too_large_and_not_retried() {
    let limit = 64 * 1024;
    for adapter in ALL {
        let server = Server::start(vec![endless_line_script(4 * MIB).close()]).unwrap();
        let client = Client::new(
            adapter,
            &server.base_url(),
            &Setup::new(KEY)
                .max_body_bytes(limit)
                .retry(quick_retries(2)),
        );
        let error = client
            .stream(chat(), options())
            .error
            .expect("an oversized stream succeeded");
        let requests = server.requests();
        eprintln!(
            "{}: {} retryable={} requests={requests}: {error}",
            adapter.name(),
            kinds(&error),
            error.is_retryable()
        );
        assert_eq!(
            error.transport_error().map(|t| t.kind()),
            Some(TransportErrorKind::BodyTooLarge),
            "{adapter:?}: {error:?}"
        );
        assert!(!error.is_retryable(), "{adapter:?}: {error:?}");
        assert_eq!(
            requests, 1,
            "{adapter:?}: the oversized answer was requested again"
        );
    }
}
