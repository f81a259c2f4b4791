//! The chat-completions body (docs/PROTOCOL.md §3): validation like the service, into a typed
//! request the reply generator reads.
//!
//! Every problem is collected before answering, as zod does: one 400 envelope whose
//! `fieldErrors` is keyed by top-level field, each message naming the nested path
//! (`messages.1.role: …`). Unknown fields are accepted and ignored; `null` counts as absent.

mod fields;
mod messages;
mod options;

use serde_json::{Map, Value};

use crate::audio_codec::AudioFormat;
use crate::errors::{ApiError, Validation};
use crate::hash::{StableHasher, canonical_json};
use crate::models::{self, Model, TEXT_MODELS};

use fields::{boolean, expected, integer, kind, one_of, present, range};
use messages::messages;
use options::{audio, modalities, response_format, safe, stop, tool_choice, tools};

/// The message of every body validation failure.
pub(crate) const BODY_INVALID: &str = "JSON body validation failed";

/// Accepted `reasoning_effort` values.
const EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh", "max"];
/// Fields that change how an answer travels, not what it says.
const TRANSPORT_FIELDS: &[&str] = &["stream", "stream_options", "key", "no-cache"];

/// A message role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    System,
    User,
    Assistant,
    /// `tool` or the legacy `function`.
    Tool,
}

/// One message, reduced to what the generator needs.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub(crate) role: Role,
    /// The text parts joined by spaces (`[image]`/`[audio]` stand in for other parts).
    pub(crate) text: String,
}

/// `response_format`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResponseFormat {
    Text,
    JsonObject,
    /// The `json_schema.schema` (an empty object when none was given).
    JsonSchema(Value),
}

/// An offered function tool.
#[derive(Debug, Clone)]
pub(crate) struct Tool {
    pub(crate) name: String,
    /// The JSON Schema of the arguments (`{"type":"object"}` when absent).
    pub(crate) parameters: Value,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ToolChoice {
    Auto,
    None,
    Required,
    Named(String),
}

/// Audio output settings, present only when the model speaks and `modalities` asks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AudioOutput {
    pub(crate) voice_index: usize,
    pub(crate) format: AudioFormat,
}

/// A validated chat request.
#[derive(Debug, Clone)]
pub(crate) struct ChatRequest {
    pub(crate) model: &'static Model,
    pub(crate) messages: Vec<Message>,
    pub(crate) max_tokens: Option<u64>,
    /// Stop sequences: the text answer ends before the first one it contains.
    pub(crate) stop: Vec<String>,
    pub(crate) seed: Option<i64>,
    pub(crate) stream: bool,
    pub(crate) response_format: ResponseFormat,
    pub(crate) tools: Vec<Tool>,
    pub(crate) tool_choice: ToolChoice,
    pub(crate) parallel_tool_calls: bool,
    pub(crate) reasoning_effort: Option<String>,
    pub(crate) audio: Option<AudioOutput>,
    /// Hash of the canonical body without transport fields and with the model resolved:
    /// equal for requests that must get the same answer.
    pub(crate) fingerprint: u64,
}

/// Validates a chat body.
///
/// Fails with 400: the validation envelope for malformed fields, or
/// `Invalid model or alias: "x"` for an unknown model.
pub(crate) fn parse(body: &Value) -> Result<ChatRequest, ApiError> {
    let mut v = Validation::new();
    let Some(obj) = body.as_object() else {
        v.form(format!(
            "Invalid input: expected object, received {}",
            kind(Some(body))
        ));
        return Err(finish_err(v));
    };
    let messages = messages(obj, &mut v);
    let model_name = match present(obj, "model") {
        None => Some(models::DEFAULT_TEXT_MODEL),
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => {
            v.add("model", expected("string", Some(other)));
            None
        }
    };
    range(obj, "temperature", 0.0, 2.0, &mut v);
    range(obj, "top_p", 0.0, 1.0, &mut v);
    range(obj, "frequency_penalty", -2.0, 2.0, &mut v);
    range(obj, "presence_penalty", -2.0, 2.0, &mut v);
    let seed = integer(obj, "seed", -1, 2_147_483_647, &mut v);
    let max_tokens = integer(obj, "max_tokens", 0, i64::MAX, &mut v)
        .or(integer(obj, "max_completion_tokens", 0, i64::MAX, &mut v))
        .and_then(|n| u64::try_from(n).ok());
    integer(obj, "n", 1, 128, &mut v);
    integer(obj, "top_logprobs", 0, 20, &mut v);
    let stop = stop(obj, &mut v);
    let stream = boolean(obj, "stream", &mut v).unwrap_or(false);
    let parallel_tool_calls = boolean(obj, "parallel_tool_calls", &mut v).unwrap_or(true);
    boolean(obj, "logprobs", &mut v);
    for field in ["stream_options", "logit_bias", "metadata"] {
        if let Some(other) = present(obj, field).filter(|x| !x.is_object()) {
            v.add(field, expected("object", Some(other)));
        }
    }
    if let Some(other) = present(obj, "user").filter(|x| !x.is_string()) {
        v.add("user", expected("string", Some(other)));
    }
    safe(obj, &mut v);
    let response_format = response_format(obj, &mut v);
    let tools = tools(obj, &mut v);
    let tool_choice = tool_choice(obj, &tools, &mut v);
    let reasoning_effort = one_of(obj, "reasoning_effort", EFFORTS, &mut v);
    let wants_audio = modalities(obj, &mut v);
    let audio_settings = audio(obj, &mut v);

    if !v.is_empty() {
        return Err(finish_err(v));
    }
    let Some(model) = model_name.and_then(|name| models::resolve(TEXT_MODELS, name)) else {
        return Err(ApiError::invalid_model(model_name.unwrap_or_default()));
    };
    let audio = match audio_settings {
        Some((voice_index, format)) if wants_audio && model.outputs_audio() => Some(AudioOutput {
            voice_index,
            format,
        }),
        _ => None,
    };
    Ok(ChatRequest {
        model,
        messages,
        max_tokens,
        stop,
        seed,
        stream,
        response_format,
        tools,
        tool_choice,
        parallel_tool_calls,
        reasoning_effort,
        audio,
        fingerprint: fingerprint(obj, model),
    })
}

