//! The response cache: least-recently-used, bounded in bytes, with a time to live per entry.
//!
//! Keys are 128-bit XXH3 digests of everything that decides an answer: method, scheme, host,
//! path, the query's parameters in any order, the body (the encoder writes canonical JSON:
//! fixed field order, sorted extra fields), and a fingerprint of the API key. The key itself
//! never enters the cache. 128 bits make accidental collisions (the Python SDK's cache
//! collided on prompts) practically impossible.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::{Duration, Instant};

use crate::codec::Prepared;
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

/// Cache settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// Whether answers are cached at all (the client-wide off switch).
    pub enabled: bool,
    /// Whether identical calls in flight at the same time share one network request.
    pub coalesce: bool,
    /// The most bytes of answers held.
    pub max_bytes: usize,
    /// The largest answer kept (default 64 KiB): bigger ones, images and speech, are not
    /// cached unless this is raised. Holding every distinct image costs the whole budget in
    /// memory and each new answer fresh pages (measured in `BENCHMARKS.md`: twice the client
    /// CPU of an image call, twice its memory), for a hit only when the very same media is
    /// asked for again. Identical calls in flight still share one request.
    pub max_entry_bytes: usize,
    /// How long generated answers stay fresh.
    pub ttl: Duration,
    /// How long model lists stay fresh (they change, unlike generations).
    pub models_ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            coalesce: true,
            max_bytes: 64 * 1024 * 1024,
            max_entry_bytes: 64 * 1024,
            ttl: Duration::from_secs(3600),
            models_ttl: Duration::from_secs(300),
        }
    }
}

/// Bookkeeping bytes charged per entry on top of its body.
const ENTRY_OVERHEAD: usize = 256;

/// A request's cache identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey(u128);

impl CacheKey {
    /// The identity of `prepared` sent with the key whose fingerprint is `key_identity`.
    pub fn of(prepared: &Prepared, key_identity: u64) -> Self {
        let request = prepared.request();
        let uri = request.uri();
        // The same parameters in another order ask for the same answer: each is hashed on
        // its own and the hashes are added, a sum that does not depend on their order.
        let query = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|parameter| !parameter.is_empty())
            .fold(0u64, |sum, parameter| {
                sum.wrapping_add(xxh3_64(parameter.as_bytes()))
            });
        let mut hasher = Xxh3::new();
        for part in [
            request.method().as_str().as_bytes(),
            uri.scheme_str().unwrap_or_default().as_bytes(),
            uri.authority()
                .map(|a| a.as_str())
                .unwrap_or_default()
                .as_bytes(),
            uri.path().as_bytes(),
            request.body(),
        ] {
            // Each part's length first, so that no two splits of the same bytes collide.
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.update(&query.to_le_bytes());
        hasher.update(&key_identity.to_le_bytes());
        Self(hasher.digest128())
    }
}

/// A map keyed by [`CacheKey`]s. A key is already a uniform 128-bit digest, so the map uses
/// it as its own hash instead of hashing it again.
pub(crate) type KeyMap<V> = HashMap<CacheKey, V, BuildHasherDefault<DigestHasher>>;

/// Hashes a [`CacheKey`] to its own low and high halves folded together.
#[derive(Debug, Default)]
pub(crate) struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    #[allow(clippy::cast_possible_truncation)] // folding 128 bits into 64 on purpose
    fn write_u128(&mut self, digest: u128) {
        self.0 = (digest as u64) ^ ((digest >> 64) as u64);
    }

    /// Only keys' digests reach this hasher (`write_u128`); anything else is folded in
    /// byte by byte, correct if slow.
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    size: usize,
    expires: Instant,
    tick: u64,
}

/// An LRU map bounded in bytes, with per-entry expiry.
#[derive(Debug)]
pub struct Cache<V> {
    entries: KeyMap<Entry<V>>,
    /// Use order: oldest tick first.
    order: BTreeMap<u64, CacheKey>,
    tick: u64,
    bytes: usize,
    max_bytes: usize,
}

