//! Streamed chat chunks (`chat.completion.chunk`, docs/PROTOCOL.md §4).

use serde::Deserialize;
use serde_json::Value;

use crate::api::common::Usage;
use crate::api::lenient;

/// One chunk of a streamed answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ChatChunk {
    /// The completion id (the same on every chunk).
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub id: String,
    /// `chat.completion.chunk`.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub object: String,
    /// Creation time, seconds or milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub created: Option<u64>,
    /// The model.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub model: String,
    /// Deltas; empty on a usage-only chunk (and when a server sends `"choices": null`).
    #[serde(default, deserialize_with = "lenient::list_or_empty")]
    pub choices: Vec<ChunkChoice>,
    /// Token counts, on the last content chunk or a separate `choices: []` chunk.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// Sources, for search models.
    #[serde(default)]
    pub citations: Option<Vec<Value>>,
}

/// The delta of one choice.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ChunkChoice {
    /// Which choice.
    #[serde(default, deserialize_with = "lenient::u64_or_zero")]
    pub index: u64,
    /// What was added.
    #[serde(default)]
    pub delta: Delta,
    /// Set on the choice's last chunk.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// Text, reasoning or tool-call fragments added by one chunk.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Delta {
    /// `assistant`, on the first chunk.
    #[serde(default)]
    pub role: Option<String>,
    /// More answer text (a typed-part array in its place is joined into one text).
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub content: Option<String>,
    /// More reasoning text.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub reasoning_content: Option<String>,
    /// Tool-call fragments, to be joined by `index`.
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A fragment of a tool call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ToolCallDelta {
    /// Which call this fragment belongs to.
    #[serde(default, deserialize_with = "lenient::u64_or_zero")]
    pub index: u64,
    /// The call id, on its first fragment.
    #[serde(default)]
    pub id: Option<String>,
    /// `function`, on its first fragment.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Name and argument fragments.
    #[serde(default)]
    pub function: Option<FunctionCallDelta>,
}

/// Function name and argument fragments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct FunctionCallDelta {
    /// The name, usually whole on the first fragment.
    #[serde(default)]
    pub name: Option<String>,
    /// A piece of the arguments JSON text (an object sent in place of the text is kept as
    /// its JSON text).
    #[serde(default, deserialize_with = "lenient::opt_json_text")]
    pub arguments: Option<String>,
}

impl ChatChunk {
    /// The first choice's new text, or `""`.
    pub fn text(&self) -> &str {
        self.choices
            .first()
            .and_then(|c| c.delta.content.as_deref())
            .unwrap_or_default()
    }

    /// The first choice's new reasoning text, or `""`.
    pub fn reasoning(&self) -> &str {
        self.choices
            .first()
            .and_then(|c| c.delta.reasoning_content.as_deref())
            .unwrap_or_default()
    }

    /// The first choice's finish reason, on its last chunk.
    pub fn finish_reason(&self) -> Option<&str> {
        self.choices
            .first()
            .and_then(|c| c.finish_reason.as_deref())
    }
}
