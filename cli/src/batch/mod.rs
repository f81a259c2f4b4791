//! `blossom batch`: run a JSONL file of prompts with bounded concurrency, write one result
//! line per input line as each finishes, survive failures, stop cleanly on Ctrl-C and
//! resume later. See `blossom batch --help` for the formats.
//!
//! The pipeline: a reader thread → a bounded channel → [`job::parse`] (and the duplicate and
//! resume checks) → `buffer_unordered(concurrency)` of calls → the output, line by line.
//! Memory holds at most `concurrency` calls and a few lines, plus one 128-bit key per id.

mod args;
mod exec;
mod ids;
mod input;
mod job;
mod latency;
mod output;
mod params;
mod progress;
mod record;
mod resume;
mod signal;
mod summary;
mod units;

use std::future::ready;
use std::io;
use std::path::Path;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use blossom_tokio::{
    ApiKey, CacheConfig, ClientBuilder, KeyTier, LimiterConfig, RateLimit, RetryPolicy,
};
use futures_util::StreamExt as _;
use futures_util::future::Either;

pub(crate) use args::BatchArgs;

/// Parses one input line (`line` is its number) as a job; `Err` is the input error's code
/// and message. The batch pipeline's own parser, reachable for fuzzing.
pub(crate) fn parse_line(
    line: u64,
    text: &str,
    media_dir: bool,
) -> Result<(), (&'static str, String)> {
    job::parse(line, text, media_dir)
        .map(drop)
        .map_err(|error| (error.code, error.message))
}
pub(crate) use units::parse_duration;

use crate::failure::Failure;
use exec::Runner;
use ids::{DoneIds, Id, SeenIds};
use input::{RawLine, Source};
use job::InputError;
use output::Output;
use progress::Progress;
use record::Record;
use signal::Stop;
use summary::{Extras, Tally};

