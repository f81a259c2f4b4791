//! The one error type of the SDK.
//!
//! Every failure, from a prompt rejected before sending to a stream cut off half way, is an
//! [`Error`]. Its `Display` text is for people and is not an API; programs ask it questions
//! instead: [`Error::kind`], [`Error::status`], [`Error::code`], [`Error::retry_after`],
//! [`Error::request_id`], [`Error::field_errors`], [`Error::is_retryable`].
//!
//! Errors are cheap to clone (one `Arc`), so one failed network call can be handed to every
//! caller that was waiting on it.

mod body;
mod retry_after;
mod transport;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use crate::secret::scrub_cut;

pub(crate) use body::{ErrorBody, api_error};
pub use retry_after::retry_after_from;
pub use transport::{TransportError, TransportErrorKind};

/// What went wrong, broadly. Match on it with a wildcard arm: new kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was invalid and was not sent (empty prompt, out-of-range value, …).
    InvalidInput,
    /// The client is misconfigured (bad base URL, a key over plain HTTP, …).
    Config,
    /// The server answered with an HTTP error status; see [`Error::status`] and [`Error::code`].
    Api,
    /// The request did not complete at the network level (connect, reset, TLS, IO).
    Transport,
    /// The call ran out of time.
    Timeout,
    /// The server answered success but the body could not be decoded.
    Decode,
    /// A streamed answer failed after it started: an error event or a cut-off stream.
    Stream,
    /// The circuit breaker for this endpoint is open; [`Error::retry_after`] says when the
    /// next probe is allowed.
    CircuitOpen,
    /// The client's own rate limiter could not admit the call before its deadline;
    /// [`Error::retry_after`] says how long it would have waited.
    RateLimited,
    /// The call was cancelled before it finished.
    Cancelled,
    /// The client is shutting down: the call was refused, or cancelled when the grace period
    /// ended.
    Shutdown,
}

impl ErrorKind {
    fn label(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid input",
            Self::Config => "configuration error",
            Self::Api => "API error",
            Self::Transport => "transport error",
            Self::Timeout => "timeout",
            Self::Decode => "decode error",
            Self::Stream => "stream error",
            Self::CircuitOpen => "circuit open",
            Self::RateLimited => "rate limited by the client",
            Self::Cancelled => "cancelled",
            Self::Shutdown => "shut down",
        }
    }

    /// A short stable name (`"invalid_input"`, `"api"`, …) for logs, metrics and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Config => "config",
            Self::Api => "api",
            Self::Transport => "transport",
            Self::Timeout => "timeout",
            Self::Decode => "decode",
            Self::Stream => "stream",
            Self::CircuitOpen => "circuit_open",
            Self::RateLimited => "rate_limited",
            Self::Cancelled => "cancelled",
            Self::Shutdown => "shutdown",
        }
    }
}

/// One field the server (or the SDK's own validation) rejected, with its messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field path, e.g. `messages` or `temperature`; empty for form-level errors.
    pub field: String,
    /// Human-readable reasons.
    pub messages: Vec<String>,
}

