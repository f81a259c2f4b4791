//! What a soak run must show: one ending per call, successes equal to the fault-free
//! answers, typed failures of the expected kinds, no call past its deadline, every permit
//! back, the server's request count consistent with the client's attempts, and bounded
//! memory. Each run prints its figures first, so a failing run still reports them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use blossom_core::policy::MetricsSnapshot;
use blossom_core::{Error, ErrorKind};
use blossom_emulator::Stats;

use crate::ledger::{Ended, Outcome};
use crate::{MEMORY_BOUND, SLACK};

/// Peak resident memory (VmHWM) around a run, in KiB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory {
    pub before_kib: u64,
    pub after_kib: u64,
    /// Whether the peak was reset before the run (else `before` is an older peak).
    pub reset: bool,
}

impl Memory {
    fn growth_kib(self) -> u64 {
        self.after_kib.saturating_sub(self.before_kib)
    }
}

/// Resets the process's peak RSS to its current RSS (Linux `clear_refs` 5) when allowed,
/// then reads it.
pub(crate) fn reset_peak() -> (u64, bool) {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    (peak_kib(), reset)
}

/// VmHWM of this process, in KiB (0 where /proc is missing).
pub(crate) fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Everything a run observed.
pub(crate) struct Run<'a> {
    pub adapter: &'static str,
    pub records: &'a [Ended],
    pub metrics: &'a MetricsSnapshot,
    pub stats: &'a Stats,
    pub memory: Memory,
    pub wall: Duration,
}

/// What the caller saw, counted.
#[derive(Default)]
struct Tally {
    ok: u64,
    failed: BTreeMap<&'static str, u64>,
    /// Failures labelled with their status where they have one (`api 503`).
    failed_detail: BTreeMap<String, u64>,
    cancelled: u64,
    /// Calls the caller planned to give up on (some end before it does).
    cancel_planned: u64,
    slowest: Duration,
    /// The most a call ended past its deadline.
    overshoot: Duration,
    late: Vec<String>,
    mismatched: Vec<String>,
    unexpected: Vec<String>,
    broken: Vec<String>,
}

fn tally(run: &Run<'_>) -> Tally {
    let mut t = Tally::default();
    for record in run.records {
        let call = record.call;
        let name = format!(
            "call {} ({} variant {}, timeout {:?}, cancel {:?})",
            call.id,
            call.kind.name(),
            call.variant,
            call.deadline,
            call.cancel
        );
        t.slowest = t.slowest.max(record.elapsed);
        t.overshoot = t
            .overshoot
            .max(record.elapsed.saturating_sub(call.deadline));
        t.cancel_planned += u64::from(call.cancel.is_some());
        if record.elapsed > call.deadline + SLACK {
            t.late.push(format!(
                "{name}: ended after {:?}, deadline {:?} ({:?})",
                record.elapsed,
                call.deadline,
                summary(&record.outcome)
            ));
        }
        match &record.outcome {
            Outcome::Ok { .. } => t.ok += 1,
            Outcome::Mismatch(how) => {
                t.ok += 1;
                t.mismatched.push(format!("{name}: {how}"));
            }
            Outcome::Failed(error) => {
                *t.failed.entry(error.kind().as_str()).or_default() += 1;
                let label = match error.status() {
                    Some(status) => format!("{} {}", error.kind().as_str(), status.as_u16()),
                    None => error.kind().as_str().to_owned(),
                };
                *t.failed_detail.entry(label).or_default() += 1;
                if !expected(error) {
                    t.unexpected
                        .push(format!("{name}: {:?}: {error}", error.kind()));
                }
            }
            Outcome::Cancelled => t.cancelled += 1,
            Outcome::Broken(what) => t.broken.push(format!("{name}: {what}")),
        }
    }
    t
}

/// The failures chaos may cause: a retryable status the retries did not outlast, a
/// connection that failed, a deadline, a broken stream or body, the breaker or the limiter
/// refusing. Never an invalid input, a configuration error, a 4xx other than 429 (the
/// emulator injects none), or a cancellation the caller did not ask for.
fn expected(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::Api => error
            .status()
            .is_some_and(|s| s.as_u16() == 429 || s.is_server_error()),
        ErrorKind::Transport
        | ErrorKind::Timeout
        | ErrorKind::Stream
        | ErrorKind::Decode
        | ErrorKind::CircuitOpen
        | ErrorKind::RateLimited => true,
        _ => false,
    }
}

fn summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Ok { len } => format!("ok, {len} bytes"),
        Outcome::Mismatch(how) => format!("ok but {how}"),
        Outcome::Failed(error) => format!("{}: {error}", error.kind().as_str()),
        Outcome::Cancelled => "cancelled".to_owned(),
        Outcome::Broken(what) => what.clone(),
    }
}

fn mib(kib: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)] // far below 2^52
    let mib = kib as f64 / 1024.0;
    mib
}

fn list(items: &[String]) -> String {
    let mut out = String::new();
    for item in items.iter().take(20) {
        let _ = writeln!(out, "  {item}");
    }
    if items.len() > 20 {
        let _ = writeln!(out, "  … and {} more", items.len() - 20);
    }
    out
}

