//! The watchdog: one background task per client that times out attempts for every call, at
//! the instants the engine names ([`Engine::expire_attempts`]).
//!
//! Without it each attempt would arm a timer of its own, which costs every call (on smol, a
//! wake-up of the reactor's thread and three system calls). Attempt deadlines mostly come
//! later than the ones already armed, so the watchdog sleeps until the earliest, finds that
//! attempt long answered, and sleeps until the next: about one wake-up per attempt timeout.
//!
//! [`Engine::expire_attempts`]: blossom_core::engine::Engine::expire_attempts

use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use futures_util::future::select;

use super::inner::Inner;
use crate::runtime::Runtime;
use crate::signal::AsyncSignal;

/// Starts the client's watchdog unless it runs. Called before each attempt: the first one
/// starts it, inside the caller's runtime, and so does the first after a runtime that ran it
/// has shut down.
pub(crate) fn ensure<R: Runtime>(inner: &Arc<Inner<R>>) {
    if inner.watchdog.load(Ordering::Acquire) || inner.watchdog.swap(true, Ordering::AcqRel) {
        return;
    }
    let signal = Arc::new(AsyncSignal::default());
    inner.engine().set_watchdog(Some(Arc::clone(&signal)));
    let task = watch(Arc::downgrade(inner), inner.runtime.clone(), signal);
    inner.runtime.spawn(Box::pin(task));
}

/// Marks the watchdog stopped when its task ends or is dropped (its runtime shut down), so
/// that the next attempt starts another.
struct Running<R: Runtime>(Weak<Inner<R>>);

impl<R: Runtime> Drop for Running<R> {
    fn drop(&mut self) {
        if let Some(inner) = self.0.upgrade() {
            inner.engine().set_watchdog(None);
            inner.watchdog.store(false, Ordering::Release);
        }
    }
}

/// Expires overdue attempts, sleeps until the next deadline or until woken, repeats; ends
/// with the client. Holds the client only while it asks the engine.
async fn watch<R: Runtime>(client: Weak<Inner<R>>, runtime: R, signal: Arc<AsyncSignal>) {
    let _running = Running(client.clone());
    loop {
        let next = match client.upgrade() {
            Some(inner) => inner.engine().expire_attempts(runtime.now()),
            None => return,
        };
        match next {
            Some(at) => {
                select(pin!(runtime.sleep_until(at)), pin!(signal.wait())).await;
            }
            None => signal.wait().await,
        }
    }
}
