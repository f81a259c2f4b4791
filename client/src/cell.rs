//! The engine behind its lock, and the bookkeeping every driver shares: waking the calls the
//! engine has woken, and reporting how a stream ended exactly once.
//!
//! The engine only records *which* calls were woken; this module keeps one signal per live
//! call and fires them. The engine and the signal table sit behind one lock, and the guard
//! that hands out the engine fires pending signals when it is dropped, so no engine change
//! can forget to wake anyone.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::Instant;

use blossom_core::engine::{CallId, Engine, Step};
use blossom_core::error::Error;

use crate::signal::Notify;

/// The engine and the signals of the calls waiting on it.
#[derive(Debug)]
pub(crate) struct Locked<S> {
    engine: Engine,
    /// By [`CallId::slot`]: the engine reuses slots, so the table stays as long as the most
    /// calls ever live at once, and each entry keeps its whole id to be told from a reuse.
    signals: Vec<Option<SignalSlot<S>>>,
    woken: Vec<CallId>,
    /// The signal of the task that times out attempts for every call, when one runs.
    watchdog: Option<Arc<S>>,
}

/// The signal of the call in one engine slot. It outlives its call, for the slot's next
/// call to reuse once nobody else holds it: one allocation per slot, not per call.
#[derive(Debug)]
struct SignalSlot<S> {
    /// The call it belongs to; `None` once that call has ended.
    owner: Option<CallId>,
    signal: Arc<S>,
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
                signals: Vec::new(),
                woken: Vec::new(),
                watchdog: None,
            }),
        }
    }

    /// Locks the engine. Never held across an `.await`: each use is one statement or block
    /// without suspension points. Dropping the guard fires the signals of woken calls.
    pub(crate) fn lock(&self) -> EngineGuard<'_, S> {
        EngineGuard {
            locked: self.state.lock().unwrap_or_else(PoisonError::into_inner),
            wake: Wakers::default(),
        }
    }

    /// Reports a stream's end (`None`: read to its end) and forgets its signal.
    pub(crate) fn end_stream(&self, id: CallId, error: Option<&Error>, now: Instant) {
        let mut engine = self.lock();
        engine.on_stream_end(id, error, now);
        let waker = engine.unregister(id);
        drop(engine);
        drop(waker);
    }

    /// Cancels a call whose future or stream was dropped, and forgets its signal.
    pub(crate) fn cancel_call(&self, id: CallId, now: Instant) {
        let mut engine = self.lock();
        engine.cancel(id, now);
        let waker = engine.unregister(id);
        drop(engine);
        drop(waker);
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
        let waker = engine.unregister(id);
        drop(engine);
        drop(waker);
        Some(error)
    }
}

/// Exclusive access to the engine; wakes woken calls when dropped, after releasing the lock.
pub(crate) struct EngineGuard<'a, S: Notify> {
    /// Declared first, so dropped first: the lock is released before `wake` wakes anyone.
    locked: MutexGuard<'a, Locked<S>>,
    wake: Wakers,
}

/// Wakers to wake once the engine's lock is released: a wake may run anything, even code
/// that takes the lock (an executor that polls in `wake`). Nothing is allocated unless
/// someone is woken.
#[derive(Default)]
struct Wakers(Vec<Waker>);

impl Drop for Wakers {
    #[inline]
    fn drop(&mut self) {
        // Nearly always empty: a guard wakes someone only when a call's state changed.
        if !self.0.is_empty() {
            std::mem::take(&mut self.0)
                .into_iter()
                .for_each(Waker::wake);
        }
    }
}

