//! `GET /image/{prompt}` (and the legacy `GET /prompt/{prompt}`): a real JPEG, or an RGBA
//! PNG with `transparent=true`, of exactly the requested size (docs/PROTOCOL.md §8).

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, header};

use crate::auth;
use crate::cache::{Answer, CacheKey};
use crate::chat::check_safe_header;
use crate::errors::{ApiError, Validation};
use crate::generate::slug;
use crate::hash::StableHasher;
use crate::image_codec::{self, MAX_SIDE, Picture};
use crate::models::{self, IMAGE_MODELS};
use crate::params::{self, Query, check_safe};
use crate::pipeline;
use crate::state::AppState;

const QUALITIES: &[(&str, u8)] = &[("low", 50), ("medium", 75), ("high", 90), ("hd", 95)];

/// A validated image request.
#[derive(Debug, Clone)]
struct ImageRequest {
    prompt: String,
    model: &'static str,
    width: u32,
    height: u32,
    seed: i64,
    quality: (&'static str, u8),
    transparent: bool,
    fingerprint: u64,
}

/// `GET /image/{prompt}`.
pub(crate) async fn get(app: Arc<AppState>, request: Request) -> Result<Response, ApiError> {
    handle(&app, request, "/image").await
}

/// `GET /prompt/{prompt}` (legacy image host path).
pub(crate) async fn get_legacy(app: Arc<AppState>, request: Request) -> Result<Response, ApiError> {
    handle(&app, request, "/prompt").await
}

async fn handle(app: &AppState, request: Request, prefix: &str) -> Result<Response, ApiError> {
    let (parts, _body) = request.into_parts();
    let query = Query::parse(parts.uri.query());
    let key = auth::authenticate(&parts.headers, &query)?;
    check_safe_header(&parts.headers)?;
    let raw = parts.uri.path().strip_prefix(prefix).unwrap_or_default();
    let prompt = params::decode_prompt(raw.strip_prefix('/').unwrap_or(raw), "prompt")?;
    let image = validate(&query, prompt)?;
    let cache_key = CacheKey::new(&parts.method, parts.uri.path(), &query, None);
    let no_cache = pipeline::wants_no_cache(&query);
    let random = if image.seed == -1 {
        app.next_generation()
    } else {
        0
    };
    let seed = StableHasher::new()
        .u64(image.fingerprint)
        .u64(app.config.seed)
        .u64(random)
        .finish();
    pipeline::cached(app, &key, cache_key, no_cache, || async move {
        tokio::task::spawn_blocking(move || render(&image, seed))
            .await
            .map_err(|e| ApiError::internal(format!("image task failed: {e}")))?
    })
    .await
}

fn validate(query: &Query, prompt: String) -> Result<ImageRequest, ApiError> {
    let mut v = Validation::new();
    let side = i64::from(MAX_SIDE);
    let width = query.int_in("width", 1, side, &mut v).unwrap_or(1024);
    let height = query.int_in("height", 1, side, &mut v).unwrap_or(1024);
    let seed = query
        .int_in("seed", -1, 2_147_483_647, &mut v)
        .unwrap_or(42);
    let quality_name = query.get("quality").unwrap_or("medium");
    let quality = QUALITIES
        .iter()
        .copied()
        .find(|(name, _)| *name == quality_name);
    if quality.is_none() {
        v.add(
            "quality",
            format!("Invalid option: expected one of \"low\"|\"medium\"|\"high\"|\"hd\", received \"{quality_name}\""),
        );
    }
    let transparent = query.flag("transparent", &mut v).unwrap_or(false);
    let enhance = query.flag("enhance", &mut v).unwrap_or(false);
    for flag in ["nologo", "private", "nofeed"] {
        query.flag(flag, &mut v);
    }
    if let Some(Err(message)) = query.get("safe").map(check_safe) {
        v.add("safe", message);
    }
    v.finish("Query parameter validation failed")?;

    let references = reference_urls(query.get("image").unwrap_or(""))?;
    let model_name = query.get("model").unwrap_or(models::DEFAULT_IMAGE_MODEL);
    let model = models::resolve(IMAGE_MODELS, model_name)
        .ok_or_else(|| ApiError::invalid_model(model_name))?;
    let quality = quality.unwrap_or(("medium", 75));
    // Validated ranges: 1..=4096 fits u32.
    let (width, height) = (width as u32, height as u32);
    let mut hasher = StableHasher::new();
    hasher
        .str("image")
        .str(&prompt)
        .str(model.name)
        .u64(u64::from(width))
        .u64(u64::from(height))
        .u64(seed as u64)
        .str(quality.0)
        .u64(u64::from(transparent))
        .u64(u64::from(enhance))
        .str(query.get("negative_prompt").unwrap_or(""));
    for url in &references {
        hasher.str(url);
    }
    Ok(ImageRequest {
        prompt,
        model: model.name,
        width,
        height,
        seed,
        quality,
        transparent,
        fingerprint: hasher.finish(),
    })
}

/// The `image` parameter: reference URLs joined by `|`, each `http(s)://`.
///
/// Fails with 400 `invalid_image_url` for any other URL.
fn reference_urls(raw: &str) -> Result<Vec<String>, ApiError> {
    let urls: Vec<String> = raw
        .split('|')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    for url in &urls {
        let lower = url.to_ascii_lowercase();
        let scheme_ok = lower.starts_with("http://") || lower.starts_with("https://");
        let host_ok = url
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty());
        if !(scheme_ok && host_ok) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_image_url",
                format!(
                    "Invalid reference image URL \"{url}\": each URL must start with http:// or https://"
                ),
            ));
        }
    }
    Ok(urls)
}