/// Prints the run's figures, then checks every claim.
pub(crate) fn all(run: &Run<'_>) {
    let t = tally(run);
    let m = run.metrics;
    let s = run.stats;
    let calls = run.records.len() as u64;
    let failed: u64 = t.failed.values().sum();
    let resets = s.fault("reset");
    let injected: BTreeMap<&str, u64> = s.faults.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    eprintln!(
        "soak {}: {calls} calls in {:.1}s: {} ok, {failed} failed {:?}, {} cancelled ({} planned); \
         client: attempts {} (retried {}, cache hits {} holding {:.1} MiB, coalesced {}, breakers opened {} \
         and rejected {}), failed {:?}, cancelled {}; server requests {} (injected {:?}); \
         slowest call {:.2}s, most past a deadline {}ms; peak RSS {:.1} MiB (+{:.1} MiB{})",
        run.adapter,
        run.wall.as_secs_f64(),
        t.ok,
        t.failed_detail,
        t.cancelled,
        t.cancel_planned,
        m.attempts,
        m.retried,
        m.cache_hits,
        mib(m.cache_bytes / 1024),
        m.coalesced,
        m.breaker_opened,
        m.breaker_rejections,
        m.failed,
        m.cancelled,
        s.requests_total,
        injected,
        t.slowest.as_secs_f64(),
        t.overshoot.as_millis(),
        mib(run.memory.after_kib),
        mib(run.memory.growth_kib()),
        if run.memory.reset {
            ""
        } else {
            ", peak not reset"
        },
    );

    if m.breaker_opened > 0 {
        eprintln!(
            "soak {}: breakers at the end: {:?}",
            run.adapter, m.breakers
        );
    }

    // Every call ended exactly once (the ledger already refused doubles and gaps).
    assert!(
        t.broken.is_empty(),
        "calls that ended twice or hung:\n{}",
        list(&t.broken)
    );
    assert_eq!(t.ok + failed + t.cancelled, calls);

    // Every success is the fault-free answer.
    assert!(
        t.mismatched.is_empty(),
        "successes that differ from the fault-free answer:\n{}",
        list(&t.mismatched)
    );

    // Every failure is typed and of a kind chaos may cause.
    assert!(
        t.unexpected.is_empty(),
        "failures of unexpected kinds:\n{}",
        list(&t.unexpected)
    );

    // No call outlived its deadline.
    assert!(
        t.late.is_empty(),
        "calls past their deadline (+{SLACK:?}):\n{}",
        list(&t.late)
    );

    // Every permit came back.
    assert_eq!(
        (m.in_flight, m.queued),
        (0, 0),
        "calls still holding or waiting for a permit"
    );

    // The client's own ledger agrees: each submitted call ended exactly once, as the caller
    // saw it. A call the caller dropped may already have ended inside the client (a stream
    // dropped just as its `[DONE]` arrived): the client's successes and failures may exceed
    // the caller's by at most the calls the caller cancelled.
    assert_eq!(m.submitted, calls, "one submission per call");
    assert_eq!(
        m.finished(),
        m.submitted,
        "the client ended every submitted call exactly once: {m:?}"
    );
    assert!(
        (t.ok..=t.ok + t.cancelled).contains(&m.succeeded),
        "client successes {} vs {} seen ({} cancelled)",
        m.succeeded,
        t.ok,
        t.cancelled
    );
    for (kind, seen) in &t.failed {
        let counted = m.failed.get(kind).copied().unwrap_or(0);
        assert!(
            (*seen..=seen + t.cancelled).contains(&counted),
            "client counted {counted} {kind} failures, the callers saw {seen}"
        );
    }
    assert!(m.cancelled <= t.cancelled);

    // Attempts: every attempt is a call's first or a retry. Calls answered from the cache
    // make none; calls coalesced with an identical call in flight make none either, unless
    // their leader stopped without an answer to share (cancelled, out of time, refused by
    // the limiter) and one of them took over the flight: at most one such promotion per
    // leader that ended so.
    let gave_up = |m: &MetricsSnapshot| {
        m.cancelled
            + m.failed.get("timeout").copied().unwrap_or(0)
            + m.failed.get("rate_limited").copied().unwrap_or(0)
    };
    assert!(
        m.attempts - m.retried + m.cache_hits + m.coalesced <= m.submitted + gave_up(m),
        "first attempts ({} attempts - {} retries) > calls that could make one ({} calls - \
         {} cache hits - {} coalesced + {} promoted at most)",
        m.attempts,
        m.retried,
        m.submitted,
        m.cache_hits,
        m.coalesced,
        gave_up(m)
    );

    // The server saw the client's attempts, give or take two things:
    // - more: libcurl resends a request once, unasked, when a reused connection dies
    //   before any answer byte (an injected `reset`): at most one extra per reset;
    // - fewer: an attempt abandoned while the server had not yet answered (its call
    //   cancelled or out of time) may never be counted, since the emulator counts a
    //   request when its handler answers; at most one per such call.
    let abandoned = m.cancelled + m.failed.get("timeout").copied().unwrap_or(0);
    assert!(
        s.requests_total <= m.attempts + resets,
        "server saw {} requests, client made {} attempts, {resets} resets",
        s.requests_total,
        m.attempts
    );
    assert!(
        s.requests_total + abandoned >= m.attempts,
        "server saw {} requests, client made {} attempts, {abandoned} abandoned",
        s.requests_total,
        m.attempts
    );

    // The chaos was real: faults were injected in earnest.
    let faults: u64 = s
        .faults
        .iter()
        .filter(|(token, _)| *token != "latency")
        .map(|(_, n)| n)
        .sum();
    assert!(
        faults * 10 >= s.requests_total,
        "only {faults} faults in {} requests",
        s.requests_total
    );

    // Memory stays bounded.
    assert!(
        run.memory.growth_kib() < MEMORY_BOUND / 1024,
        "peak RSS grew by {:.1} MiB",
        mib(run.memory.growth_kib())
    );
}
