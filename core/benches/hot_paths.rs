//! The core's hot paths: what every call pays in the SDK before and after the network.
//!
//! Run with `cargo bench -p blossom-core --bench hot_paths`. The engine's whole decision path
//! per call (submit, pass the cache, scheduler, limiter and breaker, send, decode the answer,
//! finish) should cost a few microseconds, far below a loopback round trip (~100 µs).
// Benchmarks unwrap: a failure should stop them loudly.
// The benchmark reads the clock once for an origin of virtual time; the engine never does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    missing_docs
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use blossom_core::ClientConfig;
use blossom_core::api::{ChatRequest, ImageRequest, TextRequest};
use blossom_core::codec::{Encoder, Expect, decode};
use blossom_core::engine::{CallOptions, Engine, EngineConfig, RawResponse, Step};
use blossom_core::policy::breaker::Outcome;
use blossom_core::policy::{Breaker, BreakerConfig, Limiter, RateLimit, RetryPolicy};
use blossom_core::sse::{
    ChatAccumulator, ChatStreamDecoder, ReadStep, SseDecoder, StreamLimits, StreamReader,
};
use blossom_core::{Error, TransportError, TransportErrorKind};
use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, StatusCode};

const CHAT_ANSWER: &str = r#"{"id":"pllns_1","object":"chat.completion","created":1767225600000,"model":"openai","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I help you today? Here is a reasonably long answer of a few dozen words, the size of a typical short reply."}}],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}"#;

fn config() -> ClientConfig {
    ClientConfig::new()
        .api_key("sk_BENCHbenchBENCHbenchBENCHbench1")
        .unwrap()
}

fn chat_request() -> ChatRequest {
    ChatRequest::new("openai")
        .system("You are a helpful assistant.")
        .user("Write a haiku about Rust and the sea.")
        .temperature(0.7)
        .max_tokens(200)
}

fn codec(c: &mut Criterion) {
    let encoder = Encoder::new(&config()).unwrap();
    let chat = chat_request();
    c.bench_function("encode chat request", |b| {
        b.iter(|| encoder.chat(black_box(&chat)).unwrap())
    });
    let image = ImageRequest::new("a red apple on a wooden table, studio light")
        .size(1024, 768)
        .seed(7);
    c.bench_function("encode image request", |b| {
        b.iter(|| encoder.image(black_box(&image)).unwrap())
    });
    let headers = HeaderMap::new();
    let body = Bytes::from_static(CHAT_ANSWER.as_bytes());
    c.bench_function("decode chat answer", |b| {
        b.iter(|| {
            decode(
                Expect::Chat,
                StatusCode::OK,
                &headers,
                black_box(body.clone()),
                None,
                None,
            )
            .unwrap()
        })
    });
}

fn sse(c: &mut Criterion) {
    let mut stream = String::new();
    for i in 0..200 {
        stream.push_str(&format!(
            "data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    stream.push_str("data: [DONE]\n\n");
    let bytes = stream.into_bytes();
    let mut group = c.benchmark_group("sse");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("decode 200 chunks in 1 KiB pieces", |b| {
        b.iter(|| {
            let mut decoder = ChatStreamDecoder::new();
            let mut chunks = 0;
            for piece in bytes.chunks(1024) {
                decoder.push(piece);
                while let Some(chunk) = decoder.next_chunk() {
                    black_box(chunk.unwrap());
                    chunks += 1;
                }
            }
            assert_eq!(chunks, 200);
        });
    });
    group.finish();

    // A typical chunk of a streamed answer: about 250 bytes on the wire.
    let chunk = b"data: {\"id\":\"pllns_7f3c2a\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" the quick brown fox\"},\"finish_reason\":null}]}\n\n";
    let mut group = c.benchmark_group("sse per chunk");
    group.throughput(Throughput::Bytes(chunk.len() as u64));
    group.bench_function(
        format!("typed decode of one {}-byte chunk", chunk.len()),
        |b| {
            let mut decoder = ChatStreamDecoder::new();
            b.iter(|| {
                decoder.push(black_box(chunk));
                black_box(decoder.next_chunk().unwrap().unwrap());
            });
        },
    );
    group.bench_function("stream reader: push and poll one chunk", |b| {
        let now = Instant::now();
        let mut reader = StreamReader::new(StreamLimits::default(), None, now);
        b.iter(|| {
            reader.push(black_box(chunk), now);
            let ReadStep::Chunk(chunk) = reader.poll(now) else {
                panic!()
            };
            black_box(chunk);
        });
    });
    group.finish();

    let mut framing = Vec::new();
    while framing.len() < 1 << 20 {
        framing.extend_from_slice(chunk);
    }
    let mut group = c.benchmark_group("sse framing");
    group.throughput(Throughput::Bytes(framing.len() as u64));
    group.bench_function("SSE events only (no JSON), 1 MiB in 16 KiB reads", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new();
            let mut events = 0usize;
            for piece in framing.chunks(16 * 1024) {
                decoder.push(piece);
                while let Some(event) = decoder.next_event() {
                    black_box(event.unwrap());
                    events += 1;
                }
            }
            black_box(events);
        });
    });
    group.finish();

    let mut decoder = ChatStreamDecoder::new();
    decoder.push(&bytes);
    let mut chunks = Vec::new();
    while let Some(chunk) = decoder.next_chunk() {
        chunks.push(chunk.unwrap());
    }
    c.bench_function("accumulate 200 chunks into one message", |b| {
        b.iter(|| {
            let mut all = ChatAccumulator::new();
            for chunk in &chunks {
                all.push(black_box(chunk));
            }
            black_box(all.finish());
        });
    });
}

