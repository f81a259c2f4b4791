//! Runs a package's example programs as tests: each must exit with status 0 within a time
//! limit. Used by the `examples` test of `blossom-tokio`, `blossom-smol` and
//! `blossom-blocking`, through the [`example_tests!`](crate::example_tests) macro.
//!
//! Each example starts its own emulator, demonstrates one pattern of docs/PATTERNS.md and exits
//! non-zero when what it demonstrates did not happen, so these tests keep the documentation
//! honest. The list is explicit: an example that goes missing fails its test.
//!
//! The binaries are found next to the test's own (`target/<profile>/examples/`). A plain
//! `cargo test` builds them first; `cargo test --test examples` does not, so when a binary
//! is missing or older than the sources of the package, the core or the transports, the
//! first test runs `cargo build --examples` for that package once. (Not always: that build
//! resolves features for the package alone, so after a workspace build it would compile a
//! second copy of the dependency tree.)
//! Examples run one at a time, since several of them measure elapsed time.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};

use std::time::{Duration, Instant, SystemTime};

/// How long one example may run before it is killed.
const TIME_LIMIT: Duration = Duration::from_secs(30);

/// `target/<profile>`, from `target/<profile>/deps/examples-<hash>`.
fn profile_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("no test binary path: {e}"))?;
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .ok_or_else(|| format!("{} is not in target/<profile>/deps", exe.display()))
}

/// A package whose examples are run.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    /// Its manifest directory (`env!("CARGO_MANIFEST_DIR")` in its test).
    pub manifest_dir: &'static str,
    /// The cargo features its examples are built with.
    pub features: &'static str,
    /// Every example, by file name.
    pub examples: &'static [&'static str],
}

/// Builds the examples once per test run, with the profile this test was built with.
fn build_examples(package: Package) -> &'static Result<(), String> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = profile_dir()?;
        if examples_are_fresh(package, &dir.join("examples")) {
            return Ok(());
        }
        let profile = match dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") => "dev".to_owned(),
            Some(other) => other.to_owned(),
            None => return Err("no profile directory".to_owned()),
        };
        let target_dir = dir.parent().ok_or("no target directory")?;
        let mut cargo = Command::new(env!("CARGO"));
        // Not the variables cargo set for this test: build scripts that watch one of them
        // (rustls-ffi watches CARGO_PKG_VERSION) would rerun, the nested build would rebuild
        // the transport's dependency tree, and the next `cargo test` would rebuild it back.
        for (name, _) in std::env::vars_os() {
            let set_for_this_test = name.to_str().is_some_and(|name| {
                name.starts_with("CARGO_PKG_")
                    || [
                        "CARGO_MANIFEST_DIR",
                        "CARGO_MANIFEST_PATH",
                        "CARGO_CRATE_NAME",
                        "CARGO_PRIMARY_PACKAGE",
                        "CARGO_TARGET_TMPDIR",
                    ]
                    .contains(&name)
            });
            if set_for_this_test {
                cargo.env_remove(name);
            }
        }
        let output = cargo
            .args([
                "build",
                "--examples",
                "--features",
                package.features,
                "--profile",
                &profile,
                "--manifest-path",
            ])
            .arg(Path::new(package.manifest_dir).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir)
            .output()
            .map_err(|e| format!("cargo could not be run: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    })
}

/// Whether every example binary in `dir` is newer than every source it is built from.
fn examples_are_fresh(package: Package, dir: &Path) -> bool {
    let crate_dir = Path::new(package.manifest_dir);
    let sources = [
        "src",
        "examples",
        "../core/src",
        "../client/src",
        "../transport/src",
        "../transport-hyper/src",
    ];
    let Some(newest_source) = sources
        .iter()
        .map(|folder| newest(&crate_dir.join(folder)))
        .max()
        .flatten()
    else {
        return false;
    };
    package.examples.iter().all(|name| {
        let binary = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        modified(&binary).is_some_and(|built| built > newest_source)
    })
}

/// The latest modification time of the files below `path`.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| newest(&entry.path()))
        .max()
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).ok()?.modified().ok()
}

/// Reads a child's pipe to the end on a thread of its own, so a chatty child never blocks.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// Runs one example of `package`; panics with its output unless it exits 0 within the time
/// limit.
pub fn run(package: Package, name: &str) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Err(error) = build_examples(package) {
        panic!("building the examples failed:\n{error}");
    }
    let path = profile_dir()
        .unwrap_or_else(|e| panic!("{e}"))
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is missing", path.display());

    let started = Instant::now();
    let mut child = Command::new(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{name} could not start: {e}"));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => panic!("{name} could not be waited for: {e}"),
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = started.elapsed();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let verdict = match status {
        Some(status) if status.success() => {
            println!("{name}: ok in {:.2} s\n{stdout}", took.as_secs_f64());
            return;
        }
        Some(status) => format!("{name} failed with {status}"),
        None => format!("{name} was killed after {TIME_LIMIT:?}"),
    };
    panic!("{verdict}\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}");
}

/// One test per example of the calling package, and the list they check:
///
/// ```ignore
/// blossom_tests::example_tests! {
///     features: "metrics",
///     simple_request => "01_simple_request",
///     streaming => "02_streaming",
/// }
/// ```
#[macro_export]
macro_rules! example_tests {
    (features: $features:literal, $($test:ident => $name:literal,)*) => {
        const PACKAGE: $crate::examples::Package = $crate::examples::Package {
            manifest_dir: env!("CARGO_MANIFEST_DIR"),
            features: $features,
            examples: &[$($name),*],
        };
        $(
            #[test]
            fn $test() {
                $crate::examples::run(PACKAGE, $name);
            }
        )*
    };
}
