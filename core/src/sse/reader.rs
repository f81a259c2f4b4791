//! The stream reader: one streamed answer as a sans-IO state machine.
//!
//! A driver that holds a stream's body does only this: it asks [`StreamReader::poll`] what
//! comes next and moves bytes. The reader owns every decision about the stream: SSE framing
//! and chunk decoding, the idle timeout (silence between bytes), the call's total deadline,
//! the verdict on how the body ended, and, after `[DONE]`, the bounded drain that lets the
//! connection go back to the pool ([`Drain`]). No driver has timeout logic of its own, so the
//! async and blocking clients behave the same to the byte and to the instant.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use blossom_core::sse::{ReadStep, StreamLimits, StreamReader};
//!
//! let start = Instant::now(); // the driver's clock
//! let mut reader = StreamReader::new(StreamLimits::default(), None, start);
//! assert!(matches!(reader.poll(start), ReadStep::Read { .. }));
//! reader.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n", start);
//! let ReadStep::Chunk(chunk) = reader.poll(start) else { unreachable!() };
//! assert_eq!(chunk.text(), "Hi");
//! // At `[DONE]` the caller sees the end at once; the rest of the body is the drain's.
//! assert!(matches!(reader.poll(start), ReadStep::End(Ok(()))));
//! let drain = reader.drain(start);
//! assert!(drain.until() <= start + Duration::from_secs(1));
//! ```

use std::time::{Duration, Instant};

use super::ChatStreamDecoder;
use crate::api::ChatChunk;
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::secret::ApiKey;

/// How long a stream may stay silent, and how much of the body after `[DONE]` is read so the
/// connection can be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamLimits {
    /// Silence (no byte at all) longer than this fails the stream with
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout). A huge value means no limit.
    pub idle_timeout: Duration,
    /// After `[DONE]`, the trailing body is read for at most this long…
    pub drain_timeout: Duration,
    /// …and at most this many bytes; past either bound the connection is dropped instead.
    pub drain_bytes: usize,
    /// The largest single SSE event; a longer one fails the stream.
    pub max_event_bytes: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(120),
            drain_timeout: Duration::from_millis(200),
            drain_bytes: 64 * 1024,
            max_event_bytes: super::SseDecoder::DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

/// What the driver does next for a stream.
#[derive(Debug)]
// The chunk moves straight on to the caller; boxing it would cost an allocation per chunk.
#[allow(clippy::large_enum_variant)]
pub enum ReadStep {
    /// Hand this chunk to the caller.
    Chunk(ChatChunk),
    /// Read more of the body. If nothing arrives by `until` (`None`: no limit), poll again
    /// at that instant: the reader then ends the stream with a timeout.
    Read {
        /// The instant to poll again without new bytes.
        until: Option<Instant>,
    },
    /// The stream is over: `Ok` after `[DONE]` (the answer is complete), or its error. The
    /// same verdict is returned on every later poll. After `Ok`, the driver may keep the body
    /// to [drain](StreamReader::drain) it; after an error it drops it.
    End(Result<(), Error>),
}

/// One streamed chat answer being read: bytes and `now` in, chunks, waits and a verdict out.
#[derive(Debug)]
pub struct StreamReader {
    decoder: ChatStreamDecoder,
    limits: StreamLimits,
    deadline: Option<Instant>,
    /// When the last byte arrived (or the head, before any).
    heard: Instant,
    /// Whether a chunk has been handed out: before that, a failure is a failed attempt.
    started: bool,
    /// How the body ended, once it has; judged after the chunks it completed are handed out.
    body_end: Option<Result<(), TransportError>>,
    verdict: Option<Result<(), Error>>,
    /// Scrubbed from every error: a server may echo the key in an error event.
    secret: Option<ApiKey>,
    /// The call's attempts so far, recorded on every error the stream ends with.
    attempts: u32,
    /// Chunks handed out so far.
    chunks: u64,
    /// The call's span, which chunk and end events are reported under.
    span: tracing::Span,
}

impl StreamReader {
    /// A reader for a body whose head arrived at `now`, bounded by the call's `deadline`.
    pub fn new(limits: StreamLimits, deadline: Option<Instant>, now: Instant) -> Self {
        Self {
            decoder: ChatStreamDecoder::with_max_event_bytes(limits.max_event_bytes),
            limits,
            deadline,
            heard: now,
            started: false,
            body_end: None,
            verdict: None,
            secret: None,
            attempts: 0,
            chunks: 0,
            span: tracing::Span::none(),
        }
    }

