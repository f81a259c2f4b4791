//! smol's attempt watchdog (`SmolRuntime::attempt_watchdog`) in the cases a user meets:
//! a stream silent after its head, a call whose own timeout comes before the deadline the
//! watchdog sleeps until, retries with backoff, a worker pool, many clients, a client
//! dropped while its call runs, shutdown with an attempt out, and a call driven by a nested
//! `block_on` inside a task of smol's global executor (the watchdog has a thread of its
//! own, so a blocked executor cannot hold it up). The servers hold each connection open
//! without a byte of answer. Every wait is bounded.

use std::future::{Future, IntoFuture};
use std::time::{Duration, Instant};

use super::watchdog::silent_server;
use blossom_core::policy::RetryPolicy;
use blossom_core::{Error, ErrorKind};
use blossom_smol::{ChatRequest, Client, StreamExt, TextRequest};
use blossom_tests::loopback::{Script, Server, sse_head};

const ATTEMPT: Duration = Duration::from_millis(300);
const GIVE_UP: Duration = Duration::from_secs(8);

fn retries(n: u32, backoff: Duration) -> RetryPolicy {
    let mut retry = RetryPolicy::default();
    retry.max_retries = n;
    retry.base = backoff;
    retry.cap = backoff;
    retry
}

fn client(server: &Server, attempt: Duration, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(&server.base_url())
        .request_timeout(attempt)
        .retry(retry)
        .build()
        .unwrap()
}

/// `fut`'s output, or `None` after `limit`.
async fn bounded<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    smol::future::or(async { Some(fut.await) }, async {
        smol::Timer::after(limit).await;
        None
    })
    .await
}

fn expect_timeout<T: std::fmt::Debug>(what: &str, result: Option<Result<T, Error>>) -> Error {
    match result {
        None => panic!("{what}: the attempt was never timed out (the wait's bound passed first)"),
        Some(Ok(answer)) => panic!("{what}: answered {answer:?}"),
        Some(Err(error)) => {
            assert_eq!(error.kind(), ErrorKind::Timeout, "{what}: {error}");
            error
        }
    }
}

/// Waits (bounded) until the server has received a request.
async fn first_request(server: &Server) {
    let until = Instant::now() + GIVE_UP;
    while server.requests() < 1 {
        assert!(Instant::now() < until, "no request reached the server");
        smol::Timer::after(Duration::from_millis(5)).await;
    }
}

/// A stream whose head arrives but whose first event never does is in its opening phase:
/// its attempt must still end at the attempt deadline, and be retried.
#[test]
fn stream_silent_after_its_head_times_out() {
    let server = Server::start(vec![
        Script::new()
            .write(sse_head())
            .hold(Duration::from_secs(30)),
    ])
    .unwrap();
    let client = client(&server, ATTEMPT, retries(1, Duration::from_millis(10)));
    let started = Instant::now();
    let result = smol::block_on(bounded(
        GIVE_UP,
        client
            .chat_stream(ChatRequest::new("openai").user("hi"))
            .into_future(),
    ));
    // Chat is a POST: an attempt timeout is not retried.
    expect_timeout("opening stream", result.map(|r| r.map(|_| ())));
    assert!(started.elapsed() >= ATTEMPT, "{:?}", started.elapsed());
}

/// The watchdog sleeps until a 60 s attempt deadline; a call with its own 400 ms timeout
/// starts after: the watchdog must be woken for the earlier deadline.
#[test]
fn call_timeout_earlier_than_the_watchdogs_sleep() {
    let server = silent_server();
    let client = client(&server, Duration::from_secs(60), RetryPolicy::never());
    smol::block_on(async {
        let long = smol::spawn(client.text("long").into_future());
        first_request(&server).await;
        smol::Timer::after(Duration::from_millis(50)).await;
        let started = Instant::now();
        let result = bounded(
            GIVE_UP,
            client
                .text("short")
                .timeout(Duration::from_millis(400))
                .into_future(),
        )
        .await;
        expect_timeout("short call", result);
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(350), "too early: {took:?}");
        assert!(took < Duration::from_secs(5), "too late: {took:?}");
        drop(long);
    });
}

