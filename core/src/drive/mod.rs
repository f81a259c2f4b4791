//! Runtime-neutral driving: the seams an adapter fills ([`Transport`], [`Timer`],
//! [`Runtime`]) and the generic async [`Client`] that runs the engine's loop over them.
//!
//! No executor and no socket live here: the adapter crates plug in tokio or smol timers and
//! the isahc transport, and name the client (`blossom_tokio::Client`).

mod batch;
mod blocking;
mod blocking_batch;
mod blocking_client;
mod call;
mod client;
mod pool;
mod request;
mod runtime;
mod settings;
mod stream;
mod transport;
mod wake;

pub use batch::{Batch, BatchProgress, BatchResults};
pub use blocking::{
    BlockingBody, BlockingClock, BlockingResponse, BlockingRuntime, BlockingTransport,
    read_body_blocking,
};
pub use blocking_batch::{
    BlockingBatch, BlockingBatchResults, BlockingPoolResults, BlockingSubmitter,
};
pub use blocking_client::{BlockingChatStream, BlockingClient, BlockingClientBuilder};
pub use call::{BoxFuture, Call, FromOutput, StreamCall};
pub use client::{Client, ClientBuilder, ShutdownReport};
pub use pool::{PoolResults, Submitter, Ticket};
pub use request::{AnyRequest, AnyResponse, ApiRequest};
pub use runtime::{Runtime, Timer};
pub use stream::ChatStream;
pub use transport::{BodyStream, HttpResponse, Transport, read_body};
