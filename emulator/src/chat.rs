//! `POST /v1/chat/completions` (and the legacy `POST /openai`): the OpenAI chat answer as
//! JSON, or as server-sent events when `"stream": true`.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use crate::auth;
use crate::cache::{Answer, CacheKey};
use crate::chat_request::{self, ChatRequest};
use crate::errors::{ApiError, Validation};
use crate::hash::StableHasher;
use crate::params::{Query, check_safe};
use crate::pipeline;
use crate::reply;
use crate::sse;
use crate::state::AppState;

/// The handler.
pub(crate) async fn completions(
    app: Arc<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let app: &AppState = &app;
    let (parts, body) = request.into_parts();
    let query = Query::parse(parts.uri.query());
    let key = auth::authenticate(&parts.headers, &query)?;
    check_safe_header(&parts.headers)?;
    let bytes = pipeline::read_body(&parts.headers, body).await?;
    let json = pipeline::parse_json(&bytes)?;
    let chat = chat_request::parse(&json)?;
    if chat.stream {
        pipeline::charge(app, &key)?;
        let reply = reply::compose(&chat, content_seed(app, &chat), app.next_generation());
        return Ok(sse::chat_response(&reply, app.config.stream_chunk_delay));
    }
    let cache_key = CacheKey::new(&parts.method, parts.uri.path(), &query, Some(&json));
    let no_cache = pipeline::wants_no_cache(&query);
    pipeline::cached(app, &key, cache_key, no_cache, || async {
        let reply = reply::compose(&chat, content_seed(app, &chat), app.next_generation());
        Ok(Answer {
            content_type: HeaderValue::from_static("application/json; charset=utf-8"),
            headers: reply.headers(),
            body: Bytes::from(reply.to_json().to_string()),
            is_text: true,
        })
    })
    .await
}

/// The seed of a chat answer: the request's fingerprint and the emulator seed, plus a
/// fresh number when the request asks for a random answer (`seed: -1`).
pub(crate) fn content_seed(app: &AppState, chat: &ChatRequest) -> u64 {
    let random = if chat.seed == Some(-1) {
        app.next_generation()
    } else {
        0
    };
    StableHasher::new()
        .u64(chat.fingerprint)
        .u64(app.config.seed)
        .u64(random)
        .finish()
}

/// Validates the `Pollinations-Safe` header (docs/PROTOCOL.md §6).
///
/// Fails with 400 for an unknown token.
pub(crate) fn check_safe_header(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get("pollinations-safe") else {
        return Ok(());
    };
    let mut v = Validation::new();
    match value.to_str() {
        Ok(text) => {
            if let Err(message) = check_safe(text) {
                v.add("Pollinations-Safe", message);
            }
        }
        Err(_) => v.add("Pollinations-Safe", "Invalid input: expected ASCII text"),
    }
    v.finish("Header validation failed")
}
