//! Function tools: definitions offered to the model, the choice policy, and the calls it makes.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

use crate::api::lenient;
use crate::error::Error;

/// A tool the model may call. Only functions exist today.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Tool {
    /// Always `"function"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function.
    pub function: FunctionDef,
}

/// A function's name, purpose and JSON-schema parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FunctionDef {
    /// `^[a-zA-Z0-9_-]{1,64}$`.
    pub name: String,
    /// What it does, for the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON schema of the arguments object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Ask for strict schema adherence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl Tool {
    /// A function tool.
    ///
    /// ```
    /// use blossom_core::api::Tool;
    /// use serde_json::json;
    /// let tool = Tool::function("get_weather", "Weather for a city",
    ///     json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}));
    /// assert_eq!(tool.function.name, "get_weather");
    /// ```
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Self {
            kind: "function",
            function: FunctionDef {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
                strict: None,
            },
        }
    }

    /// Asks for strict adherence to the parameter schema.
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.function.strict = Some(strict);
        self
    }
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolChoice {
    /// Never call a tool.
    None,
    /// The model decides.
    Auto,
    /// The model must call some tool.
    Required,
    /// The model must call this function.
    Function(String),
}

impl Serialize for ToolChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::None => serializer.serialize_str("none"),
            Self::Auto => serializer.serialize_str("auto"),
            Self::Required => serializer.serialize_str("required"),
            Self::Function(name) => {
                json!({"type": "function", "function": {"name": name}}).serialize(serializer)
            }
        }
    }
}

/// A call the model made (in an answer), or one replayed in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCall {
    /// The call id, to quote in the `tool` message that answers it.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub id: String,
    /// Always `"function"`.
    #[serde(
        rename = "type",
        default = "function_kind",
        deserialize_with = "lenient::string_or_empty"
    )]
    pub kind: String,
    /// Which function, with which arguments.
    pub function: FunctionCall,
}

fn function_kind() -> String {
    "function".to_owned()
}

/// A function name and its arguments as a JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCall {
    /// The function's name.
    #[serde(default, deserialize_with = "lenient::string_or_empty")]
    pub name: String,
    /// The arguments, as the JSON text the model wrote (an object sent in place of the text
    /// is kept as its JSON text, never dropped).
    #[serde(default, deserialize_with = "lenient::json_text")]
    pub arguments: String,
}

impl ToolCall {
    /// A function call, for replaying a conversation.
    pub fn function(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            kind: function_kind(),
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.into(),
            },
        }
    }

    /// The arguments parsed as JSON.
    ///
    /// # Errors
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when the model wrote invalid JSON.
    pub fn arguments_json(&self) -> Result<Value, Error> {
        serde_json::from_str(&self.function.arguments).map_err(|e| {
            Error::decode(
                format!(
                    "tool call {:?} has invalid JSON arguments: {e}",
                    self.function.name
                ),
                self.function.arguments.as_bytes(),
            )
        })
    }
}
