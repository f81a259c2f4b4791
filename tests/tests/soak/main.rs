//! Chaos soak: each adapter (tokio, smol, blocking) runs a seeded mix of calls (text, chat,
//! chat streams, images, speech) at concurrency 16 against an emulator that breaks about a
//! quarter of its answers (5xx and edge pages, 429 with `Retry-After`, resets before and
//! during bodies, stalls, truncated and broken streams, mid-stream error events, malformed
//! bodies, latency), while the caller gives up on about 5 % of the calls at random points.
//!
//! Each run asserts (see `check`): every call ends exactly once; every success is byte for
//! byte the answer of a fault-free emulator; every failure is a typed error of a kind chaos
//! may cause; no call outlives its deadline; every permit comes back; the server's request
//! count is consistent with the client's attempts; peak memory stays bounded.
//!
//! The short form runs in `cargo test` (400 calls per adapter);
//! `BLOSSOM_SOAK_CALLS=5000 cargo test -p blossom-tests --test soak -- --nocapture` is the
//! long form. The workload is seeded; the faults are seeded too, but which request gets
//! which fault depends on the order requests reach the server, which concurrency varies.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod check;
mod drive_async;
mod drive_blocking;
mod ledger;
mod plan;
mod reference;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use blossom_core::policy::{BreakerConfig, BudgetConfig, MetricsSnapshot, RetryPolicy};
use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig, FaultSpec, Stats};

use check::{Memory, Run};
use ledger::{Ledger, watchdog};
use plan::Cancellable;

/// The seed of the workload, the emulators and the clients' jitter.
const SEED: u64 = 0x5eed_50a6;
/// Calls per adapter in the short form; `BLOSSOM_SOAK_CALLS` overrides it.
const SHORT_CALLS: usize = 400;
/// Calls in flight at once.
pub(crate) const CONCURRENCY: usize = 16;
/// The timeout of most calls (a fifth get a random one between 0.2 and 2 s).
const DEADLINE: Duration = Duration::from_secs(5);
/// How far past its deadline a call may end (scheduling on a busy two-core machine).
pub(crate) const SLACK: Duration = Duration::from_millis(500);
/// A call still running this long after it started has hung.
pub(crate) const HANG: Duration = Duration::from_secs(15);
/// The most peak RSS may grow during one adapter's run.
pub(crate) const MEMORY_BOUND: u64 = 200 * 1024 * 1024;

/// About a quarter of the answers break: 12 % error statuses (429 and 503 asking for a
/// 100 ms wait, a 520 edge page), 8 % broken connections (reset before the head, reset
/// midway through the body, a stall), 3 % malformed bodies (cut JSON, invalid UTF-8,
/// images and audio that are text, a cut event), and for streams another 8 % (cut before
/// `[DONE]`, an error event midway; the emulator applies these to streams only): 23 % of
/// plain answers, 31 % of streams. Every answer is delayed 0–120 ms.
const FAULTS: &str = "500=0.03,502=0.02,503=0.02,504=0.01,520=0.01,429=0.03,\
                      reset=0.03,reset_body=0.03,stall=0.02,truncate=0.04,stream_error=0.04,\
                      malformed=0.03,latency=0..120ms,retry_after=100ms";

fn calls() -> usize {
    match std::env::var("BLOSSOM_SOAK_CALLS") {
        Ok(n) => n
            .parse()
            .unwrap_or_else(|_| panic!("BLOSSOM_SOAK_CALLS={n:?} is not a number")),
        Err(_) => SHORT_CALLS,
    }
}

/// The emulator settings: the same for the faulty emulator and the fault-free one.
fn emulator_config(faults: FaultSpec) -> EmulatorConfig {
    EmulatorConfig::default()
        .seed(SEED)
        .stream_chunk_delay(Duration::from_millis(1))
        .faults(faults)
}

