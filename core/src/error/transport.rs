//! Network-level failures, as reported by a transport (the drivers' seam in `blossom-client`).

use std::fmt;
use std::sync::Arc;

/// Which part of the exchange failed. It decides whether a retry is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (DNS, refused, unreachable). Nothing was sent: safe to retry.
    Connect,
    /// The connection failed before any response byte arrived.
    ResetBeforeResponse,
    /// The connection failed while the body was being read.
    ResetDuringBody,
    /// The transport's own connect or request timeout fired.
    Timeout,
    /// TLS failed (certificate, handshake). Retrying will not help.
    Tls,
    /// The body was larger than the configured maximum; reading stopped.
    BodyTooLarge,
    /// The request could not be built by the transport (bad URL, bad header).
    InvalidRequest,
    /// Anything else.
    Other,
}

/// A network-level failure with its cause.
#[derive(Clone)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A failure of `kind` described by `message`.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What failed.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether another attempt could succeed: connect failures, resets and timeouts yes;
    /// TLS, oversized bodies and invalid requests no.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect
                | TransportErrorKind::ResetBeforeResponse
                | TransportErrorKind::ResetDuringBody
                | TransportErrorKind::Timeout
                | TransportErrorKind::Other
        )
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::ResetBeforeResponse => "connection lost before the response",
            TransportErrorKind::ResetDuringBody => "connection lost while reading the body",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Tls => "TLS failure",
            TransportErrorKind::BodyTooLarge => "response body too large",
            TransportErrorKind::InvalidRequest => "invalid request",
            TransportErrorKind::Other => "transport failure",
        };
        write!(f, "{what}: {}", self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}
