//! A server that echoes the key back, in every field it can: the error message, its code,
//! `details.fieldErrors` (names and messages), `formErrors`, `X-Request-Id` and other
//! headers, plain-text and HTML error pages, stream error events, a broken stream chunk, and
//! success answers whose bodies are malformed (decode errors keep a snippet of the body).
//!
//! For every error, on every adapter, the canary key must appear in no `Display`, `Debug`,
//! alternate `Debug`, accessor (`message`, `code`, `field_errors`, `body`, `request_id`),
//! source in the error's chain, or transport error. "Appear" means the whole key or any
//! [`WINDOW`] characters of it in a row: a key cut in half is still half a key.

use std::error::Error as _;
use std::time::Duration;

use blossom_client::AnyRequest;
use blossom_core::api::{ChatRequest, ImageRequest, TextRequest};
use blossom_core::engine::CallOptions;
use blossom_core::{Error, ErrorKind};
use blossom_tests::loopback::{LAST_CHUNK, Script, Server, content_event, sse_head};

use crate::clients::{ALL, Adapter, Client, Setup, quick_retries};

/// The canary: a well-formed secret key, `sk_` and 32 alphanumerics, none of it repeated.
pub(crate) const CANARY: &str = "sk_CanaryQ7x2Lm9Zp4Rt8Wv3Ny6Hb5Kd1J";

/// The shortest run of the canary's characters counted as a leak.
pub(crate) const WINDOW: usize = 12;

/// Where in `text` the canary (or a [`WINDOW`]-long piece of it) appears, if it does.
pub(crate) fn leak_in(text: &str) -> Option<String> {
    if let Some(at) = text.find(CANARY) {
        return Some(format!("the whole key at byte {at}"));
    }
    CANARY
        .as_bytes()
        .windows(WINDOW)
        .filter_map(|piece| std::str::from_utf8(piece).ok())
        .find_map(|piece| {
            text.find(piece)
                .map(|at| format!("{piece:?} (part of the key) at byte {at}"))
        })
}

/// Every text an error shows, by where it came from.
fn texts(error: &Error) -> Vec<(String, String)> {
    let mut out = vec![
        ("Display".to_owned(), format!("{error}")),
        ("Debug".to_owned(), format!("{error:?}")),
        ("alternate Debug".to_owned(), format!("{error:#?}")),
        ("message()".to_owned(), error.message().to_owned()),
        ("code()".to_owned(), format!("{:?}", error.code())),
        (
            "field_errors()".to_owned(),
            format!("{:?}", error.field_errors()),
        ),
        ("body()".to_owned(), format!("{:?}", error.body())),
        (
            "request_id()".to_owned(),
            format!("{:?}", error.request_id()),
        ),
    ];
    for field in error.field_errors() {
        out.push(("field_errors()[].field".to_owned(), field.field.clone()));
        for message in &field.messages {
            out.push(("field_errors()[].messages".to_owned(), message.clone()));
        }
    }
    if let Some(transport) = error.transport_error() {
        out.push((
            "transport_error() Display".to_owned(),
            transport.to_string(),
        ));
        out.push((
            "transport_error() Debug".to_owned(),
            format!("{transport:?}"),
        ));
    }
    let mut source = error.source();
    let mut depth = 0;
    while let Some(cause) = source {
        depth += 1;
        out.push((format!("source #{depth} Display"), cause.to_string()));
        out.push((format!("source #{depth} Debug"), format!("{cause:?}")));
        source = cause.source();
    }
    out
}

/// Asserts the canary appears in no text of `error`.
pub(crate) fn assert_no_canary(error: &Error, context: &str) {
    for (place, text) in texts(error) {
        if let Some(leak) = leak_in(&text) {
            panic!("{context}: the canary leaked in {place}: {leak}\n{place} = {text}");
        }
    }
}

