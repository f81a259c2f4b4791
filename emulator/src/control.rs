//! The emulator's own routes, for tests driving it over HTTP (never counted, never
//! faulted):
//!
//! - `GET /__emulator/stats`: the [`Stats`](crate::Stats) as JSON;
//! - `POST /__emulator/reset`: zero the stats (204);
//! - `GET /__emulator/faults`: the fault spec in force, as text;
//! - `POST /__emulator/faults`: replace it with the spec in the body (an empty body is no
//!   faults); answers the canonical spec, or 400 with the parse error.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::errors::{ApiError, FieldErrors};
use crate::faults::FaultSpec;
use crate::pipeline;
use crate::state::AppState;

/// `GET /__emulator/stats`.
pub(crate) async fn stats(State(app): State<Arc<AppState>>) -> Response {
    let body = serde_json::to_string(&app.stats()).unwrap_or_else(|_| "{}".to_owned());
    with_type(body.into_response(), "application/json; charset=utf-8")
}

/// `POST /__emulator/reset`.
pub(crate) async fn reset(State(app): State<Arc<AppState>>) -> Response {
    app.reset_stats();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /__emulator/faults`.
pub(crate) async fn faults(State(app): State<Arc<AppState>>) -> Response {
    spec_answer(&app.faults())
}

/// `POST /__emulator/faults`.
pub(crate) async fn set_faults(State(app): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match pipeline::read_body(&parts.headers, body).await {
        Ok(bytes) => bytes,
        Err(error) => return error.into_response(),
    };
    let parsed = std::str::from_utf8(&bytes)
        .map_err(|_| "the spec must be UTF-8 text".to_owned())
        .and_then(|text| text.parse::<FaultSpec>().map_err(|e| e.to_string()));
    match parsed {
        Ok(spec) => {
            let answer = spec_answer(&spec);
            app.set_faults(spec);
            answer
        }
        Err(message) => {
            let mut fields = FieldErrors::new();
            fields.insert("faults".to_owned(), vec![message]);
            ApiError::validation("Invalid fault spec", fields).into_response()
        }
    }
}

fn spec_answer(spec: &FaultSpec) -> Response {
    with_type(
        spec.to_string().into_response(),
        "text/plain; charset=utf-8",
    )
}

fn with_type(mut response: Response, content_type: &'static str) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
