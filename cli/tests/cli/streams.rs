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

/// `blossom --base-url … --api-key … chat [--stream] hi` against `server`.
fn chat_at(server: &Server, stream: bool) -> std::process::Command {
    let mut command = blossom();
    command.args(["--base-url", &server.base_url(), "--api-key", KEY, "chat"]);
    if stream {
        command.arg("--stream");
    }
    command.arg("hi");
    command
}

#[test]
fn an_answer_with_only_a_tool_call_is_reported_not_printed_as_an_empty_line() {
    let tool_call = br#"{"choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}}]}"#;
    let event = br#"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#;
    let streamed = Script::new()
        .write(sse_head())
        .chunk([&event[..], b"\n\n"].concat())
        .chunk(DONE)
        .chunk(b"");
    let server = Server::start(vec![Script::ok("application/json", tool_call), streamed]).unwrap();
    for stream in [false, true] {
        let finished = run(chat_at(&server, stream), LIMIT);
        assert_eq!(finished.code(), Some(0), "stderr: {}", finished.stderr);
        assert_eq!(finished.stdout, "", "stream: {stream}");
        assert!(
            finished.stderr.contains("called 1 tool(s)") && finished.stderr.contains("get_weather"),
            "stream: {stream}; stderr: {}",
            finished.stderr
        );
    }
}

#[test]
fn an_answer_cut_at_the_token_limit_says_so() {
    for stream in [false, true] {
        let mut command = blossom();
        command.args(["--emulator", "chat", "--max-tokens", "3"]);
        if stream {
            command.arg("--stream");
        }
        command.arg("tell me a story");
        let finished = run(command, LIMIT);
        assert_eq!(finished.code(), Some(0), "stderr: {}", finished.stderr);
        assert!(!finished.stdout.trim().is_empty());
        assert!(
            finished.stderr.contains("cut off at the token limit"),
            "stream: {stream}; stderr: {}",
            finished.stderr
        );
    }
}
