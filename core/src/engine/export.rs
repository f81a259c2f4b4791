//! The engine's counters, gauges and latencies, published through the `metrics` facade when
//! the `metrics` cargo feature is on (every function here is empty without it). Names and
//! labels follow Prometheus conventions (`*_total` counters, `*_seconds` histograms, an
//! `endpoint` label of `text`, `image`, `audio` or `models`), so any `metrics` exporter works.
//! The series are process-wide: several clients add to the same ones.
//!
//! Publishing never changes a decision: every value is one the engine computed anyway, and
//! [`Engine::metrics`](super::Engine::metrics) keeps its own counts whatever a recorder does.

#![cfg_attr(not(feature = "metrics"), allow(unused_variables))]

use std::time::{Duration, Instant};

use crate::codec::EndpointKind;
use crate::policy::BreakerState;

/// Calls ended, by `endpoint` and `outcome` (`ok`, or the error kind: `api`, `timeout`, …).
pub const CALLS_TOTAL: &str = "blossom_calls_total";
/// Call latency from submission to result, by `endpoint` and `outcome`.
pub const CALL_DURATION_SECONDS: &str = "blossom_call_duration_seconds";
/// HTTP attempts sent, by `endpoint`.
pub const ATTEMPTS_TOTAL: &str = "blossom_attempts_total";
/// HTTP answers received, by `endpoint` and `status`.
pub const RESPONSES_TOTAL: &str = "blossom_responses_total";
/// Attempt latency until the whole answer (a stream's: until its first event), by `endpoint`.
pub const ATTEMPT_DURATION_SECONDS: &str = "blossom_attempt_duration_seconds";
/// Retries scheduled, by `endpoint`.
pub const RETRIES_TOTAL: &str = "blossom_retries_total";
/// Calls answered from the client's cache, by `endpoint`.
pub const CACHE_HITS_TOTAL: &str = "blossom_cache_hits_total";
/// Calls that waited for an identical call in flight instead of sending, by `endpoint`.
pub const COALESCED_TOTAL: &str = "blossom_coalesced_calls_total";
/// Calls that had to wait for the client's rate limiter, by `endpoint`.
pub const LIMITER_WAITS_TOTAL: &str = "blossom_limiter_waits_total";
/// 429 answers that paused the rate limiter, by `endpoint`.
pub const THROTTLED_TOTAL: &str = "blossom_server_throttled_total";
/// Calls failed fast by an open circuit breaker, by `endpoint`.
pub const BREAKER_REJECTIONS_TOTAL: &str = "blossom_breaker_rejections_total";
/// A circuit breaker's state, by `endpoint`: 0 closed, 1 half-open, 2 open.
pub const BREAKER_STATE: &str = "blossom_breaker_state";
/// Calls abandoned by their caller (a dropped future or stream), by `endpoint`.
pub const CANCELLED_TOTAL: &str = "blossom_cancelled_calls_total";
/// Calls holding a permit (sending, waiting to retry, or streaming).
pub const CALLS_IN_FLIGHT: &str = "blossom_calls_in_flight";
/// Calls waiting for a permit.
pub const CALLS_QUEUED: &str = "blossom_calls_queued";

/// Describes every series to the installed recorder (units and help texts).
pub(super) fn describe() {
    #[cfg(feature = "metrics")]
    {
        use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
        describe_counter!(CALLS_TOTAL, "Calls ended, by endpoint and outcome.");
        describe_histogram!(
            CALL_DURATION_SECONDS,
            Unit::Seconds,
            "Call latency from submission to result."
        );
        describe_counter!(ATTEMPTS_TOTAL, "HTTP attempts sent.");
        describe_counter!(RESPONSES_TOTAL, "HTTP answers received, by status.");
        describe_histogram!(
            ATTEMPT_DURATION_SECONDS,
            Unit::Seconds,
            "Attempt latency until the whole answer (a stream's first event)."
        );
        describe_counter!(RETRIES_TOTAL, "Retries scheduled.");
        describe_counter!(CACHE_HITS_TOTAL, "Calls answered from the client's cache.");
        describe_counter!(
            COALESCED_TOTAL,
            "Calls that shared an identical call's answer."
        );
        describe_counter!(
            LIMITER_WAITS_TOTAL,
            "Calls that waited for the rate limiter."
        );
        describe_counter!(THROTTLED_TOTAL, "429 answers that paused the rate limiter.");
        describe_counter!(
            BREAKER_REJECTIONS_TOTAL,
            "Calls failed fast by an open breaker."
        );
        describe_gauge!(
            BREAKER_STATE,
            "Breaker state: 0 closed, 1 half-open, 2 open."
        );
        describe_counter!(CANCELLED_TOTAL, "Calls abandoned by their caller.");
        describe_gauge!(CALLS_IN_FLIGHT, "Calls holding a permit.");
        describe_gauge!(CALLS_QUEUED, "Calls waiting for a permit.");
    }
}

/// A counter of `endpoint` goes up by one.
pub(super) fn count(name: &'static str, endpoint: EndpointKind) {
    #[cfg(feature = "metrics")]
    metrics::counter!(name, "endpoint" => endpoint.as_str()).increment(1);
}

/// A call ended with `outcome` after `took`.
pub(super) fn call_ended(endpoint: EndpointKind, outcome: &'static str, took: Duration) {
    #[cfg(feature = "metrics")]
    {
        let labels = [("endpoint", endpoint.as_str()), ("outcome", outcome)];
        metrics::counter!(CALLS_TOTAL, &labels).increment(1);
        metrics::histogram!(CALL_DURATION_SECONDS, &labels).record(took.as_secs_f64());
    }
}

/// An attempt started at `started` was answered with `status` at `now`.
pub(super) fn answered(endpoint: EndpointKind, status: u16, started: Instant, now: Instant) {
    #[cfg(feature = "metrics")]
    {
        let took = now.saturating_duration_since(started);
        metrics::counter!(
            RESPONSES_TOTAL,
            "endpoint" => endpoint.as_str(),
            "status" => status.to_string()
        )
        .increment(1);
        metrics::histogram!(ATTEMPT_DURATION_SECONDS, "endpoint" => endpoint.as_str())
            .record(took.as_secs_f64());
    }
}

/// The breaker of `endpoint` is now in `state`.
pub(super) fn breaker(endpoint: EndpointKind, state: BreakerState) {
    #[cfg(feature = "metrics")]
    {
        let value = match state {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open { .. } => 2.0,
        };
        metrics::gauge!(BREAKER_STATE, "endpoint" => endpoint.as_str()).set(value);
    }
}

/// Permits held and calls queued, after a change.
pub(super) fn occupancy(in_flight: usize, queued: usize) {
    #[cfg(feature = "metrics")]
    {
        #[allow(clippy::cast_precision_loss)]
        // Counts of calls: far below 2^52, exact as f64.
        let (in_flight, queued) = (in_flight as f64, queued as f64);
        metrics::gauge!(CALLS_IN_FLIGHT).set(in_flight);
        metrics::gauge!(CALLS_QUEUED).set(queued);
    }
}
