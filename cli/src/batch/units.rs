//! Durations (`30s`, `500ms`, `2m`) and rates (`5/s`, `30/min`) as written on the command line.

use std::time::Duration;

/// Parses a duration: a number with an optional unit, `ms`, `s` (the default), `m` or `h`.
///
/// Fails (with a message for people) on anything else, on negative or non-finite values.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err("a duration cannot be negative".to_owned());
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}; use ms, s, m or h (e.g. 30s, 500ms, 2m)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 30s, 500ms, 2m)"))?;
    Duration::try_from_secs_f64(value * scale)
        .map_err(|_| format!("{text:?} is not a usable duration"))
}

/// A pace: calls per second, with the burst the limiter allows after a quiet spell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rate {
    /// Sustained calls per second.
    pub(crate) per_second: f64,
}

impl Rate {
    /// The burst: about one second's worth of calls, at least one.
    pub(crate) fn burst(self) -> u32 {
        // Rounded and clamped, so the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let burst = self.per_second.round().clamp(1.0, 10_000.0) as u32;
        burst
    }
}

/// Parses a rate: `R/s` or `R/min` (also `R/sec`, `R/m`, `R/h`); a bare number is per second.
///
/// Fails on anything else and on rates that are not positive.
pub(crate) fn parse_rate(text: &str) -> Result<Rate, String> {
    let (number, unit) = text.trim().split_once('/').unwrap_or((text.trim(), "s"));
    let per = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        other => return Err(format!("unknown rate unit {other:?}; use R/s or R/min")),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a rate (e.g. 5/s, 30/min)"))?;
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("the rate must be positive, got {text:?}"));
    }
    Ok(Rate {
        per_second: value / per,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        for bad in ["-1", "1d", "", "s", "1..2s", "nan"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("5/s").unwrap().per_second, 5.0);
        assert_eq!(parse_rate("30/min").unwrap().per_second, 0.5);
        assert_eq!(parse_rate("2").unwrap().per_second, 2.0);
        assert_eq!(parse_rate("30/min").unwrap().burst(), 1);
        assert_eq!(parse_rate("20/s").unwrap().burst(), 20);
        for bad in ["0/s", "-1/s", "x/s", "5/day", "inf/s"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
