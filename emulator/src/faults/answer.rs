//! The answers of injected status faults, as the service sends them (docs/PROTOCOL.md §5): the
//! JSON error envelope with the status's code, or for 520–530 an HTML page from the CDN
//! edge. A 429 always carries `Retry-After` (1 s unless `retry_after` says otherwise), a
//! 503 only when `retry_after` is given; both as whole seconds rounded up, plus
//! `retry-after-ms` with the exact milliseconds.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use super::header::HEADER;
use crate::errors::ApiError;
use crate::hash::StableHasher;

/// The wait a 429 announces when the spec gives none.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);

/// The answer for an injected `code`.
pub(crate) fn status(code: u16, retry_after: Option<Duration>, request_number: u64) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = if (520..=530).contains(&code) {
        edge_page(status, request_number)
    } else {
        let (error_code, message) = describe(code);
        ApiError::new(status, error_code, message).into_response()
    };
    let wait = match code {
        429 => Some(retry_after.unwrap_or(DEFAULT_RATE_LIMIT_WAIT)),
        503 => retry_after,
        _ => None,
    };
    let headers = response.headers_mut();
    if let Some(wait) = wait {
        let millis = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(millis.div_ceil(1000)),
        );
        headers.insert("retry-after-ms", HeaderValue::from(millis));
    }
    headers.insert(HEADER, HeaderValue::from(code));
    response
}

/// The envelope's `error.code` and message for a status.
fn describe(code: u16) -> (&'static str, &'static str) {
    match code {
        408 => (
            "REQUEST_TIMEOUT",
            "The request took too long to arrive (injected fault)",
        ),
        429 => (
            "RATE_LIMITED",
            "Too many requests, retry after the announced delay (injected fault)",
        ),
        500 => ("INTERNAL_ERROR", "Internal server error (injected fault)"),
        501 => ("NOT_IMPLEMENTED", "Not implemented (injected fault)"),
        502 => (
            "BAD_GATEWAY",
            "The upstream provider failed to answer (injected fault)",
        ),
        503 => (
            "SERVICE_UNAVAILABLE",
            "The service is temporarily unavailable (injected fault)",
        ),
        504 => (
            "GATEWAY_TIMEOUT",
            "The upstream provider timed out (injected fault)",
        ),
        _ => ("INTERNAL_ERROR", "Server error (injected fault)"),
    }
}

/// The edge's own HTML page for 520–530.
fn edge_page(status: StatusCode, request_number: u64) -> Response {
    let code = status.as_u16();
    let title = match code {
        520 => "Web server is returning an unknown error",
        521 => "Web server is down",
        522 => "Connection timed out",
        523 => "Origin is unreachable",
        524 => "A timeout occurred",
        525 => "SSL handshake failed",
        526 => "Invalid SSL certificate",
        _ => "Origin error",
    };
    let ray = StableHasher::new()
        .str("edge-ray")
        .u64(request_number)
        .finish();
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>gen.pollinations.ai | {code}: {title}</title></head>\n\
         <body>\n<h1>Error {code}</h1>\n<h2>{title}</h2>\n\
         <p>The edge could not get a valid answer from the origin server.</p>\n\
         <p>Ray ID: {ray:016x} &bull; injected by blossom-emulator</p>\n</body>\n</html>\n"
    );
    let mut response = (status, page).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn envelopes_carry_the_status_code_names() {
        for (code, name) in [
            (408, "REQUEST_TIMEOUT"),
            (429, "RATE_LIMITED"),
            (500, "INTERNAL_ERROR"),
            (502, "BAD_GATEWAY"),
            (503, "SERVICE_UNAVAILABLE"),
            (504, "GATEWAY_TIMEOUT"),
            (507, "INTERNAL_ERROR"),
        ] {
            let response = status(code, None, 1);
            assert_eq!(response.status().as_u16(), code);
            assert_eq!(response.headers()[HEADER], code.to_string().as_str());
            let json: serde_json::Value = serde_json::from_str(&body(response).await).unwrap();
            assert_eq!(json["status"], code);
            assert_eq!(json["success"], false);
            assert_eq!(json["error"]["code"], name);
        }
    }

    #[test]
    fn retry_after_rounds_up_and_keeps_milliseconds() {
        let r = status(429, None, 1);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert_eq!(r.headers()["retry-after-ms"], "1000");
        let r = status(429, Some(Duration::from_millis(1500)), 1);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        assert_eq!(r.headers()["retry-after-ms"], "1500");
        assert!(
            status(503, None, 1)
                .headers()
                .get(header::RETRY_AFTER)
                .is_none()
        );
        let r = status(503, Some(Duration::from_secs(2)), 1);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        assert!(
            status(500, Some(Duration::from_secs(2)), 1)
                .headers()
                .get(header::RETRY_AFTER)
                .is_none()
        );
    }

    #[tokio::test]
    async fn edge_errors_are_html() {
        let r = status(522, None, 3);
        assert_eq!(r.status().as_u16(), 522);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=UTF-8"
        );
        let page = body(r).await;
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("Error 522"));
    }
}
