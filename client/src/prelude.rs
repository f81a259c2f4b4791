//! Everything a user of an adapter crate needs, for `pub use blossom_client::prelude::*` in
//! the adapters (and `use blossom_tokio::*` in programs).

pub use crate::{
    AnyRequest, AnyResponse, ApiRequest, BatchProgress, ChatStream, SaveMedia, ShutdownReport,
    Ticket, write_atomically,
};
pub use blossom_core::prelude::*;
