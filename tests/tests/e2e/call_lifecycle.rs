//! A call's life through the parts that make it cheap: signals reused by an engine slot's
//! next call, the hand-written call future, `Timer::sleep_until`'s named future, calls
//! placed where they lie in the engine, metadata headers matched as names. Every wait is
//! bounded.

use std::future::{IntoFuture, poll_fn};
use std::task::Poll;
use std::time::{Duration, Instant};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tests::loopback::{Script, Server};
use blossom_tokio::*;
use futures_util::stream::FuturesUnordered;

/// How long any one wait of these tests may last.
const GIVE_UP: Duration = Duration::from_secs(10);

async fn bounded<T>(what: &str, fut: impl IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(GIVE_UP, fut.into_future()).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: never ended (a lost wake-up?)"),
    }
}

async fn emulator(faults: &str) -> Emulator {
    let config = if faults.is_empty() {
        EmulatorConfig::default()
    } else {
        EmulatorConfig::default().faults(faults.parse().unwrap())
    };
    Emulator::start(config).await.unwrap()
}

fn client(emulator: &Emulator, permits: usize) -> Client {
    Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .max_concurrent(permits)
        .build()
        .unwrap()
}

/// Hundreds of calls through few permits (most wait as `Pending` and must be woken), a
/// third of them dropped at once, while queued or in flight: slots and their signals are
/// reused over and over. Every call that is kept ends, and the counts add up.
#[tokio::test]
async fn many_calls_some_dropped_all_end_and_counts_add_up() {
    let emulator = emulator("latency=3ms").await;
    let client = client(&emulator, 3);
    const N: usize = 240;
    let mut all = FuturesUnordered::new();
    for i in 0..N {
        let call = client.text(format!("call {i}")).into_future();
        let drop_after = (i % 3 == 0).then(|| Duration::from_millis((i % 7) as u64 * 3));
        all.push(async move {
            match drop_after {
                Some(after) => tokio::time::timeout(after, call).await.ok(),
                None => Some(call.await),
            }
        });
    }
    let mut answered = 0;
    let mut dropped = 0;
    bounded("240 calls", async {
        while let Some(result) = futures_util::StreamExt::next(&mut all).await {
            match result {
                Some(result) => {
                    result.unwrap();
                    answered += 1;
                }
                None => dropped += 1,
            }
        }
    })
    .await;
    assert_eq!(answered + dropped, N);
    let m = client.metrics();
    assert_eq!(m.submitted, N as u64);
    assert_eq!(m.succeeded as usize, answered);
    assert_eq!(
        m.cancelled as usize, dropped,
        "each dropped call is cancelled once"
    );
    assert_eq!((m.in_flight, m.queued), (0, 0));
    assert_eq!(m.max_in_flight, 3);
}

/// A stream read to its end and kept: its call has ended and its slot goes to the next
/// call, but the stream still holds the old signal. The next calls (one permit: each
/// waits for the one before to end) get their wake-ups, and the kept stream stays ended.
#[tokio::test]
async fn a_stream_kept_after_its_end_leaves_the_slot_to_later_calls() {
    let emulator = emulator("").await;
    let client = client(&emulator, 1);
    let mut kept = Vec::new();
    for round in 0..4 {
        let mut stream = bounded(
            "stream",
            client.chat_stream(ChatRequest::new("openai").user(format!("round {round}"))),
        )
        .await
        .unwrap();
        while let Some(chunk) = bounded("chunk", stream.next()).await {
            chunk.unwrap();
        }
        kept.push(stream);
        let calls = (0..6).map(|i| client.text(format!("after {round} {i}")).into_future());
        for result in bounded(
            "calls after a stream",
            futures_util::future::join_all(calls),
        )
        .await
        {
            result.unwrap();
        }
    }
    for mut stream in kept {
        assert!(bounded("ended stream", stream.next()).await.is_none());
    }
    let m = client.metrics();
    assert_eq!((m.submitted, m.succeeded, m.cancelled), (28, 28, 0));
    assert_eq!((m.in_flight, m.queued), (0, 0));
}

