//! Deterministic "randomness" and readable filler text from a seed.
//!
//! [`Rng`] is SplitMix64: tiny, fast, and the same sequence on every platform and Rust
//! release, which is the point: an answer is a pure function of its seed.

use crate::hash::mix;

/// A seeded SplitMix64 generator. Never seeded from the clock or the OS.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator whose whole sequence is determined by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// A value in `0..n` (0 when `n` is 0). The modulo bias is irrelevant here.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A value in `lo..=hi` (`lo` when the range is empty).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    /// A float in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        // 53 random bits, the precision of an f64 mantissa; the u64 -> f64 cast is exact.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability one half.
    pub(crate) fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// One element of a non-empty slice (`None` for an empty one).
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let len = u64::try_from(items.len()).unwrap_or(u64::MAX);
        let index = usize::try_from(self.below(len)).unwrap_or(0);
        items.get(index)
    }

    /// One word of the filler vocabulary.
    pub(crate) fn word(&mut self) -> &'static str {
        self.pick(WORDS).copied().unwrap_or("blossom")
    }
}

/// The filler vocabulary: plain, friendly words so emulated answers read like text.
const WORDS: &[&str] = &[
    "blossom",
    "petal",
    "river",
    "garden",
    "light",
    "quiet",
    "morning",
    "breeze",
    "stone",
    "cloud",
    "meadow",
    "signal",
    "bridge",
    "lantern",
    "harbor",
    "forest",
    "thread",
    "window",
    "echo",
    "amber",
    "silver",
    "orchard",
    "compass",
    "journey",
    "pattern",
    "rhythm",
    "spark",
    "canvas",
    "horizon",
    "field",
    "current",
    "season",
    "letter",
    "circle",
    "anchor",
    "feather",
    "maple",
    "willow",
    "summit",
    "valley",
    "ember",
    "crystal",
    "harvest",
    "island",
    "garnet",
    "mosaic",
    "prairie",
    "ripple",
    "shelter",
    "story",
    "tide",
    "velvet",
    "whisper",
    "zephyr",
    "bright",
    "calm",
    "clear",
    "gentle",
    "golden",
    "green",
    "steady",
    "swift",
    "warm",
    "wide",
    "careful",
    "simple",
    "patient",
    "curious",
    "honest",
    "open",
    "small",
    "distant",
    "early",
    "builds",
    "carries",
    "finds",
    "follows",
    "gathers",
    "holds",
    "keeps",
    "lifts",
    "makes",
    "opens",
    "reaches",
    "shapes",
    "shows",
    "turns",
    "waits",
    "weaves",
    "answers",
    "remembers",
    "and",
    "the",
    "a",
    "with",
    "through",
    "under",
    "over",
    "beside",
    "toward",
    "because",
];

/// `count` filler words separated by single spaces.
pub(crate) fn words(rng: &mut Rng, count: usize) -> String {
    let mut out = String::new();
    for i in 0..count {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(rng.word());
    }
    out
}

/// One sentence of `min..=max` words: capitalised, ending with a full stop.
pub(crate) fn sentence(rng: &mut Rng, min: u64, max: u64) -> String {
    let count = usize::try_from(rng.range(min, max)).unwrap_or(1).max(1);
    let text = words(rng, count);
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    out.push('.');
    out
}

/// `count` sentences joined by spaces.
pub(crate) fn sentences(rng: &mut Rng, count: usize) -> String {
    (0..count)
        .map(|_| sentence(rng, 5, 11))
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most `max_chars` characters of `text` (never splitting a character), with "…"
/// appended when something was cut.
pub(crate) fn snippet(text: &str, max_chars: usize) -> String {
    let trimmed = text.trim();
    match trimmed.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// A file-name slug: lowercase ASCII letters and digits joined by '-', at most `max`
/// bytes, `fallback` when nothing is left.
pub(crate) fn slug(text: &str, max: usize, fallback: &str) -> String {
    let mut out = String::new();
    let mut pending_dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            if out.len() >= max {
                break;
            }
            out.push(c.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        fallback.to_owned()
    } else {
        out
    }
}

/// A rough token count: whitespace-separated words. The emulator uses the same measure
/// for `max_tokens`, so a cap of N gives exactly N words.
pub(crate) fn count_tokens(text: &str) -> u64 {
    u64::try_from(text.split_whitespace().count()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(43).next_u64(), xs[0]);
    }

    #[test]
    fn range_and_unit_stay_in_bounds() {
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            let v = rng.range(3, 7);
            assert!((3..=7).contains(&v));
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(rng.range(5, 5), 5);
        assert_eq!(rng.below(0), 0);
    }

    #[test]
    fn sentences_read_like_text() {
        let s = sentence(&mut Rng::new(9), 4, 4);
        assert!(s.ends_with('.'));
        assert_eq!(count_tokens(&s), 4);
        assert!(s.chars().next().unwrap().is_uppercase());
    }

    #[test]
    fn snippet_cuts_on_char_boundaries() {
        assert_eq!(snippet("héllo 🌸 world", 7), "héllo 🌸…");
        assert_eq!(snippet("  short ", 10), "short");
    }

    #[test]
    fn slug_is_file_name_safe() {
        assert_eq!(
            slug("A red apple, on a table!", 50, "image"),
            "a-red-apple-on-a-table"
        );
        assert_eq!(slug("🌸🌸", 50, "image"), "image");
        assert!(slug(&"word ".repeat(40), 20, "x").len() <= 21);
    }
}
