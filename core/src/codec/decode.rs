//! HTTP answers → typed values or typed errors.

use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::Expect;
use crate::api::lenient::without_bom;
use crate::api::{ChatCompletion, Media, MediaFormat, ModelList, ResponseMeta, TextReply};
use crate::error::{Error, api_error};

/// A decoded answer. Each kind is boxed, so that an answer (and the engine's steps and call
/// states that carry one) moves as 16 bytes on its way to the caller.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// A chat completion.
    Chat(Box<ChatCompletion>),
    /// Plain text.
    Text(Box<TextReply>),
    /// Image or audio bytes.
    Media(Box<Media>),
    /// A model list.
    Models(Box<ModelList>),
    /// A stream has started; its body is read by the caller.
    Stream(Box<ResponseMeta>),
}

impl Output {
    /// The answer's metadata.
    pub fn meta(&self) -> &ResponseMeta {
        match self {
            Self::Chat(c) => &c.meta,
            Self::Text(t) => &t.meta,
            Self::Media(m) => &m.meta,
            Self::Models(m) => &m.meta,
            Self::Stream(meta) => meta,
        }
    }

    /// Removes `secret` from the metadata and the identifying fields a server may echo it in
    /// (headers kept, a chat's id and model). The generated content is passed on as it is.
    pub(crate) fn scrub(&mut self, secret: &str) {
        if let Self::Chat(chat) = self {
            crate::secret::scrub(&mut chat.id, secret);
            crate::secret::scrub(&mut chat.model, secret);
        }
        self.meta_mut().scrub(secret);
    }

    /// The metadata, for updating (attempt counts, cache flags).
    pub(crate) fn meta_mut(&mut self) -> &mut ResponseMeta {
        match self {
            Self::Chat(c) => &mut c.meta,
            Self::Text(t) => &mut t.meta,
            Self::Media(m) => &mut m.meta,
            Self::Models(m) => &mut m.meta,
            Self::Stream(meta) => meta,
        }
    }
}

/// Decodes a complete answer.
///
/// Error statuses become [`ErrorKind::Api`](crate::ErrorKind::Api) errors with everything the
/// body and headers said; success bodies are decoded as `expect` says. `now` resolves
/// `Retry-After` dates when the answer has no `Date` header; `secret` is scrubbed from errors.
///
/// # Errors
/// The server's error, or [`ErrorKind::Decode`](crate::ErrorKind::Decode) when a success body
/// is not what it should be.
pub fn decode(
    expect: Expect,
    status: StatusCode,
    headers: &HeaderMap,
    body: Bytes,
    now: Option<SystemTime>,
    secret: Option<&str>,
) -> Result<Output, Error> {
    if !status.is_success() {
        return Err(api_error(status, headers, &body, now, secret));
    }
    let meta = ResponseMeta::from_head(status, headers);
    // The request id is read again on the rare failure rather than copied for every answer.
    decode_success(expect, meta, body)
        .map_err(|e| e.with_request_id(ResponseMeta::from_head(status, headers).request_id))
}

fn decode_success(expect: Expect, meta: ResponseMeta, body: Bytes) -> Result<Output, Error> {
    match expect {
        Expect::Chat => {
            let mut completion: Box<ChatCompletion> = serde_json::from_slice(without_bom(&body))
                .map_err(|e| Error::malformed(json_problem("the chat answer", &e), &body))?;
            completion.meta = meta;
            Ok(Output::Chat(completion))
        }
        Expect::Text => {
            if content_type_is(&meta, "audio/") {
                return Err(Error::decode(
                    "the model answered with audio; use speech() or an audio-output chat for audio models",
                    b"",
                ));
            }
            let body = match body.strip_prefix(b"\xEF\xBB\xBF") {
                Some(_) => body.slice(3..),
                None => body,
            };
            let text = String::from_utf8(body.into()).map_err(|e| {
                Error::malformed(format!("the text answer is not UTF-8: {e}"), e.as_bytes())
            })?;
            Ok(Output::Text(Box::new(TextReply { text, meta })))
        }
        Expect::Image => media(meta, body, true),
        Expect::Audio => media(meta, body, false),
        Expect::Models(_) => {
            let models = ModelList::parse(without_bom(&body))
                .map_err(|e| Error::malformed(json_problem("the model list", &e), &body))?;
            Ok(Output::Models(Box::new(ModelList { models, meta })))
        }
        Expect::ChatStream => Ok(Output::Stream(Box::new(meta))),
    }
}

/// Says whether a body was not JSON at all, or JSON of another shape, and where.
fn json_problem(what: &str, error: &serde_json::Error) -> String {
    match error.classify() {
        serde_json::error::Category::Data => {
            format!("{what} is JSON of an unexpected shape: {error}")
        }
        _ => format!("{what} is not valid JSON: {error}"),
    }
}

fn media(meta: ResponseMeta, body: Bytes, image: bool) -> Result<Output, Error> {
    let what = if image { "image" } else { "audio" };
    if body.is_empty() {
        return Err(Error::malformed(format!("the {what} answer is empty"), b""));
    }
    let format = MediaFormat::sniff(&body);
    let fits = match format {
        Some(format) => format.is_image() == image,
        // Raw PCM has no signature: trust an explicit audio/pcm or audio/L16 type.
        None => {
            !image && (content_type_is(&meta, "audio/pcm") || content_type_is(&meta, "audio/l16"))
        }
    };
    if !fits {
        let content_type = meta.content_type.as_deref().unwrap_or("no content type");
        return Err(Error::malformed(
            format!(
                "the {what} answer ({} bytes of {content_type}) is not {what} data",
                body.len()
            ),
            &body,
        ));
    }
    let content_type = meta.content_type.clone().unwrap_or_default();
    Ok(Output::Media(Box::new(Media {
        bytes: body,
        content_type,
        format,
        meta,
    })))
}

fn content_type_is(meta: &ResponseMeta, prefix: &str) -> bool {
    meta.content_type.as_deref().is_some_and(|ct| {
        ct.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    })
}
