//! What the SDK reports through `tracing`: a call that is retried, paced and finally served
//! leaves one span and an event for each step, at the documented levels, and never the key.
//!
//! A small subscriber (`blossom_tests::capture`) records spans and events as text; it is
//! installed for the test's thread only (`set_default`), where the current-thread runtime
//! runs the engine. The test
//! binary has one test, so no other thread meets a callsite first: `tracing` caches each
//! callsite's interest process-wide, and an engine running on another thread without a
//! subscriber at that moment could leave an event unseen here.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::IntoFuture;
use std::time::Duration;

use blossom_core::engine::LimiterConfig;
use blossom_core::policy::RateLimit;
use blossom_tests::capture::{Capture, Line};
use blossom_tests::loopback::{Script, Server};
use blossom_tokio::*;
use tracing::Level;

const KEY: &str = "sk_TracingEventsTracingEventsTrace1";

fn find<'a>(lines: &'a [Line], level: Level, parts: &[&str]) -> &'a Line {
    lines
        .iter()
        .find(|line| line.level == level && parts.iter().all(|p| line.text.contains(p)))
        .unwrap_or_else(|| {
            let all: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
            panic!("no {level} event with {parts:?} among:\n{}", all.join("\n"))
        })
}

/// One test, the scenarios in turn (see the module's documentation).
#[tokio::test]
async fn the_sdk_reports_what_it_does() {
    a_retried_paced_and_served_call_reports_each_step_without_the_key().await;
    cache_hits_coalesced_calls_and_shutdown_are_reported().await;
}

async fn a_retried_paced_and_served_call_reports_each_step_without_the_key() {
    let server = Server::start(vec![
        Script::answer(503, "application/json", r#"{"error":{"message":"busy"}}"#),
        Script::ok("text/plain; charset=utf-8", "served at last"),
    ])
    .unwrap();
    let mut retry = RetryPolicy::default();
    retry.base = Duration::from_millis(10);
    retry.cap = Duration::from_millis(20);
    // One text call per 300 ms: the retry, due after about 10 ms, waits for the limiter.
    let mut limits = LimiterConfig::unlimited();
    limits.per_kind[0] = RateLimit::per_second(1.0 / 0.3, 1);
    let client = Client::builder()
        .base_url(&server.base_url())
        .api_key(KEY)
        .retry(retry)
        .rate_limits(limits)
        .build()
        .unwrap();
    let capture = Capture::default();
    let reply = {
        let _guard = tracing::subscriber::set_default(capture.clone());
        client
            .text(TextRequest::new("a prompt of forty characters, give or take").model("openai"))
            .await
            .unwrap()
    };
    assert_eq!(reply.text, "served at last");
    assert_eq!(reply.meta.attempts, 2);

    let lines = capture.lines();
    let span = "[blossom.call endpoint=text model=openai request_bytes=";
    let first = find(&lines, Level::DEBUG, &["attempt=1", "attempt sent", span]);
    assert!(first.text.contains(" id="), "{}", first.text);
    find(
        &lines,
        Level::DEBUG,
        &["attempt=1", "status=503", "latency_ms=", "attempt answered"],
    );
    let retrying = find(&lines, Level::DEBUG, &["retrying", "delay_ms=", span]);
    assert!(
        retrying.text.contains("retry_after=false"),
        "{}",
        retrying.text
    );
    find(
        &lines,
        Level::DEBUG,
        &["paced by the rate limiter", "wait_ms="],
    );
    find(&lines, Level::DEBUG, &["attempt=2", "attempt sent"]);
    find(
        &lines,
        Level::DEBUG,
        &["attempt=2", "status=200", "attempt answered"],
    );
    find(
        &lines,
        Level::DEBUG,
        &["call succeeded", "attempts=2", "answer_len=14"],
    );
    // The order is the order things happened in.
    let position = |needle: &str| lines.iter().position(|l| l.text.contains(needle)).unwrap();
    assert!(position("status=503") < position("retrying"));
    assert!(position("retrying") < position("paced by the rate limiter"));
    assert!(position("paced by the rate limiter") < position("status=200"));
    assert!(position("status=200") < position("call succeeded"));
    // Nothing is shown at `warn` for one retried call, and the key is nowhere; the prompt
    // only as a length.
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    assert!(!texts.iter().any(|t| t.contains(KEY)), "{texts:#?}");
    assert!(
        !texts.iter().any(|t| t.contains("forty characters")),
        "{texts:#?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.level != Level::WARN && l.level != Level::ERROR),
        "{texts:#?}"
    );
}

async fn cache_hits_coalesced_calls_and_shutdown_are_reported() {
    let server = Server::start(vec![Script::ok("text/plain; charset=utf-8", "once")]).unwrap();
    let client = Client::builder()
        .base_url(&server.base_url())
        .api_key(KEY)
        .build()
        .unwrap();
    let capture = Capture::default();
    {
        let _guard = tracing::subscriber::set_default(capture.clone());
        let request = || TextRequest::new("same").seed(3);
        let (a, b) = tokio::join!(
            client.text(request()).into_future(),
            client.text(request()).into_future()
        );
        assert_eq!(a.unwrap().text, "once");
        assert_eq!(b.unwrap().text, "once");
        let cached = client.text(request()).await.unwrap();
        assert!(cached.meta.cached);
        client.shutdown(Duration::from_secs(1)).await;
    }
    assert_eq!(server.requests(), 1);
    let lines = capture.lines();
    find(
        &lines,
        Level::DEBUG,
        &["coalesced: waits for an identical call"],
    );
    find(
        &lines,
        Level::DEBUG,
        &["answered by the identical call it followed"],
    );
    find(&lines, Level::DEBUG, &["answered from the cache"]);
    find(&lines, Level::INFO, &["shutting down"]);
}