impl<V: Clone> Cache<V> {
    /// An empty cache holding at most `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            entries: KeyMap::default(),
            order: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            max_bytes,
        }
    }

    /// The fresh value for `key`, marking it recently used; expired entries are dropped.
    pub fn get(&mut self, key: CacheKey, now: Instant) -> Option<V> {
        let entry = self.entries.get_mut(&key)?;
        if now >= entry.expires {
            self.remove(key);
            return None;
        }
        self.order.remove(&entry.tick);
        self.tick += 1;
        entry.tick = self.tick;
        self.order.insert(self.tick, key);
        Some(entry.value.clone())
    }

    /// Stores `value` of `size` body bytes for `ttl`, evicting least recently used entries
    /// until it fits. A value larger than the whole budget is not stored.
    pub fn insert(&mut self, key: CacheKey, value: V, size: usize, ttl: Duration, now: Instant) {
        let size = size.saturating_add(ENTRY_OVERHEAD);
        self.remove(key);
        if size > self.max_bytes || ttl.is_zero() {
            return;
        }
        while self.bytes + size > self.max_bytes {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(entry) = self.entries.remove(&oldest) {
                self.bytes -= entry.size;
            }
        }
        self.tick += 1;
        self.order.insert(self.tick, key);
        self.entries.insert(
            key,
            Entry {
                value,
                size,
                expires: crate::time::after(now, ttl),
                tick: self.tick,
            },
        );
        self.bytes += size;
    }

    fn remove(&mut self, key: CacheKey) {
        if let Some(entry) = self.entries.remove(&key) {
            self.order.remove(&entry.tick);
            self.bytes -= entry.size;
        }
    }

    /// Bytes held, overhead included.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientConfig;
    use crate::api::{ImageRequest, TextRequest};
    use crate::codec::Encoder;
    use crate::testing::origin;
    use proptest::prelude::*;

    fn key(n: u128) -> CacheKey {
        CacheKey(n)
    }

    #[test]
    fn lru_eviction_by_bytes() {
        let t0 = origin();
        let hour = Duration::from_secs(3600);
        let mut cache = Cache::new(3 * (100 + ENTRY_OVERHEAD));
        cache.insert(key(1), "a", 100, hour, t0);
        cache.insert(key(2), "b", 100, hour, t0);
        cache.insert(key(3), "c", 100, hour, t0);
        assert_eq!(cache.get(key(1), t0), Some("a"));
        cache.insert(key(4), "d", 100, hour, t0);
        assert_eq!(cache.get(key(2), t0), None, "2 was least recently used");
        assert_eq!(cache.get(key(1), t0), Some("a"));
        assert_eq!(cache.len(), 3);
        cache.insert(key(5), "huge", 10_000, hour, t0);
        assert_eq!(cache.get(key(5), t0), None);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn entries_expire() {
        let t0 = origin();
        let mut cache = Cache::new(10_000);
        cache.insert(key(1), 1, 10, Duration::from_secs(5), t0);
        assert_eq!(cache.get(key(1), t0 + Duration::from_secs(4)), Some(1));
        assert_eq!(cache.get(key(1), t0 + Duration::from_secs(5)), None);
        assert!(cache.is_empty());
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn keys_tell_requests_apart() {
        let encoder = Encoder::new(&ClientConfig::new()).unwrap();
        let a = encoder
            .text(
                &TextRequest::new("ab")
                    .extra_query("x", "1")
                    .extra_query("y", "2"),
            )
            .unwrap();
        let b = encoder
            .text(
                &TextRequest::new("ab")
                    .extra_query("y", "2")
                    .extra_query("x", "1"),
            )
            .unwrap();
        let c = encoder
            .text(
                &TextRequest::new("a")
                    .extra_query("bx", "1")
                    .extra_query("y", "2"),
            )
            .unwrap();
        let d = encoder.image(&ImageRequest::new("ab")).unwrap();
        assert_eq!(
            CacheKey::of(&a, 1),
            CacheKey::of(&b, 1),
            "query order does not matter"
        );
        assert_ne!(
            CacheKey::of(&a, 1),
            CacheKey::of(&a, 2),
            "keys are separated"
        );
        assert_ne!(CacheKey::of(&a, 1), CacheKey::of(&c, 1));
        assert_ne!(CacheKey::of(&a, 1), CacheKey::of(&d, 1));
    }

    proptest! {
        /// Whatever is inserted, the cache never holds more than its budget.
        #[test]
        fn never_exceeds_the_byte_budget(
            budget in 1_000usize..20_000,
            ops in proptest::collection::vec((0u128..50, 0usize..5_000, 0u64..100, any::<bool>()), 1..300),
        ) {
            let t0 = origin();
            let mut cache = Cache::new(budget);
            for (k, size, at, read) in ops {
                let now = t0 + Duration::from_millis(at);
                if read {
                    cache.get(key(k), now);
                } else {
                    cache.insert(key(k), k, size, Duration::from_millis(50), now);
                }
                prop_assert!(cache.bytes() <= budget);
                prop_assert_eq!(cache.order.len(), cache.entries.len());
            }
        }
    }
}
