//! Batches: many requests with bounded concurrency, results as they finish.
//!
//! The input is consumed lazily — at most `concurrency` requests are taken from it at a time —
//! so a batch of ten million prompts read from a file runs in memory bounded by the
//! concurrency, not the input. One failure never stops the batch: every item yields its own
//! `(index, Result)`. Dropping the result stream cancels the calls in flight.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::StreamExt as _;

use super::call::Call;
use super::inner::Inner;
use crate::progress::{BatchProgress, ProgressFn, Tally};
use crate::request::ApiRequest;
use crate::runtime::Runtime;
use blossom_core::engine::CallOptions;
use blossom_core::error::Error;

/// A batch being configured. Call [`run`](Self::run) to start it.
#[must_use = "a batch does nothing until run() and its results are polled"]
pub struct Batch<R: Runtime, S> {
    inner: Arc<Inner<R>>,
    requests: S,
    total: Option<usize>,
    concurrency: usize,
    ordered: bool,
    options: CallOptions,
    progress: Option<ProgressFn>,
}

impl<R: Runtime, S> std::fmt::Debug for Batch<R, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("concurrency", &self.concurrency)
            .field("ordered", &self.ordered)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<R, S> Batch<R, S>
where
    R: Runtime,
    S: Stream + Send + 'static,
    S::Item: ApiRequest,
{
    pub(crate) fn new(inner: Arc<Inner<R>>, requests: S, total: Option<usize>) -> Self {
        Self {
            inner,
            requests,
            total,
            concurrency: 8,
            ordered: false,
            options: CallOptions::default(),
            progress: None,
        }
    }

    /// At most `n` calls in flight at once (default 8; at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Yield results in input order (default: as they finish). In order, a slow item holds
    /// back the ones after it, but never more than `concurrency` are held.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// Options for every call of the batch (timeout, priority, retry, …).
    pub fn options(mut self, options: CallOptions) -> Self {
        self.options = options;
        self
    }

    /// Called after each item with the running totals.
    pub fn on_progress(mut self, callback: impl FnMut(&BatchProgress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(callback));
        self
    }

    /// Starts the batch: a stream of `(index, result)`, one per input item.
    pub fn run(self) -> BatchResults<<S::Item as ApiRequest>::Output> {
        let Self {
            inner,
            requests,
            total,
            concurrency,
            ordered,
            options,
            progress,
        } = self;
        let calls = requests.enumerate().map(move |(index, request)| {
            let call: Call<R, _> =
                Call::new(Arc::clone(&inner), inner.prepare(request)).options(options.clone());
            async move { (index, call.await) }
        });
        let results: BoxedResults<_> = if ordered {
            Box::pin(calls.buffered(concurrency))
        } else {
            Box::pin(calls.buffer_unordered(concurrency))
        };
        let tally = Mutex::new(Tally::new(total, progress));
        let counted = results.inspect(move |(_, result)| {
            tally
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record(result.is_ok());
        });
        BatchResults {
            inner: Box::pin(counted),
        }
    }
}

type BoxedResults<T> = Pin<Box<dyn Stream<Item = (usize, Result<T, Error>)> + Send>>;

/// The results of a batch: `(index, result)` for every input item, then the end.
/// Dropping it cancels the calls in flight.
pub struct BatchResults<T> {
    inner: BoxedResults<T>,
}

impl<T> std::fmt::Debug for BatchResults<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchResults").finish_non_exhaustive()
    }
}

impl<T> Stream for BatchResults<T> {
    type Item = (usize, Result<T, Error>);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
