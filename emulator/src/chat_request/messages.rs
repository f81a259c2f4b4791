//! `messages`: roles, string or part-list content, assistant tool calls.

use serde_json::{Map, Value};

use super::fields::{TOOL_NAME_RULE, expected, options_message, present, valid_tool_name};
use super::{Message, Role};
use crate::errors::Validation;

const ROLES: &[&str] = &[
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];
const PART_TYPES: &[&str] = &["text", "image_url", "input_audio", "file"];

/// The `messages` array: required, non-empty, each message valid.
pub(super) fn messages(obj: &Map<String, Value>, v: &mut Validation) -> Vec<Message> {
    let list = match obj.get("messages") {
        Some(Value::Array(list)) if list.is_empty() => {
            v.add("messages", "Too small: expected array to have >=1 items");
            return Vec::new();
        }
        Some(Value::Array(list)) => list,
        other => {
            v.add("messages", expected("array", other));
            return Vec::new();
        }
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, m)| message(i, m, v))
        .collect()
}

/// One message; `None` when its role is unusable.
pub(super) fn message(i: usize, value: &Value, v: &mut Validation) -> Option<Message> {
    let Some(m) = value.as_object() else {
        v.add(
            "messages",
            format!("messages.{i}: {}", expected("object", Some(value))),
        );
        return None;
    };
    let role = match m.get("role").and_then(Value::as_str) {
        Some("system" | "developer") => Role::System,
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("tool" | "function") => Role::Tool,
        Some(other) => {
            v.add(
                "messages",
                format!("messages.{i}.role: {}", options_message(ROLES, other)),
            );
            return None;
        }
        None => {
            v.add(
                "messages",
                format!("messages.{i}.role: {}", expected("string", m.get("role"))),
            );
            return None;
        }
    };
    let text = match present(m, "content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => content_parts(i, parts, v),
        None if role == Role::Assistant => String::new(),
        other => {
            v.add(
                "messages",
                format!(
                    "messages.{i}.content: {}",
                    expected("string or array", other)
                ),
            );
            String::new()
        }
    };
    if let Some(calls) = present(m, "tool_calls") {
        match calls.as_array() {
            Some(calls) => {
                for (j, call) in calls.iter().enumerate() {
                    let name = call.pointer("/function/name").and_then(Value::as_str);
                    if !name.is_some_and(valid_tool_name) {
                        v.add(
                            "messages",
                            format!("messages.{i}.tool_calls.{j}.function.name: {TOOL_NAME_RULE}"),
                        );
                    }
                }
            }
            None => v.add(
                "messages",
                format!(
                    "messages.{i}.tool_calls: {}",
                    expected("array", Some(calls))
                ),
            ),
        }
    }
    Some(Message { role, text })
}

/// The text of a part-list content, checking every part.
pub(super) fn content_parts(i: usize, parts: &[Value], v: &mut Validation) -> String {
    let mut texts = Vec::new();
    for (j, part) in parts.iter().enumerate() {
        let at = format!("messages.{i}.content.{j}");
        let kind_of_part = part.get("type").and_then(Value::as_str);
        match kind_of_part {
            Some("text") => match part.get("text").and_then(Value::as_str) {
                Some(t) => texts.push(t.to_owned()),
                None => v.add(
                    "messages",
                    format!("{at}.text: {}", expected("string", part.get("text"))),
                ),
            },
            Some("image_url") => {
                let url = part
                    .get("image_url")
                    .and_then(|u| u.as_str().or_else(|| u.get("url").and_then(Value::as_str)));
                if url.is_none() {
                    v.add(
                        "messages",
                        format!("{at}.image_url.url: {}", expected("string", None)),
                    );
                }
                texts.push("[image]".to_owned());
            }
            Some("input_audio") => {
                let audio = part.get("input_audio");
                let ok = audio
                    .and_then(|a| a.get("data"))
                    .is_some_and(Value::is_string)
                    && audio
                        .and_then(|a| a.get("format"))
                        .is_some_and(Value::is_string);
                if !ok {
                    v.add(
                        "messages",
                        format!("{at}.input_audio: expected {{\"data\", \"format\"}} strings"),
                    );
                }
                texts.push("[audio]".to_owned());
            }
            Some("file") => texts.push("[file]".to_owned()),
            Some(other) => v.add(
                "messages",
                format!("{at}.type: {}", options_message(PART_TYPES, other)),
            ),
            None => v.add(
                "messages",
                format!("{at}.type: {}", expected("string", part.get("type"))),
            ),
        }
    }
    texts.join(" ")
}
