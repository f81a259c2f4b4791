//! The engine: client-wide state and the per-call state machine (ARCHITECTURE §2).
//!
//! A call is submitted once and then driven by a loop that asks [`Engine::poll`] what to do
//! and reports what happened with `on_*` methods. The engine does no IO and reads no clock:
//! every input carries `now`.
//!
//! ```
//! use std::time::Instant;
//! use blossom_core::{ClientConfig, codec::Encoder, engine::{Engine, EngineConfig, Step, CallOptions}};
//! use blossom_core::api::ModelKind;
//!
//! let config = ClientConfig::new();
//! let prepared = Encoder::new(&config).unwrap().models(ModelKind::Text).unwrap();
//! let mut engine = Engine::new(EngineConfig::from_client(&config));
//! let now = Instant::now();
//! let id = engine.submit(prepared, CallOptions::default(), now);
//! let Step::Send(attempt) = engine.poll(id, now) else { unreachable!() };
//! assert_eq!(attempt.request.uri().path(), "/text/models");
//! // … the driver sends it and reports the answer:
//! engine.on_response(id, blossom_core::engine::RawResponse {
//!     status: http::StatusCode::OK,
//!     headers: http::HeaderMap::new(),
//!     body: bytes::Bytes::from_static(b"[\"openai\"]"),
//!     received_at: None,
//! }, now);
//! let Step::Done(Ok(output)) = engine.poll(id, now) else { unreachable!() };
//! assert_eq!(output.meta().attempts, 1);
//! ```

mod slots;

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::codec::{Output, Prepared, decode};
use crate::config::ClientConfig;
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::secret::ApiKey;
use slots::Slots;

/// Identifies one submitted call. Stale ids (of finished calls) are recognised and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallId {
    index: u32,
    generation: u32,
}

/// Engine settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// How long one attempt may take to produce a complete answer (or a stream's head).
    pub attempt_timeout: Duration,
    /// The key, only so that it can be scrubbed from server error messages.
    pub redact: Option<ApiKey>,
}

impl EngineConfig {
    /// Settings taken from a client configuration.
    pub fn from_client(config: &ClientConfig) -> Self {
        Self {
            attempt_timeout: config.request_timeout,
            redact: config.api_key.clone(),
        }
    }
}

/// Per-call options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// The call must finish within this long of its submission, across all attempts and waits.
    pub timeout: Option<Duration>,
    /// The call must finish by this instant (the earlier of this and `timeout` applies).
    pub deadline: Option<Instant>,
}

impl CallOptions {
    /// Sets a total timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets an absolute deadline.
    #[must_use]
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }
}

/// One network attempt for the driver to perform.
#[derive(Debug)]
#[non_exhaustive]
pub struct Attempt {
    /// The request (the same bytes on every attempt).
    pub request: http::Request<Bytes>,
    /// Give up on this attempt at this instant and report [`Engine::on_attempt_timeout`].
    pub deadline: Instant,
    /// Whether the answer is a stream: on a success status, report the head with
    /// [`Engine::on_stream_open`] and hand the body to the stream reader.
    pub stream: bool,
}

/// What the driver should do next for a call.
#[derive(Debug)]
#[non_exhaustive]
pub enum Step {
    /// Perform this attempt, then report its outcome.
    Send(Attempt),
    /// Sleep until this instant, then poll again.
    Wait(Instant),
    /// Nothing to do until another event concerns this call (for example its attempt is
    /// still in flight).
    Pending,
    /// The call is over. The id is now stale.
    Done(Result<Output, Error>),
}

/// A complete HTTP answer, as the driver received it.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// Wall-clock time of receipt, used only to resolve a `Retry-After` date when the answer
    /// has no `Date` header.
    pub received_at: Option<SystemTime>,
}

#[derive(Debug)]
enum State {
    /// Ready to send an attempt.
    Ready,
    /// An attempt is out.
    InFlight,
    /// Finished; waiting for the driver to collect the result.
    Finished(Result<Output, Error>),
}

#[derive(Debug)]
struct Call {
    prepared: Prepared,
    state: State,
    attempts: u32,
    deadline: Option<Instant>,
}

/// The engine. See the [module documentation](self).
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    calls: Slots<Call>,
}

impl Engine {
    /// A new engine.
    pub fn new(config: EngineConfig) -> Self {
        Self {
            config,
            calls: Slots::default(),
        }
    }

