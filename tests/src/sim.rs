//! A deterministic simulation of the engine against a simulated server, in virtual time.
//!
//! One thread, one event queue, one seeded generator: the same [`SimConfig`] always produces
//! the same [`SimReport`], down to its trace digest. Thousands of calls through minutes of
//! virtual time take milliseconds, which is what the sans-IO core is for.
//!
//! The driver here does what the real drivers do — poll, perform attempts, sleep until
//! `Wait`, park on `Pending`, wake the calls the engine wakes — but the "network" is a
//! function of the seed: latency, 5xx, 429 with `Retry-After`, resets, answers that never
//! come, and outage windows where every request fails. Streamed calls are read through the
//! core's [`StreamReader`] as the real drivers read them, from bodies that arrive piece by
//! piece: normal streams, keep-alive comments, stalls mid-stream, bodies cut before or after
//! their first event, and bodies held open after `[DONE]`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use blossom_core::api::{ChatRequest, TextRequest};
use blossom_core::codec::{Encoder, EndpointKind, Output};
use blossom_core::engine::{CallId, CallOptions, Engine, EngineConfig, RawResponse, Step};
use blossom_core::policy::{BreakerState, MetricsSnapshot, Priority};
use blossom_core::sse::{ReadStep, StreamReader};
use blossom_core::{ClientConfig, Error, TransportError, TransportErrorKind};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};

/// What the simulated world looks like.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of everything random: arrivals, prompts, faults, latency, the engine's jitter.
    pub seed: u64,
    /// Calls to submit.
    pub calls: usize,
    /// Virtual time between two submissions.
    pub arrival_gap: Duration,
    /// Server latency range.
    pub latency: (Duration, Duration),
    /// Probabilities of a 503, a 429 (with `Retry-After: 1`), a reset before the response,
    /// and an answer that never comes.
    pub faults: Faults,
    /// Windows of virtual time (from the start) during which every request fails with 503.
    pub outages: Vec<(Duration, Duration)>,
    /// The server's own rate limit (requests per second, burst): over it, it answers 429
    /// with `Retry-After: 1`, as the service does.
    pub server_limit: Option<(f64, f64)>,
    /// Share of calls whose prompt repeats (deterministic, so cacheable and coalescable).
    pub repeat_share: f64,
    /// Share of calls that carry a 3 s deadline.
    pub deadline_share: f64,
    /// Share of calls their caller abandons (cancels) at a random moment.
    pub cancel_share: f64,
    /// Share of calls that are streamed chats.
    pub stream_share: f64,
    /// Engine settings (the seed is overwritten with `seed`).
    pub engine: EngineConfig,
}

/// Fault probabilities per attempt.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// 503 Service Unavailable.
    pub unavailable: f64,
    /// 429 with `Retry-After: 1`.
    pub throttled: f64,
    /// Connection reset before any response byte.
    pub reset: f64,
    /// No answer at all (the attempt times out).
    pub silent: f64,
}

/// What happened.
#[derive(Debug, Clone)]
pub struct SimReport {
    /// Calls that ended with success.
    pub succeeded: usize,
    /// Calls that ended with an error, by error kind.
    pub failed: BTreeMap<&'static str, usize>,
    /// Calls their caller cancelled.
    pub cancelled: usize,
    /// Results per call: must all be exactly 1.
    pub endings: Vec<u32>,
    /// Requests the server received, with their virtual arrival time and whether they
    /// counted against the generation limit.
    pub server_requests: Vec<Duration>,
    /// First attempts and retries the driver performed.
    pub first_attempts: usize,
    /// Retries performed.
    pub retries: usize,
    /// Requests the server received during outages.
    pub requests_during_outages: usize,
    /// 429s the server's own rate limit produced.
    pub server_throttled: usize,
    /// The breaker state of the text endpoint at the end.
    pub breaker_at_end: BreakerState,
    /// Calls that succeeded after the last outage ended plus the breaker's open period.
    pub succeeded_after_recovery: usize,
    /// The engine's own metrics at the end.
    pub metrics: MetricsSnapshot,
    /// Virtual time the run covered.
    pub virtual_time: Duration,
    /// A digest of the whole trace: equal digests mean identical runs.
    pub trace_digest: u64,
    /// What the streamed calls did.
    pub streams: StreamReport,
}

