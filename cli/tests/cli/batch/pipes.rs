//! `-` reads the input from a pipe and writes the results to one; progress and the summary
//! stay on stderr.

use std::io::Write as _;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{Running, blossom, by_id, parse_lines, text_lines};

#[test]
fn stdin_to_stdout() {
    let mut command = blossom();
    command
        .args(["--emulator", "batch", "-", "-o", "-", "--concurrency", "4"])
        .stdin(Stdio::piped());
    let mut running = Running::start(command);
    let mut stdin = running.child.stdin.take().unwrap();
    // Written from a thread: the child reads while it writes results.
    let writer = std::thread::spawn(move || {
        for line in text_lines(300) {
            writeln!(stdin, "{line}").unwrap();
        }
    });
    let finished = running.finish(Duration::from_secs(60));
    writer.join().unwrap();
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    let results = by_id(&parse_lines(&finished.stdout));
    assert_eq!(results.len(), 300, "stdout holds the result lines only");
    for i in 0..300 {
        let result = &results[&format!("t{i}")];
        assert_eq!(result["ok"], true, "{result}");
        let text = result["text"].as_str().unwrap();
        assert!(text.contains(&format!("question {i}")), "{result}");
    }
    assert!(finished.stderr.contains("succeeded"), "{}", finished.stderr);
}

#[test]
fn resume_needs_an_output_file() {
    let mut command = blossom();
    command
        .args(["--emulator", "batch", "-", "-o", "-", "--resume"])
        .stdin(Stdio::null());
    let finished = crate::support::run(command, Duration::from_secs(30));
    assert_eq!(finished.code(), Some(2), "{}", finished.stderr);
    assert!(finished.stderr.contains("--resume"), "{}", finished.stderr);
}
