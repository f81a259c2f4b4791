//! Pacing only what the service limits: a gateway's `sk-…` key is not paced, a publishable
//! `pk_` key is, and the command says so once.

use std::time::Duration;

use blossom_tests::loopback::{Script, Server};

use crate::support::{JobDir, blossom, run, text_lines};

/// A gateway that answers every text request at once.
fn gateway() -> Server {
    Server::start(vec![Script::ok("text/plain; charset=utf-8", "fine")]).unwrap()
}

fn batch(
    server: &Server,
    key: &str,
    dir: &JobDir,
    lines: usize,
    quiet: bool,
) -> std::process::Command {
    let input = dir.write_lines("in.jsonl", text_lines(lines));
    let mut command = blossom();
    command
        .args(["--base-url", &server.base_url(), "--api-key", key, "batch"])
        .arg(&input)
        .arg("-o")
        .arg(dir.path("out.jsonl"));
    if quiet {
        command.arg("--quiet");
    }
    command
}

#[test]
fn a_gateway_key_of_another_shape_is_not_paced() {
    let server = gateway();
    let dir = JobDir::new("gateway-key");
    let finished = run(
        batch(&server, "sk-gateway-0123456789abcdef", &dir, 20, false),
        Duration::from_secs(60),
    );
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    assert_eq!(server.requests(), 20);
    // Paced at one generation every two seconds, as before, this took 34 s.
    assert!(
        finished.took < Duration::from_secs(5),
        "{:?}",
        finished.took
    );
    assert!(!finished.stderr.contains("paced"), "{}", finished.stderr);
}

#[test]
fn a_publishable_key_is_paced_and_the_command_says_so() {
    let server = gateway();
    let dir = JobDir::new("publishable-key");
    let finished = run(
        batch(&server, "pk_0123456789abcdef", &dir, 1, false),
        Duration::from_secs(60),
    );
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    assert!(
        finished.stderr.contains("publishable (pk_) key is paced"),
        "{}",
        finished.stderr
    );
    let quiet = run(
        batch(
            &server,
            "pk_0123456789abcdef",
            &JobDir::new("quiet"),
            1,
            true,
        ),
        Duration::from_secs(60),
    );
    assert!(
        !quiet.stderr.contains("paced"),
        "--quiet hides it: {}",
        quiet.stderr
    );
}
