//! # blossom-load
//!
//! The load benchmark of the Blossom SDK: what each client costs in CPU per call, beside the
//! raw transports under it, with the server on another core so that it is the client that is
//! measured.
//!
//! ```text
//! blossom-load [all] [--reps 3] [--quick] [--json target/load.json] [--only chat16,stream16] [--paths tokio,raw-hyper-util]
//! blossom-load serve [--port P] [--chunks 200]
//! blossom-load run --base-url URL --path PATH --scenario SCENARIO [--calls N]
//! ```
//!
//! - `serve` is a tiny fixed-answer HTTP/1.1 server on one thread; it prints its address
//!   (`http://127.0.0.1:PORT`) as its only line and serves until killed or until its stdin
//!   ends.
//! - `run` measures one workload in this process and prints one JSON line: calls, wall time,
//!   user and system CPU over the measured window (`getrusage`, every thread of the process),
//!   CPU per call (and per chunk for streams), throughput, p50/p99 latency, peak RSS.
//! - with no mode (or `all`), it starts `serve` pinned to CPU 1 and runs every path of every
//!   scenario as a fresh `run` child pinned to CPU 0, repetitions alternating the order of
//!   paths, and prints the medians as one table per scenario.
//!
//! **What it does not do:** time the server, or talk to anything but loopback. Every call
//! must succeed; failures are counted and printed on stderr.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod measure;
mod orchestrate;
mod paths;
mod report;
mod scenarios;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

use crate::measure::{Sample, Usage};
use crate::paths::PathName;
use crate::scenarios::{Kind, Scenario, applies};

/// Command line of `blossom-load`.
#[derive(Debug, Parser)]
#[command(
    name = "blossom-load",
    about = "Load benchmark of the Blossom SDK: client CPU per call against a fixed-answer server on another core",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    #[command(flatten)]
    all: AllArgs,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Serve fixed answers until killed or until stdin ends.
    Serve(ServeArgs),
    /// Run one measured workload and print one JSON line.
    Run(RunArgs),
    /// Run every scenario through every path and report (the default).
    All(AllArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The port to listen on (0: any free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Chat chunks per stream.
    #[arg(long, default_value_t = 200)]
    chunks: usize,
    /// Keep serving when stdin ends (for a server started without a pipe on stdin).
    #[arg(long)]
    ignore_stdin: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The server's base URL.
    #[arg(long)]
    base_url: String,
    /// The path: tokio, raw-hyper-tokio, tokio-isahc, raw-isahc-tokio, smol, raw-isahc-smol, blocking,
    /// raw-isahc-blocking, raw-hyper-util.
    #[arg(long)]
    path: String,
    /// The scenario: chat1, chat16, chat64, image16, stream16, slow100, slow1000, cachehit.
    #[arg(long)]
    scenario: String,
    /// Measured calls (default: the scenario's).
    #[arg(long)]
    calls: Option<usize>,
}

#[derive(Debug, Args)]
struct AllArgs {
    /// Repetitions of each measurement (medians are reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Fewer calls per measurement, so that everything finishes in about a minute.
    #[arg(long)]
    quick: bool,
    /// Where all medians and samples are written as JSON.
    #[arg(long, default_value = "target/load.json")]
    json: PathBuf,
    /// Only these scenarios (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Only these paths (comma-separated).
    #[arg(long, value_delimiter = ',')]
    paths: Vec<String>,
}

/// How long a `run` may take before it gives up (a stuck call must not hang the report).
const RUN_WATCHDOG: Duration = Duration::from_secs(600);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.mode {
        Some(Mode::Serve(args)) => server::serve(server::ServeOptions {
            port: args.port,
            chunks: args.chunks,
            ignore_stdin: args.ignore_stdin,
        })
        .map_err(|e| format!("serve: {e}")),
        Some(Mode::Run(args)) => run(&args),
        Some(Mode::All(args)) => all(args),
        None => all(cli.all),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("blossom-load: {error}");
            ExitCode::FAILURE
        }
    }
}

fn all(args: AllArgs) -> Result<(), String> {
    orchestrate::run_all(&orchestrate::AllOptions {
        reps: args.reps,
        quick: args.quick,
        json: args.json,
        only: args.only,
        paths: args.paths,
    })
}

/// `blossom-load run`: set up, warm up, measure, print one JSON line.
fn run(args: &RunArgs) -> Result<(), String> {
    let scenario = Scenario::find(&args.scenario)
        .ok_or_else(|| format!("unknown scenario {:?}", args.scenario))?;
    let path =
        PathName::parse(&args.path).ok_or_else(|| format!("unknown path {:?}", args.path))?;
    if !applies(path, &scenario) {
        return Err(format!(
            "{} does not run {}: raw transports have no cache",
            path.name(),
            scenario.name
        ));
    }
    std::thread::spawn(|| {
        std::thread::sleep(RUN_WATCHDOG);
        eprintln!("blossom-load run: still running after {RUN_WATCHDOG:?}; giving up");
        std::process::exit(2);
    });
    let calls = args.calls.unwrap_or(scenario.calls).max(1);
    let runner = paths::build(path, &args.base_url, scenario)?;
    // Warm-up: its calls have indices past the measured ones, so no prompt repeats.
    // `cachehit` first makes its one request alone, so that the warm-up's calls are already
    // answered from the cache (rather than joining that first call in flight).
    // That first call is a miss by design, so its outcome is not checked (a broken server
    // fails the calls after it anyway).
    if scenario.kind == Kind::CacheHit {
        let _first = runner.run(calls, 1, 1);
    }
    let warmup = runner.run(
        calls,
        scenario.warmup_calls(calls),
        scenario.warmup_concurrency(),
    );
    report_failures(path, &scenario, "warm-up", &warmup);

    let before = Usage::now();
    let started = Instant::now();
    let outcomes = runner.run(0, calls, scenario.concurrency);
    let wall = started.elapsed();
    let after = Usage::now();

    report_failures(path, &scenario, "measured", &outcomes);
    let failed = outcomes.failed + warmup.failed;
    let sample = Sample::new(
        (path.name(), scenario.name),
        (calls, scenario.concurrency, scenario.kind == Kind::Stream),
        (before, after, wall),
        outcomes,
    );
    let line = serde_json::to_string(&sample).map_err(|e| e.to_string())?;
    println!("{line}");
    drop(runner);
    if failed > 0 {
        return Err(format!("{failed} calls failed"));
    }
    Ok(())
}

fn report_failures(path: PathName, scenario: &Scenario, phase: &str, outcomes: &measure::Outcomes) {
    if outcomes.failed > 0 {
        eprintln!(
            "blossom-load run: {} / {}: {} {phase} calls failed; first errors:",
            path.name(),
            scenario.name,
            outcomes.failed
        );
        for error in &outcomes.errors {
            eprintln!("  {error}");
        }
    }
}
