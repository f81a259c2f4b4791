//! The fault step every API route goes through before (and after) its handler:
//! read `X-Emulator-Fault`, admit the generation under the concurrency limit, decide the
//! plan, wait out the latency, then answer the injected status, reset, or let the handler
//! answer and break its body.

use std::future::Future;
use std::sync::Arc;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};

use super::answer;
use super::body::{self, Shaped};
use super::header;
use super::kind::FaultKind;
use crate::auth;
use crate::concurrency::{Held, Refused};
use crate::params::Query;
use crate::state::AppState;

/// Which API route a request is on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    /// The stats label, like `"GET /image"`; scopes match it.
    pub(crate) label: &'static str,
    /// Whether the route generates (and so counts against the concurrency limit).
    pub(crate) generates: bool,
}

/// Runs `handler` for `request` on `route` with the planned faults.
pub(crate) async fn run<H, Fut>(
    app: Arc<AppState>,
    route: Route,
    request: Request,
    handler: H,
) -> Response
where
    H: FnOnce(Arc<AppState>, Request) -> Fut,
    Fut: Future<Output: IntoResponse>,
{
    let forced = match header::forced(request.headers()) {
        Ok(forced) => forced,
        Err(error) => return error.into_response(),
    };
    let permit = if route.generates {
        match admit(&app, &request) {
            Ok(permit) => permit,
            Err(refused) => return refused.into_response(),
        }
    } else {
        None
    };
    let (plan, number) = app.fault_plan(route.label, forced);
    if !plan.latency.is_zero() {
        app.count_fault("latency");
        tokio::time::sleep(plan.latency).await;
    }
    let mut response = match plan.kind {
        None => handler(app.clone(), request).await.into_response(),
        Some(FaultKind::Status(code)) => {
            app.count_fault(&code.to_string());
            answer::status(code, plan.retry_after, number)
        }
        Some(FaultKind::Reset) => {
            app.count_fault("reset");
            body::reset()
        }
        Some(kind) => {
            match body::apply(kind, handler(app.clone(), request).await.into_response()).await {
                Shaped::Applied(response) => {
                    app.count_fault(&kind.token());
                    response
                }
                Shaped::Skipped(response) => response,
            }
        }
    };
    if let Some(permit) = permit {
        response.extensions_mut().insert(permit);
    }
    response
}

/// A concurrency permit for the request's key; requests without a well-formed key are
/// left to the handler (which answers 401).
///
/// Fails when the key is at its concurrency limit.
fn admit(app: &AppState, request: &Request) -> Result<Option<Held>, Refused> {
    let query = Query::parse(request.uri().query());
    match auth::find_key(request.headers(), &query) {
        Some(key) if auth::classify(&key).is_some() => app.concurrency.admit(&key),
        _ => Ok(None),
    }
}
