//! The `metrics` feature: a retried call and a cache hit, made by the tokio client over
//! real HTTP, show up in a recorder under the documented names and labels.
//!
//! The recorder is installed for this thread only (`with_local_recorder`); the client runs
//! on a current-thread runtime driven from inside it, so every engine step records there.

use std::time::Duration;

use blossom_core::engine::export;
use blossom_tests::loopback::{Script, Server};
use blossom_tokio::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

/// A series: its name, its labels and its value.
type Series = (String, Vec<(String, String)>, DebugValue);

/// The value of the series `name` whose labels include every pair of `labels`.
fn value<'a>(
    snapshot: &'a [Series],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a DebugValue> {
    snapshot
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| v)
}

/// Runs `work` on a current-thread runtime under a recorder of this thread's own; returns
/// every series it recorded.
fn recorded(work: impl std::future::Future<Output = ()>) -> Vec<Series> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work);
    });
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, value)
        })
        .collect()
}

#[test]
fn a_retried_call_and_a_cache_hit_are_published() {
    let server = Server::start(vec![
        Script::answer(503, "application/json", r#"{"error":{"message":"busy"}}"#),
        Script::ok("text/plain; charset=utf-8", "served"),
    ])
    .unwrap();
    let mut retry = RetryPolicy::default();
    retry.base = Duration::from_millis(5);
    retry.cap = Duration::from_millis(10);
    let snapshot = recorded(async {
        let client = Client::builder()
            .base_url(&server.base_url())
            .api_key("sk_MetricsExportMetricsExportMetric1")
            .retry(retry)
            .build()
            .unwrap();
        let request = || TextRequest::new("count me").seed(5);
        assert_eq!(client.text(request()).await.unwrap().text, "served");
        assert!(client.text(request()).await.unwrap().meta.cached);
    });
    let text = [("endpoint", "text")];
    let counter = |name: &str, labels: &[(&str, &str)]| match value(&snapshot, name, labels) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name} {labels:?}: {other:?} in {snapshot:#?}"),
    };
    assert_eq!(counter(export::ATTEMPTS_TOTAL, &text), 2);
    assert_eq!(
        counter(
            export::RESPONSES_TOTAL,
            &[("endpoint", "text"), ("status", "503")]
        ),
        1
    );
    assert_eq!(
        counter(
            export::RESPONSES_TOTAL,
            &[("endpoint", "text"), ("status", "200")]
        ),
        1
    );
    assert_eq!(counter(export::RETRIES_TOTAL, &text), 1);
    assert_eq!(counter(export::CACHE_HITS_TOTAL, &text), 1);
    assert_eq!(
        counter(
            export::CALLS_TOTAL,
            &[("endpoint", "text"), ("outcome", "ok")]
        ),
        2
    );
    match value(
        &snapshot,
        export::CALL_DURATION_SECONDS,
        &[("endpoint", "text"), ("outcome", "ok")],
    ) {
        Some(DebugValue::Histogram(values)) => {
            assert_eq!(values.len(), 2);
            // The served call took two attempts and a backoff; the cache hit took no time.
            assert!(values.iter().any(|v| v.into_inner() > 0.0), "{values:?}");
            assert!(values.iter().any(|v| v.into_inner() == 0.0), "{values:?}");
        }
        other => panic!("{other:?}"),
    }
    match value(&snapshot, export::ATTEMPT_DURATION_SECONDS, &text) {
        Some(DebugValue::Histogram(values)) => assert_eq!(values.len(), 2),
        other => panic!("{other:?}"),
    }
    match value(&snapshot, export::CALLS_IN_FLIGHT, &[]) {
        Some(DebugValue::Gauge(value)) => assert_eq!(value.into_inner(), 0.0),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests(), 2);
}

/// A stream's answer is counted when its head arrives, with the attempt's duration.
#[test]
fn a_streamed_answer_is_published() {
    let server = Server::start(vec![Script::sse(&["streamed"])]).unwrap();
    let snapshot = recorded(async {
        let client = Client::builder()
            .base_url(&server.base_url())
            .api_key("sk_MetricsExportMetricsExportMetric1")
            .build()
            .unwrap();
        let mut stream = client
            .chat_stream(ChatRequest::new("openai").user("stream me"))
            .await
            .unwrap();
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            text.push_str(chunk.unwrap().text());
        }
        assert_eq!(text, "streamed");
    });
    match value(
        &snapshot,
        export::RESPONSES_TOTAL,
        &[("endpoint", "text"), ("status", "200")],
    ) {
        Some(DebugValue::Counter(n)) => assert_eq!(*n, 1),
        other => panic!("{other:?} in {snapshot:#?}"),
    }
    match value(
        &snapshot,
        export::ATTEMPT_DURATION_SECONDS,
        &[("endpoint", "text")],
    ) {
        Some(DebugValue::Histogram(values)) => assert_eq!(values.len(), 1),
        other => panic!("{other:?}"),
    }
}
