//! What the async and blocking batches and pools share: progress totals and tickets.

/// A ticket: the number a worker pool's `submit` gave a request, repeated on its result.
pub type Ticket = u64;

/// How far a batch has got, passed to the progress callback after each item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchProgress {
    /// Items finished (succeeded or failed).
    pub completed: usize,
    /// Items that succeeded.
    pub succeeded: usize,
    /// Items that failed.
    pub failed: usize,
    /// Items in the input, when it knows its length.
    pub total: Option<usize>,
}

pub(crate) type ProgressFn = Box<dyn FnMut(&BatchProgress) + Send>;

/// The running totals of a batch and the callback that sees them after each item.
pub(crate) struct Tally {
    progress: BatchProgress,
    callback: Option<ProgressFn>,
}

impl Tally {
    pub(crate) fn new(total: Option<usize>, callback: Option<ProgressFn>) -> Self {
        Self {
            progress: BatchProgress {
                total,
                ..BatchProgress::default()
            },
            callback,
        }
    }

    pub(crate) fn progress(&self) -> &BatchProgress {
        &self.progress
    }

    /// Counts one finished item and tells the callback.
    pub(crate) fn record(&mut self, succeeded: bool) {
        let progress = &mut self.progress;
        progress.completed += 1;
        if succeeded {
            progress.succeeded += 1;
        } else {
            progress.failed += 1;
        }
        if let Some(callback) = &mut self.callback {
            callback(progress);
        }
    }
}
