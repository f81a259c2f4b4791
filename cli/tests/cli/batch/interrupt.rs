//! Ctrl-C and SIGTERM: the calls in flight finish and get their lines, the exit code is 130,
//! and `--resume` completes the job with no duplicate and no missing id, running only what
//! was not done. A second signal stops at once.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::mixed;
use crate::support::{JobDir, Running, StandaloneEmulator, by_id, results, text_lines};

/// Waits until `path` holds at least `lines` lines.
fn wait_for_lines(path: &Path, lines: usize, limit: Duration) {
    let started = Instant::now();
    loop {
        let written = std::fs::read_to_string(path)
            .map(|text| text.lines().count())
            .unwrap_or(0);
        if written >= lines {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "only {written} lines after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `command` until `output` holds a quarter of `lines` lines, sends `signal`, checks
/// that the run stopped with code 130 before the end, and returns the lines written.
fn interrupt_a_quarter_in(
    command: Command,
    output: &Path,
    lines: usize,
    signal: &str,
) -> Vec<Value> {
    let running = Running::start(command);
    wait_for_lines(output, lines / 4, Duration::from_secs(120));
    running.signal(signal);
    let first = running.finish(Duration::from_secs(60));
    assert_eq!(first.code(), Some(130), "{}", first.stderr);
    assert!(first.stderr.contains("interrupted"), "{}", first.stderr);
    let partial = results(output);
    assert!(partial.len() < lines, "the signal came before the end");
    partial
}

/// The mixed job of 2,000 lines against an emulator failing 20% of requests, interrupted by
/// `signal` a quarter of the way, then resumed: the union is complete, one line per id.
fn mixed_job_interrupted_then_resumed(signal: &str) {
    let dir = JobDir::new(&format!("interrupt-{signal}"));
    let input = dir.write_lines("in.jsonl", (0..mixed::LINES).map(|i| mixed::line(i).0));
    let output = dir.path("out.jsonl");
    let emulator = StandaloneEmulator::start(&format!("{},latency=1..10ms", mixed::FAULTS));
    let batch = |resume: bool| {
        let mut command = emulator.blossom();
        command
            .args(["batch", "--concurrency", "16", "--retries", "8"])
            .args(["--progress-every", "100ms", "--media-dir"])
            .arg(dir.path("media"))
            .arg("-o")
            .arg(&output)
            .arg(&input);
        if resume {
            command.arg("--resume");
        }
        command
    };

    let partial = interrupt_a_quarter_in(batch(false), &output, mixed::LINES, signal);
    let partial = by_id(&partial);

    let second = Running::start(batch(true)).finish(Duration::from_secs(300));
    // The lines naming an unknown model fail again: exit code 1, not 130 or 0.
    assert_eq!(second.code(), Some(1), "{}", second.stderr);
    let all = results(&output);
    assert_eq!(all.len(), mixed::LINES, "compacted to one line per id");
    let all = by_id(&all);
    mixed::check_all(&all);
    // Lines that succeeded before the signal kept their first answer.
    for (id, before) in partial.iter().filter(|(_, r)| r["ok"] == true) {
        assert_eq!(&all[id], before, "{id} was run again");
    }
}

/// A job of plain text lines against a slow emulator, interrupted by `signal`, then
/// resumed: the emulator served each line exactly once across both runs.
fn text_job_interrupted_then_resumed(signal: &str) {
    let dir = JobDir::new(&format!("interrupt-text-{signal}"));
    let lines = 1000;
    let input = dir.write_lines("in.jsonl", text_lines(lines));
    let output = dir.path("out.jsonl");
    // Every request takes 10 to 30 ms, so the job lasts a few seconds at concurrency 8.
    let emulator = StandaloneEmulator::start("latency=10..30ms");
    let batch = |resume: bool| {
        let mut command = emulator.blossom();
        command
            .args([
                "batch",
                "--concurrency",
                "8",
                "--progress-every",
                "100ms",
                "-o",
            ])
            .arg(&output)
            .arg(&input);
        if resume {
            command.arg("--resume");
        }
        command
    };

    let partial = interrupt_a_quarter_in(batch(false), &output, lines, signal);
    by_id(&partial);
    assert!(partial.iter().all(|r| r["ok"] == true));
    // Calls in flight at the signal finished within the grace period and were written:
    // the server answered exactly the lines in the file.
    assert_eq!(emulator.generation_requests(), partial.len() as u64);

    let second = Running::start(batch(true)).finish(Duration::from_secs(120));
    assert_eq!(second.code(), Some(0), "{}", second.stderr);
    let all = results(&output);
    assert_eq!(all.len(), lines, "compacted to one line per id");
    let all = by_id(&all);
    for i in 0..lines {
        assert_eq!(all[&format!("t{i}")]["ok"], true);
    }
    // The resumed run called only the lines the first one had not finished.
    assert_eq!(emulator.generation_requests(), lines as u64);
}

#[test]
fn sigint_during_a_faulty_mixed_job_then_resume_completes_it() {
    mixed_job_interrupted_then_resumed("INT");
}

#[test]
fn sigterm_then_resume_serves_each_line_once() {
    text_job_interrupted_then_resumed("TERM");
}

#[test]
fn a_second_interrupt_stops_at_once() {
    let dir = JobDir::new("interrupt-twice");
    let input = dir.write_lines("in.jsonl", text_lines(20));
    let output = dir.path("out.jsonl");
    let mut command = crate::support::blossom();
    // Every answer takes 20 s; the grace period is 60 s.
    command
        .args([
            "--emulator-faults",
            "latency=20s",
            "batch",
            "--concurrency",
            "4",
        ])
        .args(["--grace", "60s", "--progress-every", "50ms", "-o"])
        .arg(&output)
        .arg(&input)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    // The first progress line comes after the signal handlers are installed.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("blossom batch"), "{line}");
    let lines = std::thread::spawn(move || {
        let mut rest = String::new();
        while stderr.read_line(&mut rest).unwrap_or(0) > 0 {}
        rest
    });
    let kill = |signal: &str| {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    };
    kill("INT");
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    kill("INT");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("still running 15 s after the second interrupt");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = lines.join().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted again"), "{stderr}");
    // No call finished: the output exists and is empty, ready for --resume.
    assert_eq!(results(&output).len(), 0);
}
