//! How the hyper transport classifies failures, against real loopback sockets: the kinds
//! decide whether the engine retries.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use blossom_client::{Transport, read_body};
use blossom_core::{ClientConfig, TransportErrorKind};
use blossom_hyper::HyperTransport;
use bytes::Bytes;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

fn transport() -> HyperTransport {
    HyperTransport::new(&ClientConfig::new()).unwrap()
}

fn get(url: &str) -> http::Request<Bytes> {
    http::Request::get(url).body(Bytes::new()).unwrap()
}

/// A server that answers every connection with `answer` once and closes it.
async fn answering(answer: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = [0u8; 4096];
            let _ = socket.read(&mut head).await;
            let _ = socket.write_all(answer).await;
            let _ = socket.shutdown().await;
        }
    });
    address.to_string()
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let error = transport()
        .send(get(&format!("http://{address}/text/x")))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Connect, "{error}");
    assert!(!error.to_string().contains('\n'), "{error}");
    assert!(error.to_string().contains("Connection refused"), "{error}");
}

#[tokio::test]
async fn tls_to_a_plain_http_server_is_a_tls_error() {
    let address = answering(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
    let error = transport()
        .send(get(&format!("https://{address}/text/x")))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Tls, "{error}");
}

#[tokio::test]
async fn a_connection_closed_before_the_head_is_a_reset() {
    let address = answering(b"").await;
    let error = transport()
        .send(get(&format!("http://{address}/text/x")))
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        TransportErrorKind::ResetBeforeResponse,
        "{error}"
    );
}

#[tokio::test]
async fn a_body_cut_short_is_a_reset_during_the_body() {
    let address = answering(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc").await;
    let response = transport()
        .send(get(&format!("http://{address}/text/x")))
        .await
        .unwrap();
    let error = read_body(response.body, 1 << 20).await.unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::ResetDuringBody, "{error}");
}

#[tokio::test]
async fn a_body_over_the_limit_stops_at_the_limit() {
    let address = answering(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789").await;
    let mut config = ClientConfig::new();
    config.max_body_bytes = 4;
    let response = HyperTransport::new(&config)
        .unwrap()
        .send(get(&format!("http://{address}/text/x")))
        .await
        .unwrap();
    let error = read_body(response.body, usize::MAX).await.unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge, "{error}");
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let address = answering(
        b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/\r\ncontent-length: 0\r\n\r\n",
    )
    .await;
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        transport().send(get(&format!("http://{address}/text/x"))),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(response.status, 302);
}
