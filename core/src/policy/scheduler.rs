//! Admission: a client-wide number of permits, handed out by priority with aging.
//!
//! Why aging: strict priorities starve low-priority work whenever high-priority work keeps
//! arriving. Here a queued call is promoted one class for every `aging` it has waited, so a
//! low-priority call waits at most about `3 × aging` longer than a critical one that arrived
//! at the same moment. Within a class, calls are served first in, first out.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How urgent a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum Priority {
    /// Served before everything else.
    Critical,
    /// Served before normal work.
    High,
    /// The default.
    #[default]
    Normal,
    /// Served when nothing more urgent waits (but never starved).
    Low,
}

impl Priority {
    /// All classes, most urgent first.
    pub const ALL: [Self; 4] = [Self::Critical, Self::High, Self::Normal, Self::Low];

    fn rank(self) -> usize {
        match self {
            Self::Critical => 0,
            Self::High => 1,
            Self::Normal => 2,
            Self::Low => 3,
        }
    }

    /// A short stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }
}

/// Scheduler settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchedulerConfig {
    /// Calls running at once (holding a permit), client-wide. Default 256: enough that a
    /// program's own fan-out is rarely queued, few enough that a runaway loop cannot open
    /// thousands of connections. Separate from the pool size (`max_connections`), which is
    /// how many idle connections are kept for reuse.
    pub max_concurrent: usize,
    /// A queued call rises one class per this much waiting.
    pub aging: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            max_concurrent: 256,
            aging: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Waiting<Id> {
    id: Id,
    since: Instant,
    seq: u64,
}

/// Calls waiting for something, served by priority with aging and first in, first out
/// within a class. The scheduler queues calls for permits with it; the engine queues calls
/// for the rate limiter's next slot with it.
#[derive(Debug, Clone)]
pub struct PriorityQueue<Id> {
    queues: [VecDeque<Waiting<Id>>; 4],
    /// Calls queued in all classes (asked on every engine step, mostly while there are none).
    len: usize,
    aging: Duration,
    seq: u64,
}

impl<Id: Copy + PartialEq> PriorityQueue<Id> {
    /// An empty queue in which a call rises one class per `aging` waited.
    pub fn new(aging: Duration) -> Self {
        Self {
            queues: Default::default(),
            len: 0,
            aging,
            seq: 0,
        }
    }

    /// Queues `id` at the back of its class.
    pub fn push(&mut self, id: Id, priority: Priority, now: Instant) {
        self.seq += 1;
        self.len += 1;
        self.queues[priority.rank()].push_back(Waiting {
            id,
            since: now,
            seq: self.seq,
        });
    }

    /// Removes `id`. Returns whether it was queued.
    pub fn remove(&mut self, id: Id) -> bool {
        for queue in &mut self.queues {
            if let Some(at) = queue.iter().position(|w| w.id == id) {
                queue.remove(at);
                self.len -= 1;
                return true;
            }
        }
        false
    }

    /// The call to serve next at `now`: the head of the most urgent class, counting each
    /// head's promotion by aging; the longest waiting on a tie.
    pub fn peek(&self, now: Instant) -> Option<Id> {
        self.best(now).map(|(_, id)| id)
    }

    /// Removes and returns the call to serve next at `now` (see [`peek`](Self::peek)).
    pub fn pop(&mut self, now: Instant) -> Option<Id> {
        let (rank, _) = self.best(now)?;
        let popped = self.queues[rank].pop_front()?;
        self.len -= 1;
        Some(popped.id)
    }

    fn best(&self, now: Instant) -> Option<(usize, Id)> {
        if self.is_empty() {
            return None;
        }
        let aging = self.aging.as_nanos().max(1);
        self.queues
            .iter()
            .enumerate()
            .filter_map(|(rank, queue)| {
                let head = queue.front()?;
                let waited = now.saturating_duration_since(head.since).as_nanos() / aging;
                let promoted = i64::try_from(waited).unwrap_or(i64::MAX);
                let effective = i64::try_from(rank).unwrap_or(0).saturating_sub(promoted);
                Some((effective, head.seq, rank, head.id))
            })
            .min_by_key(|&(effective, seq, _, _)| (effective, seq))
            .map(|(_, _, rank, id)| (rank, id))
    }

    /// Calls queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no call is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Permits and the priority queue of calls waiting for one.
#[derive(Debug, Clone)]
pub struct Scheduler<Id> {
    max_concurrent: usize,
    queue: PriorityQueue<Id>,
    running: usize,
}

impl<Id: Copy + PartialEq> Scheduler<Id> {
    /// No call running, none queued.
    pub fn new(config: SchedulerConfig) -> Self {
        Self {
            max_concurrent: config.max_concurrent.max(1),
            queue: PriorityQueue::new(config.aging),
            running: 0,
        }
    }

