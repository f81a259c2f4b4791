//! Stopping: Ctrl-C and SIGTERM (and `--fail-fast`) stop the intake of lines; calls in
//! flight get a grace period; a second signal, or the end of the grace period, cancels them.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use super::progress::Progress;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Taking lines.
    Running,
    /// No new lines; calls in flight finish.
    Draining,
    /// Calls in flight are abandoned: write what is done and leave.
    Abort,
}

/// The shared stop switch.
#[derive(Debug, Clone)]
pub(crate) struct Stop {
    phase: Arc<watch::Sender<Phase>>,
    interrupted: Arc<AtomicBool>,
}

impl Stop {
    /// A switch in the running position.
    pub(crate) fn new() -> Self {
        Self {
            phase: Arc::new(watch::Sender::new(Phase::Running)),
            interrupted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Stops the intake of lines. Returns whether this call changed anything.
    pub(crate) fn drain(&self) -> bool {
        self.phase.send_if_modified(|phase| {
            let running = *phase == Phase::Running;
            if running {
                *phase = Phase::Draining;
            }
            running
        })
    }

    /// Abandons the calls in flight.
    pub(crate) fn abort(&self) {
        self.phase.send_replace(Phase::Abort);
    }

    /// Whether the intake has stopped.
    pub(crate) fn is_stopping(&self) -> bool {
        *self.phase.borrow() >= Phase::Draining
    }

    /// Whether a signal stopped the run.
    pub(crate) fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed)
    }

    /// Resolves when the intake stops.
    pub(crate) async fn stopping(&self) {
        self.reach(Phase::Draining).await;
    }

    /// Resolves when calls in flight are to be abandoned.
    pub(crate) async fn aborted(&self) {
        self.reach(Phase::Abort).await;
    }

    async fn reach(&self, phase: Phase) {
        let mut rx = self.phase.subscribe();
        // The sender lives in `self`, so waiting cannot fail.
        let _reached = rx.wait_for(|now| *now >= phase).await;
    }
}

/// Installs the SIGINT and SIGTERM handlers now, and reacts to them from a task: the first
/// stops the intake and starts the `grace` period, the second (or the end of the grace
/// period) aborts.
///
/// Fails when a handler cannot be installed.
pub(crate) fn listen(stop: Stop, grace: Duration, progress: Progress) -> io::Result<()> {
    let mut signals = Signals::install()?;
    tokio::spawn(async move {
        signals.next().await;
        stop.interrupted.store(true, Ordering::Relaxed);
        stop.drain();
        let in_flight = progress.counters().in_flight();
        progress.note(&format!(
            "interrupted: taking no new lines; finishing {in_flight} call(s) in flight for up to {:.0?} (interrupt again to stop now)",
            grace
        ));
        let timer = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            timer.abort();
        });
        signals.next().await;
        progress.note("interrupted again: cancelling the calls in flight");
        stop.abort();
    });
    Ok(())
}

/// SIGINT and SIGTERM (Ctrl-C only, elsewhere).
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn install() -> io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(unix)]
    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }

    #[cfg(not(unix))]
    fn install() -> io::Result<Self> {
        Ok(Self {})
    }

    #[cfg(not(unix))]
    async fn next(&mut self) {
        let _ignored = tokio::signal::ctrl_c().await;
    }
}