/// What the streamed calls did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamReport {
    /// Streams that opened (a first event reached the caller).
    pub opened: usize,
    /// Streams read to `[DONE]`.
    pub completed: usize,
    /// Streams whose server held the body open after `[DONE]`: each ended for its caller at
    /// the `[DONE]` instant (counted in `completed` too).
    pub held_open_after_done: usize,
    /// Chunks handed to callers.
    pub chunks: usize,
    /// Attempts whose body failed before the first event (retried like a reset if allowed).
    pub failed_before_first_event: usize,
    /// Streams that failed after output started, by error kind.
    pub failed_after_output: BTreeMap<&'static str, usize>,
    /// Calls (streamed or not) that ended after their deadline: must be zero.
    pub past_deadline: usize,
}

/// How a simulated stream body behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Chunks, `[DONE]`, the end.
    Normal,
    /// Chunks between `: ping` comments, `[DONE]`, then the body held open (and pinging).
    HeldOpen,
    /// Two chunks, then silence.
    Stall,
    /// A comment, then the body ends: nothing reached the caller.
    EmptyEnd,
    /// Two chunks, then the connection resets.
    CutMidStream,
}

/// One piece of a stream body and when it arrives after the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Piece {
    Bytes(&'static [u8]),
    End,
    Reset,
}

const STREAM_CHUNK: &[u8] =
    b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok \"}}]}\n\n";
const STREAM_PING: &[u8] = b": ping\n\n";
const STREAM_DONE: &[u8] = b"data: [DONE]\n\n";

/// A stream being read by the simulated driver.
#[derive(Debug)]
struct SimStream {
    reader: StreamReader,
    body: Body,
    pieces: Vec<Piece>,
    next: usize,
    opened: bool,
    /// The instant of the reader's wait already scheduled.
    timer: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Submit(usize),
    Poll(usize),
    Answer {
        call: usize,
        attempt: u32,
    },
    AttemptTimeout {
        call: usize,
        attempt: u32,
    },
    Cancel(usize),
    /// The next piece of a stream's body arrives.
    StreamPiece {
        call: usize,
        attempt: u32,
    },
    /// A stream reader's wait ends.
    StreamTimer {
        call: usize,
        attempt: u32,
    },
}

#[derive(Debug)]
struct Live {
    id: CallId,
    /// Whether the call is a chat (answered with JSON) rather than plain text.
    chat: bool,
    attempt: u32,
    /// Whether a poll is already scheduled for now (avoids piling up duplicates).
    poll_queued: bool,
    /// Whether the call is a streamed chat, and its stream once the head arrived.
    streamed: bool,
    stream: Option<SimStream>,
    deadline: Option<Duration>,
}

/// Runs a simulation.
///
/// # Errors
/// Only if the default client configuration does not validate (it always does).
pub fn run(config: &SimConfig) -> Result<SimReport, Error> {
    Ok(Sim::new(config)?.run())
}

struct Sim<'a> {
    config: &'a SimConfig,
    rng: fastrand::Rng,
    engine: Engine,
    encoder: Encoder,
    t0: Instant,
    now: Duration,
    queue: BinaryHeap<Reverse<(Duration, u64, Event)>>,
    seq: u64,
    live: HashMap<usize, Live>,
    by_id: HashMap<CallId, usize>,
    endings: Vec<u32>,
    report: SimReport,
    digest: u64,
    woken: Vec<CallId>,
    /// The server's token bucket: tokens, and when they were last refilled.
    bucket: (f64, Duration),
    /// 429s the server's own limit produced.
    throttled: usize,
}

impl<'a> Sim<'a> {
    fn new(config: &'a SimConfig) -> Result<Self, Error> {
        let mut engine_config = config.engine.clone();
        engine_config.seed = config.seed;
        let encoder = Encoder::new(&ClientConfig::new())?;
        Ok(Self {
            config,
            rng: fastrand::Rng::with_seed(config.seed),
            engine: Engine::new(engine_config),
            encoder,
            t0: origin(),
            now: Duration::ZERO,
            queue: BinaryHeap::new(),
            seq: 0,
            live: HashMap::new(),
            by_id: HashMap::new(),
            endings: vec![0; config.calls],
            report: SimReport {
                succeeded: 0,
                failed: BTreeMap::new(),
                cancelled: 0,
                endings: Vec::new(),
                server_requests: Vec::new(),
                first_attempts: 0,
                retries: 0,
                requests_during_outages: 0,
                server_throttled: 0,
                breaker_at_end: BreakerState::Closed,
                succeeded_after_recovery: 0,
                metrics: MetricsSnapshot::default(),
                virtual_time: Duration::ZERO,
                trace_digest: 0,
                streams: StreamReport::default(),
            },
            digest: 0xcbf2_9ce4_8422_2325,
            woken: Vec::new(),
            bucket: (
                config.server_limit.map_or(0.0, |(_, burst)| burst),
                Duration::ZERO,
            ),
            throttled: 0,
        })
    }

