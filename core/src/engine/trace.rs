//! What the engine reports through `tracing`: one span per call, and the names its events
//! use. Reporting never changes a decision: every value shown is one the engine computed
//! anyway, and nothing here reads a clock or the environment.
//!
//! Levels follow library convention: `debug` for what happens to one call (attempts, retry
//! decisions, pacing, cache hits), `info` for client-wide changes (a circuit breaker changing
//! state, shutdown), `warn` only for what the user can act on. The key never appears:
//! requests and answers are reported as lengths.

use std::time::{Duration, Instant};

use tracing::Span;

use super::CallId;
use crate::codec::{EndpointKind, Output, Prepared};
use crate::error::Error;
use crate::policy::breaker::{Outcome, Pass};
use crate::policy::{Breaker, BreakerState};

/// The span of one call, from its submission until its result is collected (a stream's, until
/// its end). Its `id` is recorded once the call has one.
pub(super) fn call_span(prepared: &Prepared) -> Span {
    let request = prepared.request();
    let request_bytes = request.body().len() + request.uri().path().len();
    tracing::debug_span!(
        "blossom.call",
        id = tracing::field::Empty,
        endpoint = prepared.endpoint().as_str(),
        model = prepared.model().unwrap_or("default"),
        request_bytes,
    )
}

/// Records the call's id on its span.
pub(super) fn name_call(span: &Span, id: CallId) {
    span.record("id", tracing::field::display(id));
}

/// A duration as whole milliseconds, the unit every event uses.
pub(super) fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A breaker state's name, without its instant.
pub(super) fn breaker_state_name(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "closed",
        BreakerState::Open { .. } => "open",
        BreakerState::HalfOpen => "half-open",
    }
}

/// Reports a breaker's change of state (`info`: it affects every call of `endpoint`).
pub(super) fn breaker_change(endpoint: EndpointKind, before: BreakerState, after: BreakerState) {
    if std::mem::discriminant(&before) == std::mem::discriminant(&after) {
        return;
    }
    super::export::breaker(endpoint, after);
    tracing::info!(
        endpoint = endpoint.as_str(),
        from = breaker_state_name(before),
        to = breaker_state_name(after),
        "circuit breaker changed state"
    );
}

/// Reports how a call ended.
pub(super) fn call_end(
    span: &Span,
    result: &Result<Output, Error>,
    attempts: u32,
    elapsed: Duration,
) {
    match result {
        Ok(output) => tracing::debug!(
            parent: span,
            attempts,
            elapsed_ms = ms(elapsed),
            answer_len = answer_len(output),
            "call succeeded"
        ),
        Err(error) => tracing::debug!(
            parent: span,
            attempts,
            elapsed_ms = ms(elapsed),
            error = %error,
            "call failed"
        ),
    }
}

/// The size of an answer: characters of text, bytes of media, entries of a list (`0` for a
/// stream, whose chunks are reported as they come).
fn answer_len(output: &Output) -> usize {
    match output {
        Output::Chat(chat) => chat.text().len(),
        Output::Text(text) => text.text.len(),
        Output::Media(media) => media.bytes.len(),
        Output::Models(models) => models.models.len(),
        Output::Stream(_) => 0,
    }
}

/// Feeds an attempt's outcome to `breaker`, reporting the change of state it causes.
pub(super) fn recorded(
    breaker: &mut Breaker,
    endpoint: EndpointKind,
    pass: Pass,
    outcome: Outcome,
    took: Duration,
    now: Instant,
) {
    let before = breaker.settled_state();
    breaker.record(pass, outcome, took, now);
    breaker_change(endpoint, before, breaker.settled_state());
}
