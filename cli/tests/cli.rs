//! The `blossom` binary, run as a process against its embedded emulator.
// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const SECRET: &str = "sk_CLIsecretCLIsecretCLIsecret01234";

fn blossom(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blossom"))
        .args(args)
        .env_remove("POLLINATIONS_API_KEY")
        .env_remove("POLLINATIONS_BASE_URL")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blossom-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn chat_streams_against_the_emulator() {
    let output = blossom(&["--emulator", "chat", "--stream", "Tell me a story"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("Tell me a story"), "{text}");
    assert!(text.ends_with('\n'));
    let plain = blossom(&["--emulator", "chat", "Tell", "me", "a", "story"]);
    assert_eq!(stdout(&plain), text, "streamed and whole answers match");
}

#[test]
fn text_prints_the_answer() {
    let output = blossom(&[
        "--emulator",
        "text",
        "Write a haiku about Rust",
        "--seed",
        "3",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("Write a haiku about Rust"));
}

#[test]
fn image_is_saved_at_the_requested_size() {
    let path = temp("apple.jpg");
    let output = blossom(&[
        "--emulator",
        "image",
        "a red apple",
        "-o",
        path.to_str().unwrap(),
        "--width",
        "80",
        "--height",
        "60",
        "--seed",
        "7",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(blossom_tests::jpeg_size(&bytes), Some((80, 60)));
    assert!(stderr(&output).contains("saved"));
}

#[test]
fn speech_is_saved() {
    let path = temp("hello.wav");
    let output = blossom(&[
        "--emulator",
        "speak",
        "Hello there",
        "-o",
        path.to_str().unwrap(),
        "--voice",
        "nova",
        "--format",
        "wav",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let bytes = std::fs::read(&path).unwrap();
    assert!(blossom_tests::wav_format(&bytes).is_some());
}

#[test]
fn models_as_table_and_json() {
    let table = blossom(&["--emulator", "models"]);
    assert!(table.status.success());
    assert!(stdout(&table).lines().any(|l| l.starts_with("openai")));
    let json = blossom(&["--emulator", "models", "--kind", "image", "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        value
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "flux")
    );
}

#[test]
fn api_errors_are_one_line_with_exit_code_1() {
    let output = blossom(&[
        "--emulator",
        "--api-key",
        SECRET,
        "chat",
        "--model",
        "nope",
        "hi",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("HTTP 400") && err.contains("BAD_REQUEST") && err.contains("request id"),
        "{err}"
    );
    assert!(!err.contains("panicked") && !err.contains(&SECRET[3..]));
}

#[test]
fn invalid_input_exits_2_without_a_panic() {
    for args in [
        &["--emulator", "text", " "][..],
        &[
            "--emulator",
            "image",
            "x",
            "-o",
            "/dev/null",
            "--width",
            "0",
        ][..],
        &["--emulator", "--timeout=-1", "text", "x"][..],
        &["--base-url", "ftp://nowhere", "text", "x"][..],
    ] {
        let output = blossom(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!err.contains("panicked"));
    }
    // Usage errors are clap's: also exit code 2.
    assert_eq!(blossom(&["chat"]).status.code(), Some(2));
}

#[test]
fn unreachable_server_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}");
    let output = blossom(&["--base-url", &url, "--api-key", SECRET, "models"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("could not connect"), "{err}");
    assert!(!err.contains(&SECRET[3..]));
}

#[test]
fn the_key_from_the_environment_is_not_shown_in_help() {
    let output = Command::new(env!("CARGO_BIN_EXE_blossom"))
        .arg("--help")
        .env("POLLINATIONS_API_KEY", SECRET)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(!stdout(&output).contains(&SECRET[3..]));
}

#[test]
fn emulator_command_serves_until_killed() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_blossom"))
        .args(["emulator", "--port", "0", "--seed", "5"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let output = blossom(&["--base-url", &url, "--api-key", SECRET, "text", "hello"]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("hello"));
}
