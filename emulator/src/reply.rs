//! The assistant's answer to a chat request: content, reasoning, tool calls or audio, as
//! a pure function of the request and a seed, plus its JSON and header renderings.
//!
//! Choices, in order: tool calls (when offered and chosen, see [`choose_tools`]), else audio
//! (speaking model with `modalities: ["audio"]`), else text: JSON for `response_format`
//! `json_object`/`json_schema`, otherwise a readable reply echoing the last user message,
//! capped to `max_tokens` words (`finish_reason: "length"`). Reasoning text is added when
//! `reasoning_effort` is set (not `none`) on a reasoning model.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::audio_codec::{self, AudioFormat};
use crate::chat_request::{ChatRequest, ResponseFormat, Role, Tool, ToolChoice};
use crate::clock;
use crate::generate::{Rng, count_tokens, sentences, snippet};
use crate::hash::StableHasher;
use crate::schema;

/// Characters of the user's message repeated in the reply.
const ECHO_CHARS: usize = 120;

/// A function call the assistant makes.
#[derive(Debug, Clone)]
pub(crate) struct ToolCall {
    pub(crate) id: String,
    pub(crate) name: String,
    /// JSON text generated from the tool's parameter schema.
    pub(crate) arguments: String,
}

/// Spoken output of an audio model.
#[derive(Debug, Clone)]
pub(crate) struct AudioReply {
    pub(crate) id: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) format: AudioFormat,
    pub(crate) transcript: String,
    pub(crate) expires_at: u64,
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Usage {
    pub(crate) prompt: u64,
    /// Includes `reasoning`.
    pub(crate) completion: u64,
    pub(crate) reasoning: u64,
}

impl Usage {
    /// The OpenAI `usage` object.
    pub(crate) fn to_json(self) -> Value {
        let mut usage = json!({
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion,
        });
        if self.reasoning > 0
            && let Some(obj) = usage.as_object_mut()
        {
            obj.insert(
                "completion_tokens_details".to_owned(),
                json!({"reasoning_tokens": self.reasoning}),
            );
        }
        usage
    }
}

/// A complete answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) id: String,
    pub(crate) created: u64,
    pub(crate) model: &'static str,
    pub(crate) content: Option<String>,
    pub(crate) reasoning: Option<String>,
    pub(crate) tool_calls: Vec<ToolCall>,
    pub(crate) audio: Option<AudioReply>,
    pub(crate) finish_reason: &'static str,
    pub(crate) usage: Usage,
}

/// Composes the answer. `seed` determines the content; `unique` only the completion id.
pub(crate) fn compose(req: &ChatRequest, seed: u64, unique: u64) -> Reply {
    let mut rng = Rng::new(seed);
    let last_user = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .or(req.messages.last())
        .map_or("", |m| m.text.as_str());
    let echo = snippet(last_user, ECHO_CHARS);
    let model = req.model.name;
    let reasoning = reasoning(req, &echo, &mut rng);
    let reasoning_tokens = reasoning.as_deref().map_or(0, count_tokens);

    let mut content = None;
    let mut audio = None;
    let mut finish_reason = "stop";
    let chosen = choose_tools(req, last_user);
    let tool_calls: Vec<ToolCall> = chosen
        .iter()
        .map(|tool| ToolCall {
            id: format!("call_{:016x}{:08x}", rng.next_u64(), rng.next_u64() >> 32),
            name: tool.name.clone(),
            arguments: schema::sample(&tool.parameters, &mut rng).to_string(),
        })
        .collect();
    let completion = if !tool_calls.is_empty() {
        finish_reason = "tool_calls";
        tool_calls
            .iter()
            .map(|c| 1 + structured_tokens(&c.arguments))
            .sum()
    } else {
        let (text, capped) = match &req.response_format {
            ResponseFormat::JsonObject => (json_object(model, &echo, &mut rng), false),
            ResponseFormat::JsonSchema(s) => (schema::sample(s, &mut rng).to_string(), false),
            ResponseFormat::Text => cap(
                stop_at(prose(req, model, &echo, &mut rng), &req.stop),
                req.max_tokens,
            ),
        };
        if capped {
            finish_reason = "length";
        }
        let tokens = match req.response_format {
            ResponseFormat::Text => count_tokens(&text),
            _ => structured_tokens(&text),
        };
        match req.audio {
            Some(settings) => {
                let samples = audio_codec::synthesize(&text, settings.voice_index, 1.0, seed);
                audio = Some(AudioReply {
                    id: format!("audio_{:016x}", rng.next_u64()),
                    bytes: audio_codec::encode(settings.format, &samples),
                    format: settings.format,
                    transcript: text,
                    expires_at: clock::now_millis() / 1000 + 3600,
                });
            }
            None => content = Some(text),
        }
        tokens
    };
    let prompt = req
        .messages
        .iter()
        .map(|m| count_tokens(&m.text) + 4)
        .sum::<u64>()
        + 2;
    let id_hash = StableHasher::new().u64(seed).u64(unique).finish();
    Reply {
        id: format!(
            "pllns_{id_hash:016x}{:016x}",
            crate::hash::mix(id_hash ^ unique)
        ),
        created: clock::now_millis(),
        model,
        content,
        reasoning,
        tool_calls,
        audio,
        finish_reason,
        usage: Usage {
            prompt,
            completion: completion + reasoning_tokens,
            reasoning: reasoning_tokens,
        },
    }
}

