//! Requests as values: one trait for "a request whose answer is `Output`", so batches, worker
//! pools and the per-method calls share one path, and an enum for mixed workloads.

use blossom_core::api::{
    ChatCompletion, ChatRequest, ImageRequest, Media, ModelKind, ModelList, SpeechRequest,
    TextReply, TextRequest,
};
use blossom_core::codec::{Encoder, Output, Prepared};
use blossom_core::error::Error;

/// Answers a call can produce. Sealed: implemented for the SDK's answer types only.
pub trait FromOutput: Sized + Send + 'static + sealed::Sealed {
    /// Extracts this answer from the engine's output.
    ///
    /// # Errors
    /// When the output is of another kind (a bug in the SDK, reported rather than panicking).
    fn from_output(output: Output) -> Result<Self, Error>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
    impl Sealed for blossom_core::api::ChatCompletion {}
    impl Sealed for blossom_core::api::TextReply {}
    impl Sealed for blossom_core::api::Media {}
    impl Sealed for blossom_core::api::ModelList {}
}

pub(crate) fn mismatch(output: &Output) -> Error {
    Error::decode(
        format!("internal: unexpected answer kind {:?}", output.meta()),
        b"",
    )
}

impl FromOutput for ChatCompletion {
    fn from_output(output: Output) -> Result<Self, Error> {
        match output {
            Output::Chat(chat) => Ok(*chat),
            other => Err(mismatch(&other)),
        }
    }
}

impl FromOutput for TextReply {
    fn from_output(output: Output) -> Result<Self, Error> {
        match output {
            Output::Text(text) => Ok(*text),
            other => Err(mismatch(&other)),
        }
    }
}

impl FromOutput for Media {
    fn from_output(output: Output) -> Result<Self, Error> {
        match output {
            Output::Media(media) => Ok(*media),
            other => Err(mismatch(&other)),
        }
    }
}

impl FromOutput for ModelList {
    fn from_output(output: Output) -> Result<Self, Error> {
        match output {
            Output::Models(models) => Ok(*models),
            other => Err(mismatch(&other)),
        }
    }
}

/// A request the client can send, and the answer it produces. Implemented for every request
/// type and for [`AnyRequest`].
pub trait ApiRequest: Send + 'static {
    /// The answer.
    type Output: FromOutput;

    /// Encodes the request (validating it first).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](blossom_core::ErrorKind::InvalidInput) when the request is invalid.
    fn prepare(self, encoder: &Encoder) -> Result<Prepared, Error>;
}

impl ApiRequest for TextRequest {
    type Output = TextReply;

    fn prepare(self, encoder: &Encoder) -> Result<Prepared, Error> {
        encoder.text(&self)
    }
}

impl ApiRequest for ChatRequest {
    type Output = ChatCompletion;

    fn prepare(mut self, encoder: &Encoder) -> Result<Prepared, Error> {
        self.stream = None;
        self.stream_options = None;
        encoder.chat(&self)
    }
}

impl ApiRequest for ImageRequest {
    type Output = Media;

    fn prepare(self, encoder: &Encoder) -> Result<Prepared, Error> {
        encoder.image(&self)
    }
}

impl ApiRequest for SpeechRequest {
    type Output = Media;

    fn prepare(self, encoder: &Encoder) -> Result<Prepared, Error> {
        encoder.speech(&self)
    }
}

impl ApiRequest for ModelKind {
    type Output = ModelList;

    fn prepare(self, encoder: &Encoder) -> Result<Prepared, Error> {
        encoder.models(self)
    }
}

/// Any request, for workloads that mix kinds (a batch of text, images and speech).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AnyRequest {
    /// `GET /text/{prompt}`.
    Text(TextRequest),
    /// A chat completion (boxed: it is much larger than the others).
    Chat(Box<ChatRequest>),
    /// An image.
    Image(ImageRequest),
    /// Speech.
    Speech(SpeechRequest),
    /// A model list.
    Models(ModelKind),
}

/// The answer to an [`AnyRequest`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AnyResponse {
    /// Plain text.
    Text(TextReply),
    /// A chat completion.
    Chat(Box<ChatCompletion>),
    /// Image or audio bytes.
    Media(Media),
    /// A model list.
    Models(ModelList),
}

impl AnyResponse {
    /// The text of a text or chat answer.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(reply) => Some(&reply.text),
            Self::Chat(chat) => Some(chat.text()),
            _ => None,
        }
    }

    /// The answer's metadata.
    pub fn meta(&self) -> &blossom_core::api::ResponseMeta {
        match self {
            Self::Text(reply) => &reply.meta,
            Self::Chat(chat) => &chat.meta,
            Self::Media(media) => &media.meta,
            Self::Models(list) => &list.meta,
        }
    }
}

impl sealed::Sealed for AnyResponse {}

impl FromOutput for AnyResponse {
    fn from_output(output: Output) -> Result<Self, Error> {
        match output {
            Output::Chat(chat) => Ok(Self::Chat(chat)),
            Output::Text(text) => Ok(Self::Text(*text)),
            Output::Media(media) => Ok(Self::Media(*media)),
            Output::Models(models) => Ok(Self::Models(*models)),
            other => Err(Error::decode(
                format!("internal: unexpected answer kind {:?}", other.meta()),
                b"",
            )),
        }
    }
}

impl ApiRequest for AnyRequest {
    type Output = AnyResponse;

    fn prepare(self, encoder: &Encoder) -> Result<Prepared, Error> {
        match self {
            Self::Text(request) => request.prepare(encoder),
            Self::Chat(request) => (*request).prepare(encoder),
            Self::Image(request) => request.prepare(encoder),
            Self::Speech(request) => request.prepare(encoder),
            Self::Models(kind) => kind.prepare(encoder),
        }
    }
}

macro_rules! any_from {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for AnyRequest {
            fn from(request: $ty) -> Self {
                Self::$variant(request)
            }
        }
    )*};
}

impl From<ChatRequest> for AnyRequest {
    fn from(request: ChatRequest) -> Self {
        Self::Chat(Box::new(request))
    }
}

any_from!(
    Text(TextRequest),
    Image(ImageRequest),
    Speech(SpeechRequest),
    Models(ModelKind)
);
