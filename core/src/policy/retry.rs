//! Retries: which failures to retry, how long to wait, and a budget so that retries cannot
//! multiply load during an outage.
//!
//! Why a budget: with 2 retries per call, a failing service receives up to three times its
//! normal load exactly when it can least take it. The budget caps retries at a fraction of
//! recent first attempts (20 % by default) plus a small floor, so a healthy client retries
//! freely and a client facing an outage backs off as a whole.

use std::time::{Duration, Instant};

use super::window::TimeWindow;
use crate::error::{Error, ErrorKind, TransportErrorKind};

/// How backoff delays are randomised (see the AWS Architecture Blog, "Exponential Backoff
/// And Jitter").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// Exactly `min(cap, base·2ⁿ)`: synchronised clients retry in lockstep. For tests.
    None,
    /// Uniform in `[0, min(cap, base·2ⁿ)]`: the best spread.
    #[default]
    Full,
    /// Half fixed, half random: never retries immediately.
    Equal,
    /// Uniform in `[base, 3·previous]`, capped: grows from the last delay.
    Decorrelated,
}

/// The retry budget: retries may add at most `ratio` to the rate of first attempts over
/// `window`, with `min_per_second` always allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct BudgetConfig {
    /// Retries allowed per first attempt (0.2 = at most 20 % more requests).
    pub ratio: f64,
    /// Retries per second allowed whatever the traffic, so a quiet client can still retry.
    pub min_per_second: f64,
    /// How far back requests and retries are counted.
    pub window: Duration,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            ratio: 0.2,
            min_per_second: 1.0,
            window: Duration::from_secs(10),
        }
    }
}

/// Retry settings. Set client-wide on the builder, overridable per call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// First backoff step.
    pub base: Duration,
    /// Largest backoff step.
    pub cap: Duration,
    /// Randomisation.
    pub jitter: Jitter,
    /// A server-requested delay above this ends the call instead (with the delay in the error).
    pub max_server_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            jitter: Jitter::Full,
            max_server_delay: Duration::from_secs(120),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again after this delay.
    RetryAfter(Duration),
    /// Stop: the error is final.
    GiveUp(GiveUpReason),
}

/// Why a retryable-looking failure was not retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GiveUpReason {
    /// The failure is not one a retry can fix.
    NotRetryable,
    /// All retries are used.
    Exhausted,
    /// The server asked for a longer wait than the maximum.
    ServerDelayTooLong,
    /// The wait would pass the call's deadline.
    Deadline,
    /// The retry budget is spent.
    Budget,
}

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Whether `error` is worth another attempt, given whether resending is harmless.
    ///
    /// Retried: 408, 429, 500, 502, 503, 504 and 520–530 (unless `x-should-retry: false` or
    /// a quota code), connect failures and resets before any response byte; for idempotent
    /// requests also timeouts, resets while reading the body and malformed success bodies.
    /// Never: 4xx, quota codes, stream errors, invalid input, TLS, oversized bodies.
    pub fn is_retryable(error: &Error, idempotent: bool) -> bool {
        match error.kind() {
            ErrorKind::Api => error.is_retryable(),
            ErrorKind::Transport | ErrorKind::Timeout => match error
                .transport_error()
                .map(|t| t.kind())
            {
                Some(TransportErrorKind::Connect | TransportErrorKind::ResetBeforeResponse) => true,
                Some(
                    TransportErrorKind::Timeout
                    | TransportErrorKind::ResetDuringBody
                    | TransportErrorKind::Other,
                ) => idempotent,
                _ => false,
            },
            ErrorKind::Decode => idempotent && error.is_retryable(),
            _ => false,
        }
    }

    /// The backoff before retry number `retry` (1-based); `previous` is the last delay, for
    /// decorrelated jitter. `unit` is a uniform random number in `[0, 1)`.
    pub fn backoff(&self, retry: u32, previous: Duration, unit: f64) -> Duration {
        let exponent = retry.saturating_sub(1).min(32);
        let exp = self
            .base
            .checked_mul(1u32 << exponent.min(31))
            .unwrap_or(self.cap)
            .min(self.cap);
        let unit = unit.clamp(0.0, 1.0);
        match self.jitter {
            Jitter::None => exp,
            Jitter::Full => exp.mul_f64(unit),
            Jitter::Equal => exp / 2 + (exp / 2).mul_f64(unit),
            Jitter::Decorrelated => {
                let low = self.base;
                let high = previous.max(self.base).saturating_mul(3).max(low);
                (low + (high - low).mul_f64(unit)).min(self.cap)
            }
        }
    }

    /// Decides after failed attempt number `attempts` (1-based).
    ///
    /// The server's delay is never undercut: the wait is the larger of it and the backoff.
    /// A wait that ends after `deadline` gives up at once, as does a server delay above
    /// [`max_server_delay`](Self::max_server_delay).
    #[allow(clippy::too_many_arguments)] // each input is a distinct fact about the failure
    pub fn decide(
        &self,
        error: &Error,
        attempts: u32,
        idempotent: bool,
        previous: Duration,
        unit: f64,
        now: Instant,
        deadline: Option<Instant>,
    ) -> RetryDecision {
        if !Self::is_retryable(error, idempotent) {
            return RetryDecision::GiveUp(GiveUpReason::NotRetryable);
        }
        if let Some(asked) = error.retry_after()
            && asked > self.max_server_delay
        {
            return RetryDecision::GiveUp(GiveUpReason::ServerDelayTooLong);
        }
        if attempts > self.max_retries {
            return RetryDecision::GiveUp(GiveUpReason::Exhausted);
        }
        let backoff = self.backoff(attempts, previous, unit);
        let delay = error
            .retry_after()
            .map_or(backoff, |asked| asked.max(backoff));
        if let Some(deadline) = deadline
            && now.checked_add(delay).is_none_or(|at| at >= deadline)
        {
            return RetryDecision::GiveUp(GiveUpReason::Deadline);
        }
        RetryDecision::RetryAfter(delay)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    requests: u32,
    retries: u32,
}

/// The retry budget's state: requests and retries over a sliding window.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    config: BudgetConfig,
    window: TimeWindow<Counts>,
}

impl RetryBudget {
    /// A budget with `config`.
    pub fn new(config: BudgetConfig) -> Self {
        Self {
            config,
            window: TimeWindow::new(config.window, 10),
        }
    }

    /// Records a first attempt.
    pub fn on_request(&mut self, now: Instant) {
        let bucket = self.window.current(now);
        bucket.requests = bucket.requests.saturating_add(1);
    }

    /// Takes one retry from the budget if there is one left.
    pub fn try_retry(&mut self, now: Instant) -> bool {
        let (requests, retries) = self.window.fold(now, (0u64, 0u64), |(q, r), b| {
            (q + u64::from(b.requests), r + u64::from(b.retries))
        });
        let floor = self.config.min_per_second * self.config.window.as_secs_f64();
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        let allowed = floor.max(self.config.ratio * requests as f64);
        #[allow(clippy::cast_precision_loss)]
        let spent = retries as f64;
        if spent + 1.0 > allowed {
            return false;
        }
        let bucket = self.window.current(now);
        bucket.retries = bucket.retries.saturating_add(1);
        true
    }
}

#[cfg(test)]
mod tests;
