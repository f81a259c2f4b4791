//! Incremental Server-Sent-Events decoder (docs/PROTOCOL.md §4).
//!
//! [`SseDecoder`] turns the raw bytes of a `text/event-stream` body into [`SseEvent`]s
//! following the WHATWG "event stream interpretation" rules, not the habits of one server:
//!
//! * lines end with `\n`, `\r\n` or a lone `\r`; a `\r` at the end of one
//!   [`push`](SseDecoder::push) followed by `\n` at the start of the next is a single line
//!   end (the `\r` ends the line at once and the following `\n` is then skipped, so the
//!   decoder never waits for a byte that may never come);
//! * a UTF-8 byte order mark at the very start of the stream is ignored;
//! * `field:value` lines, with one optional space after the colon removed; a line without
//!   a colon is a field name with an empty value; lines starting with `:` are comments;
//! * `data` appends its value and a `\n` to the data buffer (so several `data:` lines are
//!   joined with `\n`), `event` sets the event type, `id` sets the event id unless the value
//!   contains NUL, `retry` is accepted only when it consists of ASCII digits; any other
//!   field is ignored;
//! * a blank line dispatches the event if the data buffer is non-empty (that is, if at least
//!   one `data` field appeared, even an empty one), after removing the one trailing `\n`;
//!   otherwise the pending event is reset and nothing is dispatched;
//! * bytes are decoded as UTF-8 one complete line at a time, so a multi-byte character split
//!   across pushes decodes correctly; invalid UTF-8 becomes U+FFFD, never an error.
//!
//! The decoder is sans-IO: the caller feeds whatever slices the transport produced with
//! [`SseDecoder::push`], drains complete events with [`SseDecoder::next_event`] until it
//! returns `None`, and calls [`SseDecoder::finish`] at the end of the body. Work is linear in
//! the input (a scan offset means no byte is examined twice, and consumed bytes are
//! compacted away lazily), and memory is bounded by the per-event limit as long as the
//! caller drains after each push: when the pending line plus the accumulated data of one
//! event exceeds the limit, [`SseError::EventTooLarge`] is returned once, the rest of that
//! event is dropped without being buffered, and decoding resumes with the next event.
//!
//! What it does **not** do: it knows nothing of JSON, chat-completion chunks, `[DONE]`,
//! keep-alives or stream errors; the layer above interprets [`SseEvent::data`]. It does no
//! IO, keeps no clock and does not reconnect: it only exposes the last event id and the
//! reconnection time it saw ([`SseDecoder::last_event_id`],
//! [`SseDecoder::reconnection_time`]) for a caller that wants to.

use std::fmt;

/// The UTF-8 byte order mark, ignored at the very start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Once the input buffer is empty, spare capacity beyond this many bytes may be released.
const MIN_RETAINED_CAPACITY: usize = 64 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event type set by the last `event:` field of this event, or `None` when there was
    /// none or it was empty (the SSE default type, `message`).
    pub event: Option<String>,
    /// The data: the values of all `data:` fields of this event joined with `\n`.
    pub data: String,
    /// The value of the last valid `id:` field of this event (`Some("")` for an empty one),
    /// or `None` when this event had none. The stream-wide last event id, which per the SSE
    /// rules persists across events, is [`SseDecoder::last_event_id`].
    pub id: Option<String>,
    /// The value of the last valid `retry:` field of this event, in milliseconds, or `None`.
    /// The stream-wide value is [`SseDecoder::reconnection_time`].
    pub retry: Option<u64>,
}

/// Errors the decoder itself can raise.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SseError {
    /// The pending line plus the data accumulated for the current event exceeded the limit.
    /// The rest of that event (up to the next blank line) is discarded; decoding continues
    /// with the following event.
    EventTooLarge {
        /// The limit in bytes that was exceeded.
        limit: usize,
    },
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EventTooLarge { limit } => {
                write!(f, "server-sent event exceeds the limit of {limit} bytes")
            }
        }
    }
}

impl std::error::Error for SseError {}

/// The field buffers of the event being assembled, and the stream-wide state fed by them.
#[derive(Debug, Clone, Default)]
struct EventState {
    /// The data buffer: every `data` value followed by `\n`.
    data: String,
    /// The event type buffer.
    event_type: String,
    /// The last valid `id` of the current event.
    id: Option<String>,
    /// The last valid `retry` of the current event.
    retry: Option<u64>,
    /// The stream-wide last event id buffer (persists across events).
    last_event_id: Option<String>,
    /// The stream-wide reconnection time (persists across events).
    reconnection_time: Option<u64>,
    /// An oversized event is being skipped until the next blank line.
    discarding: bool,
}

