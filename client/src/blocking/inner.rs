//! What every clone of a blocking client shares: the clock, the transport, the encoder and
//! the engine behind its lock.

use std::sync::Arc;
use std::time::Instant;

use blossom_core::ClientConfig;
use blossom_core::codec::Encoder;
use blossom_core::engine::CallId;
use blossom_core::error::Error;

use super::seams::{BlockingRuntime, BlockingTransport};
use crate::cell::{EngineCell, EngineGuard, StreamControl};
use crate::signal::BlockingSignal;

pub(crate) struct BlockingInner<C> {
    pub(crate) clock: C,
    pub(crate) transport: Arc<dyn BlockingTransport>,
    pub(crate) encoder: Encoder,
    pub(crate) cell: EngineCell<BlockingSignal>,
    pub(crate) config: ClientConfig,
}

impl<C: BlockingRuntime> BlockingInner<C> {
    /// The engine, locked.
    pub(crate) fn engine(&self) -> EngineGuard<'_, BlockingSignal> {
        self.cell.lock()
    }
}

impl<C: BlockingRuntime> StreamControl for BlockingInner<C> {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn end(&self, id: CallId, error: Option<&Error>) {
        self.cell.end_stream(id, error, self.clock.now());
    }

    fn cancel(&self, id: CallId) {
        self.cell.cancel_call(id, self.clock.now());
    }

    fn aborted(&self, id: CallId) -> Option<Error> {
        self.cell.take_aborted(id, self.clock.now())
    }
}
