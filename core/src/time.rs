//! Instant arithmetic that cannot overflow: a huge duration means "never", not "now".

use std::time::{Duration, Instant};

/// Farther than any client runs: a stand-in for "never" that still compares and subtracts.
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + duration`, or a point about a century away when that overflows `Instant` (a
/// `Duration::MAX` timeout, TTL or pause means "no limit").
pub(crate) fn after(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration.min(FAR))
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_duration_is_far_away_not_now() {
        let now = crate::testing::origin();
        assert!(after(now, Duration::MAX) > now + Duration::from_secs(3600 * 24 * 365));
        assert_eq!(
            after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }
}
