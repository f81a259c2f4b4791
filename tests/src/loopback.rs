//! A scripted HTTP/1.1 server on loopback, for tests that need exact bytes on the wire.
//!
//! The emulator answers like the service; this server answers exactly as a test says, down to
//! the byte and the pause: a streamed body whose terminating chunk never comes, comments after
//! `[DONE]`, silence in the middle of a stream, a body that ends before its first event, or a
//! body of hundreds of MiB written from one small copy of its pattern ([`Step::Repeat`]), so
//! that a test measuring its own process's memory does not pay for the body it sends. It is
//! built on `std::net` alone (a thread per connection), listens on a loopback address only
//! (`127.0.0.1`, or another such as `127.0.0.2` to play "another host", see
//! [`Server::start_on`]), and is bounded in every way: a fixed number of live connections, a
//! request head of at most [`MAX_HEAD`] bytes, waits that end when the server is dropped, and
//! socket timeouts so no thread can block for long.
//!
//! Each request (in the order requests arrive, across all connections) plays the next
//! [`Script`] of the list it was started with; the last script repeats. A script is a list of
//! [`Step`]s: write bytes, write a pattern over and over, pause, hold the socket open, close.
//! When a script ends without closing, the connection waits for the next request
//! (keep-alive).
//!
//! The server records what it was sent and what it wrote: each request's line and headers
//! ([`Server::request_heads`]), how many bytes the sockets took ([`Server::written`]), and how
//! many scripts are still playing ([`Server::playing`]).
//!
//! ```
//! use std::io::{Read as _, Write as _};
//! use blossom_tests::loopback::{Script, Server};
//!
//! let server = Server::start(vec![Script::sse(&["Hel", "lo"])])?;
//! let mut socket = std::net::TcpStream::connect(server.addr())?;
//! socket.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//! socket.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
//! let mut answer = String::new();
//! let mut buf = [0; 4096];
//! while !answer.ends_with("0\r\n\r\n") {
//!     let n = socket.read(&mut buf)?;
//!     if n == 0 { break }
//!     answer.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
//! }
//! assert!(answer.starts_with("HTTP/1.1 200 OK"));
//! assert!(answer.contains("data: [DONE]"));
//! assert_eq!(server.requests(), 1);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The most connections served at once; further ones are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 64;

/// The largest request head read; a longer one closes the connection.
pub const MAX_HEAD: usize = 64 * 1024;

/// The largest request body read; a longer one closes the connection.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// How often waiting threads look at the stop flag, and the socket read timeout.
const TICK: Duration = Duration::from_millis(10);

/// How long a connection waits for its next request before the server closes it.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// How long one write may block (a client that stops reading cannot pin a thread).
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// One thing a script does on its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Writes these bytes, exactly.
    Write(Vec<u8>),
    /// Writes `pattern` over and over, `total` bytes in all (the last copy cut short), each
    /// copy in one write, or as one HTTP chunk when `chunked` (the chunk framing is not
    /// counted in `total`, and the terminating chunk is not written: add [`LAST_CHUNK`]),
    /// pausing `pause` between copies. The step holds one copy of the pattern and nothing
    /// more, so its memory is the pattern's size whatever `total` is; `u64::MAX` repeats until
    /// the client closes or stops reading (a write blocked past the write timeout; both
    /// counted in [`Server::aborted_by_client`]) or the server stops. An empty pattern writes
    /// nothing. What the socket took is counted in [`Server::written`].
    Repeat {
        /// The bytes repeated: one write, or one chunk, each.
        pattern: Vec<u8>,
        /// How many bytes of pattern to write in all.
        total: u64,
        /// Whether each copy is framed as an HTTP chunk.
        chunked: bool,
        /// The pause between two copies.
        pause: Duration,
    },
    /// Pauses this long without reading or writing.
    Sleep(Duration),
    /// Keeps the connection open this long without writing, reading and discarding whatever
    /// the client sends; ends the connection early if the client closes it (counted in
    /// [`Server::aborted_by_client`]).
    Hold(Duration),
    /// Closes the connection (the script ends here).
    Close,
}

/// What the server does for one request: its steps, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// The steps, played in order.
    pub steps: Vec<Step>,
}

impl Script {
    /// An empty script: nothing is written and the connection waits for its next request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a step that writes `bytes`.
    #[must_use]
    pub fn write(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.steps.push(Step::Write(bytes.as_ref().to_vec()));
        self
    }

