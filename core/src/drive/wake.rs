//! Waking the tasks (or threads) of calls the engine has woken.
//!
//! The engine only records *which* calls were woken; this module keeps one signal per live
//! call and fires them. The engine and the signal table sit behind one lock, and the guard
//! that hands out the engine fires pending signals when it is dropped, so no engine change
//! can forget to wake anyone.

use std::collections::HashMap;
use std::future::poll_fn;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;

use super::client::ShutdownReport;
use crate::engine::{CallId, Engine, Step};
use crate::error::Error;

/// Something that can be fired to wake a waiting call.
pub(crate) trait Notify: Send + Sync + 'static {
    fn notify(&self);
}

/// Wakes an async task.
#[derive(Debug, Default)]
pub(crate) struct AsyncSignal {
    fired: AtomicBool,
    waker: AtomicWaker,
}

impl Notify for AsyncSignal {
    fn notify(&self) {
        self.fired.store(true, Ordering::Release);
        self.waker.wake();
    }
}

impl AsyncSignal {
    /// Completes once the signal has fired since the last wait (at once if it already has).
    pub(crate) async fn wait(&self) {
        poll_fn(|cx| {
            if self.fired.swap(false, Ordering::AcqRel) {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if self.fired.swap(false, Ordering::AcqRel) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
}

/// Wakes a blocked thread.
#[derive(Debug, Default)]
pub(crate) struct BlockingSignal {
    fired: Mutex<bool>,
    condvar: Condvar,
}

impl Notify for BlockingSignal {
    fn notify(&self) {
        *self.fired.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.condvar.notify_all();
    }
}

impl BlockingSignal {
    /// Blocks until the signal fires or `until` passes (`None`: no time limit).
    /// `now` is the driver's clock.
    pub(crate) fn wait(&self, until: Option<Instant>, now: impl Fn() -> Instant) {
        let mut fired = self.fired.lock().unwrap_or_else(PoisonError::into_inner);
        while !*fired {
            match until {
                None => {
                    fired = self
                        .condvar
                        .wait(fired)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Some(until) => {
                    let left = until.saturating_duration_since(now());
                    if left.is_zero() {
                        return;
                    }
                    fired = self
                        .condvar
                        .wait_timeout(fired, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
        *fired = false;
    }
}

/// The engine and the signals of the calls waiting on it.
#[derive(Debug)]
pub(crate) struct Locked<S> {
    engine: Engine,
    signals: HashMap<CallId, Arc<S>>,
    woken: Vec<CallId>,
}

/// The engine behind its lock.
#[derive(Debug)]
pub(crate) struct EngineCell<S> {
    state: Mutex<Locked<S>>,
}

impl<S: Notify + Default> EngineCell<S> {
    pub(crate) fn new(engine: Engine) -> Self {
        Self {
            state: Mutex::new(Locked {
                engine,
                signals: HashMap::new(),
                woken: Vec::new(),
            }),
        }
    }

    /// Locks the engine. Never held across an `.await`: each use is one statement or block
    /// without suspension points. Dropping the guard fires the signals of woken calls.
    pub(crate) fn lock(&self) -> EngineGuard<'_, S> {
        EngineGuard(self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Reports a stream's end (`None`: read to its end) and forgets its signal.
    pub(crate) fn end_stream(&self, id: CallId, error: Option<&Error>, now: Instant) {
        let mut engine = self.lock();
        engine.on_stream_end(id, error, now);
        engine.unregister(id);
    }

    /// Cancels a call whose future or stream was dropped, and forgets its signal.
    pub(crate) fn cancel_call(&self, id: CallId, now: Instant) {
        let mut engine = self.lock();
        engine.cancel(id, now);
        engine.unregister(id);
    }

    /// If the engine ended the call from outside (shutdown), collects its error.
    pub(crate) fn take_aborted(&self, id: CallId, now: Instant) -> Option<Error> {
        let mut engine = self.lock();
        if !engine.is_finished(id) {
            return None;
        }
        let error = match engine.poll(id, now) {
            Step::Done(Err(error)) => error,
            _ => Error::shutdown("the stream's call ended"),
        };
        engine.unregister(id);
        Some(error)
    }

    /// Stops admitting calls and starts a shutdown whose grace period ends `grace` after
    /// `now`; the driver sleeps until each [`Shutdown::next_check`] and then calls
    /// [`Shutdown::finish`].
    pub(crate) fn begin_shutdown(&self, now: Instant, grace: Duration) -> Shutdown {
        let mut engine = self.lock();
        engine.close();
        Shutdown {
            start: now,
            deadline: now.checked_add(grace).unwrap_or(now),
            pending: engine.unfinished(),
        }
    }
}

/// A shutdown in progress: when it began, when its grace period ends, and how many calls
/// were unfinished then.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shutdown {
    start: Instant,
    deadline: Instant,
    pending: usize,
}

impl Shutdown {
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
        if cell.lock().unfinished() == 0 || now >= self.deadline {
            return None;
        }
        Some(
            now.checked_add(Self::TICK)
                .map_or(self.deadline, |t| t.min(self.deadline)),
        )
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

/// Exclusive access to the engine; wakes woken calls when dropped.
pub(crate) struct EngineGuard<'a, S: Notify>(MutexGuard<'a, Locked<S>>);

impl<S: Notify + Default> EngineGuard<'_, S> {
    /// Creates the signal of a new call.
    pub(crate) fn register(&mut self, id: CallId) -> Arc<S> {
        let signal = Arc::new(S::default());
        self.0.signals.insert(id, Arc::clone(&signal));
        signal
    }

    /// Forgets a call's signal (it has ended).
    pub(crate) fn unregister(&mut self, id: CallId) {
        self.0.signals.remove(&id);
    }
}

impl<S: Notify> Deref for EngineGuard<'_, S> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.0.engine
    }
}

impl<S: Notify> DerefMut for EngineGuard<'_, S> {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.0.engine
    }
}

impl<S: Notify> Drop for EngineGuard<'_, S> {
    fn drop(&mut self) {
        let locked = &mut *self.0;
        locked.engine.take_woken(&mut locked.woken);
        for id in locked.woken.drain(..) {
            if let Some(signal) = locked.signals.get(&id) {
                signal.notify();
            }
        }
    }
}