impl EventState {
    /// Forgets the event being assembled (keeps the stream-wide values).
    fn reset_event(&mut self) {
        self.data.clear();
        self.event_type.clear();
        self.id = None;
        self.retry = None;
    }

    /// Handles one complete line (without its line end). `dropped` tells that bytes of
    /// this line were already thrown away while discarding, so it is not blank.
    fn process_line(
        &mut self,
        line: &[u8],
        dropped: bool,
        limit: usize,
    ) -> Option<Result<SseEvent, SseError>> {
        if self.discarding {
            if line.is_empty() && !dropped {
                self.discarding = false;
                self.reset_event();
            }
            return None;
        }
        if line.is_empty() {
            return self.dispatch().map(Ok);
        }
        if self.data.len().saturating_add(line.len()) > limit {
            return Some(Err(self.start_discarding(limit)));
        }
        if line.first() == Some(&b':') {
            return None;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let (name, rest) = line.split_at(colon);
                let value = rest.get(1..).unwrap_or_default();
                (name, value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                // One allocation per event for the usual single `data:` line.
                self.data.reserve(value.len() + 1);
                push_lossy(&mut self.data, value);
                self.data.push('\n');
            }
            b"event" => {
                self.event_type.clear();
                push_lossy(&mut self.event_type, value);
            }
            // An id containing NUL is ignored.
            b"id" if !value.contains(&0) => {
                let id = String::from_utf8_lossy(value).into_owned();
                self.last_event_id = Some(id.clone());
                self.id = Some(id);
            }
            b"retry" => {
                if let Some(ms) = parse_retry(value) {
                    self.retry = Some(ms);
                    self.reconnection_time = Some(ms);
                }
            }
            _ => {}
        }
        None
    }

    /// The blank-line step: dispatches the event if the data buffer is non-empty.
    fn dispatch(&mut self) -> Option<SseEvent> {
        if self.data.is_empty() {
            self.reset_event();
            return None;
        }
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        let event_type = std::mem::take(&mut self.event_type);
        Some(SseEvent {
            event: (!event_type.is_empty()).then_some(event_type),
            data,
            id: self.id.take(),
            retry: self.retry.take(),
        })
    }

    /// Enters discard mode for the current event and returns the error to report.
    fn start_discarding(&mut self, limit: usize) -> SseError {
        self.reset_event();
        // Give the memory of the oversized event back.
        self.data = String::new();
        self.discarding = true;
        SseError::EventTooLarge { limit }
    }
}

