//! The numbers of a fault spec: probabilities and durations, parsed from and printed as
//! the exact decimal text a user writes (`0.05`, `250ms`, `2s`, `20..200ms`).
//!
//! Probabilities are kept in billionths and durations in whole milliseconds, so printing
//! and parsing again gives back the same value, and the types compare exactly (`Eq`).

use std::fmt;
use std::time::Duration;

use crate::hash::StableHasher;

/// One, in billionths.
pub(crate) const ONE: u32 = 1_000_000_000;

/// The longest latency a spec may ask for: every injected delay stays bounded.
pub(crate) const MAX_LATENCY: Duration = Duration::from_secs(60);

/// The longest `retry_after` a spec may announce.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// A probability in billionths, `0..=ONE`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Chance(pub(crate) u32);

impl fmt::Display for Chance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / ONE;
        let fraction = self.0 % ONE;
        if fraction == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{fraction:09}");
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// Parses `0`, `1`, `0.05`, `.5`: a decimal between 0 and 1 with at most 9 decimals.
///
/// Fails with a reason for anything else.
pub(crate) fn parse_chance(text: &str) -> Result<Chance, String> {
    let expected = || format!("expected a probability between 0 and 1 like 0.05, got `{text}`");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(expected());
    }
    if fraction.len() > 9 {
        return Err(format!("`{text}` has more than 9 decimal places"));
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 1 {
        return Err(format!("probability `{text}` is above 1"));
    }
    let whole = u64::from(whole.bytes().next().map_or(0, |b| b - b'0'));
    let fraction = format!("{fraction:0<9}").parse::<u64>().unwrap_or(0);
    let value = whole * u64::from(ONE) + fraction;
    u32::try_from(value)
        .ok()
        .filter(|v| *v <= ONE)
        .map(Chance)
        .ok_or_else(|| format!("probability `{text}` is above 1"))
}

/// Parses `250ms`, `2s`, `1.5s`: a whole number of milliseconds, at most a day.
///
/// Fails when the unit is missing or unknown, the number is malformed, or the duration is
/// finer than a millisecond or longer than a day.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000)
    } else {
        return Err(format!(
            "`{text}` is not a duration: write a number and a unit, like 250ms or 2s"
        ));
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || number.ends_with('.') {
        return Err(format!("`{text}` is not a duration like 250ms or 2s"));
    }
    let places = if scale == 1000 { 3 } else { 0 };
    if fraction.trim_end_matches('0').len() > places {
        return Err(format!("`{text}` is finer than a millisecond"));
    }
    let too_long = || format!("`{text}` is longer than a day");
    let whole: u64 = whole.parse().map_err(|_| too_long())?;
    let fraction: u64 = if places == 0 {
        0
    } else {
        format!("{:0<3}", &fraction[..fraction.len().min(3)])
            .parse()
            .unwrap_or(0)
    };
    let millis = whole
        .checked_mul(scale)
        .and_then(|m| m.checked_add(fraction))
        .ok_or_else(too_long)?;
    let duration = Duration::from_millis(millis);
    if duration > MAX_RETRY_AFTER {
        return Err(too_long());
    }
    Ok(duration)
}

/// `0ms`, `250ms`, `2s`: whole seconds in `s`, anything else in `ms`.
pub(crate) fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis > 0 && millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

/// A delay drawn uniformly from `min..=max` (whole milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Latency {
    pub(crate) min: Duration,
    pub(crate) max: Duration,
}

impl Latency {
    /// The delay for request number `n` under `seed`: a pure function of both.
    pub(crate) fn draw(self, seed: u64, n: u64) -> Duration {
        let min = millis(self.min);
        let span = millis(self.max).saturating_sub(min);
        if span == 0 {
            return self.min;
        }
        let roll = StableHasher::new()
            .str("fault-latency")
            .u64(seed)
            .u64(n)
            .finish();
        Duration::from_millis(min + below(roll, span + 1))
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Maps a uniform 64-bit value onto `0..bound` without modulo bias worth the name.
pub(crate) fn below(roll: u64, bound: u64) -> u64 {
    // The product's high half is always below `bound`, so it fits in a u64.
    ((u128::from(roll) * u128::from(bound)) >> 64) as u64
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            return f.write_str(&format_duration(self.min));
        }
        let (min, max) = (millis(self.min), millis(self.max));
        if min % 1000 == 0 && max % 1000 == 0 {
            write!(f, "{}..{}s", min / 1000, max / 1000)
        } else {
            write!(f, "{min}..{max}ms")
        }
    }
}

