//! `GET /text/{prompt}` and `POST /text`: the assistant's answer as plain text, SSE when
//! asked to stream, and audio bytes for a speaking model.
//!
//! `GET /text` turns its query into the equivalent chat body (`system` and the prompt as
//! messages, `json=true` as `response_format: json_object`, an audio model as
//! `modalities: ["text","audio"]` with MP3 output) and answers it like `POST /text`.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, Method, header};
use serde_json::{Map, Value, json};

use crate::auth::{self, ApiKey};
use crate::cache::{Answer, CacheKey};
use crate::chat::{check_safe_header, content_seed};
use crate::chat_request::{self, ChatRequest, ResponseFormat};
use crate::errors::{ApiError, Validation};
use crate::models::{self, TEXT_MODELS, VOICES};
use crate::params::{self, Query, check_safe};
use crate::pipeline;
use crate::reply::{self, Reply};
use crate::sse;
use crate::state::AppState;

/// `GET /text/{prompt}` (and `GET /text/` with an empty prompt, which is a 400).
pub(crate) async fn get(app: Arc<AppState>, request: Request) -> Result<Response, ApiError> {
    let app: &AppState = &app;
    let (parts, _body) = request.into_parts();
    let query = Query::parse(parts.uri.query());
    let key = auth::authenticate(&parts.headers, &query)?;
    check_safe_header(&parts.headers)?;
    let raw = parts.uri.path().strip_prefix("/text").unwrap_or_default();
    let prompt = params::decode_prompt(raw.strip_prefix('/').unwrap_or(raw), "prompt")?;
    let body = query_to_body(&query, prompt)?;
    let chat = chat_request::parse(&body)?;
    let cache_key = CacheKey::new(&parts.method, parts.uri.path(), &query, None);
    answer(app, &key, chat, cache_key, &query).await
}

/// `POST /text`.
pub(crate) async fn post(app: Arc<AppState>, request: Request) -> Result<Response, ApiError> {
    let app: &AppState = &app;
    let (parts, body) = request.into_parts();
    let query = Query::parse(parts.uri.query());
    let key = auth::authenticate(&parts.headers, &query)?;
    check_safe_header(&parts.headers)?;
    let bytes = pipeline::read_body(&parts.headers, body).await?;
    let json = pipeline::parse_json(&bytes)?;
    let chat = chat_request::parse(&json)?;
    let cache_key = CacheKey::new(&Method::POST, parts.uri.path(), &query, Some(&json));
    answer(app, &key, chat, cache_key, &query).await
}

async fn answer(
    app: &AppState,
    key: &ApiKey,
    chat: ChatRequest,
    cache_key: CacheKey,
    query: &Query,
) -> Result<Response, ApiError> {
    if chat.stream {
        pipeline::charge(app, key)?;
        let reply = reply::compose(&chat, content_seed(app, &chat), app.next_generation());
        return Ok(sse::chat_response(&reply, app.config.stream_chunk_delay));
    }
    let no_cache = pipeline::wants_no_cache(query);
    pipeline::cached(app, key, cache_key, no_cache, || async {
        let reply = reply::compose(&chat, content_seed(app, &chat), app.next_generation());
        Ok(plain_answer(&chat, &reply))
    })
    .await
}

/// The body of a non-stream answer: audio bytes, JSON text, or plain text.
fn plain_answer(chat: &ChatRequest, reply: &Reply) -> Answer {
    let mut headers = reply.headers();
    let (content_type, body) = match &reply.audio {
        Some(audio) => {
            let disposition = format!("inline; filename=\"speech.{}\"", audio.format.extension());
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.push((header::CONTENT_DISPOSITION, value));
            }
            (
                HeaderValue::from_static(audio.format.content_type()),
                Bytes::from(audio.bytes.clone()),
            )
        }
        None => {
            let structured = !reply.tool_calls.is_empty()
                || !matches!(chat.response_format, ResponseFormat::Text);
            let content_type = if structured {
                "application/json; charset=utf-8"
            } else {
                "text/plain; charset=utf-8"
            };
            (
                HeaderValue::from_static(content_type),
                Bytes::from(reply.plain_text()),
            )
        }
    };
    Answer {
        content_type,
        headers,
        body,
        is_text: reply.audio.is_none(),
    }
}

/// The chat body equivalent to a `GET /text` query.
///
/// Fails with 400 for out-of-range or malformed parameters and unknown models or voices.
fn query_to_body(query: &Query, prompt: String) -> Result<Value, ApiError> {
    let mut v = Validation::new();
    let seed = query.int_in("seed", -1, 2_147_483_647, &mut v);
    let temperature = query.number_in("temperature", 0.0, 2.0, &mut v);
    let top_p = query.number_in("top_p", 0.0, 1.0, &mut v);
    let json_mode = query.flag("json", &mut v).unwrap_or(false);
    let stream = query.flag("stream", &mut v).unwrap_or(false);
    query.flag("private", &mut v);
    if let Some(Err(message)) = query.get("safe").map(check_safe) {
        v.add("safe", message);
    }
    let voice = query.get("voice").unwrap_or("alloy");
    if !VOICES.contains(&voice) {
        v.add(
            "voice",
            format!(
                "Invalid voice \"{voice}\": expected one of {}",
                VOICES.join(", ")
            ),
        );
    }
    v.finish("Query parameter validation failed")?;
    let model_name = query.get("model").unwrap_or(models::DEFAULT_TEXT_MODEL);
    let model = models::resolve(TEXT_MODELS, model_name)
        .ok_or_else(|| ApiError::invalid_model(model_name))?;

    let mut messages = Vec::new();
    if let Some(system) = query.get("system").filter(|s| !s.is_empty()) {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.push(json!({"role": "user", "content": prompt}));
    let mut body = Map::new();
    body.insert("model".to_owned(), json!(model.name));
    body.insert("messages".to_owned(), Value::Array(messages));
    body.insert("stream".to_owned(), json!(stream));
    if let Some(seed) = seed {
        body.insert("seed".to_owned(), json!(seed));
    }
    if let Some(t) = temperature {
        body.insert("temperature".to_owned(), json!(t));
    }
    if let Some(p) = top_p {
        body.insert("top_p".to_owned(), json!(p));
    }
    if json_mode {
        body.insert("response_format".to_owned(), json!({"type": "json_object"}));
    }
    if model.outputs_audio() {
        body.insert("modalities".to_owned(), json!(["text", "audio"]));
        body.insert("audio".to_owned(), json!({"voice": voice, "format": "mp3"}));
    }
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_becomes_a_chat_body() {
        let q = Query::parse(Some("model=openai-fast&seed=5&system=Be+brief&json=true"));
        let body = query_to_body(&q, "hi".to_owned()).unwrap();
        assert_eq!(body["model"], "openai-fast");
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][1]["content"], "hi");
        assert_eq!(body["response_format"]["type"], "json_object");
        let audio = query_to_body(
            &Query::parse(Some("model=openai-audio&voice=nova")),
            "x".into(),
        )
        .unwrap();
        assert_eq!(audio["audio"]["format"], "mp3");
        assert!(query_to_body(&Query::parse(Some("seed=-2")), "x".into()).is_err());
        assert!(query_to_body(&Query::parse(Some("model=nope")), "x".into()).is_err());
        assert!(query_to_body(&Query::parse(Some("safe=bogus")), "x".into()).is_err());
    }
}
