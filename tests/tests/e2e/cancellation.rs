//! Dropping a call's future or a batch cancels its calls: permits are freed at once and the
//! calls are counted as cancelled.
//!
//! The connection of a call dropped while the server has not answered yet is closed by the
//! transport at its next callback (libcurl via isahc checks for cancellation when the
//! response head or body data arrive); a stream dropped while its body flows closes its
//! connection at once (the conformance suite checks that the emulator sees it).

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::*;

async fn slow_emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default().faults("latency=2s".parse().unwrap()))
        .await
        .unwrap()
}

fn client(emulator: &Emulator) -> Client {
    Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .max_concurrent(2)
        .build()
        .unwrap()
}

async fn until(what: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !what() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn dropping_a_future_cancels_the_call_and_frees_its_permit() {
    let emulator = slow_emulator().await;
    let client = client(&emulator);
    let call = client.text("never mind").into_future();
    // Poll it long enough to be in flight, then drop it.
    assert!(
        tokio::time::timeout(Duration::from_millis(150), call)
            .await
            .is_err()
    );
    let metrics = client.metrics();
    assert_eq!((metrics.cancelled, metrics.in_flight), (1, 0));
    // The permit is free: two more calls can start at once.
    let started = Instant::now();
    let (a, b) = tokio::join!(
        client.text("one").timeout(Duration::from_secs(4)),
        client.text("two")
    );
    assert!(a.is_ok() && b.is_ok());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the cancelled call still held a permit"
    );
}

#[tokio::test]
async fn dropping_a_batch_cancels_its_calls() {
    let emulator = slow_emulator().await;
    let client = client(&emulator);
    let mut results = client
        .batch((0..100).map(|i| TextRequest::new(format!("batch item {i}"))))
        .concurrency(8)
        .run();
    assert!(
        tokio::time::timeout(Duration::from_millis(200), results.next())
            .await
            .is_err()
    );
    drop(results);
    let metrics = client.metrics();
    assert_eq!(
        metrics.cancelled, 8,
        "the calls in flight or queued were cancelled"
    );
    assert_eq!((metrics.in_flight, metrics.queued), (0, 0));
    // Only the two that held permits reached the server; nothing else is sent later.
    until(|| emulator.stats().requests_total >= 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(emulator.stats().requests_total, 2);
}

#[tokio::test]
async fn mixed_calls_share_the_client_limits() {
    let emulator =
        Emulator::start(EmulatorConfig::default().faults("latency=50ms".parse().unwrap()))
            .await
            .unwrap();
    let client = client(&emulator);
    let texts = (0..6).map(|i| {
        client
            .call(AnyRequest::from(TextRequest::new(format!("text {i}"))))
            .into_future()
    });
    let images = (0..6).map(|i| {
        client
            .call(AnyRequest::from(
                ImageRequest::new(format!("image {i}")).size(16, 16),
            ))
            .into_future()
    });
    let results = futures_util::future::join_all(texts.chain(images)).await;
    assert!(results.iter().all(Result::is_ok));
    let metrics = client.metrics();
    assert_eq!(
        metrics.max_in_flight, 2,
        "text and image calls share the two permits"
    );
    assert_eq!(emulator.stats().max_in_flight, 2);
}
