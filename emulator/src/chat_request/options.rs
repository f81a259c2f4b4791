//! The optional chat fields with structure: `stop`, `safe`, `response_format`, `tools`,
//! `tool_choice`, `modalities`, `audio`.

use serde_json::{Map, Value};

use super::fields::{TOOL_NAME_RULE, expected, options_message, present, valid_tool_name};
use super::{ResponseFormat, Tool, ToolChoice};
use crate::audio_codec::AudioFormat;
use crate::errors::Validation;
use crate::models::VOICES;
use crate::params::check_safe;

const CHAT_AUDIO_FORMATS: &[&str] = &["wav", "mp3", "flac", "opus", "pcm16"];

/// `stop`: a string or 1..=4 strings.
pub(super) fn stop(obj: &Map<String, Value>, v: &mut Validation) -> Vec<String> {
    match present(obj, "stop") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if items.len() > 4 => {
            v.add("stop", "Too big: expected array to have <=4 items");
            Vec::new()
        }
        Some(Value::Array(items)) if items.is_empty() => {
            v.add("stop", "Too small: expected array to have >=1 items");
            Vec::new()
        }
        Some(Value::Array(items)) => {
            let strings: Vec<String> = items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            if strings.len() != items.len() {
                v.add("stop", "Invalid input: expected an array of strings");
            }
            strings
        }
        other => {
            v.add("stop", expected("string or array", other));
            Vec::new()
        }
    }
}

/// `safe`: a boolean or the tokens of docs/PROTOCOL.md §6.
pub(super) fn safe(obj: &Map<String, Value>, v: &mut Validation) {
    match present(obj, "safe") {
        None | Some(Value::Bool(_)) => {}
        Some(Value::String(s)) => {
            if let Err(message) = check_safe(s) {
                v.add("safe", message);
            }
        }
        other => v.add("safe", expected("boolean or string", other)),
    }
}

/// `response_format`: `text`, `json_object` or `json_schema` with a name.
pub(super) fn response_format(obj: &Map<String, Value>, v: &mut Validation) -> ResponseFormat {
    let Some(value) = present(obj, "response_format") else {
        return ResponseFormat::Text;
    };
    match value.get("type").and_then(Value::as_str) {
        Some("text") => ResponseFormat::Text,
        Some("json_object") => ResponseFormat::JsonObject,
        Some("json_schema") => {
            let spec = value.get("json_schema");
            let name = spec.and_then(|s| s.get("name")).and_then(Value::as_str);
            if !name.is_some_and(valid_tool_name) {
                v.add(
                    "response_format",
                    format!("response_format.json_schema.name: {TOOL_NAME_RULE}"),
                );
            }
            match spec.and_then(|s| s.get("schema")) {
                None | Some(Value::Null) => ResponseFormat::JsonSchema(Value::Object(Map::new())),
                Some(schema @ (Value::Object(_) | Value::Bool(true))) => {
                    ResponseFormat::JsonSchema(schema.clone())
                }
                Some(other) => {
                    v.add(
                        "response_format",
                        format!(
                            "response_format.json_schema.schema: {}",
                            expected("object", Some(other))
                        ),
                    );
                    ResponseFormat::Text
                }
            }
        }
        Some(other) => {
            v.add(
                "response_format",
                format!(
                    "response_format.type: {}",
                    options_message(&["text", "json_object", "json_schema"], other)
                ),
            );
            ResponseFormat::Text
        }
        None => {
            v.add(
                "response_format",
                format!(
                    "response_format.type: {}",
                    expected("string", value.get("type"))
                ),
            );
            ResponseFormat::Text
        }
    }
}