fn render(image: &ImageRequest, seed: u64) -> Result<Answer, ApiError> {
    let picture = Picture::new(image.width, image.height, seed);
    let (bytes, content_type, extension) = if image.transparent {
        let png = image_codec::encode_png(&picture.render(true), image.width, image.height)
            .map_err(ApiError::internal)?;
        (png, "image/png", "png")
    } else {
        let rgb = picture.render(false);
        let jpeg = image_codec::encode_jpeg(&rgb, image.width, image.height, image.quality.1)
            .map_err(ApiError::internal)?;
        (jpeg, "image/jpeg", "jpg")
    };
    let name = slug(&image.prompt, 60, "image");
    let mut headers = vec![(
        HeaderName::from_static("x-model-used"),
        HeaderValue::from_static(image.model),
    )];
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{name}.{extension}\"")) {
        headers.push((header::CONTENT_DISPOSITION, value));
    }
    headers.push((
        HeaderName::from_static("x-image-seed"),
        HeaderValue::from(image.seed),
    ));
    Ok(Answer {
        content_type: HeaderValue::from_static(content_type),
        headers,
        body: Bytes::from(bytes),
        is_text: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_python_sdk_parameters() {
        let q = Query::parse(Some(
            "model=flux&width=512&height=256&seed=42&enhance=false&negative_prompt=worst+quality%2C+blurry\
             &nologo=false&safe=false&quality=medium&transparent=false",
        ));
        let r = validate(&q, "cat".to_owned()).unwrap();
        assert_eq!((r.model, r.width, r.height, r.seed), ("flux", 512, 256, 42));
        let d = validate(&Query::parse(None), "cat".to_owned()).unwrap();
        assert_eq!(
            (d.model, d.width, d.height, d.seed, d.quality.0),
            ("zimage", 1024, 1024, 42, "medium")
        );
    }

    #[test]
    fn invalid_parameters() {
        let bad = |q: &str| {
            validate(&Query::parse(Some(q)), "x".to_owned())
                .unwrap_err()
                .to_json()
        };
        let e = bad("width=0&height=5000&quality=ultra&transparent=yes");
        let fields = &e["error"]["details"]["fieldErrors"];
        for f in ["width", "height", "quality", "transparent"] {
            assert!(fields[f].is_array(), "{f}");
        }
        assert_eq!(bad("image=ftp://x")["error"]["code"], "invalid_image_url");
        assert_eq!(
            bad("model=dalle")["error"]["message"],
            "Invalid model or alias: \"dalle\""
        );
        assert!(
            validate(
                &Query::parse(Some("image=https://a/x.png|http://b/y.png")),
                "x".into()
            )
            .is_ok()
        );
    }
}
