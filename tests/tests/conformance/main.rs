//! The conformance suite: one set of scenarios, written once, run against the tokio, smol and
//! blocking clients, each against a real emulator on loopback (or, for exact bytes on the
//! wire, a scripted loopback server). Each scenario returns what it observed; the suite checks
//! the scenario's claims for every adapter and that all three observed the same thing.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;
mod scenarios;
mod streams;

use blossom_emulator::{Emulator, EmulatorConfig};
use blossom_tests::loopback::{Script, Server};
use harness::{ALL, Harness, Kind, Settings};

/// Runs `scenario` once per adapter, each with a fresh emulator and client, and asserts the
/// observations are equal.
fn conform<T>(
    config: impl Fn() -> EmulatorConfig,
    settings: Settings,
    scenario: impl Fn(&dyn Harness, &Emulator) -> T,
) where
    T: PartialEq + std::fmt::Debug,
{
    let mut seen: Vec<(Kind, T)> = Vec::new();
    for kind in ALL {
        eprintln!("--- adapter: {kind:?}");
        let emulator = Emulator::spawn(config()).unwrap();
        let harness = harness::make(kind, emulator.base_url(), &settings);
        let observed = scenario(harness.as_ref(), &emulator);
        drop(harness);
        emulator.stop();
        seen.push((kind, observed));
    }
    assert_same(&seen);
}

/// Runs `scenario` once per adapter, each with a fresh scripted loopback server playing
/// `scripts()` and a fresh client, and asserts the observations are equal.
fn conform_loopback<T>(
    scripts: impl Fn() -> Vec<Script>,
    settings: Settings,
    scenario: impl Fn(&dyn Harness, &Server) -> T,
) where
    T: PartialEq + std::fmt::Debug,
{
    let mut seen: Vec<(Kind, T)> = Vec::new();
    for kind in ALL {
        eprintln!("--- adapter: {kind:?}");
        let server = Server::start(scripts()).unwrap();
        let harness = harness::make(kind, &server.base_url(), &settings);
        let observed = scenario(harness.as_ref(), &server);
        drop(harness);
        drop(server);
        seen.push((kind, observed));
    }
    assert_same(&seen);
}

/// Asserts every adapter observed what the first did.
fn assert_same<T: PartialEq + std::fmt::Debug>(seen: &[(Kind, T)]) {
    let (first_kind, first) = &seen[0];
    for (kind, observed) in &seen[1..] {
        assert_eq!(
            observed, first,
            "{kind:?} observed something else than {first_kind:?}"
        );
    }
}
