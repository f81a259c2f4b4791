//! The chat-completions request (`POST /v1/chat/completions`, docs/PROTOCOL.md §3).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::message::{Content, Message, Role};
use super::tools::{Tool, ToolChoice};
use crate::api::common::{ReasoningEffort, Safe};
use crate::api::validate;
use crate::error::Error;

/// The model used when none is named.
pub const DEFAULT_CHAT_MODEL: &str = "openai";

/// A chat-completions request. Build it with [`ChatRequest::new`] and the setters; unset fields
/// are not sent. Fields the SDK does not know yet go in [`extra`](Self::extra).
///
/// ```
/// use blossom_core::api::ChatRequest;
/// let request = ChatRequest::new("openai").system("Be brief").user("Hi").temperature(0.0).seed(7);
/// let json = serde_json::to_string(&request).unwrap();
/// assert_eq!(json, r#"{"model":"openai","messages":[{"role":"system","content":"Be brief"},{"role":"user","content":"Hi"}],"temperature":0.0,"seed":7}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChatRequest {
    /// The model name or alias.
    pub model: String,
    /// The conversation so far; at least one message.
    pub messages: Vec<Message>,
    /// Sampling temperature, 0..=2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling, 0..=1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Longest answer in tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// -1..=2147483647; the same seed and request give the same answer. -1 = random.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Up to four stop sequences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Set by the client: `true` for streaming calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Set by the client for streaming calls: ask for usage on the last chunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Plain text, any JSON object, or JSON matching a schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Tools the model may call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool to call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Allow several tool calls in one answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// −2..=2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// −2..=2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Reasoning effort for reasoning models.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Output modalities, e.g. text and audio for audio models.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<Modality>>,
    /// Voice and format of audio output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioOutput>,
    /// Return log probabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// How many alternatives per token, 0..=20 (needs `logprobs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u8>,
    /// Token id → bias, −100..=100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<BTreeMap<String, i32>>,
    /// An end-user identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Safety filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe: Option<Safe>,
    /// Extra top-level fields, passed through as they are. Must not repeat a typed field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Stop sequences: one or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Stop {
    /// A single sequence.
    One(String),
    /// One to four sequences.
    Many(Vec<String>),
}

/// Streaming options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StreamOptions {
    /// Send token usage on the final chunk.
    pub include_usage: bool,
}

/// The shape the answer must take.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResponseFormat {
    /// Plain text (the default).
    Text,
    /// Any valid JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchema,
    },
}

/// A named JSON schema for [`ResponseFormat::JsonSchema`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct JsonSchema {
    /// `^[a-zA-Z0-9_-]{1,64}$`.
    pub name: String,
    /// What the object is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON schema (an object).
    pub schema: Value,
    /// Ask for strict adherence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl ResponseFormat {
    /// JSON matching `schema`, strictly.
    pub fn json_schema(name: impl Into<String>, schema: Value) -> Self {
        Self::JsonSchema {
            json_schema: JsonSchema {
                name: name.into(),
                description: None,
                schema,
                strict: Some(true),
            },
        }
    }
}

/// An output modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Modality {
    /// Text.
    Text,
    /// Audio.
    Audio,
}

/// Audio output settings for audio-capable chat models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AudioOutput {
    /// A voice name: alloy, echo, fable, onyx, nova, shimmer, coral, verse, ballad, ash, sage, …
    pub voice: String,
    /// The audio encoding.
    pub format: ChatAudioFormat,
}

/// Encodings for chat audio output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChatAudioFormat {
    /// WAV.
    Wav,
    /// MP3.
    Mp3,
    /// FLAC.
    Flac,
    /// Opus.
    Opus,
    /// Raw 16-bit PCM.
    Pcm16,
}

/// Every field name the typed struct sends; `extra` must not repeat one.
const TYPED_FIELDS: &[&str] = &[
    "model",
    "messages",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "frequency_penalty",
    "presence_penalty",
    "reasoning_effort",
    "modalities",
    "audio",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "user",
    "safe",
];

