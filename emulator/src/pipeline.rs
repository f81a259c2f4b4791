//! The path every generation takes after its handler has parsed and validated it:
//! cache lookup → `pk_` pacing → generate → store → answer with `X-Cache`.
//!
//! Handlers own parsing; this module owns the order of the shared steps. Fault injection
//! wraps handlers from the outside ([`crate::faults`]), so it never reaches this path for
//! a request it answers itself, and it breaks bodies only after the good answer is cached.

use std::future::{Future, poll_fn};
use std::pin::Pin;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http::{HeaderMap, HeaderValue, header};
use serde_json::Value;

use crate::auth::{ApiKey, KeyKind};
use crate::cache::{Answer, CacheKey};
use crate::errors::ApiError;
use crate::ratelimit;
use crate::state::AppState;

/// The request body limit (docs/PROTOCOL.md §3): 20 MiB.
pub(crate) const BODY_LIMIT: usize = 20 * 1024 * 1024;

/// `Cache-Control` of every cacheable answer, hit or miss.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Whether the answer came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CacheStatus {
    Hit,
    Miss,
}

/// Answers from the cache, or charges the key, generates, stores and answers.
///
/// `no_cache` (the `no-cache=true` parameter) skips the lookup but still stores the fresh
/// answer. Fails with the generator's error, or 429 when a `pk_` key is out of tokens.
pub(crate) async fn cached<F, Fut>(
    app: &AppState,
    key: &ApiKey,
    cache_key: CacheKey,
    no_cache: bool,
    generate: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Answer, ApiError>>,
{
    if !no_cache && let Some(answer) = app.cache_get(&cache_key) {
        app.with_stats(|s| s.cache_hits += 1);
        return Ok(render(answer, &cache_key, CacheStatus::Hit));
    }
    charge(app, key)?;
    let answer = generate().await?;
    app.with_stats(|s| s.cache_misses += 1);
    app.cache_put(&cache_key, answer.clone());
    Ok(render(answer, &cache_key, CacheStatus::Miss))
}

/// Takes one `pk_` token for an uncached generation (streams included).
///
/// Fails with the pk 429 when the key's bucket is empty; `sk_` keys always pass.
pub(crate) fn charge(app: &AppState, key: &ApiKey) -> Result<(), ApiError> {
    if key.kind() != KeyKind::Publishable {
        return Ok(());
    }
    app.acquire_pk(key.secret_value())
        .map_err(|wait| ratelimit::rejection(wait, app.config.pk_rate_limit))
}

fn render(answer: Answer, cache_key: &CacheKey, status: CacheStatus) -> Response {
    let mut response = answer.body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, answer.content_type);
    for (name, value) in answer.headers {
        headers.insert(name, value);
    }
    let hit = match status {
        CacheStatus::Hit => "HIT",
        CacheStatus::Miss => "MISS",
    };
    headers.insert("x-cache", HeaderValue::from_static(hit));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    if answer.is_text
        && let Ok(digest) = HeaderValue::from_str(&cache_key.digest())
    {
        headers.insert("x-cache-key", digest);
    }
    response
}

/// Whether the query asks to bypass the cache (`no-cache=true`).
pub(crate) fn wants_no_cache(query: &crate::params::Query) -> bool {
    query
        .get("no-cache")
        .and_then(crate::params::parse_bool)
        .unwrap_or(false)
}

/// Reads a body of at most [`BODY_LIMIT`] bytes.
///
/// Fails with 413 `PAYLOAD_TOO_LARGE` when the declared or actual size is over the limit,
/// and 400 when the body cannot be read.
pub(crate) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT as u64) {
        return Err(ApiError::payload_too_large(BODY_LIMIT));
    }
    let mut stream = body.into_data_stream();
    let mut buffer = BytesMut::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        let chunk =
            frame.map_err(|e| ApiError::bad_request(format!("Could not read the body: {e}")))?;
        if buffer.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::payload_too_large(BODY_LIMIT));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

/// Parses a JSON body.
///
/// Fails with 400 `BAD_REQUEST` when the bytes are not JSON.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
}
