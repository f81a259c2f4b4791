//! The `blossom` command: Pollinations.AI from the shell.
//!
//! ```text
//! blossom --emulator chat --stream "Tell me a story"
//! blossom text "Write a haiku about Rust"
//! blossom image "a red apple" -o apple.jpg --width 512 --height 512 --seed 7
//! blossom speak "Hello" -o hello.mp3 --voice nova
//! blossom models --kind image --json
//! blossom emulator --port 8080
//! ```
//!
//! Errors print one line (status, code, message, request id) on stderr and exit non-zero:
//! 1 when a call failed, 2 for usage or configuration errors.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod failure;

use std::process::ExitCode;
use std::time::Duration;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{CallOptions, Client, Error};
use clap::Parser as _;

use args::{Cli, Command};
use failure::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let Cli {
        base_url,
        api_key,
        emulator,
        timeout,
        command,
    } = cli;
    if let Command::Emulator(args) = command {
        return blossom_emulator::run_cli(args).await.map_err(Failure::Io);
    }
    let options = match timeout {
        None => CallOptions::default(),
        Some(seconds) => match Duration::try_from_secs_f64(seconds) {
            Ok(timeout) if !timeout.is_zero() => CallOptions::default().timeout(timeout),
            _ => {
                return Err(Error::invalid_input(
                    "timeout",
                    format!("--timeout must be a positive number of seconds, got {seconds}"),
                )
                .into());
            }
        },
    };
    // The embedded emulator lives until this function returns.
    let local = if emulator {
        Some(Emulator::start(EmulatorConfig::default()).await?)
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
    let client = builder.build()?;
    let result = match command {
        Command::Text(args) => commands::text(&client, options, args).await,
        Command::Chat(args) => commands::chat(&client, options, args).await,
        Command::Image(args) => commands::image(&client, options, args).await,
        Command::Speak(args) => commands::speak(&client, options, args).await,
        Command::Models(args) => commands::models(&client, options, args).await,
        Command::Emulator(_) => Ok(()),
    };
    if let Some(server) = local {
        server.shutdown().await;
    }
    result
}
