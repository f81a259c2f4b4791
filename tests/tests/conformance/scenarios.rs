//! The scenarios. Each runs against every adapter (see `conform`).

use std::time::{Duration, Instant};

use blossom_client::{AnyRequest, AnyResponse};
use blossom_core::ErrorKind;
use blossom_core::api::{
    AudioFormat, ChatRequest, ImageRequest, MediaFormat, ModelKind, SpeechRequest, TextRequest,
};
use blossom_core::engine::{CallOptions, LimiterConfig};
use blossom_core::policy::{BreakerConfig, BreakerStatus, Priority, RateLimit, RetryPolicy};
use blossom_emulator::{EmulatorConfig, FaultSpec};

use crate::conform;
use crate::harness::{Harness, Settings};

fn faulty(spec: &'static str) -> impl Fn() -> EmulatorConfig {
    move || {
        EmulatorConfig::default()
            .seed(3)
            .faults(spec.parse::<FaultSpec>().unwrap())
    }
}

fn plain() -> EmulatorConfig {
    EmulatorConfig::default()
}

fn text(prompt: impl Into<String>) -> AnyRequest {
    TextRequest::new(prompt.into()).into()
}

fn text_of(response: &AnyResponse) -> String {
    response.text().unwrap_or_default().to_owned()
}

#[test]
fn every_endpoint() {
    conform(plain, Settings::default(), |h, _| {
        let none = CallOptions::default;
        let text = text_of(&h.call(text("Write a haiku"), none()).unwrap());
        let chat = text_of(
            &h.call(ChatRequest::new("openai").user("Hi").seed(2).into(), none())
                .unwrap(),
        );
        let AnyResponse::Media(image) = h
            .call(ImageRequest::new("a red apple").size(40, 30).into(), none())
            .unwrap()
        else {
            panic!("not media")
        };
        let AnyResponse::Media(speech) = h
            .call(
                SpeechRequest::new("Hello").format(AudioFormat::Wav).into(),
                none(),
            )
            .unwrap()
        else {
            panic!("not media")
        };
        let lists: Vec<usize> = [
            ModelKind::OpenAi,
            ModelKind::Text,
            ModelKind::Image,
            ModelKind::Audio,
        ]
        .into_iter()
        .map(|kind| match h.call(kind.into(), none()).unwrap() {
            AnyResponse::Models(list) => list.len(),
            other => panic!("{other:?}"),
        })
        .collect();
        assert!(text.contains("Write a haiku"));
        assert!(lists.iter().all(|n| *n > 0));
        (
            text,
            chat,
            blossom_tests::jpeg_size(&image.bytes),
            speech.format,
            blossom_tests::wav_format(&speech.bytes),
            lists,
        )
    });
}

#[test]
fn streaming_is_incremental() {
    let slow = || EmulatorConfig::default().stream_chunk_delay(Duration::from_millis(25));
    conform(slow, Settings::default(), |h, _| {
        let chunks = h
            .stream(ChatRequest::new("openai").user("Tell me a story").seed(4))
            .unwrap();
        let (first, last) = (chunks.first().unwrap().0, chunks.last().unwrap().0);
        assert!(chunks.len() > 5);
        assert!(
            last.duration_since(first) >= Duration::from_millis(25 * (chunks.len() as u64 - 2)),
            "the first chunk arrived {:?} before the last: the stream was buffered",
            last.duration_since(first)
        );
        let text: String = chunks
            .iter()
            .map(|(_, c)| c.as_ref().unwrap().text().to_owned())
            .collect();
        assert!(text.contains("Tell me a story"));
        text
    });
}

#[test]
fn in_stream_errors_are_typed() {
    for (spec, code) in [
        ("stream_error=1.0", Some("usage_missing")),
        ("truncate=1.0", None),
    ] {
        conform(faulty(spec), Settings::default(), |h, _| {
            let chunks = h
                .stream(ChatRequest::new("openai").user("Tell me a story"))
                .unwrap();
            let (_, last) = chunks.last().unwrap();
            let error = last.as_ref().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Stream);
            assert_eq!(error.code(), code);
            assert_eq!(
                chunks.iter().filter(|(_, c)| c.is_err()).count(),
                1,
                "a stream fails once"
            );
            assert_eq!(h.metrics().in_flight, 0);
            (error.kind(), error.code().map(str::to_owned))
        });
    }
}

