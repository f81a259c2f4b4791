//! The engine in virtual time: 10,000 calls against a simulated faulty server with an outage.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use blossom_core::ClientConfig;
use blossom_core::engine::{EngineConfig, LimiterConfig};
use blossom_core::policy::{BreakerConfig, BreakerState, BreakerWindow, BudgetConfig, RateLimit};
use blossom_tests::sim::{Faults, SimConfig, SimReport, run};

fn config(seed: u64) -> SimConfig {
    let mut engine = EngineConfig::from_client(&ClientConfig::new());
    engine.attempt_timeout = Duration::from_secs(2);
    engine.budget = Some(BudgetConfig::default());
    let mut breaker = BreakerConfig::default();
    breaker.window = BreakerWindow::Count(20);
    breaker.minimum_calls = 10;
    breaker.failure_rate = 0.5;
    breaker.open_for = Duration::from_secs(5);
    breaker.half_open_probes = 2;
    engine.breaker = Some(breaker);
    engine.limits = LimiterConfig::unlimited().generation(Some(RateLimit::per_second(250.0, 50)));
    engine.scheduler.max_concurrent = 64;
    engine.stream.idle_timeout = Duration::from_secs(1);
    SimConfig {
        seed,
        calls: 10_000,
        arrival_gap: Duration::from_millis(6),
        latency: (Duration::from_millis(20), Duration::from_millis(200)),
        faults: Faults {
            unavailable: 0.05,
            throttled: 0.0,
            reset: 0.02,
            silent: 0.01,
        },
        outages: vec![(Duration::from_secs(20), Duration::from_secs(30))],
        // The client may go 250/s; the server takes 100/s and answers 429 above it.
        server_limit: Some((100.0, 30.0)),
        repeat_share: 0.3,
        deadline_share: 0.3,
        cancel_share: 0.02,
        stream_share: 0.15,
        engine,
    }
}

/// At most `burst + rate·t` requests in any window of length `t` (checked for several `t`).
fn assert_paced(times: &[Duration], rate: f64, burst: u32) {
    for window in [
        Duration::from_millis(100),
        Duration::from_secs(1),
        Duration::from_secs(5),
    ] {
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] > window {
                start += 1;
            }
            let count = (end - start + 1) as f64;
            let allowed = f64::from(burst) + rate * window.as_secs_f64();
            assert!(
                count <= allowed + 1.0,
                "{count} requests within {window:?} (allowed {allowed})"
            );
        }
    }
}

fn check(report: &SimReport, calls: usize) {
    // Every submitted call ends exactly once: a result or its caller's cancellation.
    assert_eq!(report.endings.len(), calls);
    assert!(
        report.endings.iter().all(|n| *n == 1),
        "a call ended twice or never"
    );
    let failed: usize = report.failed.values().sum();
    assert_eq!(report.succeeded + failed + report.cancelled, calls);
    assert_eq!(report.metrics.in_flight, 0);
    let streams = &report.streams;
    assert_eq!(streams.past_deadline, 0, "no call outlives its deadline");
    assert!(
        streams.opened > 500 && streams.completed > 300,
        "{streams:?}"
    );
    assert!(streams.held_open_after_done > 50, "{streams:?}");
    assert!(streams.failed_before_first_event > 50, "{streams:?}");
    assert!(streams.chunks > 1_000, "{streams:?}");
    let timeouts = streams.failed_after_output.get("timeout").copied();
    let cut = streams.failed_after_output.get("stream").copied();
    assert!(
        timeouts > Some(20) && cut > Some(20),
        "stalls and cuts fail: {streams:?}"
    );
    assert_eq!(report.metrics.queued, 0);

    // The retry budget holds: retries add at most 20 % plus the floor of 1 per second.
    let floor = report.virtual_time.as_secs_f64() * 1.0;
    assert!(
        (report.retries as f64) <= 0.2 * report.first_attempts as f64 + floor,
        "{} retries for {} first attempts",
        report.retries,
        report.first_attempts
    );
    assert!(report.retries > 0, "faults were retried");

    // The limiter holds.
    assert_paced(&report.server_requests, 250.0, 50);

    // The breaker opened during the outage, failed calls fast, and closed after it.
    assert!(report.metrics.breaker_opened >= 1);
    assert!(report.failed.get("circuit_open").copied().unwrap_or(0) > 100);
    let outage_arrivals = 10.0 / 0.006;
    assert!(
        (report.requests_during_outages as f64) < outage_arrivals / 4.0,
        "{} requests reached the server during the outage",
        report.requests_during_outages
    );
    assert_eq!(report.breaker_at_end, BreakerState::Closed);
    assert!(report.succeeded_after_recovery > 1_000);

    // The server's own limit was hit rarely: its 429s slowed the client down.
    assert!(
        report.server_throttled * 20 < report.server_requests.len(),
        "{} 429s for {} requests",
        report.server_throttled,
        report.server_requests.len()
    );

    // Cache and coalescing cut server calls.
    assert!(report.metrics.cache_hits + report.metrics.coalesced > 1_000);
    assert!(report.first_attempts < calls - 1_000);
}

#[test]
fn ten_thousand_calls_through_faults_and_an_outage() {
    let started = Instant::now();
    let report = run(&config(7)).unwrap();
    check(&report, 10_000);
    assert!(report.virtual_time > Duration::from_secs(60));
    println!(
        "simulated {:?} of traffic in {:?}: {} ok, failed {:?}, {} cancelled, {} attempts ({} retries, {} answered 429), {} cache hits, {} coalesced, breaker opened {}x",
        report.virtual_time,
        started.elapsed(),
        report.succeeded,
        report.failed,
        report.cancelled,
        report.first_attempts + report.retries,
        report.retries,
        report.server_throttled,
        report.metrics.cache_hits,
        report.metrics.coalesced,
        report.metrics.breaker_opened,
    );
    println!("streams: {:?}", report.streams);
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let mut small = config(11);
    small.calls = 3_000;
    small.outages = vec![(Duration::from_secs(5), Duration::from_secs(8))];
    let a = run(&small).unwrap();
    let b = run(&small).unwrap();
    assert_eq!(a.trace_digest, b.trace_digest);
    assert_eq!(a.server_requests, b.server_requests);
    assert_eq!(a.failed, b.failed);
    assert_eq!(a.streams, b.streams);
    small.seed = 12;
    let c = run(&small).unwrap();
    assert_ne!(a.trace_digest, c.trace_digest);
}