impl<S: Notify + Default> EngineGuard<'_, S> {
    /// The signal of a new call: its slot's last one when nobody holds that any more (the
    /// driver of the slot's previous call has dropped it), else a new one.
    pub(crate) fn register(&mut self, id: CallId) -> Arc<S> {
        let signals = &mut self.locked.signals;
        if signals.len() <= id.slot() {
            signals.resize_with(id.slot() + 1, || None);
        }
        let entry = &mut signals[id.slot()];
        match entry {
            // Only this table holds it, and the table is locked: nobody can take a copy
            // between the count and the reuse. It was cleared when its call ended (a waker
            // left in it since, by a driver that waited again, is replaced by the new
            // call's first wait, outside the lock; a wake before that is only spurious).
            Some(entry) if Arc::strong_count(&entry.signal) == 1 => {
                entry.owner = Some(id);
                Arc::clone(&entry.signal)
            }
            _ => {
                let signal = Arc::new(S::default());
                *entry = Some(SignalSlot {
                    owner: Some(id),
                    signal: Arc::clone(&signal),
                });
                signal
            }
        }
    }

    /// Sets (or clears) the signal of the watchdog, which the guard fires whenever the
    /// engine asks for it; returns the signal it replaces.
    pub(crate) fn set_watchdog(&mut self, signal: Option<Arc<S>>) -> Option<Arc<S>> {
        std::mem::replace(&mut self.locked.watchdog, signal)
    }

    /// Fires the signal of every call: each re-examines its state (after the watchdog
    /// stopped, an attempt still out starts another).
    pub(crate) fn notify_all(&mut self) {
        for entry in self.locked.signals.iter().flatten() {
            if entry.owner.is_some() {
                self.wake.0.extend(entry.signal.fire());
            }
        }
    }

    /// Forgets a call's signal (it has ended); the signal stays for the slot's next call.
    /// Returns the waker it held, which the caller drops after the guard: it may be the last
    /// reference to the caller's task, whose destructor may cancel another call and so take
    /// this lock.
    #[must_use = "drop the waker after the guard, not under the lock"]
    pub(crate) fn unregister(&mut self, id: CallId) -> Option<Waker> {
        match self.locked.signals.get_mut(id.slot()) {
            Some(Some(entry)) if entry.owner == Some(id) => {
                entry.owner = None;
                entry.signal.release()
            }
            _ => None,
        }
    }
}

impl<S: Notify> Deref for EngineGuard<'_, S> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.locked.engine
    }
}

impl<S: Notify> DerefMut for EngineGuard<'_, S> {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.locked.engine
    }
}

impl<S: Notify> Drop for EngineGuard<'_, S> {
    /// Fires the signals the engine asks for; their wakers are woken by `wake`'s drop, after
    /// the lock's.
    fn drop(&mut self) {
        let locked = &mut *self.locked;
        let wake = &mut self.wake.0;
        if locked.engine.take_watchdog_wake()
            && let Some(watchdog) = &locked.watchdog
        {
            wake.extend(watchdog.fire());
        }
        locked.engine.take_woken(&mut locked.woken);
        for id in locked.woken.drain(..) {
            if let Some(Some(entry)) = locked.signals.get(id.slot())
                && entry.owner == Some(id)
            {
                wake.extend(entry.signal.fire());
            }
        }
    }
}

/// What a stream reports to its engine: the client's shared state, seen by the stream
/// without knowing its runtime.
pub(crate) trait StreamControl: Send + Sync + 'static {
    /// The driver's clock.
    fn now(&self) -> Instant;
    /// The stream ended: read to `[DONE]` (`None`) or failed.
    fn end(&self, id: CallId, error: Option<&Error>);
    /// The stream was dropped before its end.
    fn cancel(&self, id: CallId);
    /// The engine's error for a call ended from outside (shutdown), if it was.
    fn aborted(&self, id: CallId) -> Option<Error>;
}

/// Reports a stream's end to its engine exactly once, or cancels the call if dropped first.
pub(crate) struct EndGuard {
    control: Arc<dyn StreamControl>,
    id: CallId,
    ended: bool,
}

impl EndGuard {
    pub(crate) fn new(control: Arc<dyn StreamControl>, id: CallId) -> Self {
        Self {
            control,
            id,
            ended: false,
        }
    }