/// The tools the assistant calls: none after a tool result or with `tool_choice: "none"`;
/// the named one; for `auto` the ones the last user message needs (see [`needs`]); for
/// `required` those, or else the first. One only unless `parallel_tool_calls`. So a test
/// double answers like a model would: "What's the weather in Paris?" with a `get_weather`
/// tool offered gets a call to it, under `auto` as under `required`.
pub(crate) fn choose_tools<'a>(req: &'a ChatRequest, last_user: &str) -> Vec<&'a Tool> {
    let after_tool_result = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role != Role::System)
        .is_some_and(|m| m.role == Role::Tool);
    if req.tools.is_empty() || after_tool_result {
        return Vec::new();
    }
    let said = last_user.to_lowercase();
    let mentioned: Vec<&Tool> = req.tools.iter().filter(|t| needs(&said, &t.name)).collect();
    let mut chosen = match &req.tool_choice {
        ToolChoice::None => Vec::new(),
        ToolChoice::Named(name) => req
            .tools
            .iter()
            .filter(|t| &t.name == name)
            .take(1)
            .collect(),
        ToolChoice::Required if mentioned.is_empty() => req.tools.iter().take(1).collect(),
        ToolChoice::Required | ToolChoice::Auto => mentioned,
    };
    if !req.parallel_tool_calls {
        chosen.truncate(1);
    }
    chosen
}

/// Words of a tool's name that say nothing of what it is about.
const GENERIC_WORDS: [&str; 16] = [
    "get", "set", "fetch", "find", "list", "make", "create", "run", "call", "lookup", "look",
    "search", "query", "current", "tool", "function",
];

/// Whether a user message (lowercase) needs the tool called `name`: it names the tool
/// (`get_weather`, `get weather`), or uses a word of its name that says what the tool is
/// about (`weather` in "what's the weather in Paris?"; not `get`).
fn needs(said: &str, name: &str) -> bool {
    let lower = name.to_lowercase();
    if said.contains(&lower) || said.contains(&lower.replace(['_', '-'], " ")) {
        return true;
    }
    let words: Vec<&str> = said
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    name_words(name)
        .iter()
        .filter(|w| w.len() >= 3 && !GENERIC_WORDS.contains(&w.as_str()))
        .any(|w| {
            words
                .iter()
                .any(|said| said == w || said.strip_suffix('s') == Some(w.as_str()))
        })
}

/// The words of a tool name in snake, kebab or camel case, lowercase.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut word));
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase();
        word.extend(c.to_lowercase());
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    words
}

fn reasoning(req: &ChatRequest, echo: &str, rng: &mut Rng) -> Option<String> {
    let effort = req.reasoning_effort.as_deref()?;
    let sentence_count = match effort {
        "none" => return None,
        "minimal" => 1,
        "low" => 2,
        "medium" => 3,
        "high" => 5,
        _ => 7, // xhigh, max
    };
    if !req.model.reasoning {
        return None;
    }
    Some(format!(
        "Considering \"{}\": {}",
        snippet(echo, 60),
        sentences(rng, sentence_count)
    ))
}

fn prose(req: &ChatRequest, model: &str, echo: &str, rng: &mut Rng) -> String {
    let count = usize::try_from(rng.range(2, 4)).unwrap_or(2);
    let body = sentences(rng, count);
    let last = req.messages.iter().rev().find(|m| m.role != Role::System);
    match last {
        Some(m) if m.role == Role::Tool => format!(
            "Emulated {model} reply to \"{echo}\" using the tool result \"{}\": {body}",
            snippet(&m.text, 60)
        ),
        _ => format!("Emulated {model} reply to \"{echo}\": {body}"),
    }
}