/// The client cache for a batch: small, since batch lines rarely repeat.
const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Runs a batch with a client from `builder`; `timeout` limits each line. Returns the exit
/// code: 0 all lines succeeded, 1 some failed, 130 interrupted.
///
/// Fails with exit code 2 on unusable files or settings, 1 when the output cannot be written.
pub(crate) async fn run(
    builder: ClientBuilder,
    args: BatchArgs,
    timeout: Option<Duration>,
) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    let source = Source::open(&args.input)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", args.input.display())))?;
    let done = if args.resume {
        resume::done_ids(&args.output)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", args.output.display())))?
    } else {
        DoneIds::default()
    };
    let mode = match (args.resume, args.overwrite) {
        (true, _) => output::Mode::Append,
        (false, true) => output::Mode::Overwrite,
        (false, false) => output::Mode::Create,
    };
    if let Some(dir) = &args.media_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Usage(format!("cannot create {}: {e}", dir.display())))?;
    }
    let client = configure(builder, &args).build()?;
    let mut output = Output::open(&args.output, mode).map_err(Failure::Usage)?;

    let progress = Progress::new(args.quiet, args.progress_every, client.clone());
    if !progress.is_quiet() && args.input != Path::new("-") {
        input::count_lines(&args.input, Arc::clone(&progress.counters().total));
    }
    let stop = Stop::new();
    signal::listen(stop.clone(), args.grace, progress.clone())?;
    if args.rate.is_none()
        && client.config().api_key.as_ref().map(ApiKey::tier) == Some(KeyTier::Publishable)
    {
        progress.note(
            "notice: a publishable (pk_) key is paced to 1 generation per second by default \
             (the service's limit); pass --rate to change the pace",
        );
    }
    progress.start();

    let concurrency = usize::try_from(args.concurrency).unwrap_or(1);
    let runner = Arc::new(Runner {
        client: client.clone(),
        media_dir: args.media_dir.clone(),
        timeout,
        breaker_waits: args.retries.max(1),
    });
    let counters = progress.counters();
    let mut seen = SeenIds::default();
    let mut read_error: Option<io::Error> = None;
    let mut tally = Tally::default();
    let mut write_error: Option<io::Error> = None;
    let mut fail_fast_hit = false;
    {
        let media = args.media_dir.is_some();
        let tasks = input::lines(input::spawn(source, concurrency.min(1024)), stop.clone())
            .filter_map(|line| {
                let task = match line {
                    Ok(line) => classify(line, media, &mut seen, &done, &progress),
                    Err(error) => {
                        read_error = Some(error);
                        stop.drain();
                        None
                    }
                };
                ready(task.map(|task| match task {
                    Task::Now(record) => Either::Left(ready(record)),
                    Task::Call(job) => Either::Right(Arc::clone(&runner).run(*job)),
                }))
            })
            .buffer_unordered(concurrency);
        let mut tasks = pin!(tasks);
        let mut aborted = pin!(stop.aborted());
        loop {
            let next = tokio::select! {
                biased;
                () = &mut aborted => break,
                next = tasks.next() => next,
            };
            let Some(record) = next else { break };
            count(&record, counters, &mut tally);
            if let Err(error) = output.write(&record) {
                write_error = Some(error);
                stop.abort();
                break;
            }
            if args.fail_fast && record.is_call_failure() && stop.drain() {
                fail_fast_hit = true;
                progress.note("--fail-fast: a call failed; taking no new lines, finishing the calls in flight");
            }
        }
        // Dropping the pipeline cancels the calls still in flight: they get no line.
    }
    // The id sets are the only memory that grows with the input; compaction needs its own.
    drop(seen);
    drop(done);
    progress.finish();
    let cancelled = counters.in_flight();
    let flushed = output.finish();
    let mut write_error = write_error.or(flushed.err());
    let mut compacted = None;
    if args.resume && write_error.is_none() {
        match resume::compact(&args.output) {
            Ok(report) => compacted = Some(report),
            Err(error) => write_error = Some(error),
        }
    }

    let interrupted = stop.interrupted();
    if !args.quiet {
        let stopped = if interrupted {
            Some("interrupted".to_owned())
        } else if let Some(error) = &write_error {
            Some(format!("cannot write {}: {error}", args.output.display()))
        } else if let Some(error) = &read_error {
            Some(format!("cannot read {}: {error}", args.input.display()))
        } else if fail_fast_hit {
            Some("--fail-fast".to_owned())
        } else {
            None
        };
        let extras = Extras {
            skipped: counters.skipped.load(Ordering::Relaxed),
            cancelled,
            retries: client.metrics().retried,
            wall: started.elapsed(),
            compacted,
            stopped,
        };
        eprint!("{}", summary::render(&tally, &extras));
    }
    if let Some(error) = write_error {
        return Err(Failure::Io(error));
    }
    Ok(if interrupted {
        ExitCode::from(130)
    } else if tally.failed_total() > 0 || read_error.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The client for a batch: the job's retries with no retry budget (concurrency already
/// bounds the load, so retries cannot pile up), a pool as large as the concurrency, the
/// requested pace, and a small cache.
fn configure(builder: ClientBuilder, args: &BatchArgs) -> ClientBuilder {
    let concurrency = usize::try_from(args.concurrency).unwrap_or(1);
    let mut retry = RetryPolicy::default();
    retry.max_retries = args.retries;
    let mut cache = CacheConfig::default();
    cache.max_bytes = CACHE_BYTES;
    let mut builder = builder
        .retry(retry)
        .retry_budget(None)
        .max_connections(concurrency)
        .max_concurrent(concurrency)
        .cache(cache);
    if let Some(rate) = args.rate {
        let limit = RateLimit::per_second(rate.per_second, rate.burst());
        builder = builder.rate_limits(LimiterConfig::unlimited().generation(Some(limit)));
    }
    builder
}

/// What to do with one input line.
enum Task {
    /// Its line is known now (an input error).
    Now(Record),
    /// Call the service.
    Call(Box<job::Job>),
}

/// Parses a line and checks its id: duplicates are errors, ids done in an earlier run are
/// skipped (`None`).
fn classify(
    line: RawLine,
    media: bool,
    seen: &mut SeenIds,
    done: &DoneIds,
    progress: &Progress,
) -> Option<Task> {
    let number = line.number;
    let parsed = match line.text {
        Ok(text) => job::parse(number, &text, media),
        Err(problem) => Err(InputError::new(
            Id::line(number),
            number,
            "invalid_line",
            problem,
        )),
    };
    let id = match &parsed {
        Ok(job) => &job.id,
        Err(error) => &error.id,
    };
    let key = id.key();
    if !seen.insert(key) {
        let message = format!(
            "duplicate id {:?}: ids must be unique (the first line with it is the one run)",
            id.text
        );
        let error = InputError::new(id.clone(), number, "duplicate_id", message);
        return Some(Task::Now(Record::input_error(error)));
    }
    if done.contains(key) {
        progress.counters().skipped.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    Some(match parsed {
        Ok(job) => {
            progress.counters().started.fetch_add(1, Ordering::Relaxed);
            Task::Call(Box::new(job))
        }
        Err(error) => Task::Now(Record::input_error(error)),
    })
}

/// Counts a finished line in the progress counters and the tally.
fn count(record: &Record, counters: &progress::Counters, tally: &mut Tally) {
    tally.add(record);
    if record.is_ok() {
        counters.ok.fetch_add(1, Ordering::Relaxed);
    } else {
        counters.failed.fetch_add(1, Ordering::Relaxed);
    }
    if let record::Outcome::Ok(success) = &record.outcome
        && success.cached
    {
        counters.cached.fetch_add(1, Ordering::Relaxed);
    }
    let called = match &record.outcome {
        record::Outcome::Ok(_) => true,
        record::Outcome::Failed(failed) => failed.latency.is_some(),
    };
    if called {
        counters.calls_done.fetch_add(1, Ordering::Relaxed);
    }
}
