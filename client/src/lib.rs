//! # blossom-client
//!
//! The runtime-neutral drivers of the Blossom SDK: the async [`Client`] generic over a
//! [`Runtime`] and a [`Transport`], and the [`BlockingClient`] over a [`BlockingRuntime`] and a
//! [`BlockingTransport`]. Each runs `blossom-core`'s state machines: it asks the engine what
//! to do, moves bytes and sleeps until the instant the core names.
//!
//! **What it does not do:** decide. Retries, pacing, breaking, caching, stream framing and
//! every timeout are `blossom-core`'s decisions; this crate performs them. It owns no
//! executor and no socket either: the adapter crates (`blossom-tokio`, `blossom-smol`,
//! `blossom-blocking`) plug in their runtime and the transport.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod async_client;
mod blocking;
mod cell;
mod media;
pub mod prelude;
mod progress;
mod request;
mod runtime;
mod settings;
mod shutdown;
mod signal;
mod transport;

pub use async_client::{
    Batch, BatchResults, BoxFuture, Call, ChatStream, Client, ClientBuilder, PoolResults,
    StreamCall, Submitter,
};
pub use blocking::{
    BlockingBatch, BlockingBatchResults, BlockingBody, BlockingChatStream, BlockingClient,
    BlockingClientBuilder, BlockingClock, BlockingPoolResults, BlockingResponse, BlockingRuntime,
    BlockingSubmitter, BlockingTransport, BodyRead, ReadBody, read_body_blocking,
};
pub use media::{SaveMedia, write_atomically};
pub use progress::{BatchProgress, Ticket};
pub use request::{AnyRequest, AnyResponse, ApiRequest, FromOutput};
pub use runtime::{Runtime, Timer};
pub use shutdown::ShutdownReport;
pub use transport::{BodyStream, HttpResponse, Transport, read_body};
