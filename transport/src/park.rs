//! Waiting for a future on the calling thread, never past an instant: how the blocking
//! transport reads isahc's async bodies with the limits the core names.
//!
//! isahc moves the bytes on its own agent thread and wakes the reader, so no executor or
//! reactor is needed here: the thread parks until woken or until the instant passes.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

/// Unparks the thread that waits.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    /// This thread's waker, made once: a stream reads many times.
    static THREAD_WAKER: Waker = Waker::from(Arc::new(Unpark(thread::current())));
}

/// Polls `future` on this thread until it completes (`Some`) or `until` passes (`None`;
/// `until: None` waits as long as it takes). It is polled at least once, so an instant in
/// the past takes what is ready now.
pub(crate) fn block_on_until<F: Future>(future: F, until: Option<Instant>) -> Option<F::Output> {
    let mut future = pin!(future);
    let waker = THREAD_WAKER.with(Waker::clone);
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        match until {
            None => thread::park(),
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return None;
                }
                thread::park_timeout(left);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ready_futures_complete_and_pending_ones_stop_at_the_instant() {
        assert_eq!(block_on_until(async { 7 }, Some(Instant::now())), Some(7));
        let start = Instant::now();
        let never = std::future::pending::<()>();
        let until = start + Duration::from_millis(30);
        assert_eq!(block_on_until(never, Some(until)), None);
        assert!(Instant::now() >= until);
    }

    #[test]
    fn a_wake_from_another_thread_resumes_the_wait() {
        let (sender, receiver) = futures_channel_like();
        let handle = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            sender();
        });
        let until = Instant::now() + Duration::from_secs(5);
        assert_eq!(block_on_until(receiver, Some(until)), Some(()));
        handle.join().unwrap();
    }

    /// A one-shot: the returned closure completes the returned future, from any thread.
    fn futures_channel_like() -> (impl FnOnce() + Send, impl Future<Output = ()>) {
        use std::sync::Mutex;
        #[derive(Default)]
        struct Shared {
            done: bool,
            waker: Option<Waker>,
        }
        let shared = Arc::new(Mutex::new(Shared::default()));
        let setter = Arc::clone(&shared);
        let fire = move || {
            let mut state = setter.lock().unwrap();
            state.done = true;
            if let Some(waker) = state.waker.take() {
                waker.wake();
            }
        };
        let wait = std::future::poll_fn(move |cx| {
            let mut state = shared.lock().unwrap();
            if state.done {
                Poll::Ready(())
            } else {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        });
        (fire, wait)
    }
}
