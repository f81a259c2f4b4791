//! Joins a chunk stream back into one [`ChatCompletion`]: content and reasoning text in
//! order, tool-call fragments by index, the finish reason, and usage from whichever chunk
//! carried it (the last content chunk or a separate `choices: []` chunk).

use std::collections::BTreeMap;

use crate::api::{AssistantMessage, ChatChunk, ChatCompletion, Choice, ToolCall, Usage};

/// Accumulates [`ChatChunk`]s. Memory grows with the answer, not with the number of chunks.
#[derive(Debug, Default, Clone)]
pub struct ChatAccumulator {
    id: String,
    model: String,
    created: Option<u64>,
    choices: BTreeMap<u64, ChoiceParts>,
    usage: Option<Usage>,
    citations: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Default, Clone)]
struct ChoiceParts {
    role: Option<String>,
    content: Option<String>,
    reasoning: Option<String>,
    /// Tool calls in the order they started.
    tool_calls: Vec<ToolCall>,
    /// The call each fragment index currently feeds (a position in `tool_calls`).
    tool_call_at: BTreeMap<u64, usize>,
    finish_reason: Option<String>,
}

impl ChoiceParts {
    /// The call a fragment belongs to. Fragments are joined by `index`, but a fragment that
    /// brings a new id to an index whose call has another id starts a new call: some servers
    /// number parallel calls all `0`.
    fn tool_call(&mut self, index: u64, id: Option<&str>) -> &mut ToolCall {
        let current = self.tool_call_at.get(&index).copied();
        let position = match current {
            Some(at)
                if id.is_none_or(|id| {
                    let known = &self.tool_calls[at].id;
                    known.is_empty() || known == id
                }) =>
            {
                at
            }
            _ => {
                self.tool_calls.push(ToolCall::function("", "", ""));
                let at = self.tool_calls.len() - 1;
                self.tool_call_at.insert(index, at);
                at
            }
        };
        &mut self.tool_calls[position]
    }
}

impl ChatAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one chunk.
    pub fn push(&mut self, chunk: &ChatChunk) {
        if self.id.is_empty() {
            self.id.clone_from(&chunk.id);
        }
        if self.model.is_empty() {
            self.model.clone_from(&chunk.model);
        }
        self.created = self.created.or(chunk.created);
        if chunk.usage.is_some() {
            self.usage.clone_from(&chunk.usage);
        }
        if chunk.citations.is_some() {
            self.citations.clone_from(&chunk.citations);
        }
        for choice in &chunk.choices {
            let parts = self.choices.entry(choice.index).or_default();
            let delta = &choice.delta;
            if parts.role.is_none() {
                parts.role.clone_from(&delta.role);
            }
            if let Some(text) = &delta.content {
                parts.content.get_or_insert_with(String::new).push_str(text);
            }
            if let Some(text) = &delta.reasoning_content {
                parts
                    .reasoning
                    .get_or_insert_with(String::new)
                    .push_str(text);
            }
            for fragment in delta.tool_calls.iter().flatten() {
                let id = fragment.id.as_deref().filter(|id| !id.is_empty());
                let call = parts.tool_call(fragment.index, id);
                if let Some(id) = id {
                    id.clone_into(&mut call.id);
                }
                if let Some(kind) = fragment.kind.as_deref().filter(|k| !k.is_empty()) {
                    kind.clone_into(&mut call.kind);
                }
                if let Some(function) = &fragment.function {
                    // A name repeated whole on every fragment (some servers do) is one name.
                    if let Some(name) = &function.name
                        && call.function.name != *name
                    {
                        call.function.name.push_str(name);
                    }
                    if let Some(arguments) = &function.arguments {
                        call.function.arguments.push_str(arguments);
                    }
                }
            }
            if choice.finish_reason.is_some() {
                parts.finish_reason.clone_from(&choice.finish_reason);
            }
        }
    }

    /// The text received so far for the first choice.
    pub fn text(&self) -> &str {
        self.choices
            .values()
            .next()
            .and_then(|c| c.content.as_deref())
            .unwrap_or_default()
    }

    /// The complete message.
    pub fn finish(self) -> ChatCompletion {
        let choices = self
            .choices
            .into_iter()
            .map(|(index, parts)| {
                let tool_calls = parts.tool_calls;
                Choice {
                    index,
                    finish_reason: parts.finish_reason,
                    message: AssistantMessage {
                        role: parts.role.or_else(|| Some("assistant".to_owned())),
                        content: parts.content,
                        reasoning_content: parts.reasoning,
                        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                        audio: None,
                        refusal: None,
                    },
                    logprobs: None,
                }
            })
            .collect();
        ChatCompletion {
            id: self.id,
            object: "chat.completion".to_owned(),
            created: self.created,
            model: self.model,
            choices,
            usage: self.usage,
            citations: self.citations,
            system_fingerprint: None,
            meta: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::ChatStreamDecoder;

    fn accumulate(body: &str) -> ChatCompletion {
        let mut decoder = ChatStreamDecoder::new();
        decoder.push(body.as_bytes());
        let mut all = ChatAccumulator::new();
        while let Some(chunk) = decoder.next_chunk() {
            all.push(&chunk.unwrap());
        }
        all.finish()
    }

    #[test]
    fn tool_call_fragments_join_by_index() {
        let body = concat!(
            "data: {\"id\":\"c9\",\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"tz\\\":\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}},{\"index\":1,\"function\":{\"arguments\":\"\\\"UTC\\\"}\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":9,\"total_tokens\":14}}\n\n",
            "data: [DONE]\n\n",
        );
        let message = accumulate(body);
        assert_eq!(message.id, "c9");
        assert_eq!(message.finish_reason(), Some("tool_calls"));
        let calls = message.tool_calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].id, "call_a");
        assert_eq!(calls[0].function.name, "get_weather");
        assert_eq!(calls[0].arguments_json().unwrap()["city"], "Paris");
        assert_eq!(calls[1].arguments_json().unwrap()["tz"], "UTC");
        assert_eq!(message.usage.unwrap().total_tokens, 14);
        assert_eq!(message.choices[0].message.content, None);
    }

    #[test]
    fn content_reasoning_and_usage_on_last_chunk() {
        let body = concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think \"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"hard\",\"content\":\"Hi\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n",
            "data: [DONE]\n\n",
        );
        let message = accumulate(body);
        assert_eq!(message.text(), "Hi there");
        assert_eq!(message.reasoning(), Some("think hard"));
        assert_eq!(message.usage.unwrap().completion_tokens, 2);
        assert_eq!(
            message.choices[0].message.role.as_deref(),
            Some("assistant")
        );
    }
}
