//! Stable hashing of canonical bytes.
//!
//! Every deterministic answer is a function of `hash(canonical request) ⊕ config.seed`.
//! `std`'s `DefaultHasher` is not guaranteed stable across Rust releases, so the emulator
//! uses FNV-1a 64 (simple, fixed forever) followed by the SplitMix64 finaliser to spread
//! the bits. This is not a cryptographic hash and does not need to be one.

use serde_json::Value;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// An FNV-1a 64 hasher with typed, self-delimiting writes.
#[derive(Debug, Clone)]
pub(crate) struct StableHasher(u64);

impl StableHasher {
    /// A fresh hasher.
    pub(crate) fn new() -> Self {
        StableHasher(FNV_OFFSET)
    }

    /// Feeds raw bytes.
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    /// Feeds a string followed by a 0xFF separator (a byte UTF-8 never contains), so
    /// `("ab","c")` and `("a","bc")` hash differently.
    pub(crate) fn str(&mut self, text: &str) -> &mut Self {
        self.write(text.as_bytes());
        self.write(&[0xff]);
        self
    }

    /// Feeds a number.
    pub(crate) fn u64(&mut self, value: u64) -> &mut Self {
        self.write(&value.to_le_bytes());
        self
    }

    /// The mixed 64-bit digest.
    pub(crate) fn finish(&self) -> u64 {
        mix(self.0)
    }
}

/// The SplitMix64 finaliser: a bijection that spreads every input bit over the output.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Canonical JSON: object keys sorted, no insignificant whitespace. Two bodies that differ
/// only in key order or spacing give the same text, whatever serde_json's map ordering.
pub(crate) fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(inner) = map.get(key) {
                    write_canonical(inner, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hash_parts(parts: &[&str]) -> u64 {
        let mut hasher = StableHasher::new();
        for part in parts {
            hasher.str(part);
        }
        hasher.finish()
    }

    #[test]
    fn fnv_matches_the_reference_vectors_before_mixing() {
        let mut h = StableHasher::new();
        h.write(b"a");
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
        let mut h = StableHasher::new();
        h.write(b"foobar");
        assert_eq!(h.0, 0x8594_4171_f739_67e8);
    }

    #[test]
    fn separators_keep_parts_apart() {
        assert_ne!(hash_parts(&["ab", "c"]), hash_parts(&["a", "bc"]));
        assert_eq!(hash_parts(&["ab", "c"]), hash_parts(&["ab", "c"]));
    }

    #[test]
    fn canonical_json_sorts_keys_recursively() {
        let a = json!({"b": 1, "a": {"d": [1, {"z": 1, "y": 2}], "c": "x"}});
        let b: Value =
            serde_json::from_str(r#"{ "a": {"c":"x","d":[1,{"y":2,"z":1}]}, "b":1 }"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}"#
        );
    }
}