    /// Reports the stream's chunks (`trace`) and its end (`debug`) under `span`.
    #[must_use]
    pub fn traced(mut self, span: tracing::Span) -> Self {
        self.span = span;
        self
    }

    /// Records `attempts`, the call's attempts including this one, on the stream's errors.
    #[must_use]
    pub fn attempt(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// Scrubs `secret` from every error the stream reports.
    #[must_use]
    pub fn redacting(mut self, secret: Option<ApiKey>) -> Self {
        self.secret = secret;
        self
    }

    /// Feeds body bytes, split anywhere, received at `now`.
    pub fn push(&mut self, bytes: &[u8], now: Instant) {
        if self.verdict.is_none() && self.body_end.is_none() {
            self.heard = now;
            self.decoder.push(bytes);
        }
    }

    /// The body ended (`Ok`) or its connection failed (`Err`).
    pub fn on_body_end(&mut self, result: Result<(), TransportError>) {
        if self.body_end.is_none() {
            self.body_end = Some(result);
        }
    }

    /// Whether a chunk has reached the caller. Until then the stream's failures are the
    /// attempt's, and the retry policy may retry them: nothing was lost.
    pub fn has_started(&self) -> bool {
        self.started
    }

    /// What comes next at `now`.
    pub fn poll(&mut self, now: Instant) -> ReadStep {
        if let Some(verdict) = &self.verdict {
            return ReadStep::End(verdict.clone());
        }
        match self.decoder.next_chunk() {
            Some(Ok(chunk)) => {
                self.started = true;
                self.chunks += 1;
                tracing::trace!(parent: &self.span, chunk = self.chunks, "stream chunk");
                return ReadStep::Chunk(chunk);
            }
            Some(Err(error)) => return self.end(Err(error)),
            None => {}
        }
        if self.decoder.is_done() {
            return self.end(Ok(()));
        }
        if let Some(body_end) = self.body_end.take() {
            let error = self.ended_early(body_end);
            return self.end(Err(error));
        }
        if self.deadline.is_some_and(|d| now >= d) {
            let error = Error::timeout("the call's deadline passed while its stream was read");
            return self.end(Err(error));
        }
        let idle_until = self.heard.checked_add(self.limits.idle_timeout);
        if idle_until.is_some_and(|t| now >= t) {
            let message = format!(
                "the stream sent nothing for {:.1}s",
                self.limits.idle_timeout.as_secs_f64()
            );
            let error = if self.started {
                Error::timeout(message)
            } else {
                Error::transport(TransportError::new(TransportErrorKind::Timeout, message))
            };
            return self.end(Err(error));
        }
        let until = match (idle_until, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        ReadStep::Read { until }
    }

    /// The drain of the body after `[DONE]`, from `now`: read on until the body ends, within
    /// [`StreamLimits::drain_timeout`] and [`StreamLimits::drain_bytes`], so that the
    /// connection is reused. The caller has its answer already; the drain never delays it.
    pub fn drain(&self, now: Instant) -> Drain {
        let until = crate::time::after(now, self.limits.drain_timeout);
        Drain {
            until,
            left: self.limits.drain_bytes,
            state: DrainStep::Read { until },
        }
    }

    fn end(&mut self, verdict: Result<(), Error>) -> ReadStep {
        let attempts = self.attempts;
        let verdict = verdict.map_err(|error| {
            let error = error.with_attempts(attempts);
            match &self.secret {
                Some(secret) => error.redacted(secret.expose()),
                None => error,
            }
        });
        match &verdict {
            Ok(()) => tracing::debug!(parent: &self.span, chunks = self.chunks, "stream ended"),
            Err(error) => tracing::debug!(
                parent: &self.span,
                chunks = self.chunks,
                error = %error,
                "stream failed"
            ),
        }
        self.verdict = Some(verdict.clone());
        ReadStep::End(verdict)
    }

    /// The error for a body that ended before `[DONE]`. Before the first chunk nothing reached
    /// the caller, so it is a failed attempt like a reset before the response.
    fn ended_early(&mut self, body_end: Result<(), TransportError>) -> Error {
        match (body_end, self.started) {
            (Ok(()), true) => self
                .decoder
                .finish()
                .err()
                .unwrap_or_else(|| Error::stream("the stream ended before [DONE]")),
            (Err(error), true) => Error::stream_interrupted(error),
            (Ok(()), false) => Error::transport(TransportError::new(
                TransportErrorKind::ResetBeforeResponse,
                "the stream ended before its first event",
            )),
            // A connection that broke before anything reached the caller is a reset before
            // the response; any other failure (a body over the size limit, a timeout) keeps
            // its own kind, and its own answer to whether a retry could help.
            (Err(error), false) if error.kind() == TransportErrorKind::ResetDuringBody => {
                Error::transport(
                    TransportError::new(
                        TransportErrorKind::ResetBeforeResponse,
                        format!("the stream failed before its first event: {error}"),
                    )
                    .with_source(error),
                )
            }
            (Err(error), false) => Error::transport(error),
        }
    }
}

/// Reading the rest of a body after `[DONE]`, bounded in bytes and time. See
/// [`StreamReader::drain`].
#[derive(Debug, Clone)]
pub struct Drain {
    until: Instant,
    left: usize,
    state: DrainStep,
}

/// What the driver does next for a drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainStep {
    /// Read more of the body, waiting until `until` at most; then poll again.
    Read {
        /// When the drain gives up.
        until: Instant,
    },
    /// Stop. `reusable`: the body ended within the bounds, so the connection can be reused;
    /// otherwise the driver drops the body, which closes it.
    Stop {
        /// Whether the body was read to its end.
        reusable: bool,
    },
}

impl Drain {
    /// When the drain gives up.
    pub fn until(&self) -> Instant {
        self.until
    }

