//! A loopback server that generates its answers instead of replaying them, and records what
//! it was sent.
//!
//! `blossom_tests::loopback` replays scripts held in memory: right for exact bytes, wrong for
//! a 200 MiB body (the script would hold it all, in the very process whose peak memory is
//! being measured). Here each answer is written by a function, piece by piece, from a small
//! buffer, and the server counts what it wrote. It can also listen on another loopback
//! address (`127.0.0.2`) and record every request head it receives, with its headers, to
//! show what reached "another host".
//!
//! Bounded like the scripted server: loopback only, a request head of at most 64 KiB, a
//! request body of at most 16 MiB (discarded), a write timeout so a client that stops
//! reading frees the thread, a lifetime for each answer, and a stop flag that every loop
//! checks; dropping the server stops it and joins its threads. One request per connection.

use std::io::{self, Read as _, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;
const MAX_CONNECTIONS: usize = 16;
const TICK: Duration = Duration::from_millis(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// No answer is written for longer than this, whatever its function says.
const LIFETIME: Duration = Duration::from_secs(60);

/// A request as the server read it: its request line and headers (values as raw bytes).
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub line: String,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    pub(crate) fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// Where an answer is written: the socket, counting bytes, failing once the server stops or
/// the answer's lifetime is over.
pub(crate) struct Out<'a> {
    socket: &'a mut TcpStream,
    shared: &'a Shared,
    until: Instant,
}

impl Out<'_> {
    /// Writes all of `bytes`.
    pub(crate) fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.shared.stop.load(Ordering::SeqCst) || Instant::now() >= self.until {
            return Err(io::Error::other(
                "the server stops or the answer's lifetime is over",
            ));
        }
        self.socket.write_all(bytes)?;
        self.shared
            .written
            .fetch_add(bytes.len() as u64, Ordering::SeqCst);
        Ok(())
    }

    /// Writes `bytes` as one HTTP chunk.
    pub(crate) fn chunk(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.send(format!("{:x}\r\n", bytes.len()).as_bytes())?;
        self.send(bytes)?;
        self.send(b"\r\n")
    }

    /// Sleeps `duration` (shorter if the server stops).
    pub(crate) fn pause(&self, duration: Duration) {
        let until = Instant::now() + duration;
        while Instant::now() < until && !self.shared.stop.load(Ordering::SeqCst) {
            std::thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
        }
    }
}

