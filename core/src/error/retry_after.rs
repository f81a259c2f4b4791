//! The delay a server asks for before the next attempt.
//!
//! Three sources, in order of precedence: the `retry-after-ms` header (milliseconds, may be
//! fractional), the standard `Retry-After` header (delta seconds, integer or decimal, or an
//! HTTP date), and the publishable-key 429 body's `retryAfterSeconds`. Zero, negative, empty
//! and unparseable values mean "no delay requested", so the caller falls back to its backoff.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// The longest delay that is taken literally; anything larger saturates here, far above any
/// sane retry maximum, so the retry policy sees "too long" rather than an overflow.
const CEILING: Duration = Duration::from_secs(365 * 24 * 3600);

/// Resolves the server-requested delay from response headers and a body hint.
///
/// An HTTP date is measured from the response's own `Date` header when it has one (so client
/// clock skew does not matter), otherwise from `now`; without either, a date is ignored.
///
/// ```
/// use blossom_core::error::retry_after_from;
/// use http::HeaderMap;
/// use std::time::Duration;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("retry-after", "20".parse().unwrap());
/// assert_eq!(retry_after_from(&headers, None, None), Some(Duration::from_secs(20)));
/// ```
pub fn retry_after_from(
    headers: &HeaderMap,
    body_seconds: Option<f64>,
    now: Option<SystemTime>,
) -> Option<Duration> {
    if let Some(ms) = header_str(headers, "retry-after-ms").and_then(parse_number) {
        return positive(ms / 1000.0);
    }
    if let Some(value) = header_str(headers, "retry-after") {
        if let Some(seconds) = parse_number(value) {
            return positive(seconds);
        }
        if let Ok(when) = httpdate::parse_http_date(value) {
            let base = header_str(headers, "date")
                .and_then(|date| httpdate::parse_http_date(date).ok())
                .or(now)?;
            return when
                .duration_since(base)
                .ok()
                .filter(|d| !d.is_zero())
                .map(|d| d.min(CEILING));
        }
    }
    body_seconds.and_then(positive)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

fn parse_number(text: &str) -> Option<f64> {
    let value: f64 = text.parse().ok()?;
    value.is_finite().then_some(value)
}

fn positive(seconds: f64) -> Option<Duration> {
    if seconds.is_nan() || seconds <= 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(seconds).map_or(CEILING, |d| d.min(CEILING)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::headers;

    fn secs(s: f64) -> Option<Duration> {
        Some(Duration::from_secs_f64(s))
    }

    /// The retry-delay cases of openai-python's client tests, read as "what delay did the
    /// server ask for" (the retry policy then applies the maximum and the backoff fallback).
    #[test]
    fn openai_python_cases() {
        let now = httpdate::parse_http_date("Sat, 01 Jan 2000 00:00:00 GMT").unwrap();
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<Duration>);
        let cases: &[Case<'_>] = &[
            (&[("retry-after", "20")], secs(20.0)),
            (&[("retry-after", "0")], None),
            (&[("retry-after", "-10")], None),
            (&[("retry-after", "")], None),
            (&[("retry-after", "121")], secs(121.0)),
            (&[("retry-after", "0.5")], secs(0.5)),
            (
                &[("retry-after", "Sat, 01 Jan 2000 00:00:20 GMT")],
                secs(20.0),
            ),
            (&[("retry-after", "Fri, 31 Dec 1999 23:59:50 GMT")], None),
            (
                &[("retry-after", "Sat, 01 Jan 2000 00:02:01 GMT")],
                secs(121.0),
            ),
            (&[("retry-after", "not a date")], None),
            (&[("retry-after-ms", "2000")], secs(2.0)),
            (&[("retry-after-ms", "1500.5")], secs(1.5005)),
            (
                &[("retry-after-ms", "2000"), ("retry-after", "20")],
                secs(2.0),
            ),
            (
                &[("retry-after-ms", "junk"), ("retry-after", "7")],
                secs(7.0),
            ),
            (&[], None),
        ];
        for (pairs, expected) in cases {
            assert_eq!(
                retry_after_from(&headers(pairs), None, Some(now)),
                *expected,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn http_date_prefers_the_response_date_header() {
        let far_future = httpdate::parse_http_date("Sat, 01 Jan 2050 00:00:00 GMT").unwrap();
        let map = headers(&[
            ("retry-after", "Sat, 01 Jan 2000 00:00:30 GMT"),
            ("date", "Sat, 01 Jan 2000 00:00:00 GMT"),
        ]);
        assert_eq!(retry_after_from(&map, None, Some(far_future)), secs(30.0));
        let only_date = headers(&[("retry-after", "Sat, 01 Jan 2000 00:00:30 GMT")]);
        assert_eq!(retry_after_from(&only_date, None, None), None);
    }

    #[test]
    fn body_seconds_are_the_last_resort() {
        assert_eq!(
            retry_after_from(&HeaderMap::new(), Some(12.34), None),
            secs(12.34)
        );
        assert_eq!(retry_after_from(&HeaderMap::new(), Some(-1.0), None), None);
        assert_eq!(
            retry_after_from(&HeaderMap::new(), Some(f64::NAN), None),
            None
        );
        let map = headers(&[("retry-after", "3")]);
        assert_eq!(retry_after_from(&map, Some(12.0), None), secs(3.0));
    }

    #[test]
    fn absurd_values_saturate() {
        let map = headers(&[("retry-after", "1e300")]);
        assert_eq!(retry_after_from(&map, None, None), Some(CEILING));
    }
}
