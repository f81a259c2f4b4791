//! The circuit breaker: stop sending to an endpoint that is failing, probe it now and then,
//! and resume when probes succeed.
//!
//! Why: when the service is down, every call waiting for its timeout holds a connection and
//! a permit and adds load to a struggling server. An open breaker fails calls at once with
//! the time of the next probe, so callers can shed or defer work instead.
//!
//! States: **closed** (calls flow; outcomes are recorded in a count- or time-based window),
//! **open** (calls fail fast until `open_for` has passed), **half-open** (a few probe calls
//! are let through; all succeeding closes the breaker, any failing re-opens it). Only
//! outcomes that say the service is unhealthy count as failures: 5xx, timeouts, connection
//! failures. The caller's own 4xx count as successes (the service answered properly); 429
//! and cancellations are ignored.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::window::TimeWindow;

/// How outcomes are remembered while closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BreakerWindow {
    /// The last N outcomes.
    Count(u32),
    /// The outcomes of the last duration.
    Time(Duration),
}

/// Breaker settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BreakerConfig {
    /// The window outcomes are counted over.
    pub window: BreakerWindow,
    /// Open when at least this share of calls in the window failed (0..=1).
    pub failure_rate: f64,
    /// Open when at least this share of calls in the window were slow (1.0 = only if all).
    pub slow_call_rate: f64,
    /// A call slower than this counts as slow.
    pub slow_call_duration: Duration,
    /// Rates are judged only once the window holds this many calls.
    pub minimum_calls: u32,
    /// Open also after this many failures in a row, whatever the rates.
    pub consecutive_failures: Option<u32>,
    /// How long the breaker stays open before letting probes through.
    pub open_for: Duration,
    /// How many probes half-open lets through; all must succeed to close.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            window: BreakerWindow::Count(50),
            failure_rate: 0.5,
            slow_call_rate: 1.0,
            slow_call_duration: Duration::from_secs(60),
            minimum_calls: 10,
            consecutive_failures: None,
            open_for: Duration::from_secs(15),
            half_open_probes: 2,
        }
    }
}

impl BreakerConfig {
    /// The simple preset: open after `failures` consecutive failures, probe after `open_for`.
    pub fn consecutive(failures: u32, open_for: Duration) -> Self {
        Self {
            window: BreakerWindow::Count(failures.max(1)),
            failure_rate: 1.0,
            minimum_calls: u32::MAX,
            consecutive_failures: Some(failures.max(1)),
            open_for,
            half_open_probes: 1,
            ..Self::default()
        }
    }
}

/// How a call through the breaker ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The service answered (including the caller's own 4xx).
    Success,
    /// The service is unhealthy: 5xx, timeout, connection failure.
    Failure,
    /// Says nothing about health (429, cancellation).
    Ignored,
}

/// The breaker's state, for metrics and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls fail fast until the instant.
    Open {
        /// When probes will be let through.
        until: Instant,
    },
    /// Probes are being let through.
    HalfOpen,
}

/// Proof that a call was let through; hand it back with the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    generation: u64,
    probe: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    calls: u32,
    failures: u32,
    slow: u32,
}

#[derive(Debug, Clone)]
enum Window {
    Count {
        last: VecDeque<(bool, bool)>,
        size: usize,
        counts: Counts,
    },
    Time(TimeWindow<Counts>),
}

impl Window {
    fn new(kind: BreakerWindow) -> Self {
        match kind {
            BreakerWindow::Count(n) => {
                let size = usize::try_from(n.max(1)).unwrap_or(usize::MAX);
                Self::Count {
                    last: VecDeque::with_capacity(size.min(1024)),
                    size,
                    counts: Counts::default(),
                }
            }
            BreakerWindow::Time(span) => Self::Time(TimeWindow::new(span, 10)),
        }
    }

    fn record(&mut self, failed: bool, slow: bool, now: Instant) -> Counts {
        match self {
            Self::Count { last, size, counts } => {
                if last.len() == *size
                    && let Some((f, s)) = last.pop_front()
                {
                    counts.calls -= 1;
                    counts.failures -= u32::from(f);
                    counts.slow -= u32::from(s);
                }
                last.push_back((failed, slow));
                counts.calls += 1;
                counts.failures += u32::from(failed);
                counts.slow += u32::from(slow);
                *counts
            }
            Self::Time(window) => {
                let bucket = window.current(now);
                bucket.calls += 1;
                bucket.failures += u32::from(failed);
                bucket.slow += u32::from(slow);
                window.fold(now, Counts::default(), |mut acc, b| {
                    acc.calls += b.calls;
                    acc.failures += b.failures;
                    acc.slow += b.slow;
                    acc
                })
            }
        }
    }

