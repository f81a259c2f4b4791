//! Header values and heads that are not valid: bytes that are not text in `Retry-After` and
//! `X-Request-Id`, negative, enormous and non-finite delays, a far-future date, an oversized
//! header line, control bytes, a status code out of range. No panic anywhere, and a typed
//! error (or, where the head is fine apart from a header the SDK ignores, a success) on
//! every adapter, within the call's timeout.

use std::time::{Duration, Instant};

use blossom_client::AnyResponse;
use blossom_core::api::TextRequest;
use blossom_core::engine::CallOptions;
use blossom_core::{Error, ErrorKind};
use blossom_tests::loopback::{Script, Server};

use crate::KEY;
use crate::clients::{ALL, Client, Setup, quick_retries};

/// A whole answer: status line, the given header lines (raw bytes), a JSON body.
fn answer(status_line: &[u8], headers: &[&[u8]], body: &[u8]) -> Script {
    let mut bytes = status_line.to_vec();
    bytes.extend_from_slice(b"\r\nContent-Type: application/json\r\n");
    for header in headers {
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(body);
    Script::new().write(bytes)
}

const RATE_LIMITED: &[u8] =
    br#"{"status":429,"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}"#;

/// What a case expects.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// A typed error of this kind, with this status (when `Some`), after this many requests.
    Error(ErrorKind, Option<u16>, usize),
    /// A typed error of one of these kinds, whatever the status and request count.
    AnyOf(&'static [ErrorKind]),
    /// A success: the broken header is one the SDK reads leniently.
    Success,
}

struct Case {
    name: &'static str,
    scripts: Vec<Script>,
    expect: Expect,
    /// Extra checks on the error.
    check: fn(&Error),
}

fn no_check(_: &Error) {}

fn cases() -> Vec<Case> {
    let long_line = {
        let mut line = b"X-Junk: ".to_vec();
        line.resize(line.len() + 200 * 1024, b'j');
        line
    };
    vec![
        Case {
            name: "429 with Retry-After of non-text bytes",
            scripts: vec![answer(
                b"HTTP/1.1 429 Too Many Requests",
                &[b"Retry-After: \xff\xfe"],
                RATE_LIMITED,
            )],
            expect: Expect::Error(ErrorKind::Api, Some(429), 2),
            check: |e| assert_eq!(e.retry_after(), None, "{e:?}"),
        },
        Case {
            name: "400 with an X-Request-Id of non-text bytes",
            scripts: vec![answer(
                b"HTTP/1.1 400 Bad Request",
                &[b"X-Request-Id: \xff\xfe\x80abc"],
                br#"{"error":{"code":"BAD_REQUEST","message":"no"}}"#,
            )],
            expect: Expect::Error(ErrorKind::Api, Some(400), 1),
            check: |e| assert_eq!(e.request_id(), None, "{e:?}"),
        },
        Case {
            name: "200 with an X-Request-Id of non-text bytes",
            scripts: vec![Script::new().write(
                &b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Request-Id: \xff\xfe\r\n\
                           x-model-used: \xc3\x28\r\nContent-Length: 2\r\n\r\nok"[..],
            )],
            expect: Expect::Success,
            check: no_check,
        },
        Case {
            name: "429 with Retry-After: -5",
            scripts: vec![answer(
                b"HTTP/1.1 429 Too Many Requests",
                &[b"Retry-After: -5"],
                RATE_LIMITED,
            )],
            expect: Expect::Error(ErrorKind::Api, Some(429), 2),
            check: |e| assert_eq!(e.retry_after(), None, "{e:?}"),
        },
        Case {
            name: "429 with Retry-After: 99999999999999999999",
            scripts: vec![answer(
                b"HTTP/1.1 429 Too Many Requests",
                &[b"Retry-After: 99999999999999999999"],
                RATE_LIMITED,
            )],
            // Far over the retry policy's maximum: not retried, the delay kept in the error.
            expect: Expect::Error(ErrorKind::Api, Some(429), 1),
            check: |e| {
                assert!(
                    e.retry_after()
                        .is_some_and(|d| d > Duration::from_secs(120)),
                    "{e:?}"
                );
            },
        },
        Case {
            name: "429 with Retry-After: 1e400 and retry-after-ms: NaN",
            scripts: vec![answer(
                b"HTTP/1.1 429 Too Many Requests",
                &[b"Retry-After: 1e400", b"retry-after-ms: NaN"],
                RATE_LIMITED,
            )],
            expect: Expect::Error(ErrorKind::Api, Some(429), 2),
            check: |e| assert_eq!(e.retry_after(), None, "{e:?}"),
        },
        Case {
            name: "503 with Retry-After in the year 9999 and a broken Date",
            scripts: vec![answer(
                b"HTTP/1.1 503 Service Unavailable",
                &[
                    b"Retry-After: Fri, 31 Dec 9999 23:59:59 GMT",
                    b"Date: \xff yesterday",
                ],
                br#"{"error":{"code":"SERVICE_UNAVAILABLE","message":"later"}}"#,
            )],
            expect: Expect::Error(ErrorKind::Api, Some(503), 1),
            check: |e| {
                assert!(
                    e.retry_after()
                        .is_some_and(|d| d > Duration::from_secs(120)),
                    "{e:?}"
                );
            },
        },
        Case {
            name: "200 with a 200 KiB header line",
            scripts: vec![answer(b"HTTP/1.1 200 OK", &[long_line.as_slice()], b"ok").close()],
            expect: Expect::AnyOf(&[ErrorKind::Transport]),
            check: no_check,
        },
        Case {
            name: "400 with a NUL byte and a bare CR in header values",
            scripts: vec![
                answer(
                    b"HTTP/1.1 400 Bad Request",
                    &[b"X-Request-Id: a\x00b", b"X-Other: c\rd"],
                    br#"{"error":{"message":"no"}}"#,
                )
                .close(),
            ],
            expect: Expect::AnyOf(&[ErrorKind::Api, ErrorKind::Transport]),
            check: no_check,
        },
        Case {
            name: "a status code out of range (099)",
            scripts: vec![answer(b"HTTP/1.1 099 Odd", &[], b"{}").close()],
            expect: Expect::AnyOf(&[ErrorKind::Api, ErrorKind::Transport]),
            check: no_check,
        },
        Case {
            name: "a status line that is not HTTP",
            scripts: vec![Script::new().write("SMTP 220 hello\r\n\r\n").close()],
            expect: Expect::AnyOf(&[ErrorKind::Api, ErrorKind::Transport]),
            check: no_check,
        },
    ]
}

#[test]
fn invalid_header_values_end_in_typed_errors() {
    for case in cases() {
        for adapter in ALL {
            let server = Server::start(case.scripts.clone()).unwrap();
            let client = Client::new(
                adapter,
                &server.base_url(),
                &Setup::new(KEY).retry(quick_retries(1)),
            );
            let started = Instant::now();
            let result = client.call(
                TextRequest::new("hostile"),
                CallOptions::default().timeout(Duration::from_secs(10)),
            );
            let took = started.elapsed();
            let requests = server.requests();
            match &result {
                Ok(AnyResponse::Text(reply)) => eprintln!(
                    "{} on {}: ok {:?} request_id={:?} model_used={:?} requests={requests} \
                     took={took:?}",
                    case.name,
                    adapter.name(),
                    reply.text,
                    reply.meta.request_id,
                    reply.meta.model_used
                ),
                Ok(other) => panic!("{}: unexpected answer {other:?}", case.name),
                Err(e) => eprintln!(
                    "{} on {}: {:?} status={:?} retry_after={:?} requests={requests} \
                     took={took:?}: {e}",
                    case.name,
                    adapter.name(),
                    e.kind(),
                    e.status().map(|s| s.as_u16()),
                    e.retry_after()
                ),
            }
            assert!(took < Duration::from_secs(5), "{}: {took:?}", case.name);
            match (case.expect, result) {
                (Expect::Success, Ok(_)) => {}
                (Expect::Error(kind, status, expected_requests), Err(e)) => {
                    assert_eq!(e.kind(), kind, "{} on {adapter:?}: {e:?}", case.name);
                    assert_eq!(e.status().map(|s| s.as_u16()), status, "{}", case.name);
                    assert_eq!(requests, expected_requests, "{} on {adapter:?}", case.name);
                    (case.check)(&e);
                }
                (Expect::AnyOf(kinds), Err(e)) => {
                    assert!(
                        kinds.contains(&e.kind()),
                        "{} on {adapter:?}: {e:?}",
                        case.name
                    );
                    (case.check)(&e);
                }
                (expect, result) => {
                    panic!(
                        "{} on {adapter:?}: expected {expect:?}, got {result:?}",
                        case.name
                    )
                }
            }
        }
    }
}

/// One 429 asking for an enormous delay: the call gives up at once (the delay is over the
/// retry policy's maximum) and the next call on the same client, to a healthy answer, is
/// not held for that delay: whatever pause the client keeps after a 429 is capped by the
/// same maximum (`RetryPolicy::max_server_delay`, 120 s by default).
#[test]
fn an_enormous_retry_after_does_not_stall_the_client() {
    let mut stalled = Vec::new();
    for retry_after in [
        "99999999999999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "86400",
    ] {
        for adapter in ALL {
            let server = Server::start(vec![
                answer(
                    b"HTTP/1.1 429 Too Many Requests",
                    &[format!("Retry-After: {retry_after}").as_bytes()],
                    RATE_LIMITED,
                ),
                Script::ok("text/plain; charset=utf-8", "healthy"),
            ])
            .unwrap();
            let client = Client::new(
                adapter,
                &server.base_url(),
                &Setup::new(KEY).retry(quick_retries(1)),
            );
            let options = || CallOptions::default().timeout(Duration::from_secs(2));
            let first = client
                .call(TextRequest::new("first"), options())
                .expect_err("the 429 was not an error");
            assert_eq!(first.status().map(|s| s.as_u16()), Some(429));
            let started = Instant::now();
            let second = client.call(TextRequest::new("second"), options());
            let took = started.elapsed();
            let context = format!("Retry-After: {retry_after} on {}", adapter.name());
            match &second {
                Ok(answer) => eprintln!("{context}: the next call answered {answer:?} in {took:?}"),
                Err(e) => {
                    let line = format!(
                        "{context}: the next call failed after {took:?} with {:?} \
                         retry_after={:?}, the server saw {} request(s): {e}",
                        e.kind(),
                        e.retry_after(),
                        server.requests()
                    );
                    eprintln!("{line}");
                    if e.retry_after()
                        .is_some_and(|wait| wait > Duration::from_secs(121))
                    {
                        stalled.push(line);
                    }
                }
            }
        }
    }
    assert!(
        stalled.is_empty(),
        "one hostile 429 holds every later call past the 120 s maximum:\n{}",
        stalled.join("\n")
    );
}
