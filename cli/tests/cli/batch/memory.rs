//! Memory stays bounded by the concurrency, not by the input: a batch of 20,000 lines peaks at
//! about the resident set of one of 2,000 lines. The emulator runs as a process of its own, so only `blossom` is
//! measured. The 200,000-line run (`--ignored`) prints the figure quoted in the docs.

use std::time::{Duration, Instant};

use crate::support::{JobDir, Running, StandaloneEmulator, results, text_lines};

/// The peak resident set size of process `pid` so far, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs a `lines`-line text batch at concurrency 64 and returns its peak RSS in MiB.
fn peak_rss_of_batch(lines: usize, limit: Duration) -> f64 {
    let dir = JobDir::new(&format!("memory-{lines}"));
    let input = dir.write_lines("in.jsonl", text_lines(lines));
    let output = dir.path("out.jsonl");
    let emulator = StandaloneEmulator::start("");
    let mut command = emulator.blossom();
    command
        .args(["batch", "--concurrency", "64", "-q", "-o"])
        .arg(&output)
        .arg(&input);
    let started = Instant::now();
    let running = Running::start(command);
    let pid = running.child.id();
    // VmHWM only grows; the last reading before the process exits is its peak.
    let mut peak = 0;
    while let Some(now) = peak_rss_kib(pid) {
        peak = peak.max(now);
        if started.elapsed() > limit {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let finished = running.finish(limit);
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    assert_eq!(results(&output).len(), lines);
    #[allow(clippy::cast_precision_loss)] // KiB counts are far below 2^52.
    let mib = peak as f64 / 1024.0;
    println!(
        "{lines} lines at concurrency 64: peak RSS {mib:.1} MiB, {:.1} s, {:.0} lines/s",
        finished.took.as_secs_f64(),
        lines as f64 / finished.took.as_secs_f64()
    );
    mib
}

#[test]
fn ten_times_the_lines_take_no_more_memory() {
    let small = peak_rss_of_batch(2_000, Duration::from_secs(120));
    let large = peak_rss_of_batch(20_000, Duration::from_secs(300));
    assert!(small > 1.0, "the reading worked");
    // What grows with the input is one 128-bit key per id (for duplicates and --resume):
    // well under a MiB here. Holding lines or answers would add several MiB.
    assert!(
        large < small + 4.0,
        "peak RSS {small:.1} MiB for 2,000 lines, {large:.1} MiB for 20,000"
    );
    assert!(large < 64.0, "peak RSS {large:.1} MiB for 20,000 lines");
}

#[test]
#[ignore = "a long run: cargo test --release -p blossom-cli --test cli -- --ignored --nocapture"]
fn two_hundred_thousand_lines_in_bounded_memory() {
    let mib = peak_rss_of_batch(200_000, Duration::from_secs(1800));
    assert!(mib < 64.0, "peak RSS {mib:.1} MiB for 200,000 lines");
}