/// A stream that holds the only permit is dropped mid-way: the call queued behind it is
/// woken and runs; the slot's next stream reads to its end.
#[tokio::test]
async fn dropping_a_stream_mid_way_wakes_the_call_queued_behind_it() {
    let emulator =
        Emulator::start(EmulatorConfig::default().stream_chunk_delay(Duration::from_millis(30)))
            .await
            .unwrap();
    let client = client(&emulator, 1);
    for round in 0..3 {
        let mut stream = bounded(
            "stream",
            client.chat_stream(ChatRequest::new("openai").user(format!("long {round}"))),
        )
        .await
        .unwrap();
        bounded("first chunk", stream.next())
            .await
            .unwrap()
            .unwrap();
        let queued = tokio::spawn(client.text(format!("queued {round}")).into_future());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            client.metrics().queued,
            1,
            "the text call waits for the permit"
        );
        drop(stream);
        bounded("queued call", queued).await.unwrap().unwrap();
    }
    let m = client.metrics();
    assert_eq!((m.submitted, m.succeeded, m.cancelled), (6, 3, 3));
    assert_eq!((m.in_flight, m.queued), (0, 0));
}

/// Identical deterministic calls at once: one leads, the others follow it (one request);
/// the next identical call is a cache hit. Each is counted once, in the right counter.
#[tokio::test]
async fn followers_and_cache_hits_are_counted_once_each() {
    let emulator = emulator("latency=150ms").await;
    let client = client(&emulator, 4);
    let request = TextRequest::new("one answer").seed(5);
    let calls = (0..8).map(|_| client.call(request.clone()).into_future());
    let replies = bounded("identical calls", futures_util::future::join_all(calls)).await;
    let replies: Vec<_> = replies.into_iter().map(Result::unwrap).collect();
    assert!(replies.iter().all(|r| r.text == replies[0].text));
    assert_eq!(replies.iter().filter(|r| r.meta.coalesced).count(), 7);
    assert_eq!(emulator.stats().route("GET /text"), 1);
    let hit = bounded("cache hit", client.call(request.clone()))
        .await
        .unwrap();
    assert!(hit.meta.cached);
    assert_eq!(hit.meta.attempts, 0);
    let m = client.metrics();
    assert_eq!(m.submitted, 9);
    assert_eq!(m.succeeded, 9);
    assert_eq!(m.coalesced, 7);
    assert_eq!(m.cache_hits, 1);
    assert_eq!(m.max_in_flight, 1, "followers take no permit");
    assert_eq!(emulator.stats().route("GET /text"), 1);
}

/// The leader of identical calls is dropped while the others follow it: one of them takes
/// over (and is woken to do so), and all of them answer.
#[tokio::test]
async fn followers_outlive_their_dropped_leader() {
    let emulator = emulator("latency=200ms").await;
    let client = client(&emulator, 4);
    let request = TextRequest::new("led then dropped").seed(6);
    let leader = tokio::spawn(client.call(request.clone()).into_future());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let followers: Vec<_> = (0..4)
        .map(|_| tokio::spawn(client.call(request.clone()).into_future()))
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    leader.abort();
    for follower in followers {
        bounded("follower", follower).await.unwrap().unwrap();
    }
    let m = client.metrics();
    assert_eq!((m.submitted, m.succeeded, m.cancelled), (5, 4, 1));
    assert_eq!((m.in_flight, m.queued), (0, 0));
}

/// After shutdown a new call is refused at once, even one the cache could answer; it is
/// counted as submitted and failed with a shutdown error, and takes no permit.
#[tokio::test]
async fn a_call_after_shutdown_is_refused_even_from_the_cache() {
    let emulator = emulator("").await;
    let client = client(&emulator, 2);
    let request = TextRequest::new("cached before shutdown").seed(1);
    bounded("first", client.call(request.clone()))
        .await
        .unwrap();
    let report = bounded("shutdown", client.shutdown(Duration::from_millis(100))).await;
    assert_eq!((report.completed, report.cancelled), (0, 0));
    let error = bounded("after shutdown", client.call(request.clone()))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Shutdown);
    let error = bounded(
        "stream after shutdown",
        client.chat_stream(ChatRequest::new("openai").user("late")),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Shutdown);
    let m = client.metrics();
    assert_eq!(m.submitted, 3);
    assert_eq!(m.succeeded, 1);
    assert_eq!(m.cache_hits, 0);
    assert_eq!(m.failed.get("shutdown"), Some(&2), "{:?}", m.failed);
    assert_eq!((m.in_flight, m.queued, m.max_in_flight), (0, 0, 1));
    assert_eq!(emulator.stats().requests_total, 1);
}

