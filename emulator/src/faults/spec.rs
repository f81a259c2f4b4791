//! [`FaultSpec`]: which faults to inject, how often, how slowly and where, written as
//! `503=0.1,429=0.05,reset=0.02,latency=20..200ms`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::kind::FaultKind;
use super::units::{
    Chance, Latency, MAX_RETRY_AFTER, ONE, format_duration, parse_chance, parse_duration,
    parse_latency,
};

/// Which faults an emulator injects, parsed from a comma-separated list of tokens.
///
/// | Token | Effect |
/// |---|---|
/// | `<status>=<p>` | answer 408, 429 or a 5xx status (the service's error body) |
/// | `reset=<p>` | reset the TCP connection before any response byte |
/// | `reset_body=<p>` | send the head and part of the body, then close the connection |
/// | `stall=<p>` | send the head and part of the body, then nothing (gives up after 60 s) |
/// | `truncate=<p>` | end an SSE stream cleanly before `data: [DONE]` |
/// | `stream_error=<p>` | end an SSE stream with an `upstream_error` event |
/// | `malformed=<p>` | answer 200 with a broken body (cut JSON, an image that is not one) |
/// | `latency=<d>` or `latency=<a>..<b>` | delay every faulted-scope answer (uniform in the range) |
/// | `retry_after=<d>` | the `Retry-After` of injected 429s (default 1 s) and 503s (default none) |
/// | `scope=<prefix>` | only fault routes whose label starts with the prefix (repeatable) |
///
/// Probabilities are decimals in `0..=1` and their sum may not exceed 1: at most one fault
/// fires per request (plus latency). Durations take `ms` or `s` (`250ms`, `2s`, `1.5s`);
/// in a range the lower bound may omit the unit (`20..200ms`). Latency is at most 60 s.
/// The empty string (or `none`) is no faults, which is also [`Default`].
///
/// [`Display`](fmt::Display) prints the canonical text, which parses back to an equal spec:
///
/// ```
/// use blossom_emulator::FaultSpec;
///
/// let spec: FaultSpec = "503=0.1, reset=0.02, 429=0.05, latency=20..200ms".parse()?;
/// assert_eq!(spec.to_string(), "429=0.05,503=0.1,reset=0.02,latency=20..200ms");
/// assert_eq!(spec.to_string().parse::<FaultSpec>()?, spec);
/// assert!("503=0.7,500=0.5".parse::<FaultSpec>().is_err()); // sums to more than 1
/// assert!(FaultSpec::default().is_none());
/// # Ok::<(), blossom_emulator::FaultSpecError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FaultSpec {
    pub(crate) chances: BTreeMap<FaultKind, Chance>,
    pub(crate) latency: Option<Latency>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) scopes: Vec<String>,
}

impl FaultSpec {
    /// No faults (the same as [`FaultSpec::default`]).
    pub fn none() -> FaultSpec {
        FaultSpec::default()
    }

    /// Whether this spec never changes an answer: no fault has a positive probability and
    /// there is no latency.
    pub fn is_none(&self) -> bool {
        self.chances.values().all(|c| c.0 == 0) && self.latency.is_none_or(|l| l.max.is_zero())
    }

    /// Whether requests on the route labelled `label` (`"GET /image"`) are subject to
    /// this spec: every route without `scope` tokens, else those whose label starts with
    /// a scope (a scope starting with `/` is matched against the label's path).
    pub(crate) fn in_scope(&self, label: &str) -> bool {
        if self.scopes.is_empty() {
            return true;
        }
        let path = label.split_once(' ').map_or(label, |(_, path)| path);
        self.scopes.iter().any(|scope| {
            label.starts_with(scope.as_str())
                || (scope.starts_with('/') && path.starts_with(scope.as_str()))
        })
    }
}

/// Why a fault spec (or an `X-Emulator-Fault` header) could not be parsed: the offending
/// token and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpecError {
    token: String,
    reason: String,
}

impl FaultSpecError {
    pub(crate) fn new(token: &str, reason: impl Into<String>) -> Self {
        FaultSpecError {
            token: token.to_owned(),
            reason: reason.into(),
        }
    }

    /// The token that could not be parsed.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Why, in words.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for FaultSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid fault token `{}`: {}", self.token, self.reason)
    }
}

