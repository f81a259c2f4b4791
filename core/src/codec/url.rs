//! Percent-encoding for path prompts and query values.
//!
//! Everything but the RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) is encoded, so a
//! prompt with `/`, `?`, `#`, `%`, spaces, newlines or emoji stays one path segment and reads
//! back exactly.
//!
//! A segment that is only `.` or `..` cannot travel in a path at all: RFC 3986 resolves it as
//! "this" or "parent" directory, and libcurl does so even when the dots are percent-encoded.
//! [`is_dot_segment`] lets the encoder route such prompts through a body instead.

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Bytes that are encoded: all but unreserved.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Whether `text` as a path segment would be resolved away as `.` or `..`.
pub(crate) fn is_dot_segment(text: &str) -> bool {
    text == "." || text == ".."
}

/// Appends `text` as one encoded path segment. Callers keep dot segments out of paths
/// (see [`is_dot_segment`]).
pub(crate) fn push_segment(out: &mut String, text: &str) {
    out.extend(utf8_percent_encode(text, STRICT));
}

/// A query string under construction: `?a=1&b=2`, encoded as it is built.
pub(crate) struct Query<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Query<'a> {
    pub(crate) fn new(out: &'a mut String) -> Self {
        Self { out, first: true }
    }

    /// Appends `name=value`.
    pub(crate) fn pair(&mut self, name: &str, value: &str) {
        self.out.push(if self.first { '?' } else { '&' });
        self.first = false;
        self.out.extend(utf8_percent_encode(name, STRICT));
        self.out.push('=');
        self.out.extend(utf8_percent_encode(value, STRICT));
    }

    /// Appends `name=value` when the value is set, formatting it with `Display`.
    pub(crate) fn opt<T: std::fmt::Display>(&mut self, name: &str, value: Option<T>) {
        if let Some(value) = value {
            let mut text = String::new();
            let _infallible = write!(text, "{value}");
            self.pair(name, &text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(text: &str) -> String {
        let mut out = String::new();
        push_segment(&mut out, text);
        out
    }

    #[test]
    fn awkward_prompts_stay_one_segment() {
        let cases = [
            ("a red apple", "a%20red%20apple"),
            ("a/b?c#d%e", "a%2Fb%3Fc%23d%25e"),
            ("wait.. what", "wait..%20what"),
            ("line1\nline2", "line1%0Aline2"),
            ("🌸", "%F0%9F%8C%B8"),
            ("a+b&c=d", "a%2Bb%26c%3Dd"),
            ("keep-._~", "keep-._~"),
        ];
        for (input, expected) in cases {
            assert_eq!(segment(input), expected, "{input:?}");
            let decoded = percent_encoding::percent_decode_str(expected)
                .decode_utf8()
                .unwrap();
            assert_eq!(decoded, input);
        }
    }

    #[test]
    fn dot_segments_are_recognised() {
        assert!(is_dot_segment("."));
        assert!(is_dot_segment(".."));
        assert!(!is_dot_segment("..."));
        assert!(!is_dot_segment("a/../b"));
    }

    #[test]
    fn query_pairs() {
        let mut out = String::from("/image/x");
        let mut query = Query::new(&mut out);
        query.pair("model", "flux");
        query.opt("width", Some(512));
        query.opt::<u32>("height", None);
        query.pair("image", "https://a.example/1.png|https://b.example/2 x.png");
        assert_eq!(
            out,
            "/image/x?model=flux&width=512&image=https%3A%2F%2Fa.example%2F1.png%7Chttps%3A%2F%2Fb.example%2F2%20x.png"
        );
    }
}