    /// Takes a permit at once if one is free and nobody is queued ahead.
    pub fn try_admit(&mut self) -> bool {
        if self.running < self.max_concurrent && self.queue.is_empty() {
            self.running += 1;
            return true;
        }
        false
    }

    /// Queues a call for a permit.
    pub fn enqueue(&mut self, id: Id, priority: Priority, now: Instant) {
        self.queue.push(id, priority, now);
    }

    /// Removes a queued call (cancelled or timed out). Returns whether it was queued.
    pub fn remove(&mut self, id: Id) -> bool {
        self.queue.remove(id)
    }

    /// Returns a permit.
    pub fn release(&mut self) {
        self.running = self.running.saturating_sub(1);
    }

    /// If a permit is free, the queued call that should run next, which now holds it.
    pub fn next(&mut self, now: Instant) -> Option<Id> {
        if self.running >= self.max_concurrent {
            return None;
        }
        let id = self.queue.pop(now)?;
        self.running += 1;
        Some(id)
    }

    /// Calls holding permits.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Calls waiting for a permit.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::origin;

    fn scheduler(max: usize) -> Scheduler<u32> {
        Scheduler::new(SchedulerConfig {
            max_concurrent: max,
            aging: Duration::from_secs(2),
        })
    }

    #[test]
    fn priorities_in_order_and_fifo_within_a_class() {
        let t0 = origin();
        let mut s = scheduler(1);
        assert!(s.try_admit());
        s.enqueue(1, Priority::Low, t0);
        s.enqueue(2, Priority::Normal, t0);
        s.enqueue(3, Priority::Critical, t0);
        s.enqueue(4, Priority::Normal, t0);
        s.enqueue(5, Priority::High, t0);
        assert!(!s.try_admit(), "queued calls go first");
        assert_eq!(s.next(t0), None, "no permit free");
        let mut order = Vec::new();
        for _ in 0..5 {
            s.release();
            order.push(s.next(t0).unwrap());
        }
        assert_eq!(order, [3, 5, 2, 4, 1]);
        assert_eq!(s.queued(), 0);
    }

    #[test]
    fn aging_prevents_starvation() {
        let t0 = origin();
        let mut s = scheduler(1);
        assert!(s.try_admit());
        s.enqueue(1, Priority::Low, t0);
        // Critical work keeps arriving; after 6 s the low call has risen three classes and,
        // having arrived first, goes before the newest critical one.
        let later = t0 + Duration::from_secs(6);
        s.enqueue(2, Priority::Critical, later);
        s.release();
        assert_eq!(s.next(later), Some(1));
    }

    #[test]
    fn removal_and_permits() {
        let t0 = origin();
        let mut s = scheduler(2);
        assert!(s.try_admit());
        assert!(s.try_admit());
        s.enqueue(7, Priority::Normal, t0);
        assert!(s.remove(7));
        assert!(!s.remove(7));
        s.release();
        assert_eq!(s.next(t0), None, "nobody queued");
        assert!(s.try_admit());
        assert_eq!(s.running(), 2);
    }

    proptest::proptest! {
        /// Whatever is pushed, removed and popped, the count kept is the calls queued, and
        /// every call pushed comes out exactly once.
        #[test]
        fn the_count_is_the_calls_queued(
            ops in proptest::collection::vec((0u8..3, 0u32..20, 0usize..4), 1..200),
        ) {
            let t0 = origin();
            let mut queue = PriorityQueue::new(Duration::from_secs(2));
            let mut held: Vec<u32> = Vec::new();
            let classes = [Priority::Low, Priority::Normal, Priority::High, Priority::Critical];
            for (i, (op, id, class)) in ops.into_iter().enumerate() {
                let now = t0 + Duration::from_millis(i as u64 * 10);
                match op {
                    0 if !held.contains(&id) => {
                        queue.push(id, classes[class], now);
                        held.push(id);
                    }
                    1 => {
                        let was = held.contains(&id);
                        proptest::prop_assert_eq!(queue.remove(id), was);
                        held.retain(|h| *h != id);
                    }
                    _ => {
                        if let Some(popped) = queue.pop(now) {
                            proptest::prop_assert!(held.contains(&popped));
                            held.retain(|h| *h != popped);
                        } else {
                            proptest::prop_assert!(held.is_empty());
                        }
                    }
                }
                proptest::prop_assert_eq!(queue.len(), held.len());
                proptest::prop_assert_eq!(queue.is_empty(), held.is_empty());
            }
        }
    }
}
