//! A ring of time buckets: counts over the last `window` in O(buckets) per update, constant
//! memory. Shared by the retry budget and the time-based breaker window.

use std::time::{Duration, Instant};

/// Per-bucket counters over a sliding window of time.
#[derive(Debug, Clone)]
pub(crate) struct TimeWindow<T: Copy + Default> {
    buckets: Vec<T>,
    width: Duration,
    /// Start of the bucket at `head`.
    head_start: Option<Instant>,
    head: usize,
}

impl<T: Copy + Default> TimeWindow<T> {
    /// A window of `window` split into `buckets` buckets (at least one).
    pub(crate) fn new(window: Duration, buckets: usize) -> Self {
        let buckets = buckets.max(1);
        let width = window / u32::try_from(buckets).unwrap_or(u32::MAX);
        Self {
            buckets: vec![T::default(); buckets],
            width: width.max(Duration::from_millis(1)),
            head_start: None,
            head: 0,
        }
    }

    /// Moves the window forward to `now`, clearing buckets that fell out of it.
    fn advance(&mut self, now: Instant) {
        let Some(start) = self.head_start else {
            self.head_start = Some(now);
            return;
        };
        // A window too long to end (`Duration::MAX`) never moves.
        if start.checked_add(self.width).is_none_or(|end| now < end) {
            return;
        }
        let elapsed = now.duration_since(start).as_nanos() / self.width.as_nanos().max(1);
        let steps = usize::try_from(elapsed).unwrap_or(usize::MAX);
        for _ in 0..steps.min(self.buckets.len()) {
            self.head = (self.head + 1) % self.buckets.len();
            self.buckets[self.head] = T::default();
        }
        let advanced = self
            .width
            .checked_mul(u32::try_from(steps).unwrap_or(u32::MAX))
            .and_then(|advanced| start.checked_add(advanced));
        self.head_start = Some(advanced.unwrap_or(now));
    }

    /// The current bucket, after advancing to `now`.
    pub(crate) fn current(&mut self, now: Instant) -> &mut T {
        self.advance(now);
        &mut self.buckets[self.head]
    }

    /// Folds every bucket still in the window.
    pub(crate) fn fold<A>(&mut self, now: Instant, init: A, f: impl FnMut(A, &T) -> A) -> A {
        self.advance(now);
        self.buckets.iter().fold(init, f)
    }

    /// Clears every bucket.
    pub(crate) fn clear(&mut self) {
        self.buckets.iter_mut().for_each(|b| *b = T::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::origin;

    #[test]
    fn old_buckets_expire() {
        let t0 = origin();
        let mut window: TimeWindow<u32> = TimeWindow::new(Duration::from_secs(10), 10);
        *window.current(t0) += 5;
        *window.current(t0 + Duration::from_secs(3)) += 2;
        assert_eq!(window.fold(t0 + Duration::from_secs(9), 0, |a, b| a + b), 7);
        assert_eq!(
            window.fold(t0 + Duration::from_millis(10_500), 0, |a, b| a + b),
            2
        );
        assert_eq!(
            window.fold(t0 + Duration::from_secs(100), 0, |a, b| a + b),
            0
        );
    }

    #[test]
    fn a_duration_max_window_keeps_everything_and_never_panics() {
        let t0 = origin();
        let mut window: TimeWindow<u32> = TimeWindow::new(Duration::MAX, 10);
        *window.current(t0) += 1;
        let later = t0 + Duration::from_secs(3600 * 24 * 365);
        *window.current(later) += 1;
        assert_eq!(window.fold(later, 0, |a, b| a + b), 2);
    }
}
