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
//!   legacy `POST /openai`, `GET /prompt/{prompt}` and `GET /models`, and
//!   `GET /__emulator/stats`. Anything else is a 404 envelope.
//! - **Determinism**: every answer is a pure function of the request and
//!   [`EmulatorConfig::seed`], through a stable hash (FNV-1a + SplitMix64), never a global
//!   random generator or the clock. Only metadata (`created`, `timestamp`, ids) varies.
//! - **Real media**: images are decodable JPEGs (or RGBA PNGs with `transparent=true`) of
//!   exactly the requested size; speech is real WAV, PCM, FLAC, or MP3 frames.
//! - **Chat features**: streaming with per-event frames (and an optional pause between
//!   events), tool calls (streamed as argument fragments), JSON mode and `json_schema`
//!   answers that validate, reasoning text, audio output.
//! - **Service rules**: keys (401 without one; `pk_` keys paced by a token bucket answering
//!   429 with `Retry-After`), validation with the service's error envelope and field
//!   errors, the 20 MiB body limit, the answer cache (`X-Cache: HIT|MISS`), `X-Request-Id`
//!   on every response.
//! - **Observability**: [`Stats`] counts requests by route, key label and status, cache hits
//!   and rate-limited requests. Keys never appear in full anywhere.
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
//! - It does not inject faults yet (error rates, latency, resets, truncated streams); the
//!   request pipeline ([`Emulator`] → router → shared generation path) leaves a single
//!   place for that to be added.
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
mod config;
mod errors;
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
mod server;
mod sse;
mod state;
mod stats;
mod text;

pub use auth::DEMO_SECRET_KEY;
pub use cli::{EmulatorArgs, run_cli};
pub use config::{EmulatorConfig, PkRateLimit};
pub use server::{Emulator, StopHandle};
pub use stats::Stats;
