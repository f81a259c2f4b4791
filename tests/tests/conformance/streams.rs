//! Streams against a scripted loopback server: the exact bytes of faults the emulator cannot
//! (or does not) produce, each scenario named after the bug it pins. Every adapter must end
//! these streams at the same moment and with the same verdict.

use std::time::{Duration, Instant};

use blossom_client::AnyRequest;
use blossom_core::api::{ChatChunk, ChatRequest, TextRequest};
use blossom_core::engine::CallOptions;
use blossom_core::policy::RetryPolicy;
use blossom_core::{Error, ErrorKind};
use blossom_emulator::EmulatorConfig;
use blossom_tests::loopback::{DONE, LAST_CHUNK, PING, Script, content_event, sse_head};

use crate::harness::{Settings, Timed};
use crate::{conform, conform_loopback};

/// Longer than any bound under test: a server step this long must never be waited out.
const FOREVER: Duration = Duration::from_secs(10);

fn request(prompt: &str) -> ChatRequest {
    ChatRequest::new("openai").user(prompt)
}

/// The text of the chunks, and the kind of the error the stream ended with (if any).
fn outcome(chunks: &[Timed<Result<ChatChunk, Error>>]) -> (String, Option<ErrorKind>) {
    let text = chunks
        .iter()
        .filter_map(|(_, chunk)| chunk.as_ref().ok())
        .map(ChatChunk::text)
        .collect();
    let error = chunks
        .iter()
        .find_map(|(_, chunk)| chunk.as_ref().err())
        .map(Error::kind);
    (text, error)
}

/// The head, one content event, `[DONE]`: everything but the end of the body.
fn done_but_not_ended(text: &str) -> Script {
    Script::new()
        .write(sse_head())
        .chunk(content_event(text))
        .chunk(DONE)
}

/// The head and one content event, then silence.
fn one_chunk_then_silence() -> Vec<Script> {
    vec![
        Script::new()
            .write(sse_head())
            .chunk(content_event("partial"))
            .hold(FOREVER)
            .close(),
    ]
}

/// Reads a stream whose body outlives its `[DONE]`, then a normal second stream on the same
/// client; returns what both said and how many requests and connections the server saw.
fn read_past_done(
    h: &dyn crate::harness::Harness,
    server: &blossom_tests::loopback::Server,
) -> (String, String, usize, usize) {
    let started = Instant::now();
    let first = h.stream(request("first")).unwrap();
    let took = started.elapsed();
    eprintln!("the stream ended {took:?} after it was opened");
    assert!(
        took < Duration::from_secs(1),
        "the caller waited {took:?} for a body held open after [DONE]"
    );
    let second = h.stream(request("second")).unwrap();
    let (first, first_error) = outcome(&first);
    let (second, second_error) = outcome(&second);
    assert_eq!((first_error, second_error), (None, None));
    (first, second, server.requests(), server.connections())
}

#[test]
fn a_stream_held_open_after_done_ends_at_once() {
    let scripts = || {
        vec![
            done_but_not_ended("Hello").hold(FOREVER).close(),
            Script::sse(&["again"]),
        ]
    };
    conform_loopback(scripts, Settings::default(), |h, server| {
        let observed = read_past_done(h, server);
        assert_eq!(
            observed,
            ("Hello".into(), "again".into(), 2, 2),
            "(first, second, requests, connections)"
        );
        observed
    });
}

#[test]
fn a_stream_sending_comments_after_done_ends_at_once() {
    let scripts = || {
        let mut pinging = done_but_not_ended("Hello");
        for _ in 0..100 {
            pinging = pinging.sleep(Duration::from_millis(100)).chunk(PING);
        }
        vec![pinging.close(), Script::sse(&["again"])]
    };
    conform_loopback(scripts, Settings::default(), |h, server| {
        let observed = read_past_done(h, server);
        // Past the drain's 200 ms the client drops the first connection; the next comment
        // written to it finds it closed.
        let released = server.wait_until(Duration::from_secs(3), |s| s.aborted_by_client() >= 1);
        let observed = (observed, released);
        assert_eq!(
            observed,
            (("Hello".into(), "again".into(), 2, 2), true),
            "((first, second, requests, connections), first connection released)"
        );
        observed
    });
}

