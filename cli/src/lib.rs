//! The `blossom` command: Pollinations.AI from the shell.
//!
//! ```text
//! blossom --emulator chat --stream "Tell me a story"
//! blossom text "Write a haiku about Rust"
//! blossom image "a red apple" -o apple.jpg --width 512 --height 512 --seed 7
//! blossom speak "Hello" -o hello.mp3 --voice nova
//! blossom models --kind image --json
//! blossom batch prompts.jsonl -o results.jsonl --media-dir media --concurrency 16
//! blossom emulator --port 8080 --faults "503=0.1,latency=5..50ms"
//! ```
//!
//! Errors print one line (status, code, message, request id) on stderr and exit non-zero:
//! 1 when a call failed, 2 for usage or configuration errors. `batch` exits 0 when every
//! line succeeded, 1 when some failed, 2 for usage errors and 130 when interrupted.
//!
//! The library holds the whole command so that the binary is one line and the fuzz targets
//! (`fuzz/`) can reach the batch line parser; it is not an API.
#![forbid(unsafe_code)]

mod args;
mod batch;
mod commands;
mod failure;
#[doc(hidden)]
pub mod fuzz;
mod logging;

use std::process::ExitCode;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{CallOptions, Client, Error, RetryPolicy};
use clap::Parser as _;

use args::{Cli, Command};
use failure::Failure;

/// Runs the `blossom` command with the process's arguments; returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completions(args) = &cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(args.shell, &mut command, "blossom", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    logging::init(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("blossom: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let Cli {
        base_url,
        api_key,
        emulator,
        emulator_faults,
        timeout,
        verbose: _,
        command,
    } = cli;
    if let Command::Emulator(args) = command {
        blossom_emulator::run_cli(args).await.map_err(Failure::Io)?;
        return Ok(ExitCode::SUCCESS);
    }
    let timeout = match timeout {
        None => None,
        Some(text) => match batch::parse_duration(&text) {
            Ok(timeout) if !timeout.is_zero() => Some(timeout),
            Ok(_) => return Err(bad_timeout(&text, "it must be positive").into()),
            Err(reason) => return Err(bad_timeout(&text, &reason).into()),
        },
    };
    let options = match timeout {
        None => CallOptions::default(),
        Some(timeout) => CallOptions::default().timeout(timeout),
    };
    // The embedded emulator lives until this function returns.
    let local = if emulator || emulator_faults.is_some() {
        let config = EmulatorConfig::default().faults(emulator_faults.unwrap_or_default());
        Some(Emulator::start(config).await?)
    } else {
        None
    };
    let mut builder = Client::builder();
    match &local {
        Some(server) => {
            builder = builder
                .base_url(server.base_url())
                .api_key(api_key.as_deref().unwrap_or(DEMO_SECRET_KEY));
        }
        None => {
            if let Some(url) = &base_url {
                builder = builder.base_url(url);
            }
            if let Some(key) = &api_key {
                builder = builder.api_key(key);
            }
        }
    }
    let result = match command {
        Command::Batch(args) => batch::run(builder, args, timeout).await,
        command => match command.call_args() {
            Some(call) => {
                if let Some(retries) = call.retries {
                    let mut retry = RetryPolicy::default();
                    retry.max_retries = retries;
                    builder = builder.retry(retry);
                }
                one_call(builder.build()?, options, command)
                    .await
                    .map(|()| ExitCode::SUCCESS)
            }
            None => Ok(ExitCode::SUCCESS),
        },
    };
    if let Some(server) = local {
        server.shutdown().await;
    }
    result
}

async fn one_call(client: Client, options: CallOptions, command: Command) -> Result<(), Failure> {
    match command {
        Command::Text(args) => commands::text(&client, options, args).await,
        Command::Chat(args) => commands::chat(&client, options, args).await,
        Command::Image(args) => commands::image(&client, options, args).await,
        Command::Speak(args) => commands::speak(&client, options, args).await,
        Command::Models(args) => commands::models(&client, options, args).await,
        Command::Emulator(_) | Command::Batch(_) | Command::Completions(_) => Ok(()),
    }
}

fn bad_timeout(text: &str, reason: &str) -> Error {
    Error::invalid_input(
        "timeout",
        format!(
            "--timeout must be a positive duration such as 30s, 500ms or 2m, got {text:?}: {reason}"
        ),
    )
}
