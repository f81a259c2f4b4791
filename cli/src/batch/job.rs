//! One input line turned into a request ready to send, or into an input error that says,
//! with the line number, what is wrong with it.

use blossom_tokio::{AnyRequest, ContentPart, Message, Priority};
use serde_json::{Map, Value};

use super::ids::Id;
use super::params;

/// Fields an input line may have.
const FIELDS: &[&str] = &[
    "id", "kind", "prompt", "messages", "model", "priority", "params",
];

/// What a line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `GET /text/{prompt}`.
    Text,
    /// A chat completion.
    Chat,
    /// An image, saved in the media directory.
    Image,
    /// Speech, saved in the media directory.
    Speech,
}

impl Kind {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "text" => Some(Self::Text),
            "chat" => Some(Self::Chat),
            "image" => Some(Self::Image),
            "speech" => Some(Self::Speech),
            _ => None,
        }
    }

    /// The name used in input and output lines.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Chat => "chat",
            Self::Image => "image",
            Self::Speech => "speech",
        }
    }

    /// Whether the answer is a file.
    pub(crate) fn is_media(self) -> bool {
        matches!(self, Self::Image | Self::Speech)
    }
}

/// A line ready to send.
#[derive(Debug)]
pub(crate) struct Job {
    /// Its id.
    pub(crate) id: Id,
    /// Its line number in the input (from 1).
    pub(crate) line: u64,
    /// What it asks for.
    pub(crate) kind: Kind,
    /// The request.
    pub(crate) request: AnyRequest,
    /// Its priority for a permit.
    pub(crate) priority: Priority,
    /// The model it asked for, if any.
    pub(crate) model: Option<String>,
}

/// A line that cannot be sent.
#[derive(Debug, Clone)]
pub(crate) struct InputError {
    /// Its id (the line number when the line has no usable id).
    pub(crate) id: Id,
    /// Its line number.
    pub(crate) line: u64,
    /// A stable code: `invalid_json`, `unknown_kind`, `missing_prompt`, `duplicate_id`, …
    pub(crate) code: &'static str,
    /// What is wrong, starting with `line N:`.
    pub(crate) message: String,
}

impl InputError {
    /// An error for line `line`.
    pub(crate) fn new(id: Id, line: u64, code: &'static str, message: impl AsRef<str>) -> Self {
        Self {
            id,
            line,
            code,
            message: format!("line {line}: {}", message.as_ref()),
        }
    }
}

/// A JSON value's type, for error messages.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().count() > 40 => "a long string".to_owned(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// Parses line `line` (its text `text`). `media_dir` says whether images and speech have
/// somewhere to go.
pub(crate) fn parse(line: u64, text: &str, media_dir: bool) -> Result<Job, InputError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        InputError::new(
            Id::line(line),
            line,
            "invalid_json",
            format!("invalid JSON: {e}"),
        )
    })?;
    let Value::Object(mut object) = value else {
        return Err(InputError::new(
            Id::line(line),
            line,
            "invalid_line",
            format!("expected a JSON object, got {}", describe(&value)),
        ));
    };
    let id = match object.remove("id") {
        None | Some(Value::Null) => Id::line(line),
        Some(value) => Id::from_json(&value)
            .map_err(|message| InputError::new(Id::line(line), line, "invalid_id", message))?,
    };
    let fail = |code, message: String| InputError::new(id.clone(), line, code, message);
    if let Some(name) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(fail(
            "unknown_field",
            format!("unknown field {name:?} (known: {})", FIELDS.join(", ")),
        ));
    }
    let kind = match object.remove("kind") {
        None | Some(Value::Null) => {
            return Err(fail(
                "missing_kind",
                "missing \"kind\": text, chat, image or speech".to_owned(),
            ));
        }
        Some(Value::String(name)) => Kind::parse(&name).ok_or_else(|| {
            fail(
                "unknown_kind",
                format!("unknown kind {name:?}; expected text, chat, image or speech"),
            )
        })?,
        Some(other) => {
            return Err(fail(
                "unknown_kind",
                format!(
                    "\"kind\" must be text, chat, image or speech, got {}",
                    describe(&other)
                ),
            ));
        }
    };
    let model = match object.remove("model") {
        None | Some(Value::Null) => None,
        Some(Value::String(model)) => Some(model),
        Some(other) => {
            return Err(fail(
                "invalid_params",
                format!("\"model\" must be a string, got {}", describe(&other)),
            ));
        }
    };
    let priority = priority(object.remove("priority")).map_err(|m| fail("invalid_params", m))?;
    let params = match object.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(fail(
                "invalid_params",
                format!("\"params\" must be an object, got {}", describe(&other)),
            ));
        }
    };
    let prompt = object.remove("prompt");
    let messages = object.remove("messages");
    let request = match kind {
        Kind::Chat => {
            let messages = chat_messages(prompt, messages).map_err(|(code, m)| fail(code, m))?;
            params::chat(messages, model.clone(), params).map(AnyRequest::from)
        }
        _ => {
            if messages.is_some() {
                return Err(fail(
                    "invalid_line",
                    format!(
                        "\"messages\" is for chat lines; a {} line takes a \"prompt\"",
                        kind.as_str()
                    ),
                ));
            }
            let prompt = prompt_text(prompt).map_err(|(code, m)| fail(code, m))?;
            match kind {
                Kind::Image => params::image(prompt, model.clone(), params).map(AnyRequest::from),
                Kind::Speech => params::speech(prompt, model.clone(), params).map(AnyRequest::from),
                _ => params::text(prompt, model.clone(), params).map(AnyRequest::from),
            }
        }
    }
    .map_err(|m| fail("invalid_params", m))?;
    validate(&request).map_err(|(code, m)| fail(code, m))?;
    if kind.is_media() && !media_dir {
        return Err(fail(
            "no_media_dir",
            format!(
                "{} lines need --media-dir DIR to save their files",
                kind.as_str()
            ),
        ));
    }
    Ok(Job {
        id,
        line,
        kind,
        request,
        priority,
        model,
    })
}