#[test]
fn a_stall_mid_stream_ends_at_the_calls_timeout() {
    conform_loopback(one_chunk_then_silence, Settings::default(), |h, server| {
        let started = Instant::now();
        let chunks = h
            .stream_with(
                request("stall"),
                CallOptions::default().timeout(Duration::from_secs(1)),
            )
            .unwrap();
        let took = started.elapsed();
        eprintln!("the stalled stream failed after {took:?}");
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(3),
            "a stream with a 1 s call timeout failed after {took:?}"
        );
        let observed = outcome(&chunks);
        assert_eq!(observed, ("partial".into(), Some(ErrorKind::Timeout)));
        (observed, server.requests())
    });
}

#[test]
fn a_sub_second_idle_timeout_fires_on_every_adapter() {
    let settings = Settings {
        stream_idle: Some(Duration::from_millis(300)),
        ..Settings::default()
    };
    conform_loopback(one_chunk_then_silence, settings, |h, server| {
        let started = Instant::now();
        let chunks = h.stream(request("idle")).unwrap();
        let took = started.elapsed();
        eprintln!("the idle stream failed after {took:?}");
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_secs(2),
            "a stream with a 300 ms idle timeout failed after {took:?}"
        );
        let observed = outcome(&chunks);
        assert_eq!(observed, ("partial".into(), Some(ErrorKind::Timeout)));
        (observed, server.requests())
    });
}

#[test]
fn a_stream_ending_before_its_first_event_is_retried() {
    let mut retry = RetryPolicy::default();
    retry.max_retries = 2;
    retry.base = Duration::from_millis(10);
    retry.cap = Duration::from_millis(50);
    let settings = Settings {
        retry: Some(retry),
        ..Settings::default()
    };
    // A body that ends cleanly with a comment only, and one that ends with nothing at all.
    for eventless in [
        Script::new()
            .write(sse_head())
            .chunk(PING)
            .write(LAST_CHUNK),
        Script::new().write(sse_head()).write(LAST_CHUNK),
    ] {
        let scripts = || vec![eventless.clone(), Script::sse(&["second ", "stream"])];
        conform_loopback(scripts, settings.clone(), |h, server| {
            let started = Instant::now();
            let chunks = h.stream(request("retry me")).unwrap();
            eprintln!("the retried stream ended after {:?}", started.elapsed());
            let observed = (outcome(&chunks), server.requests());
            assert_eq!(observed, (("second stream".into(), None), 2));
            observed
        });
    }
}

#[test]
fn a_duration_max_timeout_never_fails_a_call() {
    let settings = Settings {
        connect_timeout: Some(Duration::MAX),
        request_timeout: Some(Duration::MAX),
        stream_idle: Some(Duration::MAX),
        stream_drain: Some((Duration::MAX, 64 * 1024)),
        ..Settings::default()
    };
    conform(EmulatorConfig::default, settings, |h, _| {
        let forever = || CallOptions::default().timeout(Duration::MAX);
        let prompt: AnyRequest = TextRequest::new("no limit").into();
        let text = h.call(prompt, forever()).unwrap();
        let text = text.text().unwrap_or_default().to_owned();
        let chunks = h
            .stream_with(request("no limit either").seed(5), forever())
            .unwrap();
        let streamed = outcome(&chunks);
        assert!(text.contains("no limit"), "{text}");
        assert_eq!(streamed.1, None, "the stream failed");
        assert!(streamed.0.contains("no limit either"), "{}", streamed.0);
        (text, streamed)
    });
}

/// What a server that never closes leaves behind must not hold up the client's next call:
/// past the drain (after `[DONE]`) or the stream's error, the abandoned connection no longer
/// counts against the pool, even with a pool of one. (That the transport then reclaims the
/// socket itself is `e2e::abandoned_connections`.)
#[test]
fn a_connection_left_open_by_a_silent_server_does_not_hold_up_the_next_call() {
    let settings = Settings {
        max_connections: Some(1),
        ..Settings::default()
    };
    let after_done = done_but_not_ended("Hello").hold(FOREVER).close();
    let stalled = one_chunk_then_silence().remove(0);
    for (silent, said) in [(after_done, "Hello"), (stalled, "partial")] {
        let scripts = || vec![silent.clone(), Script::sse(&["again"])];
        conform_loopback(scripts, settings.clone(), |h, _| {
            let first = h
                .stream_with(
                    request("first"),
                    CallOptions::default().timeout(Duration::from_millis(500)),
                )
                .unwrap();
            let started = Instant::now();
            let second = h.stream(request("second"));
            let took = started.elapsed();
            assert!(
                took < Duration::from_secs(1),
                "the next call waited {took:?} for the connection the server kept open, \
                 and ended with {second:?}"
            );
            let observed = (outcome(&first).0, outcome(&second.unwrap()));
            assert_eq!(observed, (said.into(), ("again".into(), None)));
            observed
        });
    }
}
