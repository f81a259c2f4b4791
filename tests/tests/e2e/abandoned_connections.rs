//! The transport reclaims the socket of a transfer the SDK abandoned while the server keeps
//! it open in silence. isahc notices a dropped body only when more bytes arrive, so without
//! the transport's backstop such a socket would stay open as long as the server likes.

use std::time::{Duration, Instant};

use blossom_core::api::ChatRequest;
use blossom_tests::loopback::{DONE, Script, Server, content_event, sse_head};

#[test]
fn a_silent_server_holding_a_stream_open_after_done_loses_the_connection() {
    let held = Script::new()
        .write(sse_head())
        .chunk(content_event("Hello"))
        .chunk(DONE)
        .hold(Duration::from_secs(30))
        .close();
    let server = Server::start(vec![held]).unwrap();
    let client = blossom_blocking::Client::builder()
        .base_url(&server.base_url())
        .api_key(blossom_emulator::DEMO_SECRET_KEY)
        .stream_idle_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let text = client
        .chat_stream(ChatRequest::new("openai").user("hi"))
        .unwrap()
        .collect_message()
        .unwrap();
    assert_eq!(text.text(), "Hello");
    assert!(started.elapsed() < Duration::from_secs(1));
    // libcurl's speed check averages over a few seconds: the socket goes within about eight.
    let reclaimed = server.wait_until(Duration::from_secs(15), |s| s.aborted_by_client() >= 1);
    assert!(
        reclaimed,
        "the client still holds the connection after {:?}",
        started.elapsed()
    );
}
