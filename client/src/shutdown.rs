//! Graceful shutdown: stop admitting, let calls finish within a grace period, cancel the rest.

use std::time::{Duration, Instant};

use crate::cell::EngineCell;
use crate::signal::Notify;

/// What a client's `shutdown` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Calls that were unfinished when shutdown began and finished within the grace period.
    pub completed: usize,
    /// Calls still unfinished when the grace period ended, cancelled with a shutdown error.
    pub cancelled: usize,
    /// How long the shutdown took.
    pub took: Duration,
}

/// A shutdown in progress: when it began, when its grace period ends (`None`: a grace
/// period too long to end), and how many calls were unfinished then.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shutdown {
    start: Instant,
    deadline: Option<Instant>,
    pending: usize,
}

impl Shutdown {
    /// Stops admitting calls and starts a shutdown whose grace period ends `grace` after
    /// `now`; the driver sleeps until each [`next_check`](Self::next_check) and then calls
    /// [`finish`](Self::finish).
    pub(crate) fn begin<S: Notify + Default>(
        cell: &EngineCell<S>,
        now: Instant,
        grace: Duration,
    ) -> Self {
        let mut engine = cell.lock();
        engine.close();
        Self {
            start: now,
            deadline: now.checked_add(grace),
            pending: engine.unfinished(),
        }
    }

    /// How often a shutdown looks whether the calls have finished. Shutdown is rare: a short
    /// poll keeps the engine free of a dedicated idle signal.
    const TICK: Duration = Duration::from_millis(5);

    /// When to look again at `cell`, or `None` once no call is unfinished or the grace
    /// period is over.
    pub(crate) fn next_check<S: Notify + Default>(
        &self,
        cell: &EngineCell<S>,
        now: Instant,
    ) -> Option<Instant> {
        if cell.lock().unfinished() == 0 || self.deadline.is_some_and(|d| now >= d) {
            return None;
        }
        let tick = now.checked_add(Self::TICK).unwrap_or(now);
        Some(self.deadline.map_or(tick, |d| tick.min(d)))
    }

    /// Cancels what is still unfinished with a shutdown error and reports.
    pub(crate) fn finish<S: Notify + Default>(
        self,
        cell: &EngineCell<S>,
        now: Instant,
    ) -> ShutdownReport {
        let cancelled = cell.lock().abort_all(now);
        ShutdownReport {
            completed: self.pending.saturating_sub(cancelled),
            cancelled,
            took: now.saturating_duration_since(self.start),
        }
    }
}