impl std::error::Error for FaultSpecError {}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    /// Parses a spec.
    ///
    /// Fails on an unknown token, a token without `=value`, a repeated token (except
    /// `scope`), a probability outside `0..=1`, probabilities summing above 1, a malformed
    /// duration, a backwards latency range, or a latency above 60 s.
    fn from_str(text: &str) -> Result<FaultSpec, FaultSpecError> {
        let mut spec = FaultSpec::default();
        if text.trim() == "none" {
            return Ok(spec);
        }
        let mut total = 0u64;
        for token in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let fail = |reason: String| FaultSpecError::new(token, reason);
            let Some((name, value)) = token.split_once('=') else {
                return Err(fail(format!(
                    "expected `{token}=<value>` (a probability, a duration or a route prefix)"
                )));
            };
            let (name, value) = (name.trim(), value.trim());
            let repeated = || fail(format!("`{name}` is given twice"));
            match name {
                "latency" => {
                    if spec.latency.is_some() {
                        return Err(repeated());
                    }
                    spec.latency = Some(parse_latency(value).map_err(fail)?);
                }
                "retry_after" => {
                    if spec.retry_after.is_some() {
                        return Err(repeated());
                    }
                    let wait = parse_duration(value).map_err(fail)?;
                    debug_assert!(wait <= MAX_RETRY_AFTER);
                    spec.retry_after = Some(wait);
                }
                "scope" => {
                    if value.is_empty() {
                        return Err(fail("a scope is a route prefix like `GET /image`".into()));
                    }
                    spec.scopes.push(value.to_owned());
                }
                _ => {
                    let kind = FaultKind::parse(name).map_err(fail)?;
                    let chance = parse_chance(value).map_err(fail)?;
                    if spec.chances.insert(kind, chance).is_some() {
                        return Err(repeated());
                    }
                    total += u64::from(chance.0);
                    if total > u64::from(ONE) {
                        return Err(fail(
                            "the probabilities add up to more than 1 (at most one fault \
                             fires per request)"
                                .into(),
                        ));
                    }
                }
            }
        }
        Ok(spec)
    }
}

impl fmt::Display for FaultSpec {
    /// The canonical text: faults in decision order, then latency, retry_after, scopes.
    /// Empty for no faults.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut tokens: Vec<String> = self
            .chances
            .iter()
            .map(|(kind, chance)| format!("{kind}={chance}"))
            .collect();
        if let Some(latency) = self.latency {
            tokens.push(format!("latency={latency}"));
        }
        if let Some(wait) = self.retry_after {
            tokens.push(format!("retry_after={}", format_duration(wait)));
        }
        tokens.extend(self.scopes.iter().map(|s| format!("scope={s}")));
        f.write_str(&tokens.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> FaultSpec {
        text.parse().unwrap()
    }

    fn error(text: &str) -> FaultSpecError {
        text.parse::<FaultSpec>().unwrap_err()
    }

    #[test]
    fn round_trips() {
        for text in [
            "",
            "503=0.1",
            "429=0.05,503=0.1,reset=0.02,latency=20..200ms",
            "408=0.01,500=0.01,502=0.01,504=0.01,520=0.01,reset=0.01,reset_body=0.01,stall=0.01,truncate=0.01,stream_error=0.01,malformed=0.01",
            "503=1,retry_after=2s,scope=GET /image,scope=POST /v1",
            "latency=300ms",
            "429=0.5,retry_after=500ms",
            "503=0",
        ] {
            let spec = parse(text);
            assert_eq!(spec.to_string(), text, "canonical text");
            assert_eq!(parse(&spec.to_string()), spec);
        }
        let messy = parse(" reset=0.020 , 503=.1,latency=1..2s,");
        assert_eq!(messy.to_string(), "503=0.1,reset=0.02,latency=1..2s");
        assert_eq!(parse("none"), FaultSpec::none());
        assert_eq!(FaultSpec::default().to_string(), "");
    }

    #[test]
    fn is_none_ignores_zero_probabilities() {
        assert!(parse("").is_none());
        assert!(parse("503=0,scope=GET /image").is_none());
        assert!(!parse("503=0.1").is_none());
        assert!(!parse("latency=5ms").is_none());
        assert!(parse("latency=0ms").is_none());
    }

    #[test]
    fn errors_name_the_token() {
        let e = error("503=0.1,explode=0.5");
        assert_eq!(e.token(), "explode=0.5");
        assert!(e.reason().contains("unknown fault"), "{e}");
        assert!(error("503=1.5").to_string().contains("above 1"));
        let sum = error("503=0.6,500=0.3,reset=0.2");
        assert_eq!(sum.token(), "reset=0.2");
        assert!(sum.reason().contains("more than 1"));
        assert!(error("latency=20").reason().contains("unit"));
        assert!(error("latency=fast").to_string().contains("duration"));
        assert!(error("retry_after=2m").to_string().contains("duration"));
        assert!(error("latency=200..20ms").reason().contains("backwards"));
        assert!(error("latency=90s").reason().contains("limit"));
        assert!(error("404=0.1").reason().contains("not a fault"));
        assert!(error("503").reason().contains("expected"));
        assert!(error("503=0.1,503=0.2").reason().contains("twice"));
        assert!(error("latency=1ms,latency=2ms").reason().contains("twice"));
        assert!(error("scope=").reason().contains("prefix"));
        assert!(error("503=-0.1").reason().contains("probability"));
        assert!(error("503=0.1;reset=0.1").reason().contains("probability"));
    }

    #[test]
    fn scopes_match_label_prefixes_or_paths() {
        let all = parse("503=1");
        assert!(all.in_scope("GET /image"));
        let image = parse("503=1,scope=GET /image");
        assert!(image.in_scope("GET /image"));
        assert!(!image.in_scope("POST /v1/chat/completions"));
        let by_path = parse("503=1,scope=/v1,scope=GET /text");
        assert!(by_path.in_scope("POST /v1/chat/completions"));
        assert!(by_path.in_scope("GET /v1/models"));
        assert!(by_path.in_scope("GET /text"));
        assert!(!by_path.in_scope("POST /text"));
    }
}
