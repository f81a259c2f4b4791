//! Exit codes: 0 when every line succeeded, 1 when some failed (see the other tests), 2 for
//! usage and configuration errors, before any call.

use std::time::Duration;

use crate::support::{JobDir, blossom, results, run, text_lines};

#[test]
fn all_lines_succeeding_exits_0_and_reruns_need_a_choice() {
    let dir = JobDir::new("exit-0");
    let input = dir.write_lines("in.jsonl", text_lines(20));
    let output = dir.path("out.jsonl");
    let batch = |extra: &[&str]| {
        let mut command = blossom();
        command
            .args(["--emulator", "batch", "-q", "-o"])
            .arg(&output)
            .arg(&input)
            .args(extra);
        run(command, Duration::from_secs(60))
    };
    let first = batch(&[]);
    assert_eq!(first.code(), Some(0), "{}", first.stderr);
    assert!(first.stderr.is_empty(), "--quiet: {}", first.stderr);
    assert_eq!(results(&output).len(), 20);

    // The output exists: refused without --resume or --overwrite, and left as it was.
    let again = batch(&[]);
    assert_eq!(again.code(), Some(2), "{}", again.stderr);
    assert!(again.stderr.contains("--resume"), "{}", again.stderr);
    assert_eq!(results(&output).len(), 20);

    // --resume with everything done: nothing to call, nothing duplicated.
    let resumed = batch(&["--resume"]);
    assert_eq!(resumed.code(), Some(0), "{}", resumed.stderr);
    assert_eq!(results(&output).len(), 20);

    let overwritten = batch(&["--overwrite"]);
    assert_eq!(overwritten.code(), Some(0), "{}", overwritten.stderr);
    assert_eq!(results(&output).len(), 20);
}

#[test]
fn usage_errors_exit_2() {
    let dir = JobDir::new("exit-2");
    let input = dir.write_lines("in.jsonl", text_lines(1));
    let input = input.to_str().unwrap();
    let output = dir.path("out.jsonl");
    let output = output.to_str().unwrap();
    let missing = dir.path("missing.jsonl");
    let cases: [(&[&str], &str); 5] = [
        (
            &["batch", missing.to_str().unwrap(), "-o", output],
            "cannot read",
        ),
        (&["batch", input, "-o", output, "--rate", "fast"], "--rate"),
        (
            &["batch", input, "-o", output, "--concurrency", "0"],
            "--concurrency",
        ),
        (&["batch", input, "-o", output, "--grace=-1s"], "--grace"),
        (&["batch", input], "--output"),
    ];
    for (args, expected) in cases {
        let mut command = blossom();
        command.arg("--emulator").args(args);
        let finished = run(command, Duration::from_secs(30));
        assert_eq!(finished.code(), Some(2), "{args:?}: {}", finished.stderr);
        assert!(
            finished.stderr.contains(expected),
            "{args:?}: {}",
            finished.stderr
        );
    }
    assert!(!dir.path("out.jsonl").exists(), "no call, no output");
}
