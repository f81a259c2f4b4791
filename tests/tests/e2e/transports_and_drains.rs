//! The per-call paths as a new user would break them: wakes after the engine's lock
//! (`client/src/cell.rs`), the isahc transport's one quiet tracing dispatcher
//! (`transport/src/client.rs`), blocking streams drained on reused threads
//! (`blocking/src/short_tasks.rs`), requests made in place
//! (`core/src/codec/encode.rs`) and the priority queue's count
//! (`core/src/policy/scheduler.rs`). Loopback only; every wait is bounded.
//!
//! Tests that need a process of their own (a global tracing subscriber, a count of the
//! process's threads) run `child` again in a child process (see [`in_child`]).

use std::future::IntoFuture;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use blossom_client::{AnyRequest, AnyResponse};
use blossom_core::api::{ChatRequest, ImageRequest, SpeechRequest, TextRequest};
use blossom_core::{Error, ErrorKind};
use blossom_tests::loopback::{DONE, LAST_CHUNK, Script, Server, content_event, sse_head};
use futures_util::StreamExt as _;

/// A valid-looking secret key (`sk_` and 32 alphanumerics), searched for in logs.
const KEY: &str = "sk_ReviewLateChangesKey0123456789ab";

/// How long any one wait of these tests may last.
const GIVE_UP: Duration = Duration::from_secs(15);

/// The variable that turns `child` into one of the child runs below.
const CHILD: &str = "BLOSSOM_REVIEW_LATE_CHANGES";

/// The child process's entry: does nothing unless [`CHILD`] names a scenario.
#[test]
fn child() {
    let Ok(scenario) = std::env::var(CHILD) else {
        return;
    };
    match scenario.as_str() {
        "drain_threads" => drain_threads_child(),
        other => tracing_child(other),
    }
}

/// Runs `child` alone in a child process with [`CHILD`] set to `scenario`; returns the lines
/// it printed that start with `REVIEW `, or fails with its output when it fails or outlives
/// 60 s (then it is killed).
fn in_child(scenario: &str) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "transports_and_drains::child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, scenario)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) if status.success() => stdout
            .lines()
            .filter_map(|line| line.find("REVIEW ").map(|at| line[at..].to_owned()))
            .collect(),
        _ => panic!(
            "child {scenario} failed or hung ({status:?}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        ),
    }
}

// ---------------------------------------------------------------------------------------
// 1. Wakes after the engine's lock (b1179a7, 6a8c979): lost wake-ups under concurrency.
// ---------------------------------------------------------------------------------------

/// A multi-threaded tokio runtime; tasks make calls through two permits, with every
/// priority, some with timeouts short enough to expire while queued, some dropped: every
/// wake crosses threads after the lock is released. Nothing hangs and the counts add up.
#[test]
fn calls_with_priorities_and_timeouts_on_a_multi_threaded_runtime_all_end() {
    use blossom_core::policy::Priority;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emulator = blossom_emulator::Emulator::start(
            blossom_emulator::EmulatorConfig::default().faults("latency=0..3ms".parse().unwrap()),
        )
        .await
        .unwrap();
        let client = blossom_tokio::Client::builder()
            .base_url(emulator.base_url())
            .api_key(blossom_emulator::DEMO_SECRET_KEY)
            .max_concurrent(2)
            .build()
            .unwrap();
        let priorities = [
            Priority::Low,
            Priority::Normal,
            Priority::High,
            Priority::Critical,
        ];
        let tasks: Vec<_> = (0..8u64)
            .map(|t| {
                let client = client.clone();
                tokio::spawn(async move {
                    let (mut ok, mut timed_out, mut dropped) = (0u64, 0u64, 0u64);
                    for i in 0..30u64 {
                        let priority = priorities[usize::try_from((t + i) % 4).unwrap()];
                        let call = client
                            .text(format!("mt {t} {i}"))
                            .priority(priority)
                            .no_cache();
                        match (t * 7 + i) % 6 {
                            0 => {
                                let call = call.timeout(Duration::from_millis(1 + i % 4));
                                match call.await {
                                    Ok(_) => ok += 1,
                                    Err(e) if e.kind() == ErrorKind::Timeout => timed_out += 1,
                                    Err(e) => panic!("{e:?}"),
                                }
                            }
                            1 => {
                                let limit = Duration::from_micros(200 * (i % 5));
                                match tokio::time::timeout(limit, call.into_future()).await {
                                    Ok(result) => {
                                        result.unwrap();
                                        ok += 1;
                                    }
                                    Err(_) => dropped += 1,
                                }
                            }
                            _ => {
                                call.await.unwrap();
                                ok += 1;
                            }
                        }
                    }
                    (ok, timed_out, dropped)
                })
            })
            .collect();
        let results = tokio::time::timeout(GIVE_UP, futures_util::future::join_all(tasks))
            .await
            .expect("a call never ended (a lost wake-up?)");
        let (mut ok, mut timed_out, mut dropped) = (0, 0, 0);
        for result in results {
            let (o, t, d) = result.unwrap();
            ok += o;
            timed_out += t;
            dropped += d;
        }
        let m = client.metrics();
        assert_eq!(m.submitted, 240, "{m:?}");
        assert_eq!(ok + timed_out + dropped, 240);
        // Each call ends once in the engine. (A call dropped just after it finished counts
        // as finished, not cancelled.)
        let failed: u64 = m.failed.values().sum();
        assert_eq!(m.succeeded + failed + m.cancelled, 240, "{m:?}");
        assert!(m.succeeded >= ok && m.cancelled <= dropped, "{m:?}");
        assert_eq!((m.in_flight, m.queued), (0, 0), "{m:?}");
        assert!(m.max_in_flight <= 2);
        emulator.stop();
    });
}