#[test]
fn retries_under_faults() {
    let mut retry = RetryPolicy::default();
    retry.max_retries = 8;
    retry.base = Duration::from_millis(5);
    retry.cap = Duration::from_millis(50);
    let settings = Settings {
        retry: Some(retry),
        breaker: Some(None),
        ..Settings::default()
    };
    conform(faulty("503=0.25,500=0.05"), settings, |h, emulator| {
        let requests = (0..60).map(|i| text(format!("retry me {i}"))).collect();
        let results = h.batch(requests, 8, true);
        let ok = results.iter().filter(|(_, r)| r.is_ok()).count();
        let metrics = h.metrics();
        assert!(metrics.retried > 0);
        assert_eq!(emulator.stats().requests_total, metrics.attempts);
        assert!(
            results
                .iter()
                .enumerate()
                .all(|(i, (index, _))| i == *index),
            "ordered"
        );
        ok
    });
}

#[test]
fn breaker_opens_and_recovers() {
    let settings = Settings {
        retry: Some(RetryPolicy::never()),
        breaker: Some(Some(BreakerConfig::consecutive(
            3,
            Duration::from_millis(200),
        ))),
        ..Settings::default()
    };
    conform(faulty("503=1.0"), settings, |h, emulator| {
        let kinds: Vec<ErrorKind> = (0..20)
            .map(|i| {
                h.call(text(format!("down {i}")), CallOptions::default())
                    .unwrap_err()
                    .kind()
            })
            .collect();
        assert_eq!(emulator.stats().requests_total, 3);
        let open = matches!(h.metrics().breakers["text"], BreakerStatus::Open { .. });
        emulator.set_faults(FaultSpec::none());
        std::thread::sleep(Duration::from_millis(250));
        let recovered = h.call(text("up again"), CallOptions::default()).is_ok();
        let closed = h.metrics().breakers["text"] == BreakerStatus::Closed;
        (kinds, open, recovered, closed)
    });
}

#[test]
fn rate_limited_pacing() {
    let settings = Settings {
        limits: Some(LimiterConfig::unlimited().generation(Some(RateLimit::per_second(20.0, 1)))),
        ..Settings::default()
    };
    conform(plain, settings, |h, _| {
        let started = Instant::now();
        let results = h.batch(
            (0..10).map(|i| text(format!("paced {i}"))).collect(),
            10,
            false,
        );
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(440),
            "10 calls at 20/s took {took:?}"
        );
        assert!(h.metrics().limiter_waits >= 9);
        results.iter().filter(|(_, r)| r.is_ok()).count()
    });
}

#[test]
fn identical_calls_share_one_request() {
    conform(
        faulty("latency=150ms"),
        Settings::default(),
        |h, emulator| {
            let request = TextRequest::new("one answer for all").seed(9);
            let results = h.concurrent(
                (0..20)
                    .map(|_| (request.clone().into(), CallOptions::default()))
                    .collect(),
            );
            let texts: Vec<String> = results
                .iter()
                .map(|(_, r)| text_of(r.as_ref().unwrap()))
                .collect();
            assert!(texts.iter().all(|t| *t == texts[0]));
            (emulator.stats().route("GET /text"), h.metrics().coalesced)
        },
    );
}

#[test]
fn cache_hits_skip_the_server() {
    conform(plain, Settings::default(), |h, emulator| {
        let request = || {
            ImageRequest::new("cached apple")
                .size(16, 16)
                .seed(1)
                .into()
        };
        let first = h.call(request(), CallOptions::default()).unwrap();
        let second = h.call(request(), CallOptions::default()).unwrap();
        let fresh = h
            .call(request(), CallOptions::default().no_cache())
            .unwrap();
        (
            first.meta().cached,
            second.meta().cached,
            fresh.meta().cached,
            emulator.stats().route("GET /image"),
            h.metrics().cache_hits,
        )
    });
}

