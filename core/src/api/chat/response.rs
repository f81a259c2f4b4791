//! The chat-completions answer, decoded leniently (docs/PROTOCOL.md §3).

use std::time::SystemTime;

use base64::Engine as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::tools::ToolCall;
use crate::api::common::{ResponseMeta, Usage};
use crate::api::lenient;
use crate::error::Error;

/// A chat completion. Unknown fields are ignored; missing ones take their defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletion {
    /// The completion id.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub id: String,
    /// `chat.completion`.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub object: String,
    /// Creation time, in seconds or milliseconds since the epoch; see [`Self::created_at`].
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub created: Option<u64>,
    /// The model that answered.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub model: String,
    /// The alternatives; usually one.
    #[serde(default, deserialize_with = "lenient::list_or_empty")]
    pub choices: Vec<Choice>,
    /// Token counts.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// Sources, for search models.
    #[serde(default)]
    pub citations: Option<Vec<Value>>,
    /// Backend fingerprint.
    #[serde(default)]
    pub system_fingerprint: Option<String>,
    /// Request id, cache state and attempts.
    #[serde(skip)]
    pub meta: ResponseMeta,
}

/// One alternative answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Choice {
    /// Its position.
    #[serde(default, deserialize_with = "lenient::u64_or_zero")]
    pub index: u64,
    /// Why generation stopped: `stop`, `length`, `tool_calls`, `content_filter`, ….
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// The message.
    #[serde(default)]
    pub message: AssistantMessage,
    /// Log probabilities, as sent.
    #[serde(default)]
    pub logprobs: Option<Value>,
}

/// The assistant's message.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct AssistantMessage {
    /// `assistant`.
    #[serde(default)]
    pub role: Option<String>,
    /// The text; `None` when the model only called tools or only spoke. A typed-part array
    /// in its place is joined into one text.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub content: Option<String>,
    /// Reasoning text, for reasoning models.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub reasoning_content: Option<String>,
    /// Tool calls.
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Spoken output, for audio models.
    #[serde(default)]
    pub audio: Option<AudioData>,
    /// A refusal message.
    #[serde(default)]
    pub refusal: Option<String>,
}

/// Audio attached to an assistant message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AudioData {
    /// Base64 of the audio bytes.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub data: String,
    /// What was said.
    #[serde(default)]
    pub transcript: Option<String>,
    /// The audio id.
    #[serde(default)]
    pub id: Option<String>,
    /// When the audio expires on the server.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub expires_at: Option<u64>,
}

impl AudioData {
    /// The decoded audio bytes.
    ///
    /// # Errors
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when `data` is not valid base64.
    pub fn bytes(&self) -> Result<Vec<u8>, Error> {
        base64::engine::general_purpose::STANDARD
            .decode(self.data.trim())
            .map_err(|e| Error::decode(format!("audio data is not base64: {e}"), b""))
    }
}

impl ChatCompletion {
    /// The first choice's text, or `""`.
    pub fn text(&self) -> &str {
        self.first()
            .and_then(|m| m.content.as_deref())
            .unwrap_or_default()
    }

    /// The first choice's reasoning text, if any.
    pub fn reasoning(&self) -> Option<&str> {
        self.first().and_then(|m| m.reasoning_content.as_deref())
    }

    /// The first choice's tool calls (empty when none).
    pub fn tool_calls(&self) -> &[ToolCall] {
        self.first()
            .and_then(|m| m.tool_calls.as_deref())
            .unwrap_or_default()
    }

    /// The first choice's finish reason.
    pub fn finish_reason(&self) -> Option<&str> {
        self.choices
            .first()
            .and_then(|c| c.finish_reason.as_deref())
    }

    /// The first choice's audio, for audio models.
    pub fn audio(&self) -> Option<&AudioData> {
        self.first().and_then(|m| m.audio.as_ref())
    }

    /// The creation time, whether the server sent seconds or milliseconds.
    pub fn created_at(&self) -> Option<SystemTime> {
        self.created.map(lenient::epoch)
    }

    /// The first choice's text parsed as JSON into `T` (for JSON mode).
    ///
    /// # Errors
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when the text is not JSON of that shape.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let text = self.text();
        serde_json::from_str(text).map_err(|e| {
            Error::decode(
                format!("the answer is not the expected JSON: {e}"),
                text.as_bytes(),
            )
        })
    }

    fn first(&self) -> Option<&AssistantMessage> {
        self.choices.first().map(|c| &c.message)
    }
}