impl ChatRequest {
    /// An empty conversation with `model` (use [`DEFAULT_CHAT_MODEL`] for the service default).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            messages: Vec::new(),
            temperature: None,
            top_p: None,
            max_tokens: None,
            seed: None,
            stop: None,
            stream: None,
            stream_options: None,
            response_format: None,
            tools: None,
            tool_choice: None,
            parallel_tool_calls: None,
            frequency_penalty: None,
            presence_penalty: None,
            reasoning_effort: None,
            modalities: None,
            audio: None,
            logprobs: None,
            top_logprobs: None,
            logit_bias: None,
            user: None,
            safe: None,
            extra: Map::new(),
        }
    }

    /// Appends a message.
    #[must_use]
    pub fn message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    /// Appends a system message.
    #[must_use]
    pub fn system(self, content: impl Into<Content>) -> Self {
        self.message(Message::system(content))
    }

    /// Appends a user message.
    #[must_use]
    pub fn user(self, content: impl Into<Content>) -> Self {
        self.message(Message::user(content))
    }

    /// Appends an assistant message.
    #[must_use]
    pub fn assistant(self, content: impl Into<Content>) -> Self {
        self.message(Message::assistant(content))
    }

    /// Sets the temperature (0..=2).
    #[must_use]
    pub fn temperature(mut self, value: f64) -> Self {
        self.temperature = Some(value);
        self
    }

    /// Sets top_p (0..=1).
    #[must_use]
    pub fn top_p(mut self, value: f64) -> Self {
        self.top_p = Some(value);
        self
    }

    /// Sets the answer length limit in tokens.
    #[must_use]
    pub fn max_tokens(mut self, value: u32) -> Self {
        self.max_tokens = Some(value);
        self
    }

    /// Sets the seed (−1 = random).
    #[must_use]
    pub fn seed(mut self, value: i64) -> Self {
        self.seed = Some(value);
        self
    }

    /// Sets the stop sequences (one to four).
    #[must_use]
    pub fn stop<I, S>(mut self, sequences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut all: Vec<String> = sequences.into_iter().map(Into::into).collect();
        self.stop = Some(if all.len() == 1 {
            Stop::One(all.remove(0))
        } else {
            Stop::Many(all)
        });
        self
    }

    /// Sets the response format.
    #[must_use]
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = Some(format);
        self
    }

    /// Asks for any JSON object as the answer.
    #[must_use]
    pub fn json(self) -> Self {
        self.response_format(ResponseFormat::JsonObject)
    }

    /// Asks for JSON matching `schema`.
    #[must_use]
    pub fn json_schema(self, name: impl Into<String>, schema: Value) -> Self {
        self.response_format(ResponseFormat::json_schema(name, schema))
    }

    /// Offers a tool.
    #[must_use]
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.get_or_insert_with(Vec::new).push(tool);
        self
    }

    /// Sets the tool choice.
    #[must_use]
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }

    /// Allows or forbids parallel tool calls.
    #[must_use]
    pub fn parallel_tool_calls(mut self, allow: bool) -> Self {
        self.parallel_tool_calls = Some(allow);
        self
    }

    /// Sets the frequency penalty (−2..=2).
    #[must_use]
    pub fn frequency_penalty(mut self, value: f64) -> Self {
        self.frequency_penalty = Some(value);
        self
    }

    /// Sets the presence penalty (−2..=2).
    #[must_use]
    pub fn presence_penalty(mut self, value: f64) -> Self {
        self.presence_penalty = Some(value);
        self
    }

    /// Sets the reasoning effort.
    #[must_use]
    pub fn reasoning_effort(mut self, effort: ReasoningEffort) -> Self {
        self.reasoning_effort = Some(effort);
        self
    }

    /// Asks for spoken output (text and audio) in `voice` and `format`.
    #[must_use]
    pub fn audio_output(mut self, voice: impl Into<String>, format: ChatAudioFormat) -> Self {
        self.modalities = Some(vec![Modality::Text, Modality::Audio]);
        self.audio = Some(AudioOutput {
            voice: voice.into(),
            format,
        });
        self
    }

    /// Asks for log probabilities, with `top` alternatives per token.
    #[must_use]
    pub fn logprobs(mut self, top: u8) -> Self {
        self.logprobs = Some(true);
        self.top_logprobs = Some(top);
        self
    }

    /// Sets an end-user identifier.
    #[must_use]
    pub fn user_id(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Sets the safety filters.
    #[must_use]
    pub fn safe(mut self, safe: Safe) -> Self {
        self.safe = Some(safe);
        self
    }

    /// Adds a field the SDK has no setter for; it is sent as given.
    #[must_use]
    pub fn extra(mut self, name: impl Into<String>, value: Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }

    /// Whether the same request will always produce the same answer (a fixed seed, or
    /// temperature 0), which makes it safe to cache.
    pub fn is_deterministic(&self) -> bool {
        self.seed.is_some_and(|s| s >= 0) || self.temperature == Some(0.0)
    }

    /// Checks everything docs/PROTOCOL.md §3 constrains, before anything is sent.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the first bad field.
    pub fn validate(&self) -> Result<(), Error> {
        validate::token("model", &self.model)?;
        if self.messages.is_empty() {
            return Err(Error::invalid_input(
                "messages",
                "messages is empty: add at least one message",
            ));
        }
        for (i, message) in self.messages.iter().enumerate() {
            message.validate(i)?;
        }
        validate::range("temperature", self.temperature, 0.0, 2.0)?;
        validate::range("top_p", self.top_p, 0.0, 1.0)?;
        validate::range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?;
        validate::range("presence_penalty", self.presence_penalty, -2.0, 2.0)?;
        validate::seed("seed", self.seed)?;
        self.validate_stop()?;
        self.validate_tools()?;
        self.validate_format()?;
        if let Some(top) = self.top_logprobs
            && top > 20
        {
            return Err(Error::invalid_input(
                "top_logprobs",
                format!("top_logprobs must be within 0..=20, got {top}"),
            ));
        }
        if let Some(bias) = &self.logit_bias
            && let Some((token, value)) = bias.iter().find(|(_, v)| !(-100..=100).contains(*v))
        {
            return Err(Error::invalid_input(
                "logit_bias",
                format!("logit_bias for token {token} must be within -100..=100, got {value}"),
            ));
        }
        let wants_audio = self
            .modalities
            .as_ref()
            .is_some_and(|m| m.contains(&Modality::Audio));
        if wants_audio && self.audio.is_none() {
            return Err(Error::invalid_input(
                "audio",
                "audio output needs a voice and format: use audio_output()",
            ));
        }
        if let Some(audio) = &self.audio {
            validate::token("audio.voice", &audio.voice)?;
        }
        if let Some(name) = self
            .extra
            .keys()
            .find(|k| TYPED_FIELDS.contains(&k.as_str()))
        {
            return Err(Error::invalid_input(
                "extra",
                format!("extra field {name:?} repeats a typed field: use its setter instead"),
            ));
        }
        Ok(())
    }

    fn validate_stop(&self) -> Result<(), Error> {
        let sequences: &[String] = match &self.stop {
            None => return Ok(()),
            Some(Stop::One(one)) => std::slice::from_ref(one),
            Some(Stop::Many(many)) => many,
        };
        if sequences.is_empty() || sequences.len() > 4 {
            return Err(Error::invalid_input(
                "stop",
                format!("stop takes 1 to 4 sequences, got {}", sequences.len()),
            ));
        }
        if sequences.iter().any(String::is_empty) {
            return Err(Error::invalid_input(
                "stop",
                "stop sequences must not be empty",
            ));
        }
        Ok(())
    }

    fn validate_tools(&self) -> Result<(), Error> {
        let tools = self.tools.as_deref().unwrap_or_default();
        for (i, tool) in tools.iter().enumerate() {
            validate::function_name(&format!("tools[{i}].function.name"), &tool.function.name)?;
            if tools[..i]
                .iter()
                .any(|t| t.function.name == tool.function.name)
            {
                return Err(Error::invalid_input(
                    &format!("tools[{i}].function.name"),
                    format!("tool {:?} is offered twice", tool.function.name),
                ));
            }
            if let Some(parameters) = &tool.function.parameters
                && !parameters.is_object()
            {
                return Err(Error::invalid_input(
                    &format!("tools[{i}].function.parameters"),
                    "tool parameters must be a JSON schema object",
                ));
            }
        }
        if let Some(ToolChoice::Function(name)) = &self.tool_choice {
            validate::function_name("tool_choice.function.name", name)?;
            if !tools.iter().any(|t| t.function.name == *name) {
                return Err(Error::invalid_input(
                    "tool_choice",
                    format!("tool_choice names {name:?}, which is not among the offered tools"),
                ));
            }
        }
        if matches!(self.tool_choice, Some(ToolChoice::Required)) && tools.is_empty() {
            return Err(Error::invalid_input(
                "tool_choice",
                "tool_choice is \"required\" but no tools are offered",
            ));
        }
        Ok(())
    }

    fn validate_format(&self) -> Result<(), Error> {
        if let Some(ResponseFormat::JsonSchema { json_schema }) = &self.response_format {
            validate::function_name("response_format.json_schema.name", &json_schema.name)?;
            if !json_schema.schema.is_object() {
                return Err(Error::invalid_input(
                    "response_format.json_schema.schema",
                    "the JSON schema must be an object",
                ));
            }
        }
        Ok(())
    }

    /// Whether the conversation has at least one user or developer turn with content
    /// (used by callers that build conversations programmatically).
    pub fn has_user_turn(&self) -> bool {
        self.messages
            .iter()
            .any(|m| matches!(m.role, Role::User | Role::Developer) && m.content.is_some())
    }
}
