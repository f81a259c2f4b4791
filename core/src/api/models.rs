//! Model lists: `GET /v1/models`, `/text/models`, `/image/models`, `/audio/models` (docs/PROTOCOL.md §7).
//!
//! Three shapes are decoded: the OpenAI list object (`{"object":"list","data":[…]}`), an array
//! of model-info objects, and the old array of plain names. The list is fetched, never assumed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::common::ResponseMeta;
use crate::api::lenient;

/// Which list to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModelKind {
    /// `GET /v1/models`: the OpenAI-compatible list.
    OpenAi,
    /// `GET /text/models`.
    Text,
    /// `GET /image/models`.
    Image,
    /// `GET /audio/models`.
    Audio,
}

impl ModelKind {
    /// The request path.
    pub fn path(self) -> &'static str {
        match self {
            Self::OpenAi => "/v1/models",
            Self::Text => "/text/models",
            Self::Image => "/image/models",
            Self::Audio => "/audio/models",
        }
    }
}

/// What the server says about one model. Fields it did not send are empty or `None`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The model's name (`id` in the OpenAI list).
    #[serde(alias = "id", default, deserialize_with = "lenient::string_or_empty")]
    pub name: String,
    /// Other names that select it.
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub aliases: Vec<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// Input kinds (`text`, `image`, `audio`).
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub input_modalities: Vec<String>,
    /// Output kinds.
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub output_modalities: Vec<String>,
    /// Whether it can call tools.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub tools: Option<bool>,
    /// Whether it reasons.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub reasoning: Option<bool>,
    /// Context size in tokens (`context_window` on older servers).
    #[serde(
        alias = "context_window",
        default,
        deserialize_with = "lenient::opt_u64"
    )]
    pub context_length: Option<u64>,
    /// Voices, for speech models.
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub voices: Vec<String>,
    /// Prices as decimal strings (numbers from older servers are converted to text).
    #[serde(default, deserialize_with = "pricing")]
    pub pricing: BTreeMap<String, String>,
    /// Only for paid accounts.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub paid_only: Option<bool>,
    /// Endpoints that serve it.
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub supported_endpoints: Vec<String>,
    /// Capability tags.
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub capabilities: Vec<String>,
    /// Everything else the server sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn pricing<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let mut out = BTreeMap::new();
    if let Value::Object(map) = Value::deserialize(deserializer)? {
        for (name, value) in map {
            match value {
                Value::String(s) => {
                    out.insert(name, s);
                }
                Value::Number(n) => {
                    // `f64`'s Display never uses exponent notation: 6e-7 prints as 0.0000006.
                    let text = match (n.as_u64(), n.as_i64(), n.as_f64()) {
                        (Some(u), _, _) => u.to_string(),
                        (_, Some(i), _) => i.to_string(),
                        (_, _, Some(f)) => f.to_string(),
                        _ => n.to_string(),
                    };
                    out.insert(name, text);
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

impl ModelInfo {
    /// Whether `name` is this model's name or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.iter().any(|a| a == name)
    }
}

/// A fetched model list.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ModelList {
    /// The models, in the server's order.
    pub models: Vec<ModelInfo>,
    /// Request id and cache state.
    pub meta: ResponseMeta,
}

impl ModelList {
    /// Decodes any of the three shapes in the module documentation.
    ///
    /// # Errors
    /// A JSON error when the body is not JSON, or is JSON of none of the shapes.
    pub fn parse(body: &[u8]) -> Result<Vec<ModelInfo>, serde_json::Error> {
        let value: Value = serde_json::from_slice(body)?;
        let items = match value {
            Value::Array(items) => items,
            Value::Object(mut object) => match object.remove("data") {
                Some(Value::Array(items)) => items,
                _ => {
                    return Err(serde::de::Error::custom(
                        "expected a model array or an object with a \"data\" array",
                    ));
                }
            },
            _ => return Err(serde::de::Error::custom("expected a model list")),
        };
        items
            .into_iter()
            .filter_map(|item| match item {
                Value::String(name) => Some(Ok(ModelInfo {
                    name,
                    ..ModelInfo::default()
                })),
                Value::Object(_) => Some(serde_json::from_value(item)),
                _ => None,
            })
            .collect()
    }

    /// The model named `name`, directly or by alias.
    pub fn find(&self, name: &str) -> Option<&ModelInfo> {
        self.models.iter().find(|m| m.answers_to(name))
    }

    /// The models' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models.iter().map(|m| m.name.as_str())
    }

    /// How many models.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_list_shape() {
        let body = br#"{"object":"list","data":[{"id":"openai","object":"model","created":1767225600000,
          "input_modalities":["text","image"],"output_modalities":["text"],
          "supported_endpoints":["/v1/chat/completions"],
          "pricing":{"currency":"pollen","promptTextTokens":"0.00000015","completionTextTokens":0.0000006},
          "capabilities":["tool_calling"],"tools":true,"context_length":400000}]}"#;
        let models = ModelList::parse(body).unwrap();
        assert_eq!(models.len(), 1);
        let m = &models[0];
        assert_eq!(m.name, "openai");
        assert_eq!(m.tools, Some(true));
        assert_eq!(m.context_length, Some(400_000));
        assert_eq!(m.pricing["promptTextTokens"], "0.00000015");
        assert_eq!(m.pricing["completionTextTokens"], "0.0000006");
        assert_eq!(m.capabilities, ["tool_calling"]);
        assert_eq!(m.extra["object"], "model");
    }

    #[test]
    fn info_array_shape_with_old_fields() {
        let body = br#"[{"name":"openai-audio","aliases":["audio"],"voices":["nova","alloy"],
            "context_window":"128000","reasoning":null,"paid_only":"false","description":"Audio"},
            {"name":"flux","aliases":null,"pricing":{"image":0.001}}]"#;
        let models = ModelList::parse(body).unwrap();
        assert_eq!(models[0].context_length, Some(128_000));
        assert_eq!(models[0].voices, ["nova", "alloy"]);
        assert_eq!(models[0].reasoning, None);
        assert_eq!(models[0].paid_only, Some(false));
        assert!(models[0].answers_to("audio"));
        assert!(models[1].aliases.is_empty());
        assert_eq!(models[1].pricing["image"], "0.001");
    }

    #[test]
    fn legacy_string_array_shape() {
        let models = ModelList::parse(br#"["flux","turbo",3]"#).unwrap();
        let names: Vec<_> = models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["flux", "turbo"]);
    }

    #[test]
    fn other_shapes_fail() {
        assert!(ModelList::parse(b"{}").is_err());
        assert!(ModelList::parse(b"42").is_err());
        assert!(ModelList::parse(b"<html>").is_err());
    }
}
