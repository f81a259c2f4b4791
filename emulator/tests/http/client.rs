//! A tiny HTTP/1.1 client over `tokio::net::TcpStream`, enough for black-box tests:
//! one request per connection (`Connection: close`), chunked or sized bodies, and a
//! streaming reader that timestamps what arrives. Every operation is time-bounded.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest any single test request may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(20);

/// A complete response.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// Status code.
    pub(crate) status: u16,
    /// Headers in arrival order.
    pub(crate) headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The SSE `data:` payloads, in order.
    pub(crate) fn sse_data(&self) -> Vec<String> {
        sse_data(&self.text())
    }
}

/// The `data:` payloads of an SSE body.
pub(crate) fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data event: {e:?}"))
                .to_owned()
        })
        .collect()
}

/// A client for one emulator address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Client {
    /// The emulator's address.
    pub(crate) addr: SocketAddr,
}

impl Client {
    /// A client for `addr`.
    pub(crate) fn new(addr: SocketAddr) -> Self {
        Client { addr }
    }

    /// `GET target` with extra headers.
    pub(crate) async fn get(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        self.send("GET", target, headers, None).await
    }

    /// `POST target` with a JSON body.
    pub(crate) async fn post_json(
        &self,
        target: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Response {
        let bytes = serde_json::to_vec(body).unwrap();
        let mut all = headers.to_vec();
        all.push(("Content-Type", "application/json"));
        self.send("POST", target, &all, Some(&bytes)).await
    }

    /// Any request; the response is read to the end of the connection.
    pub(crate) async fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Response {
        let work = async {
            let mut socket = self.open(method, target, headers, body).await;
            let mut raw = Vec::new();
            socket.read_to_end(&mut raw).await.expect("read response");
            parse(&raw)
        };
        tokio::time::timeout(TIMEOUT, work)
            .await
            .unwrap_or_else(|_| panic!("{method} {target} timed out"))
    }

    /// Sends a request and returns the open socket, for reading a stream as it arrives.
    pub(crate) async fn open(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> TcpStream {
        let mut socket = TcpStream::connect(self.addr).await.expect("connect");
        let mut head =
            format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        socket.write_all(head.as_bytes()).await.expect("write head");
        if let Some(body) = body {
            socket.write_all(body).await.expect("write body");
        }
        socket
    }
}

/// Reads a socket to its end, noting when each read returned.
pub(crate) async fn read_timed(socket: &mut TcpStream) -> Vec<(Instant, Vec<u8>)> {
    let work = async {
        let mut reads = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = socket.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            reads.push((Instant::now(), buf[..n].to_vec()));
        }
        reads
    };
    tokio::time::timeout(TIMEOUT, work)
        .await
        .expect("stream timed out")
}

/// Parses a raw HTTP/1.1 response (sized, chunked, or read-to-close body).
pub(crate) fn parse(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..split]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Response {
        status,
        headers,
        body,
    }
}

/// Decodes a chunked body.
pub(crate) fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
