//! Redirects: the SDK follows none. A redirect loop, and a redirect to another host (another
//! loopback address, where a recorder notes every request and its `Authorization`), end in
//! a typed API error carrying the 3xx status; the other host sees nothing at all.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use blossom_client::AnyRequest;
use blossom_core::ErrorKind;
use blossom_core::api::{ChatRequest, TextRequest};
use blossom_core::engine::CallOptions;
use blossom_tests::loopback::{Script, Server};

use crate::KEY;
use crate::clients::{ALL, Client, Setup, quick_retries};

/// A redirect answer with `status` to `location`.
fn redirect(status: u16, location: &str) -> Script {
    let reason = match status {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        _ => "Permanent Redirect",
    };
    Script::new().write(format!(
        "HTTP/1.1 {status} {reason}\r\nLocation: {location}\r\nContent-Type: text/plain\r\n\
         Content-Length: 9\r\n\r\nredirect\n"
    ))
}

/// A text call (GET) and a chat call (POST, with a body).
fn requests() -> [(&'static str, AnyRequest, &'static str); 2] {
    [
        ("GET", TextRequest::new("hostile").into(), "/text/hostile"),
        (
            "POST",
            ChatRequest::new("openai").user("hostile").into(),
            "/v1/chat/completions",
        ),
    ]
}

fn options() -> CallOptions {
    CallOptions::default().timeout(Duration::from_secs(10))
}

#[test]
fn a_redirect_loop_is_an_api_error_and_one_request() {
    for (method, request, path) in requests() {
        for status in [302, 307] {
            for adapter in ALL {
                // The server's own address is known only once it runs: redirect with an
                // absolute path, which is the same URL.
                let server = Server::start(vec![redirect(status, path)]).unwrap();
                let client = Client::new(
                    adapter,
                    &server.base_url(),
                    &Setup::new(KEY).retry(quick_retries(2)),
                );
                let started = Instant::now();
                let error = client
                    .call(request.clone(), options())
                    .expect_err("a redirect was followed to a success");
                let took = started.elapsed();
                eprintln!(
                    "{method} {status} loop on {}: {:?} {:?} requests={} took={took:?}",
                    adapter.name(),
                    error.kind(),
                    error.status(),
                    server.requests()
                );
                assert_eq!(error.kind(), ErrorKind::Api, "{error:?}");
                assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
                assert_eq!(
                    server.requests(),
                    1,
                    "{method} {status} on {adapter:?}: the redirect was followed or retried"
                );
                assert!(took < Duration::from_secs(5), "{took:?}");
            }
        }
    }
}

#[test]
fn a_redirect_to_another_host_never_reaches_it() {
    // "Another host": a second loopback address with a recorder that would answer 200.
    let other = Server::start_on(
        Ipv4Addr::new(127, 0, 0, 2),
        vec![Script::ok("text/plain; charset=utf-8", "stolen").close()],
    )
    .unwrap();
    for (method, request, path) in requests() {
        for status in [301, 302, 303, 307, 308] {
            for adapter in ALL {
                let location = format!("{}{path}", other.base_url());
                let server = Server::start(vec![redirect(status, &location)]).unwrap();
                let client = Client::new(
                    adapter,
                    &server.base_url(),
                    &Setup::new(KEY).retry(quick_retries(2)),
                );
                let error = client
                    .call(request.clone(), options())
                    .expect_err("a redirect to another host was followed to a success");
                assert_eq!(error.kind(), ErrorKind::Api, "{error:?}");
                assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
                assert_eq!(server.requests(), 1, "{method} {status} on {adapter:?}");
                // Give a late follower every chance to show up.
                std::thread::sleep(Duration::from_millis(50));
                let heads = other.request_heads();
                let with_key = heads
                    .iter()
                    .filter(|h| h.header("authorization").is_some())
                    .count();
                assert!(
                    heads.is_empty(),
                    "{method} {status} on {adapter:?}: the other host received {} request(s), \
                     {with_key} with an Authorization header: {:?}",
                    heads.len(),
                    heads.iter().map(|h| &h.line).collect::<Vec<_>>()
                );
            }
        }
    }
    eprintln!(
        "the other host ({}) received {} requests",
        other.addr(),
        other.request_heads().len()
    );
}
