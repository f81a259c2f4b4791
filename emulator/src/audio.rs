//! Speech: `GET /audio/{text}?voice&model&format&speed` and the OpenAI-shaped
//! `POST /v1/audio/speech` (`{"model"?, "input", "voice"?, "response_format"?, "speed"?}`).
//! MP3 is the default format; see [`crate::audio_codec`] for what each format carries.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, header};
use serde_json::Value;

use crate::audio_codec::{self, AudioFormat};
use crate::auth;
use crate::cache::{Answer, CacheKey};
use crate::chat_request::BODY_INVALID;
use crate::errors::{ApiError, Validation};
use crate::hash::StableHasher;
use crate::models::{self, AUDIO_MODELS, VOICES};
use crate::params::{self, Query};
use crate::pipeline;
use crate::state::AppState;

/// Longest accepted input, as the OpenAI speech endpoint.
const MAX_INPUT_CHARS: usize = 4096;

/// A validated speech request.
#[derive(Debug, Clone)]
struct Speech {
    text: String,
    model: &'static str,
    voice_index: usize,
    format: AudioFormat,
    speed: f64,
}

/// `GET /audio/{text}`.
pub(crate) async fn get(app: Arc<AppState>, request: Request) -> Result<Response, ApiError> {
    let app: &AppState = &app;
    let (parts, _body) = request.into_parts();
    let query = Query::parse(parts.uri.query());
    let key = auth::authenticate(&parts.headers, &query)?;
    let raw = parts.uri.path().strip_prefix("/audio").unwrap_or_default();
    let text = params::decode_prompt(raw.strip_prefix('/').unwrap_or(raw), "text")?;
    let mut v = Validation::new();
    let speed = query.number_in("speed", 0.25, 4.0, &mut v).unwrap_or(1.0);
    let speech = validate(
        text,
        query.get("model"),
        query.get("voice"),
        query.get("format").or(query.get("response_format")),
        speed,
        v,
        "Query parameter validation failed",
    )?;
    let cache_key = CacheKey::new(&parts.method, parts.uri.path(), &query, None);
    let no_cache = pipeline::wants_no_cache(&query);
    pipeline::cached(app, &key, cache_key, no_cache, || async {
        Ok(render(&speech, app.config.seed))
    })
    .await
}

/// `POST /v1/audio/speech`.
pub(crate) async fn speech(app: Arc<AppState>, request: Request) -> Result<Response, ApiError> {
    let app: &AppState = &app;
    let (parts, body) = request.into_parts();
    let query = Query::parse(parts.uri.query());
    let key = auth::authenticate(&parts.headers, &query)?;
    let bytes = pipeline::read_body(&parts.headers, body).await?;
    let json = pipeline::parse_json(&bytes)?;
    let mut v = Validation::new();
    let Some(obj) = json.as_object() else {
        v.form("Invalid input: expected object");
        v.finish(BODY_INVALID)?;
        return Err(ApiError::bad_request(BODY_INVALID));
    };
    let text_field = |name: &str, v: &mut Validation| match obj.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            v.add(name, "Invalid input: expected string");
            None
        }
    };
    let input = text_field("input", &mut v);
    let model = text_field("model", &mut v);
    let voice = text_field("voice", &mut v);
    let format = text_field("response_format", &mut v);
    text_field("instructions", &mut v);
    let speed = match obj.get("speed") {
        None | Some(Value::Null) => 1.0,
        Some(s) => match s.as_f64() {
            Some(x) if (0.25..=4.0).contains(&x) => x,
            _ => {
                v.add(
                    "speed",
                    "Invalid input: expected a number between 0.25 and 4",
                );
                1.0
            }
        },
    };
    match input {
        None if matches!(obj.get("input"), None | Some(Value::Null)) => {
            v.add(
                "input",
                "Invalid input: expected string, received undefined",
            );
        }
        Some("") => v.add("input", "Too small: expected string to have >=1 characters"),
        Some(s) if s.chars().count() > MAX_INPUT_CHARS => v.add(
            "input",
            format!("Too big: expected string to have <={MAX_INPUT_CHARS} characters"),
        ),
        _ => {}
    }
    let text = input.unwrap_or_default().to_owned();
    let speech = validate(text, model, voice, format, speed, v, BODY_INVALID)?;
    let cache_key = CacheKey::new(&Method::POST, parts.uri.path(), &query, Some(&json));
    let no_cache = pipeline::wants_no_cache(&query);
    pipeline::cached(app, &key, cache_key, no_cache, || async {
        Ok(render(&speech, app.config.seed))
    })
    .await
}

