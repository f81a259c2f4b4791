//! The blocking client: the same calls on the calling thread, streams as iterators, batches
//! and pools on worker threads.

mod batch;
mod call;
mod client;
mod inner;
mod seams;
mod stream;

pub use batch::{BlockingBatch, BlockingBatchResults, BlockingPoolResults, BlockingSubmitter};
pub use client::{BlockingClient, BlockingClientBuilder};
pub use seams::{
    BlockingBody, BlockingClock, BlockingResponse, BlockingRuntime, BlockingTransport, BodyRead,
    ReadBody, read_body_blocking,
};
pub use stream::BlockingChatStream;
