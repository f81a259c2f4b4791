//! The mixed job of the fault and interrupt tests: text, chat, image and speech lines, some
//! naming a model the service does not have, run against an emulator failing 20% of requests.

use std::collections::HashMap;

use serde_json::Value;

/// 20% of requests fail: statuses a retry can fix and connection resets.
pub(crate) const FAULTS: &str =
    "500=0.04,502=0.03,503=0.05,504=0.02,429=0.02,reset=0.04,retry_after=50ms";
pub(crate) const LINES: usize = 2000;
/// Every 100th line names a model the service does not have: a 400 no retry can fix.
pub(crate) const BAD_MODEL_EVERY: usize = 100;

/// Line `i` of the mixed input, and what kind it is.
pub(crate) fn line(i: usize) -> (String, &'static str) {
    let model = if i % BAD_MODEL_EVERY == 7 {
        r#","model":"no-such-model""#
    } else {
        ""
    };
    match i % 20 {
        0 | 1 => (
            format!(
                r#"{{"id":"i{i}","kind":"image","prompt":"apple {i}","params":{{"width":32,"height":24,"seed":{i}}}{model}}}"#
            ),
            "image",
        ),
        2 => (
            format!(
                r#"{{"id":"s{i}","kind":"speech","prompt":"hello {i}","params":{{"format":"wav"}}{model}}}"#
            ),
            "speech",
        ),
        3..=9 => (
            format!(
                r#"{{"id":"c{i}","kind":"chat","messages":[{{"role":"user","content":"chat {i}"}}],"priority":"high"{model}}}"#
            ),
            "chat",
        ),
        _ => (
            format!(r#"{{"id":"t{i}","kind":"text","prompt":"text {i}"{model}}}"#),
            "text",
        ),
    }
}

/// The id of line `i` (from 0).
pub(crate) fn id(i: usize) -> String {
    format!("{}{i}", &line(i).1[..1])
}

/// Checks the one result of every line: the answer asked for, or a typed 400 for the lines
/// naming an unknown model. Returns the attempts of all lines and how many lines retried.
pub(crate) fn check_all(results: &HashMap<String, Value>) -> (u64, u64) {
    let mut attempts = 0;
    let mut retried = 0;
    for i in 0..LINES {
        let id = id(i);
        let result = results
            .get(&id)
            .unwrap_or_else(|| panic!("no line for {id}"));
        let tries = result["attempts"].as_u64().unwrap();
        assert!((1..=9).contains(&tries), "{result}");
        attempts += tries;
        retried += u64::from(tries > 1);
        if i % BAD_MODEL_EVERY == 7 {
            assert_eq!(result["ok"], false, "{result}");
            assert_eq!(result["error"]["kind"], "api", "{result}");
            assert_eq!(result["error"]["status"], 400, "{result}");
            assert!(result["error"]["request_id"].is_string(), "{result}");
            assert_eq!(result["line"], i + 1, "{result}");
        } else {
            assert_eq!(result["ok"], true, "{result}");
            assert_eq!(result["kind"], line(i).1, "{result}");
            check_answer(i, line(i).1, result);
        }
    }
    (attempts, retried)
}

/// The answer of successful line `i` is the one asked for.
fn check_answer(i: usize, kind: &str, result: &Value) {
    match kind {
        "text" | "chat" => {
            let text = result["text"].as_str().unwrap();
            assert!(text.contains(&format!("{kind} {i}")), "{result}");
            assert!(result["model"].is_string(), "{result}");
            if kind == "chat" {
                assert!(result["usage"]["total_tokens"].as_u64().unwrap() > 0);
            }
        }
        "image" => {
            let bytes = std::fs::read(result["file"].as_str().unwrap()).unwrap();
            assert_eq!(blossom_tests::jpeg_size(&bytes), Some((32, 24)), "{result}");
        }
        _ => {
            let path = result["file"].as_str().unwrap();
            assert!(path.ends_with(&format!("s{i}.wav")), "{result}");
            let bytes = std::fs::read(path).unwrap();
            assert!(blossom_tests::wav_format(&bytes).is_some(), "{result}");
        }
    }
}
