//! Running `blossom` as a child process, a standalone emulator, temporary job directories
//! and reading result files.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use blossom_emulator::Stats;
use serde_json::Value;

/// A well-formed secret key (the emulator accepts any).
pub(crate) const KEY: &str = "sk_BatchTestsBatchTestsBatchTests01";

/// `blossom` with no key, base URL or log filter from the environment.
pub(crate) fn blossom() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_blossom"));
    command
        .env_remove("POLLINATIONS_API_KEY")
        .env_remove("POLLINATIONS_BASE_URL")
        .env_remove("RUST_LOG");
    command
}

/// A directory of its own for one test, removed when dropped.
pub(crate) struct JobDir(PathBuf);

impl JobDir {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("blossom-batch-{}-{n}-{name}", std::process::id()));
        let _fresh = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `lines` as the file `name`, one per line.
    pub(crate) fn write_lines(
        &self,
        name: &str,
        lines: impl IntoIterator<Item = String>,
    ) -> PathBuf {
        let path = self.path(name);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
        file.flush().unwrap();
        path
    }
}

impl Drop for JobDir {
    fn drop(&mut self) {
        let _gone = std::fs::remove_dir_all(&self.0);
    }
}

/// What a finished child left.
pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) took: Duration,
}

impl Finished {
    pub(crate) fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// A running child whose stdout and stderr are read on threads of their own.
pub(crate) struct Running {
    pub(crate) child: Child,
    started: Instant,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

impl Running {
    /// Starts `command` with piped stdout and stderr (and stdin as the command says).
    pub(crate) fn start(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().map(read_all);
        let stderr = child.stderr.take().map(read_all);
        Self {
            child,
            started: Instant::now(),
            stdout,
            stderr,
        }
    }

    /// Waits for the child to exit; kills it and panics past `limit`.
    pub(crate) fn finish(mut self, limit: Duration) -> Finished {
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if self.started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stderr = self.stderr.take().unwrap().join().unwrap_or_default();
                panic!("blossom was killed after {limit:?}; stderr:\n{stderr}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        Finished {
            status,
            took: self.started.elapsed(),
            stdout: self.stdout.take().unwrap().join().unwrap_or_default(),
            stderr: self.stderr.take().unwrap().join().unwrap_or_default(),
        }
    }

    /// Sends `signal` (a name such as `INT` or `TERM`) to the child.
    #[cfg(unix)]
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }
}

fn read_all(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Runs `command` to its end within `limit`.
pub(crate) fn run(command: Command, limit: Duration) -> Finished {
    Running::start(command).finish(limit)
}

/// The result lines of `path`, each parsed.
pub(crate) fn results(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    parse_lines(&text)
}

/// Each line of `text` as JSON; panics on a line that is not.
pub(crate) fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The results by id (as text); panics when an id appears twice.
pub(crate) fn by_id(results: &[Value]) -> HashMap<String, Value> {
    let mut map = HashMap::new();
    for result in results {
        let id = match &result["id"] {
            Value::String(id) => id.clone(),
            other => other.to_string(),
        };
        if let Some(first) = map.insert(id.clone(), result.clone()) {
            panic!("id {id} has two lines:\n{first}\n{result}");
        }
    }
    map
}

/// A `blossom emulator` process on an ephemeral loopback port, stopped when dropped.
pub(crate) struct StandaloneEmulator {
    child: Child,
    pub(crate) url: String,
}

impl StandaloneEmulator {
    /// Starts one with `--faults faults` (none when empty).
    pub(crate) fn start(faults: &str) -> Self {
        let mut command = blossom();
        command.args(["emulator", "--port", "0", "--seed", "7"]);
        if !faults.is_empty() {
            command.args(["--faults", faults]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|url| url.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Self { child, url }
    }

    /// `blossom` pointed at this emulator with a secret key.
    pub(crate) fn blossom(&self) -> Command {
        let mut command = blossom();
        command.args(["--base-url", &self.url, "--api-key", KEY]);
        command
    }

    /// What the emulator has served so far (`GET /__emulator/stats`, over a plain socket).
    pub(crate) fn stats(&self) -> Stats {
        let address = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET /__emulator/stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("stats ({e}): {body}"))
    }

    /// Requests to the generation routes.
    pub(crate) fn generation_requests(&self) -> u64 {
        self.stats()
            .by_route
            .iter()
            .filter(|(route, _)| !route.contains("models"))
            .map(|(_, count)| count)
            .sum()
    }
}

impl Drop for StandaloneEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` text lines with ids `t0`…, each asking about its own number.
pub(crate) fn text_lines(n: usize) -> impl Iterator<Item = String> {
    (0..n).map(|i| format!(r#"{{"id":"t{i}","kind":"text","prompt":"question {i}"}}"#))
}
