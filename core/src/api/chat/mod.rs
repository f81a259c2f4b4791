//! Chat completions: the request, messages and tools, the answer and streamed chunks.

mod chunk;
mod message;
mod request;
mod response;
mod tools;

pub use chunk::{ChatChunk, ChunkChoice, Delta, FunctionCallDelta, ToolCallDelta};
pub use message::{Content, ContentPart, ImageUrl, InputAudio, Message, Role};
pub use request::{
    AudioOutput, ChatAudioFormat, ChatRequest, DEFAULT_CHAT_MODEL, JsonSchema, Modality,
    ResponseFormat, Stop, StreamOptions,
};
pub use response::{AssistantMessage, AudioData, ChatCompletion, Choice};
pub use tools::{FunctionCall, FunctionDef, Tool, ToolCall, ToolChoice};