/// An answer with `status_line`, the echo headers, `content_type` and `body`.
fn echo(status_line: &str, content_type: &str, body: &str) -> Script {
    Script::new().write(format!(
        "{status_line}\r\nContent-Type: {content_type}\r\nX-Request-Id: {CANARY}\r\n\
         X-Echo-Authorization: Bearer {CANARY}\r\nx-model-used: {CANARY}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

/// The service's error envelope with the canary in every field.
fn envelope(status: u16) -> String {
    format!(
        r#"{{"status":{status},"success":false,"error":{{"code":"{CANARY}","message":"the key {CANARY} is not valid","timestamp":"2026-01-01T00:00:00.000Z","details":{{"name":"ValidationError","formErrors":["{CANARY}","form error for {CANARY}"],"fieldErrors":{{"{CANARY}":["{CANARY}"],"messages":["expected anything but {CANARY}"]}}}}}}}}"#
    )
}

/// What a case calls.
#[derive(Debug, Clone, Copy)]
enum Call {
    Text,
    Chat,
    Image,
    Stream,
}

struct Case {
    name: &'static str,
    call: Call,
    scripts: Vec<Script>,
    kind: ErrorKind,
}

/// An SSE answer: the head, then `events` as chunks, then the end of the body.
fn sse(events: &[Vec<u8>]) -> Script {
    let mut script = Script::new().write(sse_head());
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

fn cases() -> Vec<Case> {
    let json = "application/json; charset=utf-8";
    vec![
        Case {
            name: "a 400 envelope with the key in every field",
            call: Call::Text,
            scripts: vec![echo("HTTP/1.1 400 Bad Request", json, &envelope(400))],
            kind: ErrorKind::Api,
        },
        Case {
            name: "a 401 envelope on a chat call",
            call: Call::Chat,
            scripts: vec![echo("HTTP/1.1 401 Unauthorized", json, &envelope(401))],
            kind: ErrorKind::Api,
        },
        Case {
            name: "a 429 whose error string is the key (read as a code)",
            call: Call::Text,
            scripts: vec![echo(
                "HTTP/1.1 429 Too Many Requests",
                json,
                &format!(
                    r#"{{"error":"{CANARY}","message":"rate limit for {CANARY}","retryAfterSeconds":0.01}}"#
                ),
            )],
            kind: ErrorKind::Api,
        },
        Case {
            name: "a legacy 402 whose error string holds the key",
            call: Call::Text,
            scripts: vec![echo(
                "HTTP/1.1 402 Payment Required",
                json,
                &format!(r#"{{"error":"the key {CANARY} has no balance","status":402}}"#),
            )],
            kind: ErrorKind::Api,
        },
        Case {
            name: "a plain-text 500, retried",
            call: Call::Text,
            scripts: vec![echo(
                "HTTP/1.1 500 Internal Server Error",
                "text/plain",
                &format!("{CANARY}\nAuthorization: Bearer {CANARY}\n"),
            )],
            kind: ErrorKind::Api,
        },
        Case {
            name: "an HTML 502 page with the key in its title and body",
            call: Call::Text,
            scripts: vec![echo(
                "HTTP/1.1 502 Bad Gateway",
                "text/html",
                &format!(
                    "<html><head><title>502 {CANARY}</title></head><body><pre>Authorization: \
                     Bearer {CANARY}</pre></body></html>"
                ),
            )],
            kind: ErrorKind::Api,
        },
        Case {
            name: "a plain-text 403 whose first non-blank line is the key",
            call: Call::Text,
            scripts: vec![echo(
                "HTTP/1.1 403 Forbidden",
                "text/plain",
                &format!("   \n{CANARY}\n<b>{CANARY}</b>"),
            )],
            kind: ErrorKind::Api,
        },
        Case {
            name: "a stream error event after a chunk",
            call: Call::Stream,
            scripts: vec![sse(&[content_event("Hello"), error_event()])],
            kind: ErrorKind::Stream,
        },
        Case {
            name: "a stream error event before any chunk",
            call: Call::Stream,
            scripts: vec![sse(&[error_event()])],
            kind: ErrorKind::Stream,
        },
        Case {
            name: "a broken stream chunk holding the key",
            call: Call::Stream,
            scripts: vec![sse(&[
                content_event("Hello"),
                format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{CANARY}\n\n")
                    .into_bytes(),
            ])],
            kind: ErrorKind::Stream,
        },
        Case {
            name: "a stream answered with a 401 envelope",
            call: Call::Stream,
            scripts: vec![echo("HTTP/1.1 401 Unauthorized", json, &envelope(401))],
            kind: ErrorKind::Api,
        },
        Case {
            name: "a 200 chat answer that is malformed JSON holding the key",
            call: Call::Chat,
            scripts: vec![echo(
                "HTTP/1.1 200 OK",
                json,
                &format!(r#"{{"id":"{CANARY}","choices":[{{"message":{{"content":"{CANARY}"#),
            )],
            kind: ErrorKind::Decode,
        },
        Case {
            name: "a 200 chat answer of the wrong shape holding the key",
            call: Call::Chat,
            scripts: vec![echo(
                "HTTP/1.1 200 OK",
                json,
                &format!(r#"{{"id":"{CANARY}","choices":"{CANARY}"}}"#),
            )],
            kind: ErrorKind::Decode,
        },
        Case {
            name: "a 200 image that is HTML holding the key, with the key in its type",
            call: Call::Image,
            scripts: vec![echo(
                "HTTP/1.1 200 OK",
                &format!("image/jpeg; note={CANARY}"),
                &format!("<html><title>{CANARY}</title></html>"),
            )],
            kind: ErrorKind::Decode,
        },
        Case {
            name: "a 200 text answer that is not UTF-8, holding the key",
            call: Call::Text,
            scripts: vec![Script::new().write(
                [
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Request-Id: {CANARY}\r\n\
                         Content-Length: {}\r\n\r\n{CANARY}",
                        CANARY.len() + 2
                    )
                    .as_bytes(),
                    b"\xff\xfe",
                ]
                .concat(),
            )],
            kind: ErrorKind::Decode,
        },
    ]
}

fn options() -> CallOptions {
    CallOptions::default().timeout(Duration::from_secs(10))
}

/// Runs `call` on `client` and returns its error; panics on a success.
fn fail(client: &Client, call: Call, context: &str) -> Error {
    let request: AnyRequest = match call {
        Call::Text => TextRequest::new("hostile").into(),
        Call::Chat => ChatRequest::new("openai").user("hostile").into(),
        Call::Image => ImageRequest::new("hostile").into(),
        Call::Stream => {
            let outcome = client.stream(ChatRequest::new("openai").user("hostile"), options());
            return outcome
                .error
                .unwrap_or_else(|| panic!("{context}: the stream succeeded"));
        }
    };
    match client.call(request, options()) {
        Ok(answer) => panic!("{context}: succeeded with {answer:?}"),
        Err(error) => error,
    }
}

fn client(adapter: Adapter, server: &Server) -> Client {
    Client::new(
        adapter,
        &server.base_url(),
        &Setup::new(CANARY).retry(quick_retries(1)),
    )
}

#[test]
fn the_canary_is_long_enough_to_be_a_key() {
    assert_eq!(CANARY.len(), 3 + 32);
    assert!(CANARY[3..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(leak_in(&format!("x{}y", &CANARY[5..5 + WINDOW])).is_some());
    assert!(leak_in("sk_…").is_none());
}

#[test]
fn an_echoed_key_appears_in_no_error() {
    for case in cases() {
        for adapter in ALL {
            let server = Server::start(case.scripts.clone()).unwrap();
            let client = client(adapter, &server);
            let context = format!("{} on {}", case.name, adapter.name());
            let error = fail(&client, case.call, &context);
            eprintln!(
                "{context}: {:?} requests={} | {error}",
                error.kind(),
                server.requests()
            );
            assert_eq!(error.kind(), case.kind, "{context}: {error:?}");
            assert_no_canary(&error, &context);
        }
    }
}

/// The kept body is cut at 2 KiB; an echoed key that straddles the cut is only partly in
/// the snippet, and scrubbing the whole key does not find it.
#[test]
fn an_echoed_key_cut_by_the_body_snippet_appears_in_no_error() {
    // The key starts 20 bytes before the cut (the snippet keeps 2048 bytes).
    for offset in [20usize, WINDOW, 1] {
        let prefix = r#"{"error":{"code":"BAD_REQUEST","message":"bad"},"pad":""#;
        let pad = "p".repeat(2048 - offset - prefix.len());
        let body = format!(r#"{prefix}{pad}{CANARY} and more"}}"#);
        for adapter in ALL {
            let server = Server::start(vec![echo(
                "HTTP/1.1 400 Bad Request",
                "application/json",
                &body,
            )])
            .unwrap();
            let client = client(adapter, &server);
            let context = format!(
                "a key cut {offset} bytes into it by the snippet on {}",
                adapter.name()
            );
            let error = fail(&client, Call::Text, &context);
            assert_eq!(error.kind(), ErrorKind::Api, "{context}: {error:?}");
            assert_no_canary(&error, &context);
        }
    }
}

/// The same cut, in a decode error's snippet of a malformed 200 answer.
#[test]
fn an_echoed_key_cut_by_a_decode_snippet_appears_in_no_error() {
    let prefix = r#"{"id":"x","pad":""#;
    let pad = "p".repeat(2048 - 20 - prefix.len());
    let body = format!(r#"{prefix}{pad}{CANARY}"#);
    for adapter in ALL {
        let server =
            Server::start(vec![echo("HTTP/1.1 200 OK", "application/json", &body)]).unwrap();
        let client = client(adapter, &server);
        let context = format!(
            "a malformed chat answer cut in the key on {}",
            adapter.name()
        );
        let error = fail(&client, Call::Chat, &context);
        assert_eq!(error.kind(), ErrorKind::Decode, "{context}: {error:?}");
        assert_no_canary(&error, &context);
    }
}

/// A success whose headers echo the key: the reply's metadata (`request_id`, `model_used`,
/// `content_type`) and its `Debug`.
#[test]
fn an_echoed_key_appears_in_no_success_metadata() {
    for adapter in ALL {
        let server = Server::start(vec![echo(
            "HTTP/1.1 200 OK",
            &format!("text/plain; charset=utf-8; note={CANARY}"),
            "fine",
        )])
        .unwrap();
        let client = client(adapter, &server);
        let reply = client
            .call(TextRequest::new("hostile"), options())
            .unwrap_or_else(|e| panic!("{adapter:?}: {e:?}"));
        let shown = format!("{reply:?}");
        if let Some(leak) = leak_in(&shown) {
            panic!(
                "a success on {}: the canary leaked in the reply's Debug: {leak}\n{shown}",
                adapter.name()
            );
        }
    }
}

/// The clients themselves never show the key.
#[test]
fn a_client_shows_no_key() {
    let server = Server::start(vec![]).unwrap();
    for adapter in ALL {
        let client = client(adapter, &server);
        let shown = match &client {
            Client::Tokio(_, c) => format!("{c:?} {:?}", c.config()),
            Client::Smol(c) => format!("{c:?} {:?}", c.config()),
            Client::Blocking(c) => format!("{c:?} {:?}", c.config()),
        };
        assert!(leak_in(&shown).is_none(), "{}: {shown}", adapter.name());
    }
}
