//! `-v`/`-vv` and `RUST_LOG`: the SDK's tracing output on stderr.
//!
//! Without either, only errors the SDK logs are shown (the CLI says what matters in its own
//! words). `-v` shows each call's steps (`debug` of the Blossom crates: attempts, retry
//! decisions, pacing, cache hits); `-vv` adds every stream chunk (`trace`) and the HTTP
//! layer's `debug`. `RUST_LOG`, when set, replaces these levels with its own directives.

use tracing_subscriber::EnvFilter;

/// The crates whose events `-v` shows.
const SDK_CRATES: [&str; 5] = [
    "blossom_core",
    "blossom_client",
    "blossom_tokio",
    "blossom_hyper",
    "blossom_cli",
];

/// Installs the subscriber for `verbose` (the count of `-v`).
pub(crate) fn init(verbose: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
        _ => EnvFilter::new(directives(verbose)),
    };
    // A second subscriber cannot be installed; the first one stays (only possible in tests).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// The filter directives for a count of `-v`.
fn directives(verbose: u8) -> String {
    let (others, sdk) = match verbose {
        0 => return "error".to_owned(),
        1 => ("warn", "debug"),
        _ => ("debug", "trace"),
    };
    let mut directives = others.to_owned();
    for krate in SDK_CRATES {
        directives.push_str(&format!(",{krate}={sdk}"));
    }
    directives
}

#[cfg(test)]
mod tests {
    use super::directives;

    #[test]
    fn each_level_names_the_sdk_crates() {
        assert_eq!(directives(0), "error");
        assert!(directives(1).starts_with("warn,blossom_core=debug,"));
        assert!(directives(2).starts_with("debug,blossom_core=trace,"));
        assert_eq!(directives(7), directives(2));
    }
}
