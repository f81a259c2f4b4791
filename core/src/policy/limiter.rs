//! Client-side pacing: a GCRA rate limiter with an optional concurrency cap, slowed down by
//! the server's 429s and recovering gradually.
//!
//! Why on the client: the service has no queue; a request over the limit is answered 429 and
//! wasted. Pacing before sending turns those rejections into short waits. GCRA (the generic
//! cell rate algorithm) keeps one timestamp per limiter — the theoretical arrival time of the
//! next request — so a check is O(1) and exact: in any window of length `t`, at most
//! `burst + rate·t` requests pass.

use std::time::{Duration, Instant};

/// A rate (with burst) and an optional cap on calls in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Sustained requests per second; `None` for no rate limit (the cap and 429 pauses still apply).
    pub per_second: Option<f64>,
    /// Requests that may go at once after a quiet period (at least 1).
    pub burst: u32,
    /// At most this many calls in flight at once ("one generation at a time" is `Some(1)`).
    pub max_concurrent: Option<u32>,
}

impl RateLimit {
    /// `per_second` sustained with `burst`.
    pub fn per_second(per_second: f64, burst: u32) -> Self {
        Self {
            per_second: Some(per_second),
            burst: burst.max(1),
            max_concurrent: None,
        }
    }

    /// No rate, only a concurrency cap.
    pub fn concurrency(max: u32) -> Self {
        Self {
            per_second: None,
            burst: 1,
            max_concurrent: Some(max.max(1)),
        }
    }

    /// No rate and no cap: only the server's 429 pauses apply.
    pub fn unlimited() -> Self {
        Self {
            per_second: None,
            burst: 1,
            max_concurrent: None,
        }
    }

    /// Adds a concurrency cap.
    #[must_use]
    pub fn with_max_concurrent(mut self, max: u32) -> Self {
        self.max_concurrent = Some(max.max(1));
        self
    }
}

/// Why a call cannot go yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Try again at this instant.
    Until(Instant),
    /// Wait until a call in flight finishes.
    Slot,
}

/// The slowest the limiter goes after repeated 429s: this fraction of the configured rate.
const MIN_PACE: f64 = 1.0 / 16.0;
/// After a slowdown, this share of the configured rate comes back per second without a 429
/// (additive increase, multiplicative decrease: the pace settles just under the server's).
const RECOVERY_PER_SECOND: f64 = 0.1;

/// One limiter's state.
#[derive(Debug, Clone)]
pub struct Limiter {
    limit: RateLimit,
    /// Theoretical arrival time of the next request (GCRA).
    tat: Option<Instant>,
    /// Nothing passes before this (the server asked to wait).
    paused_until: Option<Instant>,
    /// The share of the configured rate right after the last 429 (1.0 without one)…
    pace: f64,
    /// …and when it starts recovering from there.
    recovering_since: Option<Instant>,
    in_flight: u32,
}