    fn at(&self) -> Instant {
        self.t0 + self.now
    }

    fn schedule(&mut self, at: Duration, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, event)));
    }

    fn trace(&mut self, text: &str) {
        for byte in self
            .now
            .as_nanos()
            .to_le_bytes()
            .iter()
            .chain(text.as_bytes())
        {
            self.digest ^= u64::from(*byte);
            self.digest = self.digest.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn run(mut self) -> SimReport {
        let mut at = Duration::ZERO;
        for call in 0..self.config.calls {
            self.schedule(at, Event::Submit(call));
            at += self.config.arrival_gap;
        }
        while let Some(Reverse((when, _, event))) = self.queue.pop() {
            self.now = when;
            self.handle(event);
            self.wake();
        }
        let now = self.at();
        self.report.metrics = self.engine.metrics(now);
        self.report.breaker_at_end = self.engine.breaker_state(EndpointKind::Text, now);
        self.report.endings = self.endings;
        self.report.virtual_time = self.now;
        self.report.trace_digest = self.digest;
        self.report.server_throttled = self.throttled;
        self.report
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Submit(call) => self.submit(call),
            Event::Poll(call) => {
                if let Some(live) = self.live.get_mut(&call) {
                    live.poll_queued = false;
                    self.drive(call);
                }
            }
            Event::Answer { call, attempt } => self.answer(call, attempt),
            Event::StreamPiece { call, attempt } => self.stream_piece(call, attempt),
            Event::StreamTimer { call, attempt } => {
                if self.live.get(&call).is_some_and(|l| l.attempt == attempt) {
                    self.read_stream(call);
                }
            }
            Event::AttemptTimeout { call, attempt } => {
                let Some(live) = self.live.get_mut(&call) else {
                    return;
                };
                if live.attempt != attempt || live.stream.as_ref().is_some_and(|s| s.opened) {
                    return;
                }
                live.stream = None;
                let id = live.id;
                self.trace(&format!("timeout {call}"));
                let now = self.at();
                self.engine.on_attempt_timeout(id, now);
                if let Some(live) = self.live.get_mut(&call) {
                    live.attempt += 1;
                }
                self.drive(call);
            }
            Event::Cancel(call) => {
                let Some(live) = self.live.remove(&call) else {
                    return;
                };
                self.by_id.remove(&live.id);
                self.trace(&format!("cancel {call}"));
                let now = self.at();
                self.engine.cancel(live.id, now);
                self.endings[call] += 1;
                self.report.cancelled += 1;
            }
        }
    }

    fn submit(&mut self, call: usize) {
        let streamed = self.rng.f64() < self.config.stream_share;
        let repeat = !streamed && self.rng.f64() < self.config.repeat_share;
        let chat = !repeat && !streamed && self.rng.bool();
        let prepared = if streamed {
            let mut request = ChatRequest::new("openai").user(format!("stream {call}"));
            request.stream = Some(true);
            self.encoder.chat(&request)
        } else if repeat {
            let prompt = format!("popular prompt {}", self.rng.usize(0..20));
            self.encoder.text(&TextRequest::new(prompt).seed(7))
        } else if chat {
            self.encoder
                .chat(&ChatRequest::new("openai").user(format!("chat {call}")))
        } else {
            self.encoder
                .text(&TextRequest::new(format!("prompt {call}")))
        };
        let Ok(prepared) = prepared else {
            self.endings[call] += 1;
            return;
        };
        let mut options = CallOptions::default().priority(match self.rng.u8(0..10) {
            0 => Priority::Critical,
            1 | 2 => Priority::High,
            3..=7 => Priority::Normal,
            _ => Priority::Low,
        });
        let deadline = (self.rng.f64() < self.config.deadline_share).then(|| {
            options = options.clone().timeout(Duration::from_secs(3));
            self.now + Duration::from_secs(3)
        });
        let now = self.at();
        let id = self.engine.submit(prepared, options, now);
        self.trace(&format!("submit {call}"));
        self.live.insert(
            call,
            Live {
                id,
                chat,
                attempt: 0,
                poll_queued: false,
                streamed,
                stream: None,
                deadline,
            },
        );
        self.by_id.insert(id, call);
        if self.rng.f64() < self.config.cancel_share {
            let later = self.now + Duration::from_millis(self.rng.u64(0..5_000));
            self.schedule(later, Event::Cancel(call));
        }
        self.drive(call);
    }

    /// Polls the call until it needs an outside event.
    fn drive(&mut self, call: usize) {
        let Some(live) = self.live.get(&call) else {
            return;
        };
        let id = live.id;
        let now = self.at();
        match self.engine.poll(id, now) {
            Step::Send(attempt) => {
                let attempt_no = self.live.get(&call).map_or(0, |l| l.attempt);
                self.trace(&format!("send {call}/{attempt_no}"));
                if attempt_no == 0 {
                    self.report.first_attempts += 1;
                } else {
                    self.report.retries += 1;
                }
                self.report.server_requests.push(self.now);
                if self.in_outage() {
                    self.report.requests_during_outages += 1;
                }
                let (low, high) = self.config.latency;
                let spread = high.saturating_sub(low).as_micros().max(1);
                let latency = low
                    + Duration::from_micros(self.rng.u64(0..u64::try_from(spread).unwrap_or(1)));
                let silent = !self.in_outage() && self.rng.f64() < self.config.faults.silent;
                let deadline = attempt
                    .deadline
                    .map_or(Duration::MAX, |d| d.saturating_duration_since(self.t0));
                if silent || self.now + latency >= deadline {
                    self.schedule(
                        deadline,
                        Event::AttemptTimeout {
                            call,
                            attempt: attempt_no,
                        },
                    );
                } else {
                    self.schedule(
                        self.now + latency,
                        Event::Answer {
                            call,
                            attempt: attempt_no,
                        },
                    );
                }
            }
            Step::Wait(until) => {
                let at = until.saturating_duration_since(self.t0);
                self.schedule(at, Event::Poll(call));
            }
            Step::Pending => {}
            Step::Stream(_) => {
                self.trace(&format!("stream open {call}"));
                self.report.streams.opened += 1;
                // The caller holds the stream now; the reader goes on with what it has.
                self.read_stream(call);
            }
            Step::Done(result) => {
                self.finish(call, result);
                self.live.remove(&call);
                self.by_id.remove(&id);
                self.endings[call] += 1;
            }
        }
    }

    fn finish(&mut self, call: usize, result: Result<Output, Error>) {
        if let Some(deadline) = self.live.get(&call).and_then(|l| l.deadline)
            && self.now > deadline
        {
            self.report.streams.past_deadline += 1;
        }
        match result {
            Ok(_) => {
                self.trace(&format!("ok {call}"));
                self.report.succeeded += 1;
                if self.after_recovery() {
                    self.report.succeeded_after_recovery += 1;
                }
            }
            Err(error) => {
                self.trace(&format!("err {call} {}", error.kind().as_str()));
                *self.report.failed.entry(error.kind().as_str()).or_default() += 1;
            }
        }
    }

    fn answer(&mut self, call: usize, attempt: u32) {
        let Some(live) = self.live.get(&call) else {
            return;
        };
        if live.attempt != attempt {
            return;
        }
        let (id, streamed) = (live.id, live.streamed);
        let success = if live.chat { CHAT_ANSWER } else { "the answer" };
        let now = self.at();
        let roll = self.rng.f64();
        let faults = self.config.faults;
        if self.in_outage() {
            self.engine.on_response(id, raw(503, None, "down"), now);
        } else if !self.server_admits() {
            self.throttled += 1;
            self.engine
                .on_response(id, raw(429, Some("1"), "over the limit"), now);
        } else if roll < faults.unavailable {
            self.engine.on_response(id, raw(503, None, "busy"), now);
        } else if roll < faults.unavailable + faults.throttled {
            self.engine
                .on_response(id, raw(429, Some("1"), "slow down"), now);
        } else if roll < faults.unavailable + faults.throttled + faults.reset {
            let error = TransportError::new(TransportErrorKind::ResetBeforeResponse, "reset");
            self.engine.on_transport_error(id, error, now);
        } else if streamed {
            self.open_stream(call, attempt);
            return;
        } else {
            self.engine.on_response(id, raw(200, None, success), now);
        }
        if let Some(live) = self.live.get_mut(&call) {
            live.attempt += 1;
        }
        self.trace(&format!("answer {call}"));
        self.drive(call);
    }

    /// A streamed attempt got a 200 head: pick how its body behaves and start reading it.
    fn open_stream(&mut self, call: usize, attempt: u32) {
        let Some(id) = self.live.get(&call).map(|l| l.id) else {
            return;
        };
        let now = self.at();
        let Some(reader) = self
            .engine
            .on_stream_head(id, StatusCode::OK, &HeaderMap::new(), now)
        else {
            return;
        };
        let body = match self.rng.u8(0..20) {
            0..=10 => Body::Normal,
            11..=13 => Body::HeldOpen,
            14 | 15 => Body::Stall,
            16 | 17 => Body::EmptyEnd,
            _ => Body::CutMidStream,
        };
        let chunks = self.rng.usize(2..8);
        let mut pieces = Vec::new();
        match body {
            Body::Normal => {
                pieces.extend(std::iter::repeat_n(Piece::Bytes(STREAM_CHUNK), chunks));
                pieces.extend([Piece::Bytes(STREAM_DONE), Piece::End]);
            }
            Body::HeldOpen => {
                for _ in 0..chunks {
                    pieces.extend([Piece::Bytes(STREAM_PING), Piece::Bytes(STREAM_CHUNK)]);
                }
                pieces.push(Piece::Bytes(STREAM_DONE));
                pieces.extend(std::iter::repeat_n(Piece::Bytes(STREAM_PING), 50));
            }
            Body::Stall => pieces.extend([Piece::Bytes(STREAM_CHUNK); 2]),
            Body::EmptyEnd => pieces.extend([Piece::Bytes(STREAM_PING), Piece::End]),
            Body::CutMidStream => {
                pieces.extend([Piece::Bytes(STREAM_CHUNK); 2]);
                pieces.push(Piece::Reset);
            }
        }
        if let Some(live) = self.live.get_mut(&call) {
            live.stream = Some(SimStream {
                reader,
                body,
                pieces,
                next: 0,
                opened: false,
                timer: None,
            });
        }
        self.trace(&format!("stream head {call} {body:?}"));
        self.read_stream(call);
        self.schedule_piece(call, attempt);
    }

    /// The next piece of a stream body arrives after a short, seeded gap.
    fn schedule_piece(&mut self, call: usize, attempt: u32) {
        let gap = Duration::from_millis(self.rng.u64(5..120));
        self.schedule(self.now + gap, Event::StreamPiece { call, attempt });
    }

    fn stream_piece(&mut self, call: usize, attempt: u32) {
        let now = self.at();
        let Some(live) = self.live.get_mut(&call) else {
            return;
        };
        if live.attempt != attempt {
            return;
        }
        let Some(stream) = &mut live.stream else {
            return;
        };
        let Some(piece) = stream.pieces.get(stream.next).copied() else {
            return;
        };
        stream.next += 1;
        let more = stream.next < stream.pieces.len();
        match piece {
            Piece::Bytes(bytes) => stream.reader.push(bytes, now),
            Piece::End => stream.reader.on_body_end(Ok(())),
            Piece::Reset => stream.reader.on_body_end(Err(TransportError::new(
                TransportErrorKind::ResetDuringBody,
                "reset",
            ))),
        }
        self.read_stream(call);
        if more {
            self.schedule_piece(call, attempt);
        }
    }

    /// Reads a stream as far as its reader allows: hands out chunks, reports its opening and
    /// its end to the engine, or waits until the instant the reader names.
    fn read_stream(&mut self, call: usize) {
        let now = self.at();
        loop {
            let Some(live) = self.live.get_mut(&call) else {
                return;
            };
            let (id, attempt) = (live.id, live.attempt);
            let Some(stream) = &mut live.stream else {
                return;
            };
            let opened = stream.opened;
            match stream.reader.poll(now) {
                ReadStep::Chunk(_) if opened => self.report.streams.chunks += 1,
                step @ (ReadStep::Chunk(_) | ReadStep::End(Ok(()))) if !opened => {
                    // The first event: the attempt succeeded. A first chunk goes to the
                    // caller with the stream, which the next poll hands over.
                    stream.opened = true;
                    if matches!(step, ReadStep::Chunk(_)) {
                        self.report.streams.chunks += 1;
                    }
                    self.engine.on_stream_open(id, now);
                    self.drive(call);
                    return;
                }
                ReadStep::End(Ok(())) => {
                    let held = stream.body == Body::HeldOpen;
                    let drain = stream.reader.drain(now);
                    live.stream = None;
                    self.engine.on_stream_end(id, None, now);
                    self.report.streams.completed += 1;
                    if held {
                        self.report.streams.held_open_after_done += 1;
                        assert!(drain.until() > now, "the drain has a bound");
                    }
                    self.end_stream_call(call, Ok(()));
                    return;
                }
                ReadStep::End(Err(error)) if !opened => {
                    live.stream = None;
                    live.attempt += 1;
                    self.report.streams.failed_before_first_event += 1;
                    self.trace(&format!("stream failed early {call}"));
                    self.engine.on_stream_end(id, Some(&error), now);
                    self.drive(call);
                    return;
                }
                ReadStep::End(Err(error)) => {
                    live.stream = None;
                    self.engine.on_stream_end(id, Some(&error), now);
                    *self
                        .report
                        .streams
                        .failed_after_output
                        .entry(error.kind().as_str())
                        .or_default() += 1;
                    self.end_stream_call(call, Err(error));
                    return;
                }
                ReadStep::Chunk(_) => unreachable!("handled above"),
                ReadStep::Read { until } => {
                    let at = until.map(|u| u.saturating_duration_since(self.t0));
                    if let Some(at) = at
                        && stream.timer != Some(at)
                    {
                        stream.timer = Some(at);
                        self.schedule(at, Event::StreamTimer { call, attempt });
                    }
                    return;
                }
            }
        }
    }

    /// A streamed call ended for its caller.
    fn end_stream_call(&mut self, call: usize, result: Result<(), Error>) {
        let result = result.map(|()| Output::Stream(Box::default()));
        self.finish(call, result);
        if let Some(live) = self.live.remove(&call) {
            self.by_id.remove(&live.id);
        }
        self.endings[call] += 1;
    }

    /// Schedules a poll for every call the engine woke.
    fn wake(&mut self) {
        self.engine.take_woken(&mut self.woken);
        let woken = std::mem::take(&mut self.woken);
        for id in &woken {
            let Some(&call) = self.by_id.get(id) else {
                continue;
            };
            if let Some(live) = self.live.get_mut(&call)
                && !live.poll_queued
            {
                live.poll_queued = true;
                self.schedule(self.now, Event::Poll(call));
            }
        }
        self.woken = woken;
        self.woken.clear();
    }

    /// The server's token bucket: takes a token if there is one.
    fn server_admits(&mut self) -> bool {
        let Some((rate, burst)) = self.config.server_limit else {
            return true;
        };
        let (tokens, refilled) = self.bucket;
        let elapsed = self.now.saturating_sub(refilled).as_secs_f64();
        let tokens = (tokens + elapsed * rate).min(burst);
        let admitted = tokens >= 1.0;
        self.bucket = (if admitted { tokens - 1.0 } else { tokens }, self.now);
        admitted
    }

    fn in_outage(&self) -> bool {
        self.config
            .outages
            .iter()
            .any(|(start, end)| self.now >= *start && self.now < *end)
    }

    fn after_recovery(&self) -> bool {
        let open_for = self
            .config
            .engine
            .breaker
            .as_ref()
            .map_or(Duration::ZERO, |b| b.open_for);
        self.config
            .outages
            .iter()
            .map(|(_, end)| *end)
            .max()
            .is_some_and(|end| self.now > end + open_for * 2)
    }
}

const CHAT_ANSWER: &str = r#"{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"the answer"}}]}"#;

fn raw(status: u16, retry_after: Option<&'static str>, body: &'static str) -> RawResponse {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", http::HeaderValue::from_static("text/plain"));
    if let Some(value) = retry_after {
        headers.insert("retry-after", http::HeaderValue::from_static(value));
    }
    RawResponse {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers,
        body: Bytes::from_static(body.as_bytes()),
        received_at: None,
    }
}

/// The origin of virtual time; only differences from it matter.
fn origin() -> Instant {
    Instant::now()
}
