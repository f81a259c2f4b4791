//! The seeded decision: which fault (if any) and how much latency request number `n`
//! gets. A pure function of the spec, the emulator seed and `n`, through the stable hash,
//! so a run with the same seed and the same request order makes the same decisions.
//!
//! One draw picks the kind: the kinds are laid end to end on `0..1` in their fixed order
//! (statuses ascending, then `reset`, `reset_body`, `stall`, `truncate`, `stream_error`,
//! `malformed`), each as wide as its probability, and the draw lands in one of them or in
//! the rest (no fault). A second, independent draw picks the latency within its range.

use std::time::Duration;

use super::kind::FaultKind;
use super::spec::FaultSpec;
use super::units::{ONE, below};
use crate::hash::StableHasher;

/// What happens to one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The fault, if one fires.
    pub(crate) kind: Option<FaultKind>,
    /// The delay before the response head (zero for none).
    pub(crate) latency: Duration,
    /// The announced wait of an injected 429 or 503, when set.
    pub(crate) retry_after: Option<Duration>,
}

/// The plan of request number `n` under `spec` and `seed`.
pub(crate) fn decide(spec: &FaultSpec, seed: u64, n: u64) -> Plan {
    let roll = StableHasher::new()
        .str("fault-kind")
        .u64(seed)
        .u64(n)
        .finish();
    let point = below(roll, u64::from(ONE));
    let mut end = 0u64;
    let mut kind = None;
    for (candidate, chance) in &spec.chances {
        end += u64::from(chance.0);
        if point < end {
            kind = Some(*candidate);
            break;
        }
    }
    Plan {
        kind,
        latency: spec.latency.map_or(Duration::ZERO, |l| l.draw(seed, n)),
        retry_after: spec.retry_after,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn spec(text: &str) -> FaultSpec {
        text.parse().unwrap()
    }

    fn tally(spec: &FaultSpec, seed: u64, runs: u64) -> BTreeMap<Option<FaultKind>, u64> {
        let mut counts = BTreeMap::new();
        for n in 0..runs {
            *counts.entry(decide(spec, seed, n).kind).or_default() += 1;
        }
        counts
    }

    #[test]
    fn same_seed_same_decisions() {
        let s = spec("503=0.2,reset=0.1,stall=0.1,latency=10..500ms");
        let a: Vec<Plan> = (0..500).map(|n| decide(&s, 7, n)).collect();
        let b: Vec<Plan> = (0..500).map(|n| decide(&s, 7, n)).collect();
        assert_eq!(a, b);
        let c: Vec<Plan> = (0..500).map(|n| decide(&s, 8, n)).collect();
        assert_ne!(a, c, "another seed decides differently");
    }

    #[test]
    fn rates_match_the_probabilities() {
        let s = spec("503=0.1,429=0.05,reset=0.02,malformed=0.3");
        let runs = 10_000;
        let counts = tally(&s, 42, runs);
        let expect = [
            (Some(FaultKind::Status(503)), 0.1),
            (Some(FaultKind::Status(429)), 0.05),
            (Some(FaultKind::Reset), 0.02),
            (Some(FaultKind::Malformed), 0.3),
            (None, 0.53),
        ];
        for (kind, p) in expect {
            let got = counts.get(&kind).copied().unwrap_or(0) as f64;
            let mean = p * runs as f64;
            // Five standard deviations of a binomial count: never flaky, still tight.
            let tolerance = 5.0 * (mean * (1.0 - p)).sqrt();
            assert!(
                (got - mean).abs() <= tolerance,
                "{kind:?}: {got} vs {mean} ± {tolerance}"
            );
        }
    }

    #[test]
    fn certain_zero_and_no_faults() {
        let always = tally(&spec("502=1"), 1, 1000);
        assert_eq!(always.get(&Some(FaultKind::Status(502))), Some(&1000));
        let never = tally(&spec("502=0,reset=0"), 1, 1000);
        assert_eq!(never.get(&None), Some(&1000));
        let plan = decide(&FaultSpec::none(), 1, 1);
        assert_eq!(plan, Plan::default());
    }

    #[test]
    fn latency_is_independent_of_the_kind_and_within_range() {
        let s = spec("503=0.5,latency=100..200ms,retry_after=3s");
        let mut faulted_slow = 0;
        for n in 0..2000 {
            let plan = decide(&s, 9, n);
            assert!(plan.latency >= Duration::from_millis(100));
            assert!(plan.latency <= Duration::from_millis(200));
            assert_eq!(plan.retry_after, Some(Duration::from_secs(3)));
            if plan.kind.is_some() && plan.latency > Duration::from_millis(150) {
                faulted_slow += 1;
            }
        }
        // About a quarter of the requests are both faulted and in the slower half.
        assert!((350..650).contains(&faulted_slow), "{faulted_slow}");
    }
}
