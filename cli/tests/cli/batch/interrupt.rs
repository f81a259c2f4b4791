//! Ctrl-C and SIGTERM: the calls in flight finish and get their lines, the exit code is 130,
//! and `--resume` completes the job with no duplicate and no missing id. A second signal
//! stops at once.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{JobDir, Running, StandaloneEmulator, by_id, results, text_lines};

const LINES: usize = 1000;

/// Waits until `path` holds at least `lines` lines.
fn wait_for_lines(path: &std::path::Path, lines: usize, limit: Duration) {
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

fn interrupted_then_resumed(signal: &str) {
    let dir = JobDir::new(&format!("interrupt-{signal}"));
    let input = dir.write_lines("in.jsonl", text_lines(LINES));
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

    let running = Running::start(batch(false));
    wait_for_lines(&output, LINES / 4, Duration::from_secs(60));
    running.signal(signal);
    let first = running.finish(Duration::from_secs(60));
    assert_eq!(first.code(), Some(130), "{}", first.stderr);
    assert!(first.stderr.contains("interrupted"), "{}", first.stderr);
    let partial = results(&output);
    assert!(partial.len() < LINES, "the signal came before the end");
    let partial_ids = by_id(&partial);
    assert!(partial.iter().all(|r| r["ok"] == true));
    // Calls in flight at the signal finished within the grace period and were written:
    // the server answered exactly the lines in the file.
    assert_eq!(emulator.generation_requests(), partial.len() as u64);

    let second = Running::start(batch(true)).finish(Duration::from_secs(120));
    assert_eq!(second.code(), Some(0), "{}", second.stderr);
    let all = results(&output);
    assert_eq!(all.len(), LINES, "compacted to one line per id");
    let all = by_id(&all);
    for i in 0..LINES {
        let result = &all[&format!("t{i}")];
        assert_eq!(result["ok"], true, "{result}");
    }
    // The resumed run called only the lines the first one had not finished.
    assert_eq!(emulator.generation_requests(), LINES as u64);
    assert!(partial_ids.keys().all(|id| all.contains_key(id)));
}

#[test]
fn sigint_half_way_then_resume_completes_the_job() {
    interrupted_then_resumed("INT");
}

#[test]
fn sigterm_half_way_then_resume_completes_the_job() {
    interrupted_then_resumed("TERM");
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
        let status = std::process::Command::new("kill")
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
