//! A latency histogram in fixed memory: exact below 64 ms, then 32 buckets per doubling
//! (within about 3 %), whatever the number of calls.

/// Exact buckets below this many milliseconds.
const EXACT: u64 = 64;
/// Buckets per doubling above that.
const PER_OCTAVE: u64 = 32;
/// Enough buckets for any `u64`.
const BUCKETS: usize = 64 + 58 * 32;

/// Latencies in milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

fn index(ms: u64) -> usize {
    if ms < EXACT {
        return usize::try_from(ms).unwrap_or(0);
    }
    let octave = 63 - u64::from(ms.leading_zeros()); // ≥ 6
    let shift = octave - 5;
    let top = ms >> shift; // 32..64
    usize::try_from(EXACT + (octave - 6) * PER_OCTAVE + (top - PER_OCTAVE)).unwrap_or(BUCKETS - 1)
}

/// The middle of bucket `i`, in milliseconds.
fn middle(i: usize) -> u64 {
    let i = i as u64;
    if i < EXACT {
        return i;
    }
    let octave = (i - EXACT) / PER_OCTAVE + 6;
    let top = (i - EXACT) % PER_OCTAVE + PER_OCTAVE;
    let shift = octave - 5;
    (top << shift) + ((1 << shift) >> 1)
}

impl Histogram {
    /// Records one latency.
    pub(crate) fn record(&mut self, ms: u64) {
        if let Some(count) = self.counts.get_mut(index(ms)) {
            *count += 1;
            self.total += 1;
        }
    }

    /// How many were recorded.
    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.total
    }

    /// The `q` quantile (0..=1) in milliseconds; `None` when empty.
    pub(crate) fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        // A rank within 1..=total; the float is small and non-negative.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(middle(i));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn buckets_round_trip_within_three_percent() {
        for ms in [
            0,
            1,
            63,
            64,
            65,
            100,
            999,
            1000,
            12_345,
            3_600_000,
            u64::MAX / 2,
        ] {
            let m = middle(index(ms));
            let error = m.abs_diff(ms) as f64 / (ms.max(1) as f64);
            assert!(error <= 0.03, "{ms} -> {m}");
        }
        assert!(index(u64::MAX) < BUCKETS);
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for ms in 1..=100 {
            h.record(ms);
        }
        assert_eq!(h.count(), 100);
        let p50 = h.quantile(0.5).unwrap();
        let p99 = h.quantile(0.99).unwrap();
        assert!((49..=51).contains(&p50), "{p50}");
        assert!((97..=101).contains(&p99), "{p99}");
    }
}