    /// Submits a call. It ends with exactly one [`Step::Done`].
    pub fn submit(&mut self, prepared: Prepared, options: CallOptions, now: Instant) -> CallId {
        let by_timeout = options.timeout.and_then(|t| now.checked_add(t));
        let deadline = match (by_timeout, options.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.calls.insert(Call {
            prepared,
            state: State::Ready,
            attempts: 0,
            deadline,
        })
    }

    /// What to do next for `id`.
    pub fn poll(&mut self, id: CallId, now: Instant) -> Step {
        let attempt_timeout = self.config.attempt_timeout;
        let Some(call) = self.calls.get_mut(id) else {
            return Step::Done(Err(unknown_call()));
        };
        match &call.state {
            State::Finished(_) => {}
            State::InFlight => return Step::Pending,
            State::Ready => {
                if call.deadline.is_some_and(|d| now >= d) {
                    call.state = State::Finished(Err(deadline_error(call.attempts)));
                } else {
                    call.attempts += 1;
                    call.state = State::InFlight;
                    let by_timeout = now.checked_add(attempt_timeout).unwrap_or(now);
                    let deadline = call.deadline.map_or(by_timeout, |d| d.min(by_timeout));
                    return Step::Send(Attempt {
                        request: call.prepared.attempt(),
                        deadline,
                        stream: call.prepared.is_stream(),
                    });
                }
            }
        }
        match self.calls.remove(id).map(|call| call.state) {
            Some(State::Finished(result)) => Step::Done(result),
            _ => Step::Done(Err(unknown_call())),
        }
    }

    /// Reports a complete answer (any status) to the attempt in flight.
    pub fn on_response(&mut self, id: CallId, response: RawResponse, now: Instant) {
        let secret = self.config.redact.as_ref().map(ApiKey::expose);
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if !matches!(call.state, State::InFlight) {
            return;
        }
        let _ = now;
        let result = decode(
            call.prepared.expect(),
            response.status,
            &response.headers,
            response.body,
            response.received_at,
            secret,
        );
        call.state = State::Finished(finish(result, call.attempts));
    }

    /// Reports that a streaming attempt received a success status; the call is done and its
    /// [`Output::Stream`] carries the answer's metadata. The driver keeps the body.
    pub fn on_stream_open(
        &mut self,
        id: CallId,
        status: StatusCode,
        headers: &HeaderMap,
        now: Instant,
    ) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if !matches!(call.state, State::InFlight) {
            return;
        }
        let _ = now;
        let meta = crate::api::ResponseMeta::from_head(status, headers);
        call.state = State::Finished(finish(Ok(Output::Stream(meta)), call.attempts));
    }

    /// Reports that the attempt failed below HTTP.
    pub fn on_transport_error(&mut self, id: CallId, error: TransportError, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if !matches!(call.state, State::InFlight) {
            return;
        }
        let _ = now;
        call.state = State::Finished(finish(Err(Error::transport(error)), call.attempts));
    }

    /// Reports that the attempt's deadline passed before it completed (the driver dropped it).
    pub fn on_attempt_timeout(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if !matches!(call.state, State::InFlight) {
            return;
        }
        let error = if call.deadline.is_some_and(|d| now >= d) {
            deadline_error(call.attempts)
        } else {
            Error::transport(TransportError::new(
                TransportErrorKind::Timeout,
                format!(
                    "no complete answer within {:.1}s",
                    self.config.attempt_timeout.as_secs_f64()
                ),
            ))
            .with_attempts(call.attempts)
        };
        call.state = State::Finished(Err(error));
    }

    /// Abandons a call (its future or stream was dropped). Its id becomes stale.
    pub fn cancel(&mut self, id: CallId, now: Instant) {
        let _ = now;
        self.calls.remove(id);
    }

    /// Calls submitted and not yet collected.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }
}

fn finish(result: Result<Output, Error>, attempts: u32) -> Result<Output, Error> {
    match result {
        Ok(mut output) => {
            output.meta_mut().attempts = attempts;
            Ok(output)
        }
        Err(error) => Err(error.with_attempts(attempts)),
    }
}

fn deadline_error(attempts: u32) -> Error {
    Error::timeout("the call's deadline passed").with_attempts(attempts)
}

fn unknown_call() -> Error {
    Error::invalid_input("call", "unknown or already finished call id")
}

#[cfg(test)]
mod tests;
