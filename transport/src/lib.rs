//! # blossom-transport
//!
//! The isahc transport of the Blossom SDK (smol's and blocking's; tokio's default is
//! `blossom-hyper`, and this one is tokio's with its `isahc` feature). It implements the
//! [`Transport`](blossom_client::Transport) and
//! [`BlockingTransport`](blossom_client::BlockingTransport) seams with
//! [isahc](https://docs.rs/isahc) (libcurl): one connection pool per client, HTTP/2 where
//! the server offers it over TLS, rustls for TLS, proxies from the usual environment
//! variables (never for loopback), and a maximum body size enforced while reading. The
//! blocking transport waits for isahc's exchanges on the calling thread, each wait bounded
//! by the instant the driver names: there is no timeout of libcurl's own besides connecting.
//!
//! **What it does not do:** retry, cache, rate-limit or time out whole calls. Those are
//! decisions, and decisions live in `blossom-core`'s engine. This crate moves bytes.
//!
//! isahc runs transfers on its own agent thread, so the async transport works under any
//! executor (tokio, smol, or a plain `block_on`) and the blocking transport needs none.
//!
//! ```no_run
//! use blossom_core::ClientConfig;
//! use blossom_client::Transport;
//! use blossom_transport::IsahcTransport;
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = IsahcTransport::new(&ClientConfig::new())?;
//! let request = http::Request::get("https://gen.pollinations.ai/text/models")
//!     .body(bytes::Bytes::new())?;
//! let response = transport.send(request).await?;
//! println!("{}", response.status);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod client;
mod errors;
mod park;

pub use client::{IsahcTransport, build_http_client};
