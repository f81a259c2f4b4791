//! Decoding HTTP error answers, whatever shape their body has (docs/PROTOCOL.md §5).
//!
//! Shapes handled: the service's envelope (`{"status","success":false,"error":{"code",
//! "message","details":{"fieldErrors","formErrors"}}}`), the publishable-key 429
//! (`{"error":"Rate limit exceeded","message","retryAfterSeconds"}`), the concurrency 429
//! (`{"error":"concurrency_limit_exceeded","message"}`), the legacy `{"error":"…","status"}`,
//! safety and OpenAI-style objects (`{"error":{"type","code","message"}}`), and non-JSON
//! bodies (an HTML page from the CDN edge, plain text).

use std::time::SystemTime;

use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use super::{Error, FieldError, retry_after_from};

/// How much of a raw body an error keeps.
pub(crate) const MAX_BODY_SNIPPET: usize = 2048;

/// Error codes that mean "out of money": retrying cannot help whatever the status says.
const QUOTA_CODES: &[&str] = &[
    "PAYMENT_REQUIRED",
    "INSUFFICIENT_BALANCE",
    "KEY_BUDGET_EXHAUSTED",
];

/// What an error body said.
#[derive(Debug, Default)]
pub(crate) struct ErrorBody {
    pub(crate) code: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) field_errors: Vec<FieldError>,
    pub(crate) retry_after_seconds: Option<f64>,
    pub(crate) raw: Option<String>,
}

impl ErrorBody {
    /// Reads any of the shapes in the module documentation; never fails.
    pub(crate) fn parse(body: &[u8]) -> Self {
        let raw = (!body.is_empty()).then(|| snippet(body));
        match serde_json::from_slice::<Value>(crate::api::lenient::without_bom(body)) {
            Ok(Value::Object(object)) => Self {
                raw,
                ..Self::from_object(&object)
            },
            _ => Self {
                message: text_message(body),
                raw,
                ..Self::default()
            },
        }
    }

    fn from_object(object: &Map<String, Value>) -> Self {
        let mut out = Self {
            retry_after_seconds: object.get("retryAfterSeconds").and_then(Value::as_f64),
            ..Self::default()
        };
        let top_message = non_empty(object.get("message"));
        match object.get("error") {
            Some(Value::Object(error)) => {
                out.code = non_empty(error.get("code")).or_else(|| non_empty(error.get("type")));
                out.message = non_empty(error.get("message")).or(top_message);
                if let Some(details) = error.get("details").and_then(Value::as_object) {
                    out.field_errors = field_errors(details);
                }
                if out.retry_after_seconds.is_none() {
                    out.retry_after_seconds =
                        error.get("retryAfterSeconds").and_then(Value::as_f64);
                }
            }
            Some(Value::String(error)) => {
                // `{"error":"concurrency_limit_exceeded","message":…}` carries a code;
                // `{"error":"Rate limit exceeded","message":…}` and the legacy
                // `{"error":"<message>"}` carry prose.
                let looks_like_code = !error.is_empty()
                    && error
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
                if looks_like_code && top_message.is_some() {
                    out.code = Some(error.clone());
                    out.message = top_message;
                } else {
                    out.message = top_message.or_else(|| Some(error.clone()));
                }
            }
            _ => {
                out.message = top_message.or_else(|| non_empty(object.get("detail")));
            }
        }
        out
    }
}

/// Builds the error for an HTTP error answer.
///
/// `now` resolves a `Retry-After` HTTP date when the response has no `Date` header.
/// `secret`, when given, is scrubbed from every text of the error (message, code, field
/// errors, request id, kept body): a server that echoes the key back must not make the SDK
/// leak it.
pub(crate) fn api_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: Option<SystemTime>,
    secret: Option<&str>,
) -> Error {
    let parsed = ErrorBody::parse(body);
    let retry_after = retry_after_from(headers, parsed.retry_after_seconds, now);
    let retryable = status_is_retryable(status, headers, parsed.code.as_deref());
    let request_id = request_id(headers);
    let error = Error::api(status, parsed, request_id, retry_after, retryable);
    match secret {
        Some(secret) => error.redacted(secret),
        None => error,
    }
}

/// Whether an answer with this status could succeed if sent again (docs/PROTOCOL.md §5), with the
/// server's `x-should-retry` header taking precedence and quota codes never retried.
pub(crate) fn status_is_retryable(
    status: StatusCode,
    headers: &HeaderMap,
    code: Option<&str>,
) -> bool {
    if code.is_some_and(|code| QUOTA_CODES.contains(&code)) {
        return false;
    }
    match headers
        .get("x-should-retry")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        Some("true") => return true,
        Some("false") => return false,
        _ => {}
    }
    matches!(
        status.as_u16(),
        408 | 429 | 500 | 502 | 503 | 504 | 520..=530
    )
}

/// The server's request id header, if any.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The start of a body as text, cut at a character boundary, with `…` when cut.
pub(crate) fn snippet(body: &[u8]) -> String {
    if body.len() <= MAX_BODY_SNIPPET {
        return String::from_utf8_lossy(body).into_owned();
    }
    let mut text = String::from_utf8_lossy(&body[..MAX_BODY_SNIPPET]).into_owned();
    // A multi-byte character cut in half decodes as U+FFFD at the end: drop it.
    if text.ends_with('\u{fffd}') {
        text.pop();
    }
    text.push('…');
    text
}

fn non_empty(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn field_errors(details: &Map<String, Value>) -> Vec<FieldError> {
    let mut out = Vec::new();
    if let Some(fields) = details.get("fieldErrors").and_then(Value::as_object) {
        for (field, messages) in fields {
            let messages = strings(messages);
            if !messages.is_empty() {
                out.push(FieldError {
                    field: field.clone(),
                    messages,
                });
            }
        }
    }
    if let Some(form) = details.get("formErrors") {
        let messages = strings(form);
        if !messages.is_empty() {
            out.push(FieldError {
                field: String::new(),
                messages,
            });
        }
    }
    out
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// A one-line message from a non-JSON body: an HTML `<title>`, else the first non-blank line.
fn text_message(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_BODY_SNIPPET)]);
    let lower = text.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>")) {
        let title = text.get(start + "<title>".len()..end).map(str::trim);
        if let Some(title) = title.filter(|t| !t.is_empty()) {
            return Some(title.to_owned());
        }
    }
    if lower.trim_start().starts_with('<') {
        return None;
    }
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(|line| line.chars().take(200).collect())
}