/// The client settings of every adapter: quick retries with a budget for a quarter of
/// attempts failing (the default budget, a fifth, would fail many calls outright);
/// attempts and silent streams cut short so a stall costs a retry rather than the whole
/// deadline; the default breakers, but open for half a second rather than 15, so a breaker
/// that opens (a run of failures on one endpoint happens under this much chaos) goes
/// through half-open probes and closes again within the run.
macro_rules! configure {
    ($builder:expr, $url:expr) => {{
        let mut retry = RetryPolicy::default();
        retry.max_retries = 4;
        retry.base = Duration::from_millis(20);
        retry.cap = Duration::from_millis(250);
        let mut budget = BudgetConfig::default();
        budget.ratio = 0.5;
        let mut breaker = BreakerConfig::default();
        breaker.open_for = Duration::from_millis(500);
        $builder
            .circuit_breaker(Some(breaker))
            .base_url($url)
            .api_key(DEMO_SECRET_KEY)
            .seed(SEED)
            .retry(retry)
            .retry_budget(Some(budget))
            .request_timeout(Duration::from_millis(1500))
            .stream_idle_timeout(Duration::from_secs(1))
            .build()
            .unwrap()
    }};
}

/// Waits (at most 2 s) for the client to report no call in flight or queued: a stream's
/// drain after `[DONE]` may still be finishing in the background.
pub(crate) fn settled(metrics: impl Fn() -> MetricsSnapshot) -> MetricsSnapshot {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let m = metrics();
        if (m.in_flight == 0 && m.queued == 0) || Instant::now() > until {
            return m;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (at most 3 s) for the emulator to finish every request, so its counts are final.
fn settled_stats(emulator: &Emulator) -> Stats {
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let stats = emulator.stats();
        if stats.in_flight == 0 || Instant::now() > until {
            return stats;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[derive(Debug, Clone, Copy)]
enum Adapter {
    Tokio,
    Smol,
    Blocking,
}

/// One adapter at a time: the runs share two cores, and peak memory is per process.
static SERIAL: Mutex<()> = Mutex::new(());

fn soak(adapter: Adapter) {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let calls = calls();
    let cancellable = match adapter {
        Adapter::Tokio | Adapter::Smol => Cancellable::Anywhere,
        Adapter::Blocking => Cancellable::StreamsOnly,
    };
    let plan = plan::plan(calls, SEED, cancellable, DEADLINE);
    let references = reference::shared(emulator_config(FaultSpec::none()), &plan);

    let emulator = Emulator::spawn(emulator_config(FAULTS.parse().unwrap())).unwrap();
    let url = emulator.base_url().to_owned();
    let (before_kib, reset) = check::reset_peak();
    let ledger = Arc::new(Ledger::new(calls, references));
    let started = Instant::now();
    let metrics = watchdog(
        &ledger,
        &plan,
        HANG + Duration::from_secs(5),
        || match adapter {
            Adapter::Tokio => {
                let client = configure!(blossom_tokio::Client::builder(), &url);
                drive_async::run_tokio(&client, &plan, &ledger)
            }
            Adapter::Smol => {
                let client = configure!(blossom_smol::Client::builder(), &url);
                drive_async::run_smol(&client, &plan, &ledger)
            }
            Adapter::Blocking => {
                let client = configure!(blossom_blocking::Client::builder(), &url);
                drive_blocking::run(&client, &plan, &ledger)
            }
        },
    );
    let wall = started.elapsed();
    let memory = Memory {
        before_kib,
        after_kib: check::peak_kib(),
        reset,
    };
    let stats = settled_stats(&emulator);
    emulator.stop();
    let records = Arc::into_inner(ledger).unwrap().into_records();
    check::all(&Run {
        adapter: match adapter {
            Adapter::Tokio => "tokio",
            Adapter::Smol => "smol",
            Adapter::Blocking => "blocking",
        },
        records: &records,
        metrics: &metrics,
        stats: &stats,
        memory,
        wall,
    });
}

#[test]
fn tokio_client_under_chaos() {
    soak(Adapter::Tokio);
}

#[test]
fn smol_client_under_chaos() {
    soak(Adapter::Smol);
}

#[test]
fn blocking_client_under_chaos() {
    soak(Adapter::Blocking);
}