impl Limiter {
    /// A fresh limiter.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            tat: None,
            paused_until: None,
            pace: 1.0,
            recovering_since: None,
            in_flight: 0,
        }
    }

    /// The share of the configured rate in force at `now` (1.0 unless slowed by 429s).
    pub fn pace(&self, now: Instant) -> f64 {
        match self.recovering_since {
            Some(since) if now > since => {
                let recovered = now.duration_since(since).as_secs_f64() * RECOVERY_PER_SECOND;
                (self.pace + recovered).min(1.0)
            }
            _ => self.pace,
        }
    }

    fn interval(&self, now: Instant) -> Option<Duration> {
        let rate = self
            .limit
            .per_second
            .filter(|r| r.is_finite() && *r > 0.0)?;
        Duration::try_from_secs_f64(1.0 / (rate * self.pace(now))).ok()
    }

    /// Whether a call may go at `now`; does not consume anything.
    ///
    /// # Errors
    /// The [`Hold`] that keeps it back.
    pub fn check(&self, now: Instant) -> Result<(), Hold> {
        if let Some(until) = self.paused_until
            && now < until
        {
            return Err(Hold::Until(until));
        }
        if let Some(interval) = self.interval(now)
            && let Some(tat) = self.tat
        {
            let tolerance = interval.saturating_mul(self.limit.burst.max(1) - 1);
            let earliest = tat.checked_sub(tolerance).unwrap_or(now);
            if now < earliest {
                return Err(Hold::Until(earliest));
            }
        }
        if self
            .limit
            .max_concurrent
            .is_some_and(|max| self.in_flight >= max)
        {
            return Err(Hold::Slot);
        }
        Ok(())
    }

    /// Consumes one request at `now` (call after a successful [`check`](Self::check)).
    pub fn take(&mut self, now: Instant) {
        if let Some(interval) = self.interval(now) {
            let base = self.tat.map_or(now, |tat| tat.max(now));
            self.tat = base.checked_add(interval);
        }
        self.in_flight += 1;
    }

    /// A call that took a token finished; `throttled` carries the server's requested delay
    /// when it answered 429 (`Some(None)` for a 429 without one).
    ///
    /// Returns whether a concurrency slot was freed (someone may be waiting for it).
    pub fn release(&mut self, now: Instant, throttled: Option<Option<Duration>>) -> bool {
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(asked) = throttled {
            let pause = asked.unwrap_or(Duration::from_secs(1));
            let until = crate::time::after(now, pause);
            let until = self.paused_until.map_or(until, |p| p.max(until));
            self.paused_until = Some(until);
            self.pace = (self.pace(now) / 2.0).max(MIN_PACE);
            self.recovering_since = Some(until);
            // Restart pacing from the end of the pause: no burst right after a 429.
            if let Some(interval) = self.interval(until) {
                let tolerance = interval.saturating_mul(self.limit.burst.max(1) - 1);
                self.tat = until.checked_add(tolerance);
            }
        }
        self.limit.max_concurrent.is_some()
    }

    /// Gives back a token taken for a call that never went out (cancelled before sending).
    pub fn abandon(&mut self) -> bool {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.limit.max_concurrent.is_some()
    }

    /// Calls in flight through this limiter.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::origin;
    use proptest::prelude::*;

    #[test]
    fn burst_then_rate() {
        let t0 = origin();
        let mut limiter = Limiter::new(RateLimit::per_second(2.0, 3));
        for _ in 0..3 {
            assert_eq!(limiter.check(t0), Ok(()));
            limiter.take(t0);
        }
        assert_eq!(
            limiter.check(t0),
            Err(Hold::Until(t0 + Duration::from_millis(500)))
        );
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(limiter.check(t1), Ok(()));
        limiter.take(t1);
        assert_eq!(
            limiter.check(t1),
            Err(Hold::Until(t0 + Duration::from_secs(1)))
        );
    }

    #[test]
    fn concurrency_cap() {
        let t0 = origin();
        let mut limiter = Limiter::new(RateLimit::concurrency(1));
        limiter.take(t0);
        assert_eq!(limiter.check(t0), Err(Hold::Slot));
        assert!(limiter.release(t0, None));
        assert_eq!(limiter.check(t0), Ok(()));
    }

    #[test]
    fn a_429_pauses_and_slows_then_recovers() {
        let t0 = origin();
        let mut limiter = Limiter::new(RateLimit::per_second(10.0, 5));
        limiter.take(t0);
        limiter.release(t0, Some(Some(Duration::from_secs(3))));
        assert_eq!(
            limiter.check(t0),
            Err(Hold::Until(t0 + Duration::from_secs(3)))
        );
        let t1 = t0 + Duration::from_secs(3);
        assert_eq!(limiter.pace(t1), 0.5);
        assert_eq!(limiter.check(t1), Ok(()));
        limiter.take(t1);
        // Slowed to 5/s: the next one waits 200 ms, not 100 ms (and no burst after a 429).
        assert_eq!(
            limiter.check(t1),
            Err(Hold::Until(t1 + Duration::from_millis(200)))
        );
        // Recovery is gradual: a tenth of the rate per second.
        assert!((limiter.pace(t1 + Duration::from_secs(2)) - 0.7).abs() < 1e-9);
        assert_eq!(limiter.pace(t1 + Duration::from_secs(5)), 1.0);
        // A second 429 halves the pace in force.
        limiter.release(t1 + Duration::from_secs(2), Some(None));
        assert!((limiter.pace(t1 + Duration::from_secs(3)) - 0.35).abs() < 1e-9);
        // Unlimited limiters still pause for the server.
        let mut free = Limiter::new(RateLimit::unlimited());
        free.take(t0);
        free.release(t0, Some(None));
        assert_eq!(
            free.check(t0),
            Err(Hold::Until(t0 + Duration::from_secs(1)))
        );
    }

    proptest! {
        /// In any window of length t, at most burst + rate·t requests pass.
        #[test]
        fn never_more_than_the_quota(
            rate in 0.5f64..50.0,
            burst in 1u32..10,
            gaps in proptest::collection::vec(0u64..400, 1..300),
        ) {
            let t0 = origin();
            let mut limiter = Limiter::new(RateLimit::per_second(rate, burst));
            let mut now = t0;
            let mut admitted: Vec<Instant> = Vec::new();
            for gap in gaps {
                now += Duration::from_millis(gap);
                if limiter.check(now).is_ok() {
                    limiter.take(now);
                    limiter.release(now, None);
                    admitted.push(now);
                }
            }
            for (i, start) in admitted.iter().enumerate() {
                for (j, end) in admitted.iter().enumerate().skip(i) {
                    let span = end.duration_since(*start).as_secs_f64();
                    let count = (j - i + 1) as f64;
                    prop_assert!(count <= f64::from(burst) + rate * span + 1e-6,
                        "{count} requests in {span}s at {rate}/s burst {burst}");
                }
            }
        }
    }
}
