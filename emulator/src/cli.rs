//! The command line: flags shared by the `blossom-emulator` binary and `blossom emulator`.
//!
//! ```
//! use clap::Parser;
//! use blossom_emulator::EmulatorArgs;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     emulator: EmulatorArgs,
//! }
//!
//! let cli = Cli::parse_from(["blossom", "--port", "0", "--seed", "7"]);
//! assert_eq!(cli.emulator.config().seed, 7);
//! assert_eq!(cli.emulator.addr().port(), 0);
//! ```

use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::config::EmulatorConfig;
use crate::server::Emulator;

/// Flags of the emulator command (`clap::Args`, so another CLI can flatten them in).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Seed mixed into every deterministic answer.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Pause between server-sent events of a stream, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub stream_chunk_delay_ms: u64,
    /// Answer `GET /image/models` with the old plain list of names.
    #[arg(long)]
    pub legacy_image_models: bool,
    /// Do not rate-limit publishable (`pk_`) keys.
    #[arg(long)]
    pub no_pk_rate_limit: bool,
}

impl EmulatorArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> EmulatorConfig {
        let config = EmulatorConfig::default()
            .seed(self.seed)
            .stream_chunk_delay(Duration::from_millis(self.stream_chunk_delay_ms))
            .legacy_image_models(self.legacy_image_models);
        if self.no_pk_rate_limit {
            config.pk_rate_limit(None)
        } else {
            config
        }
    }

    /// The address to bind.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }
}

/// Runs the emulator as a command: binds, prints
/// `blossom-emulator listening on http://HOST:PORT` on stdout, serves until Ctrl-C (or
/// SIGTERM on Unix), then stops gracefully.
///
/// Fails when the address cannot be bound or the signal handler cannot be installed.
pub async fn run_cli(args: EmulatorArgs) -> io::Result<()> {
    let emulator = Emulator::bind(args.config(), args.addr()).await?;
    let mut stdout = io::stdout().lock();
    writeln!(
        stdout,
        "blossom-emulator listening on {}",
        emulator.base_url()
    )?;
    stdout.flush()?;
    drop(stdout);
    let stop = emulator.stop_handle();
    let signal = tokio::spawn(async move {
        let result = shutdown_signal().await;
        stop.stop();
        result
    });
    emulator.wait().await;
    signal.await.map_err(io::Error::other)?
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() -> io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