/// Several retries with backoff, each attempt silent: every one is timed out.
#[test]
fn retries_with_backoff_all_time_out() {
    let server = silent_server();
    let client = client(&server, ATTEMPT, retries(3, Duration::from_millis(200)));
    let started = Instant::now();
    let result = smol::block_on(bounded(GIVE_UP, client.text("x").into_future()));
    let error = expect_timeout("retried call", result);
    assert_eq!(error.attempts(), 4, "{error}");
    assert!(started.elapsed() >= 4 * ATTEMPT);
    assert_eq!(server.requests(), 4);
}

/// Workers of a pool (spawned on smol's global executor, like the watchdog).
#[test]
fn worker_pool_attempts_time_out() {
    let server = silent_server();
    let client = client(&server, ATTEMPT, RetryPolicy::never());
    smol::block_on(async {
        let (submitter, mut results) = client.worker_pool::<TextRequest>(4);
        for i in 0..8 {
            submitter
                .submit(TextRequest::new(format!("p{i}")))
                .await
                .unwrap();
        }
        drop(submitter);
        let mut n = 0;
        while let Some(item) = bounded(GIVE_UP, results.next()).await {
            let Some((_, result)) = item else { break };
            expect_timeout("pool item", Some(result));
            n += 1;
        }
        assert_eq!(n, 8, "some pool items never ended");
    });
}

/// Many clients, each with its own watchdog, each with a silent call.
#[test]
fn many_clients_each_time_out() {
    let server = silent_server();
    smol::block_on(async {
        let calls: Vec<_> = (0..16)
            .map(|i| {
                let c = client(&server, ATTEMPT, RetryPolicy::never());
                smol::spawn(async move { c.text(format!("c{i}")).await })
            })
            .collect();
        for call in calls {
            expect_timeout("one of many clients", bounded(GIVE_UP, call).await);
        }
    });
}

/// The client handle is dropped while its call runs: the call keeps the client alive and
/// is still timed out.
#[test]
fn client_dropped_while_its_call_runs() {
    let server = silent_server();
    let client = client(&server, ATTEMPT, RetryPolicy::never());
    let call = client.text("orphan").into_future();
    drop(client);
    let result = smol::block_on(bounded(GIVE_UP, call));
    expect_timeout("orphaned call", result);
}

/// Shutdown with a short grace while an attempt with a long deadline is out.
#[test]
fn shutdown_ends_an_attempt_out() {
    let server = silent_server();
    let client = client(&server, Duration::from_secs(60), RetryPolicy::never());
    smol::block_on(async {
        let call = smol::spawn(client.text("x").into_future());
        first_request(&server).await;
        let report = client.shutdown(Duration::from_millis(100)).await;
        assert_eq!(report.cancelled, 1);
        let result = bounded(Duration::from_secs(3), call)
            .await
            .expect("the aborted call did not end");
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Shutdown);
    });
}

/// A call driven by a nested `smol::block_on` inside a task of smol's global executor (sync
/// code called from async code): the executor's only thread (`SMOL_THREADS` unset) is the
/// one blocked, and the silent attempt is still timed out, by the watchdog's own thread. The
/// bound is 1.5 s, five attempt timeouts.
#[test]
fn a_call_in_a_task_blocking_the_global_executor_is_timed_out() {
    if std::env::var_os("SMOL_THREADS").is_some() {
        return;
    }
    let server = silent_server();
    let client = client(&server, ATTEMPT, RetryPolicy::never());
    let result = smol::block_on(async {
        let task = smol::spawn(async move {
            smol::block_on(bounded(
                Duration::from_millis(1500),
                client.text("from sync code").into_future(),
            ))
        });
        bounded(GIVE_UP, task).await.expect("the task never ended")
    });
    expect_timeout("call in a blocked global-executor task", result);
}