/// Shutdown on a multi-threaded runtime with two calls in flight (the server never
/// answers), dozens queued and two streams silent after their first chunk: every task ends
/// promptly with a shutdown error (each woken after the lock, from the shutdown's last
/// guard), and the report counts them all.
#[test]
fn shutdown_wakes_every_queued_call_and_stream_on_a_multi_threaded_runtime() {
    let silent_stream = Script::new()
        .write(sse_head())
        .chunk(content_event("first"))
        .hold(Duration::from_secs(30))
        .close();
    let server = Server::start(vec![
        silent_stream.clone(),
        silent_stream,
        Script::new().hold(Duration::from_secs(30)).close(),
    ])
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = blossom_tokio::Client::builder()
            .base_url(&server.base_url())
            .api_key(KEY)
            .max_concurrent(4)
            .build()
            .unwrap();
        let mut streams = Vec::new();
        for i in 0..2 {
            let mut stream = tokio::time::timeout(
                GIVE_UP,
                client.chat_stream(ChatRequest::new("openai").user(format!("silent {i}"))),
            )
            .await
            .unwrap()
            .unwrap();
            assert_eq!(stream.next().await.unwrap().unwrap().text(), "first");
            streams.push(tokio::spawn(async move {
                match stream.next().await {
                    Some(Err(error)) => error.kind(),
                    other => panic!("{other:?}"),
                }
            }));
        }
        let calls: Vec<_> = (0..40)
            .map(|i| tokio::spawn(client.text(format!("held {i}")).no_cache().into_future()))
            .collect();
        let queued = async {
            while client.metrics().queued < 38 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(GIVE_UP, queued).await.unwrap();
        let report = tokio::time::timeout(GIVE_UP, client.shutdown(Duration::from_millis(50)))
            .await
            .unwrap();
        assert_eq!(report.cancelled, 42, "{report:?}");
        for call in calls {
            let result = tokio::time::timeout(Duration::from_secs(2), call)
                .await
                .expect("a call was not woken by shutdown")
                .unwrap();
            assert_eq!(result.unwrap_err().kind(), ErrorKind::Shutdown);
        }
        for stream in streams {
            let kind = tokio::time::timeout(Duration::from_secs(2), stream)
                .await
                .expect("a stream was not woken by shutdown")
                .unwrap();
            assert_eq!(kind, ErrorKind::Shutdown);
        }
        let m = client.metrics();
        assert_eq!((m.in_flight, m.queued), (0, 0), "{m:?}");
    });
}

/// smol with its attempt watchdog, the executor run by three threads: calls through two
/// permits whose attempts the server never answers are timed out by the watchdog (it wakes
/// them through the guard, after the lock), retried once, and end; others succeed.
#[test]
fn smol_watchdog_timeouts_reach_calls_on_a_multi_threaded_executor() {
    // Every third request is never answered.
    let silent = Script::new().hold(Duration::from_secs(30)).close();
    let ok = Script::ok("text/plain", "ok");
    let scripts: Vec<Script> = (0..200)
        .map(|i| {
            if i % 3 == 0 {
                silent.clone()
            } else {
                ok.clone()
            }
        })
        .collect();
    let server = Server::start(scripts).unwrap();
    let mut retry = blossom_core::policy::RetryPolicy::default();
    retry.max_retries = 1;
    retry.base = Duration::from_millis(5);
    retry.cap = Duration::from_millis(10);
    let client = blossom_smol::Client::builder()
        .base_url(&server.base_url())
        .api_key(KEY)
        .request_timeout(Duration::from_millis(120))
        .retry(retry)
        .max_concurrent(2)
        .build()
        .unwrap();
    let executor = Arc::new(smol::Executor::new());
    let (stop, stopped) = smol::channel::unbounded::<()>();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let executor = Arc::clone(&executor);
            let stopped = stopped.clone();
            std::thread::spawn(move || smol::block_on(executor.run(stopped.recv())))
        })
        .collect();
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let client = client.clone();
            executor.spawn(async move { client.text(format!("smol {i}")).no_cache().await })
        })
        .collect();
    let results = smol::block_on(async {
        let all = futures_util::future::join_all(tasks);
        futures_util::future::select(Box::pin(all), Box::pin(smol::Timer::after(GIVE_UP))).await
    });
    drop(stop);
    for thread in threads {
        let _ = thread.join();
    }
    let futures_util::future::Either::Left((results, _)) = results else {
        panic!("a call was never woken by the watchdog");
    };
    for result in results {
        if let Err(error) = result {
            assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
        }
    }
    let m = client.metrics();
    assert_eq!(m.submitted, 24);
    assert_eq!((m.in_flight, m.queued), (0, 0), "{m:?}");
    assert!(m.timeouts > 0, "{m:?}");
}

