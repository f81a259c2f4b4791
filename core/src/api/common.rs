//! Types shared by several endpoints: safety filters, reasoning effort, token usage and the
//! metadata every answer carries.

use std::collections::BTreeSet;
use std::fmt;

use http::HeaderName;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::lenient;

/// One category of the service's safety filter (docs/PROTOCOL.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SafeCategory {
    /// Personal data.
    Privacy,
    /// Credentials and keys.
    Secrets,
    /// Sexual content.
    Sexual,
    /// Violence.
    Violence,
    /// Prompt-injection shield.
    Shield,
}

impl SafeCategory {
    /// The wire token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Privacy => "privacy",
            Self::Secrets => "secrets",
            Self::Sexual => "sexual",
            Self::Violence => "violence",
            Self::Shield => "shield",
        }
    }
}

/// The set of safety filters to apply; sent as a comma list (`privacy,secrets`), or `false`
/// when empty.
///
/// ```
/// use blossom_core::api::{Safe, SafeCategory};
/// assert_eq!(Safe::standard().to_string(), "privacy,secrets");
/// assert_eq!(Safe::nsfw().with(SafeCategory::Shield).to_string(), "sexual,violence,shield");
/// assert_eq!(Safe::off().to_string(), "false");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Safe {
    categories: BTreeSet<SafeCategory>,
}

impl Safe {
    /// No filter.
    pub fn off() -> Self {
        Self::default()
    }

    /// The service's `true`: privacy and secrets.
    pub fn standard() -> Self {
        Self::off()
            .with(SafeCategory::Privacy)
            .with(SafeCategory::Secrets)
    }

    /// The service's `nsfw`: sexual content and violence.
    pub fn nsfw() -> Self {
        Self::off()
            .with(SafeCategory::Sexual)
            .with(SafeCategory::Violence)
    }

    /// Every category.
    pub fn all() -> Self {
        Self::standard()
            .with(SafeCategory::Sexual)
            .with(SafeCategory::Violence)
            .with(SafeCategory::Shield)
    }

    /// Adds a category.
    #[must_use]
    pub fn with(mut self, category: SafeCategory) -> Self {
        self.categories.insert(category);
        self
    }

    /// Whether no category is selected.
    pub fn is_off(&self) -> bool {
        self.categories.is_empty()
    }
}

impl fmt::Display for Safe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.categories.is_empty() {
            return f.write_str("false");
        }
        for (i, category) in self.categories.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(category.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for Safe {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// How hard a reasoning model should think.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ReasoningEffort {
    /// No reasoning.
    None,
    /// The least.
    Minimal,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Extra high.
    Xhigh,
    /// The most.
    Max,
}

/// Token counts of one answer. Extra detail objects are kept as JSON.
///
/// Deserialised by hand: `#[serde(flatten)]` for [`Usage::extra`] would buffer every field
/// of every answer first (a tenth of a whole call's decoding).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u64,
    /// Tokens in the answer.
    pub completion_tokens: u64,
    /// Both.
    pub total_tokens: u64,
    /// Breakdown of the prompt (cached, audio, image tokens …), as sent.
    pub prompt_tokens_details: Option<Value>,
    /// Breakdown of the answer (reasoning, audio tokens …), as sent.
    pub completion_tokens_details: Option<Value>,
    /// Any other usage fields the server sent.
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Usage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(UsageVisitor)
    }
}

/// A token count as [`lenient::u64_or_zero`] reads it.
#[derive(Deserialize)]
struct Count(#[serde(deserialize_with = "lenient::u64_or_zero")] u64);

struct UsageVisitor;

impl<'de> serde::de::Visitor<'de> for UsageVisitor {
    type Value = Usage;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a token usage object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Usage, A::Error> {
        let mut usage = Usage::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "prompt_tokens" => usage.prompt_tokens = map.next_value::<Count>()?.0,
                "completion_tokens" => usage.completion_tokens = map.next_value::<Count>()?.0,
                "total_tokens" => usage.total_tokens = map.next_value::<Count>()?.0,
                "prompt_tokens_details" => usage.prompt_tokens_details = map.next_value()?,
                "completion_tokens_details" => {
                    usage.completion_tokens_details = map.next_value()?;
                }
                _ => {
                    let value = map.next_value()?;
                    usage.extra.insert(key.into_owned(), value);
                }
            }
        }
        Ok(usage)
    }
}

