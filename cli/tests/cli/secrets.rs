//! `blossom` against a server that echoes the key back: `text`, `chat`, `chat --stream` and a
//! small `batch`, with the key given by `--api-key`. Every byte the command printed (stdout,
//! stderr) and every file it wrote (the batch output, the media directory, anything else in
//! the job's directory) is searched for the canary key, whole or in part.
//!
//! The server echoes the key in error answers (message, code, field errors, form errors,
//! `X-Request-Id`, other headers, plain-text and HTML bodies, stream error events, a
//! malformed 200 body) and, separately, in the headers of successful answers
//! (`X-Request-Id`, `x-model-used`, the content type).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use blossom_tests::loopback::{LAST_CHUNK, Script, Server, content_event, sse_head};

use crate::support::{Finished, JobDir, blossom, run};

/// The canary: a well-formed secret key, `sk_` and 32 alphanumerics, none of it repeated.
const CANARY: &str = "sk_CanaryB4n8Xq2Wd6Lr0Tz5Hm7Pc3Vk9F";

/// The shortest run of the canary's characters counted as a leak.
const WINDOW: usize = 12;

/// A child that outlives this is killed and the test fails.
const LIMIT: Duration = Duration::from_secs(30);

/// Where in `bytes` the canary (or a [`WINDOW`]-long piece of it) appears, if it does.
fn leak_in(bytes: &[u8]) -> Option<String> {
    CANARY
        .as_bytes()
        .windows(WINDOW)
        .find_map(|piece| {
            bytes
                .windows(WINDOW)
                .position(|w| w == piece)
                .map(|at| (piece, at))
        })
        .map(|(piece, at)| {
            let whole = bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes());
            let what = if whole {
                "the whole key"
            } else {
                "part of the key"
            };
            format!("{what} ({:?}) at byte {at}", String::from_utf8_lossy(piece))
        })
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The leaks in what a run printed and in every file under `dir` (names and contents).
fn leaks(context: &str, finished: &Finished, dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (stream, text) in [("stdout", &finished.stdout), ("stderr", &finished.stderr)] {
        if let Some(leak) = leak_in(text.as_bytes()) {
            found.push(format!("{context}: {stream}: {leak}\n{text}"));
        }
    }
    for file in files(dir) {
        if let Some(leak) = leak_in(file.display().to_string().as_bytes()) {
            found.push(format!(
                "{context}: the file name {}: {leak}",
                file.display()
            ));
        }
        let bytes = std::fs::read(&file).unwrap_or_default();
        if let Some(leak) = leak_in(&bytes) {
            found.push(format!(
                "{context}: the file {}: {leak}\n{}",
                file.display(),
                String::from_utf8_lossy(&bytes)
            ));
        }
    }
    found
}

/// `blossom --base-url … --api-key CANARY --timeout 10s ARGS…` against `server`.
fn command(server: &Server, args: &[&str]) -> Command {
    let mut command = blossom();
    command
        .args(["--base-url", &server.base_url(), "--api-key", CANARY])
        .args(["--timeout", "10s"])
        .args(args);
    command
}

/// An answer with `status_line`, the echo headers, `content_type` and `body`.
fn echo(status_line: &str, content_type: &str, body: &[u8]) -> Script {
    let head = format!(
        "{status_line}\r\nContent-Type: {content_type}\r\nX-Request-Id: {CANARY}\r\n\
         X-Echo-Authorization: Bearer {CANARY}\r\nx-model-used: {CANARY}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    Script::new().write([head.as_bytes(), body].concat())
}

/// The service's error envelope with the canary in every field.
fn envelope(status: u16) -> String {
    format!(
        r#"{{"status":{status},"success":false,"error":{{"code":"{CANARY}","message":"the key {CANARY} is not valid","details":{{"name":"ValidationError","formErrors":["{CANARY}"],"fieldErrors":{{"{CANARY}":["{CANARY}"],"messages":["not {CANARY}"]}}}}}}}}"#
    )
}

/// A chat completion answer (its body holds no key).
fn chat_answer() -> String {
    r#"{"id":"c1","object":"chat.completion","created":1767225600,"model":"openai","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello!"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#.to_owned()
}

/// An SSE answer whose head echoes the key: `events` as chunks, then the end of the body.
fn echo_sse(events: &[Vec<u8>]) -> Script {
    let head = String::from_utf8(sse_head()).unwrap().replace(
        "\r\n\r\n",
        &format!("\r\nX-Request-Id: {CANARY}\r\nx-model-used: {CANARY}\r\n\r\n"),
    );
    let mut script = Script::new().write(head);
    for event in events {
        script = script.chunk(event);
    }
    script.write(LAST_CHUNK)
}

fn error_event() -> Vec<u8> {
    format!(
        "data: {{\"error\":{{\"message\":\"upstream rejected {CANARY}\",\"type\":\"{CANARY}\",\"code\":\"{CANARY}\"}}}}\n\n"
    )
    .into_bytes()
}

/// A tiny body that sniffs as PNG (its signature and an IHDR chunk).
fn png_bytes() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(
        b"\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00",
    );
    bytes.extend_from_slice(&[0; 4]);
    bytes
}