/// Shutdown while a stream is open and silent, a call is in flight and another is queued:
/// each ends once with a shutdown error, none hangs.
#[tokio::test]
async fn shutdown_ends_a_silent_stream_a_call_in_flight_and_a_queued_one() {
    let emulator = Emulator::start(
        EmulatorConfig::default()
            .stream_chunk_delay(Duration::from_secs(3))
            .faults("latency=3s".parse().unwrap()),
    )
    .await
    .unwrap();
    let client = client(&emulator, 2);
    let stream = tokio::spawn({
        let client = client.clone();
        async move {
            let mut stream = client
                .chat_stream(ChatRequest::new("openai").user("silent"))
                .await?;
            let mut last = None;
            while let Some(item) = stream.next().await {
                if let Err(error) = item {
                    last = Some(error);
                }
            }
            match last {
                Some(error) => Err(error),
                None => Ok(()),
            }
        }
    });
    let in_flight = tokio::spawn(client.text("in flight").into_future());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let queued = tokio::spawn(client.text("queued").into_future());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(client.metrics().queued, 1);
    let report = bounded("shutdown", client.shutdown(Duration::from_millis(50))).await;
    assert_eq!(report.cancelled, 3, "{report:?}");
    let kinds = [
        bounded("stream", stream).await.unwrap().unwrap_err().kind(),
        bounded("in flight", in_flight)
            .await
            .unwrap()
            .unwrap_err()
            .kind(),
        bounded("queued", queued).await.unwrap().unwrap_err().kind(),
    ];
    assert_eq!(kinds, [ErrorKind::Shutdown; 3]);
    let m = client.metrics();
    assert_eq!((m.in_flight, m.queued), (0, 0));
}

/// An invalid request ends with its error without reaching the engine; a call future
/// dropped before its first poll submits nothing; a finished future polled again stays
/// pending (no second answer, no panic).
#[tokio::test]
async fn the_call_future_start_and_end_states() {
    let emulator = emulator("").await;
    let client = client(&emulator, 2);
    let error = bounded("invalid", client.text("")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    drop(client.text("never polled").into_future());
    assert_eq!(client.metrics().submitted, 0);
    let mut call = client.text("twice").into_future();
    bounded("call", &mut call).await.unwrap();
    let again = poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx).is_pending())).await;
    assert!(again, "a finished call's future answers only once");
    let mut invalid = client.text("").into_future();
    bounded("invalid", &mut invalid).await.unwrap_err();
    let again = poll_fn(|cx| Poll::Ready(invalid.as_mut().poll(cx).is_pending())).await;
    assert!(again);
    drop(call);
    let m = client.metrics();
    assert_eq!((m.submitted, m.succeeded, m.cancelled), (1, 1, 0));
    assert_eq!(emulator.stats().requests_total, 1);
}