    /// Adds a step that writes `bytes` as one HTTP chunk (see [`chunk`]).
    #[must_use]
    pub fn chunk(self, bytes: impl AsRef<[u8]>) -> Self {
        self.write(chunk(bytes.as_ref()))
    }

    /// Adds a step that writes `pattern` over and over, `total` bytes in all, as a plain body
    /// (see [`Step::Repeat`]).
    #[must_use]
    pub fn repeat(self, pattern: impl AsRef<[u8]>, total: u64) -> Self {
        self.push_repeat(pattern.as_ref(), total, false, Duration::ZERO)
    }

    /// Adds a step that writes `pattern` over and over, `total` bytes in all, each copy as
    /// one HTTP chunk (see [`Step::Repeat`]).
    #[must_use]
    pub fn repeat_chunks(self, pattern: impl AsRef<[u8]>, total: u64) -> Self {
        self.push_repeat(pattern.as_ref(), total, true, Duration::ZERO)
    }

    /// Adds a step that writes `pattern` over and over, `total` bytes in all, each copy as
    /// one HTTP chunk, with a pause of `pause` between two copies (see [`Step::Repeat`]).
    #[must_use]
    pub fn repeat_chunks_every(
        self,
        pattern: impl AsRef<[u8]>,
        total: u64,
        pause: Duration,
    ) -> Self {
        self.push_repeat(pattern.as_ref(), total, true, pause)
    }

    fn push_repeat(mut self, pattern: &[u8], total: u64, chunked: bool, pause: Duration) -> Self {
        self.steps.push(Step::Repeat {
            pattern: pattern.to_vec(),
            total,
            chunked,
            pause,
        });
        self
    }

    /// Adds a pause of `duration`.
    #[must_use]
    pub fn sleep(mut self, duration: Duration) -> Self {
        self.steps.push(Step::Sleep(duration));
        self
    }

    /// Adds a step that holds the connection open for `duration` (see [`Step::Hold`]).
    #[must_use]
    pub fn hold(mut self, duration: Duration) -> Self {
        self.steps.push(Step::Hold(duration));
        self
    }

    /// Adds a step that closes the connection.
    #[must_use]
    pub fn close(mut self) -> Self {
        self.steps.push(Step::Close);
        self
    }

    /// A whole, well-formed chat stream: the event-stream head, one content event per text
    /// (one HTTP chunk each), `[DONE]`, and the terminating chunk.
    pub fn sse(texts: &[&str]) -> Self {
        let mut script = Self::new().write(sse_head());
        for text in texts {
            script = script.chunk(content_event(text));
        }
        script.chunk(DONE).write(LAST_CHUNK)
    }

    /// A whole `200 OK` response with a `Content-Length` body of `content_type`.
    pub fn ok(content_type: &str, body: impl AsRef<[u8]>) -> Self {
        Self::answer(200, content_type, body)
    }

    /// A whole response of `status` with a `Content-Length` body of `content_type`.
    pub fn answer(status: u16, content_type: &str, body: impl AsRef<[u8]>) -> Self {
        Self::new()
            .write(response_head(
                status,
                content_type,
                Some(body.as_ref().len()),
            ))
            .write(body)
    }
}

/// The event that ends a chat stream.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// An SSE comment, as a keep-alive.
pub const PING: &[u8] = b": ping\n\n";

/// The chunk that ends a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// The head of a `200 OK` chunked `text/event-stream` response.
pub fn sse_head() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\n\
      Content-Type: text/event-stream; charset=utf-8\r\n\
      Cache-Control: no-cache\r\n\
      Transfer-Encoding: chunked\r\n\
      \r\n"
        .to_vec()
}

/// A response head with `status`, `content_type` and either a `Content-Length` (`Some`) or
/// `Transfer-Encoding: chunked` (`None`).
pub fn response_head(status: u16, content_type: &str, length: Option<usize>) -> Vec<u8> {
    let framing = match length {
        Some(length) => format!("Content-Length: {length}"),
        None => "Transfer-Encoding: chunked".to_owned(),
    };
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n",
        reason(status)
    )
    .into_bytes()
}

/// `bytes` as one HTTP/1.1 chunk: its size in hex, CRLF, the bytes, CRLF. (An empty chunk
/// would end the body: use [`LAST_CHUNK`] for that.)
pub fn chunk(bytes: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", bytes.len()).into_bytes();
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    out
}

