//! # blossom-hyper
//!
//! The tokio transport of the Blossom SDK: [hyper](https://docs.rs/hyper) 1 through
//! hyper-util's pooled client, with [rustls](https://docs.rs/rustls) (ring, Mozilla's root
//! certificates from `webpki-roots`) for TLS. It implements the client's
//! [`Transport`](blossom_client::Transport) seam and is `blossom-tokio`'s default transport.
//!
//! - HTTP/1.1 everywhere, HTTP/2 over TLS when the server offers it by ALPN and
//!   [`ClientConfig::http2`](blossom_core::ClientConfig::http2) is set.
//! - One connection pool per transport, keeping up to
//!   [`max_connections`](blossom_core::ClientConfig::max_connections) idle connections per
//!   host; the number of calls at once is the engine's to limit.
//! - The connect timeout from the configuration; no other timeout of its own (the core's
//!   deadlines bound every attempt and every stream read, and dropping a body closes its
//!   connection at once).
//! - `gzip` and `deflate` response bodies are inflated while they are read, and the size
//!   limit ([`max_body_bytes`](blossom_core::ClientConfig::max_body_bytes)) applies to the
//!   inflated bytes, so a small compressed bomb fails at the limit.
//! - Redirects are not followed: a `3xx` is the caller's to see.
//! - No proxy: requests go straight to the host. A program that must reach the service
//!   through an HTTP proxy uses the isahc transport (`blossom-tokio`'s `isahc` feature), which
//!   reads the usual proxy variables.
//!
//! **What it does not do:** retry, cache, rate-limit or time out whole calls. Those are
//! decisions, and decisions live in `blossom-core`'s engine. This crate moves bytes.
//!
//! It must be used from within a tokio runtime (its connections are tokio tasks).
//!
//! ```no_run
//! use blossom_core::ClientConfig;
//! use blossom_client::Transport;
//! use blossom_hyper::HyperTransport;
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = HyperTransport::new(&ClientConfig::new())?;
//! let request = http::Request::get("https://gen.pollinations.ai/text/models")
//!     .body(bytes::Bytes::new())?;
//! let response = transport.send(request).await?;
//! println!("{}", response.status);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod errors;
mod inflate;
mod transport;

pub use transport::HyperTransport;
