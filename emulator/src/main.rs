//! `blossom-emulator`: a local Pollinations.AI server for tests and rehearsals.
//!
//! ```text
//! blossom-emulator [--host 127.0.0.1] [--port 8080] [--seed N] [--stream-chunk-delay-ms N]
//!                  [--legacy-image-models] [--no-pk-rate-limit]
//!                  [--faults SPEC] [--concurrency-limit N]
//! ```
//!
//! For example `--faults "503=0.1,reset=0.02,latency=20..200ms" --seed 7`.
//!
//! Prints `blossom-emulator listening on http://HOST:PORT`, serves until Ctrl-C, then
//! stops gracefully. See the `blossom_emulator` library for what it answers.

use std::process::ExitCode;

use blossom_emulator::{EmulatorArgs, run_cli};
use clap::Parser;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "blossom-emulator",
    version,
    about = "A local Pollinations.AI emulator"
)]
struct Cli {
    #[command(flatten)]
    emulator: EmulatorArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run_cli(cli.emulator).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("blossom-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}
