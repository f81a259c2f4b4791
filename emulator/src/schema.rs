//! A JSON value that satisfies a JSON Schema, for `json_schema` answers and tool-call
//! arguments.
//!
//! Supported: `type` (one or a list; `null` is chosen last), `enum`, `const`, `object` with
//! `properties`/`required` (every property is filled in), `array` with `items`/`prefixItems`,
//! `minItems`/`maxItems`/`uniqueItems`, `string` with `minLength`/`maxLength` and common
//! `format`s, `number`/`integer` with `minimum`/`maximum`/exclusive bounds/`multipleOf`,
//! `boolean`, `null`, `anyOf`/`oneOf` (first usable branch), `allOf` (merged), and local
//! `$ref`s (`#/$defs/…`, `#/definitions/…`). Not supported: `pattern` (ignored),
//! `if`/`then`/`else`, `not`, `dependentSchemas`. Recursion stops at a fixed depth.

use serde_json::{Map, Number, Value, json};

use crate::generate::Rng;

/// Deepest nesting generated; deeper optional parts are left out.
const MAX_DEPTH: usize = 12;

/// A value valid against `schema` (as far as the supported keywords go).
pub(crate) fn sample(schema: &Value, rng: &mut Rng) -> Value {
    Sampler { root: schema, rng }.value(schema, 0)
}

struct Sampler<'a, 'r> {
    root: &'a Value,
    rng: &'r mut Rng,
}

impl<'a> Sampler<'a, '_> {
    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        let Some(obj) = schema.as_object() else {
            // `true` (or a non-schema) accepts anything.
            return Value::String(self.rng.word().to_owned());
        };
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        if let Some(target) = obj.get("$ref").and_then(Value::as_str)
            && let Some(resolved) = self.resolve(target)
        {
            return self.value(resolved, depth + 1);
        }
        if let Some(constant) = obj.get("const") {
            return constant.clone();
        }
        if let Some(options) = obj.get("enum").and_then(Value::as_array)
            && let Some(choice) = self.rng.pick(options)
        {
            return choice.clone();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = obj.get(key).and_then(Value::as_array) {
                let usable = branches
                    .iter()
                    .find(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                    .or_else(|| branches.first());
                if let Some(branch) = usable {
                    return self.value(branch, depth + 1);
                }
            }
        }
        if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
            let merged = Value::Object(merge_all_of(obj, parts));
            return self.value(&merged, depth + 1);
        }
        match schema_type(obj) {
            "object" => self.object(obj, depth),
            "array" => self.array(obj, depth),
            "integer" => self.integer(obj),
            "number" => self.number(obj),
            "boolean" => Value::Bool(self.rng.coin()),
            "null" => Value::Null,
            _ => self.string(obj),
        }
    }

    fn resolve(&self, target: &str) -> Option<&'a Value> {
        let pointer = target.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        self.root.pointer(pointer)
    }

    fn object(&mut self, obj: &Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                if depth >= MAX_DEPTH && !required.contains(&name.as_str()) {
                    continue;
                }
                let value = self.value(prop, depth + 1);
                out.insert(name.clone(), value);
            }
        }
        for name in required {
            if !out.contains_key(name) {
                out.insert(name.to_owned(), Value::String(self.rng.word().to_owned()));
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, obj: &Map<String, Value>, depth: usize) -> Value {
        let max = obj.get("maxItems").and_then(Value::as_u64);
        let min = obj
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .min(max.unwrap_or(u64::MAX));
        // Between minItems and maxItems, but no more than 3 unless minItems asks for more.
        let count = self.rng.range(min, max.unwrap_or(u64::MAX).min(min.max(3)));
        let prefix = obj.get("prefixItems").and_then(Value::as_array);
        let items = obj.get("items");
        let unique = obj.get("uniqueItems").and_then(Value::as_bool) == Some(true);
        let mut out: Vec<Value> = Vec::new();
        let mut attempts = 0;
        while (out.len() as u64) < count && attempts < count * 8 + 8 {
            attempts += 1;
            let schema = prefix
                .and_then(|p| p.get(out.len()))
                .or(items)
                .filter(|s| s.is_object());
            let value = match schema {
                Some(s) => self.value(s, depth + 1),
                None => Value::String(self.rng.word().to_owned()),
            };
            if unique && out.contains(&value) {
                continue;
            }
            out.push(value);
        }
        Value::Array(out)
    }

    fn string(&mut self, obj: &Map<String, Value>) -> Value {
        let n = self.rng.range(1, 9999);
        let word = self.rng.word();
        let mut text = match obj.get("format").and_then(Value::as_str) {
            Some("date-time") => format!("2026-01-{:02}T{:02}:00:00Z", n % 28 + 1, n % 24),
            Some("date") => format!("2026-01-{:02}", n % 28 + 1),
            Some("time") => format!("{:02}:{:02}:00", n % 24, n % 60),
            Some("email") => format!("{word}{n}@example.com"),
            Some("uri" | "url" | "uri-reference") => format!("https://example.com/{word}/{n}"),
            Some("hostname") => format!("{word}.example.com"),
            Some("ipv4") => format!("192.0.2.{}", n % 255),
            Some("ipv6") => format!("2001:db8::{:x}", n),
            Some("uuid") => {
                let a = self.rng.next_u64();
                let b = self.rng.next_u64();
                format!(
                    "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                    a >> 32,
                    (a >> 16) & 0xffff,
                    a & 0xfff,
                    0x8000 | ((b >> 48) & 0x3fff),
                    b & 0xffff_ffff_ffff
                )
            }
            _ => {
                let count = usize::try_from(self.rng.range(1, 4)).unwrap_or(1);
                crate::generate::words(self.rng, count)
            }
        };
        let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0);
        let max = obj.get("maxLength").and_then(Value::as_u64);
        let min = usize::try_from(min).unwrap_or(usize::MAX).min(4096);
        while text.chars().count() < min {
            text.push('a');
        }
        if let Some(max) = max.and_then(|m| usize::try_from(m).ok())
            && let Some((cut, _)) = text.char_indices().nth(max)
        {
            text.truncate(cut);
        }
        Value::String(text)
    }

    fn integer(&mut self, obj: &Map<String, Value>) -> Value {
        // Bounds are clamped to ±1e15, so these float-to-integer conversions are exact.
        let (lo, hi) = bounds(obj, 1.0);
        let lo = lo.ceil() as i64;
        let hi = (hi.floor() as i64).max(lo);
        let step = obj
            .get("multipleOf")
            .and_then(Value::as_f64)
            .filter(|m| *m >= 1.0 && m.fract() == 0.0 && *m < 1e15)
            .map_or(1, |m| m as i64);
        let first = lo + (step - lo.rem_euclid(step)) % step; // smallest multiple ≥ lo
        let (base, step) = if first <= hi { (first, step) } else { (lo, 1) };
        let slots = u64::try_from((hi - base) / step).unwrap_or(0);
        let pick = i64::try_from(self.rng.below(slots.saturating_add(1))).unwrap_or(0);
        json!(base + pick * step)
    }

    fn number(&mut self, obj: &Map<String, Value>) -> Value {
        let (lo, hi) = bounds(obj, 0.01);
        let raw = lo + (hi - lo) * self.rng.unit();
        let rounded = (raw * 100.0).round() / 100.0;
        let value = if rounded >= lo && rounded <= hi {
            rounded
        } else {
            raw
        };
        Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}

