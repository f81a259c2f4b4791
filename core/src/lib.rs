//! # blossom-core
//!
//! The sans-IO heart of the Blossom SDK for the [Pollinations.AI](https://pollinations.ai)
//! generation API: the protocol codec (typed requests to exact HTTP requests, answers to typed
//! values or typed errors), the SSE stream decoder, and the engine that decides what every call
//! does next.
//!
//! **What it never does:** read a clock, sleep, open a socket, spawn a task or draw its own
//! randomness. Time is an argument (`now`), IO is a step returned to the driver, randomness
//! comes from a seeded generator the engine owns. So every decision is reproducible and a test
//! can push thousands of calls through hours of virtual time in milliseconds.
//!
//! **What it offers users directly:** nothing needs to be called here. Pick an adapter:
//! `blossom-tokio`, `blossom-smol` or `blossom-blocking`. They re-export this crate's request
//! and answer types and name a client over the runtime-neutral drivers of `blossom-client`.
//!
//! **What it does not contain:** an executor, a timer, a socket, a thread, a file or an
//! environment variable. `blossom-client` holds the drive loops (async and blocking) that run
//! these state machines over a transport; CI checks that this crate depends on no runtime,
//! network, futures or channel crate.
//!
//! ## The drive loop
//!
//! ```
//! use std::time::Instant;
//! use blossom_core::{ClientConfig, api::TextRequest, codec::Encoder};
//! use blossom_core::engine::{CallOptions, Engine, EngineConfig, RawResponse, Step};
//!
//! let config = ClientConfig::new().api_key("sk_0123456789abcdefghijklmnopqrstuv")?;
//! let request = Encoder::new(&config)?.text(&TextRequest::new("Write a haiku"))?;
//! let mut engine = Engine::new(EngineConfig::from_client(&config));
//! let start = Instant::now(); // the driver's clock, never the engine's
//! let id = engine.submit(request, CallOptions::default(), start);
//! let answer = loop {
//!     match engine.poll(id, start) {
//!         Step::Send(attempt) => {
//!             assert_eq!(attempt.request.uri().path(), "/text/Write%20a%20haiku");
//!             // A real driver sends `attempt.request` over the network here.
//!             let response = RawResponse {
//!                 status: http::StatusCode::OK,
//!                 headers: http::HeaderMap::new(),
//!                 body: bytes::Bytes::from_static(b"Rust in the morning"),
//!                 received_at: None,
//!             };
//!             engine.on_response(id, response, start);
//!         }
//!         Step::Wait(_until) => { /* sleep until then */ }
//!         Step::Done(result) => break result?,
//!         _ => { /* wait for a wake-up */ }
//!     }
//! };
//! # let _ = answer;
//! # Ok::<(), blossom_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod codec;
mod config;
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod fuzz;
pub mod policy;
pub mod prelude;
mod secret;
pub mod sse;
#[cfg(test)]
mod testing;
mod time;

pub use config::{
    BaseUrl, ClientConfig, DEFAULT_BASE_URL, DEFAULT_USER_AGENT, ENV_API_KEY, ENV_BASE_URL,
};
pub use error::{Error, ErrorKind, FieldError, TransportError, TransportErrorKind};
pub use secret::{ApiKey, KeyTier};
