//! Line ids: what the user wrote (a string or an integer, echoed back as written) and a
//! compact key for the sets that must hold every id of a job.
//!
//! A million ids held as strings cost tens of MiB; held as 128-bit keys they cost 16 bytes
//! each in a sorted list ([`DoneIds`], [`SeenIds`]), and a false match needs a 128-bit
//! collision, which does not happen. (A hash set of them costs about 35 bytes a key, and 50
//! while it grows: 51 MiB at a million lines.)

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash as _, Hasher as _};

use serde_json::Value;

/// A 128-bit digest of an id's text.
pub(crate) type IdKey = u128;

/// A set of id keys.
type IdSet = HashSet<IdKey, BuildHasherDefault<DefaultHasher>>;

/// The ids seen so far in a run, growing one line at a time: the recent ones in a small hash
/// set, the rest in a sorted list they are merged into when the set is full. About 16 bytes
/// a key, and no second copy while it grows.
#[derive(Debug, Default)]
pub(crate) struct SeenIds {
    sorted: Vec<IdKey>,
    recent: IdSet,
}

impl SeenIds {
    /// How many keys the hash set takes before they are merged into the sorted list.
    const RECENT: usize = 16 * 1024;

    /// Adds `key`; false when it was already there.
    pub(crate) fn insert(&mut self, key: IdKey) -> bool {
        if self.sorted.binary_search(&key).is_ok() || !self.recent.insert(key) {
            return false;
        }
        if self.recent.len() >= Self::RECENT {
            self.merge_recent();
        }
        true
    }

    /// Merges the recent keys into the sorted list, in place from the back.
    fn merge_recent(&mut self) {
        let mut recent: Vec<IdKey> = self.recent.drain().collect();
        recent.sort_unstable();
        let old = self.sorted.len();
        // Exactly what is needed: doubling would hold up to twice the keys' memory.
        self.sorted.reserve_exact(recent.len());
        self.sorted.resize(old + recent.len(), 0);
        let (mut from, mut to) = (old, self.sorted.len());
        while let Some(&key) = recent.last() {
            to -= 1;
            match from.checked_sub(1) {
                Some(before) if self.sorted[before] > key => {
                    self.sorted[to] = self.sorted[before];
                    from = before;
                }
                _ => {
                    self.sorted[to] = key;
                    recent.pop();
                }
            }
        }
    }
}

/// A set of id keys that is built once and then only read: a sorted list, 16 bytes a key.
#[derive(Debug, Default)]
pub(crate) struct DoneIds {
    sorted: Vec<IdKey>,
}

impl DoneIds {
    /// The set of `keys` (in any order, repeats allowed).
    pub(crate) fn new(mut keys: Vec<IdKey>) -> Self {
        keys.sort_unstable();
        keys.dedup();
        keys.shrink_to_fit();
        Self { sorted: keys }
    }

    /// Whether `key` is in the set.
    pub(crate) fn contains(&self, key: IdKey) -> bool {
        self.sorted.binary_search(&key).is_ok()
    }

    /// How many keys the set holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }
}

/// One line's id.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Id {
    /// As written (a string or an integer); the line number when the line had none.
    pub(crate) value: Value,
    /// Its text: the string itself, or the integer in decimal.
    pub(crate) text: String,
}

impl Id {
    /// The default id of a line: its line number.
    pub(crate) fn line(number: u64) -> Self {
        Self {
            value: Value::from(number),
            text: number.to_string(),
        }
    }

    /// An id from a line's `id` field, or a message saying why it cannot be one.
    pub(crate) fn from_json(value: &Value) -> Result<Self, String> {
        let text = match value {
            Value::String(text) if text.trim().is_empty() => {
                return Err("\"id\" must not be empty".to_owned());
            }
            Value::String(text) if text.len() > 512 => {
                return Err(format!("\"id\" is {} bytes; at most 512", text.len()));
            }
            Value::String(text) => text.clone(),
            Value::Number(number) if number.is_u64() || number.is_i64() => number.to_string(),
            other => {
                return Err(format!(
                    "\"id\" must be a string or an integer, got {}",
                    super::job::describe(other)
                ));
            }
        };
        Ok(Self {
            value: value.clone(),
            text,
        })
    }

    /// The key of this id.
    pub(crate) fn key(&self) -> IdKey {
        key_of(&self.text)
    }

    /// A file name stem for this id: unchanged when it is made of letters, digits, `-`, `_`
    /// and `.` (not leading), otherwise with every other byte percent-encoded, so that no id
    /// can name a path outside the media directory.
    pub(crate) fn file_stem(&self) -> String {
        let mut stem = String::with_capacity(self.text.len());
        for (i, byte) in self.text.bytes().enumerate() {
            let plain = byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
            if plain || (byte == b'.' && i > 0) {
                stem.push(char::from(byte));
            } else {
                stem.push_str(&format!("%{byte:02X}"));
            }
        }
        stem
    }
}

/// The key of an id's text: two independent SipHash digests.
pub(crate) fn key_of(text: &str) -> IdKey {
    let half = |salt: u8| {
        let mut hasher = DefaultHasher::new();
        salt.hash(&mut hasher);
        text.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn strings_and_integers_share_keys() {
        let a = Id::from_json(&Value::from("17")).unwrap();
        let b = Id::from_json(&Value::from(17)).unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(Id::line(17).key(), a.key());
        assert_ne!(a.key(), Id::line(18).key());
        assert!(Id::from_json(&Value::from(" ")).is_err());
        assert!(Id::from_json(&Value::from(1.5)).is_err());
        assert!(Id::from_json(&Value::Null).is_err());
    }

    #[test]
    fn done_ids_answer_like_a_hash_set() {
        let keys: Vec<IdKey> = (0..1000u32)
            .map(|i| key_of(&(i % 700).to_string()))
            .collect();
        let done = DoneIds::new(keys.clone());
        let model: IdSet = keys.into_iter().collect();
        assert_eq!(done.len(), 700);
        for i in 0..1400u32 {
            let key = key_of(&i.to_string());
            assert_eq!(done.contains(key), model.contains(&key), "{i}");
        }
    }

    #[test]
    fn seen_ids_answer_like_a_hash_set_across_merges() {
        let mut seen = SeenIds::default();
        let mut model = IdSet::default();
        // Enough keys for several merges, each id twice at distant points.
        let n = (SeenIds::RECENT * 5 / 2) as u32;
        for i in (0..n)
            .chain(0..n)
            .map(|i| i.wrapping_mul(2_654_435_761) % (n * 3 / 4))
        {
            let key = key_of(&i.to_string());
            assert_eq!(seen.insert(key), model.insert(key), "{i}");
        }
        assert!(seen.sorted.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(seen.sorted.len() + seen.recent.len(), model.len());
    }

    #[test]
    fn file_stems_stay_inside_the_directory() {
        let stem = |s: &str| Id::from_json(&Value::from(s)).unwrap().file_stem();
        assert_eq!(stem("img-01_a.b"), "img-01_a.b");
        assert_eq!(stem("../etc/passwd"), "%2E.%2Fetc%2Fpasswd");
        assert_eq!(stem(".hidden"), "%2Ehidden");
        assert_eq!(stem("a b"), "a%20b");
    }
}
