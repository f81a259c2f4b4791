//! The async client: calls as futures, streams, batches and worker pools, over a [`Runtime`](crate::Runtime).

mod batch;
mod call;
mod client;
mod inner;
mod pool;
mod stream;
mod watchdog;

pub use batch::{Batch, BatchResults};
pub use call::{BoxFuture, Call, StreamCall};
pub use client::{Client, ClientBuilder};
pub use pool::{PoolResults, Submitter};
pub use stream::ChatStream;
