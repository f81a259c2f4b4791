//! The model catalogue (docs/PROTOCOL.md §7) and the public model-list routes.
//!
//! Clients must fetch the list, never hard-code it; [`catalogue`] holds the entries.

mod catalogue;

use std::sync::Arc;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde_json::{Value, json};

use crate::state::AppState;

pub(crate) use catalogue::{
    AUDIO_MODELS, DEFAULT_AUDIO_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, IMAGE_MODELS,
    TEXT_MODELS, VOICES,
};

/// `created` of every catalogue entry (2026-01-01, in milliseconds like the service).
const CREATED_MS: u64 = 1_767_225_600_000;

/// One catalogue entry.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) aliases: &'static [&'static str],
    pub(crate) input: &'static [&'static str],
    pub(crate) output: &'static [&'static str],
    pub(crate) tools: bool,
    pub(crate) reasoning: bool,
    pub(crate) context_length: Option<u64>,
    pub(crate) pricing: &'static [(&'static str, &'static str)],
    pub(crate) paid_only: bool,
    pub(crate) voices: &'static [&'static str],
}

/// The model `name` names in `models`, by name or alias.
pub(crate) fn resolve<'a>(models: &'a [Model], name: &str) -> Option<&'a Model> {
    models
        .iter()
        .find(|m| m.name == name || m.aliases.contains(&name))
}

impl Model {
    /// Whether the model can answer with audio (chat `modalities: ["audio"]`).
    pub(crate) fn outputs_audio(&self) -> bool {
        self.output.contains(&"audio")
    }

    fn pricing_json(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("currency".to_owned(), json!("pollen"));
        for (k, v) in self.pricing {
            map.insert((*k).to_owned(), json!(v));
        }
        Value::Object(map)
    }

    /// The `/text/models`-style model info object.
    pub(crate) fn info_json(&self) -> Value {
        let mut info = json!({
            "name": self.name,
            "aliases": self.aliases,
            "description": self.description,
            "input_modalities": self.input,
            "output_modalities": self.output,
            "tools": self.tools,
            "reasoning": self.reasoning,
            "pricing": self.pricing_json(),
            "paid_only": self.paid_only,
        });
        if let Some(obj) = info.as_object_mut() {
            if let Some(len) = self.context_length {
                obj.insert("context_length".to_owned(), json!(len));
            }
            if !self.voices.is_empty() {
                obj.insert("voices".to_owned(), json!(self.voices));
            }
        }
        info
    }

    /// The `/v1/models` entry.
    fn openai_json(&self) -> Value {
        let mut capabilities = Vec::new();
        if self.tools {
            capabilities.push("tool_calling");
        }
        if self.reasoning {
            capabilities.push("reasoning");
        }
        if self.input.contains(&"image") {
            capabilities.push("vision");
        }
        if self.outputs_audio() {
            capabilities.push("audio");
        }
        let mut endpoints = vec!["/v1/chat/completions"];
        if self.outputs_audio() {
            endpoints.push("/v1/audio/speech");
        }
        json!({
            "id": self.name,
            "object": "model",
            "created": CREATED_MS,
            "owned_by": "pollinations",
            "aliases": self.aliases,
            "description": self.description,
            "input_modalities": self.input,
            "output_modalities": self.output,
            "supported_endpoints": endpoints,
            "pricing": self.pricing_json(),
            "capabilities": capabilities,
            "tools": self.tools,
            "reasoning": self.reasoning,
            "context_length": self.context_length,
        })
    }
}

fn json_response(value: &Value) -> Response {
    let mut response = value.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// `GET /v1/models`: the OpenAI-style list of text models.
pub(crate) async fn openai_list(_app: Arc<AppState>, _request: Request) -> Response {
    let data: Vec<Value> = TEXT_MODELS.iter().map(Model::openai_json).collect();
    json_response(&json!({"object": "list", "data": data}))
}

/// `GET /text/models`.
pub(crate) async fn text_list(_app: Arc<AppState>, _request: Request) -> Response {
    json_response(&Value::Array(
        TEXT_MODELS.iter().map(Model::info_json).collect(),
    ))
}

/// `GET /image/models` (plain names when `legacy_image_models` is set).
pub(crate) async fn image_list(app: Arc<AppState>, _request: Request) -> Response {
    if app.config.legacy_image_models {
        let names: Vec<&str> = IMAGE_MODELS.iter().map(|m| m.name).collect();
        json_response(&json!(names))
    } else {
        json_response(&Value::Array(
            IMAGE_MODELS.iter().map(Model::info_json).collect(),
        ))
    }
}

/// `GET /audio/models`.
pub(crate) async fn audio_list(_app: Arc<AppState>, _request: Request) -> Response {
    json_response(&Value::Array(
        AUDIO_MODELS.iter().map(Model::info_json).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_resolve() {
        assert_eq!(resolve(TEXT_MODELS, "openai").unwrap().name, "openai");
        assert_eq!(
            resolve(TEXT_MODELS, "gpt-5-nano").unwrap().name,
            "openai-fast"
        );
        assert_eq!(resolve(IMAGE_MODELS, "gpt-image").unwrap().name, "gptimage");
        assert_eq!(resolve(AUDIO_MODELS, "tts-1").unwrap().name, "openai-audio");
        assert!(resolve(TEXT_MODELS, "flux").is_none());
        assert!(resolve(TEXT_MODELS, DEFAULT_TEXT_MODEL).is_some());
        assert!(resolve(IMAGE_MODELS, DEFAULT_IMAGE_MODEL).is_some());
        assert!(resolve(AUDIO_MODELS, DEFAULT_AUDIO_MODEL).is_some());
    }

    #[test]
    fn no_alias_is_shared_within_a_list() {
        for list in [TEXT_MODELS, IMAGE_MODELS, AUDIO_MODELS] {
            let mut seen = std::collections::HashSet::new();
            for m in list {
                assert!(seen.insert(m.name), "{}", m.name);
                for a in m.aliases {
                    assert!(seen.insert(a), "{a}");
                }
            }
        }
    }

    #[test]
    fn prices_are_decimal_strings() {
        let info = TEXT_MODELS[0].info_json();
        assert_eq!(info["pricing"]["currency"], "pollen");
        assert!(info["pricing"]["promptTextTokens"].is_string());
        assert_eq!(info["context_length"], 400_000);
    }
}
