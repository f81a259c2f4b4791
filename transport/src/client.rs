//! [`IsahcTransport`]: one isahc `HttpClient` (one connection pool) behind both seams.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use blossom_client::{BlockingResponse, BlockingTransport, HttpResponse, Transport};
use blossom_core::{ClientConfig, Error, TransportError, TransportErrorKind};
use bytes::Bytes;
use isahc::config::{Configurable, ExpectContinue, RedirectPolicy, VersionNegotiation};
use isahc::{AsyncBody, HttpClient};

use crate::body::{AsyncChunks, BlockingChunks};
use crate::errors::from_isahc;
use crate::park::block_on_until;
use tracing::Dispatch;
use tracing::instrument::{WithDispatch, WithSubscriber as _};
use tracing::subscriber::NoSubscriber;

/// Hosts never sent through a proxy, whatever the environment says.
const NO_PROXY: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Builds the isahc client a transport uses, from the SDK configuration.
///
/// # Errors
/// [`ErrorKind::Config`](blossom_core::ErrorKind::Config) when libcurl cannot be initialised
/// with these settings.
pub fn build_http_client(config: &ClientConfig) -> Result<HttpClient, Error> {
    let versions = if config.http2 {
        VersionNegotiation::latest_compatible()
    } else {
        VersionNegotiation::http11()
    };
    HttpClient::builder()
        // The pool keeps this many idle connections for reuse. The number of calls at once is
        // the engine's to limit (its permits), not libcurl's: a connection the SDK abandoned
        // but libcurl has not closed yet (see below) must not hold up the next call.
        .connection_cache_size(config.max_connections)
        .connect_timeout(curl_duration(config.connect_timeout))
        // A backstop that frees connections whose body nobody reads any more. isahc notices a
        // dropped body only when more bytes arrive, so a server that holds a response open in
        // silence (after `[DONE]`, or in a stall the SDK gave up on) would keep the connection
        // forever. Every decision about live transfers is the core's (its idle timeout fires
        // first, to the millisecond); this only reclaims the socket of a dead one.
        .low_speed_timeout(1, reclaim_after(config.stream_idle_timeout))
        .version_negotiation(versions)
        .redirect_policy(RedirectPolicy::None)
        .expect_continue(ExpectContinue::disabled())
        .tcp_nodelay()
        .proxy_blacklist(NO_PROXY)
        .build()
        .map_err(|e| Error::config(format!("the HTTP client could not be built: {e}")))
}

/// The longest duration libcurl takes (its timeouts are milliseconds in a C `long`, and
/// larger values are refused at call time); anything longer means "no limit" and is clamped.
const CURL_MAX: Duration = Duration::from_millis(i32::MAX as u64);

/// How long a silent transfer lives before libcurl reclaims it: a second past the idle
/// timeout (libcurl counts whole seconds), so that the core's own timeout always fires first.
fn reclaim_after(idle: Duration) -> Duration {
    curl_duration(idle.saturating_add(Duration::from_secs(1)))
}

/// `duration`, clamped to what libcurl accepts.
fn curl_duration(duration: Duration) -> Duration {
    duration.min(CURL_MAX)
}

/// The isahc transport. Cheap to share behind an `Arc`; one pool for all its calls.
pub struct IsahcTransport {
    client: HttpClient,
    max_body_bytes: usize,
    /// The dispatcher every exchange runs under (see [`quiet`]): made once, since making
    /// one registers it with every `tracing` callsite of the process, which took more
    /// instructions than the rest of what the SDK does for a call.
    quiet: Dispatch,
}

impl std::fmt::Debug for IsahcTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsahcTransport")
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl IsahcTransport {
    /// A transport configured from `config` (pool size, timeouts, HTTP/2, body limit).
    ///
    /// # Errors
    /// See [`build_http_client`].
    pub fn new(config: &ClientConfig) -> Result<Self, Error> {
        Ok(Self {
            client: build_http_client(config)?,
            max_body_bytes: config.max_body_bytes,
            quiet: Dispatch::new(NoSubscriber::default()),
        })
    }
}

/// Runs an isahc exchange under `quiet`, a dispatcher to no subscriber. isahc turns on
/// libcurl's verbose mode whenever its span is enabled, and then logs every request head,
/// the `Authorization` header and the key in it included, under `isahc::wire`: an
/// application tracing at TRACE would write the key to its logs. The SDK's own events are
/// not affected. `quiet` is registered (once, when the transport is made), so callsites the
/// application enables ask it per event, and it says no.
fn quiet<F: std::future::Future>(exchange: F, quiet: &Dispatch) -> WithDispatch<F> {
    exchange.with_subscriber(quiet.clone())
}

/// Rebuilds the request with an isahc body. Bodies are buffered (not readers) so curl can
/// rewind them if it must resend on a fresh connection.
fn to_isahc(request: http::Request<Bytes>) -> Result<http::Request<AsyncBody>, TransportError> {
    let (parts, body) = request.into_parts();
    let mut builder = http::Request::builder()
        .method(parts.method)
        .uri(parts.uri)
        .version(parts.version);
    if let Some(headers) = builder.headers_mut() {
        *headers = parts.headers;
    }
    let body = if body.is_empty() {
        AsyncBody::empty()
    } else {
        AsyncBody::from(Vec::from(body))
    };
    builder.body(body).map_err(|e| {
        TransportError::new(TransportErrorKind::InvalidRequest, e.to_string()).with_source(e)
    })
}

#[async_trait]
impl Transport for IsahcTransport {
    async fn send(&self, request: http::Request<Bytes>) -> Result<HttpResponse, TransportError> {
        let request = to_isahc(request)?;
        let response = quiet(self.client.send_async(request), &self.quiet)
            .await
            .map_err(from_isahc)?;
        let (parts, body) = response.into_parts();
        Ok(HttpResponse {
            status: parts.status,
            headers: parts.headers,
            body: Box::pin(AsyncChunks::new(body, self.max_body_bytes)),
        })
    }
}

impl BlockingTransport for IsahcTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
        deadline: Option<Instant>,
    ) -> Result<BlockingResponse, TransportError> {
        let request = to_isahc(request)?;
        // The async exchange, waited for on this thread: dropping it at the deadline aborts it.
        let response = block_on_until(
            quiet(self.client.send_async(request), &self.quiet),
            deadline,
        )
        .ok_or_else(|| {
            TransportError::new(
                TransportErrorKind::Timeout,
                "no response head before the attempt's deadline",
            )
        })?
        .map_err(from_isahc)?;
        let (parts, body) = response.into_parts();
        Ok(BlockingResponse {
            status: parts.status,
            headers: parts.headers,
            body: Box::new(BlockingChunks::new(body, self.max_body_bytes)),
        })
    }
}
