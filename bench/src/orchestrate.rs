//! `blossom-load` (or `blossom-load all`): starts the server pinned to CPU 1, runs every
//! measurement as a fresh child process pinned to CPU 0 (so peak RSS belongs to one path),
//! alternating the order of paths between repetitions, and reports medians.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::json;

use crate::measure::Sample;
use crate::paths::PathName;
use crate::report::{self, ScenarioResults};
use crate::scenarios::{SCENARIOS, Scenario, applies};

/// Options of the orchestrator.
#[derive(Debug, Clone)]
pub(crate) struct AllOptions {
    /// Repetitions of each measurement.
    pub(crate) reps: usize,
    /// Fewer calls per measurement.
    pub(crate) quick: bool,
    /// Where the JSON goes.
    pub(crate) json: PathBuf,
    /// Scenarios to run (all when empty).
    pub(crate) only: Vec<String>,
    /// Paths to run (all when empty).
    pub(crate) paths: Vec<String>,
}

/// How children are pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pinning {
    /// `taskset -c 1` for the server, `taskset -c 0` for the clients.
    Split,
    /// No pinning (no taskset, or one CPU).
    None,
}

impl Pinning {
    fn detect() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let taskset = Command::new("taskset")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if cpus >= 2 && taskset {
            Self::Split
        } else {
            eprintln!(
                "warning: not pinning ({}); server and clients share the CPUs, so CPU per call \
                 includes interference",
                if taskset {
                    "one CPU"
                } else {
                    "taskset is missing"
                }
            );
            Self::None
        }
    }

    /// A command running `exe` on `cpu` (when pinning).
    fn command(self, exe: &Path, cpu: u32) -> Command {
        match self {
            Self::Split => {
                let mut command = Command::new("taskset");
                command.arg("-c").arg(cpu.to_string()).arg(exe);
                command
            }
            Self::None => Command::new(exe),
        }
    }
}

/// The server child: killed (and its stdin closed) when dropped.
struct Server {
    child: Child,
    _stdin: ChildStdin,
    url: String,
}

impl Server {
    fn start(exe: &Path, pinning: Pinning) -> Result<Self, String> {
        let mut child = pinning
            .command(exe, 1)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let stdin = child.stdin.take().ok_or("the server has no stdin")?;
        let stdout = child.stdout.take().ok_or("the server has no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the server's address: {e}"))?;
        let url = line.trim().to_owned();
        if !url.starts_with("http://") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the server printed {url:?} instead of its address"));
        }
        Ok(Self {
            child,
            _stdin: stdin,
            url,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one measurement in a fresh child process and parses its JSON line.
fn measure_once(
    exe: &Path,
    pinning: Pinning,
    url: &str,
    path: PathName,
    scenario: &Scenario,
    calls: usize,
) -> Result<Sample, String> {
    let output = pinning
        .command(exe, 0)
        .args(["run", "--base-url", url, "--path", path.name()])
        .args(["--scenario", scenario.name, "--calls", &calls.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.name()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{'));
    let sample: Sample = line
        .ok_or_else(|| format!("{} printed no result ({})", path.name(), output.status))
        .and_then(|l| serde_json::from_str(l).map_err(|e| e.to_string()))?;
    if !output.status.success() {
        eprintln!(
            "warning: {} / {}: {} of {} calls succeeded ({})",
            path.name(),
            scenario.name,
            sample.ok,
            sample.calls,
            output.status
        );
    }
    Ok(sample)
}

fn selected<T: Copy>(all: &[T], names: &[String], name: impl Fn(T) -> &'static str) -> Vec<T> {
    all.iter()
        .copied()
        .filter(|item| names.is_empty() || names.iter().any(|n| n == name(*item)))
        .collect()
}

/// A one-line description of the machine: CPUs, CPU model, load average.
fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown", |(_, m)| m.trim())
        .to_owned();
    json!({
        "cpus": std::thread::available_parallelism().map_or(1, usize::from),
        "cpu_model": model,
        "loadavg": load_average(),
    })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Runs everything `options` selects and reports it.
///
/// # Errors
/// When the server cannot be started, a measurement cannot be run, or the JSON cannot be
/// written.
pub(crate) fn run_all(options: &AllOptions) -> Result<(), String> {
    for name in &options.only {
        Scenario::find(name).ok_or_else(|| format!("unknown scenario {name:?}"))?;
    }
    for name in &options.paths {
        PathName::parse(name).ok_or_else(|| format!("unknown path {name:?}"))?;
    }
    let scenarios = selected(SCENARIOS, &options.only, |s| s.name);
    let paths = selected(&PathName::ALL, &options.paths, PathName::name);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let pinning = Pinning::detect();
    let server = Server::start(&exe, pinning)?;
    let machine = machine();
    let defaults = blossom_core::ClientConfig::new();
    let max_concurrent = blossom_core::policy::SchedulerConfig::default().max_concurrent;
    println!(
        "blossom-load: server {} {}; {} CPUs ({}), load average {}",
        server.url,
        match pinning {
            Pinning::Split => "on CPU 1, each client run on CPU 0",
            Pinning::None => "unpinned",
        },
        machine["cpus"],
        machine["cpu_model"].as_str().unwrap_or_default(),
        machine["loadavg"].as_str().unwrap_or_default(),
    );
    println!(
        "SDK defaults as users get them: max_concurrent {max_concurrent} calls at once, \
         max_connections {} idle connections kept; tokio paths on a multi-thread runtime \
         with 1 worker; {} repetitions, path order alternating",
        defaults.max_connections, options.reps
    );
    let mut all = Vec::new();
    let mut failures = 0;
    for scenario in &scenarios {
        let calls = if options.quick {
            scenario.quick_calls
        } else {
            scenario.calls
        };
        let mut order: Vec<PathName> = paths
            .iter()
            .copied()
            .filter(|p| applies(*p, scenario))
            .collect();
        let mut results = ScenarioResults::default();
        for rep in 0..options.reps.max(1) {
            for path in &order {
                eprintln!("  {} / {} / rep {}", scenario.name, path.name(), rep + 1);
                match measure_once(&exe, pinning, &server.url, *path, scenario, calls) {
                    Ok(sample) => {
                        if sample.ok < sample.calls {
                            failures += 1;
                        }
                        results.push(*path, sample);
                    }
                    Err(error) => {
                        eprintln!("error: {error}");
                        failures += 1;
                    }
                }
            }
            order.reverse();
        }
        print!("{}", report::table(scenario, &results));
        all.push((*scenario, results));
    }
    let header = json!({
        "unix_time": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        "machine": machine,
        "loadavg_end": load_average(),
        "pinning": match pinning {
            Pinning::Split => "server on CPU 1, clients on CPU 0",
            Pinning::None => "none",
        },
        "reps": options.reps,
        "quick": options.quick,
        "sdk_defaults": {"max_concurrent": max_concurrent, "max_connections": defaults.max_connections},
        "tokio_runtime": "multi_thread, 1 worker",
    });
    let json = report::to_json(header, &all);
    if let Some(parent) = options.json.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    std::fs::write(&options.json, text)
        .map_err(|e| format!("cannot write {}: {e}", options.json.display()))?;
    println!(
        "\nload average at the end: {}; all medians and samples in {}",
        load_average(),
        options.json.display()
    );
    drop(server);
    if failures > 0 {
        return Err(format!(
            "{failures} measurements had failed calls or no result"
        ));
    }
    Ok(())
}
