//! `blossom chat --stream` against a scripted loopback server: a stream that stalls, and one
//! whose body is held open after `[DONE]`. The command must end on time in both, whatever
//! the server does next.

use std::time::Duration;

use blossom_tests::loopback::{DONE, Script, Server, content_event, sse_head};

use crate::support::{KEY, blossom, run};

/// Longer than any bound under test: a server step this long must never be waited out.
const FOREVER: Duration = Duration::from_secs(10);

/// A child that outlives this is killed and the test fails.
const LIMIT: Duration = Duration::from_secs(20);

/// `blossom --base-url … --api-key … --timeout 2s chat --stream hi` against `server`.
fn chat_stream(server: &Server) -> std::process::Command {
    let mut command = blossom();
    command.args([
        "--base-url",
        &server.base_url(),
        "--api-key",
        KEY,
        "--timeout",
        "2s",
        "chat",
        "--stream",
        "hi",
    ]);
    command
}

#[test]
fn a_stalled_stream_fails_at_the_timeout() {
    let stalled = Script::new()
        .write(sse_head())
        .chunk(content_event("partial"))
        .hold(FOREVER)
        .close();
    let server = Server::start(vec![stalled]).unwrap();
    let finished = run(chat_stream(&server), LIMIT);
    eprintln!(
        "blossom took {:?}; stderr: {}",
        finished.took, finished.stderr
    );
    assert_eq!(finished.code(), Some(1), "stderr: {}", finished.stderr);
    assert!(
        finished.took >= Duration::from_millis(1900) && finished.took < Duration::from_secs(5),
        "a 2 s timeout ended the command after {:?}",
        finished.took
    );
    assert!(
        finished.stderr.contains("timeout") || finished.stderr.contains("timed out"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stdout.starts_with("partial"),
        "{}",
        finished.stdout
    );
    assert_eq!(server.requests(), 1, "a stream that started is not retried");
}

#[test]
fn a_stream_held_open_after_done_prints_and_exits_at_once() {
    let held = Script::new()
        .write(sse_head())
        .chunk(content_event("Hello there"))
        .chunk(DONE)
        .hold(FOREVER)
        .close();
    let server = Server::start(vec![held]).unwrap();
    let finished = run(chat_stream(&server), LIMIT);
    eprintln!("blossom took {:?}", finished.took);
    assert!(finished.status.success(), "stderr: {}", finished.stderr);
    assert_eq!(finished.stdout, "Hello there\n");
    assert!(
        finished.took < Duration::from_secs(1),
        "the command waited {:?} for a body held open after [DONE]",
        finished.took
    );
}
