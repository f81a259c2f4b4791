//! The kinds of fault, their token names (`503`, `reset`, `stall`, …), and the order in
//! which a random decision considers them.

use std::fmt;

/// One fault kind (latency is not a kind: it combines with any of them).
///
/// The derived order (statuses ascending, then the named kinds as declared) is the order
/// of the cumulative probabilities in a random decision, and the order a spec prints in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum FaultKind {
    /// Answer this status (408, 429, or 5xx) instead of generating.
    Status(u16),
    /// Close the TCP connection with a reset before any response byte.
    Reset,
    /// Send the head and part of the body, then close the connection.
    ResetBody,
    /// Send the head and part of the body, then nothing more.
    Stall,
    /// End an SSE stream cleanly before `data: [DONE]`.
    Truncate,
    /// End an SSE stream with an error event after some content.
    StreamError,
    /// Answer 200 with a broken body.
    Malformed,
}

/// The named kinds and their tokens.
const NAMED: [(&str, FaultKind); 6] = [
    ("reset", FaultKind::Reset),
    ("reset_body", FaultKind::ResetBody),
    ("stall", FaultKind::Stall),
    ("truncate", FaultKind::Truncate),
    ("stream_error", FaultKind::StreamError),
    ("malformed", FaultKind::Malformed),
];

impl FaultKind {
    /// The kind a token names: a status code or one of the names above.
    ///
    /// Fails with a reason for an unknown name or a status that is not a fault.
    pub(crate) fn parse(name: &str) -> Result<FaultKind, String> {
        if let Some((_, kind)) = NAMED.iter().find(|(token, _)| *token == name) {
            return Ok(*kind);
        }
        if !name.is_empty() && name.len() <= 3 && name.bytes().all(|b| b.is_ascii_digit()) {
            let code: u16 = name.parse().unwrap_or(0);
            if code == 408 || code == 429 || (500..=599).contains(&code) {
                return Ok(FaultKind::Status(code));
            }
            return Err(format!(
                "status {name} is not a fault: use 408, 429 or a 5xx status"
            ));
        }
        Err(format!(
            "unknown fault `{name}`: expected a status (408, 429, 5xx), reset, reset_body, \
             stall, truncate, stream_error, malformed, latency, retry_after or scope"
        ))
    }

    /// The token, which is also the key in [`Stats::faults`](crate::Stats::faults).
    pub(crate) fn token(self) -> String {
        match self {
            FaultKind::Status(code) => code.to_string(),
            named => NAMED
                .iter()
                .find(|(_, kind)| *kind == named)
                .map_or_else(String::new, |(token, _)| (*token).to_owned()),
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.token())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for token in [
            "408",
            "429",
            "500",
            "503",
            "520",
            "599",
            "reset",
            "reset_body",
            "stall",
            "truncate",
            "stream_error",
            "malformed",
        ] {
            assert_eq!(FaultKind::parse(token).unwrap().token(), token);
        }
        for bad in [
            "404", "200", "600", "0503", "", "resets", "Reset", "latency",
        ] {
            assert!(FaultKind::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_come_first_in_order() {
        let mut kinds = vec![
            FaultKind::Malformed,
            FaultKind::Status(503),
            FaultKind::Reset,
            FaultKind::Status(429),
        ];
        kinds.sort();
        assert_eq!(
            kinds,
            [
                FaultKind::Status(429),
                FaultKind::Status(503),
                FaultKind::Reset,
                FaultKind::Malformed
            ]
        );
    }
}