/// smol, with its attempt watchdog: silent attempts through two permits, a third of the
/// calls dropped while queued or in flight. The others are each timed out by the
/// watchdog (it wakes them through their slots' signals), and the counts add up.
#[test]
fn smol_calls_through_reused_slots_are_timed_out_or_cancelled() {
    let server = Server::start(vec![Script::new().hold(Duration::from_secs(30))]).unwrap();
    let client = blossom_smol::Client::builder()
        .base_url(&server.base_url())
        .request_timeout(Duration::from_millis(150))
        .retry(blossom_core::policy::RetryPolicy::never())
        .max_concurrent(2)
        .build()
        .unwrap();
    const N: usize = 12;
    let outcome = smol::block_on(async {
        let mut all = FuturesUnordered::new();
        for i in 0..N {
            let call = client.text(format!("silent {i}")).into_future();
            let dropped = i % 3 == 1;
            all.push(async move {
                if dropped {
                    smol::future::or(async { Some(call.await) }, async {
                        smol::Timer::after(Duration::from_millis(20 * i as u64)).await;
                        None
                    })
                    .await
                } else {
                    Some(call.await)
                }
            });
        }
        let collect = async {
            let mut timed_out = 0;
            let mut dropped = 0;
            while let Some(result) = futures_util::StreamExt::next(&mut all).await {
                match result {
                    Some(Err(error)) if error.kind() == ErrorKind::Timeout => timed_out += 1,
                    Some(other) => panic!("{other:?}"),
                    None => dropped += 1,
                }
            }
            (timed_out, dropped)
        };
        smol::future::or(async { Some(collect.await) }, async {
            smol::Timer::after(GIVE_UP).await;
            None
        })
        .await
    });
    let (timed_out, dropped) = outcome.expect("some smol calls never ended");
    assert_eq!(timed_out + dropped, N);
    let m = client.metrics();
    assert_eq!(m.submitted, N as u64);
    assert_eq!(m.cancelled as usize, dropped);
    assert_eq!(
        m.failed.get("timeout").copied().unwrap_or(0) as usize,
        timed_out,
        "{:?}",
        m.failed
    );
    assert_eq!((m.in_flight, m.queued), (0, 0));
}

/// The blocking client from several threads through one permit: calls wait on their
/// (reused) blocking signals for it; streams are read to the end or dropped mid-way.
#[test]
fn blocking_threads_share_one_permit_through_reused_signals() {
    let emulator =
        Emulator::spawn(EmulatorConfig::default().stream_chunk_delay(Duration::from_millis(2)))
            .unwrap();
    let client = std::sync::Arc::new(
        blossom_blocking::Client::builder()
            .base_url(emulator.base_url())
            .api_key(DEMO_SECRET_KEY)
            .max_concurrent(1)
            .build()
            .unwrap(),
    );
    let (done, finished) = std::sync::mpsc::channel();
    for t in 0..4 {
        let client = std::sync::Arc::clone(&client);
        let done = done.clone();
        std::thread::spawn(move || {
            for i in 0..15 {
                client.text(format!("thread {t} call {i}")).unwrap();
                if i % 5 == 0 {
                    let mut stream = client
                        .chat_stream(
                            blossom_blocking::ChatRequest::new("openai")
                                .user(format!("thread {t} stream {i}")),
                        )
                        .unwrap();
                    stream.next().unwrap().unwrap();
                    if i % 10 == 0 {
                        drop(stream);
                    } else {
                        for chunk in stream {
                            chunk.unwrap();
                        }
                    }
                }
            }
            done.send(t).unwrap();
        });
    }
    for _ in 0..4 {
        finished
            .recv_timeout(GIVE_UP)
            .expect("a blocking thread never finished (a lost wake-up?)");
    }
    let m = client.metrics();
    assert_eq!(m.submitted, 4 * 18);
    assert_eq!(m.cancelled, 4 * 2);
    assert_eq!(m.succeeded, 4 * 16);
    assert_eq!((m.in_flight, m.queued, m.max_in_flight), (0, 0, 1));
}