/// Whether the server answered from its own cache (`X-Cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerCache {
    /// `X-Cache: HIT`.
    Hit,
    /// `X-Cache: MISS`.
    Miss,
}

/// What every answer carries besides its content: where it came from and how it was obtained.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// HTTP status of the answer.
    pub status: u16,
    /// The server's `X-Request-Id`.
    pub request_id: Option<String>,
    /// `x-model-used`: the model that really answered.
    pub model_used: Option<String>,
    /// `Content-Type` of the answer.
    pub content_type: Option<String>,
    /// `X-Cache` of the server.
    pub server_cache: Option<ServerCache>,
    /// Network attempts the call made (0 when answered without the network).
    pub attempts: u32,
    /// Answered from the client's own cache.
    pub cached: bool,
    /// Answered by sharing an identical call's network request.
    pub coalesced: bool,
}

impl ResponseMeta {
    /// Removes `secret` from every header value kept (a server may echo the key in any).
    pub(crate) fn scrub(&mut self, secret: &str) {
        for text in [
            &mut self.request_id,
            &mut self.model_used,
            &mut self.content_type,
        ]
        .into_iter()
        .flatten()
        {
            crate::secret::scrub(text, secret);
        }
    }

    /// Reads the metadata headers of an answer, in one pass over the headers (an answer has
    /// few; a lookup by name hashes the name each time). Of repeated headers, the first with
    /// a non-empty text value counts.
    pub(crate) fn from_head(status: http::StatusCode, headers: &http::HeaderMap) -> Self {
        let mut request_id = None;
        let mut model_used = None;
        let mut content_type = None;
        let mut cache = None;
        const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
        const X_MODEL_USED: HeaderName = HeaderName::from_static("x-model-used");
        const X_CACHE: HeaderName = HeaderName::from_static("x-cache");
        for (name, value) in headers {
            // Names compared as names, not as text: a standard name against a custom one
            // differs at once, without spelling either out.
            let slot = if *name == http::header::CONTENT_TYPE {
                &mut content_type
            } else if *name == X_REQUEST_ID {
                &mut request_id
            } else if *name == X_MODEL_USED {
                &mut model_used
            } else if *name == X_CACHE {
                &mut cache
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = value.to_str().ok().filter(|v| !v.is_empty());
            }
        }
        let server_cache = cache.and_then(|v| {
            if v.eq_ignore_ascii_case("hit") {
                Some(ServerCache::Hit)
            } else if v.eq_ignore_ascii_case("miss") {
                Some(ServerCache::Miss)
            } else {
                None
            }
        });
        Self {
            status: status.as_u16(),
            request_id: request_id.map(str::to_owned),
            model_used: model_used.map(str::to_owned),
            content_type: content_type.map(str::to_owned),
            server_cache,
            attempts: 0,
            cached: false,
            coalesced: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_reads_loose_counts_and_keeps_what_it_does_not_know() {
        let usage: Usage = serde_json::from_str(
            r#"{"prompt_tokens":"12","completion_tokens":3.0,"total_tokens":null,
                "prompt_tokens_details":{"cached_tokens":2},"cost":0.5,"tier\u0073":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (12, 3, 0)
        );
        assert_eq!(
            usage.prompt_tokens_details,
            Some(serde_json::json!({"cached_tokens": 2}))
        );
        assert_eq!(usage.completion_tokens_details, None);
        assert_eq!(usage.extra.get("cost"), Some(&serde_json::json!(0.5)));
        assert_eq!(usage.extra.get("tiers"), Some(&serde_json::json!("x")));
        assert_eq!(
            serde_json::from_str::<Usage>("{}").unwrap(),
            Usage::default()
        );
        assert!(serde_json::from_str::<Usage>("[1]").is_err());
    }
}
