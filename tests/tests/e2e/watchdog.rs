//! Attempt deadlines: a timer per attempt on tokio, one watchdog task per client on smol
//! (`Runtime::attempt_watchdog`). An attempt that gets no answer ends at its deadline and is
//! retried either way; tokio's timers follow a paused test clock. The watchdog's life is
//! tested on tokio runtimes that opt into it (`Watched`), because they can end: a client that
//! outlives the runtime its watchdog ran on starts another, an attempt out when that happens
//! is still timed out, a watchdog task dropped before its first poll is replaced, and a
//! dropped client's watchdog ends. The servers hold each connection open without a byte of
//! answer. Every wait is bounded.

use std::future::{Future, IntoFuture, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use blossom_client::{Runtime, Timer, Transport};
use blossom_core::policy::RetryPolicy;
use blossom_core::{ClientConfig, Error, ErrorKind};
use blossom_tests::loopback::{Script, Server};
use blossom_tokio::TokioRuntime;

const ATTEMPT: Duration = Duration::from_millis(300);
/// How long a test waits for a call that should end after an attempt timeout or two.
const GIVE_UP: Duration = Duration::from_secs(10);

/// Each request is held 30 s without an answer.
pub(super) fn silent_server() -> Server {
    Server::start(vec![Script::new().hold(Duration::from_secs(30))]).unwrap()
}

/// The first request is answered (and its connection closed, so that no pooled connection,
/// whose hyper task lives on the runtime that opened it, passes between runtimes); every
/// later one is held 30 s.
fn warm_then_silent() -> Server {
    Server::start(vec![
        Script::ok("text/plain; charset=utf-8", "warm").close(),
        Script::new().hold(Duration::from_secs(30)),
    ])
    .unwrap()
}

/// One retry, after a short backoff.
fn one_retry() -> RetryPolicy {
    let mut retry = RetryPolicy::default();
    retry.max_retries = 1;
    retry.base = Duration::from_millis(10);
    retry.cap = Duration::from_millis(10);
    retry
}

/// A client of runtime `R` for `server`: attempts of `attempt`, one retry.
fn client<R: Runtime>(server: &Server, attempt: Duration) -> blossom_client::Client<R> {
    blossom_client::Client::<R>::builder()
        .base_url(&server.base_url())
        .request_timeout(attempt)
        .retry(one_retry())
        .build()
        .unwrap()
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
    assert!(took < GIVE_UP, "ended after {took:?}");
}

/// Awaits `call` for at most `GIVE_UP` and checks that it ended with a timeout.
async fn expect_timeout<T: std::fmt::Debug>(
    what: &str,
    call: impl Future<Output = Result<T, Error>>,
) {
    match tokio::time::timeout(GIVE_UP, call).await {
        Err(_) => panic!("{what}: the attempt was never timed out"),
        Ok(Ok(answer)) => panic!("{what}: answered {answer:?}"),
        Ok(Err(error)) => assert_eq!(error.kind(), ErrorKind::Timeout, "{what}: {error}"),
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_silent_attempt_ends_at_its_deadline_and_is_retried_on_tokio() {
    let server = silent_server();
    let client = client::<TokioRuntime>(&server, ATTEMPT);
    let started = Instant::now();
    let result = client.text("anyone there").await;
    check_timed_out(result, started.elapsed());
    assert!(server.wait_until(Duration::from_secs(5), |s| s.requests() == 2));
}

#[test]
fn a_silent_attempt_ends_at_its_deadline_and_is_retried_on_smol() {
    let server = silent_server();
    let client = client::<blossom_smol::SmolRuntime>(&server, ATTEMPT);
    let started = Instant::now();
    let result = smol::block_on(client.text("anyone there").into_future());
    check_timed_out(result, started.elapsed());
}

/// With tokio's clock paused, a 30 s attempt timeout passes in virtual time as soon as the
/// runtime is idle: the attempt's timer is the paused runtime's own.
#[tokio::test(start_paused = true)]
async fn a_paused_clock_times_out_attempts_in_virtual_time() {
    let server = silent_server();
    let client = blossom_tokio::Client::builder()
        .base_url(&server.base_url())
        .request_timeout(Duration::from_secs(30))
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let wall = Instant::now();
    // The paused clock jumps to the deadline; real time barely passes.
    let result = tokio::time::timeout(Duration::from_secs(60), client.text("anyone there"))
        .await
        .expect("the 30 s attempt was not timed out within 60 s of the paused clock");
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Timeout);
    assert!(
        wall.elapsed() < Duration::from_secs(10),
        "took {:?} of real time",
        wall.elapsed()
    );
}

/// tokio, with the attempt watchdog instead of a timer per attempt.
#[derive(Debug, Clone, Copy, Default)]
struct Watched;

impl Timer for Watched {
    type Sleep = tokio::time::Sleep;

    fn now(&self) -> Instant {
        TokioRuntime.now()
    }

    fn wall_now(&self) -> SystemTime {
        TokioRuntime.wall_now()
    }

    fn sleep_until(&self, deadline: Instant) -> Self::Sleep {
        TokioRuntime.sleep_until(deadline)
    }
}

impl Runtime for Watched {
    fn seed(&self) -> u64 {
        TokioRuntime.seed()
    }

    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()> + Send>>) {
        TokioRuntime.spawn(task);
    }

    fn attempt_watchdog(&self) -> bool {
        true
    }

    fn default_transport(config: &ClientConfig) -> Result<Arc<dyn Transport>, Error> {
        TokioRuntime::default_transport(config)
    }
}

#[tokio::test]
async fn the_watchdog_times_out_attempts_and_they_are_retried() {
    let server = silent_server();
    let client = client::<Watched>(&server, ATTEMPT);
    let started = Instant::now();
    let result = client.text("anyone there").await;
    check_timed_out(result, started.elapsed());
}

#[test]
fn a_client_that_outlives_its_watchdogs_runtime_starts_another() {
    let server = silent_server();
    let client = client::<Watched>(&server, ATTEMPT);
    for _ in 0..2 {
        let started = Instant::now();
        let result = current_thread().block_on(async {
            tokio::time::timeout(GIVE_UP, client.text("anyone there"))
                .await
                .expect("no watchdog ended the attempt")
        });
        check_timed_out(result, started.elapsed());
        // The runtime, and the watchdog task on it, go away here.
    }
}

/// Runtime A starts the watchdog, then runtime B sends an attempt, then A ends: B's
/// attempt is still timed out (the dying watchdog wakes every call; B's starts another).
#[test]
fn an_attempt_out_when_the_watchdogs_runtime_ends_is_still_timed_out() {
    let server = warm_then_silent();
    let client = client::<Watched>(&server, ATTEMPT);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, is_ready) = std::sync::mpsc::channel();
    let first = client.clone();
    let a = std::thread::spawn(move || {
        current_thread().block_on(async move {
            first.text("warm").await.unwrap();
            ready.send(()).unwrap();
            let _ = tokio::time::timeout(Duration::from_secs(20), stopped).await;
        });
    });
    is_ready.recv_timeout(GIVE_UP).unwrap();
    current_thread().block_on(async {
        let call = tokio::spawn(client.text("anyone there").into_future());
        // B's attempt is out (a watchdog runs, on A) ...
        let until = Instant::now() + GIVE_UP;
        while server.requests() < 2 {
            assert!(Instant::now() < until, "runtime B's request never arrived");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // ... when runtime A ends.
        stop.send(()).unwrap();
        expect_timeout("runtime B's call", async { call.await.unwrap() }).await;
    });
    a.join().unwrap();
}

/// The watchdog's task is spawned, but its runtime's `block_on` returns before running it
/// and the runtime ends: the next attempt on another runtime starts another.
#[test]
fn a_watchdog_dropped_before_its_first_poll_is_replaced() {
    let server = silent_server();
    let client = client::<Watched>(&server, ATTEMPT);
    current_thread().block_on(async {
        let mut call = pin!(client.text("first").into_future());
        poll_fn(|cx| {
            assert!(call.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
    });
    current_thread().block_on(expect_timeout(
        "a call on the next runtime",
        client.text("anyone there").into_future(),
    ));
}

#[tokio::test(flavor = "current_thread")]
async fn a_dropped_clients_watchdog_ends() {
    let server = silent_server();
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    // A long attempt timeout: the watchdog sleeps until then unless the drop wakes it.
    let client = client::<Watched>(&server, Duration::from_secs(60));
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
