//! The routes, and the middleware that observes every request: it assigns the
//! `X-Request-Id`, counts the request in the stats under its route label, and follows
//! the exchange to the end of its body ([`crate::exchange`]).
//!
//! Every API route runs through the fault step ([`crate::faults`]) with its label; the
//! `/__emulator/…` routes ([`crate::control`]) do not.
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
use crate::exchange::Exchange;
use crate::faults::{self, Route};
use crate::params::Query;
use crate::state::AppState;
use crate::stats::{NOT_FOUND_LABEL, RouteLabel};
use crate::{audio, chat, control, image, models, text};

/// Wraps an `async fn(Arc<AppState>, Request)` returning a response (or a `Result` with an
/// [`ApiError`]) as a handler that runs through the fault step and whose response carries
/// its route label for the stats.
macro_rules! api {
    ($label:expr, $generates:expr, $handler:path) => {
        |State(app): State<Arc<AppState>>, request: Request| async move {
            let route = Route {
                label: $label,
                generates: $generates,
            };
            with_label(faults::run(app, route, request, $handler).await, $label)
        }
    };
}

/// A generation route (counted against the concurrency limit).
macro_rules! labeled {
    ($label:expr, $handler:path) => {
        api!($label, true, $handler)
    };
}

/// A model-list route.
macro_rules! listing {
    ($label:expr, $handler:path) => {
        api!($label, false, $handler)
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
            get(listing!("GET /v1/models", models::openai_list)),
        )
        .route("/models", get(listing!("GET /models", models::text_list)))
        .route(
            "/text/models",
            get(listing!("GET /text/models", models::text_list)),
        )
        .route(
            "/image/models",
            get(listing!("GET /image/models", models::image_list)),
        )
        .route(
            "/audio/models",
            get(listing!("GET /audio/models", models::audio_list)),
        )
        .route("/__emulator/stats", get(control::stats))
        .route("/__emulator/reset", post(control::reset))
        .route(
            "/__emulator/faults",
            get(control::faults).post(control::set_faults),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// Assigns the request id; for API requests (not the emulator's own `/__emulator/…`
/// routes) also records the request in the stats and tracks the exchange.
async fn observe(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let id = app.next_request_id();
    if request.uri().path().starts_with("/__emulator/") {
        return with_request_id(next.run(request).await, &id);
    }
    let exchange = Exchange::begin(app.clone());
    let query = Query::parse(request.uri().query());
    let key_label = auth::label(auth::find_key(request.headers(), &query).as_deref());
    app.with_stats(|stats| stats.arrived(&key_label));
    let response = with_request_id(next.run(request).await, &id);
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map_or(NOT_FOUND_LABEL, |label| label.0);
    let status = response.status().as_u16();
    app.with_stats(|stats| stats.answered(route, status));
    exchange.finish(response)
}

fn with_request_id(mut response: Response, id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Any unknown route or method: the 404 envelope.
async fn not_found(request: Request) -> Response {
    ApiError::not_found(request.method().as_str(), request.uri().path()).into_response()
}