// ---------------------------------------------------------------------------------------
// 2. The isahc transport's one quiet dispatcher per transport (dcb815d).
// ---------------------------------------------------------------------------------------

/// A client of one of the adapters that use the isahc transport.
enum IsahcClient {
    Blocking(blossom_blocking::Client),
    Smol(blossom_smol::Client),
    TokioIsahc(tokio::runtime::Runtime, blossom_tokio::isahc::Client),
}

impl IsahcClient {
    fn new(adapter: &str, url: &str) -> Self {
        match adapter {
            "blocking" => Self::Blocking(
                blossom_blocking::Client::builder()
                    .base_url(url)
                    .api_key(KEY)
                    .build()
                    .unwrap(),
            ),
            "smol" => Self::Smol(
                blossom_smol::Client::builder()
                    .base_url(url)
                    .api_key(KEY)
                    .build()
                    .unwrap(),
            ),
            "tokio_isahc" => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                let client = blossom_tokio::isahc::Client::builder()
                    .base_url(url)
                    .api_key(KEY)
                    .build()
                    .unwrap();
                Self::TokioIsahc(runtime, client)
            }
            other => panic!("no adapter {other}"),
        }
    }

    /// One text call and one stream read to its end, both answered.
    fn exercise(&self, tag: &str) {
        let text = TextRequest::new(format!("text {tag}"));
        let chat = ChatRequest::new("openai").user(format!("stream {tag}"));
        let (reply, streamed) = match self {
            Self::Blocking(client) => (
                client.text(text).map(|r| r.text),
                client
                    .chat_stream(chat)
                    .and_then(|s| s.collect_message())
                    .map(|m| m.text().to_owned()),
            ),
            Self::Smol(client) => smol::block_on(async {
                let reply = client.text(text).await.map(|r| r.text);
                let streamed = match client.chat_stream(chat).await {
                    Ok(stream) => stream.collect_message().await.map(|m| m.text().to_owned()),
                    Err(error) => Err(error),
                };
                (reply, streamed)
            }),
            Self::TokioIsahc(runtime, client) => runtime.block_on(async {
                let reply = client.text(text).await.map(|r| r.text);
                let streamed = match client.chat_stream(chat).await {
                    Ok(stream) => stream.collect_message().await.map(|m| m.text().to_owned()),
                    Err(error) => Err(error),
                };
                (reply, streamed)
            }),
        };
        assert_eq!(reply.unwrap(), "fine", "{tag}");
        assert_eq!(streamed.unwrap(), "streamed", "{tag}");
    }
}

/// A server answering text calls and streams in turn, `pairs` times of each.
fn text_and_stream_server(pairs: usize) -> Server {
    let mut scripts = Vec::new();
    for _ in 0..pairs {
        scripts.push(Script::ok("text/plain; charset=utf-8", "fine"));
        scripts.push(Script::sse(&["stream", "ed"]));
    }
    Server::start(scripts).unwrap()
}

/// What a capture saw: its lines, those with the key (or any `Authorization` value), the
/// spans isahc makes only when its exchange is not quieted (`handler`, which turns on
/// libcurl's verbose log), the wire log's events, and the SDK's own events.
fn judge(texts: &[String]) -> String {
    let leaking = texts
        .iter()
        .filter(|t| t.contains(KEY) || t.contains("Bearer"))
        .count();
    let handler = texts.iter().filter(|t| t.starts_with("handler")).count();
    let wire = texts.iter().filter(|t| t.contains("isahc::wire")).count();
    let sdk = texts.iter().filter(|t| t.contains(" blossom")).count();
    let first_leak: String = texts
        .iter()
        .find(|t| t.contains(KEY) || t.contains("Bearer") || t.contains("isahc::wire"))
        .map(|t| t.chars().take(200).collect())
        .unwrap_or_default();
    format!(
        "lines={} leaking={leaking} handler={handler} wire={wire} sdk={sdk} first_leak={first_leak:?}",
        texts.len()
    )
}

