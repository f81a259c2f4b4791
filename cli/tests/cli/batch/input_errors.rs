//! Bad input lines get an error line with their line number and a stable code; the good
//! lines around them still run.

use std::time::Duration;

use crate::support::{JobDir, blossom, by_id, results, run};

#[test]
fn bad_lines_are_reported_with_their_line_numbers() {
    let dir = JobDir::new("input-errors");
    let lines = [
        r#"{"id":"a","kind":"text","prompt":"first"}"#,
        r"not json at all",
        r#"{"id":"a","kind":"text","prompt":"same id again"}"#,
        r#"{"kind":"video","prompt":"x"}"#,
        "",
        r#"{"kind":"text"}"#,
        r#"{"kind":"text","prompt":"hot","params":{"temperature":9}}"#,
        r#"{"kind":"image","prompt":"x","params":{"colour":"red"}}"#,
        r#"["an", "array"]"#,
        r#"{"kind":"chat","messages":[]}"#,
        r#"{"kind":"text","prompt":"x","priority":"urgent"}"#,
        r#"{"id":70,"kind":"chat","prompt":"seventy"}"#,
        r#"{"kind":"image","prompt":"an image","params":{"width":32,"height":32}}"#,
    ];
    let input = dir.write_lines("in.jsonl", lines.iter().map(|l| (*l).to_owned()));
    let output = dir.path("out.jsonl");
    let mut command = blossom();
    command
        .args(["--emulator", "batch", "-q", "-o"])
        .arg(&output)
        .arg(&input);
    let finished = run(command, Duration::from_secs(60));
    assert_eq!(finished.code(), Some(1), "{}", finished.stderr);

    let results = results(&output);
    // Line 3 repeats the id of line 1, so two lines share id "a"; check it apart.
    let (duplicate, rest): (Vec<_>, Vec<_>) = results
        .into_iter()
        .partition(|r| r["error"]["code"] == "duplicate_id");
    assert_eq!(duplicate.len(), 1);
    assert_eq!(duplicate[0]["line"], 3);
    assert!(
        duplicate[0]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 3: duplicate id \"a\"")
    );
    let results = by_id(&rest);
    assert_eq!(results.len(), 11, "13 lines, one blank, one duplicate");
    assert_eq!(results["a"]["ok"], true);
    assert_eq!(results["70"]["ok"], true, "integer ids are kept");
    assert_eq!(rest.iter().filter(|r| r["id"] == 70).count(), 1);
    let expected = [
        ("2", "invalid_json"),
        ("4", "unknown_kind"),
        ("6", "missing_prompt"),
        ("7", "invalid_params"),
        ("8", "invalid_params"),
        ("9", "invalid_line"),
        ("10", "missing_prompt"),
        ("11", "invalid_params"),
        ("13", "no_media_dir"),
    ];
    for (id, code) in expected {
        // Lines without an id take their line number as their id.
        let result = &results[id];
        assert_eq!(result["ok"], false, "{result}");
        assert_eq!(result["attempts"], 0, "{result}");
        assert_eq!(result["error"]["kind"], "invalid_input", "{result}");
        assert_eq!(result["error"]["code"], code, "{result}");
        let line = result["line"].as_u64().unwrap();
        assert_eq!(line.to_string(), id, "{result}");
        let message = result["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("line {line}: ")), "{message}");
    }
}
