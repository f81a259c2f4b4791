//! Batches and worker pools for the blocking client, on plain threads.
//!
//! Same contracts as the async ones: the input is consumed lazily (at most `concurrency`
//! items taken and not yet yielded), results come as `(index, result)`, one failure never
//! stops the rest. A call already running on a worker thread cannot be interrupted; dropping
//! the results stops the workers once their current call ends.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use super::call::call;
use super::inner::BlockingInner;
use super::seams::BlockingRuntime;
use crate::progress::{BatchProgress, ProgressFn, Tally, Ticket};
use crate::request::ApiRequest;
use blossom_core::engine::CallOptions;
use blossom_core::error::Error;

type Job<Q> = (usize, Q);
type Answer<Q> = Result<<Q as ApiRequest>::Output, Error>;
type Outcome<Q> = (usize, Answer<Q>);

/// A blocking batch being configured. Call [`run`](Self::run) to start it.
#[must_use = "a batch does nothing until run() and its results are read"]
pub struct BlockingBatch<C: BlockingRuntime, I> {
    inner: Arc<BlockingInner<C>>,
    options: CallOptions,
    requests: I,
    concurrency: usize,
    ordered: bool,
    progress: Option<ProgressFn>,
}

impl<C: BlockingRuntime, I> std::fmt::Debug for BlockingBatch<C, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingBatch")
            .field("concurrency", &self.concurrency)
            .field("ordered", &self.ordered)
            .finish_non_exhaustive()
    }
}

impl<C, I> BlockingBatch<C, I>
where
    C: BlockingRuntime,
    I: Iterator,
    I::Item: ApiRequest,
{
    pub(crate) fn new(inner: Arc<BlockingInner<C>>, options: CallOptions, requests: I) -> Self {
        Self {
            inner,
            options,
            requests,
            concurrency: 8,
            ordered: false,
            progress: None,
        }
    }

    /// At most `n` calls in flight, on `n` worker threads (default 8; at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Yield results in input order (default: as they finish).
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// Called after each item with the running totals.
    pub fn on_progress(mut self, callback: impl FnMut(&BatchProgress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(callback));
        self
    }

    /// Starts the worker threads: an iterator of `(index, result)`, one per input item.
    pub fn run(self) -> BlockingBatchResults<I> {
        let (jobs_tx, jobs_rx) = channel::<Job<I::Item>>();
        let (results_tx, results_rx) = channel::<Outcome<I::Item>>();
        let jobs_rx = Arc::new(Mutex::new(jobs_rx));
        for _ in 0..self.concurrency {
            let jobs = Arc::clone(&jobs_rx);
            let results = results_tx.clone();
            let inner = Arc::clone(&self.inner);
            let options = self.options.clone();
            self.inner.clock.spawn_thread(Box::new(move || {
                loop {
                    let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok((index, request)) = job else {
                        return;
                    };
                    let result = call(&inner, request, options.clone());
                    if results.send((index, result)).is_err() {
                        return;
                    }
                }
            }));
        }
        let total = match self.requests.size_hint() {
            (low, Some(high)) if low == high => Some(low),
            _ => None,
        };
        BlockingBatchResults {
            input: self.requests,
            jobs: Some(jobs_tx),
            results: results_rx,
            next_index: 0,
            outstanding: 0,
            concurrency: self.concurrency,
            ordered: self.ordered,
            next_emit: 0,
            held: BTreeMap::new(),
            tally: Tally::new(total, self.progress),
        }
    }
}

/// The results of a blocking batch: `(index, result)` per input item.
pub struct BlockingBatchResults<I: Iterator>
where
    I::Item: ApiRequest,
{
    input: I,
    jobs: Option<Sender<Job<I::Item>>>,
    results: Receiver<Outcome<I::Item>>,
    next_index: usize,
    outstanding: usize,
    concurrency: usize,
    ordered: bool,
    next_emit: usize,
    held: BTreeMap<usize, Answer<I::Item>>,
    tally: Tally,
}

impl<I: Iterator> std::fmt::Debug for BlockingBatchResults<I>
where
    I::Item: ApiRequest,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingBatchResults")
            .field("progress", &self.tally.progress())
            .finish_non_exhaustive()
    }
}

