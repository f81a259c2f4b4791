//! Table tests: every error body shape of docs/PROTOCOL.md §5, and the secret-scrubbing rule.

use std::time::Duration;

use http::{HeaderMap, StatusCode};

use super::body::{MAX_BODY_SNIPPET, api_error};
use super::*;
use crate::testing::headers;

struct Case {
    name: &'static str,
    status: u16,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    code: Option<&'static str>,
    message: &'static str,
    retryable: bool,
    retry_after: Option<Duration>,
}

const ENVELOPE: &str = r#"{"status":400,"success":false,"error":{"code":"BAD_REQUEST","message":"JSON body validation failed","timestamp":"2026-01-01T00:00:00.000Z","details":{"name":"ValidationError","formErrors":["bad form"],"fieldErrors":{"messages":["Invalid input: expected array, received undefined"]}}}}"#;

#[test]
fn every_body_shape_decodes() {
    let cases = [
        Case {
            name: "envelope 400",
            status: 400,
            headers: &[("x-request-id", "req_1")],
            body: ENVELOPE,
            code: Some("BAD_REQUEST"),
            message: "JSON body validation failed",
            retryable: false,
            retry_after: None,
        },
        Case {
            name: "unknown model",
            status: 400,
            headers: &[],
            body: r#"{"status":400,"success":false,"error":{"code":"BAD_REQUEST","message":"Invalid model or alias: \"x\""}}"#,
            code: Some("BAD_REQUEST"),
            message: "Invalid model or alias: \"x\"",
            retryable: false,
            retry_after: None,
        },
        Case {
            name: "unauthorized",
            status: 401,
            headers: &[],
            body: r#"{"status":401,"success":false,"error":{"code":"UNAUTHORIZED","message":"Authentication required"}}"#,
            code: Some("UNAUTHORIZED"),
            message: "Authentication required",
            retryable: false,
            retry_after: None,
        },
        Case {
            name: "pk 429",
            status: 429,
            headers: &[],
            body: r#"{"error":"Rate limit exceeded","message":"Rate limit exceeded. Retry after 12.34s. Use a secret key.","retryAfterSeconds":12.34}"#,
            code: None,
            message: "Rate limit exceeded. Retry after 12.34s. Use a secret key.",
            retryable: true,
            retry_after: Some(Duration::from_secs_f64(12.34)),
        },
        Case {
            name: "concurrency 429",
            status: 429,
            headers: &[("retry-after", "1")],
            body: r#"{"error":"concurrency_limit_exceeded","message":"One generation at a time"}"#,
            code: Some("concurrency_limit_exceeded"),
            message: "One generation at a time",
            retryable: true,
            retry_after: Some(Duration::from_secs(1)),
        },
        Case {
            name: "legacy 402",
            status: 402,
            headers: &[],
            body: r#"{"error":"Insufficient pollen balance","status":402}"#,
            code: None,
            message: "Insufficient pollen balance",
            retryable: false,
            retry_after: None,
        },
        Case {
            name: "safety",
            status: 400,
            headers: &[],
            body: r#"{"error":{"type":"safety_error","code":"content_blocked","message":"Blocked by the safety filter"}}"#,
            code: Some("content_blocked"),
            message: "Blocked by the safety filter",
            retryable: false,
            retry_after: None,
        },
        Case {
            name: "openai style without code",
            status: 500,
            headers: &[],
            body: r#"{"error":{"type":"server_error","message":"boom"}}"#,
            code: Some("server_error"),
            message: "boom",
            retryable: true,
            retry_after: None,
        },
        Case {
            name: "edge html",
            status: 522,
            headers: &[],
            body: "<!DOCTYPE html><html><head><title>Connection timed out | gen.pollinations.ai</title></head><body>…</body></html>",
            code: None,
            message: "Connection timed out | gen.pollinations.ai",
            retryable: true,
            retry_after: None,
        },
        Case {
            name: "plain text",
            status: 502,
            headers: &[],
            body: "\n upstream connect error\nsecond line",
            code: None,
            message: "upstream connect error",
            retryable: true,
            retry_after: None,
        },
        Case {
            name: "empty body",
            status: 503,
            headers: &[("retry-after", "5")],
            body: "",
            code: None,
            message: "Service Unavailable",
            retryable: true,
            retry_after: Some(Duration::from_secs(5)),
        },
        Case {
            name: "quota code on a retryable status",
            status: 429,
            headers: &[],
            body: r#"{"status":429,"success":false,"error":{"code":"KEY_BUDGET_EXHAUSTED","message":"Budget exhausted"}}"#,
            code: Some("KEY_BUDGET_EXHAUSTED"),
            message: "Budget exhausted",
            retryable: false,
            retry_after: None,
        },
        Case {
            name: "x-should-retry false wins",
            status: 503,
            headers: &[("x-should-retry", "false")],
            body: "{}",
            code: None,
            message: "Service Unavailable",
            retryable: false,
            retry_after: None,
        },
        Case {
            name: "x-should-retry true wins",
            status: 400,
            headers: &[("x-should-retry", "true")],
            body: "{}",
            code: None,
            message: "Bad Request",
            retryable: true,
            retry_after: None,
        },
        Case {
            name: "json that is not an object",
            status: 500,
            headers: &[],
            body: "[1,2]",
            code: None,
            message: "[1,2]",
            retryable: true,
            retry_after: None,
        },
    ];
    for case in cases {
        let status = StatusCode::from_u16(case.status).unwrap();
        let error = api_error(
            status,
            &headers(case.headers),
            case.body.as_bytes(),
            None,
            None,
        );
        assert_eq!(error.kind(), ErrorKind::Api, "{}", case.name);
        assert_eq!(error.status(), Some(status), "{}", case.name);
        assert_eq!(error.code(), case.code, "{}", case.name);
        assert_eq!(error.message(), case.message, "{}", case.name);
        assert_eq!(error.is_retryable(), case.retryable, "{}", case.name);
        assert_eq!(error.retry_after(), case.retry_after, "{}", case.name);
        if !case.body.is_empty() {
            assert!(error.body().is_some(), "{}", case.name);
        }
    }
}