/// Parses `300ms`, `1s`, `20..200ms` (the lower bound takes the upper bound's unit when it
/// has none) or `500ms..2s`.
///
/// Fails for malformed durations, a lower bound above the upper one, or more than
/// [`MAX_LATENCY`].
pub(crate) fn parse_latency(text: &str) -> Result<Latency, String> {
    let latency = match text.split_once("..") {
        Some((low, high)) => {
            let max = parse_duration(high)?;
            let min = if low.ends_with('s') {
                parse_duration(low)?
            } else {
                let unit = if high.ends_with("ms") { "ms" } else { "s" };
                parse_duration(&format!("{low}{unit}"))?
            };
            if min > max {
                return Err(format!("latency range `{text}` runs backwards"));
            }
            Latency { min, max }
        }
        None => {
            let delay = parse_duration(text)?;
            Latency {
                min: delay,
                max: delay,
            }
        }
    };
    if latency.max > MAX_LATENCY {
        return Err(format!(
            "latency `{text}` is over the {}s limit",
            MAX_LATENCY.as_secs()
        ));
    }
    Ok(latency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chances_parse_and_print_exactly() {
        for (text, value, printed) in [
            ("0", 0, "0"),
            ("1", ONE, "1"),
            ("1.0", ONE, "1"),
            ("0.1", 100_000_000, "0.1"),
            (".5", 500_000_000, "0.5"),
            ("0.05", 50_000_000, "0.05"),
            ("0.000000001", 1, "0.000000001"),
        ] {
            let chance = parse_chance(text).unwrap();
            assert_eq!(chance, Chance(value), "{text}");
            assert_eq!(chance.to_string(), printed);
            assert_eq!(parse_chance(printed).unwrap(), chance);
        }
        for bad in [
            "",
            ".",
            "1.5",
            "2",
            "10",
            "-0.1",
            "0.1x",
            "1e-3",
            "0.0000000001",
        ] {
            assert!(parse_chance(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_parse_and_print_exactly() {
        for (text, millis, printed) in [
            ("250ms", 250, "250ms"),
            ("2s", 2000, "2s"),
            ("1.5s", 1500, "1500ms"),
            ("0ms", 0, "0ms"),
            ("0s", 0, "0ms"),
            ("0.25s", 250, "250ms"),
        ] {
            let d = parse_duration(text).unwrap();
            assert_eq!(d, Duration::from_millis(millis), "{text}");
            assert_eq!(format_duration(d), printed);
        }
        for bad in [
            "", "20", "ms", "1.5ms", "0.0001s", "2m", "1h", "-1s", "2.s", "100000s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn latency_ranges() {
        let l = parse_latency("20..200ms").unwrap();
        assert_eq!(
            (l.min, l.max),
            (Duration::from_millis(20), Duration::from_millis(200))
        );
        assert_eq!(l.to_string(), "20..200ms");
        assert_eq!(parse_latency("1..2s").unwrap().to_string(), "1..2s");
        let mixed = parse_latency("500ms..2s").unwrap();
        assert_eq!(mixed.to_string(), "500..2000ms");
        assert_eq!(parse_latency(&mixed.to_string()).unwrap(), mixed);
        assert_eq!(parse_latency("300ms").unwrap().to_string(), "300ms");
        assert!(parse_latency("200..20ms").is_err());
        assert!(parse_latency("61s").is_err());
        assert!(parse_latency("1..").is_err());
        for n in 0..1000 {
            let d = l.draw(7, n);
            assert!(d >= l.min && d <= l.max);
        }
        assert_eq!(l.draw(7, 3), l.draw(7, 3));
    }
}
