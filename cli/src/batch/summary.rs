//! The tally of a run and the table printed at its end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::latency::Histogram;
use super::record::{Outcome, Record, millis};

/// What the run did, line by line.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Lines that succeeded.
    pub(crate) succeeded: u64,
    /// Failed lines by error kind.
    pub(crate) failed: BTreeMap<String, u64>,
    /// Lines answered from a cache.
    pub(crate) cached: u64,
    /// Latency of every call made (succeeded or failed).
    latency: Histogram,
}

impl Tally {
    /// Counts one written line.
    pub(crate) fn add(&mut self, record: &Record) {
        match &record.outcome {
            Outcome::Ok(success) => {
                self.succeeded += 1;
                self.cached += u64::from(success.cached);
                self.latency.record(millis(success.latency));
            }
            Outcome::Failed(failed) => {
                *self.failed.entry(failed.error.kind.clone()).or_default() += 1;
                if let Some(latency) = failed.latency {
                    self.latency.record(millis(latency));
                }
            }
        }
    }

    /// Failed lines, all kinds.
    pub(crate) fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }
}

/// Everything the summary shows besides the tally.
#[derive(Debug)]
pub(crate) struct Extras {
    /// Lines skipped by `--resume`.
    pub(crate) skipped: u64,
    /// Calls abandoned at an interrupt (no line written: `--resume` runs them).
    pub(crate) cancelled: u64,
    /// Retries the client made.
    pub(crate) retries: u64,
    /// From start to end.
    pub(crate) wall: Duration,
    /// What `--resume` compaction did.
    pub(crate) compacted: Option<super::resume::Compaction>,
    /// Why the run stopped early, if it did.
    pub(crate) stopped: Option<String>,
}

/// The summary table.
pub(crate) fn render(tally: &Tally, extras: &Extras) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |name: &str, value: String| rows.push((name.to_owned(), value));
    row("succeeded", tally.succeeded.to_string());
    row("failed", tally.failed_total().to_string());
    for (kind, count) in &tally.failed {
        row(&format!("  {kind}"), count.to_string());
    }
    if extras.skipped > 0 {
        row("skipped", format!("{} (already done)", extras.skipped));
    }
    if extras.cancelled > 0 {
        row(
            "cancelled",
            format!("{} (in flight; run again with --resume)", extras.cancelled),
        );
    }
    row("retries", extras.retries.to_string());
    row("cache hits", tally.cached.to_string());
    let ms = |q| {
        tally
            .latency
            .quantile(q)
            .map_or("-".to_owned(), |v| format!("{v} ms"))
    };
    row("latency p50", ms(0.5));
    row("latency p99", ms(0.99));
    let secs = extras.wall.as_secs_f64();
    row("wall time", format!("{secs:.1} s"));
    let lines = tally.succeeded + tally.failed_total();
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let rate = lines as f64 / secs.max(0.001);
    row("throughput", format!("{rate:.1} lines/s"));

    if let Some(c) = extras.compacted {
        row(
            "output",
            format!("{} lines, one per id ({} older dropped)", c.kept, c.dropped),
        );
    }
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut out = match &extras.stopped {
        Some(reason) => format!("blossom batch: stopped early ({reason})\n"),
        None => "blossom batch: done\n".to_owned(),
    };
    for (name, value) in rows {
        let _infallible = writeln!(out, "  {name:width$}  {value}");
    }
    out
}