impl<I: Iterator> BlockingBatchResults<I>
where
    I::Item: ApiRequest,
{
    /// Hands input items to the workers until `concurrency` are outstanding.
    fn dispatch(&mut self) {
        while self.outstanding < self.concurrency {
            let Some(jobs) = &self.jobs else {
                return;
            };
            match self.input.next() {
                Some(request) => {
                    if jobs.send((self.next_index, request)).is_err() {
                        self.jobs = None;
                        return;
                    }
                    self.next_index += 1;
                    self.outstanding += 1;
                }
                None => {
                    // No more input: closing the queue lets idle workers exit.
                    self.jobs = None;
                }
            }
        }
    }

    fn yielded(&mut self, index: usize, result: Answer<I::Item>) -> Option<Outcome<I::Item>> {
        self.outstanding -= 1;
        self.tally.record(result.is_ok());
        Some((index, result))
    }
}

impl<I: Iterator> Iterator for BlockingBatchResults<I>
where
    I::Item: ApiRequest,
{
    type Item = Outcome<I::Item>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.dispatch();
            if self.ordered
                && let Some(result) = self.held.remove(&self.next_emit)
            {
                let index = self.next_emit;
                self.next_emit += 1;
                return self.yielded(index, result);
            }
            if self.outstanding == 0 {
                return None;
            }
            let (index, result) = self.results.recv().ok()?;
            if !self.ordered {
                return self.yielded(index, result);
            }
            self.held.insert(index, result);
        }
    }
}

/// Puts requests into a blocking worker pool; blocks while its queue is full. Cloneable; the
/// pool drains and its results end when every clone is dropped.
pub struct BlockingSubmitter<Q> {
    jobs: SyncSender<(Ticket, Q)>,
    next: Arc<AtomicU64>,
}

impl<Q> Clone for BlockingSubmitter<Q> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
            next: Arc::clone(&self.next),
        }
    }
}

impl<Q> std::fmt::Debug for BlockingSubmitter<Q> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingSubmitter").finish_non_exhaustive()
    }
}

impl<Q> BlockingSubmitter<Q> {
    /// Queues a request, blocking while the queue is full. Returns its ticket.
    ///
    /// # Errors
    /// [`ErrorKind::Shutdown`](blossom_core::ErrorKind::Shutdown) when the pool's results were
    /// dropped and its workers stopped.
    pub fn submit(&self, request: Q) -> Result<Ticket, Error> {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        self.jobs
            .send((ticket, request))
            .map_err(|_| Error::shutdown("the worker pool is closed"))?;
        Ok(ticket)
    }
}

/// The results of a blocking worker pool, in completion order.
pub struct BlockingPoolResults<T> {
    results: Receiver<(Ticket, Result<T, Error>)>,
}

impl<T> std::fmt::Debug for BlockingPoolResults<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingPoolResults")
            .finish_non_exhaustive()
    }
}

impl<T> Iterator for BlockingPoolResults<T> {
    type Item = (Ticket, Result<T, Error>);

    fn next(&mut self) -> Option<Self::Item> {
        self.results.recv().ok()
    }
}

/// Starts `workers` worker threads with queues of the same size.
pub(crate) fn start_pool<C, Q>(
    inner: &Arc<BlockingInner<C>>,
    options: CallOptions,
    workers: usize,
) -> (BlockingSubmitter<Q>, BlockingPoolResults<Q::Output>)
where
    C: BlockingRuntime,
    Q: ApiRequest,
{
    let workers = workers.max(1);
    let (jobs_tx, jobs_rx) = sync_channel::<(Ticket, Q)>(workers);
    let (results_tx, results_rx) = sync_channel(workers);
    let jobs_rx = Arc::new(Mutex::new(jobs_rx));
    for _ in 0..workers {
        let jobs = Arc::clone(&jobs_rx);
        let results = results_tx.clone();
        let worker = Arc::clone(inner);
        let options = options.clone();
        inner.clock.spawn_thread(Box::new(move || {
            loop {
                let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
                let Ok((ticket, request)) = job else {
                    return;
                };
                if results
                    .send((ticket, call(&worker, request, options.clone())))
                    .is_err()
                {
                    return;
                }
            }
        }));
    }
    (
        BlockingSubmitter {
            jobs: jobs_tx,
            next: Arc::new(AtomicU64::new(0)),
        },
        BlockingPoolResults {
            results: results_rx,
        },
    )
}
