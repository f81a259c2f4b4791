//! Typed checks of single JSON fields, with zod-style messages.

use serde_json::{Map, Value};

use crate::errors::Validation;

/// The value of a field, `None` when absent or `null`.
pub(super) fn present<'a>(obj: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    obj.get(field).filter(|x| !x.is_null())
}

/// The JSON type name zod uses in messages.
pub(super) fn kind(value: Option<&Value>) -> &'static str {
    match value {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

/// "Invalid input: expected X, received Y".
pub(super) fn expected(what: &str, got: Option<&Value>) -> String {
    format!("Invalid input: expected {what}, received {}", kind(got))
}

/// "Invalid option: expected one of …, received …".
pub(super) fn options_message(options: &[&str], got: &str) -> String {
    let list: Vec<String> = options.iter().map(|o| format!("\"{o}\"")).collect();
    format!(
        "Invalid option: expected one of {}, received \"{got}\"",
        list.join("|")
    )
}

/// A number field within `lo..=hi`.
pub(super) fn range(
    obj: &Map<String, Value>,
    field: &str,
    lo: f64,
    hi: f64,
    v: &mut Validation,
) -> Option<f64> {
    let value = present(obj, field)?;
    match value.as_f64() {
        Some(x) if x < lo => v.add(field, format!("Too small: expected number to be >={lo}")),
        Some(x) if x > hi => v.add(field, format!("Too big: expected number to be <={hi}")),
        Some(x) => return Some(x),
        None => v.add(field, expected("number", Some(value))),
    }
    None
}

/// An integer field within `lo..=hi` (integral floats such as `2.0` count).
pub(super) fn integer(
    obj: &Map<String, Value>,
    field: &str,
    lo: i64,
    hi: i64,
    v: &mut Validation,
) -> Option<i64> {
    let value = present(obj, field)?;
    let as_int = value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
            .map(|f| f as i64)
    });
    match as_int {
        Some(x) if x < lo => v.add(field, format!("Too small: expected number to be >={lo}")),
        Some(x) if x > hi => v.add(field, format!("Too big: expected number to be <={hi}")),
        Some(x) => return Some(x),
        None if value.is_number() => v.add(field, "Invalid input: expected int, received number"),
        None => v.add(field, expected("number", Some(value))),
    }
    None
}

/// A boolean field.
pub(super) fn boolean(obj: &Map<String, Value>, field: &str, v: &mut Validation) -> Option<bool> {
    let value = present(obj, field)?;
    let b = value.as_bool();
    if b.is_none() {
        v.add(field, expected("boolean", Some(value)));
    }
    b
}

/// A string field that must be one of `options`.
pub(super) fn one_of(
    obj: &Map<String, Value>,
    field: &str,
    options: &[&str],
    v: &mut Validation,
) -> Option<String> {
    let value = present(obj, field)?;
    match value.as_str() {
        Some(s) if options.contains(&s) => return Some(s.to_owned()),
        Some(s) => v.add(field, options_message(options, s)),
        None => v.add(field, expected("string", Some(value))),
    }
    None
}

/// Whether a function name matches `^[a-zA-Z0-9_-]{1,64}$`.
pub(super) fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The message for an invalid function name.
pub(super) const TOOL_NAME_RULE: &str =
    "Invalid string: must match pattern /^[a-zA-Z0-9_-]{1,64}$/";
