//! A small, stable, non-cryptographic hash for cache keys and deterministic fingerprints.
//!
//! FNV-1a (64 bit) is chosen because its output never changes between Rust versions or
//! platforms (unlike `std`'s `DefaultHasher`), so keys computed by one process match keys
//! computed by another.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over the concatenation of `parts`, each followed by a separator byte so that
/// `["ab", "c"]` and `["a", "bc"]` hash differently.
pub(crate) fn fnv1a64(parts: &[&[u8]]) -> u64 {
    let mut hash = OFFSET;
    for part in parts {
        for &byte in *part {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::fnv1a64;

    #[test]
    fn parts_are_separated() {
        assert_ne!(fnv1a64(&[b"ab", b"c"]), fnv1a64(&[b"a", b"bc"]));
        assert_eq!(fnv1a64(&[b"x"]), fnv1a64(&[b"x"]));
    }
}
