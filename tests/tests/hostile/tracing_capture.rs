//! Everything the SDK and its transport log, at TRACE level, must be free of the key.
//!
//! A small subscriber (`blossom_tests::capture`) records every event's fields and every
//! span's fields (at creation and when recorded later) as text. It is installed as the
//! global default, so it also sees what the transport's own threads log (libcurl's agent
//! thread), which is why the test runs in a child process of its own (`memory::in_child`):
//! a global subscriber at TRACE would otherwise make every other test in this binary log
//! its wire bytes.
//!
//! Calls that succeed, calls that are retried and then succeed, calls that fail, and streams,
//! on every adapter; first against a server that never echoes the key (anything found is the
//! SDK's own logging of what it sends), then against one that echoes it in its answers.

use std::time::Duration;

use blossom_core::api::{ChatRequest, TextRequest};
use blossom_core::engine::CallOptions;
use blossom_tests::capture::Capture;
use blossom_tests::loopback::{Script, Server};

use crate::clients::{ALL, Adapter, Client, Setup, quick_retries};
use crate::memory::in_child;
use crate::secrets::{CANARY, leak_in};

/// The environment variable that turns `tracing_capture::child` into the capture run.
const VAR: &str = "BLOSSOM_HOSTILE_TRACING";

fn options() -> CallOptions {
    CallOptions::default().timeout(Duration::from_secs(10))
}

fn error_envelope() -> String {
    format!(
        r#"{{"error":{{"code":"BAD_REQUEST","message":"the key {CANARY} is not valid","details":{{"fieldErrors":{{"{CANARY}":["{CANARY}"]}}}}}}}}"#
    )
}

/// A JSON error answer; with `echo`, the key is in its headers and body too.
fn error_answer(status_line: &str, echo: bool) -> Script {
    let body = if echo {
        error_envelope()
    } else {
        r#"{"error":{"code":"BAD_REQUEST","message":"no"}}"#.to_owned()
    };
    let id = if echo { CANARY } else { "req-1" };
    Script::new().write(format!(
        "{status_line}\r\nContent-Type: application/json\r\nX-Request-Id: {id}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

/// Calls that succeed, are retried, fail, and stream, on `adapter`; `echo` says whether the
/// server echoes the key. Returns how many calls were made.
fn exercise(adapter: Adapter, echo: bool) -> usize {
    let ok = || Script::ok("text/plain; charset=utf-8", "fine");
    let scripts = vec![
        // A success.
        ok(),
        // A retry, then a success.
        error_answer("HTTP/1.1 503 Service Unavailable", echo),
        ok(),
        // A failure (not retried).
        error_answer("HTTP/1.1 400 Bad Request", echo),
        // A stream that succeeds.
        Script::sse(&["Hel", "lo"]),
        // A stream that fails with an error event.
        Script::new()
            .write(blossom_tests::loopback::sse_head())
            .chunk(blossom_tests::loopback::content_event("partial"))
            .chunk(format!(
                "data: {{\"error\":{{\"message\":\"{}\"}}}}\n\n",
                if echo { CANARY } else { "upstream failed" }
            ))
            .write(blossom_tests::loopback::LAST_CHUNK),
    ];
    let server = Server::start(scripts).unwrap();
    let client = Client::new(
        adapter,
        &server.base_url(),
        &Setup::new(CANARY).retry(quick_retries(2)),
    );
    let results = [
        client.call(TextRequest::new("success"), options()).is_ok(),
        client.call(TextRequest::new("retried"), options()).is_ok(),
        client.call(TextRequest::new("failure"), options()).is_err(),
    ];
    assert_eq!(results, [true, true, true], "{adapter:?}");
    let request = || ChatRequest::new("openai").user("stream");
    assert!(
        client.stream(request(), options()).error.is_none(),
        "{adapter:?}"
    );
    assert!(
        client.stream(request(), options()).error.is_some(),
        "{adapter:?}"
    );
    5
}

/// The capture run: a child process with the global subscriber (see the module docs).
/// Prints one `TRACING` line per server kind, with the leaking lines by target, and a few
/// of them; the parent judges.
#[test]
fn child() {
    let Ok(value) = std::env::var(VAR) else {
        return;
    };
    let adapter = Adapter::from_name(&value).unwrap();
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone()).unwrap();
    for echo in [false, true] {
        let calls = exercise(adapter, echo);
        // Let the transport's threads finish logging the last exchange.
        std::thread::sleep(Duration::from_millis(300));
        let captured = capture.take_texts();
        let leaked: Vec<&String> = captured
            .iter()
            .filter(|line| leak_in(line).is_some())
            .collect();
        let mut by_target = std::collections::BTreeMap::<&str, usize>::new();
        for line in &leaked {
            // `LEVEL target …` for events; a span's name stands first.
            let target = line.split(' ').nth(1).unwrap_or("?");
            *by_target.entry(target).or_default() += 1;
        }
        println!(
            "TRACING adapter={value} echo={echo} calls={calls} lines={} leaking={} \
             by_target={by_target:?}",
            captured.len(),
            leaked.len()
        );
        for line in leaked.iter().take(3) {
            let shown: String = line.chars().take(240).collect();
            println!("TRACING leak adapter={value} echo={echo}: {shown}");
        }
    }
}

#[test]
fn the_key_is_never_logged() {
    let mut leaking = Vec::new();
    for adapter in ALL {
        let stdout = in_child("tracing_capture::child", VAR, adapter.name());
        for line in stdout.lines() {
            let Some(at) = line.find("TRACING ") else {
                continue;
            };
            let line = &line[at..];
            println!("{line}");
            if line.starts_with("TRACING adapter=") && !line.contains(" leaking=0 ") {
                leaking.push(line.to_owned());
            }
        }
    }
    assert!(
        leaking.is_empty(),
        "the canary key appears in what was logged at TRACE:\n{}",
        leaking.join("\n")
    );
}