/// The (inclusive) numeric range of a schema, defaulting to 0..=100; exclusive bounds are
/// tightened by `epsilon`.
fn bounds(obj: &Map<String, Value>, epsilon: f64) -> (f64, f64) {
    const LIMIT: f64 = 1e15;
    let get = |k: &str| obj.get(k).and_then(Value::as_f64);
    let mut lo = get("minimum");
    let mut hi = get("maximum");
    if let Some(x) = get("exclusiveMinimum") {
        lo = Some(lo.map_or(x + epsilon, |l| l.max(x + epsilon)));
    }
    if let Some(x) = get("exclusiveMaximum") {
        hi = Some(hi.map_or(x - epsilon, |h| h.min(x - epsilon)));
    }
    let (lo, hi) = match (lo, hi) {
        (Some(l), Some(h)) => (l, h),
        (Some(l), None) => (l, l + 100.0),
        (None, Some(h)) => (h - 100.0, h),
        (None, None) => (0.0, 100.0),
    };
    let lo = lo.clamp(-LIMIT, LIMIT);
    (lo, hi.clamp(-LIMIT, LIMIT).max(lo))
}

/// The type to generate: `type` (the first non-null one of a list), else inferred.
fn schema_type(obj: &Map<String, Value>) -> &str {
    match obj.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if obj.contains_key("properties") => "object",
        _ if obj.contains_key("items") || obj.contains_key("prefixItems") => "array",
        _ => "string",
    }
}

