//! The one-call commands: text, chat, image, speak, models and emulator.

use std::process::Output;

use crate::support::{JobDir, KEY as SECRET, StandaloneEmulator, blossom as command};

fn blossom(args: &[&str]) -> Output {
    command().args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
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
    let dir = JobDir::new("image");
    let path = dir.path("apple.jpg");
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
    let dir = JobDir::new("speech");
    let path = dir.path("hello.wav");
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
    let output = command()
        .arg("--help")
        .env("POLLINATIONS_API_KEY", SECRET)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(!stdout(&output).contains(&SECRET[3..]));
}

#[test]
fn emulator_command_serves_until_killed() {
    let emulator = StandaloneEmulator::start("");
    let output = emulator.blossom().args(["text", "hello"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("hello"));
    assert_eq!(emulator.generation_requests(), 1);
}
