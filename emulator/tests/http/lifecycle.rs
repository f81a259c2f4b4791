//! Starting and stopping: `spawn` from plain sync code, bounded stops with open streams,
//! `wait` with a stop handle, and the binary's Ctrl-C path.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use blossom_emulator::{Emulator, EmulatorConfig};
use tokio::io::AsyncReadExt;

use crate::binary::{EmulatorProcess, sync_request};
use crate::{BEARER, auth, start};

fn sync_get(addr: std::net::SocketAddr, target: &str) -> String {
    sync_request(
        addr,
        &format!(
            "GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {BEARER}\r\nConnection: close\r\n\r\n"
        ),
    )
}

#[test]
fn spawn_serves_plain_sync_code_and_stops() {
    let emulator = Emulator::spawn(EmulatorConfig::default()).unwrap();
    let addr = emulator.addr();
    assert_eq!(emulator.base_url(), format!("http://{addr}"));
    let answer = sync_get(addr, "/text/from%20sync%20code");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("reply to \"from sync code\""));
    assert_eq!(emulator.stats().route("GET /text"), 1);
    let started = Instant::now();
    emulator.stop();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        TcpStream::connect(addr).is_err(),
        "the port is closed after stop"
    );
}

#[test]
fn spawn_stop_is_bounded_with_a_stalled_stream_open() {
    let config = EmulatorConfig::default()
        .stream_chunk_delay(Duration::from_secs(30))
        .shutdown_grace(Duration::from_millis(300));
    let emulator = Emulator::spawn(config).unwrap();
    let mut socket = TcpStream::connect(emulator.addr()).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        socket,
        "GET /text/slow?stream=true HTTP/1.1\r\nHost: x\r\nAuthorization: {BEARER}\r\n\r\n"
    )
    .unwrap();
    let mut first = [0u8; 256];
    let n = socket.read(&mut first).unwrap();
    assert!(n > 0, "headers and the first event arrive");
    let started = Instant::now();
    emulator.stop();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "stop took {:?}",
        started.elapsed()
    );
    // The connection is closed rather than left hanging.
    let mut rest = Vec::new();
    let _ = socket.read_to_end(&mut rest);
}

#[test]
fn spawn_works_inside_a_tokio_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emulator = Emulator::spawn(EmulatorConfig::default()).unwrap();
        let client = crate::Client::new(emulator.addr());
        assert_eq!(client.get("/text/inside", &auth()).await.status, 200);
        emulator.stop();
    });
}

#[tokio::test]
async fn start_stop_and_wait_with_a_stop_handle() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    assert_eq!(client.get("/v1/models", &[]).await.status, 200);
    let handle = emulator.stop_handle();
    let addr = emulator.addr();
    let waiter = tokio::spawn(emulator.wait());
    handle.stop();
    tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("wait returns after stop")
        .unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    // Dropping stops too, and shutdown() waits.
    let (emulator, _client) = start(EmulatorConfig::default()).await;
    tokio::time::timeout(Duration::from_secs(5), emulator.shutdown())
        .await
        .expect("shutdown is bounded");
}

#[tokio::test]
async fn stop_with_an_open_stream_in_the_callers_runtime() {
    let config = EmulatorConfig::default()
        .stream_chunk_delay(Duration::from_secs(30))
        .shutdown_grace(Duration::from_millis(200));
    let (emulator, client) = start(config).await;
    let mut socket = client
        .open("GET", "/text/slow?stream=true", &auth(), None)
        .await;
    let mut buf = [0u8; 512];
    assert!(socket.read(&mut buf).await.unwrap() > 0);
    tokio::time::timeout(Duration::from_secs(5), emulator.shutdown())
        .await
        .expect("shutdown is bounded by the grace period");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the stalled connection was closed");
}

/// The binary prints its address, serves, and exits cleanly on SIGINT.
#[cfg(unix)]
#[test]
fn binary_prints_its_address_and_stops_on_ctrl_c() {
    let emulator = EmulatorProcess::start(&[
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--seed",
        "3",
        "--stream-chunk-delay-ms",
        "0",
    ]);
    assert!(emulator.addr.ip().is_loopback());
    assert!(sync_get(emulator.addr, "/text/binary").starts_with("HTTP/1.1 200"));
    emulator.interrupt_and_wait();
}
