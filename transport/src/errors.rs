//! isahc and IO errors → the core's [`TransportError`] kinds, which decide retryability.

use blossom_core::{TransportError, TransportErrorKind};
use isahc::error::ErrorKind;

/// Classifies a failure that happened before the response head arrived.
pub(crate) fn from_isahc(error: isahc::Error) -> TransportError {
    let kind = match error.kind() {
        ErrorKind::ConnectionFailed | ErrorKind::NameResolution => TransportErrorKind::Connect,
        ErrorKind::Timeout => TransportErrorKind::Timeout,
        ErrorKind::BadServerCertificate
        | ErrorKind::BadClientCertificate
        | ErrorKind::TlsEngine
        | ErrorKind::InvalidTlsConfiguration => TransportErrorKind::Tls,
        ErrorKind::InvalidRequest | ErrorKind::RequestBodyNotRewindable => {
            TransportErrorKind::InvalidRequest
        }
        ErrorKind::Io | ErrorKind::ProtocolViolation => TransportErrorKind::ResetBeforeResponse,
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, error.to_string()).with_source(error)
}

/// Classifies a failure while reading the body.
pub(crate) fn from_body_io(error: std::io::Error) -> TransportError {
    let kind = match error.kind() {
        std::io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
        _ => TransportErrorKind::ResetDuringBody,
    };
    TransportError::new(kind, error.to_string()).with_source(error)
}

/// The body passed the configured maximum.
pub(crate) fn too_large(limit: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::BodyTooLarge,
        format!("the response body exceeds the limit of {limit} bytes"),
    )
}
