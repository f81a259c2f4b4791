//! Signals that wake the task (or thread) of a call the engine has woken.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::task::AtomicWaker;

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
        poll_fn(|cx| self.poll_wait(cx)).await;
    }

    /// Ready once the signal has fired since the last wait; registers `cx` otherwise.
    pub(crate) fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.fired.swap(false, Ordering::AcqRel) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
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
    /// Whether the signal fired since the last wait, without waiting (and resets it).
    pub(crate) fn take_fired(&self) -> bool {
        std::mem::take(&mut *self.fired.lock().unwrap_or_else(PoisonError::into_inner))
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
    }
}
