//! Chat messages and their content parts (text, images, audio).

use base64::Engine as _;
use serde::Serialize;

use super::tools::ToolCall;
use crate::api::validate;
use crate::error::Error;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// Instructions for the model.
    System,
    /// Instructions from the application developer (newer name for system).
    Developer,
    /// The person talking to the model.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call.
    Tool,
    /// The legacy name for a tool result.
    Function,
}

/// A message's content: plain text or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Text, images and audio mixed.
    Parts(Vec<ContentPart>),
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<Vec<ContentPart>> for Content {
    fn from(parts: Vec<ContentPart>) -> Self {
        Self::Parts(parts)
    }
}

/// One part of a multi-part message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContentPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image by URL or `data:` URI.
    ImageUrl {
        /// The image reference.
        image_url: ImageUrl,
    },
    /// Audio input, base64-encoded.
    InputAudio {
        /// The audio.
        input_audio: InputAudio,
    },
}

/// An image reference in a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageUrl {
    /// An `http(s)://` URL or a `data:<mime>;base64,…` URI.
    pub url: String,
    /// `low`, `high` or `auto`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Audio input in a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputAudio {
    /// Base64 of the audio bytes.
    pub data: String,
    /// `wav`, `mp3`, ….
    pub format: String,
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into() }
    }

    /// An image by `http(s)://` URL (or an already-built `data:` URI).
    pub fn image_url(url: impl Into<String>) -> Self {
        Self::ImageUrl {
            image_url: ImageUrl {
                url: url.into(),
                detail: None,
            },
        }
    }

    /// An image from bytes, sent inline as a `data:` URI.
    ///
    /// ```
    /// use blossom_core::api::ContentPart;
    /// let part = ContentPart::image_bytes("image/png", &[0x89, b'P', b'N', b'G']);
    /// let json = serde_json::to_string(&part).unwrap();
    /// assert_eq!(json, r#"{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw=="}}"#);
    /// ```
    pub fn image_bytes(mime: &str, bytes: &[u8]) -> Self {
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        Self::image_url(format!("data:{mime};base64,{data}"))
    }

    /// Audio input from bytes in `format` (`wav`, `mp3`, …).
    pub fn input_audio(bytes: &[u8], format: impl Into<String>) -> Self {
        Self::InputAudio {
            input_audio: InputAudio {
                data: base64::engine::general_purpose::STANDARD.encode(bytes),
                format: format.into(),
            },
        }
    }

    fn validate(&self, field: &str) -> Result<(), Error> {
        match self {
            Self::Text { .. } => Ok(()),
            Self::ImageUrl { image_url } => validate::image_url(field, &image_url.url),
            Self::InputAudio { input_audio } => {
                if input_audio.data.is_empty() {
                    return Err(Error::invalid_input(
                        field,
                        format!("{field}: audio data is empty"),
                    ));
                }
                validate::token(&format!("{field}.format"), &input_audio.format)
            }
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What it says; `None` for an assistant message that only calls tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// An optional participant name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tool calls an assistant message made (when replaying a conversation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// For a `tool` message: the id of the call it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A message with `role` and `content`.
    pub fn new(role: Role, content: impl Into<Content>) -> Self {
        Self {
            role,
            content: Some(content.into()),
            name: None,
            tool_calls: None,
            tool_call_id: None,
        }
    }

    /// A system message.
    pub fn system(content: impl Into<Content>) -> Self {
        Self::new(Role::System, content)
    }

    /// A developer message.
    pub fn developer(content: impl Into<Content>) -> Self {
        Self::new(Role::Developer, content)
    }

    /// A user message.
    pub fn user(content: impl Into<Content>) -> Self {
        Self::new(Role::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<Content>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// An assistant message that called tools (to replay a tool-use turn).
    pub fn assistant_tool_calls(calls: Vec<ToolCall>) -> Self {
        Self {
            role: Role::Assistant,
            content: None,
            name: None,
            tool_calls: Some(calls),
            tool_call_id: None,
        }
    }

    /// The result of the tool call `call_id`.
    pub fn tool(call_id: impl Into<String>, content: impl Into<Content>) -> Self {
        Self {
            tool_call_id: Some(call_id.into()),
            ..Self::new(Role::Tool, content)
        }
    }

    /// Sets the participant name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub(crate) fn validate(&self, index: usize) -> Result<(), Error> {
        let field = format!("messages[{index}]");
        match &self.content {
            None if self.role == Role::Assistant && self.tool_calls.is_some() => {}
            None => {
                return Err(Error::invalid_input(
                    &format!("{field}.content"),
                    format!("{field} has no content"),
                ));
            }
            Some(Content::Parts(parts)) => {
                if parts.is_empty() {
                    return Err(Error::invalid_input(
                        &format!("{field}.content"),
                        format!("{field} has an empty list of content parts"),
                    ));
                }
                for (i, part) in parts.iter().enumerate() {
                    part.validate(&format!("{field}.content[{i}]"))?;
                }
            }
            Some(Content::Text(_)) => {}
        }
        if self.role == Role::Tool && self.tool_call_id.as_deref().is_none_or(str::is_empty) {
            return Err(Error::invalid_input(
                &format!("{field}.tool_call_id"),
                format!("{field} is a tool result without a tool_call_id"),
            ));
        }
        if let Some(calls) = &self.tool_calls {
            for (i, call) in calls.iter().enumerate() {
                validate::function_name(
                    &format!("{field}.tool_calls[{i}].function.name"),
                    &call.function.name,
                )?;
            }
        }
        Ok(())
    }
}