fn json_object(model: &str, echo: &str, rng: &mut Rng) -> String {
    let count = usize::try_from(rng.range(1, 3)).unwrap_or(1);
    json!({
        "model": model,
        "prompt": echo,
        "reply": sentences(rng, count),
        "score": rng.range(0, 100),
        "tags": [rng.word(), rng.word()],
    })
    .to_string()
}

/// The text up to (not including) the earliest stop sequence it contains.
fn stop_at(mut text: String, stops: &[String]) -> String {
    let cut = stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min();
    if let Some(cut) = cut {
        text.truncate(cut);
    }
    text
}

/// At most `max` words, keeping the original spacing; `true` when something was cut.
fn cap(text: String, max: Option<u64>) -> (String, bool) {
    let Some(max) = max else {
        return (text, false);
    };
    let mut words = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_word = false;
        } else if !in_word {
            if words == max {
                return (text[..i].trim_end().to_owned(), true);
            }
            words += 1;
            in_word = true;
        }
    }
    (text, false)
}

/// Tokens of JSON-ish text: about four bytes each.
fn structured_tokens(text: &str) -> u64 {
    u64::try_from(text.len().div_ceil(4)).unwrap_or(u64::MAX)
}

impl Reply {
    /// The `message` object of a non-stream answer.
    fn message_json(&self) -> Value {
        let mut message = json!({"role": "assistant", "content": self.content});
        if let Some(obj) = message.as_object_mut() {
            if let Some(r) = &self.reasoning {
                obj.insert("reasoning_content".to_owned(), json!(r));
            }
            if !self.tool_calls.is_empty() {
                let calls: Vec<Value> = self
                    .tool_calls
                    .iter()
                    .map(|c| {
                        json!({"id": c.id, "type": "function",
                               "function": {"name": c.name, "arguments": c.arguments}})
                    })
                    .collect();
                obj.insert("tool_calls".to_owned(), Value::Array(calls));
            }
            if let Some(a) = &self.audio {
                obj.insert(
                    "audio".to_owned(),
                    json!({"id": a.id, "data": BASE64.encode(&a.bytes),
                           "transcript": a.transcript, "expires_at": a.expires_at}),
                );
            }
        }
        message
    }

