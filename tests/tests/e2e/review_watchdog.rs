//! Review of the attempt watchdog (505fc4a): tests that show where an attempt's deadline is
//! no longer kept, and checks of the paths that do keep it. Every wait is bounded: a call
//! whose attempt is never timed out is given up after `GIVE_UP` and the test fails.
//!
//! The servers hold requests open without a byte of answer (`Script::hold`), except a first
//! "warm-up" request that is answered at once where a test needs a call to start the
//! watchdog somewhere first.

use std::future::{Future, IntoFuture, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use blossom_core::ErrorKind;
use blossom_core::api::ChatRequest;
use blossom_core::policy::RetryPolicy;
use blossom_tests::loopback::{Script, Server, sse_head};
use futures_util::StreamExt as _;

/// The attempt timeout of every client here.
const ATTEMPT: Duration = Duration::from_millis(300);
/// How long a test waits for a call that should end after `ATTEMPT`.
const GIVE_UP: Duration = Duration::from_secs(5);

/// Every request is held 30 s without an answer.
fn silent_server() -> Server {
    Server::start(vec![Script::new().hold(Duration::from_secs(30))]).unwrap()
}

/// The first request is answered at once, every later one held 30 s. The first connection
/// is closed after its answer, so that no pooled connection (whose hyper task lives on the
/// runtime that opened it) is shared between runtimes: each later request opens its own.
fn warm_then_silent() -> Server {
    Server::start(vec![
        Script::ok("text/plain; charset=utf-8", "warm").close(),
        Script::new().hold(Duration::from_secs(30)),
    ])
    .unwrap()
}

fn client(server: &Server, attempt: Duration) -> blossom_tokio::Client {
    blossom_tokio::Client::builder()
        .base_url(&server.base_url())
        .request_timeout(attempt)
        .retry(RetryPolicy::never())
        .build()
        .unwrap()
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Awaits `call` for at most `GIVE_UP`; fails the test if the call is still waiting then,
/// and checks that it ended with a timeout.
async fn expect_timeout<T: std::fmt::Debug>(
    what: &str,
    call: impl Future<Output = Result<T, blossom_core::Error>>,
) {
    let started = Instant::now();
    match tokio::time::timeout(GIVE_UP, call).await {
        Err(_) => panic!(
            "{what}: the attempt never timed out (still waiting after {GIVE_UP:?}, \
             attempt timeout {ATTEMPT:?})"
        ),
        Ok(Ok(answer)) => panic!("{what}: answered {answer:?}"),
        Ok(Err(error)) => {
            assert_eq!(error.kind(), ErrorKind::Timeout, "{what}: {error}");
            eprintln!("{what}: timed out after {:?}: {error}", started.elapsed());
        }
    }
}

/// Waits (bounded) until the server has received `n` requests.
async fn requests_reach(server: &Server, n: usize) {
    let until = Instant::now() + GIVE_UP;
    while server.requests() < n {
        assert!(Instant::now() < until, "the server never got request {n}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ----- bugs -----

/// A watchdog spawned on runtime A serves the calls of every runtime. When A ends while an
/// attempt of runtime B is out, the watchdog task goes with A and nothing starts another
/// until some later attempt calls `ensure`: B's attempt is never timed out.
#[test]
fn review_an_attempt_out_when_the_watchdogs_runtime_ends_is_never_timed_out() {
    let server = warm_then_silent();
    let client = client(&server, ATTEMPT);

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let a_client = client.clone();
    let a = std::thread::spawn(move || {
        let runtime = current_thread();
        runtime.block_on(async move {
            // The first attempt starts the watchdog on this runtime.
            a_client.text("warm").await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            ready_tx.send(()).unwrap();
            // Runtime A keeps running (and drives the watchdog) until told to end.
            let _ = tokio::time::timeout(Duration::from_secs(20), stop_rx).await;
        });
        // Runtime A shuts down here, and the watchdog task with it.
    });
    ready_rx.recv_timeout(GIVE_UP).unwrap();

    let runtime_b = current_thread();
    runtime_b.block_on(async {
        let call = tokio::spawn(client.text("anyone there").into_future());
        // B's attempt is out (its `ensure` found A's watchdog running) ...
        requests_reach(&server, 2).await;
        // ... when runtime A ends.
        stop_tx.send(()).unwrap();
        expect_timeout("runtime B's call", async {
            match call.await {
                Ok(result) => result,
                Err(join) => panic!("{join}"),
            }
        })
        .await;
    });
    a.join().unwrap();
}

/// The same without any runtime ending: runtime A is alive but idle (a current-thread
/// runtime outside `block_on`, e.g. one kept by a synchronous wrapper, or an idle test
/// runtime), so the watchdog spawned on it never runs, and calls on runtime B never time out.
#[test]
fn review_a_watchdog_on_an_idle_runtime_keeps_no_deadline_for_other_runtimes() {
    let server = warm_then_silent();
    let client = client(&server, ATTEMPT);
    let runtime_a = current_thread();
    runtime_a.block_on(async {
        client.text("warm").await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    });
    // Runtime A stays alive, not driven.
    let runtime_b = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime_b.block_on(expect_timeout(
        "runtime B's call",
        client.text("anyone there").into_future(),
    ));
    drop(runtime_a);
}

/// The watchdog's `Running` guard is made inside the task's async body, so a task dropped
/// before its first poll never clears `Inner::watchdog`: every later `ensure` believes a
/// watchdog runs, and no attempt of the client ever times out again, on any runtime.
///
/// Here the first call is polled once (it spawns the watchdog) and the current-thread
/// runtime's `block_on` returns before running spawned tasks (the same happens with a
/// `select!` whose other branch is ready, a call raced against an elapsed timeout, a spawn
/// on a runtime that is shutting down, ...).
#[test]
fn review_a_watchdog_task_dropped_before_its_first_poll_is_never_replaced() {
    let server = silent_server();
    let client = client(&server, ATTEMPT);
    let runtime_a = current_thread();
    runtime_a.block_on(async {
        let mut call = pin!(client.text("first").into_future());
        poll_fn(|cx| {
            assert!(call.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        // The call is dropped (cancelled) here; block_on returns without polling the
        // watchdog it spawned.
    });
    drop(runtime_a);

    for round in 0..2 {
        let runtime = current_thread();
        runtime.block_on(expect_timeout(
            &format!("a call on a later runtime (round {round})"),
            client.text("anyone there").into_future(),
        ));
    }
}

/// A worker pool made from synchronous code runs each worker on a thread with a runtime of
/// its own (blossom-tokio's spawn fallback). The watchdog lands on the runtime of whichever
/// worker sent the first attempt; when that worker's queue is closed and it ends, its
/// runtime (and the watchdog) end, and another worker's attempt in flight never times out:
/// the pool's results never end.
#[test]
fn review_a_pool_from_sync_code_loses_its_watchdog_when_a_worker_ends() {
    let mut hung = 0;
    const ROUNDS: usize = 4;
    for _ in 0..ROUNDS {
        let server = warm_then_silent();
        let client = client(&server, ATTEMPT);
        // Outside any runtime: the workers get threads of their own.
        let (submitter, mut results) = client.worker_pool::<blossom_core::api::TextRequest>(2);
        let runtime = current_thread();
        let outcome = runtime.block_on(async {
            submitter.submit("warm".into()).await.unwrap();
            let (_, first) = tokio::time::timeout(GIVE_UP, results.next())
                .await
                .expect("the warm-up answer")
                .unwrap();
            first.unwrap();
            submitter.submit("anyone there".into()).await.unwrap();
            requests_reach(&server, 2).await;
            drop(submitter);
            tokio::time::timeout(GIVE_UP, results.next()).await
        });
        match outcome {
            Err(_) => hung += 1,
            Ok(Some((_, result))) => {
                let error = result.expect_err("nothing was answered");
                assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
            }
            Ok(None) => panic!("the pool ended without the second result"),
        }
    }
    assert_eq!(
        hung, 0,
        "in {hung} of {ROUNDS} rounds the pool's second call never timed out"
    );
}

// ----- checks (expected to pass) -----

/// A stream whose head came but whose first event never does is still in its attempt: the
/// watchdog ends it at the attempt's deadline.
#[test]
fn review_check_a_stream_silent_after_its_head_times_out() {
    let server = Server::start(vec![
        Script::new()
            .write(sse_head())
            .hold(Duration::from_secs(30)),
    ])
    .unwrap();
    let client = client(&server, ATTEMPT);
    current_thread().block_on(expect_timeout(
        "a stream silent after its head",
        client
            .chat_stream(ChatRequest::new("openai").user("hi"))
            .into_future(),
    ));
}

/// A call's own timeout, earlier than the deadline the watchdog sleeps until, wakes it.
#[test]
fn review_check_an_earlier_call_timeout_wakes_a_sleeping_watchdog() {
    let server = silent_server();
    let client = client(&server, Duration::from_secs(60));
    current_thread().block_on(async {
        let long = tokio::spawn(client.text("long").into_future());
        requests_reach(&server, 1).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        expect_timeout(
            "a call with .timeout(300 ms)",
            client.text("short").timeout(ATTEMPT).into_future(),
        )
        .await;
        long.abort();
    });
}

/// No attempt timeout at all (`Duration::MAX`), but a call timeout: kept.
#[test]
fn review_check_a_call_timeout_without_an_attempt_timeout() {
    let server = silent_server();
    let client = client(&server, Duration::MAX);
    current_thread().block_on(expect_timeout(
        "a call with .timeout(300 ms) and no attempt timeout",
        client.text("x").timeout(ATTEMPT).into_future(),
    ));
}

/// The smol client keeps the deadline of a call on another executor than the global one.
#[test]
fn review_check_smol_on_a_local_executor() {
    let server = silent_server();
    let client = blossom_smol::Client::builder()
        .base_url(&server.base_url())
        .request_timeout(ATTEMPT)
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let started = Instant::now();
    let executor = smol::LocalExecutor::new();
    let result = smol::block_on(executor.run(async {
        let call = pin!(client.text("x").into_future());
        let sleep = pin!(async_io_sleep(GIVE_UP));
        match futures_util::future::select(call, sleep).await {
            futures_util::future::Either::Left((result, _)) => Some(result),
            futures_util::future::Either::Right(_) => None,
        }
    }));
    let result = result.expect("the attempt never timed out");
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Timeout);
    assert!(started.elapsed() < GIVE_UP);
}

async fn async_io_sleep(duration: Duration) {
    smol::Timer::after(duration).await;
}

/// A graceful shutdown with a long grace: the calls in flight still end at their attempt
/// deadline, and the shutdown with them.
#[test]
fn review_check_shutdown_waits_for_attempts_the_watchdog_ends() {
    let server = silent_server();
    let client = client(&server, ATTEMPT);
    current_thread().block_on(async {
        let call = tokio::spawn(client.text("x").into_future());
        requests_reach(&server, 1).await;
        let report = tokio::time::timeout(GIVE_UP, client.shutdown(Duration::from_secs(30)))
            .await
            .expect("the shutdown waited for an attempt that never timed out");
        assert_eq!(report.cancelled, 0, "{report:?}");
        let result = call.await.unwrap();
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Timeout);
    });
}