type Respond = dyn Fn(&Head, &mut Out<'_>) -> io::Result<()> + Send + Sync;

pub(crate) struct Shared {
    stop: AtomicBool,
    written: AtomicU64,
    live: AtomicUsize,
    heads: Mutex<Vec<Head>>,
    respond: Box<Respond>,
}

/// A running generating server; see the module documentation.
pub(crate) struct Firehose {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Firehose {
    /// Starts a server on `127.0.0.1` answering every request with `respond`.
    pub(crate) fn start(
        respond: impl Fn(&Head, &mut Out<'_>) -> io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        Self::start_on(Ipv4Addr::LOCALHOST, respond)
    }

    /// Starts a server on the loopback address `ip` answering every request with `respond`.
    pub(crate) fn start_on(
        ip: Ipv4Addr,
        respond: impl Fn(&Head, &mut Out<'_>) -> io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        assert!(ip.is_loopback(), "{ip} is not a loopback address");
        let listener = TcpListener::bind((IpAddr::V4(ip), 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            written: AtomicU64::new(0),
            live: AtomicUsize::new(0),
            heads: Mutex::new(Vec::new()),
            respond: Box::new(respond),
        });
        let acceptor = std::thread::Builder::new()
            .name("firehose-accept".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || accept_loop(&listener, &shared)
            })
            .unwrap();
        Self {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Body and head bytes written so far, over all answers.
    pub(crate) fn written(&self) -> u64 {
        self.shared.written.load(Ordering::SeqCst)
    }

    /// The request heads received so far, in arrival order.
    pub(crate) fn heads(&self) -> Vec<Head> {
        self.shared
            .heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until no answer is being written (the client closed, or the lifetime ended),
    /// for at most `limit`; returns whether that happened.
    pub(crate) fn wait_idle(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while self.shared.live.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(TICK);
        }
        true
    }
}

impl Drop for Firehose {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _joined = acceptor.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((socket, _)) => {
                threads.retain(|thread| !thread.is_finished());
                if shared.live.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                    let _closed = socket.shutdown(Shutdown::Both);
                    continue;
                }
                shared.live.fetch_add(1, Ordering::SeqCst);
                let spawned = std::thread::Builder::new()
                    .name("firehose-conn".into())
                    .spawn({
                        let shared = Arc::clone(shared);
                        move || {
                            // Errors end the connection: the client sees it closed.
                            let _ended = serve(socket, &shared);
                            shared.live.fetch_sub(1, Ordering::SeqCst);
                        }
                    });
                match spawned {
                    Ok(thread) => threads.push(thread),
                    Err(_) => {
                        shared.live.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(TICK),
            Err(_) => std::thread::sleep(TICK),
        }
    }
    for thread in threads {
        let _joined = thread.join();
    }
}

fn serve(mut socket: TcpStream, shared: &Shared) -> io::Result<()> {
    socket.set_nonblocking(false)?;
    socket.set_nodelay(true)?;
    socket.set_read_timeout(Some(TICK))?;
    socket.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let Some(head) = read_request(&mut socket, shared)? else {
        return Ok(());
    };
    shared
        .heads
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(head.clone());
    let mut out = Out {
        socket: &mut socket,
        shared,
        until: Instant::now() + LIFETIME,
    };
    let _answered = (shared.respond)(&head, &mut out);
    let _flushed = socket.flush();
    let _closed = socket.shutdown(Shutdown::Both);
    Ok(())
}

/// Reads one request head and discards its `Content-Length` body; `None` when the client
/// closed first, took more than a few seconds, or the server stops.
fn read_request(socket: &mut TcpStream, shared: &Shared) -> io::Result<Option<Head>> {
    let until = Instant::now() + Duration::from_secs(10);
    let mut pending = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if pending.len() > MAX_HEAD || Instant::now() >= until || shared.stop.load(Ordering::SeqCst)
        {
            return Ok(None);
        }
        match socket.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    let mut lines = pending[..head_end - 4].split(|&b| b == b'\n');
    let line = String::from_utf8_lossy(lines.next().unwrap_or_default())
        .trim_end()
        .to_owned();
    let mut headers = Vec::new();
    for raw in lines {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if let Some(colon) = raw.iter().position(|&b| b == b':') {
            let name = String::from_utf8_lossy(&raw[..colon]).trim().to_owned();
            let value = raw[colon + 1..].trim_ascii().to_vec();
            headers.push((name, value));
        }
    }
    let head = Head { line, headers };
    let length: usize = head
        .header("content-length")
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return Ok(None);
    }
    let mut have = pending.len() - head_end;
    while have < length {
        if Instant::now() >= until || shared.stop.load(Ordering::SeqCst) {
            return Ok(None);
        }
        match socket.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => have += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(head))
}

// --- Answers -------------------------------------------------------------------------------

/// A `200 OK` head with `content_type` and the given extra header lines, chunked when
/// `length` is `None`.
pub(crate) fn head(content_type: &str, length: Option<u64>, extra: &[&str]) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n");
    match length {
        Some(length) => text.push_str(&format!("Content-Length: {length}\r\n")),
        None => text.push_str("Transfer-Encoding: chunked\r\n"),
    }
    for line in extra {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    text.into_bytes()
}

/// Writes `total` bytes of `fill`, as chunks of `piece` bytes or (with `chunked` false) as a
/// plain body, then ends the body.
pub(crate) fn repeat(out: &mut Out<'_>, fill: u8, total: u64, chunked: bool) -> io::Result<()> {
    const PIECE: usize = 64 * 1024;
    let piece = vec![fill; PIECE];
    let mut left = total;
    while left > 0 {
        let n = usize::try_from(left.min(PIECE as u64)).unwrap_or(PIECE);
        if chunked {
            out.chunk(&piece[..n])?;
        } else {
            out.send(&piece[..n])?;
        }
        left -= n as u64;
    }
    if chunked {
        out.send(b"0\r\n\r\n")?;
    }
    Ok(())
}