/// `allOf` flattened into one schema: properties and `required` united, other keys from
/// the first schema that has them.
fn merge_all_of(base: &Map<String, Value>, parts: &[Value]) -> Map<String, Value> {
    let mut merged = base.clone();
    merged.remove("allOf");
    let mut properties = merged
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut required: Vec<Value> = merged
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for part in parts.iter().filter_map(Value::as_object) {
        for (k, v) in part {
            match k.as_str() {
                "properties" => {
                    if let Some(p) = v.as_object() {
                        properties.extend(p.clone());
                    }
                }
                "required" => required.extend(v.as_array().cloned().unwrap_or_default()),
                _ => {
                    merged.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    }
    if !properties.is_empty() {
        merged.insert("properties".to_owned(), Value::Object(properties));
    }
    if !required.is_empty() {
        merged.insert("required".to_owned(), Value::Array(required));
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small validator for the same subset, to check the generator against.
    fn valid(value: &Value, schema: &Value, root: &Value) -> bool {
        let Some(obj) = schema.as_object() else {
            return true;
        };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            return valid(value, root.pointer(&r[1..]).unwrap(), root);
        }
        if let Some(c) = obj.get("const") {
            return value == c;
        }
        if let Some(e) = obj.get("enum").and_then(Value::as_array) {
            return e.contains(value);
        }
        if let Some(b) = obj.get("anyOf").and_then(Value::as_array) {
            return b.iter().any(|s| valid(value, s, root));
        }
        if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
            return parts.iter().all(|s| valid(value, s, root));
        }
        let types: Vec<&str> = match obj.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let type_ok = types.is_empty()
            || types.iter().any(|t| match *t {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "null" => value.is_null(),
                _ => false,
            });
        if !type_ok {
            return false;
        }
        if let Some(o) = value.as_object() {
            for r in obj
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !o.contains_key(r.as_str().unwrap()) {
                    return false;
                }
            }
            if let Some(props) = obj.get("properties").and_then(Value::as_object) {
                for (k, v) in o {
                    if let Some(s) = props.get(k)
                        && !valid(v, s, root)
                    {
                        return false;
                    }
                }
            }
        }
        if let Some(a) = value.as_array() {
            let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = obj
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX) as usize;
            if a.len() < min || a.len() > max {
                return false;
            }
            if let Some(items) = obj.get("items")
                && !a.iter().all(|v| valid(v, items, root))
            {
                return false;
            }
        }
        if let Some(n) = value.as_f64() {
            if obj
                .get("minimum")
                .and_then(Value::as_f64)
                .is_some_and(|m| n < m)
                || obj
                    .get("maximum")
                    .and_then(Value::as_f64)
                    .is_some_and(|m| n > m)
                || obj
                    .get("exclusiveMinimum")
                    .and_then(Value::as_f64)
                    .is_some_and(|m| n <= m)
                || obj
                    .get("exclusiveMaximum")
                    .and_then(Value::as_f64)
                    .is_some_and(|m| n >= m)
            {
                return false;
            }
            if let Some(m) = obj.get("multipleOf").and_then(Value::as_f64)
                && (n / m).fract() != 0.0
            {
                return false;
            }
        }
        if let Some(s) = value.as_str() {
            let len = s.chars().count() as u64;
            if obj
                .get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len < m)
                || obj
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| len > m)
            {
                return false;
            }
        }
        true
    }

    fn check(schema: Value) {
        for seed in 0..50 {
            let v = sample(&schema, &mut Rng::new(seed));
            assert!(
                valid(&v, &schema, &schema),
                "seed {seed}: {v} does not match {schema}"
            );
        }
    }

    #[test]
    fn objects_with_nested_arrays_and_enums() {
        check(json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 3, "maxLength": 12},
                "age": {"type": "integer", "minimum": 18, "maximum": 99},
                "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "active": {"type": "boolean"},
                "colour": {"type": "string", "enum": ["red", "green", "blue"]},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4},
                "address": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "zip": {"type": ["string", "null"]}},
                    "required": ["city", "zip"],
                    "additionalProperties": false
                },
                "even": {"type": "integer", "multipleOf": 2, "minimum": 1, "maximum": 9}
            },
            "required": ["name", "age", "score", "active", "colour", "tags", "address"]
        }));
    }

    #[test]
    fn refs_any_of_all_of_and_const() {
        check(json!({
            "$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}, "required": ["x", "y"]}},
            "type": "object",
            "properties": {
                "a": {"$ref": "#/$defs/point"},
                "b": {"anyOf": [{"type": "null"}, {"type": "integer", "maximum": -5}]},
                "c": {"allOf": [{"type": "object", "properties": {"p": {"type": "string"}}, "required": ["p"]},
                                 {"properties": {"q": {"const": 3}}, "required": ["q"]}]},
                "d": {"type": "array", "items": {"$ref": "#/$defs/point"}, "maxItems": 1}
            },
            "required": ["a", "b", "c", "d"]
        }));
    }

    #[test]
    fn recursive_schemas_terminate() {
        let schema = json!({
            "$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}}},
            "$ref": "#/$defs/node"
        });
        let value = sample(&schema, &mut Rng::new(1));
        assert!(value.is_object());
    }

    #[test]
    fn formats_and_scalars() {
        let v = sample(
            &json!({"type": "string", "format": "email"}),
            &mut Rng::new(3),
        );
        assert!(v.as_str().unwrap().contains('@'));
        let v = sample(
            &json!({"type": "string", "format": "uuid"}),
            &mut Rng::new(3),
        );
        assert_eq!(v.as_str().unwrap().len(), 36);
        assert!(sample(&json!({"type": "null"}), &mut Rng::new(3)).is_null());
        assert!(sample(&json!(true), &mut Rng::new(3)).is_string());
        let same = |s: Value| sample(&s, &mut Rng::new(9)) == sample(&s, &mut Rng::new(9));
        assert!(same(
            json!({"type": "object", "properties": {"x": {"type": "number"}}})
        ));
    }
}
