//! [`HyperTransport`]: one hyper-util pooled client behind the async transport seam.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use blossom_client::{HttpResponse, Transport};
use blossom_core::{ClientConfig, Error, TransportError};
use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, HeaderValue};
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::body::HyperBody;
use crate::errors::{from_client, invalid_request};
use crate::inflate::Coding;

/// The encodings this transport inflates, as it announces them.
const ACCEPTED_ENCODINGS: HeaderValue = HeaderValue::from_static("gzip, deflate");

/// The largest response head accepted over HTTP/1.1 (hyper's read buffer is capped at this;
/// libcurl, the other transport, refuses a header line over 100 KiB). A head past it fails the
/// attempt instead of growing memory.
const MAX_HEAD_BYTES: usize = 128 * 1024;

/// How long an idle pooled connection is kept before it is closed.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

type Connector = HttpsConnector<HttpConnector>;

/// The hyper transport. Cheap to share behind an `Arc`; one pool for all its calls.
pub struct HyperTransport {
    client: Client<Connector, Full<Bytes>>,
    max_body_bytes: usize,
}

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperTransport")
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport configured from `config`: idle pool size, connect timeout, HTTP/2, body
    /// limit.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](blossom_core::ErrorKind::Config) when TLS cannot be set up.
    pub fn new(config: &ClientConfig) -> Result<Self, Error> {
        let mut http = HttpConnector::new();
        // `https` URLs are the TLS layer's to wrap; the plain connector must accept them.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout).filter(|t| *t != Duration::MAX));
        let tls = tls_config()?;
        let builder = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1();
        let connector = if config.http2 {
            builder.enable_http2().wrap_connector(http)
        } else {
            builder.wrap_connector(http)
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(config.max_connections)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .http1_max_buf_size(MAX_HEAD_BYTES)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        Ok(Self {
            client,
            max_body_bytes: config.max_body_bytes,
        })
    }
}

/// rustls with the ring provider (chosen here, not taken from process defaults, so another
/// crate enabling a second provider cannot make it ambiguous) and Mozilla's roots.
fn tls_config() -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("TLS could not be set up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[async_trait]
impl Transport for HyperTransport {
    async fn send(&self, request: http::Request<Bytes>) -> Result<HttpResponse, TransportError> {
        if request.uri().host().is_none() {
            return Err(invalid_request(format!(
                "the request URL {} has no host",
                request.uri()
            )));
        }
        let mut request = request.map(Full::new);
        request
            .headers_mut()
            .entry(ACCEPT_ENCODING)
            .or_insert(ACCEPTED_ENCODINGS);
        let response = self.client.request(request).await.map_err(from_client)?;
        let (mut parts, body) = response.into_parts();
        let coding = Coding::of(&parts.headers);
        if coding.is_some() {
            // The caller gets the inflated body: the encoding and the wire length are gone.
            parts.headers.remove(CONTENT_ENCODING);
            parts.headers.remove(CONTENT_LENGTH);
        }
        Ok(HttpResponse {
            status: parts.status,
            headers: parts.headers,
            body: Box::pin(HyperBody::new(body, coding, self.max_body_bytes)),
        })
    }
}