/// An SDK error. See the [module documentation](self).
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<StatusCode>,
    code: Option<String>,
    field_errors: Vec<FieldError>,
    retry_after: Option<Duration>,
    request_id: Option<String>,
    body: Option<String>,
    retryable: bool,
    attempts: u32,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    fn simple(kind: ErrorKind, message: String, retryable: bool) -> Self {
        Self::from_inner(Inner {
            kind,
            message,
            status: None,
            code: None,
            field_errors: Vec::new(),
            retry_after: None,
            request_id: None,
            body: None,
            retryable,
            attempts: 0,
            source: None,
        })
    }

    /// An input rejected before sending. `field` names what was wrong.
    pub fn invalid_input(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut error = Self::simple(ErrorKind::InvalidInput, message.clone(), false);
        if let Some(inner) = Arc::get_mut(&mut error.inner) {
            inner.field_errors.push(FieldError {
                field: field.to_owned(),
                messages: vec![message],
            });
        }
        error
    }

    /// A configuration problem.
    pub fn config(message: impl Into<String>) -> Self {
        Self::simple(ErrorKind::Config, message.into(), false)
    }

    /// A call that ran out of time (its deadline or timeout passed).
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::simple(ErrorKind::Timeout, message.into(), false)
    }

    /// Content that is not what was expected (an answer that is not the JSON asked for, tool
    /// arguments that do not parse). Keeps a truncated copy of the text. Not retryable.
    pub fn decode(message: impl Into<String>, body: &[u8]) -> Self {
        Self::decode_with(message.into(), body, false)
    }

    /// A success answer whose body is malformed on the wire (cut JSON, not an image at all).
    /// Retryable: a corrupted answer is usually a passing fault.
    pub(crate) fn malformed(message: impl Into<String>, body: &[u8]) -> Self {
        Self::decode_with(message.into(), body, true)
    }

    fn decode_with(message: String, body: &[u8], retryable: bool) -> Self {
        let mut error = Self::simple(ErrorKind::Decode, message, retryable);
        if let Some(inner) = Arc::get_mut(&mut error.inner) {
            inner.body = (!body.is_empty()).then(|| body::snippet(body));
        }
        error
    }

    /// A stream that failed after it started. Never retryable: output already reached the caller.
    pub fn stream(message: impl Into<String>) -> Self {
        Self::simple(ErrorKind::Stream, message.into(), false)
    }

    /// An error event inside a stream, with the server's code when it gave one.
    pub fn stream_event(code: Option<String>, message: impl Into<String>) -> Self {
        let mut error = Self::stream(message);
        if let Some(inner) = Arc::get_mut(&mut error.inner) {
            inner.code = code;
        }
        error
    }

    /// A stream whose connection failed after output started. Keeps the transport error as
    /// its source; never retryable (the caller already has part of the answer).
    pub fn stream_interrupted(error: TransportError) -> Self {
        let mut out = Self::stream(format!("the stream was interrupted: {error}"));
        if let Some(inner) = Arc::get_mut(&mut out.inner) {
            inner.source = Some(Arc::new(error));
        }
        out
    }

    /// A call failed fast because the endpoint's breaker is open; `retry_in` is the time until
    /// the next probe, when known.
    pub fn circuit_open(endpoint: &str, retry_in: Option<Duration>) -> Self {
        let message = match retry_in {
            Some(wait) => format!(
                "the {endpoint} endpoint is failing; the circuit breaker is open for another {:.1}s",
                wait.as_secs_f64()
            ),
            None => {
                format!("the {endpoint} endpoint is failing; the circuit breaker is probing it")
            }
        };
        let mut error = Self::simple(ErrorKind::CircuitOpen, message, true);
        if let Some(inner) = Arc::get_mut(&mut error.inner) {
            inner.retry_after = retry_in;
        }
        error
    }

    /// The client's limiter would hold the call past its deadline.
    pub fn rate_limited(wait: Duration) -> Self {
        let message = format!(
            "the client's rate limiter would hold this call {:.3}s, past its deadline",
            wait.as_secs_f64()
        );
        let mut error = Self::simple(ErrorKind::RateLimited, message, true);
        if let Some(inner) = Arc::get_mut(&mut error.inner) {
            inner.retry_after = Some(wait);
        }
        error
    }

    /// A call cancelled before it finished.
    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::simple(ErrorKind::Cancelled, message.into(), false)
    }

    /// A call refused or cancelled by shutdown.
    pub fn shutdown(message: impl Into<String>) -> Self {
        Self::simple(ErrorKind::Shutdown, message.into(), false)
    }

    /// A network-level failure.
    pub fn transport(error: TransportError) -> Self {
        let kind = if error.kind() == TransportErrorKind::Timeout {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        };
        let retryable = error.is_retryable();
        let message = error.to_string();
        let mut out = Self::simple(kind, message, retryable);
        if let Some(inner) = Arc::get_mut(&mut out.inner) {
            inner.source = Some(Arc::new(error));
        }
        out
    }

    /// An HTTP error answer, decoded from its status, headers and (possibly truncated) body.
    /// `retry_after` is the delay the server asked for, already resolved from headers or body.
    pub(crate) fn api(
        status: StatusCode,
        body: ErrorBody,
        request_id: Option<String>,
        retry_after: Option<Duration>,
        retryable: bool,
    ) -> Self {
        let message = body.message.unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("unrecognised status")
                .to_owned()
        });
        Self::from_inner(Inner {
            kind: ErrorKind::Api,
            message,
            status: Some(status),
            code: body.code,
            field_errors: body.field_errors,
            retry_after,
            request_id,
            body: body.raw,
            retryable,
            attempts: 0,
            source: None,
        })
    }

    /// The broad category.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The human-readable message (the server's, when it sent one).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The HTTP status, for [`ErrorKind::Api`] errors.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The server's error code (`BAD_REQUEST`, `RATE_LIMITED`, `content_blocked`, …).
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// Per-field validation errors, from the server's `details.fieldErrors` or the SDK's own checks.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.inner.field_errors
    }

    /// How long the server asked the client to wait before trying again
    /// (`retry-after-ms`, `Retry-After` seconds or date, or the body's `retryAfterSeconds`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The server's `X-Request-Id`, to quote in a support request.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The start of the raw response body (at most a few KiB), when there was one.
    pub fn body(&self) -> Option<&str> {
        self.inner.body.as_deref()
    }

    /// Whether another attempt of the same request could succeed (5xx, 429, 408, resets, …).
    pub fn is_retryable(&self) -> bool {
        self.inner.retryable
    }

    /// Whether the server said "too many requests" (HTTP 429).
    pub fn is_rate_limited(&self) -> bool {
        self.inner.status == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// How many attempts the call made before giving up (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// The transport failure behind a [`ErrorKind::Transport`] or timeout error.
    pub fn transport_error(&self) -> Option<&TransportError> {
        self.inner
            .source
            .as_deref()
            .and_then(|source| source.downcast_ref::<TransportError>())
    }

    /// The same error with every text that could carry `secret` scrubbed of it: message,
    /// code, field errors, request id and kept body. A server that echoes the key back, in
    /// any field, must not make the SDK show or write it.
    pub(crate) fn redacted(self, secret: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        self.map_inner(|inner| {
            scrub_cut(&mut inner.message, secret);
            for text in [&mut inner.code, &mut inner.request_id, &mut inner.body]
                .into_iter()
                .flatten()
            {
                scrub_cut(text, secret);
            }
            for field in &mut inner.field_errors {
                scrub_cut(&mut field.field, secret);
                for message in &mut field.messages {
                    scrub_cut(message, secret);
                }
            }
        })
    }

    /// The same error with the number of attempts recorded.
    pub(crate) fn with_attempts(self, attempts: u32) -> Self {
        self.map_inner(|inner| inner.attempts = attempts)
    }

    /// The same error with the server's request id recorded, if it had none.
    pub(crate) fn with_request_id(self, request_id: Option<String>) -> Self {
        match request_id {
            Some(id) if self.inner.request_id.is_none() => {
                self.map_inner(|inner| inner.request_id = Some(id))
            }
            _ => self,
        }
    }

    fn map_inner(mut self, change: impl FnOnce(&mut Inner)) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => {
                change(inner);
                self
            }
            None => {
                let inner = &*self.inner;
                let mut copy = Inner {
                    kind: inner.kind,
                    message: inner.message.clone(),
                    status: inner.status,
                    code: inner.code.clone(),
                    field_errors: inner.field_errors.clone(),
                    retry_after: inner.retry_after,
                    request_id: inner.request_id.clone(),
                    body: inner.body.clone(),
                    retryable: inner.retryable,
                    attempts: inner.attempts,
                    source: inner.source.clone(),
                };
                change(&mut copy);
                Self::from_inner(copy)
            }
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let mut out = f.debug_struct("Error");
        out.field("kind", &inner.kind);
        if let Some(status) = inner.status {
            out.field("status", &status.as_u16());
        }
        if let Some(code) = &inner.code {
            out.field("code", code);
        }
        out.field("message", &inner.message);
        if !inner.field_errors.is_empty() {
            out.field("field_errors", &inner.field_errors);
        }
        if let Some(delay) = inner.retry_after {
            out.field("retry_after", &delay);
        }
        if let Some(id) = &inner.request_id {
            out.field("request_id", id);
        }
        out.field("retryable", &inner.retryable);
        if inner.attempts > 0 {
            out.field("attempts", &inner.attempts);
        }
        if let Some(source) = &inner.source {
            out.field("source", source);
        }
        out.finish()
    }
}

