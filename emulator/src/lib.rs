//! A local, faithful emulator of the Pollinations.AI generation API.
//!
//! `blossom-emulator` is a real HTTP server (HTTP/1.1 and HTTP/2) that answers the public
//! API of `gen.pollinations.ai` the way the service does on the happy path and on the
//! documented error paths, so clients (this workspace's SDK, the Blossom Python SDK,
//! OpenAI-compatible clients) can be tested without a network, a key, or a bill.
//! It is an independent implementation of the wire protocol: it shares no code with the
//! SDK, so each checks the other.
//!
//! # What it does
//!
//! - **Routes**: `POST /v1/chat/completions` (JSON or SSE), `GET /text/{prompt}`,
//!   `POST /text`, `GET /image/{prompt}`, `GET /audio/{text}`, `POST /v1/audio/speech`,
//!   `GET /v1/models`, `GET /text/models`, `GET /image/models`, `GET /audio/models`, the
//!   legacy `POST /openai`, `GET /prompt/{prompt}` and `GET /models`. Anything else is a
//!   404 envelope. Its own routes: `GET /__emulator/stats`, `POST /__emulator/reset`,
//!   `GET` and `POST /__emulator/faults` (see [Fault injection](#fault-injection)).
//! - **Determinism**: every answer is a pure function of the request and
//!   [`EmulatorConfig::seed`], through a stable hash (FNV-1a + SplitMix64), never a global
//!   random generator or the clock. Only metadata (`created`, `timestamp`, ids) varies.
//! - **Real media**: images are decodable JPEGs (or RGBA PNGs with `transparent=true`) of
//!   exactly the requested size; speech is real WAV, PCM, FLAC, or MP3 frames.
//! - **Chat features**: streaming with per-event frames (and an optional pause between
//!   events), tool calls (streamed as argument fragments) whenever the last user message
//!   needs an offered tool (it names the tool, or a word of its name such as `weather` for
//!   `get_weather`) under `auto`, and always under `required`; JSON mode and `json_schema`
//!   answers that validate, reasoning text, audio output.
//! - **Service rules**: keys (401 without one; `pk_` keys paced by a token bucket answering
//!   429 with `Retry-After`), validation with the service's error envelope and field
//!   errors, the 20 MiB body limit, the answer cache (`X-Cache: HIT|MISS`), `X-Request-Id`
//!   on every response.
//! - **Fault injection**: seeded, configurable failures at the HTTP and TCP level (error
//!   statuses, `Retry-After`, resets, short bodies, stalls, cut streams, error events,
//!   broken bodies, latency), at random or forced per request; and the free tier's
//!   "one generation at a time" limit ([`EmulatorConfig::concurrency_limit`]).
//! - **Observability**: [`Stats`] counts requests by route, key label and status, cache hits,
//!   rate-limited requests, injected faults, connections, requests in flight and streams
//!   abandoned by their clients. Keys never appear in full anywhere.
//!
//! # What it does not do
//!
//! - It does not generate meaningful content: answers are readable filler that echoes the
//!   prompt, pictures are seeded patterns, speech is a chirp per word (MP3 is silence of the
//!   same length), and `opus`/`aac` are refused with a 400.
//! - Sampling parameters (`temperature`, `top_p`, penalties) change the answer only as any
//!   other field does (through the hash); `n` > 1 still yields one choice, and `logprobs`
//!   are never returned. `stop` sequences and `max_tokens` (counted in words) are honoured.
//! - It has no accounts: every well-formed key is accepted; there are no balances, so no
//!   402/403 answers, and no per-IP edge limits.
//! - It has no edge: injected 520–530 pages and resets imitate one, but nothing sits in
//!   front of the server. Over HTTP/2 (prior knowledge only) an injected `reset` resets
//!   the request's stream after its head rather than the TCP connection.
//! - It never contacts another host: it only listens.
//!
//! # Example
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
//!
//! # fn main() -> std::io::Result<()> {
//! let emulator = Emulator::spawn(EmulatorConfig::default())?;
//!
//! let mut socket = TcpStream::connect(emulator.addr())?;
//! write!(
//!     socket,
//!     "GET /text/Write%20a%20haiku HTTP/1.1\r\nHost: localhost\r\n\
//!      Authorization: Bearer {DEMO_SECRET_KEY}\r\nConnection: close\r\n\r\n"
//! )?;
//! let mut answer = String::new();
//! socket.read_to_string(&mut answer)?;
//!
//! assert!(answer.starts_with("HTTP/1.1 200 OK"));
//! assert!(answer.contains("Emulated openai reply to \"Write a haiku\""));
//! assert_eq!(emulator.stats().route("GET /text"), 1);
//! emulator.stop();
//! # Ok(())
//! # }
//! ```
//!
//! In async tests, [`Emulator::start`] runs the server on the test's own tokio runtime.
//!
//! # Fault injection
//!
//! Faults are real on the wire, so a client's retries, breaker, timeouts and
//! cancellation meet what they would meet in production:
//!
//! | Token | What the client sees |
//! |---|---|
//! | `408`, `429`, `500`, `502`, `503`, `504`, any 5xx | that status with the service's JSON envelope (`REQUEST_TIMEOUT`, `RATE_LIMITED`, `INTERNAL_ERROR`, `BAD_GATEWAY`, `SERVICE_UNAVAILABLE`, `GATEWAY_TIMEOUT`); 520–530 an HTML page from "the edge" |
//! | `reset` | a TCP reset before any response byte: a connection error, no status |
//! | `reset_body` | the head (full `Content-Length`) and part of the body, then the connection closes |
//! | `stall` | the head and part of the body (an SSE stream: its first event), then nothing until the client gives up (the emulator closes after 60 s) |
//! | `truncate` | an SSE stream that ends cleanly after some events, without `data: [DONE]` |
//! | `stream_error` | an SSE stream that ends with `data: {"error":{…,"type":"upstream_error","code":"usage_missing"}}` |
//! | `malformed` | a 200 whose body is broken: cut JSON, invalid UTF-8 text, "images" and audio that are text; in a stream, one cut event |
//! | `latency=<d>` or `latency=<a>..<b>` | the head arrives that much later (uniform in the range) |
//! | `retry_after=<d>` | injected 429s (default 1 s) and 503s (default none) send `Retry-After` (seconds, rounded up) and `retry-after-ms` |
//!
//! Body faults (`reset_body` to `malformed`) apply to successful answers only, and
//! `truncate` and `stream_error` to SSE streams only; elsewhere they change nothing.
//! A fault never changes what a request without a fault gets: the same request still
//! gives the same bytes, and the answer cache only ever holds good answers.
//!
//! **At random**: a [`FaultSpec`] such as `"503=0.1,429=0.05,reset=0.02,latency=20..200ms"`
//! gives each fault a probability (their sum at most 1: one fault per request, plus
//! latency), optionally limited with `scope=<route prefix>` (`scope=GET /image`). Decisions
//! are seeded by [`EmulatorConfig::seed`] and a per-request counter, so the same seed and
//! the same request order give the same faults. Set it with [`EmulatorConfig::faults`],
//! `--faults`, and at run time with [`Emulator::set_faults`] or
//! `POST /__emulator/faults` (the spec as the body; empty for none).
//!
//! **Per request**: the header `X-Emulator-Fault: <token>[,<token>…]` forces faults on
//! that request (same tokens, no probabilities: `503`, `reset`, `stall`,
//! `latency=300ms`, `retry_after=2s`, or `none`), on every API route, overriding the
//! random ones. `/__emulator/*` routes are never faulted.
//!
//! Every injected fault is counted in [`Stats::faults`] by token, and injected answers
//! carry an `x-emulator-fault` header. Faulted requests still count in
//! [`Stats::requests_total`] and [`Stats::by_route`], so a test can count attempts:
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig, FaultSpec};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An outage: every answer is a 503 asking to come back in 2 seconds.
//! let config = EmulatorConfig::default().seed(7).faults("503=1,retry_after=2s".parse()?);
//! let emulator = Emulator::spawn(config)?;
//! let get = |extra: &str| -> std::io::Result<String> {
//!     let mut socket = TcpStream::connect(emulator.addr())?;
//!     write!(
//!         socket,
//!         "GET /text/hi HTTP/1.1\r\nHost: localhost\r\n\
//!          Authorization: Bearer {DEMO_SECRET_KEY}\r\n{extra}Connection: close\r\n\r\n"
//!     )?;
//!     let mut answer = String::new();
//!     socket.read_to_string(&mut answer)?;
//!     Ok(answer)
//! };
//! let answer = get("")?;
//! assert!(answer.starts_with("HTTP/1.1 503"));
//! assert!(answer.contains("retry-after: 2\r\n"));
//! assert!(answer.contains("\"code\":\"SERVICE_UNAVAILABLE\""));
//!
//! // The header overrides the spec for one request.
//! assert!(get("X-Emulator-Fault: none\r\n")?.starts_with("HTTP/1.1 200"));
//!
//! // The outage ends.
//! emulator.set_faults(FaultSpec::none());
//! assert!(get("")?.starts_with("HTTP/1.1 200"));
//! let stats = emulator.stats();
//! assert_eq!((stats.requests_total, stats.fault("503")), (3, 1));
//! emulator.stop();
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod audio;
mod audio_codec;
mod auth;
mod cache;
mod chat;
mod chat_request;
mod cli;
mod clock;
mod concurrency;
mod config;
mod conn_io;
mod control;
mod errors;
mod exchange;
mod faults;
mod flac;
mod generate;
mod hash;
mod image;
mod image_codec;
mod models;
mod params;
mod pipeline;
mod ratelimit;
mod reply;
mod router;
mod schema;
mod script;
mod server;
mod sse;
mod state;
mod stats;
mod text;

pub use auth::DEMO_SECRET_KEY;
pub use cli::{EmulatorArgs, run_cli};
pub use config::{EmulatorConfig, PkRateLimit};
pub use faults::{FaultSpec, FaultSpecError};
pub use server::{Emulator, StopHandle};
pub use stats::Stats;
