//! What every clone of an async client shares: the runtime, the transport, the encoder and
//! the engine behind its lock.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use blossom_core::ClientConfig;
use blossom_core::codec::{Encoder, Prepared};
use blossom_core::engine::CallId;
use blossom_core::error::Error;

use crate::cell::{EngineCell, EngineGuard, StreamControl};
use crate::request::ApiRequest;
use crate::runtime::Runtime;
use crate::signal::{AsyncSignal, Notify};
use crate::transport::Transport;

pub(crate) struct Inner<R> {
    pub(crate) runtime: R,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) encoder: Encoder,
    pub(crate) cell: EngineCell<AsyncSignal>,
    pub(crate) config: ClientConfig,
    /// Whether the watchdog task runs (see `watchdog`).
    pub(crate) watchdog: AtomicBool,
}

impl<R> Drop for Inner<R> {
    /// Wakes the watchdog, which then finds the client gone and ends.
    fn drop(&mut self) {
        let watchdog = self.cell.lock().set_watchdog(None);
        if let Some(watchdog) = watchdog {
            watchdog.notify();
        }
    }
}

impl<R: Runtime> Inner<R> {
    /// The engine, locked. Never held across an `.await`.
    pub(crate) fn engine(&self) -> EngineGuard<'_, AsyncSignal> {
        self.cell.lock()
    }

    pub(crate) fn now(&self) -> Instant {
        self.runtime.now()
    }

    /// Validates and encodes a request.
    pub(crate) fn prepare<Q: ApiRequest>(&self, request: Q) -> Result<Prepared, Error> {
        request.prepare(&self.encoder)
    }
}

impl<R: Runtime> StreamControl for Inner<R> {
    fn now(&self) -> Instant {
        self.runtime.now()
    }

    fn end(&self, id: CallId, error: Option<&Error>) {
        self.cell.end_stream(id, error, self.runtime.now());
    }

    fn cancel(&self, id: CallId) {
        self.cell.cancel_call(id, self.runtime.now());
    }

    fn aborted(&self, id: CallId) -> Option<Error> {
        self.cell.take_aborted(id, self.runtime.now())
    }
}
