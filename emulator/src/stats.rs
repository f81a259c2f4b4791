//! What the emulator saw: request counts by route, key and status, cache and rate-limit
//! outcomes, injected faults, connections, requests in flight and abandoned streams.
//! Read in-process with [`Emulator::stats`](crate::Emulator::stats) or over HTTP at
//! `GET /__emulator/stats` (same data); zero with
//! [`Emulator::reset_stats`](crate::Emulator::reset_stats) or `POST /__emulator/reset`.
//!
//! Requests to the emulator's own `/__emulator/…` routes are not counted, so reading the
//! stats does not change them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A snapshot of the emulator's counters.
///
/// Keys appear only as redacted labels: the first 7 characters and "…" (`"sk_abcd…"`),
/// `"invalid"` for a malformed key, `"anonymous"` without one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Stats {
    /// Every request that reached the server (except `/__emulator/…`), whatever the
    /// outcome: injected faults included, even a `reset` that got no answer at all. So
    /// tests can count attempts.
    pub requests_total: u64,
    /// Answered requests by route (a request whose client hung up before its answer is in
    /// `requests_total` only), keyed like `"POST /v1/chat/completions"`, `"GET /image"`,
    /// `"GET /text/models"`; unknown routes count under `"404"`.
    pub by_route: BTreeMap<String, u64>,
    /// Requests by redacted key label.
    pub by_key: BTreeMap<String, u64>,
    /// Generations answered from the server cache (`X-Cache: HIT`).
    pub cache_hits: u64,
    /// Generations computed and stored (`X-Cache: MISS`).
    pub cache_misses: u64,
    /// Requests refused with 429.
    pub rate_limited: u64,
    /// Error answers (status ≥ 400) by status code.
    pub errors_by_status: BTreeMap<u16, u64>,
    /// Injected faults by token: `"503"`, `"429"` (any injected status by its code),
    /// `"reset"`, `"reset_body"`, `"stall"`, `"truncate"`, `"stream_error"`,
    /// `"malformed"`, and `"latency"` (requests delayed, whatever else happened to them).
    /// Injected statuses also count in [`Stats::errors_by_status`].
    pub faults: BTreeMap<String, u64>,
    /// TCP connections accepted (HTTP/1.1 keep-alive and HTTP/2 reuse one for many
    /// requests).
    pub connections_opened: u64,
    /// API requests being handled now: from arrival until the answer is written, or for
    /// streamed bodies (SSE, stalls) until the body ends or is abandoned.
    pub in_flight: u64,
    /// The most API requests in flight at once.
    pub max_in_flight: u64,
    /// Streamed answers (SSE streams, stalled and cut bodies) whose client closed the
    /// connection, or cancelled the HTTP/2 stream, before the body was fully sent.
    /// Closes made by the emulator itself (injected faults, stopping) are not counted.
    pub aborted_by_client: u64,
}

impl Stats {
    /// Requests counted for a route label such as `"GET /image"` (0 if none).
    pub fn route(&self, label: &str) -> u64 {
        self.by_route.get(label).copied().unwrap_or(0)
    }

    /// Error answers counted for a status code (0 if none).
    pub fn errors(&self, status: u16) -> u64 {
        self.errors_by_status.get(&status).copied().unwrap_or(0)
    }

    /// Injected faults counted under a token such as `"503"` or `"reset"` (0 if none).
    pub fn fault(&self, token: &str) -> u64 {
        self.faults.get(token).copied().unwrap_or(0)
    }

    /// Counts one request as it arrives, before anything is answered (a client that hangs up
    /// before the answer still made its attempt).
    pub(crate) fn arrived(&mut self, key_label: &str) {
        self.requests_total += 1;
        *self.by_key.entry(key_label.to_owned()).or_default() += 1;
    }

    /// Counts the answer to a request counted by [`Stats::arrived`].
    pub(crate) fn answered(&mut self, route: &str, status: u16) {
        *self.by_route.entry(route.to_owned()).or_default() += 1;
        if status == 429 {
            self.rate_limited += 1;
        }
        if status >= 400 {
            *self.errors_by_status.entry(status).or_default() += 1;
        }
    }
}

/// The route label a handler attaches to its response, read by the observing middleware.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteLabel(pub(crate) &'static str);

/// The label of requests no route matched.
pub(crate) const NOT_FOUND_LABEL: &str = "404";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_round_trips_through_json() {
        let mut stats = Stats::default();
        for (route, key, status) in [
            ("GET /image", "sk_abcd…", 200),
            ("GET /image", "pk_abcd…", 429),
            (NOT_FOUND_LABEL, "anonymous", 404),
        ] {
            stats.arrived(key);
            stats.answered(route, status);
        }
        assert_eq!(stats.requests_total, 3);
        assert_eq!(stats.route("GET /image"), 2);
        assert_eq!(stats.rate_limited, 1);
        assert_eq!(stats.errors(404), 1);
        let json = serde_json::to_string(&stats).unwrap();
        let back: Stats = serde_json::from_str(&json).unwrap();
        assert_eq!(back, stats);
    }
}