/// `tools`: function tools with valid names and object parameter schemas.
pub(super) fn tools(obj: &Map<String, Value>, v: &mut Validation) -> Vec<Tool> {
    let Some(value) = present(obj, "tools") else {
        return Vec::new();
    };
    let Some(list) = value.as_array() else {
        v.add("tools", expected("array", Some(value)));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, tool) in list.iter().enumerate() {
        if let Some(t) = tool
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| *t != "function")
        {
            v.add(
                "tools",
                format!("tools.{i}.type: {}", options_message(&["function"], t)),
            );
            continue;
        }
        let Some(function) = tool.get("function").filter(|f| f.is_object()) else {
            v.add(
                "tools",
                format!(
                    "tools.{i}.function: {}",
                    expected("object", tool.get("function"))
                ),
            );
            continue;
        };
        match function.get("name").and_then(Value::as_str) {
            Some(name) if valid_tool_name(name) => {
                let parameters = match function.get("parameters") {
                    None | Some(Value::Null) => {
                        serde_json::json!({"type": "object", "properties": {}})
                    }
                    Some(p) if p.is_object() => p.clone(),
                    Some(other) => {
                        v.add(
                            "tools",
                            format!(
                                "tools.{i}.function.parameters: {}",
                                expected("object", Some(other))
                            ),
                        );
                        continue;
                    }
                };
                out.push(Tool {
                    name: name.to_owned(),
                    parameters,
                });
            }
            _ => v.add(
                "tools",
                format!("tools.{i}.function.name: {TOOL_NAME_RULE}"),
            ),
        }
    }
    out
}

/// `tool_choice`: a mode, or a function that must be among `tools`.
pub(super) fn tool_choice(
    obj: &Map<String, Value>,
    tools: &[Tool],
    v: &mut Validation,
) -> ToolChoice {
    match present(obj, "tool_choice") {
        None => ToolChoice::Auto,
        Some(Value::String(s)) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => {
                v.add(
                    "tool_choice",
                    options_message(&["none", "auto", "required"], other),
                );
                ToolChoice::Auto
            }
        },
        Some(choice @ Value::Object(_)) => {
            match choice.pointer("/function/name").and_then(Value::as_str) {
                Some(name) if tools.iter().any(|t| t.name == name) => {
                    ToolChoice::Named(name.to_owned())
                }
                Some(name) => {
                    v.add(
                        "tool_choice",
                        format!("tool_choice names the function \"{name}\", which is not in tools"),
                    );
                    ToolChoice::Auto
                }
                None => {
                    v.add("tool_choice", "tool_choice.function.name: Invalid input: expected string, received undefined");
                    ToolChoice::Auto
                }
            }
        }
        other => {
            v.add("tool_choice", expected("string or object", other));
            ToolChoice::Auto
        }
    }
}

/// Whether `modalities` includes `"audio"`.
pub(super) fn modalities(obj: &Map<String, Value>, v: &mut Validation) -> bool {
    let Some(value) = present(obj, "modalities") else {
        return false;
    };
    let Some(list) = value.as_array() else {
        v.add("modalities", expected("array", Some(value)));
        return false;
    };
    let mut audio = false;
    for (i, item) in list.iter().enumerate() {
        match item.as_str() {
            Some("audio") => audio = true,
            Some("text") => {}
            Some(other) => v.add(
                "modalities",
                format!(
                    "modalities.{i}: {}",
                    options_message(&["text", "audio"], other)
                ),
            ),
            None => v.add(
                "modalities",
                format!("modalities.{i}: {}", expected("string", Some(item))),
            ),
        }
    }
    audio
}

/// The `audio` settings: voice index and format (defaults: alloy, wav).
pub(super) fn audio(obj: &Map<String, Value>, v: &mut Validation) -> Option<(usize, AudioFormat)> {
    let Some(value) = present(obj, "audio") else {
        return Some((0, AudioFormat::Wav));
    };
    if !value.is_object() {
        v.add("audio", expected("object", Some(value)));
        return None;
    }
    let voice = match value.get("voice").and_then(Value::as_str) {
        None => Some(0),
        Some(name) => {
            let index = VOICES.iter().position(|x| *x == name);
            if index.is_none() {
                v.add(
                    "audio",
                    format!("audio.voice: {}", options_message(VOICES, name)),
                );
            }
            index
        }
    };
    let format = match value.get("format").and_then(Value::as_str) {
        None => Some(AudioFormat::Wav),
        Some(name) if !CHAT_AUDIO_FORMATS.contains(&name) => {
            v.add(
                "audio",
                format!(
                    "audio.format: {}",
                    options_message(CHAT_AUDIO_FORMATS, name)
                ),
            );
            None
        }
        Some(name) => match AudioFormat::parse(name) {
            Ok(f) => Some(f),
            Err(message) => {
                v.add("audio", format!("audio.format: {message}"));
                None
            }
        },
    };
    Some((voice?, format?))
}
