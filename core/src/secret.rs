//! The API key, wrapped so that it cannot leak by accident.
//!
//! An [`ApiKey`] prints as `sk_…(redacted)` in both `Debug` and `Display`; the only way to
//! read the whole key is [`ApiKey::expose`], which the codec calls exactly once per request to
//! fill the `Authorization` header. The key is never put in a URL, a cache key or an error.

use std::fmt;

use crate::error::Error;

/// The kind of key, read from its prefix (docs/PROTOCOL.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyTier {
    /// `sk_…`: a secret server key, not rate limited by the service.
    Secret,
    /// `pk_…`: a publishable browser key, paced by the service per key and IP.
    Publishable,
    /// Any other shape: sent as given, treated conservatively.
    Other,
}

/// A Pollinations API key. Never printed, never placed in a URL.
///
/// ```
/// use blossom_core::ApiKey;
/// let key = ApiKey::new("sk_0123456789abcdefghijklmnopqrstuv").unwrap();
/// assert_eq!(format!("{key:?}"), "ApiKey(sk_…)");
/// assert!(!format!("{key}").contains("0123"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    key: Box<str>,
}

impl ApiKey {
    /// Wraps a key after trimming surrounding white space.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the key is empty, contains
    /// white space or control characters inside, or is not valid in an HTTP header.
    pub fn new(key: impl AsRef<str>) -> Result<Self, Error> {
        let key = key.as_ref().trim();
        if key.is_empty() {
            return Err(Error::invalid_input("api_key", "the API key is empty"));
        }
        if key
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
        {
            return Err(Error::invalid_input(
                "api_key",
                "the API key contains white space, control or non-ASCII characters",
            ));
        }
        Ok(Self { key: key.into() })
    }

    /// The whole key. Only the codec should need this, to fill `Authorization`.
    pub fn expose(&self) -> &str {
        &self.key
    }

    /// The tier named by the key's prefix.
    pub fn tier(&self) -> KeyTier {
        if self.key.starts_with("sk_") {
            KeyTier::Secret
        } else if self.key.starts_with("pk_") {
            KeyTier::Publishable
        } else {
            KeyTier::Other
        }
    }

    /// A printable label: the prefix only (`sk_…`, `pk_…` or `…`).
    pub fn redacted(&self) -> &'static str {
        match self.tier() {
            KeyTier::Secret => "sk_…",
            KeyTier::Publishable => "pk_…",
            KeyTier::Other => "…",
        }
    }

    /// A stable 64-bit fingerprint of the key, for cache keys and per-key limiter state.
    ///
    /// It identifies the key without containing it: XXH3 over a domain-separated input, so
    /// equal keys share cache entries and different keys do not. It is not a password hash
    /// and is never sent anywhere.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(b"blossom-key-identity\0");
        hasher.update(self.key.as_bytes());
        hasher.digest()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.redacted())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.redacted())
    }
}

/// What stands in for a secret a server echoed back.
pub(crate) const REDACTED: &str = "[redacted]";

/// Removes every whole occurrence of `secret` from `text` (a header value kept whole).
/// Returns whether anything was removed.
pub(crate) fn scrub(text: &mut String, secret: &str) -> bool {
    // A text shorter than the key cannot hold it (most do not), and the search would first
    // take the key apart.
    if secret.is_empty() || text.len() < secret.len() || !text.contains(secret) {
        return false;
    }
    *text = text.replace(secret, REDACTED);
    true
}

/// Like [`scrub`], and also removes a beginning of `secret` left at the end of a text cut
/// short: an error keeps only the first bytes of a body or a line, and the cut may fall
/// inside an echoed key. Only for such texts: the check costs a pass per possible length.
pub(crate) fn scrub_cut(text: &mut String, secret: &str) -> bool {
    /// Shorter beginnings say nothing about the key (`sk_`, `pk_`).
    const MIN_CUT: usize = 4;
    let mut changed = scrub(text, secret);
    if secret.is_empty() {
        return false;
    }
    let body_end = text.strip_suffix('…').map_or(text.len(), str::len);
    let longest = secret.len().min(body_end);
    let cut = (MIN_CUT..longest)
        .rev()
        .find(|&n| secret.is_char_boundary(n) && text[..body_end].ends_with(&secret[..n]));
    if let Some(n) = cut {
        text.replace_range(body_end - n..body_end, REDACTED);
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk_SECRETsecretSECRETsecret012345";

    #[test]
    fn key_never_prints() {
        let key = ApiKey::new(KEY).unwrap();
        for text in [format!("{key:?}"), format!("{key}"), format!("{key:#?}")] {
            assert!(!text.contains("SECRET"), "{text}");
        }
        assert_eq!(key.expose(), KEY);
        assert_eq!(key.tier(), KeyTier::Secret);
    }

    #[test]
    fn rejects_empty_and_spaced_keys() {
        assert!(ApiKey::new("  ").is_err());
        assert!(ApiKey::new("sk_a b").is_err());
        assert!(ApiKey::new("sk_\u{e9}").is_err());
        assert_eq!(ApiKey::new(" pk_abc \n").unwrap().expose(), "pk_abc");
    }

    #[test]
    fn fingerprint_separates_keys() {
        let a = ApiKey::new("sk_a").unwrap();
        let b = ApiKey::new("sk_b").unwrap();
        assert_eq!(a.fingerprint(), ApiKey::new("sk_a").unwrap().fingerprint());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn scrub_removes_whole_keys_and_a_key_cut_at_the_end() {
        let key = "sk_0123456789abcdefghijklmnopqrstuv";
        let mut text = format!("a {key} b {key}");
        assert!(scrub(&mut text, key));
        assert_eq!(text, "a [redacted] b [redacted]");
        let mut cut = format!("body {}…", &key[..20]);
        assert!(
            !scrub(&mut cut.clone(), key),
            "a whole-key scrub leaves cut keys alone"
        );
        assert!(scrub_cut(&mut cut, key));
        assert_eq!(cut, "body [redacted]…");
        let mut plain = "nothing to see, sk_".to_owned();
        assert!(!scrub_cut(&mut plain, key), "a bare prefix says nothing");
        assert_eq!(plain, "nothing to see, sk_");
    }
}