/// Checks voice, format and model (after the caller's own field checks in `v`).
///
/// Fails with the validation envelope, or `Invalid model or alias` for an unknown model.
fn validate(
    text: String,
    model: Option<&str>,
    voice: Option<&str>,
    format: Option<&str>,
    speed: f64,
    mut v: Validation,
    message: &str,
) -> Result<Speech, ApiError> {
    let voice = voice.unwrap_or("alloy");
    let voice_index = VOICES.iter().position(|x| *x == voice);
    if voice_index.is_none() {
        v.add(
            "voice",
            format!(
                "Invalid voice \"{voice}\": expected one of {}",
                VOICES.join(", ")
            ),
        );
    }
    let format = match AudioFormat::parse(format.unwrap_or("mp3")) {
        Ok(f) => Some(f),
        Err(problem) => {
            v.add("response_format", problem);
            None
        }
    };
    v.finish(message)?;
    let model_name = model.unwrap_or(models::DEFAULT_AUDIO_MODEL);
    let model = models::resolve(AUDIO_MODELS, model_name)
        .ok_or_else(|| ApiError::invalid_model(model_name))?;
    Ok(Speech {
        text,
        model: model.name,
        voice_index: voice_index.unwrap_or(0),
        format: format.unwrap_or(AudioFormat::Mp3),
        speed,
    })
}

fn render(speech: &Speech, config_seed: u64) -> Answer {
    let seed = StableHasher::new()
        .str("speech")
        .str(&speech.text)
        .str(speech.model)
        .u64(speech.voice_index as u64)
        .u64(speech.speed.to_bits())
        .u64(config_seed)
        .finish();
    let samples = audio_codec::synthesize(&speech.text, speech.voice_index, speech.speed, seed);
    let bytes = audio_codec::encode(speech.format, &samples);
    let mut headers = vec![(
        HeaderName::from_static("x-model-used"),
        HeaderValue::from_static(speech.model),
    )];
    let disposition = format!("inline; filename=\"speech.{}\"", speech.format.extension());
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.push((header::CONTENT_DISPOSITION, value));
    }
    Answer {
        content_type: HeaderValue::from_static(speech.format.content_type()),
        headers,
        body: Bytes::from(bytes),
        is_text: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        voice: Option<&str>,
        format: Option<&str>,
        model: Option<&str>,
    ) -> Result<Speech, ApiError> {
        validate(
            "hi".into(),
            model,
            voice,
            format,
            1.0,
            Validation::new(),
            "x",
        )
    }

    #[test]
    fn defaults_are_alloy_mp3_openai_audio() {
        let s = check(None, None, None).unwrap();
        assert_eq!(
            (s.voice_index, s.format, s.model),
            (0, AudioFormat::Mp3, "openai-audio")
        );
        assert_eq!(
            check(Some("nova"), Some("wav"), Some("tts-1"))
                .unwrap()
                .format,
            AudioFormat::Wav
        );
    }

    #[test]
    fn unknown_voice_format_and_model_are_400() {
        let fields = |r: Result<Speech, ApiError>| {
            r.unwrap_err().to_json()["error"]["details"]["fieldErrors"].clone()
        };
        assert!(fields(check(Some("robot"), None, None))["voice"].is_array());
        assert!(
            fields(check(None, Some("opus"), None))["response_format"][0]
                .as_str()
                .unwrap()
                .contains("not supported")
        );
        let e = check(None, None, Some("eleven")).unwrap_err().to_json();
        assert_eq!(e["error"]["message"], "Invalid model or alias: \"eleven\"");
    }

    #[test]
    fn rendering_is_deterministic() {
        let s = check(Some("echo"), Some("flac"), None).unwrap();
        let a = render(&s, 1);
        assert_eq!(a.body, render(&s, 1).body);
        assert_ne!(a.body, render(&s, 2).body);
        assert_eq!(&a.body[..4], b"fLaC");
    }
}
