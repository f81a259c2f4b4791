//! The service's error envelope (docs/PROTOCOL.md §5) and the validation error collector.
//!
//! Every error the emulator answers, except the `pk_` rate-limit body (its own shape, see
//! [`crate::ratelimit`]), is
//! `{"status","success":false,"error":{"code","message","timestamp","details"?}}`, where
//! `details` appears for validation failures as
//! `{"name":"ValidationError","formErrors":[],"fieldErrors":{field:[messages]}}`.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::clock;

/// Validation messages keyed by top-level field name, like zod's `flatten()`.
pub(crate) type FieldErrors = BTreeMap<String, Vec<String>>;

/// An error answer. Built by handlers, rendered by `IntoResponse`: the envelope, or the
/// publishable-key 429 body for [`ApiError::pk_rate_limited`].
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    form_errors: Vec<String>,
    field_errors: Option<FieldErrors>,
    /// Set for 429: the `Retry-After` header (rounded up) and `retryAfterSeconds`.
    retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with an explicit status, code and message.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            form_errors: Vec::new(),
            field_errors: None,
            retry_after: None,
        }
    }

    /// 400 `BAD_REQUEST` with a message only.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// 400 `BAD_REQUEST` with `details.fieldErrors`.
    pub(crate) fn validation(message: impl Into<String>, field_errors: FieldErrors) -> Self {
        ApiError {
            field_errors: Some(field_errors),
            ..Self::bad_request(message)
        }
    }

    /// 400 for a model name that is neither a model nor an alias.
    pub(crate) fn invalid_model(name: &str) -> Self {
        let message = format!("Invalid model or alias: \"{name}\"");
        let mut fields = FieldErrors::new();
        fields.insert("model".to_owned(), vec![message.clone()]);
        Self::validation(message, fields)
    }

    /// 401 `UNAUTHORIZED`.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    /// 404 `NOT_FOUND` for an unknown route.
    pub(crate) fn not_found(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Route not found: {method} {path}"),
        )
    }

    /// 413 `PAYLOAD_TOO_LARGE` for a body over the limit.
    pub(crate) fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("Request body exceeds the limit of {limit} bytes"),
        )
    }

    /// 500 `INTERNAL_ERROR` (an encoder failed; should not happen).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }

    /// 429 for a publishable key whose bucket is empty, with the service's pk body
    /// `{"error":"Rate limit exceeded","message","retryAfterSeconds"}`.
    pub(crate) fn pk_rate_limited(retry_after: Duration, message: impl Into<String>) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", message)
        }
    }

    /// The HTTP status.
    #[cfg(test)]
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The body as JSON.
    pub(crate) fn to_json(&self) -> Value {
        if let Some(wait) = self.retry_after {
            let seconds = seconds_up_to_hundredths(wait);
            return json!({
                "error": "Rate limit exceeded",
                "message": self.message,
                "retryAfterSeconds": seconds,
            });
        }
        let mut error = json!({
            "code": self.code,
            "message": self.message,
            "timestamp": clock::rfc3339_millis(clock::now_millis()),
        });
        if let (Some(fields), Some(obj)) = (&self.field_errors, error.as_object_mut()) {
            obj.insert(
                "details".to_owned(),
                json!({
                    "name": "ValidationError",
                    "formErrors": self.form_errors,
                    "fieldErrors": fields,
                }),
            );
        }
        json!({"status": self.status.as_u16(), "success": false, "error": error})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.to_json().to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(wait) = self.retry_after {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

/// Seconds rounded *up* to hundredths (1.231 s → 1.24): waiting the announced time is
/// always enough. Integer arithmetic, so 1.23 s stays 1.23.
pub(crate) fn seconds_up_to_hundredths(wait: Duration) -> f64 {
    let hundredths = wait.as_nanos().div_ceil(10_000_000);
    u32::try_from(hundredths).map_or(f64::MAX, f64::from) / 100.0
}

/// Collects field errors, then turns into one [`ApiError::validation`] if any were found.
#[derive(Debug, Default)]
pub(crate) struct Validation {
    form: Vec<String>,
    errors: FieldErrors,
}

impl Validation {
    /// An empty collector.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Records a message for a top-level field.
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// Records an error about the whole input (zod's `formErrors`).
    pub(crate) fn form(&mut self, message: impl Into<String>) {
        self.form.push(message.into());
    }

    /// Whether nothing was recorded so far.
    pub(crate) fn is_empty(&self) -> bool {
        self.form.is_empty() && self.errors.is_empty()
    }

    /// `Ok` when nothing was recorded, else the 400 envelope with `message`.
    pub(crate) fn finish(self, message: &str) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError {
                form_errors: self.form,
                ..ApiError::validation(message, self.errors)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_envelope_has_the_service_shape() {
        let mut v = Validation::new();
        v.add(
            "messages",
            "Invalid input: expected array, received undefined",
        );
        let err = v.finish("JSON body validation failed").unwrap_err();
        let json = err.to_json();
        assert_eq!(json["status"], 400);
        assert_eq!(json["success"], false);
        assert_eq!(json["error"]["code"], "BAD_REQUEST");
        assert_eq!(json["error"]["details"]["name"], "ValidationError");
        assert_eq!(json["error"]["details"]["formErrors"], json!([]));
        assert_eq!(
            json["error"]["details"]["fieldErrors"]["messages"][0],
            "Invalid input: expected array, received undefined"
        );
        let ts = json["error"]["timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), 24);
        assert!(ts.ends_with('Z'));
    }

    #[test]
    fn pk_rate_limit_body_and_header() {
        let err = ApiError::pk_rate_limited(Duration::from_millis(1231), "Rate limit exceeded.");
        assert_eq!(err.status(), StatusCode::TOO_MANY_REQUESTS);
        let json = err.to_json();
        assert_eq!(json["error"], "Rate limit exceeded");
        assert_eq!(json["retryAfterSeconds"], 1.24);
        let response = err.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }

    #[test]
    fn plain_errors_have_no_details() {
        let json = ApiError::unauthorized("no key").to_json();
        assert_eq!(json["status"], 401);
        assert_eq!(json["error"]["code"], "UNAUTHORIZED");
        assert!(json["error"].get("details").is_none());
    }
}
