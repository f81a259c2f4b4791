//! Counters, gauges and latency histograms, read as a snapshot.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::codec::EndpointKind;
use crate::error::ErrorKind;

/// Sub-buckets per power of two: about 9 % resolution.
const STEPS: u32 = 8;
/// Octaves of microseconds covered: 1 µs to about 71 minutes.
const OCTAVES: u32 = 32;
const BUCKETS: usize = (STEPS * OCTAVES) as usize + 1;

/// A log-linear latency histogram: constant memory, O(1) record, ~9 % resolution.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    max: Duration,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            max: Duration::ZERO,
        }
    }
}

impl Histogram {
    fn bucket(value: Duration) -> usize {
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX).max(1);
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        // log2 of at most 2^64 fits easily; the result is clamped to the table.
        let index = ((micros as f64).log2() * f64::from(STEPS)).floor() as usize;
        index.min(BUCKETS - 1)
    }

    fn upper_bound(bucket: usize) -> Duration {
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        // bucket < BUCKETS, so the exponent stays below 33.
        let micros = 2f64.powf((bucket + 1) as f64 / f64::from(STEPS));
        Duration::from_secs_f64(micros / 1e6)
    }

    /// Records one value.
    pub fn record(&mut self, value: Duration) {
        self.counts[Self::bucket(value)] += 1;
        self.total += 1;
        self.max = self.max.max(value);
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value below which `quantile` (0..=1) of the values fall, to bucket resolution
    /// (never above the largest value seen).
    pub fn quantile(&self, quantile: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        // a rank between 1 and total
        let rank = ((quantile.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Self::upper_bound(bucket).min(self.max);
            }
        }
        self.max
    }

    /// The largest value seen.
    pub fn max(&self) -> Duration {
        self.max
    }
}

/// Latency percentiles of one endpoint kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LatencySummary {
    /// Calls measured.
    pub count: u64,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl LatencySummary {
    fn of(histogram: &Histogram) -> Self {
        Self {
            count: histogram.count(),
            p50: histogram.quantile(0.5),
            p90: histogram.quantile(0.9),
            p99: histogram.quantile(0.99),
            max: histogram.max(),
        }
    }
}

/// The engine's running totals.
#[derive(Debug, Clone, Default)]
pub(crate) struct Metrics {
    pub(crate) submitted: u64,
    pub(crate) succeeded: u64,
    pub(crate) failed: BTreeMap<&'static str, u64>,
    pub(crate) attempts: u64,
    pub(crate) retried: u64,
    pub(crate) cache_hits: u64,
    pub(crate) coalesced: u64,
    pub(crate) breaker_rejections: u64,
    pub(crate) limiter_waits: u64,
    pub(crate) timeouts: u64,
    pub(crate) cancelled: u64,
    pub(crate) max_in_flight: u64,
    pub(crate) latency: [Histogram; 4],
}

impl Metrics {
    pub(crate) fn failed(&mut self, kind: ErrorKind) {
        *self.failed.entry(kind.as_str()).or_default() += 1;
        if kind == ErrorKind::Timeout {
            self.timeouts += 1;
        }
    }

    pub(crate) fn latency(&mut self, endpoint: EndpointKind, took: Duration) {
        self.latency[endpoint.index()].record(took);
    }

    pub(crate) fn summaries(&self) -> BTreeMap<&'static str, LatencySummary> {
        EndpointKind::ALL
            .iter()
            .filter(|kind| self.latency[kind.index()].count() > 0)
            .map(|kind| {
                (
                    kind.as_str(),
                    LatencySummary::of(&self.latency[kind.index()]),
                )
            })
            .collect()
    }
}

/// A breaker's state as reported in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BreakerStatus {
    /// Calls flow.
    Closed,
    /// Calls fail fast; `retry_in` until the next probe.
    Open {
        /// Time until probes are let through.
        retry_in: Duration,
    },
    /// Probes are going through.
    HalfOpen,
}

/// Everything the client has measured, at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Calls submitted.
    pub submitted: u64,
    /// Calls that succeeded.
    pub succeeded: u64,
    /// Calls that failed, by error kind (`api`, `transport`, `timeout`, …).
    pub failed: BTreeMap<&'static str, u64>,
    /// Network attempts made (first tries and retries).
    pub attempts: u64,
    /// Retries made.
    pub retried: u64,
    /// Calls answered from the client's cache.
    pub cache_hits: u64,
    /// Calls that shared another identical call's network request.
    pub coalesced: u64,
    /// Calls failed fast by an open breaker.
    pub breaker_rejections: u64,
    /// Calls that waited for the rate limiter.
    pub limiter_waits: u64,
    /// Calls that ran out of time.
    pub timeouts: u64,
    /// Calls cancelled (dropped) before they finished.
    pub cancelled: u64,
    /// Calls holding a permit now (sending, waiting for an answer, streaming or in backoff).
    pub in_flight: u64,
    /// Calls waiting for a permit now.
    pub queued: u64,
    /// The most calls ever holding permits at once.
    pub max_in_flight: u64,
    /// Breaker state per endpoint kind (absent when breakers are off).
    pub breakers: BTreeMap<&'static str, BreakerStatus>,
    /// How many times breakers opened, in total.
    pub breaker_opened: u64,
    /// Latency percentiles per endpoint kind, from submission to the end of the call.
    pub latency: BTreeMap<&'static str, LatencySummary>,
    /// Bytes held by the response cache.
    pub cache_bytes: u64,
}

impl MetricsSnapshot {
    /// Calls that failed, all kinds together.
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }

    /// Calls that ended (succeeded, failed or cancelled).
    pub fn finished(&self) -> u64 {
        self.succeeded + self.failed_total() + self.cancelled
    }

    /// Succeeded calls as a share of finished ones (1.0 when none finished).
    pub fn success_rate(&self) -> f64 {
        let ended = self.succeeded + self.failed_total();
        if ended == 0 {
            return 1.0;
        }
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        let rate = self.succeeded as f64 / ended as f64;
        rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_close() {
        let mut histogram = Histogram::default();
        for ms in 1..=1000u64 {
            histogram.record(Duration::from_millis(ms));
        }
        let p50 = histogram.quantile(0.5).as_secs_f64();
        let p99 = histogram.quantile(0.99).as_secs_f64();
        assert!((0.5..0.56).contains(&p50), "{p50}");
        assert!((0.99..1.0001).contains(&p99), "{p99}");
        assert_eq!(histogram.max(), Duration::from_secs(1));
        assert_eq!(histogram.quantile(1.0), Duration::from_secs(1));
        assert_eq!(Histogram::default().quantile(0.5), Duration::ZERO);
        let mut tiny = Histogram::default();
        tiny.record(Duration::ZERO);
        tiny.record(Duration::from_secs(100_000));
        assert_eq!(tiny.count(), 2);
    }
}
