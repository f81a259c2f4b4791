//! API keys: where the server reads them, what a well-formed key looks like, and how a
//! key is named in stats without ever being shown in full.
//!
//! The emulator accepts every *well-formed* key (it has no account database): a secret key
//! is `sk_` + 32 ASCII letters or digits, a publishable key is `pk_` + 16.

use std::fmt;

use http::HeaderMap;

use crate::errors::ApiError;
use crate::params::Query;

/// A well-formed secret key the emulator accepts, for demos and `--emulator` modes.
/// It has no meaning anywhere else.
pub const DEMO_SECRET_KEY: &str = "sk_EmulatorDemoSecretKey00000000000";

/// Whether a key is a server-side secret key or a browser publishable key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// `sk_…`: unlimited.
    Secret,
    /// `pk_…`: paced per key (see [`crate::ratelimit`]).
    Publishable,
}

/// A validated key. `Debug` shows only the redacted label.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ApiKey {
    value: String,
    kind: KeyKind,
}

impl ApiKey {
    /// The key kind.
    pub(crate) fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The full key, for the rate limiter's map only. Never log or answer it.
    pub(crate) fn secret_value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("label", &label(Some(&self.value)))
            .field("kind", &self.kind)
            .finish()
    }
}

/// The raw key of a request: `Authorization: Bearer`, then `X-API-KEY`, then `?key=`.
pub(crate) fn find_key(headers: &HeaderMap, query: &Query) -> Option<String> {
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|k| !k.is_empty());
    let header_key = || {
        headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|k| !k.is_empty())
    };
    let query_key = || query.get("key").map(str::trim).filter(|k| !k.is_empty());
    bearer
        .or_else(header_key)
        .or_else(query_key)
        .map(str::to_owned)
}

/// The key kind of a well-formed key, `None` for anything else.
pub(crate) fn classify(key: &str) -> Option<KeyKind> {
    let (kind, rest, len) = if let Some(rest) = key.strip_prefix("sk_") {
        (KeyKind::Secret, rest, 32)
    } else if let Some(rest) = key.strip_prefix("pk_") {
        (KeyKind::Publishable, rest, 16)
    } else {
        return None;
    };
    (rest.len() == len && rest.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(kind)
}

/// Requires a well-formed key on a generation route.
///
/// Fails with 401 `UNAUTHORIZED` when there is no key or it is malformed; the message never
/// repeats the key.
pub(crate) fn authenticate(headers: &HeaderMap, query: &Query) -> Result<ApiKey, ApiError> {
    let Some(value) = find_key(headers, query) else {
        return Err(ApiError::unauthorized(
            "Authentication required: send an API key as `Authorization: Bearer <key>` \
             (or the X-API-KEY header, or the `key` query parameter)",
        ));
    };
    match classify(&value) {
        Some(kind) => Ok(ApiKey { value, kind }),
        None => Err(ApiError::unauthorized(
            "Invalid API key: expected sk_ followed by 32 letters or digits, \
             or pk_ followed by 16",
        )),
    }
}

/// How a key appears in stats: the first 7 characters and "…" for a well-formed key,
/// "invalid" for a malformed one, "anonymous" without a key.
pub(crate) fn label(key: Option<&str>) -> String {
    match key {
        None => "anonymous".to_owned(),
        Some(k) if classify(k).is_some() => {
            let head: String = k.chars().take(7).collect();
            format!("{head}…")
        }
        Some(_) => "invalid".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const SK: &str = "sk_0123456789abcdefABCDEF0123456789";
    const PK: &str = "pk_0123456789abcdef";

    #[test]
    fn classifies_keys() {
        assert_eq!(classify(SK), Some(KeyKind::Secret));
        assert_eq!(classify(PK), Some(KeyKind::Publishable));
        assert_eq!(classify(DEMO_SECRET_KEY), Some(KeyKind::Secret));
        assert_eq!(classify("sk_short"), None);
        assert_eq!(classify("pk_0123456789abcde!"), None);
        assert_eq!(classify("xx_0123456789abcdef"), None);
    }

    #[test]
    fn header_order_is_bearer_then_x_api_key_then_query() {
        let mut headers = HeaderMap::new();
        let query = Query::parse(Some("key=from-query"));
        assert_eq!(find_key(&headers, &query).as_deref(), Some("from-query"));
        headers.insert("x-api-key", HeaderValue::from_static("from-header"));
        assert_eq!(find_key(&headers, &query).as_deref(), Some("from-header"));
        headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer from-bearer"),
        );
        assert_eq!(find_key(&headers, &query).as_deref(), Some("from-bearer"));
    }

    #[test]
    fn labels_never_show_the_key() {
        assert_eq!(label(Some(SK)), "sk_0123…");
        assert_eq!(label(Some("garbage")), "invalid");
        assert_eq!(label(None), "anonymous");
        let mut headers = HeaderMap::new();
        let bearer = HeaderValue::from_str(&format!("Bearer {SK}")).unwrap();
        headers.insert("authorization", bearer);
        let key = authenticate(&headers, &Query::parse(None)).unwrap();
        assert_eq!(key.kind(), KeyKind::Secret);
        assert!(!format!("{key:?}").contains(SK));
    }
}