/// One command: its name, the server's answers, its arguments, its expected exit code.
type OneCall<'a> = (&'a str, Vec<Script>, Vec<&'a str>, Option<i32>);

/// Runs each one-call command against its own server; returns the leaks.
fn one_calls(cases: Vec<OneCall<'_>>) -> Vec<String> {
    let mut found = Vec::new();
    for (name, scripts, args, code) in cases {
        let dir = JobDir::new("secrets");
        let server = Server::start(scripts).unwrap();
        let finished = run(command(&server, &args), LIMIT);
        eprintln!(
            "{name}: exit {:?}, {} request(s); stdout {:?}; stderr {:?}",
            finished.code(),
            server.requests(),
            finished.stdout,
            finished.stderr
        );
        assert_eq!(finished.code(), code, "{name}: {}", finished.stderr);
        assert!(
            !finished.stderr.contains("panicked"),
            "{name}: {}",
            finished.stderr
        );
        found.extend(leaks(name, &finished, &dir.path("")));
    }
    found
}

#[test]
fn an_echoed_key_is_never_printed_for_failed_calls() {
    let json = "application/json; charset=utf-8";
    let found = one_calls(vec![
        (
            "text, 400 envelope",
            vec![echo(
                "HTTP/1.1 400 Bad Request",
                json,
                envelope(400).as_bytes(),
            )],
            vec!["text", "hi"],
            Some(1),
        ),
        (
            "text, plain-text 500",
            vec![echo(
                "HTTP/1.1 500 Internal Server Error",
                "text/plain",
                format!("{CANARY}\nAuthorization: Bearer {CANARY}\n").as_bytes(),
            )],
            vec!["text", "hi"],
            Some(1),
        ),
        (
            "text, HTML 502",
            vec![echo(
                "HTTP/1.1 502 Bad Gateway",
                "text/html",
                format!("<html><title>502 {CANARY}</title><body>{CANARY}</body></html>").as_bytes(),
            )],
            vec!["text", "hi"],
            Some(1),
        ),
        (
            "chat, 401 envelope",
            vec![echo(
                "HTTP/1.1 401 Unauthorized",
                json,
                envelope(401).as_bytes(),
            )],
            vec!["chat", "hi"],
            Some(1),
        ),
        (
            "chat, malformed 200 answer",
            vec![echo(
                "HTTP/1.1 200 OK",
                json,
                format!(r#"{{"id":"{CANARY}","choices":[{{"message":{{"content":"{CANARY}"#)
                    .as_bytes(),
            )],
            vec!["chat", "hi"],
            Some(1),
        ),
        (
            "chat --stream, 401 envelope",
            vec![echo(
                "HTTP/1.1 401 Unauthorized",
                json,
                envelope(401).as_bytes(),
            )],
            vec!["chat", "--stream", "hi"],
            Some(1),
        ),
        (
            "chat --stream, error event after a chunk",
            vec![echo_sse(&[content_event("Hello"), error_event()])],
            vec!["chat", "--stream", "hi"],
            Some(1),
        ),
        (
            "chat --stream, broken chunk",
            vec![echo_sse(&[
                content_event("Hello"),
                format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{CANARY}\n\n")
                    .into_bytes(),
            ])],
            vec!["chat", "--stream", "hi"],
            Some(1),
        ),
    ]);
    assert!(found.is_empty(), "{}", found.join("\n\n"));
}

#[test]
fn an_echoed_key_is_never_printed_for_successful_calls() {
    let json = "application/json; charset=utf-8";
    let text = "text/plain; charset=utf-8";
    let found = one_calls(vec![
        (
            "text, success",
            vec![echo("HTTP/1.1 200 OK", text, b"fine")],
            vec!["text", "hi"],
            Some(0),
        ),
        (
            "chat, success",
            vec![echo("HTTP/1.1 200 OK", json, chat_answer().as_bytes())],
            vec!["chat", "hi"],
            Some(0),
        ),
        (
            "chat --stream, success",
            vec![echo_sse(&[
                content_event("Hel"),
                content_event("lo"),
                b"data: [DONE]\n\n".to_vec(),
            ])],
            vec!["chat", "--stream", "hi"],
            Some(0),
        ),
    ]);
    let dir = JobDir::new("secrets-batch-ok");
    let (finished, requests) = batch(
        &dir,
        &[
            (
                r#"{"id":"t0","kind":"text","prompt":"zero"}"#,
                echo("HTTP/1.1 200 OK", text, b"fine"),
            ),
            (
                r#"{"id":"c1","kind":"chat","prompt":"one"}"#,
                echo("HTTP/1.1 200 OK", json, chat_answer().as_bytes()),
            ),
            (
                r#"{"id":"i2","kind":"image","prompt":"two"}"#,
                echo("HTTP/1.1 200 OK", "image/png", &png_bytes()),
            ),
        ],
    );
    assert_eq!(finished.code(), Some(0), "{}", finished.stderr);
    assert_eq!(requests, 3);
    let mut found = found;
    found.extend(leaks("batch of successes", &finished, &dir.path("")));
    assert!(found.is_empty(), "{}", found.join("\n\n"));
}

/// Runs `blossom batch` over `lines` (each with the one answer it gets: one line in flight
/// at a time, no retries, so answers meet lines in order) with its output and media
/// directory in `dir`; returns the run and the requests the server saw.
fn batch(dir: &JobDir, lines: &[(&str, Script)]) -> (Finished, usize) {
    let input = dir.write_lines("in.jsonl", lines.iter().map(|(line, _)| (*line).to_owned()));
    let server = Server::start(lines.iter().map(|(_, script)| script.clone()).collect()).unwrap();
    let mut command = command(&server, &["batch", "--concurrency", "1", "--retries", "0"]);
    command
        .arg("-o")
        .arg(dir.path("out.jsonl"))
        .arg("--media-dir")
        .arg(dir.path("media"))
        .arg(&input);
    let finished = run(command, LIMIT);
    eprintln!(
        "batch: exit {:?}, {} request(s)\n--- stdout\n{}--- stderr\n{}--- out.jsonl\n{}",
        finished.code(),
        server.requests(),
        finished.stdout,
        finished.stderr,
        std::fs::read_to_string(dir.path("out.jsonl")).unwrap_or_default()
    );
    assert!(!finished.stderr.contains("panicked"), "{}", finished.stderr);
    (finished, server.requests())
}

#[test]
fn an_echoed_key_is_never_written_by_a_batch_of_failures() {
    let dir = JobDir::new("secrets-batch-failed");
    let json = "application/json; charset=utf-8";
    let (finished, requests) = batch(
        &dir,
        &[
            (
                r#"{"id":"t0","kind":"text","prompt":"zero"}"#,
                echo("HTTP/1.1 400 Bad Request", json, envelope(400).as_bytes()),
            ),
            (
                r#"{"id":"c1","kind":"chat","prompt":"one"}"#,
                echo("HTTP/1.1 401 Unauthorized", json, envelope(401).as_bytes()),
            ),
            (
                r#"{"id":"t2","kind":"text","prompt":"two"}"#,
                echo(
                    "HTTP/1.1 500 Internal Server Error",
                    "text/plain",
                    format!("{CANARY}\n").as_bytes(),
                ),
            ),
            (
                r#"{"id":"c3","kind":"chat","prompt":"three"}"#,
                echo(
                    "HTTP/1.1 200 OK",
                    json,
                    format!(r#"{{"id":"{CANARY}","choices":"{CANARY}"}}"#).as_bytes(),
                ),
            ),
            (
                r#"{"id":"i4","kind":"image","prompt":"four"}"#,
                echo(
                    "HTTP/1.1 200 OK",
                    "image/png",
                    format!("<html>{CANARY}</html>").as_bytes(),
                ),
            ),
        ],
    );
    assert_eq!(finished.code(), Some(1), "{}", finished.stderr);
    assert_eq!(requests, 5);
    let results = crate::support::results(&dir.path("out.jsonl"));
    assert_eq!(results.len(), 5, "one result line per input line");
    assert!(results.iter().all(|r| r["ok"] == false), "{results:?}");
    let found = leaks("batch of failures", &finished, &dir.path(""));
    assert!(found.is_empty(), "{}", found.join("\n\n"));
}

#[test]
fn the_canary_is_a_well_formed_secret_key() {
    assert_eq!(CANARY.len(), 3 + 32);
    assert!(CANARY[3..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(leak_in(format!("x{}y", &CANARY[7..7 + WINDOW]).as_bytes()).is_some());
    assert!(leak_in(b"sk_...").is_none());
}