/// The metadata headers are found whatever their case, and of repeated ones the first
/// with a non-empty text value counts: through both tokio transports.
#[tokio::test]
async fn metadata_headers_any_case_first_non_empty_value() {
    let body = "hello";
    let head = format!(
        "HTTP/1.1 200 OK\r\n\
         X-REQUEST-ID: \r\n\
         x-request-id: req-2\r\n\
         X-Request-Id: req-3\r\n\
         CONTENT-TYPE: text/plain; charset=utf-8\r\n\
         Content-Type: application/json\r\n\
         X-Model-Used: \r\n\
         x-MODEL-used: openai-large\r\n\
         x-cache: \r\n\
         X-Cache: HIT\r\n\
         X-Cache: MISS\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let server = Server::start(vec![Script::new().write(head).write(body)]).unwrap();
    let hyper = Client::builder()
        .base_url(&server.base_url())
        .build()
        .unwrap();
    let isahc = blossom_tokio::isahc::Client::builder()
        .base_url(&server.base_url())
        .build()
        .unwrap();
    let replies = [
        bounded("hyper", hyper.text("meta").no_cache())
            .await
            .unwrap(),
        bounded("isahc", isahc.text("meta").no_cache())
            .await
            .unwrap(),
    ];
    for reply in replies {
        assert_eq!(reply.text, "hello");
        let meta = &reply.meta;
        assert_eq!(meta.request_id.as_deref(), Some("req-2"));
        assert_eq!(
            meta.content_type.as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(meta.model_used.as_deref(), Some("openai-large"));
        assert_eq!(meta.server_cache, Some(ServerCache::Hit));
    }
}

/// The driver's sleeps (`Timer::sleep_until`'s future, made where it is awaited): a queued
/// call and a follower each end at their own timeout while the call ahead runs on, and
/// retries wait out their backoff. On tokio and on smol.
#[test]
fn queued_and_following_calls_time_out_and_retries_back_off_on_both_runtimes() {
    fn scripts() -> Vec<Script> {
        let slow = Script::new()
            .sleep(Duration::from_millis(800))
            .write(blossom_tests::loopback::response_head(
                200,
                "text/plain",
                Some(2),
            ))
            .write("ok");
        vec![slow]
    }
    fn retried() -> Vec<Script> {
        vec![
            Script::answer(503, "application/json", "{}"),
            Script::answer(503, "application/json", "{}"),
            Script::ok("text/plain", "third"),
        ]
    }
    let mut retry = blossom_core::policy::RetryPolicy::default();
    retry.max_retries = 3;
    retry.base = Duration::from_millis(60);
    retry.cap = Duration::from_millis(60);
    retry.jitter = blossom_core::policy::Jitter::None;

    // tokio
    let server = Server::start(scripts()).unwrap();
    let client = Client::builder()
        .base_url(&server.base_url())
        .max_concurrent(1)
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let ahead = tokio::spawn(client.call(TextRequest::new("ahead").seed(1)).into_future());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let follower = client
            .call(TextRequest::new("ahead").seed(1))
            .timeout(Duration::from_millis(200));
        let queued = client.text("queued").timeout(Duration::from_millis(300));
        let (follower, queued) = bounded("timeouts", async {
            futures_util::future::join(follower.into_future(), queued.into_future()).await
        })
        .await;
        assert_eq!(follower.unwrap_err().kind(), ErrorKind::Timeout);
        assert_eq!(queued.unwrap_err().kind(), ErrorKind::Timeout);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(290) && took < Duration::from_millis(700),
            "{took:?}"
        );
        assert_eq!(bounded("ahead", ahead).await.unwrap().unwrap().text, "ok");
    });
    let m = client.metrics();
    assert_eq!(
        (m.submitted, m.succeeded, m.coalesced, m.timeouts),
        (3, 1, 1, 2)
    );
    let server = Server::start(retried()).unwrap();
    let client = Client::builder()
        .base_url(&server.base_url())
        .retry(retry.clone())
        .build()
        .unwrap();
    let started = Instant::now();
    let reply = runtime
        .block_on(bounded("retried", client.text("again")))
        .unwrap();
    assert_eq!((reply.text.as_str(), reply.meta.attempts), ("third", 3));
    assert!(
        started.elapsed() >= Duration::from_millis(115),
        "{:?}",
        started.elapsed()
    );

    // smol
    let server = Server::start(scripts()).unwrap();
    let client = blossom_smol::Client::builder()
        .base_url(&server.base_url())
        .max_concurrent(1)
        .build()
        .unwrap();
    smol::block_on(async {
        let ahead = smol::spawn(client.call(TextRequest::new("ahead").seed(1)).into_future());
        smol::Timer::after(Duration::from_millis(100)).await;
        let started = Instant::now();
        let both = futures_util::future::join(
            client
                .call(TextRequest::new("ahead").seed(1))
                .timeout(Duration::from_millis(200))
                .into_future(),
            client
                .text("queued")
                .timeout(Duration::from_millis(300))
                .into_future(),
        );
        let (follower, queued) = smol::future::or(async { Some(both.await) }, async {
            smol::Timer::after(GIVE_UP).await;
            None
        })
        .await
        .expect("the smol timeouts never fired");
        assert_eq!(follower.unwrap_err().kind(), ErrorKind::Timeout);
        assert_eq!(queued.unwrap_err().kind(), ErrorKind::Timeout);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(290) && took < Duration::from_millis(700),
            "{took:?}"
        );
        assert_eq!(ahead.await.unwrap().text, "ok");
    });
    let server = Server::start(retried()).unwrap();
    let client = blossom_smol::Client::builder()
        .base_url(&server.base_url())
        .retry(retry)
        .build()
        .unwrap();
    let reply = smol::block_on(client.text("again").into_future()).unwrap();
    assert_eq!((reply.text.as_str(), reply.meta.attempts), ("third", 3));
}