/// The child runs of the tracing tests: `SCENARIO:ADAPTER`.
fn tracing_child(scenario: &str) {
    let (order, adapter) = scenario.split_once(':').unwrap();
    let capture = blossom_tests::capture::Capture::default();
    match order {
        // The application installs its subscriber after it built its client, and even after
        // the client's first calls (their callsites are registered by then).
        "after_build" => {
            let server = text_and_stream_server(4);
            let client = IsahcClient::new(adapter, &server.base_url());
            client.exercise("before the subscriber");
            tracing::subscriber::set_global_default(capture.clone()).unwrap();
            client.exercise("after the subscriber");
            client.exercise("again");
        }
        // The subscriber first; a client used and dropped, then another one built and used,
        // then a third while the second is alive, then the second dropped and the third used.
        "rebuilt" => {
            tracing::subscriber::set_global_default(capture.clone()).unwrap();
            let first_server = text_and_stream_server(2);
            let first = IsahcClient::new(adapter, &first_server.base_url());
            first.exercise("first");
            drop(first);
            std::thread::sleep(Duration::from_millis(50));
            let server = text_and_stream_server(4);
            let second = IsahcClient::new(adapter, &server.base_url());
            second.exercise("second");
            let third_server = text_and_stream_server(2);
            let third = IsahcClient::new("blocking", &third_server.base_url());
            drop(second);
            third.exercise("third");
        }
        other => panic!("no scenario {other}"),
    }
    // Let the transport's threads finish logging the last exchange.
    std::thread::sleep(Duration::from_millis(300));
    println!("REVIEW tracing {scenario} {}", judge(&capture.take_texts()));
}

/// Runs the tracing child `scenario` and fails if its capture saw the key, isahc's wire log
/// or a sign that libcurl's verbose mode was on; it must have seen the SDK's own events.
fn assert_quiet(scenario: &str) {
    let lines = in_child(scenario);
    let line = lines
        .iter()
        .find(|l| l.starts_with("REVIEW tracing"))
        .expect("no report from the child");
    println!("{line}");
    assert!(
        line.contains(" leaking=0 ") && line.contains(" handler=0 ") && line.contains(" wire=0 "),
        "the key or isahc's wire log reached the application's subscriber: {line}"
    );
    assert!(
        !line.contains(" sdk=0 "),
        "the capture saw none of the SDK's events: {line}"
    );
}

/// A global subscriber at TRACE installed after the client was built and used, for each
/// adapter over isahc (the existing key-leak test installs it first, and does not run
/// tokio over isahc).
#[test]
fn the_key_stays_out_of_a_subscriber_installed_after_the_client() {
    for adapter in ["blocking", "smol", "tokio_isahc"] {
        assert_quiet(&format!("after_build:{adapter}"));
    }
}

/// Clients built, dropped and built again under a global subscriber at TRACE (each
/// transport's quiet dispatcher is registered when it is made and unregistered with it).
#[test]
fn the_key_stays_out_of_the_logs_across_clients_built_and_dropped() {
    for adapter in ["blocking", "smol", "tokio_isahc"] {
        assert_quiet(&format!("rebuilt:{adapter}"));
    }
}

/// A scoped subscriber (`with_default`) on the thread that drives a blocking client: the
/// exchange runs on that thread, so isahc's span for it would reach this subscriber if it
/// were not quieted. Whether the client is built inside or outside the scope.
#[test]
fn a_scoped_subscriber_sees_no_isahc_exchange_of_a_blocking_client() {
    let server = text_and_stream_server(8);
    let outside = IsahcClient::new("blocking", &server.base_url());
    let capture = blossom_tests::capture::Capture::default();
    tracing::subscriber::with_default(capture.clone(), || {
        outside.exercise("built outside");
        let inside = IsahcClient::new("blocking", &server.base_url());
        inside.exercise("built inside");
        drop(inside);
        outside.exercise("after the inner client's end");
    });
    let report = judge(&capture.take_texts());
    println!("{report}");
    assert!(
        report.contains(" leaking=0 ") && report.contains(" handler=0 "),
        "{report}"
    );
    assert!(!report.contains(" sdk=0 "), "{report}");
}

// ---------------------------------------------------------------------------------------
// 3. Blocking streams: the drain after [DONE] on reused threads (blocking/src/short_tasks.rs).
// ---------------------------------------------------------------------------------------

/// A stream whose body ends `after` its `[DONE]`: the rest is drained in the background.
fn done_then_end_after(text: &str, after: Duration) -> Script {
    Script::new()
        .write(sse_head())
        .chunk(content_event(text))
        .chunk(DONE)
        .sleep(after)
        .write(LAST_CHUNK)
}

fn blocking_client(server: &Server) -> blossom_blocking::Client {
    blossom_blocking::Client::builder()
        .base_url(&server.base_url())
        .api_key(KEY)
        .build()
        .unwrap()
}

/// Reads a blocking stream to its end; returns its text.
fn read_blocking(client: &blossom_blocking::Client, prompt: &str) -> String {
    let mut text = String::new();
    for chunk in client
        .chat_stream(ChatRequest::new("openai").user(prompt))
        .unwrap()
    {
        text.push_str(chunk.unwrap().text());
    }
    text
}

