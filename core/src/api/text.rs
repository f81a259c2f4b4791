//! Simple text generation: `GET /text/{prompt}` answers plain text.

use crate::api::common::{ResponseMeta, Safe};
use crate::api::validate;
use crate::error::Error;

/// A one-shot text prompt, sent as `GET /text/{prompt}?…`. Unset options are not sent.
///
/// ```
/// use blossom_core::api::TextRequest;
/// let request = TextRequest::new("Write a haiku about Rust").model("mistral").seed(3);
/// assert!(request.validate().is_ok());
/// assert!(TextRequest::new("  ").validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TextRequest {
    /// The prompt; it travels in the URL path, percent-encoded as one segment.
    pub prompt: String,
    /// The model name or alias.
    pub model: Option<String>,
    /// −1..=2147483647.
    pub seed: Option<i64>,
    /// 0..=2.
    pub temperature: Option<f64>,
    /// 0..=1.
    pub top_p: Option<f64>,
    /// −2..=2.
    pub presence_penalty: Option<f64>,
    /// −2..=2.
    pub frequency_penalty: Option<f64>,
    /// A system prompt.
    pub system: Option<String>,
    /// Ask for a JSON answer.
    pub json: bool,
    /// Keep the answer out of the public feed.
    pub private: Option<bool>,
    /// Safety filters.
    pub safe: Option<Safe>,
    /// A referrer label for attribution.
    pub referrer: Option<String>,
    /// Extra query parameters, sent after the typed ones. Must not repeat a typed one.
    pub extra_query: Vec<(String, String)>,
}

/// Query names the typed fields use; `extra_query` must not repeat one (nor carry a key).
pub(crate) const TEXT_QUERY_NAMES: &[&str] = &[
    "model",
    "seed",
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "system",
    "json",
    "private",
    "safe",
    "referrer",
    "stream",
    "key",
];

impl TextRequest {
    /// A prompt with the server's defaults.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            model: None,
            seed: None,
            temperature: None,
            top_p: None,
            presence_penalty: None,
            frequency_penalty: None,
            system: None,
            json: false,
            private: None,
            safe: None,
            referrer: None,
            extra_query: Vec::new(),
        }
    }

    /// Sets the model.
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the seed.
    #[must_use]
    pub fn seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets the temperature.
    #[must_use]
    pub fn temperature(mut self, value: f64) -> Self {
        self.temperature = Some(value);
        self
    }

    /// Sets top_p.
    #[must_use]
    pub fn top_p(mut self, value: f64) -> Self {
        self.top_p = Some(value);
        self
    }

    /// Sets a system prompt.
    #[must_use]
    pub fn system(mut self, system: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// Asks for a JSON answer.
    #[must_use]
    pub fn json(mut self) -> Self {
        self.json = true;
        self
    }

    /// Keeps the answer private.
    #[must_use]
    pub fn private(mut self, private: bool) -> Self {
        self.private = Some(private);
        self
    }

    /// Sets the safety filters.
    #[must_use]
    pub fn safe(mut self, safe: Safe) -> Self {
        self.safe = Some(safe);
        self
    }

    /// Adds a query parameter the SDK has no setter for.
    #[must_use]
    pub fn extra_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_query.push((name.into(), value.into()));
        self
    }

    /// Whether the same request always gives the same answer (a fixed seed or temperature 0).
    pub fn is_deterministic(&self) -> bool {
        self.seed.is_some_and(|s| s >= 0) || self.temperature == Some(0.0)
    }

    /// Checks the prompt and ranges before anything is sent.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the bad field.
    pub fn validate(&self) -> Result<(), Error> {
        validate::prompt("prompt", &self.prompt)?;
        if let Some(model) = &self.model {
            validate::token("model", model)?;
        }
        validate::seed("seed", self.seed)?;
        validate::range("temperature", self.temperature, 0.0, 2.0)?;
        validate::range("top_p", self.top_p, 0.0, 1.0)?;
        validate::range("presence_penalty", self.presence_penalty, -2.0, 2.0)?;
        validate::range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?;
        validate::extra_query(&self.extra_query, TEXT_QUERY_NAMES)
    }
}

impl From<&str> for TextRequest {
    fn from(prompt: &str) -> Self {
        Self::new(prompt)
    }
}

impl From<String> for TextRequest {
    fn from(prompt: String) -> Self {
        Self::new(prompt)
    }
}

/// A plain-text answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TextReply {
    /// The text.
    pub text: String,
    /// Request id, model used, cache state.
    pub meta: ResponseMeta,
}

impl std::fmt::Display for TextReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}