/// Tasks on a multi-threaded runtime, each making calls one after another (some identical,
/// so they follow one another; some streams; some dropped at once): wake-ups cross threads
/// while slots and their signals are handed from call to call. Nothing hangs, and the
/// counts add up.
#[test]
fn cross_thread_wakeups_through_reused_slots() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emulator = emulator("latency=0..4ms").await;
        // No cache: identical calls follow one another instead.
        let client = Client::builder()
            .base_url(emulator.base_url())
            .api_key(DEMO_SECRET_KEY)
            .max_concurrent(2)
            .cache({
                let mut cache = blossom_core::policy::CacheConfig::default();
                cache.enabled = false;
                cache
            })
            .build()
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let client = client.clone();
                tokio::spawn(async move {
                    let mut dropped = 0u64;
                    for i in 0..25u64 {
                        match (t + i) % 5 {
                            0 => {
                                let seed = i64::try_from(i % 3).unwrap();
                                client
                                    .call(TextRequest::new("shared").seed(seed))
                                    .await
                                    .unwrap();
                            }
                            1 => {
                                let call = client.text(format!("dropped {t} {i}")).into_future();
                                if tokio::time::timeout(Duration::from_micros(300 * i), call)
                                    .await
                                    .is_err()
                                {
                                    dropped += 1;
                                }
                            }
                            2 => {
                                let mut stream = client
                                    .chat_stream(
                                        ChatRequest::new("openai").user(format!("s {t} {i}")),
                                    )
                                    .await
                                    .unwrap();
                                if i % 2 == 0 {
                                    while let Some(chunk) = stream.next().await {
                                        chunk.unwrap();
                                    }
                                } else {
                                    stream.next().await.unwrap().unwrap();
                                    dropped += 1;
                                }
                            }
                            _ => {
                                client.text(format!("plain {t} {i}")).await.unwrap();
                            }
                        }
                    }
                    dropped
                })
            })
            .collect();
        let dropped: u64 = bounded("all tasks", futures_util::future::join_all(tasks))
            .await
            .into_iter()
            .map(Result::unwrap)
            .sum();
        let m = client.metrics();
        assert_eq!(m.submitted, 200);
        assert_eq!(m.succeeded + m.cancelled, 200, "{m:?}");
        assert_eq!(m.cancelled, dropped);
        assert_eq!((m.in_flight, m.queued), (0, 0));
        assert!(m.max_in_flight <= 2);
        assert!(m.coalesced > 0, "{m:?}");
    });
}

/// A waker that owns a task's future, as in executors whose tasks are kept alive by their
/// wakers alone (the async book's executor): dropping its last reference drops the future.
struct OwningWaker {
    /// The task's future (dropped with the waker's last reference).
    _task: std::sync::Mutex<Option<blossom_client::BoxFuture<Result<TextReply, Error>>>>,
}