    /// `len` more trailing bytes arrived.
    pub fn on_bytes(&mut self, len: usize) {
        match self.left.checked_sub(len) {
            Some(left) => self.left = left,
            None => self.state = DrainStep::Stop { reusable: false },
        }
    }

    /// The body ended: cleanly (`true`) or with an error.
    pub fn on_end(&mut self, clean: bool) {
        if matches!(self.state, DrainStep::Read { .. }) {
            self.state = DrainStep::Stop { reusable: clean };
        }
    }

    /// What to do at `now`.
    pub fn poll(&mut self, now: Instant) -> DrainStep {
        if matches!(self.state, DrainStep::Read { .. }) && now >= self.until {
            self.state = DrainStep::Stop { reusable: false };
        }
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::testing::origin;

    const CHUNK: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n";

    fn limits() -> StreamLimits {
        StreamLimits {
            idle_timeout: Duration::from_secs(5),
            drain_timeout: Duration::from_millis(200),
            drain_bytes: 100,
            max_event_bytes: 1024,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn error_of(step: ReadStep) -> Error {
        match step {
            ReadStep::End(Err(error)) => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn waits_for_the_earlier_of_idle_and_deadline() {
        let t0 = origin();
        let mut reader = StreamReader::new(limits(), Some(t0 + ms(3000)), t0);
        assert!(matches!(reader.poll(t0), ReadStep::Read { until: Some(u) } if u == t0 + ms(3000)));
        let mut reader = StreamReader::new(limits(), None, t0);
        assert!(matches!(reader.poll(t0), ReadStep::Read { until: Some(u) } if u == t0 + ms(5000)));
        // Every byte restarts the idle clock.
        reader.push(b": ping\n\n", t0 + ms(4000));
        assert!(
            matches!(reader.poll(t0 + ms(4000)), ReadStep::Read { until: Some(u) } if u == t0 + ms(9000))
        );
    }

    #[test]
    fn a_stall_mid_stream_ends_at_the_calls_deadline_even_with_keep_alives() {
        let t0 = origin();
        let mut reader = StreamReader::new(limits(), Some(t0 + ms(2000)), t0);
        reader.push(CHUNK, t0);
        assert!(matches!(reader.poll(t0), ReadStep::Chunk(_)));
        for n in 1..4 {
            reader.push(b": ping\n\n", t0 + ms(n * 500));
        }
        let error = error_of(reader.poll(t0 + ms(2000)));
        assert_eq!(error.kind(), ErrorKind::Timeout);
        assert!(error.message().contains("deadline"), "{error}");
        // The verdict holds.
        assert_eq!(
            error_of(reader.poll(t0 + ms(9000))).kind(),
            ErrorKind::Timeout
        );
    }

    #[test]
    fn silence_past_the_idle_timeout_is_a_timeout_after_output_started() {
        let t0 = origin();
        let mut reader = StreamReader::new(
            StreamLimits {
                idle_timeout: ms(300),
                ..limits()
            },
            None,
            t0,
        );
        reader.push(CHUNK, t0);
        assert!(matches!(reader.poll(t0), ReadStep::Chunk(_)));
        let error = error_of(reader.poll(t0 + ms(300)));
        assert_eq!(error.kind(), ErrorKind::Timeout);
        assert!(error.message().contains("0.3s"), "{error}");
    }

    #[test]
    fn done_ends_at_once_whatever_follows() {
        let t0 = origin();
        let mut reader = StreamReader::new(limits(), None, t0);
        reader.push(CHUNK, t0);
        reader.push(b"data: [DONE]\n\n: ping\n\n", t0);
        assert!(matches!(reader.poll(t0), ReadStep::Chunk(_)));
        assert!(matches!(reader.poll(t0), ReadStep::End(Ok(()))));
        assert!(matches!(reader.poll(t0 + ms(10)), ReadStep::End(Ok(()))));
    }

    #[test]
    fn an_end_before_the_first_event_is_a_retryable_attempt_failure() {
        let t0 = origin();
        for end in [
            Ok(()),
            Err(TransportError::new(
                TransportErrorKind::ResetDuringBody,
                "reset",
            )),
        ] {
            let mut reader = StreamReader::new(limits(), None, t0);
            reader.push(b": ping\n\n", t0);
            reader.on_body_end(end);
            let error = error_of(reader.poll(t0));
            assert_eq!(error.kind(), ErrorKind::Transport);
            let cause = error.transport_error().map(TransportError::kind);
            assert_eq!(cause, Some(TransportErrorKind::ResetBeforeResponse));
            assert!(crate::policy::RetryPolicy::is_retryable(&error, false));
        }
    }

    #[test]
    fn an_end_after_output_is_a_stream_error_not_retried() {
        let t0 = origin();
        let mut reader = StreamReader::new(limits(), None, t0);
        reader.push(CHUNK, t0);
        reader.on_body_end(Ok(()));
        // The chunk the last bytes completed still comes first.
        assert!(matches!(reader.poll(t0), ReadStep::Chunk(_)));
        let error = error_of(reader.poll(t0));
        assert_eq!(error.kind(), ErrorKind::Stream);
        assert!(!crate::policy::RetryPolicy::is_retryable(&error, true));
    }

    #[test]
    fn the_drain_is_bounded_in_bytes_and_time() {
        let t0 = origin();
        let done = |now| {
            let mut reader = StreamReader::new(limits(), None, now);
            reader.push(b"data: [DONE]\n\n", now);
            assert!(matches!(reader.poll(now), ReadStep::End(Ok(()))));
            reader.drain(now)
        };
        let mut drain = done(t0);
        assert_eq!(
            drain.poll(t0),
            DrainStep::Read {
                until: t0 + ms(200)
            }
        );
        drain.on_bytes(60);
        drain.on_end(true);
        assert_eq!(drain.poll(t0 + ms(1)), DrainStep::Stop { reusable: true });

        let mut drain = done(t0);
        drain.on_bytes(60);
        drain.on_bytes(60);
        assert_eq!(drain.poll(t0), DrainStep::Stop { reusable: false });

        let mut drain = done(t0);
        assert_eq!(
            drain.poll(t0 + ms(200)),
            DrainStep::Stop { reusable: false }
        );
    }

    #[test]
    fn an_event_longer_than_the_limit_fails_the_stream() {
        let t0 = origin();
        let mut reader = StreamReader::new(limits(), None, t0);
        reader.push(CHUNK, t0);
        reader.push(b"data: ", t0);
        for _ in 0..20 {
            reader.push(&[b'x'; 100], t0);
        }
        assert!(matches!(reader.poll(t0), ReadStep::Chunk(_)));
        let error = error_of(reader.poll(t0));
        assert_eq!(error.kind(), ErrorKind::Stream);
    }

    #[test]
    fn a_stream_error_records_the_calls_attempts() {
        let t0 = origin();
        let mut reader = StreamReader::new(limits(), None, t0).attempt(3);
        reader.push(CHUNK, t0);
        reader.on_body_end(Ok(()));
        assert!(matches!(reader.poll(t0), ReadStep::Chunk(_)));
        assert_eq!(error_of(reader.poll(t0)).attempts(), 3);
    }
}
