//! Peak memory of one hostile case, in a process of its own.
//!
//! The peak resident set size (`VmHWM` in `/proc/self/status`) belongs to a whole process and
//! only ever grows, and the test harness runs tests on parallel threads. Measured in the
//! test process, a case's peak would mix with its neighbours' and be hidden by any earlier,
//! larger one. So each case runs in a child process of this same test binary (one adapter per
//! child, one child at a time per case), started with `--exact memory::child` and the case in
//! an environment variable: nothing else runs in it. Inside the child, after the server and
//! client are up and one small call has warmed the client (threads, pools, libcurl), the
//! peak is reset to the current RSS (`5` written to `/proc/self/clear_refs`, Linux ≥ 4.0;
//! when that is refused, the baseline is the peak so far, which only makes the figure
//! larger); the growth of `VmHWM` across the hostile call is the case's figure.
//!
//! The child prints one `HOSTILE …` line with its figures and asserts its own claims; the
//! parent relays the line and fails with the child's output when the child fails.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::clients::{ALL, Adapter};

/// The environment variable that turns `memory::child` into a case run: `case:adapter`.
const CASE_VAR: &str = "BLOSSOM_HOSTILE_CASE";

/// A child that outlives this is killed and its case fails.
const CHILD_LIMIT: Duration = Duration::from_secs(120);

/// One `VmHWM`/`VmRSS` figure from `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// What a hostile call cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Measured {
    /// The peak before the call (after the reset: the RSS then).
    pub before_kib: u64,
    /// The peak after the call.
    pub after_kib: u64,
    /// Whether the peak could be reset before the call.
    pub reset: bool,
    pub took: Duration,
}

impl Measured {
    pub(crate) fn growth_kib(&self) -> u64 {
        self.after_kib.saturating_sub(self.before_kib)
    }
}

/// Runs `call`, measuring the growth of the process's peak RSS and the time it took.
pub(crate) fn measure<T>(call: impl FnOnce() -> T) -> (T, Measured) {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before_kib = status_kib("VmHWM");
    let started = Instant::now();
    let value = call();
    let took = started.elapsed();
    let after_kib = status_kib("VmHWM");
    (
        value,
        Measured {
            before_kib,
            after_kib,
            reset,
            took,
        },
    )
}

/// A case a child can run: its name and the function that runs it for one adapter and
/// returns its figures and a one-line description of what happened.
pub(crate) type Case = (&'static str, fn(Adapter) -> (Measured, String));

/// The body of every child: runs the case named in [`CASE_VAR`]; a no-op in a normal run.
#[test]
fn child() {
    let Ok(spec) = std::env::var(CASE_VAR) else {
        return;
    };
    let (name, adapter) = spec.split_once(':').unwrap();
    let adapter = Adapter::from_name(adapter).unwrap();
    let (_, run) = crate::bodies::CASES
        .iter()
        .find(|(case, _)| *case == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    let (measured, outcome) = run(adapter);
    println!(
        "HOSTILE case={name} adapter={} peak_before={} KiB peak_after={} KiB growth={} KiB \
         reset={} took={:?} outcome={outcome}",
        adapter.name(),
        measured.before_kib,
        measured.after_kib,
        measured.growth_kib(),
        measured.reset,
        measured.took,
    );
}

/// Runs `case` for each adapter, each in a child process, one after the other; relays each
/// child's figures and fails with its output when it fails.
pub(crate) fn isolated(case: &str) {
    for adapter in ALL {
        let context = format!("case {case} on {}", adapter.name());
        let stdout = in_child(
            "memory::child",
            CASE_VAR,
            &format!("{case}:{}", adapter.name()),
        );
        // libtest prints `test memory::child ... ` first, on the same line.
        let figures: Vec<&str> = stdout
            .lines()
            .filter_map(|line| line.find("HOSTILE case=").map(|at| &line[at..]))
            .collect();
        assert_eq!(figures.len(), 1, "{context}: no figures:\n{stdout}");
        for line in &figures {
            println!("{line}");
        }
    }
}

/// Runs the test `test` of this binary alone in a child process, with `var` set to `value`;
/// returns its standard output, or fails with its output when it fails or outlives
/// [`CHILD_LIMIT`] (then it is killed).
pub(crate) fn in_child(test: &str, var: &str, value: &str) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(var, value)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().map(read_all).unwrap();
    let stderr = child.stderr.take().map(read_all).unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > CHILD_LIMIT {
            let _killed = child.kill();
            let _reaped = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) if status.success() => stdout,
        Some(status) => panic!(
            "{test} with {var}={value} failed ({status}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        ),
        None => panic!(
            "{test} with {var}={value} was killed after {CHILD_LIMIT:?}:\n--- stdout\n{stdout}\n\
             --- stderr\n{stderr}"
        ),
    }
}

fn read_all(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _read = pipe.read_to_string(&mut text);
        text
    })
}
