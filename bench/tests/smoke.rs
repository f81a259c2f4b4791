//! Keeps the load benchmark from rotting: `serve` and `run` for a few calls on a few paths
//! and scenarios, and the orchestrator for one small scenario, in a debug build.
// A test: a failure should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

const EXE: &str = env!("CARGO_BIN_EXE_blossom-load");

/// A `serve` child, killed when dropped.
struct Server {
    child: Child,
    _stdin: ChildStdin,
    url: String,
}

impl Server {
    fn start() -> Self {
        let mut child = Command::new(EXE)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        let url = url.trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
        Self {
            child,
            _stdin: stdin,
            url,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(server: &Server, path: &str, scenario: &str, calls: usize) -> serde_json::Value {
    let output = Command::new(EXE)
        .args(["run", "--base-url", &server.url, "--path", path])
        .args(["--scenario", scenario, "--calls", &calls.to_string()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{path} / {scenario}: {stderr}");
    let line = String::from_utf8(output.stdout).unwrap();
    let sample: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(sample["path"], path);
    assert_eq!(sample["scenario"], scenario);
    assert_eq!(sample["calls"], calls);
    assert_eq!(sample["ok"], calls, "{sample}");
    assert!(
        sample["cpu_per_call_us"].as_f64().unwrap() > 0.0,
        "{sample}"
    );
    assert!(sample["max_rss_kib"].as_u64().unwrap() > 0, "{sample}");
    sample
}

#[test]
fn every_kind_of_path_runs_calls_against_the_server() {
    let server = Server::start();
    for path in ["tokio", "raw-hyper-util", "raw-isahc-blocking"] {
        let sample = run(&server, path, "chat16", 20);
        assert!(sample["cpu_per_chunk_us"].is_null());
    }
    for path in ["smol", "raw-isahc-tokio"] {
        run(&server, path, "image16", 4);
    }
    for path in ["blocking", "raw-isahc-smol"] {
        let sample = run(&server, path, "stream16", 2);
        assert!(sample["cpu_per_chunk_us"].as_f64().unwrap() > 0.0);
    }
    run(&server, "tokio-isahc", "cachehit", 50);
}

#[test]
fn the_server_asks_for_delays_and_answers_other_paths() {
    let server = Server::start();
    let sample = run(&server, "tokio", "slow100", 8);
    assert!(sample["p50_us"].as_f64().unwrap() >= 200_000.0, "{sample}");
}

#[test]
fn raw_paths_refuse_the_cache_scenario() {
    let server = Server::start();
    let output = Command::new(EXE)
        .args(["run", "--base-url", &server.url, "--path", "raw-hyper-util"])
        .args(["--scenario", "cachehit", "--calls", "5"])
        .output()
        .unwrap();
    assert!(!output.status.success());
}

#[test]
fn the_orchestrator_reports_a_small_run() {
    let json = std::env::temp_dir().join(format!("blossom-load-{}.json", std::process::id()));
    let output = Command::new(EXE)
        .args(["--quick", "--reps", "1", "--only", "chat1"])
        .args(["--paths", "tokio,raw-hyper-util", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("| tokio |"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    let tokio = &report["scenarios"]["chat1"]["paths"]["tokio"];
    assert_eq!(tokio["samples"].as_array().unwrap().len(), 1);
    assert!(tokio["median"]["cpu_per_call_us"].as_f64().unwrap() > 0.0);
}
