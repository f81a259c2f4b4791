//! The protocol codec: typed requests to exact, replayable HTTP requests, and HTTP answers to
//! typed values or typed errors. No IO: bytes in, bytes out.
//!
//! ```
//! use blossom_core::{ClientConfig, codec::Encoder, api::ImageRequest};
//! let config = ClientConfig::new().api_key("sk_0123456789abcdefghijklmnopqrstuv").unwrap();
//! let encoder = Encoder::new(&config).unwrap();
//! let prepared = encoder.image(&ImageRequest::new("a red apple").size(512, 512).seed(7)).unwrap();
//! assert_eq!(
//!     prepared.request().uri(),
//!     "https://gen.pollinations.ai/image/a%20red%20apple?width=512&height=512&seed=7"
//! );
//! ```

mod decode;
mod encode;
mod url;

use bytes::Bytes;

pub use decode::{Output, decode};
pub use encode::{Encoder, MAX_REQUEST_BODY};

use crate::api::ModelKind;

/// What the answer to a request should be decoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expect {
    /// A chat completion (JSON).
    Chat,
    /// A chat stream (SSE); the body is read by the stream, not the codec.
    ChatStream,
    /// Plain text.
    Text,
    /// Image bytes.
    Image,
    /// Audio bytes.
    Audio,
    /// A model list.
    Models(ModelKind),
}

/// The endpoint family, which policies (breaker, limiter, metrics) are kept per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EndpointKind {
    /// Text and chat generation.
    Text,
    /// Image generation.
    Image,
    /// Speech.
    Audio,
    /// Model lists.
    Models,
}

impl EndpointKind {
    /// All kinds, for per-kind tables.
    pub const ALL: [Self; 4] = [Self::Text, Self::Image, Self::Audio, Self::Models];

    /// A short stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Models => "models",
        }
    }

    /// A dense index for per-kind arrays.
    pub fn index(self) -> usize {
        match self {
            Self::Text => 0,
            Self::Image => 1,
            Self::Audio => 2,
            Self::Models => 3,
        }
    }
}

/// An encoded request, ready to send any number of times (every attempt sends the same bytes).
#[derive(Debug, Clone)]
pub struct Prepared {
    request: http::Request<Bytes>,
    expect: Expect,
    endpoint: EndpointKind,
    deterministic: bool,
    /// The model asked for, when the request names one (for tracing only).
    model: Option<Box<str>>,
}

impl Prepared {
    pub(crate) fn new(
        request: http::Request<Bytes>,
        expect: Expect,
        endpoint: EndpointKind,
        deterministic: bool,
    ) -> Self {
        Self {
            request,
            expect,
            endpoint,
            deterministic,
            model: None,
        }
    }

    /// Names the model the request asks for (shown in traces; never sent from here).
    pub(crate) fn with_model(mut self, model: Option<&str>) -> Self {
        self.model = model.map(Box::from);
        self
    }

    /// The model the request asks for, when it names one.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The HTTP request.
    pub fn request(&self) -> &http::Request<Bytes> {
        &self.request
    }

    /// What the answer decodes as.
    pub fn expect(&self) -> Expect {
        self.expect
    }

    /// The endpoint family.
    pub fn endpoint(&self) -> EndpointKind {
        self.endpoint
    }

    /// Whether the same request always produces the same answer (so it may be cached and
    /// coalesced, and re-sent after a timeout without risk of a different result).
    pub fn is_deterministic(&self) -> bool {
        self.deterministic
    }

    /// Whether sending it twice is harmless: `GET`s, and deterministic `POST`s (the server
    /// merges identical requests and caches their answer).
    pub fn is_idempotent(&self) -> bool {
        self.request.method() == http::Method::GET || self.deterministic
    }

    /// Whether the answer is a stream read incrementally.
    pub fn is_stream(&self) -> bool {
        self.expect == Expect::ChatStream
    }

    /// A copy of the request for one attempt: headers are cloned, the body is shared.
    pub fn attempt(&self) -> http::Request<Bytes> {
        self.request.clone()
    }
}

#[cfg(test)]
mod tests;