impl std::task::Wake for OwningWaker {
    fn wake(self: std::sync::Arc<Self>) {}
}

/// A call future is polled once by a task (its signal keeps the task's waker), then handed
/// on and dropped there; the task, kept alive by that waker alone, holds another call of
/// the same client. Dropping the first call lets go of the waker: the task and the call in
/// it go, and that call is cancelled in the engine. The engine's lock must not be held
/// while a waker is dropped (a waker's drop runs anything, here the client's own code).
#[test]
fn dropping_a_call_whose_signal_holds_the_last_waker_of_a_task_with_another_call() {
    let (cancelled, queued) = with_blocked_client(
        "the engine's lock was held while the signal dropped the task's waker",
        |client, _blocker| async move {
            // The blocker holds the only permit: the two calls below are queued.
            let mut other = client.text("other").into_future();
            let noop = futures_util::task::noop_waker();
            assert!(
                other
                    .as_mut()
                    .poll(&mut std::task::Context::from_waker(&noop))
                    .is_pending()
            );
            let task = std::sync::Arc::new(OwningWaker {
                _task: std::sync::Mutex::new(Some(other)),
            });
            let waker = std::task::Waker::from(std::sync::Arc::clone(&task));
            let mut call = client.text("handed on").into_future();
            assert!(
                call.as_mut()
                    .poll(&mut std::task::Context::from_waker(&waker))
                    .is_pending()
            );
            drop(waker);
            drop(task);
            drop(call);
            let m = client.metrics();
            (m.cancelled, m.queued)
        },
    );
    assert_eq!((cancelled, queued), (2, 0));
}

/// Runs `body` with a one-permit client whose first call (`blocker`, spawned) holds that
/// permit against a server that never answers, on a current-thread runtime of its own
/// thread; returns its result, or fails with `deadlock` if it does not come within 5 s (a
/// thread stuck on the engine's lock never returns).
fn with_blocked_client<T: Send + 'static, F>(
    deadlock: &str,
    body: impl FnOnce(Client, tokio::task::JoinHandle<Result<TextReply, Error>>) -> F + Send + 'static,
) -> T
where
    F: std::future::Future<Output = T>,
{
    let (done, finished) = std::sync::mpsc::channel();
    let server = Server::start(vec![Script::new().hold(Duration::from_secs(30))]).unwrap();
    let base_url = server.base_url();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let client = Client::builder()
                .base_url(&base_url)
                .max_concurrent(1)
                .build()
                .unwrap();
            let blocker = tokio::spawn(client.text("blocker").into_future());
            tokio::time::sleep(Duration::from_millis(50)).await;
            done.send(body(client, blocker).await).unwrap();
        });
    });
    finished
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| panic!("deadlock: {deadlock}"))
}

/// A waker whose wake asks the client for its metrics (which takes the engine's lock), as an
/// executor that polls its task inside `wake` would.
struct ReentrantWaker {
    client: Client,
    woken: std::sync::atomic::AtomicUsize,
}

impl std::task::Wake for ReentrantWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        let _ = self.client.metrics();
        self.woken.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A queued call is woken when the call ahead of it ends; its waker, which takes the
/// engine's lock itself, is woken after the lock is released.
#[test]
fn a_wake_runs_after_the_engines_lock_is_released() {
    let woken = with_blocked_client(
        "a waker was woken under the engine's lock",
        |client, blocker| async move {
            let task = std::sync::Arc::new(ReentrantWaker {
                client: client.clone(),
                woken: std::sync::atomic::AtomicUsize::new(0),
            });
            let waker = std::task::Waker::from(std::sync::Arc::clone(&task));
            let mut queued = client.text("queued").into_future();
            assert!(
                queued
                    .as_mut()
                    .poll(&mut std::task::Context::from_waker(&waker))
                    .is_pending()
            );
            // Ending the blocker frees the permit: the queued call is admitted and woken.
            blocker.abort();
            let _ = blocker.await;
            let woken = task.woken.load(std::sync::atomic::Ordering::SeqCst);
            drop(queued);
            woken
        },
    );
    assert_eq!(woken, 1);
}
