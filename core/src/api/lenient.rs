//! Deserialisers that accept the loose shapes servers really send (PROTOCOL §3, §7):
//! numbers as integers, floats or numeric strings, and `null` wherever a value may be absent.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A body without its UTF-8 byte-order mark: some servers and gateways put one before JSON,
/// which JSON parsers refuse.
pub(crate) fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

/// An optional non-negative integer from an integer, a float, a numeric string or `null`.
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| *f >= 0.0)
            .map(|f| f as u64),
        _ => None,
    })
}

/// A non-negative integer, 0 when absent or unreadable.
pub(crate) fn u64_or_zero<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    opt_u64(deserializer).map(Option::unwrap_or_default)
}

/// A string, empty when `null` or absent.
pub(crate) fn string_or_empty<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

/// A list; `null` (some providers' usage-only and keep-alive chunks send `"choices": null`)
/// is an empty one.
pub(crate) fn list_or_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// JSON text: a string as it is, any other JSON value (servers that send tool-call arguments
/// as an object instead of the JSON string OpenAI specifies) as its compact JSON text, `null`
/// as empty.
pub(crate) fn json_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(opt_json_text(deserializer)?.unwrap_or_default())
}

/// Like [`json_text`], `None` for `null` or absent.
pub(crate) fn opt_json_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

/// Message text: a string, or the typed-part array some servers answer with
/// (`[{"type":"text","text":"Hel"},{"type":"text","text":"lo"}]`, or plain strings), joined;
/// `null` or absent is `None`.
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    fn part_text(part: &Value) -> Option<&str> {
        match part {
            Value::String(text) => Some(text),
            Value::Object(fields) => fields.get("text").and_then(Value::as_str),
            _ => None,
        }
    }
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Array(parts) => Some(parts.iter().filter_map(part_text).collect()),
        Value::Object(fields) => fields
            .get("text")
            .and_then(Value::as_str)
            .map(str::to_owned),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
    })
}

/// A list of strings; `null`, a lone string, or non-string items are tolerated.
pub(crate) fn string_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        Value::String(s) => vec![s],
        _ => Vec::new(),
    })
}

/// An optional boolean from a bool, `"true"`/`"false"`, or `null`.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Bool(b) => Some(b),
        Value::String(s) => match s.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// Milliseconds or seconds since the epoch, told apart by size: a value above 10^11 cannot be
/// seconds (that would be the year 5138), so it is milliseconds.
pub(crate) fn epoch(value: u64) -> std::time::SystemTime {
    use std::time::{Duration, UNIX_EPOCH};
    if value > 100_000_000_000 {
        UNIX_EPOCH + Duration::from_millis(value)
    } else {
        UNIX_EPOCH + Duration::from_secs(value)
    }
}
