//! Deserialisers that accept the loose shapes servers really send (docs/PROTOCOL.md §3, §7):
//! numbers as integers, floats or numeric strings, and `null` wherever a value may be absent.

use serde::de::{self, IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A body without its UTF-8 byte-order mark: some servers and gateways put one before JSON,
/// which JSON parsers refuse.
pub(crate) fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

/// An optional non-negative integer from an integer, a float, a numeric string or `null`.
/// Anything else (a list, an object, a bool, a negative number) is `None`.
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    deserializer.deserialize_any(Count)
}

/// Reads a count straight from the parser (no intermediate `Value`: answers carry several).
struct Count;

impl<'de> Visitor<'de> for Count {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a non-negative number")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(u64::try_from(value).ok())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        // `as` saturates; NaN fails the test.
        Ok((value >= 0.0).then_some(value as u64))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| *f >= 0.0)
            .map(|f| f as u64))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(seq).map(|()| None)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        skip_map(map).map(|()| None)
    }
}

/// Reads past a list whose content is not wanted.
fn skip_seq<'de, A: de::SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Reads past an object whose content is not wanted.
fn skip_map<'de, A: de::MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A non-negative integer, 0 when absent or unreadable.
pub(crate) fn u64_or_zero<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    opt_u64(deserializer).map(Option::unwrap_or_default)
}

/// A string, empty when `null` or absent; a number as its JSON text; anything else empty.
pub(crate) fn string_or_empty<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    deserializer.deserialize_any(Text)
}

/// Reads a string straight from the parser (no intermediate `Value`).
struct Text;

impl<'de> Visitor<'de> for Text {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(value.to_owned())
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(value)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.to_string())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        // As JSON writes it (`1.0`, not `1`).
        Ok(serde_json::Number::from_f64(value).map_or_else(String::new, |n| n.to_string()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(String::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(String::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(String::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(seq).map(|()| String::new())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        skip_map(map).map(|()| String::new())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Fields {
        #[serde(default, deserialize_with = "opt_u64")]
        count: Option<u64>,
        #[serde(default, deserialize_with = "string_or_empty")]
        text: String,
    }

    fn read(value: serde_json::Value) -> (Option<u64>, String) {
        let fields: Fields = serde_json::from_value(value).unwrap();
        (fields.count, fields.text)
    }

    #[test]
    fn counts_and_texts_take_every_shape_servers_send() {
        for (count, expected) in [
            (json!(12), Some(12)),
            (json!(12.9), Some(12)),
            (json!(" 7 "), Some(7)),
            (json!("7.5"), Some(7)),
            (json!(-1), None),
            (json!(-0.5), None),
            (json!("many"), None),
            (json!(null), None),
            (json!(true), None),
            (json!([1, 2]), None),
            (json!({"n": 1}), None),
            (json!(1e300), Some(u64::MAX)),
        ] {
            assert_eq!(read(json!({"count": count})).0, expected, "{count}");
        }
        for (text, expected) in [
            (json!("hi"), "hi"),
            (json!("with \"escapes\" \u{e9}"), "with \"escapes\" \u{e9}"),
            (json!(42), "42"),
            (json!(-3), "-3"),
            (json!(1.0), "1.0"),
            (json!(null), ""),
            (json!(false), ""),
            (json!(["a"]), ""),
            (json!({"a": [1, {"b": 2}]}), ""),
        ] {
            assert_eq!(read(json!({"text": text})).1, expected, "{text}");
        }
        // From text, where borrowed strings and nested values reach the visitors directly.
        let fields: Fields =
            serde_json::from_str(r#"{"count":{"deep":[1,{"x":null}]},"text":[{"a":1}],"more":1}"#)
                .unwrap();
        assert_eq!((fields.count, fields.text.as_str()), (None, ""));
        assert_eq!(read(json!({})), (None, String::new()));
    }
}
