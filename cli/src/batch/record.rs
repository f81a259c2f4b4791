//! Output lines: exactly one JSON object per input line, as documented in `blossom batch
//! --help`.

use std::time::Duration;

use blossom_tokio::Error;
use serde::Serialize;
use serde_json::Value;

use super::ids::Id;
use super::job::{InputError, Kind};

/// What became of one input line.
#[derive(Debug)]
pub(crate) struct Record {
    /// The line's id.
    pub(crate) id: Id,
    /// The line number in the input.
    pub(crate) line: u64,
    /// Success or failure.
    pub(crate) outcome: Outcome,
}

/// How a line ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The call succeeded (and its file, if any, is saved).
    Ok(Success),
    /// The line could not be sent, or its call failed.
    Failed(Failed),
}

/// A successful line.
#[derive(Debug)]
pub(crate) struct Success {
    /// What it asked for.
    pub(crate) kind: Kind,
    /// The answer's text (text and chat lines).
    pub(crate) text: Option<String>,
    /// Where the answer was saved (image and speech lines).
    pub(crate) file: Option<String>,
    /// The model that answered, when known.
    pub(crate) model: Option<String>,
    /// Token usage, when the server reported it.
    pub(crate) usage: Option<Usage>,
    /// Network attempts.
    pub(crate) attempts: u32,
    /// Answered without a new generation (client cache, a shared identical call, or the
    /// server's cache).
    pub(crate) cached: bool,
    /// From the start of the call to its end.
    pub(crate) latency: Duration,
}

/// A failed line.
#[derive(Debug)]
pub(crate) struct Failed {
    /// Why.
    pub(crate) error: ErrorInfo,
    /// Network attempts (0 for input errors).
    pub(crate) attempts: u32,
    /// How long the call ran; `None` for lines never sent.
    pub(crate) latency: Option<Duration>,
}

/// Token counts of a chat answer.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Usage {
    /// In the prompt.
    pub(crate) prompt_tokens: u64,
    /// In the answer.
    pub(crate) completion_tokens: u64,
    /// Both.
    pub(crate) total_tokens: u64,
}

/// The `error` object of a failed line.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ErrorInfo {
    /// `invalid_input` for bad lines, `io` for files that could not be saved, else the
    /// SDK's error kind (`api`, `transport`, `timeout`, …).
    pub(crate) kind: String,
    /// The HTTP status, for API errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<u16>,
    /// The server's error code, or the input error's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<String>,
    /// For people.
    pub(crate) message: String,
    /// The server's request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_id: Option<String>,
}

impl ErrorInfo {
    /// The error of a failed call.
    pub(crate) fn from_sdk(error: &Error) -> Self {
        let mut message = error.message().to_owned();
        for field in error.field_errors() {
            if field.messages.iter().any(|m| *m != message) {
                let label = if field.field.is_empty() {
                    "request"
                } else {
                    &field.field
                };
                message = format!("{message}; {label}: {}", field.messages.join(", "));
            }
        }
        Self {
            kind: error.kind().as_str().to_owned(),
            status: error.status().map(|s| s.as_u16()),
            code: error.code().map(str::to_owned),
            message,
            request_id: error.request_id().map(str::to_owned),
        }
    }
}

impl Record {
    /// The line for an input that could not be sent.
    pub(crate) fn input_error(error: InputError) -> Self {
        Self {
            id: error.id,
            line: error.line,
            outcome: Outcome::Failed(Failed {
                error: ErrorInfo {
                    kind: "invalid_input".to_owned(),
                    status: None,
                    code: Some(error.code.to_owned()),
                    message: error.message,
                    request_id: None,
                },
                attempts: 0,
                latency: None,
            }),
        }
    }

    /// Whether the line succeeded.
    pub(crate) fn is_ok(&self) -> bool {
        matches!(self.outcome, Outcome::Ok(_))
    }

    /// Whether a call was made and failed (not an input error).
    pub(crate) fn is_call_failure(&self) -> bool {
        matches!(&self.outcome, Outcome::Failed(f) if f.latency.is_some())
    }

    /// The JSON line, with its newline.
    pub(crate) fn to_line(&self) -> Vec<u8> {
        let encoded = match &self.outcome {
            Outcome::Ok(s) => serde_json::to_vec(&OkLine {
                id: &self.id.value,
                ok: true,
                kind: s.kind.as_str(),
                text: s.text.as_deref(),
                file: s.file.as_deref(),
                model: s.model.as_deref(),
                usage: s.usage.as_ref(),
                attempts: s.attempts,
                cached: s.cached,
                latency_ms: millis(s.latency),
            }),
            Outcome::Failed(f) => serde_json::to_vec(&FailedLine {
                id: &self.id.value,
                ok: false,
                line: self.line,
                error: &f.error,
                attempts: f.attempts,
            }),
        };
        // Serialising these plain structs cannot fail; keep a valid line if it ever did.
        let mut line = encoded.unwrap_or_else(|_| {
            format!(
                "{{\"id\":{},\"ok\":false,\"line\":{},\"error\":{{\"kind\":\"io\",\"message\":\"the result could not be encoded\"}},\"attempts\":0}}",
                self.id.value, self.line
            )
            .into_bytes()
        });
        line.push(b'\n');
        line
    }
}

/// Whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Serialize)]
struct OkLine<'a> {
    id: &'a Value,
    ok: bool,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<&'a Usage>,
    attempts: u32,
    cached: bool,
    latency_ms: u64,
}

#[derive(Serialize)]
struct FailedLine<'a> {
    id: &'a Value,
    ok: bool,
    line: u64,
    error: &'a ErrorInfo,
    attempts: u32,
}
