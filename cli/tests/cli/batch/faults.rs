//! A mixed batch against a standalone emulator that fails 20% of requests: every line gets
//! exactly one result, successes are right, the errors that cannot be retried are typed, and
//! the emulator saw the attempts the results report. Also `--fail-fast`, and `--rate` with
//! priorities.

use std::time::Duration;

use super::mixed::{self, LINES};
use crate::support::{JobDir, StandaloneEmulator, by_id, results, run};

#[test]
fn a_mixed_batch_under_faults_ends_every_line_once() {
    let dir = JobDir::new("faults");
    let input = dir.write_lines("in.jsonl", (0..LINES).map(|i| mixed::line(i).0));
    let output = dir.path("out.jsonl");
    let media = dir.path("media");
    let emulator = StandaloneEmulator::start(mixed::FAULTS);

    let mut command = emulator.blossom();
    command
        .args(["batch", "--concurrency", "32", "--retries", "8", "-o"])
        .arg(&output)
        .arg("--media-dir")
        .arg(&media)
        .arg(&input);
    let finished = run(command, Duration::from_secs(300));
    assert_eq!(finished.code(), Some(1), "{}", finished.stderr);

    let results = results(&output);
    assert_eq!(results.len(), LINES, "one line per input line");
    let (attempts, retried) = mixed::check_all(&by_id(&results));
    assert!(
        retried > 100,
        "20% faults should make many lines retry: {retried}"
    );

    let stats = emulator.stats();
    let faults: u64 = stats.faults.values().sum();
    assert!(faults > 200, "faults injected: {:?}", stats.faults);
    let served = emulator.generation_requests();
    // libcurl resends, unasked, a request whose reused connection dies before any byte
    // came back; such a resend is a request the client did not count as an attempt.
    assert!(
        served >= attempts && served <= attempts + stats.fault("reset"),
        "the server saw {served} requests, the lines report {attempts} attempts, {} resets",
        stats.fault("reset")
    );
    assert!(
        finished.stderr.contains("succeeded") && finished.stderr.contains("retries"),
        "summary:\n{}",
        finished.stderr
    );
}

#[test]
fn fail_fast_stops_taking_lines_after_the_first_failed_call() {
    let dir = JobDir::new("fail-fast");
    let input = dir.write_lines("in.jsonl", crate::support::text_lines(500));
    let output = dir.path("out.jsonl");
    let mut command = crate::support::blossom();
    command
        .args(["--emulator-faults", "503=1.0", "batch", "--retries", "0"])
        .args(["--concurrency", "2", "--fail-fast", "-o"])
        .arg(&output)
        .arg(&input);
    let finished = run(command, Duration::from_secs(60));
    assert_eq!(finished.code(), Some(1), "{}", finished.stderr);
    let results = results(&output);
    assert!(
        !results.is_empty() && results.len() <= 8,
        "{} lines written",
        results.len()
    );
    for result in &results {
        assert_eq!(result["ok"], false, "{result}");
        assert_eq!(result["error"]["status"], 503, "{result}");
    }
    assert!(
        finished.stderr.contains("--fail-fast"),
        "{}",
        finished.stderr
    );
}

#[test]
fn rate_paces_the_calls_and_urgent_lines_take_the_next_slots() {
    let dir = JobDir::new("priority");
    let line = |id: String, priority: &str| {
        format!(r#"{{"id":"{id}","kind":"text","prompt":"{id}","priority":"{priority}"}}"#)
    };
    let lines = (0..8)
        .map(|i| line(format!("low{i}"), "low"))
        .chain((0..4).map(|i| line(format!("critical{i}"), "critical")));
    let input = dir.write_lines("in.jsonl", lines);
    let output = dir.path("out.jsonl");
    let mut command = crate::support::blossom();
    command
        .args([
            "--emulator",
            "batch",
            "--rate",
            "4/s",
            "--concurrency",
            "12",
        ])
        .args(["-q", "-o"])
        .arg(&output)
        .arg(&input);
    let finished = run(command, Duration::from_secs(60));
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    // A burst of 4, then 8 calls 250 ms apart: at least 2 s, whatever the machine.
    assert!(
        finished.took >= Duration::from_millis(1900),
        "12 calls at 4/s took {:?}",
        finished.took
    );
    let order: Vec<String> = results(&output)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    // The burst went to low lines (they came first); the critical lines, read after all
    // the low ones, take the next four slots.
    assert!(
        order[..4].iter().all(|id| id.starts_with("low")),
        "{order:?}"
    );
    assert!(
        order[4..8].iter().all(|id| id.starts_with("critical")),
        "{order:?}"
    );
}
