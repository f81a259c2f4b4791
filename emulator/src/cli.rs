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
//! let cli = Cli::parse_from([
//!     "blossom", "--port", "0", "--seed", "7",
//!     "--faults", "503=0.1,latency=5ms", "--concurrency-limit", "1",
//! ]);
//! let config = cli.emulator.config();
//! assert_eq!(config.seed, 7);
//! assert_eq!(config.faults.to_string(), "503=0.1,latency=5ms");
//! assert_eq!(config.concurrency_limit, Some(1));
//! assert_eq!(cli.emulator.addr().port(), 0);
//! ```

use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::config::EmulatorConfig;
use crate::faults::FaultSpec;
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
    /// Faults to inject at random, seeded by --seed, e.g.
    /// "503=0.1,429=0.05,reset=0.02,latency=20..200ms" (see the crate docs for every
    /// token). Requests can also force faults with the X-Emulator-Fault header.
    #[arg(long, value_name = "SPEC", default_value_t = FaultSpec::none(), hide_default_value = true)]
    pub faults: FaultSpec,
    /// Answer 429 concurrency_limit_exceeded to a key with N generations in progress.
    #[arg(long, value_name = "N")]
    pub concurrency_limit: Option<u32>,
}

impl EmulatorArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> EmulatorConfig {
        let config = EmulatorConfig::default()
            .seed(self.seed)
            .stream_chunk_delay(Duration::from_millis(self.stream_chunk_delay_ms))
            .legacy_image_models(self.legacy_image_models)
            .faults(self.faults.clone())
            .concurrency_limit(self.concurrency_limit);
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
/// The signal handlers are installed before the address is printed, so a supervisor that
/// signals as soon as it reads the line never kills the process instead of stopping it.
///
/// Fails when the address cannot be bound or the signal handler cannot be installed.
pub async fn run_cli(args: EmulatorArgs) -> io::Result<()> {
    let signal = shutdown_signal()?;
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
    let watcher = tokio::spawn(async move {
        signal.await;
        stop.stop();
    });
    emulator.wait().await;
    watcher.abort();
    Ok(())
}

/// Installs the Ctrl-C handler (and SIGTERM on Unix) now; the future resolves when one
/// of them arrives.
///
/// Fails when a handler cannot be installed.
#[cfg(unix)]
fn shutdown_signal() -> io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Installs the Ctrl-C handler now; the future resolves when it arrives.
///
/// Fails when the handler cannot be installed.
#[cfg(windows)]
fn shutdown_signal() -> io::Result<impl Future<Output = ()> + Send + 'static> {
    let mut ctrl_c = tokio::signal::windows::ctrl_c()?;
    Ok(async move {
        ctrl_c.recv().await;
    })
}
