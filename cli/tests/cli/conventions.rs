//! What a user of any command-line tool expects: `-v` shows what happens, `--quiet` hides
//! notices, a file's extension means its format, help puts a command's own options first,
//! completions, and answers that say what went wrong instead of printing nothing.

use std::process::Output;

use crate::support::{JobDir, KEY, StandaloneEmulator, blossom as command};

fn blossom(args: &[&str]) -> Output {
    command().args(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn verbose_shows_each_attempt_and_retry_and_never_the_key() {
    // The emulator fails 99 % of attempts: the call is retried until its retries are spent.
    let output = blossom(&[
        "--emulator-faults",
        "503=0.99",
        "--api-key",
        KEY,
        "-v",
        "text",
        "hello",
        "--retries",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    for expected in [
        "blossom.call{endpoint=\"text\"",
        "attempt sent attempt=1",
        "status=503",
        "retrying attempt=1 delay_ms=",
        "attempt sent attempt=2",
        "not retried reason=Exhausted",
        "call failed attempts=2",
    ] {
        assert!(err.contains(expected), "{expected:?} not in:\n{err}");
    }
    assert!(!err.contains(&KEY[3..]), "{err}");
    // -vv adds the HTTP layer; without -v only the one-line error is printed.
    let very = stderr(&blossom(&[
        "--emulator",
        "--api-key",
        KEY,
        "-vv",
        "text",
        "hello",
    ]));
    assert!(very.contains("hyper_util"), "{very}");
    assert!(!very.contains(&KEY[3..]), "{very}");
    let plain = blossom(&[
        "--emulator-faults",
        "503=0.99",
        "text",
        "hello",
        "--retries",
        "0",
    ]);
    assert_eq!(stderr(&plain).lines().count(), 1, "{}", stderr(&plain));
}

#[test]
fn rust_log_decides_when_set() {
    let output = command()
        .args(["--emulator", "text", "hello"])
        .env("RUST_LOG", "blossom_core=debug")
        .output()
        .unwrap();
    assert!(output.status.success());
    let err = stderr(&output);
    assert!(err.contains("call succeeded"), "{err}");
    assert!(!err.contains("hyper_util"), "{err}");
}

#[test]
fn retries_apply_to_one_off_commands() {
    let emulator = StandaloneEmulator::start("503=0.99");
    let output = emulator
        .blossom()
        .args(["text", "hello", "--retries", "3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(emulator.generation_requests(), 4);
}

#[test]
fn quiet_hides_the_saved_notice() {
    let dir = JobDir::new("quiet");
    let path = dir.path("a.jpg");
    let path = path.to_str().unwrap();
    let loud = blossom(&[
        "--emulator",
        "image",
        "an apple",
        "-o",
        path,
        "--width",
        "16",
    ]);
    assert!(stderr(&loud).contains("saved"), "{}", stderr(&loud));
    let quiet = blossom(&[
        "--emulator",
        "image",
        "an apple",
        "-o",
        path,
        "--width",
        "16",
        "-q",
    ]);
    assert!(quiet.status.success());
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn speech_takes_its_format_from_the_file_name() {
    let dir = JobDir::new("speech-format");
    let wav = dir.path("hello.wav");
    let output = blossom(&["--emulator", "speak", "Hello", "-o", wav.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(blossom_tests::wav_format(&std::fs::read(&wav).unwrap()).is_some());
    let flac = dir.path("hello.flac");
    let output = blossom(&["--emulator", "speak", "Hello", "-o", flac.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(std::fs::read(&flac).unwrap().starts_with(b"fLaC"));
    let mp3 = dir.path("hello.mp3");
    let output = blossom(&["--emulator", "speak", "Hello", "-o", mp3.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let bytes = std::fs::read(&mp3).unwrap();
    assert!(
        bytes.starts_with(b"ID3") || bytes.starts_with(&[0xFF, 0xFB]),
        "not MP3"
    );
}

#[test]
fn a_format_the_file_name_contradicts_is_refused_before_any_call() {
    let emulator = StandaloneEmulator::start("");
    let dir = JobDir::new("speech-conflict");
    let path = dir.path("hello.wav");
    let output = emulator
        .blossom()
        .args([
            "speak",
            "Hello",
            "-o",
            path.to_str().unwrap(),
            "--format",
            "mp3",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("--format mp3 contradicts"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!path.exists());
    assert_eq!(emulator.generation_requests(), 0);
}

#[test]
fn an_image_whose_type_differs_from_its_file_name_is_reported() {
    let dir = JobDir::new("image-type");
    // The emulator's images are JPEGs.
    let save_as = |name: &str| {
        let path = dir.path(name);
        blossom(&[
            "--emulator",
            "image",
            "a cat",
            "-o",
            path.to_str().unwrap(),
            "--width",
            "16",
        ])
    };
    let output = save_as("cat.png");
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("sent JPG bytes") && err.contains("cat.png") && err.contains(".jpg"),
        "{err}"
    );
    // A matching name says nothing of the kind.
    let output = save_as("cat.jpeg");
    assert!(
        !stderr(&output).contains("bytes but"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn every_image_parameter_reaches_the_server() {
    // A server that writes exact bytes and keeps the request line it was sent.
    let server = blossom_tests::loopback::Server::start(vec![blossom_tests::loopback::Script::ok(
        "image/jpeg",
        b"\xFF\xD8\xFF\xE0 a JPEG signature is all the CLI checks",
    )])
    .unwrap();
    let dir = JobDir::new("image-params");
    let path = dir.path("a.jpg");
    let output = blossom(&[
        "--base-url",
        &server.base_url(),
        "--api-key",
        KEY,
        "image",
        "a cat",
        "-o",
        path.to_str().unwrap(),
        "--safe",
        "standard",
        "--private",
        "--nofeed",
        "--no-cache",
        "--negative-prompt",
        "dogs",
        "--nologo",
        "--guidance-scale",
        "7.5",
        "--retries",
        "0",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = server.request_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    for parameter in [
        "safe=",
        "private=true",
        "nofeed=true",
        "no-cache=true",
        "negative_prompt=dogs",
        "nologo=true",
        "guidance_scale=7.5",
    ] {
        assert!(
            lines[0].contains(parameter),
            "{parameter} not in {}",
            lines[0]
        );
    }
}

#[test]
fn help_lists_a_commands_own_options_before_the_global_ones() {
    let help = stdout(&blossom(&["image", "--help"]));
    let own = help.find("--width").unwrap();
    let heading = help.find("Global options:").unwrap();
    let global = help.find("--base-url").unwrap();
    assert!(own < heading && heading < global, "{help}");
    assert!(help.find("--retries").unwrap() < heading, "{help}");
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = blossom(&["completions", shell]);
        assert!(output.status.success(), "{shell}");
        let script = stdout(&output);
        assert!(
            script.contains("blossom") && script.contains("batch"),
            "{shell}"
        );
    }
    assert_eq!(blossom(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn a_missing_model_list_says_which_path_was_tried() {
    let server = blossom_tests::loopback::Server::start(vec![blossom_tests::loopback::Script::new()
        .write(
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found",
        )])
    .unwrap();
    let output = blossom(&[
        "--base-url",
        &server.base_url(),
        "--api-key",
        KEY,
        "models",
        "--kind",
        "audio",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("no model list at /audio/models"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn an_empty_text_answer_is_reported_not_printed_as_an_empty_line() {
    let server = blossom_tests::loopback::Server::start(vec![blossom_tests::loopback::Script::ok(
        "text/plain; charset=utf-8",
        "",
    )])
    .unwrap();
    let output = blossom(&[
        "--base-url",
        &server.base_url(),
        "--api-key",
        KEY,
        "text",
        "say nothing",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("the answer has no text"),
        "{}",
        stderr(&output)
    );
}