/// Writes `text` on one line: each run of line breaks (with the blanks around it) becomes one
/// space, so a multi-line server message still prints as one line.
fn one_line(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    if let Some(first) = lines.next() {
        f.write_str(first)?;
    }
    for line in lines {
        f.write_str(" ")?;
        f.write_str(line)?;
    }
    Ok(())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.write_str(inner.kind.label())?;
        if let Some(status) = inner.status {
            write!(f, " (HTTP {}", status.as_u16())?;
            if let Some(code) = &inner.code {
                f.write_str(" ")?;
                one_line(f, code)?;
            }
            f.write_str(")")?;
        } else if let Some(code) = &inner.code {
            f.write_str(" (")?;
            one_line(f, code)?;
            f.write_str(")")?;
        }
        f.write_str(": ")?;
        one_line(f, &inner.message)?;
        for field in &inner.field_errors {
            if field.messages.iter().any(|m| *m != inner.message) {
                let label = if field.field.is_empty() {
                    "request"
                } else {
                    &field.field
                };
                f.write_str("; ")?;
                one_line(f, label)?;
                f.write_str(": ")?;
                one_line(f, &field.messages.join(", "))?;
            }
        }
        if let Some(delay) = inner.retry_after {
            write!(f, "; retry after {:.3}s", delay.as_secs_f64())?;
        }
        if let Some(id) = &inner.request_id {
            f.write_str(" [request id ")?;
            one_line(f, id)?;
            f.write_str("]")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests;
