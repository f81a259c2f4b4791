//! hyper, hyper-util and IO errors → the core's [`TransportError`] kinds, which decide
//! retryability.

use std::error::Error as StdError;

use blossom_core::{TransportError, TransportErrorKind};

/// Every error in `error`'s chain, looking inside IO errors too (an `io::Error`'s `source`
/// skips the error it wraps; `get_ref` does not).
fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(error);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn StdError + 'static))
                .or_else(|| current.source()),
            None => current.source(),
        };
        Some(current)
    })
}

fn has_io_kind(error: &(dyn StdError + 'static), kind: std::io::ErrorKind) -> bool {
    chain(error).any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == kind)
    })
}

fn is_tls(error: &(dyn StdError + 'static)) -> bool {
    chain(error).any(|e| e.is::<rustls::Error>())
}

/// Classifies a failure that happened before the response head arrived.
pub(crate) fn from_client(error: hyper_util::client::legacy::Error) -> TransportError {
    let kind = if is_tls(&error) {
        TransportErrorKind::Tls
    } else if error.is_connect() {
        if has_io_kind(&error, std::io::ErrorKind::TimedOut) {
            TransportErrorKind::Timeout
        } else {
            TransportErrorKind::Connect
        }
    } else if let Some(hyper) = chain(&error).find_map(|e| e.downcast_ref::<hyper::Error>()) {
        if hyper.is_user() {
            TransportErrorKind::InvalidRequest
        } else if hyper.is_timeout() {
            TransportErrorKind::Timeout
        } else {
            TransportErrorKind::ResetBeforeResponse
        }
    } else {
        TransportErrorKind::Other
    };
    TransportError::new(kind, describe(&error)).with_source(error)
}

/// Classifies a failure while reading the body.
pub(crate) fn from_body(error: hyper::Error) -> TransportError {
    let kind = if error.is_timeout() || has_io_kind(&error, std::io::ErrorKind::TimedOut) {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::ResetDuringBody
    };
    TransportError::new(kind, describe(&error)).with_source(error)
}

/// A request this transport cannot send.
pub(crate) fn invalid_request(message: String) -> TransportError {
    TransportError::new(TransportErrorKind::InvalidRequest, message)
}

/// The body passed the configured maximum.
pub(crate) fn too_large(limit: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::BodyTooLarge,
        format!("the response body exceeds the limit of {limit} bytes"),
    )
}

/// The compressed body could not be inflated.
pub(crate) fn corrupt(error: &std::io::Error) -> TransportError {
    TransportError::new(
        TransportErrorKind::ResetDuringBody,
        format!("the compressed response body is corrupt: {error}"),
    )
}

/// One line naming the failure and its causes ("client error (Connect): tcp connect error:
/// Connection refused"), without repeats.
fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut line = String::new();
    for cause in chain(error) {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