    /// The `chat.completion` object.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": self.message_json(),
                "finish_reason": self.finish_reason,
                "logprobs": null,
            }],
            "usage": self.usage.to_json(),
        })
    }

    /// `x-model-used` and the `x-usage-*` headers.
    pub(crate) fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let number = |n: u64| HeaderValue::from(n);
        vec![
            (
                HeaderName::from_static("x-model-used"),
                HeaderValue::from_static(self.model),
            ),
            (
                HeaderName::from_static("x-usage-prompt-tokens"),
                number(self.usage.prompt),
            ),
            (
                HeaderName::from_static("x-usage-completion-tokens"),
                number(self.usage.completion),
            ),
            (
                HeaderName::from_static("x-usage-total-tokens"),
                number(self.usage.prompt + self.usage.completion),
            ),
        ]
    }

    /// The plain-text rendering (`GET /text`): the content, or the tool calls as JSON.
    pub(crate) fn plain_text(&self) -> String {
        match &self.content {
            Some(text) => text.clone(),
            None if !self.tool_calls.is_empty() => self.message_json()["tool_calls"].to_string(),
            None => self
                .audio
                .as_ref()
                .map(|a| a.transcript.clone())
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat_request::parse;

    fn reply(body: Value) -> Reply {
        compose(&parse(&body).unwrap(), 7, 1)
    }

    #[test]
    fn text_echoes_the_last_user_message() {
        let r = reply(json!({"messages": [{"role": "user", "content": "Tell me about tea"}]}));
        let content = r.content.unwrap();
        assert!(content.starts_with("Emulated openai reply to \"Tell me about tea\": "));
        assert_eq!(r.finish_reason, "stop");
        assert_eq!(r.usage.completion, count_tokens(&content));
    }

    #[test]
    fn max_tokens_caps_words() {
        let r = reply(json!({"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}));
        assert_eq!(count_tokens(r.content.as_deref().unwrap()), 5);
        assert_eq!(r.finish_reason, "length");
        assert_eq!(cap("a  b c".to_owned(), Some(2)), ("a  b".to_owned(), true));
        assert_eq!(cap("a b".to_owned(), Some(2)), ("a b".to_owned(), false));
        assert_eq!(cap("a b".to_owned(), Some(0)), (String::new(), true));
    }

    #[test]
    fn stop_sequences_end_the_text() {
        let r = reply(
            json!({"stop": ["reply", "zzz"], "messages": [{"role": "user", "content": "hi"}]}),
        );
        assert_eq!(r.content.as_deref(), Some("Emulated openai "));
        assert_eq!(r.finish_reason, "stop");
        assert_eq!(stop_at("abc".to_owned(), &[String::new()]), "abc");
    }

    #[test]
    fn tools_by_mention_choice_and_after_results() {
        let tools = json!([
            {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
            {"type": "function", "function": {"name": "get_time"}}
        ]);
        let ask = |content: &str, choice: Value| {
            reply(
                json!({"tools": tools, "tool_choice": choice, "messages": [{"role": "user", "content": content}]}),
            )
        };
        let r = ask("use get_weather for Paris", json!("auto"));
        assert_eq!(r.finish_reason, "tool_calls");
        assert!(r.content.is_none());
        assert_eq!(r.tool_calls[0].name, "get_weather");
        let args: Value = serde_json::from_str(&r.tool_calls[0].arguments).unwrap();
        assert!(args["city"].is_string());
        assert!(ask("hello", json!("auto")).tool_calls.is_empty());
        // A request that needs a tool gets a call to it without naming it.
        let needed = ask("What's the weather in Paris today?", json!("auto"));
        assert_eq!(needed.tool_calls[0].name, "get_weather");
        assert_eq!(
            ask("What time is it in Tokyo?", json!("auto")).tool_calls[0].name,
            "get_time"
        );
        assert_eq!(
            ask("weathers please", json!("required")).tool_calls[0].name,
            "get_weather"
        );
        // A generic word of the name ("get") is not a need.
        assert!(ask("get me a poem", json!("auto")).tool_calls.is_empty());
        assert_eq!(
            ask("hello", json!("required")).tool_calls[0].name,
            "get_weather"
        );
        assert!(ask("use get_weather", json!("none")).tool_calls.is_empty());
        let named = ask(
            "hello",
            json!({"type": "function", "function": {"name": "get_time"}}),
        );
        assert_eq!(named.tool_calls[0].name, "get_time");
        let after = reply(
            json!({"tools": tools, "tool_choice": "required", "messages": [
                {"role": "user", "content": "get_weather please"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"}
            ]}),
        );
        assert!(after.tool_calls.is_empty());
        assert!(after.content.unwrap().contains("sunny"));
    }

    #[test]
    fn tool_names_split_into_words() {
        assert_eq!(name_words("get_weather"), ["get", "weather"]);
        assert_eq!(name_words("getCurrentTime"), ["get", "current", "time"]);
        assert_eq!(name_words("stock-price"), ["stock", "price"]);
        assert!(needs("what's the stock price of acme?", "getStockPrice"));
        assert!(!needs("tell me a story", "getStockPrice"));
    }

    #[test]
    fn reasoning_only_on_reasoning_models() {
        let body = |model: &str, effort: &str| json!({"model": model, "reasoning_effort": effort, "messages": [{"role": "user", "content": "why"}]});
        let r = reply(body("openai-large", "high"));
        assert!(r.reasoning.is_some());
        assert!(r.usage.reasoning > 0);
        assert!(r.to_json()["usage"]["completion_tokens_details"]["reasoning_tokens"].is_u64());
        assert!(reply(body("openai-large", "none")).reasoning.is_none());
        assert!(reply(body("openai", "high")).reasoning.is_none());
    }

    #[test]
    fn json_modes_produce_json() {
        let r = reply(
            json!({"response_format": {"type": "json_object"}, "messages": [{"role": "user", "content": "x"}]}),
        );
        let v: Value = serde_json::from_str(r.content.as_deref().unwrap()).unwrap();
        assert!(v.is_object());
    }

    #[test]
    fn audio_replies_carry_a_wav() {
        let r = reply(
            json!({"model": "openai-audio", "modalities": ["text", "audio"], "messages": [{"role": "user", "content": "say hi"}]}),
        );
        assert!(r.content.is_none());
        let audio = r.audio.as_ref().unwrap();
        assert_eq!(&audio.bytes[..4], b"RIFF");
        let json = r.to_json();
        assert!(json["choices"][0]["message"]["audio"]["data"].is_string());
        assert!(json["choices"][0]["message"]["content"].is_null());
    }

    #[test]
    fn same_seed_same_content_different_ids() {
        let req = parse(&json!({"messages": [{"role": "user", "content": "x"}]})).unwrap();
        let a = compose(&req, 3, 1);
        let b = compose(&req, 3, 2);
        assert_eq!(a.content, b.content);
        assert_ne!(a.id, b.id);
        assert_ne!(a.content, compose(&req, 4, 1).content);
    }
}
