//! Progress on stderr: an indicatif bar on a terminal, a plain line every few seconds
//! otherwise (logs, CI), nothing with `--quiet`.

use std::fmt;
use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use blossom_tokio::Client;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Running counts, shared by the run loop, the signal handler and the progress ticker.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Calls started.
    pub(crate) started: AtomicU64,
    /// Calls ended (their lines written).
    pub(crate) calls_done: AtomicU64,
    /// Lines that succeeded.
    pub(crate) ok: AtomicU64,
    /// Lines that failed (input errors included).
    pub(crate) failed: AtomicU64,
    /// Lines skipped because `--resume` found them done.
    pub(crate) skipped: AtomicU64,
    /// Lines answered from a cache.
    pub(crate) cached: AtomicU64,
    /// Non-blank lines in the input, once counted (`u64::MAX` until then).
    pub(crate) total: Arc<AtomicU64>,
}

impl Counters {
    fn new() -> Self {
        Self {
            total: Arc::new(AtomicU64::new(u64::MAX)),
            ..Self::default()
        }
    }

    /// Calls started and not ended.
    pub(crate) fn in_flight(&self) -> u64 {
        let started = self.started.load(Ordering::Relaxed);
        started.saturating_sub(self.calls_done.load(Ordering::Relaxed))
    }

    /// Lines dealt with: written or skipped.
    fn done(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
            + self.failed.load(Ordering::Relaxed)
            + self.skipped.load(Ordering::Relaxed)
    }

    fn total(&self) -> Option<u64> {
        Some(self.total.load(Ordering::Relaxed)).filter(|&t| t != u64::MAX)
    }
}

enum Mode {
    Quiet,
    Bar(ProgressBar),
    Plain(Duration),
}

struct Inner {
    counters: Counters,
    mode: Mode,
    client: Client,
    started: Instant,
    finished: AtomicBool,
}

/// The progress display; cheap to clone.
#[derive(Clone)]
pub(crate) struct Progress {
    inner: Arc<Inner>,
}

impl Progress {
    /// A bar when stderr is a terminal, plain lines every `every` otherwise, or nothing.
    pub(crate) fn new(quiet: bool, every: Duration, client: Client) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(bar_style(false));
            Mode::Bar(bar)
        } else {
            Mode::Plain(every.max(Duration::from_millis(100)))
        };
        Self {
            inner: Arc::new(Inner {
                counters: Counters::new(),
                mode,
                client,
                started: Instant::now(),
                finished: AtomicBool::new(false),
            }),
        }
    }

    /// Whether anything is shown.
    pub(crate) fn is_quiet(&self) -> bool {
        matches!(self.inner.mode, Mode::Quiet)
    }

    /// The shared counts.
    pub(crate) fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// Prints a message on stderr (above the bar), unless quiet.
    pub(crate) fn note(&self, message: &str) {
        match &self.inner.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => bar.println(format!("blossom batch: {message}")),
            Mode::Plain(_) => eprintln!("blossom batch: {message}"),
        }
    }

    /// Starts refreshing the display; it stops at [`finish`](Self::finish).
    pub(crate) fn start(&self) {
        let every = match &self.inner.mode {
            Mode::Quiet => return,
            Mode::Bar(bar) => {
                bar.enable_steady_tick(Duration::from_millis(120));
                Duration::from_millis(200)
            }
            Mode::Plain(every) => *every,
        };
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                match weak.upgrade() {
                    Some(inner) if !inner.finished.load(Ordering::Relaxed) => inner.refresh(),
                    _ => return,
                }
            }
        });
    }

    /// Removes the bar (the summary follows).
    pub(crate) fn finish(&self) {
        if let Mode::Bar(bar) = &self.inner.mode {
            bar.finish_and_clear();
        }
        self.inner.finished.store(true, Ordering::Relaxed);
    }
}

impl Inner {
    fn refresh(&self) {
        let c = &self.counters;
        let done = c.done();
        let total = c.total();
        let failed = c.failed.load(Ordering::Relaxed);
        let cached = c.cached.load(Ordering::Relaxed);
        let retries = self.client.metrics().retried;
        let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        let rate = done as f64 / elapsed;
        match &self.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => {
                if let Some(total) = total
                    && bar.length() != Some(total)
                {
                    bar.set_length(total);
                    bar.set_style(bar_style(true));
                } else if total.is_none() && bar.length().is_some() {
                    bar.set_style(bar_style(false));
                }
                bar.set_position(done);
                bar.set_message(format!(
                    "{failed} failed, {retries} retries, {cached} cached"
                ));
            }
            Mode::Plain(_) => {
                let of = total.map(|t| format!("/{t}")).unwrap_or_default();
                let eta = match total {
                    #[allow(clippy::cast_precision_loss)]
                    Some(t) if t > done && rate > 0.0 => {
                        format!(", eta {:.0}s", (t - done) as f64 / rate)
                    }
                    _ => String::new(),
                };
                eprintln!(
                    "blossom batch: {done}{of} lines, {failed} failed, {retries} retries, {cached} cached, {rate:.1} lines/s{eta}"
                );
            }
        }
    }
}

fn bar_style(known_length: bool) -> ProgressStyle {
    let template = if known_length {
        "{spinner} {elapsed_precise} [{wide_bar}] {pos}/{len} {rate} ETA {eta} {msg}"
    } else {
        "{spinner} {elapsed_precise} {pos} lines {rate} {msg}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", |state: &ProgressState, out: &mut dyn fmt::Write| {
            let _ignored = write!(out, "{:.1} lines/s", state.per_sec());
        })
        .progress_chars("=> ")
}