/// A `chat.completion.chunk` event whose delta carries `text`, as `data: {…}\n\n`.
pub fn content_event(text: &str) -> Vec<u8> {
    format!(
        "data: {{\"id\":\"loopback\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\
         \"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}},\"finish_reason\":null}}]}}\n\n",
        json_string(text)
    )
    .into_bytes()
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A request as the server read it: its request line and its headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    /// The request line, `POST /v1/chat/completions HTTP/1.1`.
    pub line: String,
    /// The header fields in the order they came: each name as text (not case-folded) and its
    /// value as raw bytes (a value need not be text), both without surrounding whitespace.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl RequestHead {
    /// The value of the first header field named `name` (compared ignoring ASCII case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_slice())
    }

    /// Reads a request head (the bytes up to and including its blank line).
    fn parse(head: &[u8]) -> Self {
        let mut lines = head
            .split(|&byte| byte == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
        let line = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
        let headers = lines
            .filter_map(|field| {
                let colon = field.iter().position(|&byte| byte == b':')?;
                let name = String::from_utf8_lossy(&field[..colon]).trim().to_owned();
                Some((name, field[colon + 1..].trim_ascii().to_vec()))
            })
            .collect();
        Self { line, headers }
    }
}

/// What the connection threads share with the [`Server`] handle.
#[derive(Debug)]
struct Shared {
    scripts: Vec<Script>,
    stop: AtomicBool,
    connections: AtomicUsize,
    live: AtomicUsize,
    requests: AtomicUsize,
    playing: AtomicUsize,
    aborted: AtomicUsize,
    written: AtomicU64,
    heads: Mutex<Vec<RequestHead>>,
}

