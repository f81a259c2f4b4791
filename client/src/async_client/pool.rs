//! A worker pool for producer/consumer programs: a fixed number of workers take requests
//! from a bounded queue and put results on a bounded queue.
//!
//! Back-pressure is end to end: when workers are busy the queue fills and
//! [`Submitter::submit`] waits; when the consumer is slow the result queue fills and the
//! workers wait. Closing (dropping) every submitter lets the workers finish what is queued,
//! after which the results end. Dropping the results stops the workers after their current
//! call.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_core::Stream;

use super::call::Call;
use super::inner::Inner;
use crate::progress::Ticket;
use crate::request::ApiRequest;
use crate::runtime::Runtime;
use blossom_core::engine::CallOptions;
use blossom_core::error::Error;

/// Puts requests into a worker pool. Cloneable; the pool drains and its results end when
/// every clone is dropped (or [`close`](Self::close)d).
pub struct Submitter<Q> {
    jobs: async_channel::Sender<(Ticket, Q)>,
    next: Arc<AtomicU64>,
}

impl<Q> Clone for Submitter<Q> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
            next: Arc::clone(&self.next),
        }
    }
}

impl<Q> std::fmt::Debug for Submitter<Q> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submitter")
            .field("queued", &self.jobs.len())
            .field("closed", &self.jobs.is_closed())
            .finish()
    }
}

impl<Q> Submitter<Q> {
    /// Queues a request, waiting while the queue is full. Returns its ticket.
    ///
    /// # Errors
    /// [`ErrorKind::Shutdown`](blossom_core::ErrorKind::Shutdown) when the pool is closed or its
    /// results were dropped.
    pub async fn submit(&self, request: Q) -> Result<Ticket, Error> {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        self.jobs
            .send((ticket, request))
            .await
            .map_err(|_| Error::shutdown("the worker pool is closed"))?;
        Ok(ticket)
    }

    /// Queues a request if there is room now.
    ///
    /// # Errors
    /// Gives the request back when the queue is full or the pool is closed.
    pub fn try_submit(&self, request: Q) -> Result<Ticket, Q> {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        match self.jobs.try_send((ticket, request)) {
            Ok(()) => Ok(ticket),
            Err(error) => Err(error.into_inner().1),
        }
    }

    /// Stops accepting requests, for every clone. Queued requests still run.
    pub fn close(&self) {
        self.jobs.close();
    }
}

/// One finished request of a pool: its ticket and its result.
type Finished<T> = (Ticket, Result<T, Error>);

/// The results of a worker pool: `(ticket, result)` in completion order, ending once the
/// pool is closed and drained.
pub struct PoolResults<T> {
    results: Pin<Box<async_channel::Receiver<Finished<T>>>>,
}

impl<T> std::fmt::Debug for PoolResults<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolResults").finish_non_exhaustive()
    }
}

impl<T> Stream for PoolResults<T> {
    type Item = (Ticket, Result<T, Error>);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.results.as_mut().poll_next(cx)
    }
}

/// Starts `workers` workers (at least one) on the client's runtime, with queues of the same
/// size, each call using `options`.
pub(crate) fn start<R, Q>(
    inner: &Arc<Inner<R>>,
    workers: usize,
    options: CallOptions,
) -> (Submitter<Q>, PoolResults<Q::Output>)
where
    R: Runtime,
    Q: ApiRequest,
{
    let workers = workers.max(1);
    let (jobs_tx, jobs_rx) = async_channel::bounded::<(Ticket, Q)>(workers);
    let (results_tx, results_rx) = async_channel::bounded(workers);
    for _ in 0..workers {
        let jobs = jobs_rx.clone();
        let results = results_tx.clone();
        let worker = Arc::clone(inner);
        let options = options.clone();
        inner.runtime.spawn(Box::pin(async move {
            while let Ok((ticket, request)) = jobs.recv().await {
                let prepared = worker.prepare(request);
                let call: Call<R, Q::Output> = Call::new(Arc::clone(&worker), prepared);
                let result = call.options(options.clone()).await;
                if results.send((ticket, result)).await.is_err() {
                    // Nobody reads the results any more: stop taking work.
                    jobs.close();
                    break;
                }
            }
        }));
    }
    (
        Submitter {
            jobs: jobs_tx,
            next: Arc::new(AtomicU64::new(0)),
        },
        PoolResults {
            results: Box::pin(results_rx),
        },
    )
}