/// Appends `bytes` as UTF-8, invalid sequences as U+FFFD. Valid text, nearly all of it, takes
/// the fast validation path (`from_utf8_lossy` walks it chunk by chunk, several times slower).
fn push_lossy(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => out.push_str(text),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// Parses a `retry` value: one or more ASCII digits that fit in a `u64`.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    value.iter().try_fold(0u64, |acc, &digit| {
        acc.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

/// Incremental, sans-IO decoder of a `text/event-stream` body.
///
/// Feed bytes with [`push`](Self::push), split anywhere; after each push call
/// [`next_event`](Self::next_event) until it returns `None`; at the end of the body call
/// [`finish`](Self::finish) (again until `None`). See the [module docs](self) for the rules.
///
/// ```text
/// let mut decoder = SseDecoder::new();
/// decoder.push(b"data: hel");
/// assert_eq!(decoder.next_event(), None);
/// decoder.push(b"lo\n\n");
/// assert_eq!(decoder.next_event().map(|e| e.map(|e| e.data)), Some(Ok("hello".into())));
/// ```
#[derive(Debug, Clone)]
pub struct SseDecoder {
    /// Received bytes; `buf[..pos]` is consumed and waits for compaction.
    buf: Vec<u8>,
    /// Start of the first unconsumed byte (the start of the pending line).
    pos: usize,
    /// Where the search for the next line end resumes (`pos <= scan <= buf.len()`).
    scan: usize,
    /// The last line ended with `\r`: a `\n` right after it belongs to that line end.
    skip_lf: bool,
    /// The start of the stream has not been checked for a byte order mark yet.
    bom_pending: bool,
    /// Bytes of the pending line were dropped while discarding an oversized event.
    dropped_prefix: bool,
    /// Maximum bytes of one event (accumulated data plus the current line).
    limit: usize,
    /// Field buffers and stream-wide values.
    state: EventState,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// The default per-event limit: 1 MiB of accumulated data plus the current line.
    pub const DEFAULT_MAX_EVENT_BYTES: usize = 1024 * 1024;

    /// A decoder with the default per-event limit ([`Self::DEFAULT_MAX_EVENT_BYTES`]).
    pub fn new() -> Self {
        Self::with_max_event_bytes(Self::DEFAULT_MAX_EVENT_BYTES)
    }

    /// A decoder that reports [`SseError::EventTooLarge`] when the data accumulated for one
    /// event plus the line being read (field name, value and all) exceeds `limit` bytes.
    pub fn with_max_event_bytes(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            pos: 0,
            scan: 0,
            skip_lf: false,
            bom_pending: true,
            dropped_prefix: false,
            limit,
            state: EventState::default(),
        }
    }

    /// Appends received bytes. Slices may be split anywhere, including inside a UTF-8
    /// sequence or between `\r` and `\n`. Nothing is decoded until
    /// [`next_event`](Self::next_event) is called; drain it after each push to keep memory
    /// bounded by the limit.
    pub fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.compact();
        let needed = self.buf.len().saturating_add(bytes.len());
        if self.buf.capacity() > MIN_RETAINED_CAPACITY && self.buf.capacity() / 4 > needed {
            self.buf.shrink_to(needed.max(MIN_RETAINED_CAPACITY));
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete event, `Some(Err(_))` once for an oversized event, or `None` when
    /// more bytes are needed.
    pub fn next_event(&mut self) -> Option<Result<SseEvent, SseError>> {
        self.drain(false)
    }

    /// Signals the end of the input and drains what is left; call it until it returns
    /// `None`.
    ///
    /// Events already terminated by a blank line are still returned. A final line without
    /// a line end counts as a complete line, but, as the SSE rules require, an event not
    /// terminated by a blank line is **not** dispatched: `data: x` followed by the end of
    /// input yields nothing. (A `\r` at the very end is a line end, so `data: x\n\r` ends
    /// with a blank line and does dispatch.) The layer above detects a truncated stream by
    /// the absence of its own terminator (`[DONE]`), not through this decoder.
    ///
    /// Once `finish` has returned `None`, the decoder is back to the state of a new stream
    /// (buffers empty, a byte order mark accepted again) but keeps
    /// [`last_event_id`](Self::last_event_id) and
    /// [`reconnection_time`](Self::reconnection_time), so it can be reused for a reconnection.
    pub fn finish(&mut self) -> Option<Result<SseEvent, SseError>> {
        self.drain(true)
    }

    /// The number of received bytes not yet consumed: the pending incomplete line plus any
    /// complete lines not yet drained. Data already accumulated for the current event is
    /// not counted.
    pub fn buffered_len(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The stream's last event id per the SSE rules: the value of the last valid `id:` field
    /// seen so far in any event, dispatched or not (`Some("")` after an empty `id:`), or
    /// `None` if there was none. This is what a reconnecting client sends as
    /// `Last-Event-ID`.
    pub fn last_event_id(&self) -> Option<&str> {
        self.state.last_event_id.as_deref()
    }

    /// The last valid `retry:` value seen so far in any event, dispatched or not, in
    /// milliseconds.
    pub fn reconnection_time(&self) -> Option<u64> {
        self.state.reconnection_time
    }

    /// Drops consumed bytes when they make up more than half of the buffer.
    fn compact(&mut self) {
        if self.pos == 0 {
            return;
        }
        if self.pos >= self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            self.scan = 0;
        } else if self.pos > self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.scan = self.scan.saturating_sub(self.pos);
            self.pos = 0;
        }
    }

    /// Puts the decoder back to the start of a new stream, keeping the stream-wide values.
    fn reset_stream(&mut self) {
        self.buf.clear();
        if self.buf.capacity() > MIN_RETAINED_CAPACITY {
            self.buf.shrink_to(MIN_RETAINED_CAPACITY);
        }
        self.pos = 0;
        self.scan = 0;
        self.skip_lf = false;
        self.bom_pending = true;
        self.dropped_prefix = false;
        self.state.reset_event();
        self.state.discarding = false;
    }

    /// Processes buffered lines until an event or error is ready, or input runs out.
    fn drain(&mut self, eof: bool) -> Option<Result<SseEvent, SseError>> {
        loop {
            if self.bom_pending {
                let avail = self.buf.get(self.pos..).unwrap_or_default();
                if avail.starts_with(BOM) {
                    self.pos += BOM.len();
                } else if BOM.starts_with(avail) && !eof {
                    // Empty, or a prefix of the mark: wait for the bytes that decide.
                    return None;
                }
                self.bom_pending = false;
                self.scan = self.scan.max(self.pos);
            }
            if self.skip_lf {
                match self.buf.get(self.pos) {
                    Some(&b'\n') => {
                        self.pos += 1;
                        self.scan = self.scan.max(self.pos);
                        self.skip_lf = false;
                    }
                    Some(_) => self.skip_lf = false,
                    None => {}
                }
            }
            let unscanned = self.buf.get(self.scan..).unwrap_or_default();
            if let Some(offset) = memchr::memchr2(b'\n', b'\r', unscanned) {
                let end = self.scan + offset;
                let start = self.pos;
                self.skip_lf = self.buf.get(end) == Some(&b'\r');
                self.pos = end + 1;
                self.scan = self.pos;
                let dropped = std::mem::take(&mut self.dropped_prefix);
                let line = self.buf.get(start..end).unwrap_or_default();
                if let Some(result) = self.state.process_line(line, dropped, self.limit) {
                    return Some(result);
                }
                continue;
            }
            self.scan = self.buf.len();
            let pending = self.buffered_len();
            if eof {
                if pending > 0 || self.dropped_prefix {
                    // The unterminated final line counts as a line.
                    let start = self.pos;
                    self.pos = self.buf.len();
                    let dropped = std::mem::take(&mut self.dropped_prefix);
                    let line = self.buf.get(start..).unwrap_or_default();
                    if let Some(result) = self.state.process_line(line, dropped, self.limit) {
                        return Some(result);
                    }
                }
                // Whatever event is still pending was not terminated: discard it.
                self.reset_stream();
                return None;
            }
            if self.state.discarding {
                if pending > 0 {
                    self.pos = self.buf.len();
                    self.dropped_prefix = true;
                }
                return None;
            }
            if self.state.data.len().saturating_add(pending) > self.limit {
                self.pos = self.buf.len();
                self.dropped_prefix = true;
                return Some(Err(self.state.start_discarding(self.limit)));
            }
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Item = Result<SseEvent, SseError>;

    fn ev(data: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: data.to_owned(),
            id: None,
            retry: None,
        }
    }

    fn drain_into(decoder: &mut SseDecoder, out: &mut Vec<Item>) {
        while let Some(item) = decoder.next_event() {
            out.push(item);
        }
    }

    fn finish_into(decoder: &mut SseDecoder, out: &mut Vec<Item>) {
        while let Some(item) = decoder.finish() {
            out.push(item);
        }
    }

    /// Pushes each chunk, draining after each one, then finishes.
    fn decode_chunks_with(mut decoder: SseDecoder, chunks: &[&[u8]]) -> Vec<Item> {
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.push(chunk);
            drain_into(&mut decoder, &mut out);
        }
        finish_into(&mut decoder, &mut out);
        out
    }

    fn decode_chunks(chunks: &[&[u8]]) -> Vec<Item> {
        decode_chunks_with(SseDecoder::new(), chunks)
    }

    fn decode(input: &[u8]) -> Vec<Item> {
        decode_chunks(&[input])
    }

    fn oks(events: &[SseEvent]) -> Vec<Item> {
        events.iter().cloned().map(Ok).collect()
    }

    #[test]
    fn data_with_and_without_space() {
        assert_eq!(decode(b"data: a\n\n"), oks(&[ev("a")]));
        assert_eq!(decode(b"data:a\n\n"), oks(&[ev("a")]));
        // Only one space is removed.
        assert_eq!(decode(b"data:  a \n\n"), oks(&[ev(" a ")]));
        assert_eq!(decode(b"data:\n\n"), oks(&[ev("")]));
        assert_eq!(decode(b"data: a:b\n\n"), oks(&[ev("a:b")]));
    }

    #[test]
    fn line_endings() {
        for input in [
            &b"data: a\n\ndata: b\n\n"[..],
            b"data: a\r\n\r\ndata: b\r\n\r\n",
            b"data: a\r\rdata: b\r\r",
            b"data: a\r\n\rdata: b\n\r\n",
            b"data: a\n\r\ndata: b\r\r\n",
        ] {
            assert_eq!(decode(input), oks(&[ev("a"), ev("b")]), "{input:?}");
        }
    }

    #[test]
    fn multi_line_data() {
        assert_eq!(
            decode(b"data: one\ndata:two\r\ndata\rdata: four\n\n"),
            oks(&[ev("one\ntwo\n\nfour")])
        );
        assert_eq!(decode(b"data\ndata\n\n"), oks(&[ev("\n")]));
    }

    #[test]
    fn comments_are_ignored() {
        assert_eq!(
            decode(b": ping\n\n:\ndata: a\n: in the middle\ndata: b\n\n: bye\n"),
            oks(&[ev("a\nb")])
        );
    }

    #[test]
    fn event_id_retry_fields() {
        let mut decoder = SseDecoder::new();
        decoder.push(b"event: update\nid: 42\nretry: 1500\ndata: x\n\ndata: y\n\n");
        assert_eq!(
            decoder.next_event(),
            Some(Ok(SseEvent {
                event: Some("update".into()),
                data: "x".into(),
                id: Some("42".into()),
                retry: Some(1500),
            }))
        );
        // Per-event fields are reset; the stream-wide values persist.
        assert_eq!(decoder.next_event(), Some(Ok(ev("y"))));
        assert_eq!(decoder.last_event_id(), Some("42"));
        assert_eq!(decoder.reconnection_time(), Some(1500));
        assert_eq!(decoder.next_event(), None);

        // Empty event type is the default type; empty id is kept as such.
        assert_eq!(
            decode(b"event:\nid\ndata: z\n\n"),
            oks(&[SseEvent {
                id: Some(String::new()),
                ..ev("z")
            }])
        );
        // An id containing NUL is ignored.
        assert_eq!(decode(b"id: a\0b\ndata: z\n\n"), oks(&[ev("z")]));
        // Fields without data still update the stream-wide values.
        let mut decoder = SseDecoder::new();
        decoder.push(b"id: 7\nretry: 10\n\n");
        assert_eq!(decoder.next_event(), None);
        assert_eq!(decoder.last_event_id(), Some("7"));
        assert_eq!(decoder.reconnection_time(), Some(10));
    }

    #[test]
    fn retry_with_non_digits_is_ignored() {
        for input in [
            &b"retry: 12a\ndata: x\n\n"[..],
            b"retry: -1\ndata: x\n\n",
            b"retry: 1.5\ndata: x\n\n",
            b"retry:\ndata: x\n\n",
            b"retry:  15\ndata: x\n\n",
            b"retry: 99999999999999999999999\ndata: x\n\n",
        ] {
            assert_eq!(decode(input), oks(&[ev("x")]), "{input:?}");
        }
        assert_eq!(
            decode(b"retry: 1\nretry: x\ndata: x\n\n"),
            oks(&[SseEvent {
                retry: Some(1),
                ..ev("x")
            }])
        );
    }

    #[test]
    fn unknown_field_and_line_without_colon() {
        assert_eq!(
            decode(b"foo: bar\nDATA: no\ndata : no\nbar\ndata: x\n\n"),
            oks(&[ev("x")])
        );
        // "event" with no colon: the type is set to "" (the default).
        assert_eq!(decode(b"event: a\nevent\ndata: x\n\n"), oks(&[ev("x")]));
    }

    #[test]
    fn empty_data_dispatches_nothing() {
        assert_eq!(decode(b"\n\n\r\n\r"), vec![]);
        assert_eq!(decode(b"event: a\nid: 1\n\n"), vec![]);
        // The event type does not leak into the next event.
        assert_eq!(decode(b"event: a\n\ndata: x\n\n"), oks(&[ev("x")]));
        assert_eq!(decode(b": only a comment\n\n"), vec![]);
    }

    #[test]
    fn bom_is_ignored_at_start_only() {
        assert_eq!(decode(b"\xEF\xBB\xBFdata: a\n\n"), oks(&[ev("a")]));
        assert_eq!(
            decode_chunks(&[b"\xEF", b"\xBB", b"\xBF", b"data: a\n\n"]),
            oks(&[ev("a")])
        );
        // A second mark is not stripped: the field name no longer matches.
        assert_eq!(decode(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n"), vec![]);
        assert_eq!(
            decode(b"data: a\n\n\xEF\xBB\xBFdata: b\n\ndata: \xEF\xBB\xBFc\n\n"),
            oks(&[ev("a"), ev("\u{FEFF}c")])
        );
        // A bare prefix of the mark is invalid UTF-8, not a mark.
        assert_eq!(decode(b"\xEF\xBBdata: a\n\n"), vec![]);
    }

    #[test]
    fn protocol_example_stream() {
        let stream = concat!(
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n",
            "\n",
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n",
            "\n",
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}\n",
            "\n",
            "data: [DONE]\n",
            "\n",
        );
        let expected = oks(&[
            ev(
                "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}",
            ),
            ev(
                "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}",
            ),
            ev(
                "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}",
            ),
            ev("[DONE]"),
        ]);
        assert_eq!(decode(stream.as_bytes()), expected);
        let bytes: Vec<&[u8]> = stream.as_bytes().chunks(7).collect();
        assert_eq!(decode_chunks(&bytes), expected);
    }

    #[test]
    fn cr_then_lf_across_pushes_is_one_line_end() {
        let mut decoder = SseDecoder::new();
        decoder.push(b"data: a\r");
        // The line is complete at once; no event yet (no blank line).
        assert_eq!(decoder.next_event(), None);
        assert_eq!(decoder.buffered_len(), 0);
        decoder.push(b"\n");
        // The LF belongs to the CR: it is not a blank line.
        assert_eq!(decoder.next_event(), None);
        decoder.push(b"\r");
        assert_eq!(decoder.next_event(), Some(Ok(ev("a"))));
        decoder.push(b"\ndata: b\n\n");
        assert_eq!(decoder.next_event(), Some(Ok(ev("b"))));
        assert_eq!(decoder.next_event(), None);
        assert_eq!(decoder.finish(), None);

        assert_eq!(
            decode_chunks(&[b"data: a\r", b"\n", b"\r", b"\n"]),
            oks(&[ev("a")])
        );
        assert_eq!(
            decode_chunks(&[b"data: a\r", b"", b"\n\r", b"\ndata: b\r", b"\r"]),
            oks(&[ev("a"), ev("b")])
        );
    }

    #[test]
    fn emoji_split_byte_by_byte() {
        let input = "data: h\u{1F338}llo \u{00E9}\u{20AC}\n\n".as_bytes();
        let chunks: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(
            decode_chunks(&chunks),
            oks(&[ev("h\u{1F338}llo \u{00E9}\u{20AC}")])
        );
    }

    #[test]
    fn invalid_utf8_becomes_replacement_character() {
        assert_eq!(
            decode(b"data: a\xFFb\xF0\x9F\x8C\n\n"),
            oks(&[ev("a\u{FFFD}b\u{FFFD}")])
        );
        assert_eq!(
            decode(b"event: \xC3\ndata: \xE2\x82\n\n"),
            oks(&[SseEvent {
                event: Some("\u{FFFD}".into()),
                ..ev("\u{FFFD}")
            }])
        );
    }

    #[test]
    fn event_too_large_then_recovery() {
        let limit = 32;
        let big = format!("data: {}\n", "x".repeat(20));
        // Accumulated data exceeds the limit on the second line.
        let input = format!("{big}{big}{big}\ndata: ok\n\n");
        assert_eq!(
            decode_chunks_with(SseDecoder::with_max_event_bytes(limit), &[input.as_bytes()]),
            vec![Err(SseError::EventTooLarge { limit }), Ok(ev("ok"))]
        );

        // One pending line larger than the limit, fed in small pieces: reported once,
        // and not buffered.
        let mut decoder = SseDecoder::with_max_event_bytes(limit);
        let mut out = Vec::new();
        decoder.push(b"data: ok1\n\ndata: ");
        drain_into(&mut decoder, &mut out);
        for _ in 0..100 {
            decoder.push(b"yyyyyyyyyy");
            drain_into(&mut decoder, &mut out);
            assert!(decoder.buffered_len() <= limit);
        }
        decoder.push(b"\ndata: still discarded\n\r\ndata: ok2\n\n");
        drain_into(&mut decoder, &mut out);
        finish_into(&mut decoder, &mut out);
        assert_eq!(
            out,
            vec![
                Ok(ev("ok1")),
                Err(SseError::EventTooLarge { limit }),
                Ok(ev("ok2"))
            ]
        );
        assert_eq!(
            SseError::EventTooLarge { limit }.to_string(),
            "server-sent event exceeds the limit of 32 bytes"
        );
    }

    #[test]
    fn finish_discards_unterminated_event() {
        assert_eq!(decode(b"data: x"), vec![]);
        assert_eq!(decode(b"data: x\n"), vec![]);
        assert_eq!(decode(b"data: x\ndata: y"), vec![]);
        assert_eq!(decode(b"data: a\n\ndata: x\n"), oks(&[ev("a")]));
        // A trailing CR is a line end, so this one is terminated.
        assert_eq!(decode(b"data: x\n\r"), oks(&[ev("x")]));

        // finish() still yields events that were complete but not drained, and then the
        // decoder is ready for a new stream.
        let mut decoder = SseDecoder::new();
        decoder.push(b"id: 9\ndata: a\n\ndata: b\n\ndata: c");
        assert_eq!(
            decoder.finish(),
            Some(Ok(SseEvent {
                id: Some("9".into()),
                ..ev("a")
            }))
        );
        assert_eq!(decoder.finish(), Some(Ok(ev("b"))));
        assert_eq!(decoder.finish(), None);
        assert_eq!(decoder.finish(), None);
        assert_eq!(decoder.buffered_len(), 0);
        decoder.push(b"\xEF\xBB\xBFdata: d\n\n");
        assert_eq!(decoder.next_event(), Some(Ok(ev("d"))));
        assert_eq!(decoder.last_event_id(), Some("9"));
    }

    #[test]
    fn buffer_is_compacted() {
        let mut decoder = SseDecoder::new();
        for _ in 0..10_000 {
            decoder.push(b"data: 0123456789\n\n: keep-alive\n");
            assert_eq!(decoder.next_event(), Some(Ok(ev("0123456789"))));
            assert_eq!(decoder.next_event(), None);
        }
        assert_eq!(decoder.buffered_len(), 0);
        assert!(decoder.buf.len() < 1024);
    }

    // ---- Property tests ----

    /// A reference implementation of the WHATWG algorithm over the whole input at once.
    fn reference(input: &[u8]) -> Vec<SseEvent> {
        let input = input.strip_prefix(BOM).unwrap_or(input);
        let text = String::from_utf8_lossy(input);
        let mut lines = Vec::new();
        let mut rest = &text[..];
        while let Some(i) = rest.find(['\r', '\n']) {
            lines.push(&rest[..i]);
            let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
            rest = &rest[i + skip..];
        }
        let (mut data, mut event, mut id, mut retry) = (String::new(), String::new(), None, None);
        let mut out = Vec::new();
        for line in lines {
            if line.is_empty() {
                if data.is_empty() {
                    event.clear();
                    id = None;
                    retry = None;
                    continue;
                }
                data.pop();
                out.push(SseEvent {
                    event: (!event.is_empty()).then(|| event.clone()),
                    data: std::mem::take(&mut data),
                    id: id.take(),
                    retry: retry.take(),
                });
                event.clear();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (name, value) = match line.split_once(':') {
                Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match name {
                "data" => {
                    data.push_str(value);
                    data.push('\n');
                }
                "event" => event = value.to_owned(),
                "id" if !value.contains('\0') => id = Some(value.to_owned()),
                "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    if let Ok(ms) = value.parse() {
                        retry = Some(ms);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Splits `bytes` at the given (unsorted, possibly repeated) indices.
    fn split_at_indices<'a>(bytes: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points {
            chunks.push(&bytes[last..p]);
            last = p;
        }
        chunks.push(&bytes[last..]);
        chunks
    }

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 :\\[\\]{}\"\u{00E9}\u{20AC}\u{1F338}\u{FEFF}\u{FFFD}]{0,12}"
    }

    #[derive(Debug, Clone)]
    struct GenEvent {
        event: SseEvent,
        /// Comments inserted before the data line of the same index (or at the end).
        comments: Vec<(prop::sample::Index, String)>,
        /// Where the `event`/`id`/`retry` fields go among the data lines.
        field_pos: prop::sample::Index,
    }

    fn gen_event() -> impl Strategy<Value = GenEvent> {
        (
            proptest::option::of("[a-z]{1,8}"),
            prop::collection::vec(text(), 1..4),
            proptest::option::of("[a-z0-9 \u{00E9}]{0,6}"),
            proptest::option::of(any::<u64>()),
            prop::collection::vec((any::<prop::sample::Index>(), text()), 0..3),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(event, data, id, retry, comments, field_pos)| GenEvent {
                event: SseEvent {
                    event,
                    data: data.join("\n"),
                    id,
                    retry,
                },
                comments,
                field_pos,
            })
    }

    /// Serialises events with the given per-line choices of line end and spacing.
    fn serialise(events: &[GenEvent], bom: bool, choices: &[u8]) -> Vec<u8> {
        let mut lines: Vec<String> = Vec::new();
        let mut choice = choices.iter().copied().cycle();
        let mut next_choice = move || choice.next().unwrap_or(0);
        let field = |name: &str, value: &str, lines: &mut Vec<String>, c: u8| {
            if value.starts_with(' ') || c & 1 == 0 {
                lines.push(format!("{name}: {value}"));
            } else {
                lines.push(format!("{name}:{value}"));
            }
        };
        for gen_event in events {
            let e = &gen_event.event;
            let data_lines: Vec<&str> = e.data.split('\n').collect();
            let field_pos = gen_event.field_pos.index(data_lines.len() + 1);
            for i in 0..=data_lines.len() {
                if i == field_pos {
                    if let Some(t) = &e.event {
                        field("event", t, &mut lines, next_choice());
                    }
                    if let Some(id) = &e.id {
                        field("id", id, &mut lines, next_choice());
                    }
                    if let Some(r) = e.retry {
                        field("retry", &r.to_string(), &mut lines, next_choice());
                    }
                }
                for (at, comment) in &gen_event.comments {
                    if at.index(data_lines.len() + 1) == i {
                        lines.push(format!(":{comment}"));
                    }
                }
                if let Some(data_line) = data_lines.get(i) {
                    field("data", data_line, &mut lines, next_choice());
                }
            }
            lines.push(String::new());
        }
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(BOM);
        }
        let mut prev_cr = false;
        for line in lines {
            out.extend_from_slice(line.as_bytes());
            // A lone CR followed by an empty line ending in LF would read as one CRLF.
            let end: &[u8] = match next_choice() % 3 {
                0 if !(prev_cr && line.is_empty()) => b"\n",
                0 | 1 => b"\r\n",
                _ => b"\r",
            };
            prev_cr = end == b"\r";
            out.extend_from_slice(end);
        }
        out
    }

    fn decode_split(decoder: SseDecoder, bytes: &[u8], cuts: &[prop::sample::Index]) -> Vec<Item> {
        decode_chunks_with(decoder, &split_at_indices(bytes, cuts))
    }

    proptest! {
        #[test]
        fn split_anywhere_roundtrips(
            events in prop::collection::vec(gen_event(), 0..6),
            bom in any::<bool>(),
            choices in prop::collection::vec(any::<u8>(), 1..16),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let bytes = serialise(&events, bom, &choices);
            let expected: Vec<Item> = events.iter().map(|e| Ok(e.event.clone())).collect();
            let whole = decode(&bytes);
            prop_assert_eq!(&whole, &expected);
            prop_assert_eq!(&decode_split(SseDecoder::new(), &bytes, &cuts), &expected);
            let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
            prop_assert_eq!(&decode_chunks(&bytewise), &expected);
        }

        #[test]
        fn arbitrary_bytes_match_reference_and_split_invariance(
            bytes in prop::collection::vec(
                prop_oneof![
                    4 => prop::sample::select(b"data:event:id:retry: \r\n0123456789xy".to_vec()),
                    1 => prop::sample::select(vec![0u8, 0xEF, 0xBB, 0xBF, 0xF0, 0x9F, 0x8C, 0xB8, 0xFF]),
                ],
                0..200,
            ),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let whole = decode(&bytes);
            let expected: Vec<Item> = reference(&bytes).into_iter().map(Ok).collect();
            prop_assert_eq!(&whole, &expected);
            prop_assert_eq!(&decode_split(SseDecoder::new(), &bytes, &cuts), &whole);
        }

        #[test]
        fn limit_handling_is_split_invariant(
            bytes in prop::collection::vec(
                prop::sample::select(b"data: xyz\r\n\n:".to_vec()),
                0..300,
            ),
            limit in 0usize..40,
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let whole = decode_chunks_with(SseDecoder::with_max_event_bytes(limit), &[&bytes]);
            let split = decode_split(SseDecoder::with_max_event_bytes(limit), &bytes, &cuts);
            prop_assert_eq!(&split, &whole);
            let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
            let bytewise = decode_chunks_with(SseDecoder::with_max_event_bytes(limit), &bytewise);
            prop_assert_eq!(&bytewise, &whole);
            for event in whole.iter().flatten() {
                prop_assert!(event.data.len() <= limit);
            }
        }
    }
}