fn policies(c: &mut Criterion) {
    let mut now = Instant::now();
    let mut limiter = Limiter::new(RateLimit::per_second(1_000_000.0, 100));
    c.bench_function("limiter: check, take, release", |b| {
        b.iter(|| {
            now += Duration::from_micros(2);
            limiter.check(black_box(now)).unwrap();
            limiter.take(now);
            limiter.release(now, None);
        });
    });
    let mut breaker = Breaker::new(BreakerConfig::default());
    c.bench_function("breaker: pass and record", |b| {
        b.iter(|| {
            now += Duration::from_micros(2);
            let pass = breaker.try_pass(black_box(now)).unwrap();
            breaker.record(pass, Outcome::Success, Duration::from_millis(5), now);
        });
    });
    let policy = RetryPolicy::default();
    let error = Error::transport(TransportError::new(
        TransportErrorKind::ResetBeforeResponse,
        "reset",
    ));
    c.bench_function("retry: decide after a reset", |b| {
        b.iter(|| {
            black_box(policy.decide(black_box(&error), 1, true, Duration::ZERO, 0.5, now, None))
        });
    });
}

fn engine(c: &mut Criterion) {
    let config = config();
    let encoder = Encoder::new(&config).unwrap();
    let mut engine = Engine::new(EngineConfig::from_client(&config));
    let prepared = encoder.chat(&chat_request()).unwrap();
    let answer = RawResponse {
        status: StatusCode::OK,
        headers: HeaderMap::new(),
        body: Bytes::from_static(CHAT_ANSWER.as_bytes()),
        received_at: None,
    };
    let mut now = Instant::now();
    // The request and the answer are made outside the timed part: a driver gets them from
    // the encoder and the transport, and cloning them is the harness's cost, not the engine's.
    c.bench_function("engine: one call, submit to done (decode included)", |b| {
        b.iter_batched(
            || (prepared.clone(), answer.clone()),
            |(prepared, answer)| {
                now += Duration::from_micros(10);
                let id = engine.submit(prepared, CallOptions::default(), now);
                let Step::Send(attempt) = engine.poll(id, now) else {
                    panic!()
                };
                black_box(attempt);
                engine.on_response(id, answer, now);
                let Step::Done(result) = engine.poll(id, now) else {
                    panic!()
                };
                black_box(result.unwrap());
            },
            BatchSize::SmallInput,
        );
    });

    let cached = encoder
        .text(&TextRequest::new("a cached prompt").seed(1))
        .unwrap();
    let text = RawResponse {
        status: StatusCode::OK,
        headers: HeaderMap::new(),
        body: Bytes::from_static(b"a cached answer"),
        received_at: None,
    };
    let id = engine.submit(cached.clone(), CallOptions::default(), now);
    let Step::Send(_) = engine.poll(id, now) else {
        panic!()
    };
    engine.on_response(id, text, now);
    let Step::Done(_) = engine.poll(id, now) else {
        panic!()
    };
    c.bench_function("engine: cache hit, submit to done", |b| {
        b.iter(|| {
            let id = engine.submit(cached.clone(), CallOptions::default(), now);
            let Step::Done(result) = engine.poll(id, now) else {
                panic!()
            };
            black_box(result.unwrap());
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = codec, sse, policies, engine
}
criterion_main!(benches);
