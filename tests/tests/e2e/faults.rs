//! The tokio client against a faulty emulator: retries, breaker, coalescing and deadlines
//! proven over real HTTP on loopback.

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig, FaultSpec};
use blossom_tokio::*;

fn faults(spec: &str) -> FaultSpec {
    spec.parse().unwrap()
}

async fn faulty(spec: &str, seed: u64) -> Emulator {
    Emulator::start(EmulatorConfig::default().seed(seed).faults(faults(spec)))
        .await
        .unwrap()
}

fn builder(emulator: &Emulator) -> ClientBuilder {
    Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .seed(42)
}

/// 20 % of attempts fail (5xx, 429, resets): every call of a 1,000-call batch still succeeds,
/// and the server saw exactly the attempts the client made.
#[tokio::test]
async fn a_thousand_calls_through_twenty_percent_faults() {
    let emulator = faulty(
        "500=0.05,502=0.04,503=0.04,429=0.03,reset=0.04,retry_after=50ms",
        7,
    )
    .await;
    let mut retry = RetryPolicy::default();
    retry.max_retries = 8;
    retry.base = Duration::from_millis(20);
    retry.cap = Duration::from_millis(200);
    let mut budget = BudgetConfig::default();
    budget.ratio = 0.5;
    let client = builder(&emulator)
        .retry(retry)
        .retry_budget(Some(budget))
        .build()
        .unwrap();
    let requests = (0..1_000).map(|i| TextRequest::new(format!("prompt number {i}")));
    let mut results = client.batch(requests).concurrency(32).run();
    let mut ok = 0;
    while let Some((index, result)) = results.next().await {
        let reply = result.unwrap_or_else(|e| panic!("item {index}: {e}"));
        assert!(reply.text.contains(&format!("prompt number {index}")));
        ok += 1;
    }
    assert_eq!(ok, 1_000);
    let metrics = client.metrics();
    let stats = emulator.stats();
    assert_eq!(metrics.succeeded, 1_000);
    assert!(metrics.retried > 100, "{} retries", metrics.retried);
    assert_eq!(metrics.attempts, 1_000 + metrics.retried);
    // libcurl resends a request once, on a fresh connection, when a reused connection dies
    // before any answer byte: the server may see a few more requests than the client made
    // attempts, never more than the resets it injected.
    let resent = stats.requests_total - metrics.attempts;
    assert!(stats.requests_total >= metrics.attempts);
    assert!(
        resent <= stats.fault("reset"),
        "{resent} resends, {} resets",
        stats.fault("reset")
    );
    let injected: u64 = stats
        .faults
        .iter()
        .filter(|(k, _)| *k != "latency")
        .map(|(_, v)| v)
        .sum();
    assert_eq!(
        injected - resent,
        metrics.retried,
        "each fault the client saw was retried once"
    );
}

/// A total outage opens the breaker: calls fail fast instead of hammering the server, and
/// the breaker closes again once the server recovers.
#[tokio::test]
async fn an_outage_opens_the_breaker_and_recovery_closes_it() {
    let emulator = faulty("503=1.0", 1).await;
    let client = builder(&emulator)
        .circuit_breaker(Some(BreakerConfig::consecutive(
            5,
            Duration::from_millis(300),
        )))
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let started = Instant::now();
    let mut kinds = std::collections::BTreeMap::new();
    for i in 0..200 {
        let error = client.text(format!("outage {i}")).await.unwrap_err();
        *kinds.entry(error.kind().as_str()).or_insert(0) += 1;
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "failing fast took {:?}",
        started.elapsed()
    );
    assert_eq!(kinds.get("api"), Some(&5), "{kinds:?}");
    assert_eq!(kinds.get("circuit_open"), Some(&195), "{kinds:?}");
    assert_eq!(emulator.stats().requests_total, 5);
    let metrics = client.metrics();
    assert!(matches!(
        metrics.breakers["text"],
        BreakerStatus::Open { .. }
    ));

    emulator.set_faults(FaultSpec::none());
    tokio::time::sleep(Duration::from_millis(350)).await;
    let reply = client.text("after the outage").await.unwrap();
    assert!(reply.text.contains("after the outage"));
    assert_eq!(client.metrics().breakers["text"], BreakerStatus::Closed);
}

/// A hundred identical image calls at once make one request.
#[tokio::test]
async fn identical_concurrent_calls_reach_the_server_once() {
    let emulator = faulty("latency=200ms", 3).await;
    let client = builder(&emulator).build().unwrap();
    let request = ImageRequest::new("a lighthouse at dusk")
        .size(64, 64)
        .seed(5);
    let calls = (0..100).map(|_| client.image(request.clone()).into_future());
    let images = futures_util::future::join_all(calls).await;
    let first = images[0].as_ref().unwrap().bytes.clone();
    for image in &images {
        assert_eq!(image.as_ref().unwrap().bytes, first);
    }
    assert_eq!(emulator.stats().route("GET /image"), 1);
    let metrics = client.metrics();
    assert_eq!(metrics.coalesced, 99);
    assert_eq!(metrics.attempts, 1);
}

/// A stalled server cannot make a call miss its deadline.
#[tokio::test]
async fn a_deadline_is_met_when_the_server_stalls() {
    let emulator = faulty("stall=1.0", 4).await;
    let client = builder(&emulator).build().unwrap();
    let started = Instant::now();
    let error = client
        .image(ImageRequest::new("stalled").size(32, 32))
        .timeout(Duration::from_millis(300))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}

/// Stream faults surface as typed errors, never as a quiet end.
#[tokio::test]
async fn stream_faults_are_typed() {
    for (spec, kind, code) in [
        ("stream_error=1.0", ErrorKind::Stream, Some("usage_missing")),
        ("truncate=1.0", ErrorKind::Stream, None),
        ("reset_body=1.0", ErrorKind::Stream, None),
    ] {
        let emulator = faulty(spec, 5).await;
        let client = builder(&emulator).build().unwrap();
        let stream = client
            .chat_stream(ChatRequest::new("openai").user("tell me"))
            .await
            .unwrap();
        let error = stream.collect_message().await.unwrap_err();
        assert_eq!(error.kind(), kind, "{spec}: {error}");
        assert_eq!(error.code(), code, "{spec}");
        assert!(!error.is_retryable());
        assert_eq!(
            client.metrics().in_flight,
            0,
            "{spec}: the stream's permit was freed"
        );
    }
}

/// A server that asks for more than the maximum wait gets no retry: the error says how long.
#[tokio::test]
async fn too_long_a_retry_after_is_returned_not_waited() {
    let emulator = faulty("429=1.0,retry_after=600s", 6).await;
    let client = builder(&emulator).build().unwrap();
    let started = Instant::now();
    let error = client.text("hi").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(error.is_rate_limited());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(600)));
    assert_eq!(error.attempts(), 1);
}

/// Malformed success bodies are retried (idempotent calls) and then succeed.
#[tokio::test]
async fn malformed_bodies_are_retried() {
    let emulator = faulty("malformed=0.3", 8).await;
    let mut retry = RetryPolicy::default();
    retry.max_retries = 10;
    retry.base = Duration::from_millis(5);
    // Malformed answers count against the breaker (the server is not healthy): off here.
    let client = builder(&emulator)
        .retry(retry)
        .retry_budget(None)
        .circuit_breaker(None)
        .build()
        .unwrap();
    for i in 0..20 {
        let models = client.model_list(ModelKind::Text).no_cache().await.unwrap();
        assert!(!models.is_empty(), "call {i}");
    }
    assert!(client.metrics().retried > 0);
}
