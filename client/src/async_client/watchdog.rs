//! The watchdog: one background task per client that times out attempts for every call, at
//! the instants the engine names ([`Engine::expire_attempts`]), on runtimes that ask for it
//! ([`Runtime::attempt_watchdog`]: smol).
//!
//! Without it each attempt would arm a timer of its own, which on smol costs every call a
//! wake-up of the reactor's thread and three system calls. Attempt deadlines mostly come
//! later than the ones already armed, so the watchdog sleeps until the earliest, finds that
//! attempt long answered, and sleeps until the next: about one wake-up per attempt timeout.
//!
//! If its task ends without the client (its executor dropped it, even before polling it),
//! every call is woken, and a call whose attempt is still out starts another.
//!
//! [`Engine::expire_attempts`]: blossom_core::engine::Engine::expire_attempts

use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use futures_util::future::select;

use super::inner::Inner;
use crate::runtime::Runtime;
use crate::signal::AsyncSignal;

/// Starts the client's watchdog unless it runs. Called before each attempt and whenever a
/// call with an attempt out is woken: the first starts it, inside the caller's runtime, and
/// so does the first after its task ended.
pub(crate) fn ensure<R: Runtime>(inner: &Arc<Inner<R>>) {
    if inner.watchdog.load(Ordering::Acquire) || inner.watchdog.swap(true, Ordering::AcqRel) {
        return;
    }
    let signal = Arc::new(AsyncSignal::default());
    inner.engine().set_watchdog(Some(Arc::clone(&signal)));
    // Made here and moved into the task, so that it runs even if the task is dropped
    // before its first poll.
    let running = Running(Arc::downgrade(inner));
    let task = watch(
        Arc::downgrade(inner),
        inner.runtime.clone(),
        signal,
        running,
    );
    inner.runtime.spawn_watchdog(Box::pin(task));
}

/// Marks the watchdog stopped when its task ends or is dropped, and wakes every call, so
/// that an attempt still out starts another.
struct Running<R: Runtime>(Weak<Inner<R>>);

impl<R: Runtime> Drop for Running<R> {
    fn drop(&mut self) {
        if let Some(inner) = self.0.upgrade() {
            // Under the engine's lock, and the flag cleared before the calls are woken: a
            // call woken here finds it clear and starts another watchdog.
            let mut engine = inner.engine();
            engine.set_watchdog(None);
            inner.watchdog.store(false, Ordering::Release);
            engine.notify_all();
        }
    }
}

/// Expires overdue attempts, sleeps until the next deadline or until woken, repeats; ends
/// with the client. Holds the client only while it asks the engine.
async fn watch<R: Runtime>(
    client: Weak<Inner<R>>,
    runtime: R,
    signal: Arc<AsyncSignal>,
    _running: Running<R>,
) {
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
