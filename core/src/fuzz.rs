//! Entry points for fuzzing: each takes arbitrary bytes, drives one decoder or encoder of the
//! crate with them, and panics only when an invariant breaks. The cargo-fuzz targets in
//! `fuzz/` call them, and `core/tests/fuzz_corpus.rs` replays the kept corpus through them on
//! stable, so every finding stays a regression test. Not part of the API.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::ClientConfig;
use crate::api::{ChatRequest, ImageRequest, ModelKind, SpeechRequest, TextRequest};
use crate::codec::{Encoder, Expect, decode};
use crate::sse::{ChatAccumulator, ChatStreamDecoder, ReadStep, StreamLimits, StreamReader};

/// A key that must never come out of an error.
const CANARY: &str = "sk_FuzzCanaryFuzzCanaryFuzzCanary12";

/// Decodes `data` as a chat stream twice, whole and split where its first byte says, through
/// the decoder and the accumulator. Both must give the same chunks (an SSE stream decodes the
/// same however it is split) and nothing may panic.
pub fn chat_stream(data: &[u8]) {
    let (split, body) = match data.split_first() {
        Some((first, rest)) => (usize::from(*first), rest),
        None => (0, data),
    };
    let whole = run_stream(&[body]);
    let step = split.max(1);
    let pieces: Vec<&[u8]> = body.chunks(step).collect();
    assert_eq!(run_stream(&pieces), whole, "split every {step} bytes");
}

fn run_stream(pieces: &[&[u8]]) -> (Vec<Result<String, String>>, bool) {
    let mut decoder = ChatStreamDecoder::new();
    let mut all = ChatAccumulator::new();
    let mut out = Vec::new();
    for piece in pieces {
        decoder.push(piece);
        while let Some(item) = decoder.next_chunk() {
            match item {
                Ok(chunk) => {
                    all.push(&chunk);
                    out.push(Ok(format!("{chunk:?}")));
                }
                Err(error) => out.push(Err(error.to_string())),
            }
        }
    }
    let finished = decoder.finish().is_ok();
    let message = all.finish();
    for call in message.tool_calls() {
        let _parsed = call.arguments_json();
    }
    (out, finished)
}

/// Feeds `data` to a [`StreamReader`] in virtual time, a byte of every 64 giving the pause
/// before the next piece: whatever the bytes, it hands out chunks and then ends exactly once,
/// never asks to wait past the call's deadline, and ends by the deadline.
pub fn stream_reader(data: &[u8]) {
    let t0 = origin();
    let deadline = t0 + Duration::from_secs(30);
    let limits = StreamLimits {
        idle_timeout: Duration::from_secs(2),
        ..StreamLimits::default()
    };
    let mut reader = StreamReader::new(limits, Some(deadline), t0);
    let mut now = t0;
    let mut pieces = data.chunks(64);
    for _ in 0..10_000 {
        match reader.poll(now) {
            ReadStep::Chunk(_) => {}
            ReadStep::End(_) => {
                assert!(now <= deadline, "ended after the deadline");
                return;
            }
            ReadStep::Read { until } => {
                let Some(until) = until else {
                    panic!("a reader with a deadline waits without a limit");
                };
                assert!(until <= deadline, "waits past the deadline");
                match pieces.next() {
                    Some(piece) => {
                        let pause = Duration::from_millis(u64::from(piece[0]) * 20);
                        if now + pause >= until {
                            now = until;
                        } else {
                            now += pause;
                            reader.push(piece, now);
                        }
                    }
                    None => reader.on_body_end(Ok(())),
                }
            }
        }
    }
    panic!("the reader neither ended nor asked for bytes in 10,000 steps");
}

/// Decodes `data` as every kind of answer, with a success status and with the error status its
/// first byte picks: never a panic, and an error never shows the key it was told to scrub.
pub fn answers(data: &[u8]) {
    let status = match data.first().map_or(0, |b| b % 8) {
        0 => 400,
        1 => 401,
        2 => 429,
        3 => 500,
        4 => 503,
        5 => 402,
        6 => 422,
        _ => 302,
    };
    let mut echoed = data.to_vec();
    echoed.extend_from_slice(CANARY.as_bytes());
    for body in [data, &echoed[..]] {
        for expect in [
            Expect::Chat,
            Expect::Text,
            Expect::Image,
            Expect::Audio,
            Expect::Models(ModelKind::Text),
        ] {
            for status in [200, status] {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                let result = decode(
                    expect,
                    status,
                    &HeaderMap::new(),
                    Bytes::copy_from_slice(body),
                    None,
                    Some(CANARY),
                );
                if let Err(error) = result {
                    let shown = format!("{error} {error:?} {:?}", error.field_errors());
                    assert!(!shown.contains(CANARY), "the key leaked: {shown}");
                    assert!(!error.to_string().contains('\n'), "a multi-line error");
                }
            }
        }
    }
}

/// Builds every kind of request from `data` (prompts, models and numbers cut from it): each
/// is a valid HTTP request or a typed error, never a panic, and never carries the key in its
/// URL.
pub fn requests(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1}');
    let mut next = || parts.next().unwrap_or_default().to_owned();
    let (prompt, model, other) = (next(), next(), next());
    let number = |at: usize| data.get(at).copied().map_or(0, i64::from);
    let Ok(config) = ClientConfig::new().api_key(CANARY) else {
        panic!("the canary is a valid key");
    };
    let Ok(encoder) = Encoder::new(&config) else {
        panic!("the default configuration encodes");
    };
    let seed = number(0) * 1_000_003 - 100;
    let results = [
        encoder.text(
            &TextRequest::new(prompt.clone())
                .model(model.clone())
                .seed(seed)
                .system(other.clone())
                .temperature(number(1) as f64 / 50.0),
        ),
        encoder.chat(
            &ChatRequest::new(model.clone())
                .system(other.clone())
                .user(prompt.clone())
                .temperature(number(2) as f64 / 40.0 - 1.0)
                .max_tokens(u32::try_from(number(3) * 100).unwrap_or(0))
                .seed(seed),
        ),
        encoder.image(
            &ImageRequest::new(prompt.clone())
                .model(model.clone())
                .size(
                    u32::try_from(number(4) * 17).unwrap_or(0),
                    u32::try_from(number(5) * 13).unwrap_or(0),
                )
                .seed(seed)
                .negative_prompt(other.clone()),
        ),
        encoder.speech(&SpeechRequest::new(prompt).voice(other).model(model)),
    ];
    for result in results {
        match result {
            Ok(prepared) => {
                let request = prepared.attempt();
                let uri = request.uri().to_string();
                assert!(!uri.contains(CANARY), "the key is in the URL");
                assert!(uri.parse::<http::Uri>().is_ok(), "an invalid URI: {uri}");
                if !request.body().is_empty() {
                    let parsed = serde_json::from_slice::<serde_json::Value>(request.body());
                    assert!(parsed.is_ok(), "a body that is not JSON");
                }
            }
            Err(error) => assert_eq!(error.kind(), crate::ErrorKind::InvalidInput, "{error}"),
        }
    }
}

/// The origin of virtual time; any instant works.
#[allow(clippy::disallowed_methods)] // one read for an `Instant` value; time then only advances by arithmetic
fn origin() -> Instant {
    Instant::now()
}