impl Shared {
    fn new(scripts: Vec<Script>) -> Self {
        Self {
            scripts,
            stop: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            playing: AtomicUsize::new(0),
            aborted: AtomicUsize::new(0),
            written: AtomicU64::new(0),
            heads: Mutex::new(Vec::new()),
        }
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The script for the request numbered `n` (from 0): the `n`th, or the last; `None`
    /// when there are no scripts. (Borrowed, not cloned: a script may hold a large body.)
    fn script(&self, n: usize) -> Option<&Script> {
        self.scripts.get(n).or_else(|| self.scripts.last())
    }

    /// Records `head` as the next request; returns its number (from 0).
    fn record(&self, head: RequestHead) -> usize {
        let mut heads = self.heads.lock().unwrap_or_else(PoisonError::into_inner);
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        heads.push(head);
        n
    }
}

/// A running scripted server on a loopback address; dropping it stops it and waits for its
/// threads (each notices within a few milliseconds).
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server on an ephemeral port of `127.0.0.1`. Request `n` (counted from 0
    /// across all connections, in arrival order) plays `scripts[n]`, or the last script once
    /// the list is used up; with no scripts every connection is closed at its first request.
    ///
    /// # Errors
    /// When the socket cannot be bound or the acceptor thread cannot be started.
    pub fn start(scripts: Vec<Script>) -> io::Result<Self> {
        Self::start_on(Ipv4Addr::LOCALHOST, scripts)
    }

    /// Starts a server on an ephemeral port of the loopback address `ip` (`127.0.0.2`, say,
    /// for a host other than the one at `127.0.0.1`), playing `scripts` as [`Server::start`]
    /// does.
    ///
    /// ```
    /// use std::io::{Read as _, Write as _};
    /// use std::net::Ipv4Addr;
    /// use blossom_tests::loopback::{LAST_CHUNK, Script, Server, response_head};
    ///
    /// let mib = 1024 * 1024;
    /// // 8 MiB of `a`, as 64 KiB chunks, from one 64 KiB copy.
    /// let script = Script::new()
    ///     .write(response_head(200, "text/plain", None))
    ///     .repeat_chunks(vec![b'a'; 64 * 1024], 8 * mib)
    ///     .write(LAST_CHUNK)
    ///     .close();
    /// let server = Server::start_on(Ipv4Addr::new(127, 0, 0, 2), vec![script])?;
    /// assert!(server.base_url().starts_with("http://127.0.0.2:"));
    /// let mut socket = std::net::TcpStream::connect(server.addr())?;
    /// socket.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\nX-Note: \xff\r\n\r\n")?;
    /// socket.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    /// let mut answer = Vec::new();
    /// socket.read_to_end(&mut answer)?;
    /// assert!(answer.ends_with(b"a\r\n0\r\n\r\n"));
    /// assert_eq!(server.written(), answer.len() as u64);
    /// let heads = server.request_heads();
    /// assert_eq!(heads[0].line, "GET /big HTTP/1.1");
    /// assert_eq!(heads[0].header("x-note"), Some(&b"\xff"[..]));
    /// assert!(Server::start_on(Ipv4Addr::new(192, 0, 2, 1), vec![]).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// When `ip` is not a loopback address, the socket cannot be bound, or the acceptor
    /// thread cannot be started.
    pub fn start_on(ip: impl Into<IpAddr>, scripts: Vec<Script>) -> io::Result<Self> {
        let ip = ip.into();
        if !ip.is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{ip} is not a loopback address"),
            ));
        }
        let listener = TcpListener::bind((ip, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(scripts));
        let acceptor = std::thread::Builder::new()
            .name("loopback-accept".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || accept_loop(&listener, &shared)
            })?;
        Ok(Self {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://IP:PORT` (`http://127.0.0.1:PORT` unless started elsewhere).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// How many requests were read in full (each played a script).
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// How many scripts are playing now: requests read whose script has not ended yet (an
    /// answer still being written, or a pause or hold still running).
    pub fn playing(&self) -> usize {
        self.shared.playing.load(Ordering::SeqCst)
    }

    /// How many connections the client closed (or reset) while a script was still playing
    /// on them: during a [`Step::Hold`] or a failed [`Step::Write`] or [`Step::Repeat`].
    pub fn aborted_by_client(&self) -> usize {
        self.shared.aborted.load(Ordering::SeqCst)
    }

    /// How many bytes the sockets took so far, over all scripts: heads, bodies and chunk
    /// framing, each write counted as far as it went (a write the client cut short counts
    /// only its part that the socket accepted, not what the script meant to send).
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::SeqCst)
    }

    /// The request lines (`POST /v1/chat/completions HTTP/1.1`) in arrival order.
    pub fn request_lines(&self) -> Vec<String> {
        self.shared
            .heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|head| head.line.clone())
            .collect()
    }

    /// The requests' lines and headers, in arrival order (the `n`th played the `n`th
    /// script).
    pub fn request_heads(&self) -> Vec<RequestHead> {
        self.shared
            .heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until `condition` holds for this server, for at most `limit`; returns whether
    /// it held.
    pub fn wait_until(&self, limit: Duration, condition: impl Fn(&Self) -> bool) -> bool {
        let until = Instant::now() + limit;
        loop {
            if condition(self) {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(TICK);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            // A panicked acceptor has nothing left to clean up.
            let _joined = acceptor.join();
        }
    }
}

/// Accepts connections until the server stops, then waits for their threads.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stopping() {
        match listener.accept() {
            Ok((socket, _)) => {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                threads.retain(|thread| !thread.is_finished());
                if shared.live.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                    let _closed = socket.shutdown(Shutdown::Both);
                    continue;
                }
                shared.live.fetch_add(1, Ordering::SeqCst);
                let spawned = std::thread::Builder::new()
                    .name("loopback-conn".into())
                    .spawn({
                        let shared = Arc::clone(shared);
                        move || {
                            // Errors end the connection; the client sees it closed.
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
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // A failed accept (out of descriptors, a connection reset while queued): go on.
            Err(_) => std::thread::sleep(TICK),
        }
    }
    for thread in threads {
        let _joined = thread.join();
    }
}

/// How a wait on the socket ended.
enum Heard {
    Bytes(usize),
    Closed,
    Quiet,
}

/// Serves requests on one connection until it closes, a script closes it, or the server
/// stops.
fn serve(mut socket: TcpStream, shared: &Shared) -> io::Result<()> {
    socket.set_nonblocking(false)?;
    socket.set_nodelay(true)?;
    socket.set_read_timeout(Some(TICK))?;
    socket.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let Some(head) = read_request(&mut socket, &mut pending, shared)? else {
            return Ok(());
        };
        let n = shared.record(head);
        shared.playing.fetch_add(1, Ordering::SeqCst);
        let open = shared
            .script(n)
            .is_some_and(|script| play(&mut socket, script, shared));
        shared.playing.fetch_sub(1, Ordering::SeqCst);
        if !open {
            let _closed = socket.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
}

/// Plays `script`; returns whether the connection stays open for another request.
fn play(socket: &mut TcpStream, script: &Script, shared: &Shared) -> bool {
    for step in &script.steps {
        if shared.stopping() {
            return false;
        }
        match step {
            Step::Write(bytes) => {
                if send(socket, bytes, shared)
                    .and_then(|()| socket.flush())
                    .is_err()
                {
                    shared.aborted.fetch_add(1, Ordering::SeqCst);
                    return false;
                }
            }
            Step::Repeat {
                pattern,
                total,
                chunked,
                pause,
            } => {
                if repeat(socket, shared, pattern, *total, *chunked, *pause).is_err() {
                    shared.aborted.fetch_add(1, Ordering::SeqCst);
                    return false;
                }
            }
            Step::Sleep(duration) => pause(*duration, shared),
            Step::Hold(duration) => {
                let until = Instant::now() + *duration;
                let mut sink = [0u8; 4096];
                while Instant::now() < until && !shared.stopping() {
                    if let Heard::Closed = listen(socket, &mut sink) {
                        shared.aborted.fetch_add(1, Ordering::SeqCst);
                        return false;
                    }
                }
            }
            Step::Close => return false,
        }
    }
    true
}

/// Sleeps `duration`, or until the server stops.
fn pause(duration: Duration, shared: &Shared) {
    let until = Instant::now() + duration;
    while Instant::now() < until && !shared.stopping() {
        std::thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
    }
}

/// Writes all of `bytes`, counting in [`Server::written`] what the socket took.
fn send(socket: &mut TcpStream, bytes: &[u8], shared: &Shared) -> io::Result<()> {
    let mut rest = bytes;
    while !rest.is_empty() {
        match socket.write(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                shared.written.fetch_add(n as u64, Ordering::SeqCst);
                rest = &rest[n..];
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Plays a [`Step::Repeat`]: `total` bytes of copies of `pattern`. Ends early, without an
/// error, when the server stops.
fn repeat(
    socket: &mut TcpStream,
    shared: &Shared,
    pattern: &[u8],
    total: u64,
    chunked: bool,
    between: Duration,
) -> io::Result<()> {
    if pattern.is_empty() {
        return Ok(());
    }
    let mut left = total;
    while left > 0 && !shared.stopping() {
        let n = usize::try_from(left).map_or(pattern.len(), |left| left.min(pattern.len()));
        let copy = &pattern[..n];
        if chunked {
            send(socket, format!("{n:x}\r\n").as_bytes(), shared)?;
            send(socket, copy, shared)?;
            send(socket, b"\r\n", shared)?;
        } else {
            send(socket, copy, shared)?;
        }
        left -= n as u64;
        if left > 0 && !between.is_zero() {
            pause(between, shared);
        }
    }
    Ok(())
}

/// Reads once, waiting at most one tick.
fn listen(socket: &mut TcpStream, buf: &mut [u8]) -> Heard {
    match socket.read(buf) {
        Ok(0) => Heard::Closed,
        Ok(n) => Heard::Bytes(n),
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
            ) =>
        {
            Heard::Quiet
        }
        Err(_) => Heard::Closed,
    }
}

/// Reads one request (head, then a `Content-Length` body) and returns its head; `None` when
/// the connection closed, stayed idle past [`KEEP_ALIVE`], or the server stops. Bytes read
/// past the request stay in `pending` for the next one.
fn read_request(
    socket: &mut TcpStream,
    pending: &mut Vec<u8>,
    shared: &Shared,
) -> io::Result<Option<RequestHead>> {
    let idle_until = Instant::now() + KEEP_ALIVE;
    let head_end = loop {
        if let Some(at) = find(pending, b"\r\n\r\n") {
            break at + 4;
        }
        if pending.len() > MAX_HEAD || !fill(socket, pending, shared, idle_until) {
            return Ok(None);
        }
    };
    let head = RequestHead::parse(&pending[..head_end]);
    let mut length = 0usize;
    let mut expect_continue = false;
    for (name, value) in &head.headers {
        let value = String::from_utf8_lossy(value);
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().unwrap_or(0);
        } else if name.eq_ignore_ascii_case("expect") && value.eq_ignore_ascii_case("100-continue")
        {
            expect_continue = true;
        }
    }
    if length > MAX_BODY {
        return Ok(None);
    }
    if expect_continue && pending.len() < head_end + length {
        socket.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body_until = Instant::now() + KEEP_ALIVE;
    while pending.len() < head_end + length {
        if !fill(socket, pending, shared, body_until) {
            return Ok(None);
        }
    }
    pending.drain(..head_end + length);
    Ok(Some(head))
}

/// Reads more bytes into `pending`; false when the connection closed, `until` passed, or
/// the server stops.
fn fill(socket: &mut TcpStream, pending: &mut Vec<u8>, shared: &Shared, until: Instant) -> bool {
    let mut buf = [0u8; 8192];
    while !shared.stopping() && Instant::now() < until {
        match listen(socket, &mut buf) {
            Heard::Bytes(n) => {
                pending.extend_from_slice(&buf[..n]);
                return true;
            }
            Heard::Closed => return false,
            Heard::Quiet => {}
        }
    }
    false
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_framed_in_hex() {
        assert_eq!(chunk(b"0123456789abcdef!"), b"11\r\n0123456789abcdef!\r\n");
    }

    #[test]
    fn text_is_escaped_as_json() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
    }

    #[test]
    fn scripts_repeat_the_last() {
        let shared = Shared::new(vec![Script::new().close(), Script::sse(&["x"])]);
        assert_eq!(shared.script(0), Some(&Script::new().close()));
        assert_eq!(shared.script(5), Some(&Script::sse(&["x"])));
        assert_eq!(Shared::new(Vec::new()).script(0), None);
    }

    #[test]
    fn heads_keep_their_fields_and_raw_values() {
        let head = RequestHead::parse(
            b"POST /v1/x HTTP/1.1\r\nHost: h\r\nAuthorization:  Bearer \xff \r\nbare\nX-A:b\r\n\r\n",
        );
        assert_eq!(head.line, "POST /v1/x HTTP/1.1");
        assert_eq!(head.header("host"), Some(&b"h"[..]));
        assert_eq!(head.header("AUTHORIZATION"), Some(&b"Bearer \xff"[..]));
        assert_eq!(head.header("x-a"), Some(&b"b"[..]));
        assert_eq!(head.headers.len(), 3);
        assert_eq!(head.header("bare"), None);
    }

    /// Plays `script` for one `GET` on a fresh server; returns what the client read and what
    /// the server counted as written.
    fn exchange(script: Script) -> io::Result<(Vec<u8>, u64, Vec<RequestHead>)> {
        let server = Server::start(vec![script])?;
        let mut socket = TcpStream::connect(server.addr())?;
        socket.set_read_timeout(Some(Duration::from_secs(5)))?;
        socket.write_all(b"GET /r HTTP/1.1\r\nX-Test: 1\r\n\r\n")?;
        let mut answer = Vec::new();
        socket.read_to_end(&mut answer)?;
        server.wait_until(Duration::from_secs(5), |s| s.playing() == 0);
        Ok((answer, server.written(), server.request_heads()))
    }

    #[test]
    fn a_repeated_pattern_is_cut_at_its_total_and_counted() -> io::Result<()> {
        let (plain, written, heads) =
            exchange(Script::new().write("h:").repeat("abc", 10).close())?;
        assert_eq!(plain, b"h:abcabcabca");
        assert_eq!(written, 12);
        assert_eq!(heads.len(), 1);
        assert_eq!(heads[0].header("x-test"), Some(&b"1"[..]));
        let chunked = Script::new()
            .repeat_chunks("abcd", 10)
            .write(LAST_CHUNK)
            .close();
        let (framed, written, _) = exchange(chunked)?;
        assert_eq!(framed, b"4\r\nabcd\r\n4\r\nabcd\r\n2\r\nab\r\n0\r\n\r\n");
        assert_eq!(written, framed.len() as u64);
        let paced = Script::new()
            .repeat_chunks_every("x", 3, Duration::from_millis(30))
            .close();
        let started = Instant::now();
        let (framed, _, _) = exchange(paced)?;
        assert_eq!(framed, b"1\r\nx\r\n1\r\nx\r\n1\r\nx\r\n");
        assert!(started.elapsed() >= Duration::from_millis(60));
        let (nothing, written, _) = exchange(Script::new().repeat("", 10).close())?;
        assert!(nothing.is_empty());
        assert_eq!(written, 0);
        Ok(())
    }

    #[test]
    fn only_loopback_addresses_are_bound() {
        let refused = Server::start_on(Ipv4Addr::UNSPECIFIED, Vec::new());
        assert_eq!(
            refused.map(|server| server.addr()).map_err(|e| e.kind()),
            Err(io::ErrorKind::InvalidInput)
        );
    }
}
