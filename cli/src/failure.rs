//! How the command fails: one clear line on stderr and an exit code, never a panic.

use std::io;
use std::process::ExitCode;

use blossom_tokio::{Error, ErrorKind};

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The SDK's error (invalid input, API error, network, …).
    Sdk(Error),
    /// Writing output failed.
    Io(io::Error),
    /// A call that failed, with what the command adds to the SDK's error.
    Call(String),
    /// A usage or configuration problem found by the command itself (a file that cannot
    /// be opened, an output that would be overwritten).
    Usage(String),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self::Sdk(error)
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

impl Failure {
    /// Prints the one-line message and returns the exit code: 2 for usage and configuration
    /// errors (nothing was attempted), 1 for calls that failed. A closed stdout (`| head`) is
    /// not an error.
    pub(crate) fn report(self) -> ExitCode {
        match self {
            Self::Io(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Self::Io(error) => {
                eprintln!("blossom: {error}");
                ExitCode::from(1)
            }
            Self::Call(message) => {
                eprintln!("blossom: {message}");
                ExitCode::from(1)
            }
            Self::Usage(message) => {
                eprintln!("blossom: {message}");
                ExitCode::from(2)
            }
            Self::Sdk(error) => {
                eprintln!("blossom: {error}");
                match error.kind() {
                    ErrorKind::InvalidInput | ErrorKind::Config => ExitCode::from(2),
                    _ => ExitCode::from(1),
                }
            }
        }
    }
}