fn finish_err(v: Validation) -> ApiError {
    match v.finish(BODY_INVALID) {
        Err(e) => e,
        Ok(()) => ApiError::bad_request(BODY_INVALID),
    }
}

fn fingerprint(obj: &Map<String, Value>, model: &Model) -> u64 {
    let mut canonical = obj.clone();
    for field in TRANSPORT_FIELDS {
        canonical.remove(*field);
    }
    canonical.insert("model".to_owned(), Value::String(model.name.to_owned()));
    StableHasher::new()
        .str("chat")
        .str(&canonical_json(&Value::Object(canonical)))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::VOICES;
    use serde_json::json;

    fn field_errors(body: Value) -> Value {
        parse(&body).unwrap_err().to_json()["error"]["details"]["fieldErrors"].clone()
    }

    #[test]
    fn minimal_body_uses_the_default_model() {
        let req = parse(&json!({"messages": [{"role": "user", "content": "hi"}]})).unwrap();
        assert_eq!(req.model.name, "openai");
        assert_eq!(req.messages[0].text, "hi");
        assert!(!req.stream);
    }

    #[test]
    fn missing_and_empty_messages() {
        let e = field_errors(json!({}));
        assert_eq!(
            e["messages"][0],
            "Invalid input: expected array, received undefined"
        );
        let e = field_errors(json!({"messages": []}));
        assert_eq!(
            e["messages"][0],
            "Too small: expected array to have >=1 items"
        );
    }

    #[test]
    fn every_range_is_checked() {
        let e = field_errors(json!({
            "messages": [{"role": "wizard", "content": "x"}],
            "temperature": 3, "top_p": -0.1, "frequency_penalty": 2.5, "presence_penalty": "a",
            "seed": 2147483648i64, "stop": ["a", "b", "c", "d", "e"], "max_tokens": -1,
            "tools": [{"type": "function", "function": {"name": "bad name!"}}],
            "response_format": {"type": "xml"}, "reasoning_effort": "extreme"
        }));
        for field in [
            "messages",
            "temperature",
            "top_p",
            "frequency_penalty",
            "presence_penalty",
            "seed",
            "stop",
            "max_tokens",
            "tools",
            "response_format",
            "reasoning_effort",
        ] {
            assert!(e[field].is_array(), "{field} missing in {e}");
        }
    }

    #[test]
    fn content_parts_and_null_assistant_content() {
        let req = parse(&json!({"messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c", "content": "42"}
        ]}))
        .unwrap();
        assert_eq!(req.messages[0].text, "look [image] [audio]");
        assert_eq!(req.messages[2].role, Role::Tool);
    }

    #[test]
    fn unknown_model_and_aliases() {
        let err = parse(&json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}))
            .unwrap_err()
            .to_json();
        assert_eq!(err["error"]["message"], "Invalid model or alias: \"nope\"");
        let a =
            parse(&json!({"model": "gpt-5-mini", "messages": [{"role": "user", "content": "x"}]}))
                .unwrap();
        let b = parse(&json!({"model": "openai", "messages": [{"role": "user", "content": "x"}], "stream": true})).unwrap();
        assert_eq!(a.model.name, "openai");
        assert_eq!(
            a.fingerprint, b.fingerprint,
            "alias and stream flag do not change content"
        );
    }

    #[test]
    fn tool_choice_must_name_an_offered_tool() {
        let e = field_errors(json!({
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "a"}}],
            "tool_choice": {"type": "function", "function": {"name": "b"}}
        }));
        assert!(e["tool_choice"].is_array());
    }

    #[test]
    fn audio_output_only_for_speaking_models() {
        let body = |model: &str| {
            json!({
                "model": model, "modalities": ["text", "audio"],
                "audio": {"voice": "nova", "format": "mp3"},
                "messages": [{"role": "user", "content": "x"}]
            })
        };
        let req = parse(&body("openai-audio")).unwrap();
        let audio = req.audio.unwrap();
        assert_eq!(VOICES[audio.voice_index], "nova");
        assert_eq!(audio.format, AudioFormat::Mp3);
        assert!(parse(&body("openai")).unwrap().audio.is_none());
        let e = field_errors(
            json!({"audio": {"voice": "robot"}, "messages": [{"role": "user", "content": "x"}]}),
        );
        assert!(e["audio"].is_array());
    }
}
