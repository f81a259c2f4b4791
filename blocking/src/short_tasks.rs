//! Threads for short background tasks (the drain of a stream's rest after `[DONE]`, at most
//! the stream's drain timeout): a task runs at once on a thread of its own, and a thread that
//! finishes one waits [`IDLE`] for the next before it ends. Starting a thread for every
//! stream cost about 30 µs of CPU a stream (`BENCHMARKS.md`, "The blocking client's
//! streams"); idle threads do not outlive a lull.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long a thread waits for another task before it ends.
pub(crate) const IDLE: Duration = Duration::from_secs(1);

/// A task.
pub(crate) type Task = Box<dyn FnOnce() + Send>;

/// The threads' shared state.
pub(crate) struct ShortTasks {
    state: Mutex<Waiting>,
    wake: Condvar,
}

/// Tasks handed to waiting threads, and the waiting threads not yet handed one. Every task in
/// `tasks` was counted off `idle` when it was queued, so each has a thread of its own: no
/// task waits behind another.
struct Waiting {
    tasks: VecDeque<Task>,
    idle: usize,
}

/// The process's pool.
pub(crate) static SHORT_TASKS: ShortTasks = ShortTasks {
    state: Mutex::new(Waiting {
        tasks: VecDeque::new(),
        idle: 0,
    }),
    wake: Condvar::new(),
};

impl ShortTasks {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `task` on a waiting thread, or on a new one if none waits. If no thread can be
    /// started, the task is dropped (a drain's body is then closed with it).
    pub(crate) fn spawn(&'static self, task: Task) {
        let mut state = self.lock();
        if state.idle > 0 {
            state.idle -= 1;
            state.tasks.push_back(task);
            drop(state);
            self.wake.notify_one();
            return;
        }
        drop(state);
        let started = std::thread::Builder::new()
            .name("blossom-drain".to_owned())
            .spawn(move || self.work(task));
        drop(started);
    }

    /// Runs `task`, then the tasks handed to this thread, until none comes for [`IDLE`].
    fn work(&self, mut task: Task) {
        loop {
            task();
            let mut state = self.lock();
            state.idle += 1;
            task = loop {
                // Any waiting thread may take a queued task: each was counted off `idle`.
                if let Some(next) = state.tasks.pop_front() {
                    break next;
                }
                let (guard, wait) = self
                    .wake
                    .wait_timeout(state, IDLE)
                    .unwrap_or_else(PoisonError::into_inner);
                state = guard;
                if wait.timed_out() && state.tasks.is_empty() {
                    // Still counted as waiting, so no task was handed to it: it may end.
                    state.idle -= 1;
                    return;
                }
            };
        }
    }

    /// Threads waiting for a task (for tests).
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.lock().idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Instant;

    /// Tasks given one after another reuse the thread that ran the first; tasks given at once
    /// all run at once; the threads end once idle. (The process's pool: one test only, so
    /// that nothing else uses it meanwhile.)
    #[test]
    fn threads_are_reused_run_tasks_side_by_side_and_end_once_idle() {
        let pool = &SHORT_TASKS;
        let threads = Arc::new(Mutex::new(std::collections::HashSet::new()));
        for _ in 0..5 {
            let (done, finished) = mpsc::channel();
            let threads = Arc::clone(&threads);
            pool.spawn(Box::new(move || {
                threads.lock().unwrap().insert(std::thread::current().id());
                done.send(()).unwrap();
            }));
            finished.recv_timeout(Duration::from_secs(5)).unwrap();
            // Let the thread reach its wait before the next task comes.
            let start = Instant::now();
            while pool.idle() == 0 && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        assert_eq!(threads.lock().unwrap().len(), 1, "one thread ran them all");

        // Eight tasks that each wait for all eight to have started: they must run side by
        // side, none queued behind another.
        const N: usize = 8;
        let started = Arc::new(AtomicUsize::new(0));
        let (done, finished) = mpsc::channel();
        for _ in 0..N {
            let started = Arc::clone(&started);
            let done = done.clone();
            pool.spawn(Box::new(move || {
                started.fetch_add(1, Ordering::SeqCst);
                let start = Instant::now();
                while started.load(Ordering::SeqCst) < N && start.elapsed() < Duration::from_secs(5)
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                done.send(started.load(Ordering::SeqCst)).unwrap();
            }));
        }
        for _ in 0..N {
            assert_eq!(finished.recv_timeout(Duration::from_secs(10)).unwrap(), N);
        }

        // Idle past IDLE, every thread ends.
        let start = Instant::now();
        while pool.idle() > 0 && start.elapsed() < IDLE * 5 {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(pool.idle(), 0);
    }
}