    /// The driver's clock.
    pub(crate) fn now(&self) -> Instant {
        self.control.now()
    }

    /// Reports the end (`None`: `[DONE]`), once.
    pub(crate) fn end(&mut self, error: Option<&Error>) {
        if !self.ended {
            self.ended = true;
            self.control.end(self.id, error);
        }
    }

    /// Whether the end has been reported (or the engine ended the call itself).
    pub(crate) fn is_ended(&self) -> bool {
        self.ended
    }

    /// The engine's error if it ended the call from outside (shutdown); the end then needs
    /// no report.
    pub(crate) fn aborted(&mut self) -> Option<Error> {
        let error = self.control.aborted(self.id)?;
        self.ended = true;
        Some(error)
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if !self.ended {
            self.control.cancel(self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::AsyncSignal;
    use blossom_core::ClientConfig;
    use blossom_core::api::ModelKind;
    use blossom_core::codec::Encoder;
    use blossom_core::engine::{CallOptions, EngineConfig};

    fn submit(cell: &EngineCell<AsyncSignal>, now: Instant) -> (CallId, Arc<AsyncSignal>) {
        let config = ClientConfig::new();
        let prepared = Encoder::new(&config)
            .unwrap()
            .models(ModelKind::Text)
            .unwrap();
        let mut engine = cell.lock();
        let id = engine.submit(prepared, CallOptions::default(), now);
        let signal = engine.register(id);
        (id, signal)
    }

    fn ended(cell: &EngineCell<AsyncSignal>, id: CallId, now: Instant) {
        cell.cancel_call(id, now);
    }

    #[test]
    fn a_slot_reuses_its_signal_only_once_the_last_call_let_it_go() {
        let cell = EngineCell::new(Engine::new(EngineConfig::from_client(&ClientConfig::new())));
        let now = Instant::now();
        let (first, signal) = submit(&cell, now);
        ended(&cell, first, now);
        // The first call's driver still holds its signal: the slot's next call gets another.
        let (second, other) = submit(&cell, now);
        assert_eq!(second.slot(), first.slot());
        assert!(!Arc::ptr_eq(&signal, &other));
        ended(&cell, second, now);
        let kept = Arc::downgrade(&other);
        drop(other);
        // Nobody holds the second one now: the third call reuses it, reset.
        let (third, reused) = submit(&cell, now);
        assert_eq!(third.slot(), first.slot());
        assert!(
            kept.upgrade()
                .is_some_and(|other| Arc::ptr_eq(&other, &reused))
        );
        let waker = futures_util::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(
            reused.poll_wait(&mut cx).is_pending(),
            "a reused signal starts unfired"
        );
        // Waking every live call wakes the third, and not the first call's old signal.
        cell.lock().notify_all();
        assert!(reused.poll_wait(&mut cx).is_ready());
        assert!(signal.poll_wait(&mut cx).is_pending());
        // A signal kept for reuse belongs to no call: waking every call skips it.
        ended(&cell, third, now);
        cell.lock().notify_all();
        assert!(reused.poll_wait(&mut cx).is_pending());
    }

    #[test]
    fn a_call_that_ends_lets_go_of_its_waker() {
        struct Task;
        impl std::task::Wake for Task {
            fn wake(self: Arc<Self>) {}
        }
        let cell = EngineCell::new(Engine::new(EngineConfig::from_client(&ClientConfig::new())));
        let now = Instant::now();
        let (id, signal) = submit(&cell, now);
        let task = Arc::new(Task);
        let waker = std::task::Waker::from(Arc::clone(&task));
        assert!(
            signal
                .poll_wait(&mut std::task::Context::from_waker(&waker))
                .is_pending()
        );
        drop(waker);
        assert_eq!(Arc::strong_count(&task), 2, "the signal holds the waker");
        ended(&cell, id, now);
        assert_eq!(Arc::strong_count(&task), 1, "the kept signal holds no task");
    }
}
