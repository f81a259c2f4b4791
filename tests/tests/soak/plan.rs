//! The workload: a seeded list of mixed calls (text, chat, chat streams, images, speech),
//! each with its request and, for some, a point at which the caller gives up on it.
//!
//! A call's request is a pure function of its kind and variant, and every request carries
//! an explicit seed (or, for speech, a fixed text), so the emulator's answer to it is
//! deterministic: the fault-free answer can be fetched separately and compared byte for byte.
//! Variants repeat, so the client's cache and request coalescing take part too.

use std::time::Duration;

use blossom_core::api::{AudioFormat, ChatRequest, ImageRequest, SpeechRequest, TextRequest};
use bytes::Bytes;

/// What a call asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Text,
    Chat,
    Stream,
    Image,
    Speech,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Chat => "chat",
            Kind::Stream => "stream",
            Kind::Image => "image",
            Kind::Speech => "speech",
        }
    }
}

/// Where the caller gives up on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// Drop the call's future (or the open stream) after this long.
    After(Duration),
    /// Drop the stream after this many chunks (0: right after it opened).
    AfterChunks(usize),
}

/// One call of the workload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Planned {
    pub id: usize,
    pub kind: Kind,
    pub variant: u32,
    pub cancel: Option<Cancel>,
    /// The call's timeout: the whole call, retries, waits and stream included.
    pub deadline: Duration,
}

/// Whether the adapter can drop a call midway: async calls can be dropped anywhere, blocking
/// calls only between the chunks of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancellable {
    Anywhere,
    StreamsOnly,
}

/// The share of calls the caller gives up on.
const CANCEL_SHARE: f64 = 0.05;
/// The share of calls with a short timeout (0.2–2 s) rather than the usual one.
const SHORT_DEADLINE_SHARE: f64 = 0.2;

/// The workload of `calls` calls, from `seed`.
///
/// The kinds and variants depend on `calls` and `seed` only (the cancellations draw from a
/// generator of their own), so every adapter asks the same questions.
pub(crate) fn plan(
    calls: usize,
    seed: u64,
    cancellable: Cancellable,
    deadline: Duration,
) -> Vec<Planned> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut chance = fastrand::Rng::with_seed(seed ^ 0xca9c_e11e);
    let mut timing = fastrand::Rng::with_seed(seed ^ 0x7133_0e07);
    // About a quarter of each kind's calls repeat an earlier request.
    let pool = u32::try_from(calls / 4).unwrap_or(u32::MAX).max(8);
    (0..calls)
        .map(|id| {
            let kind = match rng.u32(0..100) {
                0..25 => Kind::Text,
                25..45 => Kind::Chat,
                45..70 => Kind::Stream,
                70..85 => Kind::Image,
                _ => Kind::Speech,
            };
            let variant = rng.u32(0..pool);
            let cancel = match cancellable {
                Cancellable::Anywhere if chance.f64() < CANCEL_SHARE => {
                    Some(if kind == Kind::Stream && chance.bool() {
                        Cancel::AfterChunks(chance.usize(0..24))
                    } else {
                        Cancel::After(Duration::from_millis(chance.u64(1..100)))
                    })
                }
                // Streams are a quarter of the calls: cancel a fifth of them, 5 % in all.
                Cancellable::StreamsOnly
                    if kind == Kind::Stream && chance.f64() < CANCEL_SHARE * 4.0 =>
                {
                    Some(Cancel::AfterChunks(chance.usize(0..24)))
                }
                _ => None,
            };
            let deadline = if timing.f64() < SHORT_DEADLINE_SHARE {
                Duration::from_millis(timing.u64(200..2000))
            } else {
                deadline
            };
            Planned {
                id,
                kind,
                variant,
                cancel,
                deadline,
            }
        })
        .collect()
}

pub(crate) fn text(variant: u32) -> TextRequest {
    TextRequest::new(format!("soak text number {variant}")).seed(i64::from(variant))
}

pub(crate) fn chat(variant: u32) -> ChatRequest {
    ChatRequest::new("openai")
        .user(format!("soak chat number {variant}"))
        .seed(i64::from(variant))
}

pub(crate) fn stream(variant: u32) -> ChatRequest {
    ChatRequest::new("openai")
        .user(format!("soak stream number {variant}"))
        .seed(i64::from(variant))
}

pub(crate) fn image(variant: u32) -> ImageRequest {
    let width = 16 + variant % 7 * 8;
    let height = 16 + variant % 5 * 8;
    ImageRequest::new(format!("soak image number {variant}"))
        .size(width, height)
        .seed(i64::from(variant))
}

/// Speech in WAV, MP3 or FLAC. Not raw PCM: it has no signature, so the client trusts an
/// `audio/pcm` body as it comes, and the emulator's `malformed` fault (text in place of the
/// audio, same content type) would pass as a success that differs from the fault-free answer.
pub(crate) fn speech(variant: u32) -> SpeechRequest {
    let format = match variant % 3 {
        0 => AudioFormat::Wav,
        1 => AudioFormat::Mp3,
        _ => AudioFormat::Flac,
    };
    SpeechRequest::new(format!("soak {variant}"))
        .voice("nova")
        .format(format)
}

/// A successful answer, reduced to what must match the fault-free answer: the text of
/// text, chat and streamed chat answers, the bytes of images and speech.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Text(String),
    Bytes(Bytes),
}

impl Answer {
    pub(crate) fn len(&self) -> usize {
        match self {
            Answer::Text(text) => text.len(),
            Answer::Bytes(bytes) => bytes.len(),
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Answer::Text(text) => text.as_bytes(),
            Answer::Bytes(bytes) => bytes,
        }
    }
}
