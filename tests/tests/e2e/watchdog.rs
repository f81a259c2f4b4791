//! Attempt deadlines are kept by one watchdog task per async client (not a timer per
//! attempt): an attempt that gets no answer still ends at its deadline and is retried, on
//! tokio and on smol; a client that outlives the runtime its watchdog ran on starts another
//! on the next; a dropped client's watchdog ends. The server holds each connection open
//! without a byte of answer.

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use blossom_core::policy::RetryPolicy;
use blossom_core::{Error, ErrorKind};
use blossom_tests::loopback::{Script, Server};

const ATTEMPT: Duration = Duration::from_millis(300);

/// Each request is held 30 s without an answer.
fn silent_server() -> Server {
    Server::start(vec![Script::new().hold(Duration::from_secs(30))]).unwrap()
}

/// One retry, after a short backoff.
fn one_retry() -> RetryPolicy {
    let mut retry = RetryPolicy::default();
    retry.max_retries = 1;
    retry.base = Duration::from_millis(10);
    retry.cap = Duration::from_millis(10);
    retry
}

/// The call ended with an attempt timeout after both attempts, each given its 300 ms.
fn check_timed_out(result: Result<blossom_core::api::TextReply, Error>, took: Duration) {
    let error = result.expect_err("nothing was answered");
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert_eq!(error.attempts(), 2, "{error}");
    assert!(
        took >= 2 * ATTEMPT,
        "ended after {took:?}, before two attempt timeouts"
    );
    assert!(took < Duration::from_secs(10), "ended after {took:?}");
}

fn tokio_client(server: &Server) -> blossom_tokio::Client {
    blossom_tokio::Client::builder()
        .base_url(&server.base_url())
        .request_timeout(ATTEMPT)
        .retry(one_retry())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_silent_attempt_ends_at_its_deadline_and_is_retried_on_tokio() {
    let server = silent_server();
    let client = tokio_client(&server);
    let started = Instant::now();
    let result = client.text("anyone there").await;
    check_timed_out(result, started.elapsed());
    assert!(server.wait_until(Duration::from_secs(5), |s| s.requests() == 2));
}

#[test]
fn a_silent_attempt_ends_at_its_deadline_and_is_retried_on_smol() {
    let server = silent_server();
    let client = blossom_smol::Client::builder()
        .base_url(&server.base_url())
        .request_timeout(ATTEMPT)
        .retry(one_retry())
        .build()
        .unwrap();
    let started = Instant::now();
    let result = smol::block_on(client.text("anyone there").into_future());
    check_timed_out(result, started.elapsed());
}

#[test]
fn a_client_that_outlives_its_watchdogs_runtime_starts_another() {
    let server = silent_server();
    let client = tokio_client(&server);
    for _ in 0..2 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        // Bounded: without a watchdog the call would wait for the server's 30 s.
        let result = runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), client.text("anyone there"))
                .await
                .expect("no watchdog ended the attempt")
        });
        check_timed_out(result, started.elapsed());
        // The runtime, and the watchdog task on it, go away here.
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_dropped_clients_watchdog_ends() {
    let server = silent_server();
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    // A long attempt timeout: the watchdog sleeps until then unless the drop wakes it.
    let client = blossom_tokio::Client::builder()
        .base_url(&server.base_url())
        .request_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_millis(50), client.text("anyone there")).await;
    assert!(
        metrics.num_alive_tasks() > before,
        "the first attempt started the watchdog"
    );
    drop(client);
    let deadline = Instant::now() + Duration::from_secs(5);
    while metrics.num_alive_tasks() > before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        metrics.num_alive_tasks(),
        before,
        "a task of the dropped client (its watchdog) still runs"
    );
}