/// A blocker, then three low and three critical calls, all started at once; returns the
/// order in which they finished, by kind.
fn finishing_order(h: &dyn Harness) -> Vec<String> {
    let mut calls = vec![(text("blocker"), CallOptions::default())];
    for i in 0..3 {
        calls.push((
            text(format!("low {i}")),
            CallOptions::default().priority(Priority::Low),
        ));
    }
    for i in 0..3 {
        calls.push((
            text(format!("critical {i}")),
            CallOptions::default().priority(Priority::Critical),
        ));
    }
    let mut finished: Vec<(Instant, String)> = h
        .concurrent(calls)
        .into_iter()
        .map(|(at, r)| (at, text_of(&r.unwrap())))
        .collect();
    finished.sort();
    let order: Vec<String> = finished
        .iter()
        .map(|(_, t)| {
            ["blocker", "critical", "low"]
                .into_iter()
                .find(|k| t.contains(k))
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        order,
        [
            "blocker", "critical", "critical", "critical", "low", "low", "low"
        ]
    );
    order
}

#[test]
fn critical_calls_go_first() {
    let settings = Settings {
        max_concurrent: Some(1),
        ..Settings::default()
    };
    conform(faulty("latency=40ms"), settings, |h, _| finishing_order(h));
}

#[test]
fn critical_calls_take_the_next_rate_limited_slots() {
    let settings = Settings {
        limits: Some(LimiterConfig::unlimited().generation(Some(RateLimit::per_second(10.0, 1)))),
        ..Settings::default()
    };
    conform(plain, settings, |h, _| finishing_order(h));
}

#[test]
fn deadlines_hold_against_a_stalled_server() {
    conform(faulty("stall=1.0"), Settings::default(), |h, _| {
        let started = Instant::now();
        let error = h
            .call(
                ImageRequest::new("stalled").size(16, 16).into(),
                CallOptions::default().timeout(Duration::from_millis(200)),
            )
            .unwrap_err();
        let took = started.elapsed();
        assert!(took < Duration::from_millis(1500), "{took:?}");
        assert_eq!(h.metrics().in_flight, 0);
        error.kind()
    });
}

#[test]
fn dropping_a_stream_closes_its_connection() {
    let slow = || EmulatorConfig::default().stream_chunk_delay(Duration::from_millis(100));
    conform(slow, Settings::default(), |h, emulator| {
        let first = h
            .stream_then_drop(ChatRequest::new("openai").user("a long story"))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(3);
        while emulator.stats().aborted_by_client == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let metrics = h.metrics();
        (
            first.choices.len(),
            emulator.stats().aborted_by_client,
            metrics.in_flight,
            metrics.cancelled,
        )
    });
}

#[test]
fn shutdown_lets_calls_finish_within_the_grace_period() {
    conform(faulty("latency=300ms"), Settings::default(), |h, _| {
        let calls = (0..5).map(|i| text(format!("finishing {i}"))).collect();
        let (report, results) =
            h.shutdown_during(calls, Duration::from_millis(100), Duration::from_secs(3));
        assert!(results.iter().all(Result::is_ok));
        let refused = h
            .call(text("too late"), CallOptions::default())
            .unwrap_err();
        (report.completed, report.cancelled, refused.kind())
    });
}

#[test]
fn shutdown_cancels_what_outlives_the_grace_period() {
    conform(faulty("latency=1500ms"), Settings::default(), |h, _| {
        let calls = (0..5).map(|i| text(format!("cut short {i}"))).collect();
        let started = Instant::now();
        let (report, results) = h.shutdown_during(
            calls,
            Duration::from_millis(100),
            Duration::from_millis(100),
        );
        let kinds: Vec<ErrorKind> = results
            .iter()
            .map(|r| r.as_ref().unwrap_err().kind())
            .collect();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(h.metrics().in_flight, 0);
        (report.completed, report.cancelled, kinds)
    });
}

#[test]
fn a_ten_thousand_item_lazy_batch_stays_bounded() {
    conform(plain, Settings::default(), |h, _| {
        let (ok, failed, outstanding) = h.lazy_batch(10_000, 64);
        assert!(
            outstanding <= 65,
            "{outstanding} items taken and not yet yielded"
        );
        assert!(h.metrics().max_in_flight <= 64);
        (ok, failed)
    });
}

#[test]
fn a_hundred_slow_calls_run_at_once() {
    // With the default settings: the pool size does not cap the calls running at once.
    conform(faulty("latency=200ms"), Settings::default(), |h, _| {
        let started = Instant::now();
        let results = h.concurrent(
            (0..100)
                .map(|i| (text(format!("parallel {i}")), CallOptions::default()))
                .collect(),
        );
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(1500),
            "100 calls of 200 ms took {took:?}"
        );
        // More than the pool's 64 were in flight together (the old default capped them there).
        let ok = results.iter().filter(|(_, r)| r.is_ok()).count();
        (ok, h.metrics().max_in_flight > 64)
    });
}

#[test]
fn worker_pools_drain_and_end() {
    conform(plain, Settings::default(), |h, _| {
        let requests = (0..50).map(|i| text(format!("pooled {i}"))).collect();
        let results = h.pool(requests, 4);
        let mut texts: Vec<String> = results
            .iter()
            .map(|r| text_of(r.as_ref().unwrap()))
            .collect();
        texts.sort();
        texts.len()
    });
}

#[test]
fn media_formats_match() {
    conform(plain, Settings::default(), |h, _| {
        let AnyResponse::Media(png) = h
            .call(
                ImageRequest::new("logo")
                    .size(8, 8)
                    .transparent(true)
                    .into(),
                CallOptions::default(),
            )
            .unwrap()
        else {
            panic!()
        };
        png.format == Some(MediaFormat::Png)
    });
}
