//! Signals that wake the task (or thread) of a call the engine has woken.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use futures_util::task::AtomicWaker;

/// Something that can be fired to wake a waiting call.
pub(crate) trait Notify: Send + Sync + 'static {
    /// Fires the signal, and returns the waker to wake, which the caller wakes once the
    /// engine's lock is released (a wake may run anything, even code that takes that lock).
    fn fire(&self) -> Option<Waker>;

    /// Fires the signal and wakes its waiter; only outside the engine's lock.
    fn notify(&self) {
        if let Some(waker) = self.fire() {
            waker.wake();
        }
    }

    /// Its call has ended: clears it for the slot's next call and hands back the waker it
    /// held, for the caller to drop once the engine's lock is released (dropping a waker may
    /// run anything, even the destructor of a task holding another call of the client).
    fn release(&self) -> Option<Waker>;
}

/// Wakes an async task.
#[derive(Debug, Default)]
pub(crate) struct AsyncSignal {
    fired: AtomicBool,
    waker: AtomicWaker,
}

impl Notify for AsyncSignal {
    fn fire(&self) -> Option<Waker> {
        self.fired.store(true, Ordering::Release);
        self.waker.take()
    }

    fn release(&self) -> Option<Waker> {
        self.fired.store(false, Ordering::Release);
        self.waker.take()
    }
}

impl AsyncSignal {
    /// Completes once the signal has fired since the last wait (at once if it already has).
    pub(crate) async fn wait(&self) {
        poll_fn(|cx| self.poll_wait(cx)).await;
    }

    /// Ready once the signal has fired since the last wait; registers `cx` otherwise.
    pub(crate) fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.take_fired() {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.take_fired() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Whether the signal fired, resetting it; a plain load first, since it seldom has (a
    /// swap is a locked instruction, and a call's driver asks on every poll).
    fn take_fired(&self) -> bool {
        self.fired.load(Ordering::Acquire) && self.fired.swap(false, Ordering::AcqRel)
    }
}

/// Wakes a blocked thread.
#[derive(Debug, Default)]
pub(crate) struct BlockingSignal {
    fired: Mutex<bool>,
    condvar: Condvar,
    /// Mirrors `fired` for [`take_fired`](Self::take_fired), which a stream calls for every
    /// chunk: no lock while nothing fired.
    maybe_fired: AtomicBool,
}

impl Notify for BlockingSignal {
    /// Wakes its thread at once: a condition variable runs no code of anyone else's.
    fn fire(&self) -> Option<Waker> {
        let mut fired = self.fired.lock().unwrap_or_else(PoisonError::into_inner);
        *fired = true;
        self.maybe_fired.store(true, Ordering::Release);
        drop(fired);
        self.condvar.notify_all();
        None
    }

    fn release(&self) -> Option<Waker> {
        *self.fired.lock().unwrap_or_else(PoisonError::into_inner) = false;
        self.maybe_fired.store(false, Ordering::Release);
        None
    }
}

impl BlockingSignal {
    /// Whether the signal fired since the last wait, without waiting (and resets it).
    pub(crate) fn take_fired(&self) -> bool {
        if !self.maybe_fired.load(Ordering::Acquire) {
            return false;
        }
        let mut fired = self.fired.lock().unwrap_or_else(PoisonError::into_inner);
        self.maybe_fired.store(false, Ordering::Release);
        std::mem::take(&mut *fired)
    }

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
        self.maybe_fired.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_blocking_signal_is_taken_once_and_wakes_a_waiter() {
        let signal = Arc::new(BlockingSignal::default());
        assert!(!signal.take_fired());
        signal.notify();
        assert!(signal.take_fired());
        assert!(!signal.take_fired());
        // A wait consumes the signal too.
        signal.notify();
        signal.wait(None, Instant::now);
        assert!(!signal.take_fired());
        // A waiter on another thread is woken.
        let notifier = Arc::clone(&signal);
        let handle = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            notifier.notify();
        });
        let until = Instant::now() + Duration::from_secs(10);
        signal.wait(Some(until), Instant::now);
        assert!(Instant::now() < until);
        handle.join().unwrap();
        assert!(!signal.take_fired());
    }
}