/// Many blocking streams at once whose bodies end 60 ms after `[DONE]` (inside the 200 ms
/// drain): each caller returns at `[DONE]`, the pool drains each body to its end, and every
/// connection goes back to the pool: the calls made afterwards open no new connection.
#[test]
fn blocking_streams_drained_on_the_pool_give_their_connections_back() {
    const N: usize = 12;
    let mut scripts: Vec<Script> = (0..N)
        .map(|_| done_then_end_after("drained", Duration::from_millis(60)))
        .collect();
    scripts.push(Script::ok("text/plain; charset=utf-8", "after"));
    let server = Server::start(scripts).unwrap();
    let client = Arc::new(blocking_client(&server));
    let barrier = Arc::new(Barrier::new(N));
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let client = Arc::clone(&client);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let started = Instant::now();
                let text = read_blocking(&client, &format!("stream {i}"));
                (text, started.elapsed())
            })
        })
        .collect();
    for thread in threads {
        let (text, took) = thread.join().unwrap();
        assert_eq!(text, "drained");
        assert!(took < Duration::from_secs(2), "a stream took {took:?}");
    }
    // Every script played to its end: the drains read each body's last chunk.
    assert!(
        server.wait_until(GIVE_UP, |s| s.playing() == 0),
        "a body was never drained"
    );
    // Past the drains' 200 ms bound every connection is back in the pool (or closed).
    std::thread::sleep(Duration::from_millis(300));
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let client = Arc::clone(&client);
            std::thread::spawn(move || client.text(format!("after {i}")).unwrap().text)
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), "after");
    }
    assert_eq!(server.requests(), 2 * N);
    assert_eq!(
        server.connections(),
        N,
        "a connection drained after [DONE] was not reused"
    );
    assert_eq!(server.aborted_by_client(), 0);
}

/// The names of this process's threads (Linux), `None` where `/proc` cannot tell.
fn thread_names() -> Option<Vec<String>> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .filter_map(Result::ok)
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .map(|name| name.trim().to_owned())
            .collect(),
    )
}

/// Threads of the blocking client's drain pool (named `blossom-drain`).
fn pool_threads() -> usize {
    thread_names().map_or(0, |names| {
        names
            .iter()
            .filter(|n| n.as_str() == "blossom-drain")
            .count()
    })
}

/// The child run of [`blocking_drain_threads_end_once_idle`].
fn drain_threads_child() {
    const N: usize = 24;
    let server = Server::start(vec![done_then_end_after(
        "held",
        Duration::from_millis(150),
    )])
    .unwrap();
    let client = Arc::new(blocking_client(&server));
    let before = pool_threads();
    let barrier = Arc::new(Barrier::new(N));
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let client = Arc::clone(&client);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                read_blocking(&client, &format!("burst {i}"))
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), "held");
    }
    // While the drains run, and once they are over.
    let mut peak = pool_threads();
    assert!(server.wait_until(GIVE_UP, |s| s.playing() == 0));
    peak = peak.max(pool_threads());
    // An idle drain thread waits a second for the next task, then ends: wait three.
    let until = Instant::now() + Duration::from_secs(3);
    let mut after = pool_threads();
    while after > before && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
        after = pool_threads();
    }
    println!(
        "REVIEW drain_threads before={before} peak={peak} after={after} proc={}",
        thread_names().is_some()
    );
}