#[test]
fn retryable_statuses_match_the_protocol_table() {
    for status in 400..=599u16 {
        let error = api_error(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            b"",
            None,
            None,
        );
        let expected = matches!(status, 408 | 429 | 500 | 502 | 503 | 504 | 520..=530);
        assert_eq!(error.is_retryable(), expected, "{status}");
    }
}

#[test]
fn envelope_keeps_field_errors_and_request_id() {
    let error = api_error(
        StatusCode::BAD_REQUEST,
        &headers(&[("x-request-id", "req_42")]),
        ENVELOPE.as_bytes(),
        None,
        None,
    );
    assert_eq!(error.request_id(), Some("req_42"));
    assert_eq!(
        error.field_errors(),
        &[
            FieldError {
                field: "messages".into(),
                messages: vec!["Invalid input: expected array, received undefined".into()],
            },
            FieldError {
                field: String::new(),
                messages: vec!["bad form".into()],
            },
        ]
    );
    let text = error.to_string();
    assert!(text.contains("HTTP 400 BAD_REQUEST"), "{text}");
    assert!(text.contains("messages: Invalid input"), "{text}");
    assert!(text.contains("req_42"), "{text}");
}

#[test]
fn long_bodies_are_truncated() {
    let body = "é".repeat(MAX_BODY_SNIPPET);
    let error = api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        &HeaderMap::new(),
        body.as_bytes(),
        None,
        None,
    );
    let kept = error.body().unwrap();
    assert!(kept.len() <= MAX_BODY_SNIPPET + '…'.len_utf8());
    assert!(kept.ends_with('…'));
    assert!(!kept.contains('\u{fffd}'));
}

/// Regression: a server that echoes the key in its error must not make the SDK print it.
#[test]
fn echoed_key_is_scrubbed() {
    let key = "sk_LEAKleakLEAKleakLEAKleak012345";
    let body = format!(r#"{{"error":{{"code":"UNAUTHORIZED","message":"unknown key {key}"}}}}"#);
    let error = api_error(
        StatusCode::UNAUTHORIZED,
        &HeaderMap::new(),
        body.as_bytes(),
        None,
        Some(key),
    );
    for text in [
        error.to_string(),
        format!("{error:?}"),
        error.body().unwrap().to_owned(),
    ] {
        assert!(!text.contains("LEAK"), "{text}");
    }
    assert!(error.message().contains("[redacted]"));
}

#[test]
fn invalid_input_names_the_field() {
    let error = Error::invalid_input("temperature", "temperature must be within 0..=2, got 3");
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(!error.is_retryable());
    assert_eq!(error.field_errors()[0].field, "temperature");
    assert_eq!(
        error.to_string(),
        "invalid input: temperature must be within 0..=2, got 3"
    );
}

#[test]
fn transport_errors_keep_their_cause() {
    let cause = TransportError::new(TransportErrorKind::ResetBeforeResponse, "reset by peer");
    let error = Error::transport(cause);
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(error.is_retryable());
    assert_eq!(
        error.transport_error().map(TransportError::kind),
        Some(TransportErrorKind::ResetBeforeResponse)
    );
    assert!(std::error::Error::source(&error).is_some());
    let timeout = Error::transport(TransportError::new(TransportErrorKind::Timeout, "30 s"));
    assert_eq!(timeout.kind(), ErrorKind::Timeout);
}
