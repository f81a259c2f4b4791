//! Streaming answers: the SSE decoder, the chat-chunk layer above it, and an accumulator that
//! turns a chunk stream back into one complete message.
//!
//! ```
//! use blossom_core::sse::{ChatAccumulator, ChatStreamDecoder};
//! let mut stream = ChatStreamDecoder::new();
//! stream.push(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n");
//! stream.push(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\ndata: [DONE]\n\n");
//! let mut all = ChatAccumulator::new();
//! while let Some(chunk) = stream.next_chunk() {
//!     all.push(&chunk.unwrap());
//! }
//! assert!(stream.is_done());
//! assert_eq!(all.finish().text(), "Hello");
//! ```

mod accumulator;
mod chat_stream;
pub mod decoder;
mod reader;

pub use accumulator::ChatAccumulator;
pub use chat_stream::ChatStreamDecoder;
pub use decoder::{SseDecoder, SseError, SseEvent};
pub use reader::{Drain, DrainStep, ReadStep, StreamLimits, StreamReader};