    fn clear(&mut self) {
        match self {
            Self::Count { last, counts, .. } => {
                last.clear();
                *counts = Counts::default();
            }
            Self::Time(window) => window.clear(),
        }
    }
}

/// One circuit breaker. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    state: BreakerState,
    window: Window,
    consecutive: u32,
    probes_out: u32,
    probes_ok: u32,
    generation: u64,
    opened: u64,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            window: Window::new(config.window),
            config,
            state: BreakerState::Closed,
            consecutive: 0,
            probes_out: 0,
            probes_ok: 0,
            generation: 0,
            opened: 0,
        }
    }

    /// The state at `now` (an open breaker whose time is up reports half-open).
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.state {
            BreakerState::Open { until } if now >= until => BreakerState::HalfOpen,
            state => state,
        }
    }

    /// The state as last changed by a call (an open breaker stays open here until a call
    /// asks to pass after its time is up): what state-change reports compare.
    pub(crate) fn settled_state(&self) -> BreakerState {
        self.state
    }

    /// How many times it has opened.
    pub fn times_opened(&self) -> u64 {
        self.opened
    }

    /// Asks to let a call through.
    ///
    /// # Errors
    /// When the breaker is open, or half-open with all probes out: the error is the instant
    /// the next probe may go (`None` when that depends on probes still out).
    pub fn try_pass(&mut self, now: Instant) -> Result<Pass, Option<Instant>> {
        if let BreakerState::Open { until } = self.state {
            if now < until {
                return Err(Some(until));
            }
            self.transition(BreakerState::HalfOpen);
        }
        match self.state {
            BreakerState::HalfOpen => {
                if self.probes_out + self.probes_ok >= self.config.half_open_probes.max(1) {
                    return Err(None);
                }
                self.probes_out += 1;
                Ok(Pass {
                    generation: self.generation,
                    probe: true,
                })
            }
            _ => Ok(Pass {
                generation: self.generation,
                probe: false,
            }),
        }
    }

    /// Reports how a call that was let through ended, and how long it took.
    pub fn record(&mut self, pass: Pass, outcome: Outcome, took: Duration, now: Instant) {
        if pass.generation != self.generation {
            // The call started before the last state change; its outcome is stale.
            return;
        }
        if pass.probe {
            self.probes_out = self.probes_out.saturating_sub(1);
            match outcome {
                Outcome::Failure => self.open(now),
                Outcome::Success => {
                    self.probes_ok += 1;
                    if self.probes_ok >= self.config.half_open_probes.max(1) {
                        self.transition(BreakerState::Closed);
                    }
                }
                Outcome::Ignored => {}
            }
            return;
        }
        if outcome == Outcome::Ignored {
            return;
        }
        let failed = outcome == Outcome::Failure;
        let slow = took >= self.config.slow_call_duration;
        self.consecutive = if failed { self.consecutive + 1 } else { 0 };
        let counts = self.window.record(failed, slow, now);
        let by_streak = self
            .config
            .consecutive_failures
            .is_some_and(|n| self.consecutive >= n);
        let by_rate = counts.calls >= self.config.minimum_calls && {
            let calls = f64::from(counts.calls);
            f64::from(counts.failures) / calls >= self.config.failure_rate
                || f64::from(counts.slow) / calls >= self.config.slow_call_rate
        };
        if by_streak || by_rate {
            self.open(now);
        }
    }

    fn open(&mut self, now: Instant) {
        let until = crate::time::after(now, self.config.open_for);
        self.opened += 1;
        self.transition(BreakerState::Open { until });
    }

    fn transition(&mut self, to: BreakerState) {
        self.state = to;
        self.generation += 1;
        self.probes_out = 0;
        self.probes_ok = 0;
        self.consecutive = 0;
        self.window.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::origin;

    const MS: Duration = Duration::from_millis(1);

    fn run(breaker: &mut Breaker, outcomes: &[Outcome], now: Instant) {
        for &outcome in outcomes {
            let pass = breaker.try_pass(now).unwrap();
            breaker.record(pass, outcome, MS, now);
        }
    }

    #[test]
    fn state_diagram() {
        let t0 = origin();
        let config = BreakerConfig {
            window: BreakerWindow::Count(10),
            minimum_calls: 4,
            failure_rate: 0.5,
            open_for: Duration::from_secs(5),
            half_open_probes: 2,
            ..BreakerConfig::default()
        };
        let mut breaker = Breaker::new(config);
        // Closed: below the minimum, failures do not open.
        run(
            &mut breaker,
            &[Outcome::Failure, Outcome::Failure, Outcome::Success],
            t0,
        );
        assert_eq!(breaker.state(t0), BreakerState::Closed);
        // The fourth call reaches the minimum with 3/4 failed: open.
        run(&mut breaker, &[Outcome::Failure], t0);
        let until = t0 + Duration::from_secs(5);
        assert_eq!(breaker.state(t0), BreakerState::Open { until });
        assert_eq!(breaker.try_pass(t0), Err(Some(until)));
        // Time passes: half-open, two probes, a third waits.
        let t1 = until;
        let p1 = breaker.try_pass(t1).unwrap();
        let p2 = breaker.try_pass(t1).unwrap();
        assert_eq!(breaker.try_pass(t1), Err(None));
        breaker.record(p1, Outcome::Success, MS, t1);
        assert_eq!(breaker.state(t1), BreakerState::HalfOpen);
        breaker.record(p2, Outcome::Success, MS, t1);
        assert_eq!(breaker.state(t1), BreakerState::Closed);
        assert_eq!(breaker.times_opened(), 1);
    }

    #[test]
    fn a_failed_probe_reopens() {
        let t0 = origin();
        let mut breaker = Breaker::new(BreakerConfig::consecutive(2, Duration::from_secs(1)));
        run(&mut breaker, &[Outcome::Failure, Outcome::Failure], t0);
        assert!(matches!(breaker.state(t0), BreakerState::Open { .. }));
        let t1 = t0 + Duration::from_secs(1);
        let probe = breaker.try_pass(t1).unwrap();
        breaker.record(probe, Outcome::Failure, MS, t1);
        assert_eq!(
            breaker.state(t1),
            BreakerState::Open {
                until: t1 + Duration::from_secs(1)
            }
        );
        assert_eq!(breaker.times_opened(), 2);
    }

    #[test]
    fn streaks_ignore_and_reset() {
        let t0 = origin();
        let mut breaker = Breaker::new(BreakerConfig::consecutive(3, Duration::from_secs(1)));
        run(
            &mut breaker,
            &[
                Outcome::Failure,
                Outcome::Failure,
                Outcome::Ignored,
                Outcome::Success,
                Outcome::Failure,
                Outcome::Failure,
            ],
            t0,
        );
        assert_eq!(
            breaker.state(t0),
            BreakerState::Closed,
            "a success breaks the streak; 429s say nothing"
        );
        run(&mut breaker, &[Outcome::Failure], t0);
        assert!(matches!(breaker.state(t0), BreakerState::Open { .. }));
    }

    #[test]
    fn slow_calls_open_when_configured() {
        let t0 = origin();
        let mut breaker = Breaker::new(BreakerConfig {
            window: BreakerWindow::Time(Duration::from_secs(10)),
            minimum_calls: 3,
            slow_call_rate: 0.6,
            slow_call_duration: Duration::from_secs(2),
            ..BreakerConfig::default()
        });
        for _ in 0..3 {
            let pass = breaker.try_pass(t0).unwrap();
            breaker.record(pass, Outcome::Success, Duration::from_secs(3), t0);
        }
        assert!(matches!(breaker.state(t0), BreakerState::Open { .. }));
    }

    #[test]
    fn time_window_forgets_old_failures() {
        let t0 = origin();
        let mut breaker = Breaker::new(BreakerConfig {
            window: BreakerWindow::Time(Duration::from_secs(10)),
            minimum_calls: 4,
            ..BreakerConfig::default()
        });
        run(
            &mut breaker,
            &[Outcome::Failure, Outcome::Failure, Outcome::Failure],
            t0,
        );
        let later = t0 + Duration::from_secs(20);
        run(
            &mut breaker,
            &[
                Outcome::Failure,
                Outcome::Success,
                Outcome::Success,
                Outcome::Success,
            ],
            later,
        );
        assert_eq!(breaker.state(later), BreakerState::Closed);
    }

    #[test]
    fn stale_outcomes_are_ignored() {
        let t0 = origin();
        let mut breaker = Breaker::new(BreakerConfig::consecutive(1, Duration::from_secs(1)));
        let old = breaker.try_pass(t0).unwrap();
        run(&mut breaker, &[Outcome::Failure], t0);
        let t1 = t0 + Duration::from_secs(1);
        let probe = breaker.try_pass(t1).unwrap();
        breaker.record(old, Outcome::Success, MS, t1);
        assert_eq!(
            breaker.state(t1),
            BreakerState::HalfOpen,
            "a call from before the opening does not close it"
        );
        breaker.record(probe, Outcome::Success, MS, t1);
        assert_eq!(breaker.state(t1), BreakerState::Closed);
    }
}
