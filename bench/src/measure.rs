//! Measuring one workload: CPU time of the whole process (every thread: the runtime's, the
//! transport's agent thread, the worker threads) from `getrusage(RUSAGE_SELF)`, per-call
//! latencies, and peak RSS.

use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeValLike as _;
use serde::{Deserialize, Serialize};

/// The process's resource usage at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    user_us: i64,
    sys_us: i64,
    max_rss_kib: u64,
}

impl Usage {
    /// Now. A failure of `getrusage` (it has none for `RUSAGE_SELF`) reads as zeros.
    pub(crate) fn now() -> Self {
        match getrusage(UsageWho::RUSAGE_SELF) {
            Ok(usage) => Self {
                user_us: usage.user_time().num_microseconds(),
                sys_us: usage.system_time().num_microseconds(),
                // Linux reports ru_maxrss in KiB.
                max_rss_kib: u64::try_from(usage.max_rss()).unwrap_or(0),
            },
            Err(_) => Self {
                user_us: 0,
                sys_us: 0,
                max_rss_kib: 0,
            },
        }
    }
}

/// What the calls of one window did.
#[derive(Debug, Default)]
pub(crate) struct Outcomes {
    /// Latency of each successful call, in nanoseconds.
    pub(crate) latencies_ns: Vec<u64>,
    /// Stream chunks read, over all calls.
    pub(crate) chunks: u64,
    /// Calls that failed.
    pub(crate) failed: usize,
    /// The first few failures, for stderr.
    pub(crate) errors: Vec<String>,
}

impl Outcomes {
    /// Records one call that took `took` and returned `result` (chunks read, or the error).
    pub(crate) fn record(&mut self, took: Duration, result: Result<u64, String>) {
        match result {
            Ok(chunks) => {
                self.latencies_ns
                    .push(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX));
                self.chunks += chunks;
            }
            Err(error) => {
                self.failed += 1;
                if self.errors.len() < 5 {
                    self.errors.push(error);
                }
            }
        }
    }

    /// Joins the outcomes of another worker.
    pub(crate) fn merge(&mut self, other: Outcomes) {
        self.latencies_ns.extend(other.latencies_ns);
        self.chunks += other.chunks;
        self.failed += other.failed;
        let room = 5usize.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
    }
}

/// Times one call: how long `call` took and what it returned.
pub(crate) fn timed<T>(call: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let result = call();
    (started.elapsed(), result)
}

/// One measurement: the JSON line `blossom-load run` prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Sample {
    pub(crate) path: String,
    pub(crate) scenario: String,
    pub(crate) calls: usize,
    pub(crate) ok: usize,
    pub(crate) wall_s: f64,
    pub(crate) cpu_user_s: f64,
    pub(crate) cpu_sys_s: f64,
    pub(crate) cpu_per_call_us: f64,
    pub(crate) cpu_per_chunk_us: Option<f64>,
    pub(crate) rps: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) max_rss_kib: u64,
    /// Peak RSS before the measured window (after setup and warm-up).
    pub(crate) baseline_rss_kib: u64,
    /// Calls in flight at once.
    pub(crate) concurrency: usize,
}

impl Sample {
    /// The sample of a window that ran from `before` to `after` in `wall` and did `outcomes`.
    pub(crate) fn new(
        (path, scenario): (&str, &str),
        (calls, concurrency, stream): (usize, usize, bool),
        (before, after, wall): (Usage, Usage, Duration),
        mut outcomes: Outcomes,
    ) -> Self {
        let user_s = (after.user_us - before.user_us) as f64 / 1e6;
        let sys_s = (after.sys_us - before.sys_us) as f64 / 1e6;
        let ok = outcomes.latencies_ns.len();
        let cpu_us = (user_s + sys_s) * 1e6;
        outcomes.latencies_ns.sort_unstable();
        let wall_s = wall.as_secs_f64();
        Self {
            path: path.to_owned(),
            scenario: scenario.to_owned(),
            calls,
            ok,
            wall_s,
            cpu_user_s: user_s,
            cpu_sys_s: sys_s,
            cpu_per_call_us: cpu_us / calls.max(1) as f64,
            cpu_per_chunk_us: stream.then(|| cpu_us / outcomes.chunks.max(1) as f64),
            rps: ok as f64 / wall_s.max(1e-9),
            p50_us: percentile_us(&outcomes.latencies_ns, 0.50),
            p99_us: percentile_us(&outcomes.latencies_ns, 0.99),
            max_rss_kib: after.max_rss_kib,
            baseline_rss_kib: before.max_rss_kib,
            concurrency,
        }
    }
}

/// The `q` quantile (nearest rank) of sorted nanosecond values, in microseconds.
fn percentile_us(sorted_ns: &[u64], q: f64) -> f64 {
    if sorted_ns.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted_ns.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted_ns.len()) - 1;
    sorted_ns[index] as f64 / 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).map(|v| v * 1_000).collect();
        assert_eq!(percentile_us(&values, 0.50), 50.0);
        assert_eq!(percentile_us(&values, 0.99), 99.0);
        assert_eq!(percentile_us(&[], 0.5), 0.0);
        assert_eq!(percentile_us(&[7_000], 0.99), 7.0);
    }
}
