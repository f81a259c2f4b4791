//! A mixed batch against a standalone emulator that fails 20% of requests: every line gets
//! exactly one result, successes are right, the errors that cannot be retried are typed, and
//! the emulator saw the attempts the results report.

use std::time::Duration;

use serde_json::Value;

use crate::support::{JobDir, StandaloneEmulator, by_id, results, run};

/// 20% of requests fail: statuses a retry can fix and connection resets.
const FAULTS: &str = "500=0.04,502=0.03,503=0.05,504=0.02,429=0.02,reset=0.04,retry_after=50ms";
const LINES: usize = 2000;
/// Every 100th line names a model the service does not have: a 400 no retry can fix.
const BAD_MODEL_EVERY: usize = 100;

/// Line `i` of the mixed input, and what kind it is.
fn line(i: usize) -> (String, &'static str) {
    let model = if i % BAD_MODEL_EVERY == 7 {
        r#","model":"no-such-model""#
    } else {
        ""
    };
    match i % 20 {
        0 | 1 => (
            format!(
                r#"{{"id":"i{i}","kind":"image","prompt":"apple {i}","params":{{"width":32,"height":24,"seed":{i}}}{model}}}"#
            ),
            "image",
        ),
        2 => (
            format!(
                r#"{{"id":"s{i}","kind":"speech","prompt":"hello {i}","params":{{"format":"wav"}}{model}}}"#
            ),
            "speech",
        ),
        3..=9 => (
            format!(
                r#"{{"id":"c{i}","kind":"chat","messages":[{{"role":"user","content":"chat {i}"}}],"priority":"high"{model}}}"#
            ),
            "chat",
        ),
        _ => (
            format!(r#"{{"id":"t{i}","kind":"text","prompt":"text {i}"{model}}}"#),
            "text",
        ),
    }
}

#[test]
fn a_mixed_batch_under_faults_ends_every_line_once() {
    let dir = JobDir::new("faults");
    let input = dir.write_lines("in.jsonl", (0..LINES).map(|i| line(i).0));
    let output = dir.path("out.jsonl");
    let media = dir.path("media");
    let emulator = StandaloneEmulator::start(FAULTS);

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
    let results = by_id(&results);
    let mut attempts = 0;
    let mut retried = 0;
    for i in 0..LINES {
        let (_, kind) = line(i);
        let id = format!("{}{i}", &kind[..1]);
        let result = results
            .get(&id)
            .unwrap_or_else(|| panic!("no line for {id}"));
        let tries = result["attempts"].as_u64().unwrap();
        attempts += tries;
        retried += u64::from(tries > 1);
        if i % BAD_MODEL_EVERY == 7 {
            assert_eq!(result["ok"], false, "{result}");
            assert_eq!(result["error"]["kind"], "api", "{result}");
            assert_eq!(result["error"]["status"], 400, "{result}");
            assert!(result["error"]["request_id"].is_string(), "{result}");
            assert_eq!(result["line"], i + 1, "{result}");
            continue;
        }
        assert_eq!(result["ok"], true, "{result}");
        assert_eq!(result["kind"], kind, "{result}");
        assert!((1..=9).contains(&tries), "{result}");
        check_answer(i, kind, result);
    }
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

/// The answer of successful line `i` is the one asked for.
fn check_answer(i: usize, kind: &str, result: &Value) {
    match kind {
        "text" | "chat" => {
            let text = result["text"].as_str().unwrap();
            assert!(text.contains(&format!("{kind} {i}")), "{result}");
            assert!(result["model"].is_string(), "{result}");
            if kind == "chat" {
                assert!(result["usage"]["total_tokens"].as_u64().unwrap() > 0);
            }
        }
        "image" => {
            let bytes = std::fs::read(result["file"].as_str().unwrap()).unwrap();
            assert_eq!(blossom_tests::jpeg_size(&bytes), Some((32, 24)), "{result}");
        }
        _ => {
            let path = result["file"].as_str().unwrap();
            assert!(path.ends_with(&format!("s{i}.wav")), "{result}");
            let bytes = std::fs::read(path).unwrap();
            assert!(blossom_tests::wav_format(&bytes).is_some(), "{result}");
        }
    }
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
fn rate_paces_the_calls() {
    let dir = JobDir::new("rate");
    let input = dir.write_lines("in.jsonl", crate::support::text_lines(12));
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
    assert_eq!(results(&output).len(), 12);
    // A burst of 4, then 8 calls 250 ms apart: at least 2 s, whatever the machine.
    assert!(
        finished.took >= Duration::from_millis(1900),
        "12 calls at 4/s took {:?}",
        finished.took
    );
}
