//! Typed requests and answers for every endpoint of docs/PROTOCOL.md §1.
//!
//! Requests are built with setters and checked by `validate()` before anything is sent; the
//! client calls it for you. Answers decode leniently: unknown fields are ignored, nullable
//! fields are optional, numbers may arrive as strings.

mod chat;
mod common;
mod image;
pub(crate) mod lenient;
mod media;
mod models;
mod speech;
mod text;
pub(crate) mod validate;

pub use chat::*;
pub use common::{ReasoningEffort, ResponseMeta, Safe, SafeCategory, ServerCache, Usage};
pub use image::{ImageQuality, ImageRequest, MAX_IMAGE_SIDE, MAX_REFERENCE_IMAGES};
pub use media::{Audio, Image, Media, MediaFormat};
pub use models::{ModelInfo, ModelKind, ModelList};
pub use speech::{AudioFormat, MAX_SPEECH_CHARS, SpeechEndpoint, SpeechRequest};
pub use text::{TextReply, TextRequest};
