//! The server-side answer cache (docs/PROTOCOL.md §9).
//!
//! Key: method, path, the query sorted and minus `key`, `no-cache` and `nofeed`, and the
//! canonical JSON body minus `key`. The key is kept whole (no hash collisions possible);
//! `X-Cache-Key` shows a short digest of it. Only successful, non-stream generations are
//! stored. Memory is bounded by an entry count and a byte budget, evicting the least
//! recently used answer first.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use serde_json::Value;

use crate::hash::{StableHasher, canonical_json};
use crate::params::Query;

/// Most answers kept at once.
const MAX_ENTRIES: usize = 1024;
/// Most body bytes kept at once.
const MAX_BYTES: usize = 256 * 1024 * 1024;
/// Query parameters that never change the answer.
const IGNORED_QUERY: &[&str] = &["key", "no-cache", "nofeed"];

/// A generated answer: what the cache stores and what a hit replays byte for byte.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// `Content-Type` of the body.
    pub(crate) content_type: HeaderValue,
    /// Extra headers (`x-model-used`, `x-usage-*`, `Content-Disposition`, …).
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub(crate) body: Bytes,
    /// Whether to send `X-Cache-Key` (text answers do).
    pub(crate) is_text: bool,
}

/// A canonical cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CacheKey(String);

impl CacheKey {
    /// The key of a request. `path` is the raw (still percent-encoded) path.
    pub(crate) fn new(method: &Method, path: &str, query: &Query, body: Option<&Value>) -> Self {
        let mut pairs: Vec<(&str, &str)> = query
            .pairs()
            .iter()
            .filter(|(name, _)| !IGNORED_QUERY.contains(&name.as_str()))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        pairs.sort_unstable();
        let query_json = serde_json::to_string(&pairs).unwrap_or_default();
        let body_json = match body {
            Some(Value::Object(map)) => {
                let mut map = map.clone();
                map.remove("key");
                canonical_json(&Value::Object(map))
            }
            Some(other) => canonical_json(other),
            None => String::new(),
        };
        CacheKey(format!("{method} {path}\n{query_json}\n{body_json}"))
    }

    /// The `X-Cache-Key` header: a 16-hex-digit digest of the key.
    pub(crate) fn digest(&self) -> String {
        format!("{:016x}", StableHasher::new().str(&self.0).finish())
    }
}

/// Least-recently-used answers, bounded by count and bytes.
#[derive(Default)]
pub(crate) struct ResponseCache {
    entries: HashMap<String, (u64, Answer)>,
    recency: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("entries", &self.entries.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl ResponseCache {
    /// An empty cache.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The stored answer for `key`, marking it recently used.
    pub(crate) fn get(&mut self, key: &CacheKey) -> Option<Answer> {
        self.tick += 1;
        let tick = self.tick;
        let (used, answer) = self.entries.get_mut(&key.0)?;
        self.recency.remove(used);
        *used = tick;
        self.recency.insert(tick, key.0.clone());
        Some(answer.clone())
    }

    /// Stores an answer, evicting the least recently used ones beyond the bounds.
    pub(crate) fn insert(&mut self, key: &CacheKey, answer: Answer) {
        self.insert_bounded(key, answer, MAX_ENTRIES, MAX_BYTES);
    }

    fn insert_bounded(
        &mut self,
        key: &CacheKey,
        answer: Answer,
        max_entries: usize,
        max_bytes: usize,
    ) {
        let size = answer.body.len();
        if size > max_bytes {
            return;
        }
        self.remove(&key.0);
        self.tick += 1;
        self.recency.insert(self.tick, key.0.clone());
        self.entries.insert(key.0.clone(), (self.tick, answer));
        self.bytes += size;
        while self.entries.len() > max_entries || self.bytes > max_bytes {
            let Some((_, oldest)) = self.recency.pop_first() else {
                break;
            };
            self.remove(&oldest);
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some((used, answer)) = self.entries.remove(key) {
            self.recency.remove(&used);
            self.bytes -= answer.body.len();
        }
    }

    /// Number of stored answers.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &'static [u8]) -> Answer {
        Answer {
            content_type: HeaderValue::from_static("text/plain"),
            headers: Vec::new(),
            body: Bytes::from_static(body),
            is_text: true,
        }
    }

    fn key(path: &str, query: &str) -> CacheKey {
        CacheKey::new(&Method::GET, path, &Query::parse(Some(query)), None)
    }

    #[test]
    fn key_ignores_order_and_secret_parameters() {
        let a = key(
            "/image/x",
            "width=5&height=7&key=pk_1234567890abcdef&no-cache=true",
        );
        let b = key("/image/x", "height=7&nofeed=true&width=5");
        assert_eq!(a, b);
        assert!(!a.0.contains("pk_"));
        assert_ne!(a, key("/image/x", "height=7&width=6"));
        assert_ne!(a, key("/image/y", "height=7&width=5"));
        assert_eq!(a.digest().len(), 16);
    }

    #[test]
    fn body_key_is_canonical_and_drops_the_key() {
        let b1: Value = serde_json::from_str(r#"{"b":1,"a":2,"key":"sk_x"}"#).unwrap();
        let b2: Value = serde_json::from_str(r#"{"a":2, "b":1}"#).unwrap();
        let q = Query::parse(None);
        assert_eq!(
            CacheKey::new(&Method::POST, "/text", &q, Some(&b1)),
            CacheKey::new(&Method::POST, "/text", &q, Some(&b2))
        );
    }

    #[test]
    fn evicts_least_recently_used() {
        let mut cache = ResponseCache::new();
        let (k1, k2, k3) = (key("/a", ""), key("/b", ""), key("/c", ""));
        cache.insert_bounded(&k1, answer(b"1"), 2, 100);
        cache.insert_bounded(&k2, answer(b"2"), 2, 100);
        assert!(cache.get(&k1).is_some()); // k1 is now the most recent
        cache.insert_bounded(&k3, answer(b"3"), 2, 100);
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&k2).is_none());
        assert!(cache.get(&k1).is_some() && cache.get(&k3).is_some());
    }

    #[test]
    fn byte_budget_is_respected() {
        let mut cache = ResponseCache::new();
        cache.insert_bounded(&key("/a", ""), answer(b"12345"), 10, 8);
        cache.insert_bounded(&key("/b", ""), answer(b"12345"), 10, 8);
        assert_eq!(cache.len(), 1);
        assert!(cache.bytes <= 8);
        cache.insert_bounded(&key("/c", ""), answer(b"123456789"), 10, 8);
        assert!(cache.get(&key("/c", "")).is_none());
    }
}