/// A burst of blocking streams whose bodies outlive their `[DONE]` by 150 ms: their drains
/// run on the drain threads, which grow to about one per drain. Once the drains are over
/// and the threads have been idle for seconds, they must be gone. (A review found that the
/// `blocking` crate's pool, used at first, never ends an idle thread below its limit of
/// 500.)
#[test]
fn blocking_drain_threads_end_once_idle() {
    let lines = in_child("drain_threads");
    let line = lines
        .iter()
        .find(|l| l.starts_with("REVIEW drain_threads"))
        .expect("no report from the child");
    println!("{line}");
    if line.contains("proc=false") {
        eprintln!("no /proc: thread names cannot be read here");
        return;
    }
    let field = |name: &str| -> usize {
        line.split(' ')
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    let (before, after) = (field("before"), field("after"));
    assert!(
        field("peak") > before,
        "the drains ran on no drain thread ({line})"
    );
    assert!(
        after <= before,
        "{} drain thread(s) still alive 3 s after the last drain \
         ended (peak {}): the pool's idle threads never end ({line})",
        after - before,
        field("peak")
    );
}

// ---------------------------------------------------------------------------------------
// 4. Requests made in place (d1b6580): what reaches the wire, on every transport.
// ---------------------------------------------------------------------------------------

/// An odd prompt: separators, a percent sign, spaces, non-ASCII, an emoji.
const ODD: &str = "a/b?c#d%e f+g&h=i ünï 🌸 ..";

/// One call of each endpoint, the answer the server gives it, and what its request must
/// look like: method, path (before any query), `Accept`, and whether it has a JSON body.
fn endpoint_cases() -> Vec<(AnyRequest, Script, &'static str, String, &'static str, bool)> {
    use blossom_core::api::{ModelKind, SpeechEndpoint};
    let chat_json = r#"{"id":"c","object":"chat.completion","model":"openai","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#;
    let text = || Script::ok("text/plain; charset=utf-8", "fine");
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend_from_slice(&[0; 16]);
    let mut mp3 = b"ID3".to_vec();
    mp3.extend_from_slice(&[0; 16]);
    let encoded = |prompt: &str| {
        prompt
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    vec![
        (
            ChatRequest::new("openai").user(ODD).into(),
            Script::ok("application/json", chat_json),
            "POST",
            "/v1/chat/completions".into(),
            "application/json",
            true,
        ),
        (
            TextRequest::new(ODD)
                .model("openai")
                .seed(7)
                .system("be brief")
                .into(),
            text(),
            "GET",
            format!("/text/{}", encoded(ODD)),
            "*/*",
            false,
        ),
        (
            TextRequest::new(".").seed(7).into(),
            text(),
            "POST",
            "/text".into(),
            "*/*",
            true,
        ),
        (
            ImageRequest::new(ODD).size(64, 32).seed(3).into(),
            Script::ok("image/jpeg", &jpeg),
            "GET",
            format!("/image/{}", encoded(ODD)),
            "*/*",
            false,
        ),
        (
            SpeechRequest::new(ODD).voice("nova").into(),
            Script::ok("audio/mpeg", &mp3),
            "POST",
            "/v1/audio/speech".into(),
            "*/*",
            true,
        ),
        (
            SpeechRequest::new(ODD)
                .voice("nova")
                .endpoint(SpeechEndpoint::Audio)
                .into(),
            Script::ok("audio/mpeg", &mp3),
            "GET",
            format!("/audio/{}", encoded(ODD)),
            "*/*",
            false,
        ),
        (
            AnyRequest::Models(ModelKind::Text),
            Script::ok("application/json", r#"["openai"]"#),
            "GET",
            "/text/models".into(),
            "application/json",
            false,
        ),
        (
            AnyRequest::Models(ModelKind::Image),
            Script::ok("application/json", r#"{"data":[{"id":"flux"}]}"#),
            "GET",
            "/image/models".into(),
            "application/json",
            false,
        ),
    ]
}

/// Sends every endpoint's call (and a stream) through `call` and `stream`, then checks each
/// request as the server read it.
fn check_wire(
    adapter: &str,
    call: impl Fn(&str, AnyRequest) -> Result<AnyResponse, Error>,
    stream: impl Fn(&str, ChatRequest) -> Result<String, Error>,
) {
    let cases = endpoint_cases();
    let mut scripts: Vec<Script> = cases.iter().map(|c| c.1.clone()).collect();
    scripts.push(Script::sse(&["str", "eam"]));
    let server = Server::start(scripts).unwrap();
    let url = server.base_url();
    let mut expected = Vec::new();
    for (request, _, method, path, accept, body) in cases {
        let what = format!("{adapter} {method} {path}");
        call(&url, request).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        expected.push((method, path, accept, body));
    }
    assert_eq!(
        stream(&url, ChatRequest::new("openai").user(ODD)).unwrap(),
        "stream"
    );
    expected.push((
        "POST",
        "/v1/chat/completions".into(),
        "text/event-stream",
        true,
    ));
    let heads = server.request_heads();
    assert_eq!(
        heads.len(),
        expected.len(),
        "{adapter}: one request per call"
    );
    for (head, (method, path, accept, body)) in heads.iter().zip(expected) {
        let header = |name: &str| {
            head.header(name)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        let target = head.line.split(' ').nth(1).unwrap_or_default();
        let (got_path, _query) = target.split_once('?').unwrap_or((target, ""));
        let what = format!("{adapter}: {}", head.line);
        assert!(head.line.starts_with(&format!("{method} ")), "{what}");
        assert_eq!(got_path, path, "{what}");
        assert_eq!(
            header("authorization"),
            Some(format!("Bearer {KEY}")),
            "{what}"
        );
        assert!(
            header("user-agent").is_some_and(|ua| ua.starts_with("blossom")),
            "{what}: user-agent {:?}",
            header("user-agent")
        );
        assert_eq!(header("accept").as_deref(), Some(accept), "{what}");
        assert_eq!(
            header("content-type").as_deref(),
            body.then_some("application/json"),
            "{what}"
        );
    }
    // The text call's query: every option once, in the encoder's order.
    let text_line = &heads[1].line;
    assert!(
        text_line.contains("?model=openai&seed=7&system=be%20brief "),
        "{adapter}: {text_line}"
    );
}

/// [`check_wire`] for an async adapter: `$builder` makes its client, `|$f| $block_on`
/// runs a future to its end.
macro_rules! async_wire {
    ($adapter:expr, $builder:expr, |$f:ident| $block_on:expr) => {{
        check_wire(
            $adapter,
            |url, request| {
                let client = $builder.base_url(url).api_key(KEY).build().unwrap();
                let $f = async move { client.call(request).await };
                $block_on
            },
            |url, request| {
                let client = $builder.base_url(url).api_key(KEY).build().unwrap();
                let $f = async move {
                    let stream = client.chat_stream(request).await?;
                    Ok(stream.collect_message().await?.text().to_owned())
                };
                $block_on
            },
        )
    }};
}

/// Every endpoint's request as it reaches the server through each transport: method,
/// path with the prompt percent-encoded, `Authorization`, `User-Agent`, `Accept`, and a
/// JSON `Content-Type` exactly when there is a body.
#[test]
fn every_endpoint_reaches_the_wire_with_its_method_and_headers() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    async_wire!("tokio (hyper)", blossom_tokio::Client::builder(), |f| {
        runtime.block_on(f)
    });
    async_wire!(
        "tokio (isahc)",
        blossom_tokio::isahc::Client::builder(),
        |f| runtime.block_on(f)
    );
    async_wire!("smol", blossom_smol::Client::builder(), |f| smol::block_on(
        f
    ));
    check_wire(
        "blocking",
        |url, request| {
            let client = blossom_blocking::Client::builder()
                .base_url(url)
                .api_key(KEY)
                .build()
                .unwrap();
            client.call(request)
        },
        |url, request| {
            let client = blossom_blocking::Client::builder()
                .base_url(url)
                .api_key(KEY)
                .build()
                .unwrap();
            Ok(client
                .chat_stream(request)?
                .collect_message()?
                .text()
                .to_owned())
        },
    );
}

/// A prompt too long for any URL (each of its characters is four bytes, twelve once
/// percent-encoded) fails as invalid input naming the prompt, on every adapter and for
/// both endpoints that carry a prompt in the path, and nothing is sent.
#[test]
fn a_prompt_too_long_for_a_url_is_invalid_input_on_every_adapter() {
    let server = Server::start(vec![Script::ok("text/plain", "never")]).unwrap();
    let url = server.base_url();
    let long = "🌸".repeat(6_000);
    let requests = || -> Vec<AnyRequest> {
        vec![
            TextRequest::new(long.as_str()).into(),
            ImageRequest::new(long.as_str()).into(),
        ]
    };
    let mut errors = Vec::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for request in requests() {
        let client = blossom_tokio::Client::builder()
            .base_url(&url)
            .api_key(KEY)
            .build()
            .unwrap();
        errors.push((
            "tokio",
            runtime.block_on(client.call(request).into_future()),
        ));
    }
    for request in requests() {
        let client = blossom_smol::Client::builder()
            .base_url(&url)
            .api_key(KEY)
            .build()
            .unwrap();
        errors.push(("smol", smol::block_on(client.call(request).into_future())));
    }
    for request in requests() {
        let client = blossom_blocking::Client::builder()
            .base_url(&url)
            .api_key(KEY)
            .build()
            .unwrap();
        errors.push(("blocking", client.call(request)));
    }
    for (adapter, result) in errors {
        let error = result.expect_err(adapter);
        assert_eq!(
            error.kind(),
            ErrorKind::InvalidInput,
            "{adapter}: {error:?}"
        );
        assert!(
            error.to_string().contains("URL"),
            "{adapter}: the error should say why: {error}"
        );
    }
    assert_eq!(server.requests(), 0);
}

// ---------------------------------------------------------------------------------------
// 5. The priority queue's count (fd0efc5): queued calls, pacing lines.
// ---------------------------------------------------------------------------------------

/// The prompt of a `GET /text/{prompt}` request line.
fn prompt_of(line: &str) -> String {
    let target = line.split(' ').nth(1).unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default();
    path.strip_prefix("/text/").unwrap_or(path).to_owned()
}

/// Spawns a text call with `priority` (and `timeout`) on the current tokio runtime.
fn spawn_text<R: blossom_client::Runtime>(
    client: &blossom_client::Client<R>,
    prompt: &str,
    priority: blossom_core::policy::Priority,
    timeout: Option<Duration>,
) -> tokio::task::JoinHandle<Result<blossom_core::api::TextReply, Error>> {
    let mut call = client.text(prompt).priority(priority).no_cache();
    if let Some(timeout) = timeout {
        call = call.timeout(timeout);
    }
    tokio::spawn(call.into_future())
}

/// One permit, held: calls queue behind it with every priority; one queued call is dropped
/// and one times out while queued. The others are admitted one at a time, most urgent
/// first and in arrival order within a class; afterwards the queue is empty and a new call
/// goes at once (a count left above zero would make every later call queue behind nobody).
#[test]
fn queued_calls_are_admitted_by_priority_and_the_queue_empties() {
    use blossom_core::policy::Priority::{Critical, High, Low, Normal};
    let server = Server::start(vec![
        Script::new()
            .sleep(Duration::from_millis(30))
            .write(blossom_tests::loopback::response_head(
                200,
                "text/plain",
                Some(2),
            ))
            .write("ok"),
    ])
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = blossom_tokio::Client::builder()
            .base_url(&server.base_url())
            .api_key(KEY)
            .max_concurrent(1)
            .build()
            .unwrap();
        let blocker = spawn_text(&client, "blocker", Normal, None);
        tokio::time::sleep(Duration::from_millis(10)).await;
        let order = [
            ("l0", Low),
            ("n0", Normal),
            ("c0", Critical),
            ("h0", High),
            ("l1", Low),
            ("c1", Critical),
            ("n1", Normal),
            ("h1", High),
        ];
        let mut kept = Vec::new();
        for (prompt, priority) in order {
            kept.push(spawn_text(&client, prompt, priority, None));
        }
        let dropped = spawn_text(&client, "dropped", Critical, None);
        let timed = spawn_text(&client, "timed", Critical, Some(Duration::from_millis(15)));
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(client.metrics().queued, 10);
        dropped.abort();
        let timed = tokio::time::timeout(GIVE_UP, timed).await.unwrap().unwrap();
        assert_eq!(timed.unwrap_err().kind(), ErrorKind::Timeout);
        tokio::time::timeout(GIVE_UP, blocker)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        for call in kept {
            let reply = tokio::time::timeout(GIVE_UP, call)
                .await
                .expect("a queued call was never admitted")
                .unwrap();
            assert_eq!(reply.unwrap().text, "ok");
        }
        let m = client.metrics();
        assert_eq!((m.queued, m.in_flight), (0, 0), "{m:?}");
        let after = tokio::time::timeout(Duration::from_secs(2), client.text("after").no_cache())
            .await
            .expect("a call with the queue empty and no call running waited");
        assert_eq!(after.unwrap().text, "ok");
    });
    let prompts: Vec<String> = server
        .request_lines()
        .iter()
        .map(|l| prompt_of(l))
        .collect();
    assert_eq!(
        prompts,
        [
            "blocker", "c0", "c1", "h0", "h1", "n0", "n1", "l0", "l1", "after"
        ],
        "admission order"
    );
}

/// Calls in the rate limiter's line (one generation every 50 ms, no burst beyond one):
/// served most urgent first; one dropped while in line and one whose slot would come after
/// its deadline (which fails at once, rate limited) leave the line; every other call is
/// sent, about 50 ms apart, and the line empties.
#[test]
fn paced_calls_leave_the_limiters_line_in_priority_order() {
    use blossom_core::engine::LimiterConfig;
    use blossom_core::policy::Priority::{Critical, High, Low, Normal};
    use blossom_core::policy::RateLimit;
    let server = Server::start(vec![Script::ok("text/plain", "ok")]).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    runtime.block_on(async {
        let client = blossom_tokio::Client::builder()
            .base_url(&server.base_url())
            .api_key(KEY)
            .max_concurrent(8)
            .rate_limits(
                LimiterConfig::unlimited().generation(Some(RateLimit::per_second(20.0, 1))),
            )
            .build()
            .unwrap();
        let first = spawn_text(&client, "first", Normal, None);
        tokio::time::sleep(Duration::from_millis(2)).await;
        let order = [("l0", Low), ("n0", Normal), ("c0", Critical), ("h0", High)];
        let mut kept = Vec::new();
        for (prompt, priority) in order {
            kept.push(spawn_text(&client, prompt, priority, None));
        }
        let dropped = spawn_text(&client, "dropped", Critical, None);
        let hurried = spawn_text(&client, "hurried", High, Some(Duration::from_millis(20)));
        tokio::time::sleep(Duration::from_millis(5)).await;
        dropped.abort();
        let _ = dropped.await;
        let hurried = tokio::time::timeout(GIVE_UP, hurried)
            .await
            .unwrap()
            .unwrap();
        let kind = hurried.unwrap_err().kind();
        assert!(
            matches!(kind, ErrorKind::RateLimited | ErrorKind::Timeout),
            "{kind:?}"
        );
        tokio::time::timeout(GIVE_UP, first)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        for call in kept {
            tokio::time::timeout(GIVE_UP, call)
                .await
                .expect("a paced call was never sent")
                .unwrap()
                .unwrap();
        }
        let m = client.metrics();
        assert_eq!((m.queued, m.in_flight), (0, 0), "{m:?}");
    });
    let took = started.elapsed();
    let prompts: Vec<String> = server
        .request_lines()
        .iter()
        .map(|l| prompt_of(l))
        .collect();
    assert_eq!(prompts, ["first", "c0", "h0", "n0", "l0"], "pacing order");
    assert!(
        took >= Duration::from_millis(190) && took < Duration::from_secs(3),
        "four paced calls after the first took {took:?}"
    );
}
