//! The routes, and the middleware that observes every request: it assigns the
//! `X-Request-Id` and counts the request in the stats under its route label.
//!
//! Path prompts are captured whole (`/text/{*prompt}`) and percent-decoded by the handler,
//! so `%2F`, `%3F`, `%23`, `%25` and `%2E%2E` reach it intact, and so does a prompt with a
//! raw `/` from a lenient client.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::HeaderValue;

use crate::auth;
use crate::errors::ApiError;
use crate::params::Query;
use crate::state::AppState;
use crate::stats::{NOT_FOUND_LABEL, RouteLabel};
use crate::{audio, chat, image, models, text};

/// Wraps an `async fn(Arc<AppState>, Request) -> Response` as a handler whose response
/// carries its route label for the stats.
macro_rules! labeled {
    ($label:expr, $handler:path) => {
        |State(app): State<Arc<AppState>>, request: Request| async move {
            with_label($handler(app, request).await, $label)
        }
    };
}

fn with_label(mut response: Response, label: &'static str) -> Response {
    response.extensions_mut().insert(RouteLabel(label));
    response
}

/// The application: every route, the 404 fallback, and the observing middleware.
pub(crate) fn build(app: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/v1/chat/completions",
            post(labeled!("POST /v1/chat/completions", chat::completions)),
        )
        .route("/openai", post(labeled!("POST /openai", chat::completions)))
        .route(
            "/text",
            post(labeled!("POST /text", text::post)).get(labeled!("GET /text", text::get)),
        )
        .route("/text/", get(labeled!("GET /text", text::get)))
        .route("/text/{*prompt}", get(labeled!("GET /text", text::get)))
        .route("/image", get(labeled!("GET /image", image::get)))
        .route("/image/", get(labeled!("GET /image", image::get)))
        .route("/image/{*prompt}", get(labeled!("GET /image", image::get)))
        .route("/prompt/", get(labeled!("GET /prompt", image::get_legacy)))
        .route(
            "/prompt/{*prompt}",
            get(labeled!("GET /prompt", image::get_legacy)),
        )
        .route("/audio", get(labeled!("GET /audio", audio::get)))
        .route("/audio/", get(labeled!("GET /audio", audio::get)))
        .route("/audio/{*text}", get(labeled!("GET /audio", audio::get)))
        .route(
            "/v1/audio/speech",
            post(labeled!("POST /v1/audio/speech", audio::speech)),
        )
        .route(
            "/v1/models",
            get(labeled!("GET /v1/models", models::openai_list)),
        )
        .route("/models", get(labeled!("GET /models", models::text_list)))
        .route(
            "/text/models",
            get(labeled!("GET /text/models", models::text_list)),
        )
        .route(
            "/image/models",
            get(labeled!("GET /image/models", models::image_list)),
        )
        .route(
            "/audio/models",
            get(labeled!("GET /audio/models", models::audio_list)),
        )
        .route("/__emulator/stats", get(stats))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// Assigns the request id and records the request in the stats (except the emulator's
/// own `/__emulator/…` routes).
async fn observe(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let id = app.next_request_id();
    let control = request.uri().path().starts_with("/__emulator/");
    let query = Query::parse(request.uri().query());
    let key_label = auth::label(auth::find_key(request.headers(), &query).as_deref());
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if !control {
        let route = response
            .extensions()
            .get::<RouteLabel>()
            .map_or(NOT_FOUND_LABEL, |label| label.0);
        let status = response.status().as_u16();
        app.with_stats(|stats| stats.record(route, &key_label, status));
    }
    response
}

/// `GET /__emulator/stats`.
async fn stats(State(app): State<Arc<AppState>>) -> Response {
    let body = serde_json::to_string(&app.stats()).unwrap_or_else(|_| "{}".to_owned());
    let mut response = body.into_response();
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Any unknown route or method: the 404 envelope.
async fn not_found(request: Request) -> Response {
    ApiError::not_found(request.method().as_str(), request.uri().path()).into_response()
}
