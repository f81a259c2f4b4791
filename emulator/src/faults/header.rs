//! `X-Emulator-Fault`: a request that names its own faults.
//!
//! The header carries the spec's tokens without probabilities, comma separated:
//! `503`, `429`, `reset`, `reset_body`, `stall`, `truncate`, `stream_error`, `malformed`,
//! `latency=300ms` (or a range), `retry_after=2s`, or `none`. It replaces the configured
//! random faults for that request (scopes do not apply to it). At most one fault kind may
//! be named; a malformed header is answered with a 400 envelope, so a typo in a test fails
//! loudly instead of silently testing nothing.

use std::time::Duration;

use http::HeaderMap;

use super::decide::Plan;
use super::kind::FaultKind;
use super::spec::FaultSpecError;
use super::units::{Latency, parse_duration, parse_latency};
use crate::errors::{ApiError, FieldErrors};

/// The header name.
pub(crate) const HEADER: &str = "x-emulator-fault";

/// The faults a request asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Forced {
    kind: Option<FaultKind>,
    latency: Option<Latency>,
    retry_after: Option<Duration>,
}

impl Forced {
    /// The plan for request number `n` (a latency range is drawn like the spec's).
    pub(crate) fn plan(self, seed: u64, n: u64) -> Plan {
        Plan {
            kind: self.kind,
            latency: self.latency.map_or(Duration::ZERO, |l| l.draw(seed, n)),
            retry_after: self.retry_after,
        }
    }
}

/// The request's forced faults, `None` without the header.
///
/// Fails with a 400 `BAD_REQUEST` envelope (field `X-Emulator-Fault`) when the header is
/// not ASCII or has an invalid token.
pub(crate) fn forced(headers: &HeaderMap) -> Result<Option<Forced>, ApiError> {
    let mut values = headers.get_all(HEADER).iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let mut text = Vec::new();
    for value in values {
        match value.to_str() {
            Ok(v) => text.push(v),
            Err(_) => return Err(invalid("the header must be ASCII text".to_owned())),
        }
    }
    parse(&text.join(","))
        .map(Some)
        .map_err(|e| invalid(e.to_string()))
}

fn invalid(message: String) -> ApiError {
    let mut fields = FieldErrors::new();
    fields.insert("X-Emulator-Fault".to_owned(), vec![message]);
    ApiError::validation("Header validation failed", fields)
}

/// Parses the header's tokens.
///
/// Fails on unknown tokens, probabilities, repeated settings, or two fault kinds.
pub(crate) fn parse(text: &str) -> Result<Forced, FaultSpecError> {
    let mut forced = Forced::default();
    for token in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let fail = |reason: String| FaultSpecError::new(token, reason);
        match token.split_once('=') {
            Some((name, value)) => {
                let (name, value) = (name.trim(), value.trim());
                match name {
                    "latency" if forced.latency.is_none() => {
                        forced.latency = Some(parse_latency(value).map_err(fail)?);
                    }
                    "retry_after" if forced.retry_after.is_none() => {
                        forced.retry_after = Some(parse_duration(value).map_err(fail)?);
                    }
                    "latency" | "retry_after" => {
                        return Err(fail(format!("`{name}` is given twice")));
                    }
                    _ => {
                        FaultKind::parse(name).map_err(fail)?;
                        return Err(fail(
                            "the header names faults without probabilities (`503`, not \
                             `503=0.5`)"
                                .to_owned(),
                        ));
                    }
                }
            }
            None if token == "none" => {}
            None => {
                let kind = FaultKind::parse(token).map_err(fail)?;
                if let Some(first) = forced.kind {
                    return Err(fail(format!(
                        "only one fault per request, and `{first}` is already named"
                    )));
                }
                forced.kind = Some(kind);
            }
        }
    }
    Ok(forced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn tokens_force_a_plan() {
        let f = parse("503, retry_after=2s, latency=300ms").unwrap();
        assert_eq!(
            f.plan(0, 0),
            Plan {
                kind: Some(FaultKind::Status(503)),
                latency: Duration::from_millis(300),
                retry_after: Some(Duration::from_secs(2)),
            }
        );
        assert_eq!(parse("none").unwrap().plan(0, 0), Plan::default());
        assert_eq!(parse("stall").unwrap().kind, Some(FaultKind::Stall));
        let ranged = parse("latency=10..20ms").unwrap().plan(5, 5).latency;
        assert!(ranged >= Duration::from_millis(10) && ranged <= Duration::from_millis(20));
    }

    #[test]
    fn bad_headers_are_rejected() {
        assert!(parse("503=0.5").unwrap_err().reason().contains("without"));
        assert!(
            parse("503,reset")
                .unwrap_err()
                .reason()
                .contains("one fault")
        );
        assert!(parse("boom").is_err());
        assert!(parse("latency=3").is_err());
        assert!(parse("latency=1ms,latency=2ms").is_err());
        assert!(parse("scope=GET /image").is_err());
    }

    #[test]
    fn headers_are_read_and_joined() {
        let mut headers = HeaderMap::new();
        assert_eq!(forced(&headers).unwrap(), None);
        headers.append(HEADER, HeaderValue::from_static("429"));
        headers.append(HEADER, HeaderValue::from_static("retry_after=1500ms"));
        let f = forced(&headers).unwrap().unwrap();
        assert_eq!(f.kind, Some(FaultKind::Status(429)));
        assert_eq!(f.retry_after, Some(Duration::from_millis(1500)));
        headers.insert(HEADER, HeaderValue::from_static("explode"));
        let err = forced(&headers).unwrap_err().to_json();
        assert_eq!(err["status"], 400);
        assert!(err["error"]["details"]["fieldErrors"]["X-Emulator-Fault"][0].is_string());
    }
}