fn priority(value: Option<Value>) -> Result<Priority, String> {
    match value {
        None | Some(Value::Null) => Ok(Priority::Normal),
        Some(Value::String(name)) => match name.as_str() {
            "critical" => Ok(Priority::Critical),
            "high" => Ok(Priority::High),
            "normal" => Ok(Priority::Normal),
            "low" => Ok(Priority::Low),
            _ => Err(format!(
                "unknown priority {name:?}; expected critical, high, normal or low"
            )),
        },
        Some(other) => Err(format!(
            "\"priority\" must be critical, high, normal or low, got {}",
            describe(&other)
        )),
    }
}

type LineError = (&'static str, String);

fn prompt_text(prompt: Option<Value>) -> Result<String, LineError> {
    match prompt {
        None | Some(Value::Null) => Err(("missing_prompt", "missing \"prompt\"".to_owned())),
        Some(Value::String(text)) if text.trim().is_empty() => {
            Err(("missing_prompt", "\"prompt\" is empty".to_owned()))
        }
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err((
            "missing_prompt",
            format!("\"prompt\" must be a string, got {}", describe(&other)),
        )),
    }
}

/// A chat line's conversation: a `prompt` (one user message) or `messages`, not both.
fn chat_messages(
    prompt: Option<Value>,
    messages: Option<Value>,
) -> Result<Vec<Message>, LineError> {
    match (prompt, messages) {
        (Some(_), Some(_)) => Err((
            "invalid_line",
            "a chat line takes \"prompt\" or \"messages\", not both".to_owned(),
        )),
        (prompt, None) => prompt_text(prompt)
            .map(|text| vec![Message::user(text)])
            .map_err(|(code, _)| (code, "missing \"prompt\" or \"messages\"".to_owned())),
        (None, Some(Value::Array(items))) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| message(i, item))
            .collect(),
        (None, Some(_)) => Err((
            "missing_prompt",
            "\"messages\" must be a non-empty array of {\"role\", \"content\"} objects".to_owned(),
        )),
    }
}

fn message(index: usize, item: &Value) -> Result<Message, LineError> {
    let bad = |m: String| ("invalid_messages", format!("messages[{index}]: {m}"));
    let Value::Object(fields) = item else {
        return Err(bad(format!("expected an object, got {}", describe(item))));
    };
    if let Some(name) = fields
        .keys()
        .find(|k| !["role", "content", "name"].contains(&k.as_str()))
    {
        return Err(bad(format!(
            "unknown field {name:?} (known: role, content, name)"
        )));
    }
    let content = match fields.get("content") {
        Some(Value::String(text)) => blossom_tokio::Content::Text(text.clone()),
        Some(Value::Array(parts)) => blossom_tokio::Content::Parts(
            parts
                .iter()
                .map(|part| content_part(part).map_err(&bad))
                .collect::<Result<_, _>>()?,
        ),
        None | Some(Value::Null) => return Err(bad("missing \"content\"".to_owned())),
        Some(other) => {
            return Err(bad(format!(
                "\"content\" must be a string or a list of parts, got {}",
                describe(other)
            )));
        }
    };
    let mut message = match fields.get("role").and_then(Value::as_str) {
        Some("system") => Message::system(content),
        Some("developer") => Message::developer(content),
        Some("user") => Message::user(content),
        Some("assistant") => Message::assistant(content),
        _ => {
            return Err(bad(
                "\"role\" must be system, developer, user or assistant".to_owned()
            ));
        }
    };
    match fields.get("name") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => message = message.name(name.clone()),
        Some(other) => {
            return Err(bad(format!(
                "\"name\" must be a string, got {}",
                describe(other)
            )));
        }
    }
    Ok(message)
}

fn content_part(part: &Value) -> Result<ContentPart, String> {
    let kind = part.get("type").and_then(Value::as_str);
    match kind {
        Some("text") => match part.get("text") {
            Some(Value::String(text)) => Ok(ContentPart::text(text.clone())),
            _ => Err("a text part needs a \"text\" string".to_owned()),
        },
        Some("image_url") => {
            let url = match part.get("image_url") {
                Some(Value::String(url)) => Some(url.as_str()),
                Some(Value::Object(image)) => image.get("url").and_then(Value::as_str),
                _ => None,
            };
            url.map(ContentPart::image_url)
                .ok_or_else(|| "an image_url part needs \"image_url\": {\"url\": …}".to_owned())
        }
        _ => Err("a content part's \"type\" must be text or image_url".to_owned()),
    }
}

/// The SDK's own checks (ranges, sizes, names), so that a bad line is reported with its
/// line number before anything is sent.
fn validate(request: &AnyRequest) -> Result<(), LineError> {
    let checked = match request {
        AnyRequest::Text(r) => r.validate(),
        AnyRequest::Chat(r) => r.validate(),
        AnyRequest::Image(r) => r.validate(),
        AnyRequest::Speech(r) => r.validate(),
        _ => Ok(()),
    };
    checked.map_err(|error| {
        let field = error
            .field_errors()
            .first()
            .map(|f| f.field.as_str())
            .unwrap_or_default();
        let code = if field == "prompt" || field == "text" {
            "invalid_prompt"
        } else if field.starts_with("messages") {
            "invalid_messages"
        } else {
            "invalid_params"
        };
        (code, error.message().to_owned())
    })
}
