//! The engine: client-wide state and the per-call state machine (docs/ARCHITECTURE.md §2).
//!
//! A call is submitted once and then driven by a loop that asks [`Engine::poll`] what to do
//! and reports what happened with `on_*` methods. The engine does no IO and reads no clock:
//! every input carries `now`. Between submission and its single [`Step::Done`], a call moves
//! through the policies in this order:
//!
//! 1. **cache** — a fresh answer for an identical deterministic request ends the call at once;
//! 2. **coalescing** — if an identical call is already in flight, this one follows it and
//!    receives its result (success or error) without a request of its own;
//! 3. **scheduler** — a permit, by priority with aging (queued calls wait as [`Step::Pending`]);
//! 4. **rate limiter** — pacing per endpoint kind and key tier ([`Step::Wait`]), or a typed
//!    error at once when the wait would pass the call's deadline. Calls waiting for the same
//!    limiter take its slots by priority with aging, like permits: only the first in line
//!    waits for the next slot, the others until they are first;
//! 5. **circuit breaker** — an open breaker fails the call fast;
//! 6. **attempt** — [`Step::Send`]; the outcome feeds the breaker, the limiter (429s slow it
//!    down) and the retry policy, which may schedule another attempt after a backoff
//!    ([`Step::Wait`]) if the retry budget allows.
//!
//! Whenever a call's situation changes because of *another* call (a permit freed, a leader
//! finished, shutdown), the engine records it as woken; the driver drains
//! [`Engine::take_woken`] and wakes those calls' tasks.
//!
//! An attempt's deadline ([`Attempt::deadline`]) is enforced either by the driver that sent
//! it ([`Engine::on_attempt_timeout`]) or by one **watchdog** for all calls: a driver task that
//! calls [`Engine::expire_attempts`] at the instant it returns, and again whenever
//! [`Engine::take_watchdog_wake`] says an earlier deadline appeared. Attempt deadlines mostly
//! come later than the ones before them, so the watchdog wakes about once per attempt
//! timeout instead of each attempt arming a timer of its own.
//!
//! ```
//! use std::time::Instant;
//! use blossom_core::{ClientConfig, codec::Encoder, engine::{Engine, EngineConfig, Step, CallOptions}};
//! use blossom_core::api::ModelKind;
//!
//! let config = ClientConfig::new();
//! let prepared = Encoder::new(&config).unwrap().models(ModelKind::Text).unwrap();
//! let mut engine = Engine::new(EngineConfig::from_client(&config));
//! let now = Instant::now();
//! let id = engine.submit(prepared, CallOptions::default(), now);
//! let Step::Send(attempt) = engine.poll(id, now) else { unreachable!() };
//! assert_eq!(attempt.request.uri().path(), "/text/models");
//! // … the driver sends it and reports the answer:
//! engine.on_response(id, blossom_core::engine::RawResponse {
//!     status: http::StatusCode::OK,
//!     headers: http::HeaderMap::new(),
//!     body: bytes::Bytes::from_static(b"[\"openai\"]"),
//!     received_at: None,
//! }, now);
//! let Step::Done(Ok(output)) = engine.poll(id, now) else { unreachable!() };
//! assert_eq!(output.meta().attempts, 1);
//! ```

mod config;
pub mod export;
mod slots;
mod trace;

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::api::ResponseMeta;
use crate::codec::{EndpointKind, Expect, Output, Prepared, decode};
use crate::error::{Error, ErrorKind, TransportError, TransportErrorKind};
use crate::policy::breaker::{Outcome, Pass};
use crate::policy::cache::KeyMap;
use crate::policy::limiter::Hold;
use crate::policy::metrics::{BreakerStatus, Metrics, MetricsSnapshot};
use crate::policy::retry::RetryDecision;
use crate::policy::{
    Breaker, BreakerState, Cache, CacheKey, Limiter, PriorityQueue, RetryBudget, RetryPolicy,
    Scheduler,
};
use crate::secret::{ApiKey, KeyTier};
use crate::sse::StreamReader;
use slots::Slots;

pub use config::{CallOptions, EngineConfig, LimiterConfig};

/// Identifies one submitted call. Stale ids (of finished calls) are recognised and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId {
    index: u32,
    generation: u32,
}

impl CallId {
    /// Its slot: a small number, unique among the engine's live calls and reused once a call
    /// has ended, so that a driver can keep what it holds per call in a vector rather than a
    /// map. Two ids with the same slot are told apart by comparing the ids themselves.
    pub fn slot(self) -> usize {
        self.index as usize
    }
}

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.index, self.generation)
    }
}

/// One network attempt for the driver to perform.
#[derive(Debug)]
#[non_exhaustive]
pub struct Attempt {
    /// The request (the same bytes on every attempt).
    pub request: http::Request<Bytes>,
    /// Give up on this attempt at this instant and report [`Engine::on_attempt_timeout`], or
    /// leave that to a watchdog calling [`Engine::expire_attempts`] (`None`: no limit). For a
    /// stream, the attempt lasts until its first event.
    pub deadline: Option<Instant>,
    /// Whether the answer is a stream: on a success status, report the head with
    /// [`Engine::on_stream_head`], read the body with the [`StreamReader`] it returns until
    /// its first chunk ([`Engine::on_stream_open`]) or its end ([`Engine::on_stream_end`]).
    pub stream: bool,
}

/// What the driver should do next for a call. Not `#[non_exhaustive]` on purpose: a driver
/// must handle every step, so a new one is a breaking change that the compiler points out.
#[derive(Debug)]
pub enum Step {
    /// Perform this attempt, then report its outcome.
    Send(Attempt),
    /// Poll again at this instant, or earlier if the call is woken.
    Wait(Instant),
    /// Poll again when the call is woken.
    Pending,
    /// The stream is open: hand its reader to the caller. The call stays live, holding its
    /// permit, until the driver reports [`Engine::on_stream_end`]; it is not polled again.
    Stream(ResponseMeta),
    /// The call is over. The id is now stale.
    Done(Result<Output, Error>),
}

/// A complete HTTP answer, as the driver received it.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// Wall-clock time of receipt, used only to resolve a `Retry-After` date of a failure
    /// status when the answer has no `Date` header (a driver may leave it `None` for a
    /// success, and save reading the clock).
    pub received_at: Option<SystemTime>,
}

/// Proof that a call holds one of the scheduler's permits. Only admission makes one and only
/// [`Engine::release`] returns one, so a call can neither lose nor double its permit.
#[derive(Debug)]
struct Permit(());

/// What an attempt holds while it is out: its limiter tokens (taken whenever an attempt
/// starts), its breaker pass (when breakers are on), when it started and its deadline.
#[derive(Debug)]
struct Out {
    pass: Option<Pass>,
    started: Instant,
    /// When the attempt times out (`None`: never).
    deadline: Option<Instant>,
}

/// Where a call is, and what it holds there: every resource is carried by the variant that
/// holds it, so no state can claim a permit, a line place or limiter tokens it does not have.
#[derive(Debug)]
enum State {
    /// Waiting for a permit, in the scheduler's queue.
    Queued,
    /// Waiting for an identical call's result.
    Following(CacheKey),
    /// Holding a permit; about to pass the limiter and the breaker.
    Ready(Permit),
    /// Holding a permit, in line for a slot of its limiters (in `Engine::pacing[group]`).
    Pacing(Permit, usize),
    /// Holding a permit, waiting before the next attempt.
    Backoff(Permit, Instant),
    /// An attempt is out: it holds the limiter's tokens and the breaker's pass.
    InFlight(Permit, Out),
    /// A stream's head arrived; the driver reads until its first event.
    Opening(Permit, Out, ResponseMeta),
    /// A stream's first event arrived (the attempt succeeded; the limiter's tokens are held
    /// until the stream ends); the driver has not been told yet.
    StreamOpen(Permit, ResponseMeta),
    /// The driver reads the stream; permit and limiter tokens are held until its end.
    Streaming(Permit),
    /// Finished; waiting for the driver to collect the result.
    Finished(Result<Output, Error>),
}

impl State {
    /// Replaces the state with what `change` makes of it.
    fn morph(&mut self, change: impl FnOnce(Self) -> Self) {
        let old = std::mem::replace(self, Self::Queued);
        *self = change(old);
    }
}

#[derive(Debug)]
struct Call {
    prepared: Prepared,
    options: CallOptions,
    deadline: Option<Instant>,
    submitted: Instant,
    state: State,
    attempts: u32,
    last_delay: Duration,
    /// The flight this call leads (identical calls follow it).
    leads: Option<CacheKey>,
    /// Where a success is cached.
    store: Option<CacheKey>,
    /// Whether this call's wait for a limiter was counted (a metric, counted once a call).
    wait_counted: bool,
    /// Its tracing span (disabled, and free, when nothing listens).
    span: tracing::Span,
}

#[derive(Debug)]
struct Flight {
    followers: Vec<CallId>,
}

/// The engine. See the [module documentation](self).
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    calls: Slots<Call>,
    scheduler: Scheduler<CallId>,
    breakers: Option<Vec<Breaker>>,
    limiters: Vec<Limiter>,
    generation: Option<Limiter>,
    /// Calls waiting for a limiter slot, one line per group of endpoints sharing a limiter.
    pacing: Vec<PriorityQueue<CallId>>,
    slot_waiters: Vec<CallId>,
    cache: Cache<Output>,
    flights: KeyMap<Flight>,
    budget: Option<RetryBudget>,
    rng: fastrand::Rng,
    metrics: Metrics,
    woken: Vec<CallId>,
    closed: bool,
    /// Whether the first wait for a limiter was announced (once per engine).
    pacing_announced: bool,
    /// The instant the watchdog will next call [`Engine::expire_attempts`], as far as the
    /// engine knows (`None`: not before it is woken).
    watchdog_at: Option<Instant>,
    /// An attempt's deadline came before `watchdog_at`: the watchdog must be woken.
    watchdog_woken: bool,
}

impl Engine {
    /// A new engine.
    pub fn new(config: EngineConfig) -> Self {
        export::describe();
        Self {
            calls: Slots::default(),
            scheduler: Scheduler::new(config.scheduler.clone()),
            breakers: config.breaker.as_ref().map(|c| {
                EndpointKind::ALL
                    .iter()
                    .map(|_| Breaker::new(c.clone()))
                    .collect()
            }),
            limiters: config
                .limits
                .per_kind
                .iter()
                .map(|l| Limiter::new(*l))
                .collect(),
            generation: config.limits.generation.map(Limiter::new),
            pacing: (0..PACING_GROUPS)
                .map(|_| PriorityQueue::new(config.scheduler.aging))
                .collect(),
            slot_waiters: Vec::new(),
            cache: Cache::new(config.cache.max_bytes),
            flights: KeyMap::default(),
            budget: config.budget.map(RetryBudget::new),
            rng: fastrand::Rng::with_seed(config.seed),
            metrics: Metrics::default(),
            woken: Vec::new(),
            closed: false,
            pacing_announced: false,
            watchdog_at: None,
            watchdog_woken: false,
            config,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Submits a call. It ends with exactly one [`Step::Done`].
    pub fn submit(&mut self, prepared: Prepared, options: CallOptions, now: Instant) -> CallId {
        self.metrics.submitted += 1;
        let deadline = options.deadline_from(now);
        let span = trace::call_span(&prepared);
        // Stored first and placed where it lies: a call is large, and is moved once.
        let id = self.insert(Call {
            prepared,
            options,
            deadline,
            submitted: now,
            state: State::Queued,
            attempts: 0,
            last_delay: Duration::ZERO,
            leads: None,
            store: None,
            wait_counted: false,
            span,
        });
        if self.place(id, now) {
            self.note_running();
        }
        export::occupancy(self.scheduler.running(), self.scheduler.queued());
        id
    }

    /// Decides where a new call starts: refused (shutdown), answered from the cache,
    /// following an identical call in flight, running, or queued for a permit. Returns
    /// whether it took a permit.
    fn place(&mut self, id: CallId, now: Instant) -> bool {
        let Self {
            config,
            calls,
            scheduler,
            cache,
            flights,
            metrics,
            closed,
            ..
        } = self;
        let Some(call) = calls.get_mut(id) else {
            return false;
        };
        let endpoint = call.prepared.endpoint();
        if *closed {
            metrics.failed(ErrorKind::Shutdown);
            export::call_ended(endpoint, ErrorKind::Shutdown.as_str(), Duration::ZERO);
            tracing::debug!(parent: &call.span, "refused: the client is shutting down");
            call.state = State::Finished(Err(Error::shutdown(
                "the client is shutting down and accepts no new calls",
            )));
            return false;
        }
        let rules = &config.cache;
        let shareable = call.prepared.is_deterministic() && !call.prepared.is_stream();
        let key = (shareable && (rules.enabled || rules.coalesce))
            .then(|| CacheKey::of(&call.prepared, config.key_identity));
        if let Some(key) = key {
            if rules.enabled {
                call.store = Some(key);
            }
            if !call.options.no_cache {
                if rules.enabled
                    && let Some(mut hit) = cache.get(key, now)
                {
                    metrics.cache_hits += 1;
                    metrics.succeeded += 1;
                    export::count(export::CACHE_HITS_TOTAL, endpoint);
                    export::call_ended(endpoint, "ok", Duration::ZERO);
                    metrics.latency(endpoint, Duration::ZERO);
                    let meta = hit.meta_mut();
                    meta.cached = true;
                    meta.attempts = 0;
                    call.state = State::Finished(Ok(hit));
                    tracing::debug!(parent: &call.span, "answered from the cache");
                    return false;
                }
                if rules.coalesce {
                    if let Some(flight) = flights.get_mut(&key) {
                        call.state = State::Following(key);
                        tracing::debug!(
                            parent: &call.span,
                            "coalesced: waits for an identical call in flight"
                        );
                        flight.followers.push(id);
                        metrics.coalesced += 1;
                        export::count(export::COALESCED_TOTAL, endpoint);
                        return false;
                    }
                    call.leads = Some(key);
                    flights.insert(
                        key,
                        Flight {
                            followers: Vec::new(),
                        },
                    );
                }
            }
        }
        if scheduler.try_admit() {
            call.state = State::Ready(Permit(()));
            return true;
        }
        tracing::debug!(parent: &call.span, "queued for a permit");
        scheduler.enqueue(id, call.options.priority, now);
        false
    }

    /// Stores a new call and names its span.
    fn insert(&mut self, call: Call) -> CallId {
        let id = self.calls.insert(call);
        if let Some(call) = self.calls.get(id) {
            trace::name_call(&call.span, id);
        }
        id
    }

    /// What to do next for `id`.
    pub fn poll(&mut self, id: CallId, now: Instant) -> Step {
        let step = self.step(id, now);
        self.admit_queued(now);
        step
    }

    fn step(&mut self, id: CallId, now: Instant) -> Step {
        let Some(call) = self.calls.get_mut(id) else {
            return Step::Done(Err(unknown_call()));
        };
        let expired = call.deadline.is_some_and(|d| now >= d);
        match &call.state {
            State::Finished(_) => {}
            State::InFlight(..) | State::Opening(..) | State::Streaming(_) => {
                return Step::Pending;
            }
            State::StreamOpen(..) => {
                let mut opened = None;
                call.state.morph(|state| match state {
                    State::StreamOpen(permit, meta) => {
                        opened = Some(meta);
                        State::Streaming(permit)
                    }
                    other => other,
                });
                let mut meta = opened.unwrap_or_default();
                meta.attempts = call.attempts;
                return Step::Stream(meta);
            }
            _ if expired => {
                let error = deadline_error(call.attempts);
                self.finish(id, Err(error), now, false);
            }
            State::Queued | State::Following(_) => {
                return call.deadline.map_or(Step::Pending, Step::Wait);
            }
            State::Backoff(_, until) if now < *until => return Step::Wait(*until),
            State::Backoff(..) | State::Ready(_) | State::Pacing(..) => {
                return self.start_attempt(id, now);
            }
        }
        let state = self
            .calls
            .remove_with(id, |call| std::mem::replace(&mut call.state, State::Queued));
        match state {
            Some(State::Finished(result)) => Step::Done(result),
            _ => Step::Done(Err(unknown_call())),
        }
    }

    /// Passes the limiter and the breaker, then sends.
    fn start_attempt(&mut self, id: CallId, now: Instant) -> Step {
        let Some(call) = self.calls.get_mut(id) else {
            return Step::Done(Err(unknown_call()));
        };
        call.state.morph(|state| match state {
            State::Backoff(permit, _) => State::Ready(permit),
            other => other,
        });
        let endpoint = call.prepared.endpoint();
        let deadline = call.deadline;
        let span = call.span.id();
        let group = self.pacing_group(endpoint);
        match self.check_limits(endpoint, now) {
            Ok(()) => {
                if let Some(first) = self.first_in_line(group, id, now) {
                    // A more urgent call waits for this limiter and may go now: it goes
                    // first; this one waits until it is first in line.
                    self.woken.push(first);
                    self.join_pacing(id, group, now);
                    return deadline.map_or(Step::Pending, Step::Wait);
                }
            }
            Err(Hold::Until(at)) => {
                let wait = at.saturating_duration_since(now);
                if deadline.is_some_and(|d| at >= d) {
                    tracing::debug!(
                        parent: span.clone(),
                        wait_ms = trace::ms(wait),
                        "rate limited: the limiter's next slot comes after the call's deadline"
                    );
                    let error = Error::rate_limited(wait);
                    self.finish(id, Err(error), now, false);
                    return self.step(id, now);
                }
                tracing::debug!(
                    parent: span.clone(),
                    wait_ms = trace::ms(wait),
                    "paced by the rate limiter"
                );
                self.join_pacing(id, group, now);
                match self.pacing[group].peek(now) {
                    Some(first) if first == id => return Step::Wait(at),
                    // Aging may have made another call first since it was last woken: wake
                    // it, so that the first in line always waits for the slot itself.
                    Some(first) => self.woken.push(first),
                    None => {}
                }
                return deadline.map_or(Step::Pending, Step::Wait);
            }
            Err(Hold::Slot) => {
                tracing::debug!(
                    parent: span.clone(),
                    "paced: waits for a rate-limiter slot (concurrency limit)"
                );
                self.note_wait(id);
                if !self.slot_waiters.contains(&id) {
                    self.slot_waiters.push(id);
                }
                return deadline.map_or(Step::Pending, Step::Wait);
            }
        }
        let mut pass = None;
        if let Some(breakers) = &mut self.breakers {
            let breaker = &mut breakers[endpoint.index()];
            let before = breaker.settled_state();
            let passed = breaker.try_pass(now);
            trace::breaker_change(endpoint, before, breaker.settled_state());
            match passed {
                Ok(granted) => pass = Some(granted),
                Err(next) => {
                    self.metrics.breaker_rejections += 1;
                    export::count(export::BREAKER_REJECTIONS_TOTAL, endpoint);
                    let retry_in = next.map(|at| at.saturating_duration_since(now));
                    if let Some(call) = self.calls.get(id) {
                        tracing::debug!(
                            parent: &call.span,
                            retry_in_ms = retry_in.map(trace::ms),
                            "failed fast: the circuit breaker is open"
                        );
                    }
                    let error = Error::circuit_open(endpoint.as_str(), retry_in);
                    self.finish(id, Err(error), now, true);
                    return self.step(id, now);
                }
            }
        }
        self.take_limits(endpoint, now);
        self.leave_pacing(id, now);
        let attempt_timeout = self.config.attempt_timeout;
        let Some(call) = self.calls.get_mut(id) else {
            return Step::Done(Err(unknown_call()));
        };
        call.attempts += 1;
        let by_timeout = now.checked_add(attempt_timeout);
        let deadline = match (call.deadline, by_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        call.state.morph(|state| match state {
            State::Ready(permit) => State::InFlight(
                permit,
                Out {
                    pass,
                    started: now,
                    deadline,
                },
            ),
            other => other,
        });
        let first = call.attempts == 1;
        let attempt = Attempt {
            request: call.prepared.attempt(),
            deadline,
            stream: call.prepared.is_stream(),
        };
        if let Some(deadline) = deadline
            && self.watchdog_at.is_none_or(|at| deadline < at)
        {
            self.watchdog_at = Some(deadline);
            self.watchdog_woken = true;
        }
        self.metrics.attempts += 1;
        export::count(export::ATTEMPTS_TOTAL, endpoint);
        tracing::debug!(parent: &call.span, attempt = call.attempts, "attempt sent");
        if first && let Some(budget) = &mut self.budget {
            budget.on_request(now);
        }
        Step::Send(attempt)
    }

    /// Reports a complete answer (any status) to the attempt in flight.
    pub fn on_response(&mut self, id: CallId, response: RawResponse, now: Instant) {
        let secret = self.config.redact.as_ref().map(ApiKey::expose);
        if !self.attempt_out(id) {
            return;
        }
        let Some(call) = self.calls.get(id) else {
            return;
        };
        let body_len = response.body.len();
        if let State::InFlight(_, out) = &call.state {
            export::answered(
                call.prepared.endpoint(),
                response.status.as_u16(),
                out.started,
                now,
            );
            // The latency is worked out only when the event is recorded.
            tracing::debug!(
                parent: &call.span,
                attempt = call.attempts,
                status = response.status.as_u16(),
                latency_ms = trace::ms(now.saturating_duration_since(out.started)),
                answer_bytes = body_len,
                "attempt answered"
            );
        }
        let result = decode(
            call.prepared.expect(),
            response.status,
            &response.headers,
            response.body,
            response.received_at,
            secret,
        );
        // A 429 pauses the limiter for the delay the server asked, but never longer than the
        // longest delay the retry policy would wait: one absurd `Retry-After` must not stop
        // the client for a year.
        let longest = self.config.retry.max_server_delay;
        let throttled = (response.status == StatusCode::TOO_MANY_REQUESTS).then(|| {
            result
                .as_ref()
                .err()
                .and_then(Error::retry_after)
                .map(|delay| delay.min(longest))
        });
        if let (Some(Some(delay)), Some(call)) = (throttled, self.calls.get(id)) {
            export::count(export::THROTTLED_TOTAL, call.prepared.endpoint());
            tracing::debug!(
                parent: &call.span,
                pause_ms = trace::ms(delay),
                "the server answered 429: the rate limiter pauses for its Retry-After"
            );
        }
        self.end_attempt(id, health(&result), throttled, now);
        match result {
            Ok(output) => self.succeed(id, output, body_len, now),
            Err(error) => self.fail_attempt(id, error, now),
        }
        self.admit_queued(now);
    }

    /// Reports that a streaming attempt received a success status. Returns the reader for
    /// its body (`None` when the attempt is no longer wanted: drop the body). The attempt
    /// goes on until the reader's first chunk or `[DONE]` ([`on_stream_open`](Self::on_stream_open)):
    /// a stream that fails before then is a failed attempt
    /// ([`on_stream_end`](Self::on_stream_end)), which the retry policy may retry.
    pub fn on_stream_head(
        &mut self,
        id: CallId,
        status: StatusCode,
        headers: &HeaderMap,
        now: Instant,
    ) -> Option<StreamReader> {
        let call = self.calls.get_mut(id)?;
        if !matches!(call.state, State::InFlight(..)) {
            return None;
        }
        let mut meta = ResponseMeta::from_head(status, headers);
        if let Some(secret) = &self.config.redact {
            meta.scrub(secret.expose());
        }
        if let State::InFlight(_, out) = &call.state {
            export::answered(call.prepared.endpoint(), status.as_u16(), out.started, now);
        }
        call.state.morph(|state| match state {
            State::InFlight(permit, out) => State::Opening(permit, out, meta),
            other => other,
        });
        tracing::debug!(
            parent: &call.span,
            attempt = call.attempts,
            status = status.as_u16(),
            "stream head received"
        );
        let reader = StreamReader::new(self.config.stream, call.deadline, now)
            .attempt(call.attempts)
            .redacting(self.config.redact.clone())
            .traced(call.span.clone());
        Some(reader)
    }

    /// Reports that a stream's first chunk (or `[DONE]`) arrived: the attempt succeeded.
    /// The next poll returns [`Step::Stream`].
    pub fn on_stream_open(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let endpoint = call.prepared.endpoint();
        let mut attempt = None;
        call.state.morph(|state| match state {
            State::Opening(permit, out, meta) => {
                attempt = Some(out);
                State::StreamOpen(permit, meta)
            }
            other => other,
        });
        if let Some(out) = attempt {
            self.record_breaker(endpoint, &out, Outcome::Success, now);
        }
    }

    /// Reports that a stream ended: read to `[DONE]` (`None`) or failed (`Some(error)`).
    ///
    /// Before [`on_stream_open`](Self::on_stream_open) this ends the attempt, which may be
    /// retried (poll again). After it, the call ends: its permit and limiter slot are freed
    /// and the id becomes stale.
    pub fn on_stream_end(&mut self, id: CallId, error: Option<&Error>, now: Instant) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        match (&call.state, error) {
            (State::Opening(..), Some(error)) => {
                self.end_attempt(id, health(&Err(error.clone())), None, now);
                self.fail_attempt(id, error.clone(), now);
                self.admit_queued(now);
                return;
            }
            (State::Opening(..), None) => self.on_stream_open(id, now),
            (State::Streaming(_) | State::StreamOpen(..), _) => {}
            _ => return,
        }
        let result = match error {
            None => Ok(Output::Stream(Box::default())),
            Some(error) => Err(error.clone()),
        };
        self.finish(id, result, now, false);
        self.calls.remove(id);
        self.admit_queued(now);
    }

    /// Reports that the attempt failed below HTTP.
    pub fn on_transport_error(&mut self, id: CallId, error: TransportError, now: Instant) {
        if !self.attempt_out(id) {
            return;
        }
        let outcome = match error.kind() {
            TransportErrorKind::BodyTooLarge | TransportErrorKind::InvalidRequest => {
                Outcome::Ignored
            }
            _ => Outcome::Failure,
        };
        if let Some(call) = self.calls.get(id) {
            tracing::debug!(
                parent: &call.span,
                attempt = call.attempts,
                error = %error,
                "attempt failed below HTTP"
            );
        }
        self.end_attempt(id, outcome, None, now);
        self.fail_attempt(id, Error::transport(error), now);
        self.admit_queued(now);
    }

    /// Reports that the attempt's deadline passed before it completed (the driver dropped it).
    pub fn on_attempt_timeout(&mut self, id: CallId, now: Instant) {
        if !self.attempt_out(id) {
            return;
        }
        self.end_attempt(id, Outcome::Failure, None, now);
        let Some(call) = self.calls.get(id) else {
            return;
        };
        tracing::debug!(parent: &call.span, attempt = call.attempts, "attempt timed out");
        if call.deadline.is_some_and(|d| now >= d) {
            let error = deadline_error(call.attempts);
            self.finish(id, Err(error), now, false);
        } else {
            let error = Error::transport(TransportError::new(
                TransportErrorKind::Timeout,
                format!(
                    "no complete answer within {:.1}s",
                    self.config.attempt_timeout.as_secs_f64()
                ),
            ));
            self.fail_attempt(id, error, now);
        }
        self.admit_queued(now);
    }

    /// Abandons a call (its future or stream was dropped). Frees everything it held; calls
    /// following it continue under a new leader. Its id becomes stale.
    pub fn cancel(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        if !matches!(call.state, State::Finished(_)) {
            self.metrics.cancelled += 1;
            export::count(export::CANCELLED_TOTAL, call.prepared.endpoint());
            self.release(id, now, false, Outcome::Ignored);
        }
        self.calls.remove(id);
        self.admit_queued(now);
    }

    /// Times out every attempt whose deadline has passed (as
    /// [`on_attempt_timeout`](Self::on_attempt_timeout) would, and wakes its call), and
    /// returns the next attempt deadline: the instant to call this again (`None`: when
    /// [`take_watchdog_wake`](Self::take_watchdog_wake) next says so). For a driver's
    /// watchdog, which saves each attempt a timer of its own.
    pub fn expire_attempts(&mut self, now: Instant) -> Option<Instant> {
        self.watchdog_woken = false;
        let mut next: Option<Instant> = None;
        let mut expired = Vec::new();
        for (id, call) in self.calls.iter() {
            let (State::InFlight(_, out) | State::Opening(_, out, _)) = &call.state else {
                continue;
            };
            match out.deadline {
                Some(deadline) if deadline <= now => expired.push(id),
                Some(deadline) => next = Some(next.map_or(deadline, |n| n.min(deadline))),
                None => {}
            }
        }
        for id in expired {
            self.on_attempt_timeout(id, now);
            self.woken.push(id);
        }
        self.watchdog_at = next;
        next
    }

    /// Whether an attempt's deadline came before the instant the watchdog last got from
    /// [`expire_attempts`](Self::expire_attempts) (or the watchdog has none): it must call
    /// that again now. Resets the flag.
    pub fn take_watchdog_wake(&mut self) -> bool {
        std::mem::take(&mut self.watchdog_woken)
    }

    /// Whether the call has an attempt out: sent and not yet answered (a stream's attempt
    /// lasts until its first event). A driver racing an attempt against its call's signal
    /// stops reading when this turns false: the engine ended the attempt (its deadline
    /// passed, or the client shut down).
    pub fn attempt_out(&self, id: CallId) -> bool {
        self.calls
            .get(id)
            .is_some_and(|call| matches!(call.state, State::InFlight(..) | State::Opening(..)))
    }

    /// Whether the call has a result waiting (or is unknown): its driver should poll now.
    pub fn is_finished(&self, id: CallId) -> bool {
        self.calls
            .get(id)
            .is_none_or(|call| matches!(call.state, State::Finished(_)))
    }

    /// Moves the ids of calls woken since the last call into `out`.
    pub fn take_woken(&mut self, out: &mut Vec<CallId>) {
        if !self.woken.is_empty() {
            out.append(&mut self.woken);
        }
    }

    /// Stops admitting calls: later submissions fail with [`ErrorKind::Shutdown`]. Calls
    /// already submitted continue.
    pub fn close(&mut self) {
        if !std::mem::replace(&mut self.closed, true) {
            tracing::info!(
                unfinished = self.unfinished(),
                "shutting down: new calls are refused, calls in progress go on"
            );
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Ends every unfinished call with an [`ErrorKind::Shutdown`] error (the grace period is
    /// over) and wakes them. Returns how many were ended.
    pub fn abort_all(&mut self, now: Instant) -> usize {
        let mut ended = 0;
        for id in self.calls.ids() {
            let Some(call) = self.calls.get(id) else {
                continue;
            };
            if matches!(call.state, State::Finished(_)) {
                continue;
            }
            ended += 1;
            let error = Error::shutdown("cancelled: the client shut down before the call finished")
                .with_attempts(call.attempts);
            self.finish(id, Err(error), now, false);
        }
        if ended > 0 {
            tracing::info!(
                ended,
                "shutdown: the grace period is over, unfinished calls end"
            );
        }
        ended
    }

    /// Calls submitted and not yet collected (streams count until their end is reported).
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Calls not yet finished.
    pub fn unfinished(&self) -> usize {
        self.calls
            .ids()
            .into_iter()
            .filter(|id| !self.is_finished(*id))
            .count()
    }

    /// The breaker state of an endpoint kind (closed when breakers are off).
    pub fn breaker_state(&self, endpoint: EndpointKind, now: Instant) -> BreakerState {
        self.breakers
            .as_ref()
            .map_or(BreakerState::Closed, |b| b[endpoint.index()].state(now))
    }

    /// Everything measured so far.
    pub fn metrics(&self, now: Instant) -> MetricsSnapshot {
        let m = &self.metrics;
        let breakers = self
            .breakers
            .as_ref()
            .map(|all| {
                EndpointKind::ALL
                    .iter()
                    .map(|kind| {
                        let status = match all[kind.index()].state(now) {
                            BreakerState::Closed => BreakerStatus::Closed,
                            BreakerState::HalfOpen => BreakerStatus::HalfOpen,
                            BreakerState::Open { until } => BreakerStatus::Open {
                                retry_in: until.saturating_duration_since(now),
                            },
                        };
                        (kind.as_str(), status)
                    })
                    .collect()
            })
            .unwrap_or_default();
        MetricsSnapshot {
            submitted: m.submitted,
            succeeded: m.succeeded,
            failed: m.failed.clone(),
            attempts: m.attempts,
            retried: m.retried,
            cache_hits: m.cache_hits,
            coalesced: m.coalesced,
            breaker_rejections: m.breaker_rejections,
            limiter_waits: m.limiter_waits,
            timeouts: m.timeouts,
            cancelled: m.cancelled,
            in_flight: self.scheduler.running() as u64,
            queued: self.scheduler.queued() as u64,
            max_in_flight: m.max_in_flight,
            breakers,
            breaker_opened: self
                .breakers
                .as_ref()
                .map_or(0, |all| all.iter().map(Breaker::times_opened).sum()),
            latency: m.summaries(),
            cache_bytes: self.cache.bytes() as u64,
        }
    }

    // ----- transitions -----

    fn note_wait(&mut self, id: CallId) {
        if let Some(call) = self.calls.get_mut(id)
            && !call.wait_counted
        {
            call.wait_counted = true;
            self.metrics.limiter_waits += 1;
            export::count(export::LIMITER_WAITS_TOTAL, call.prepared.endpoint());
            let tier_default =
                self.config.limits == LimiterConfig::for_tier(Some(KeyTier::Publishable));
            if tier_default && !std::mem::replace(&mut self.pacing_announced, true) {
                // Said once, and only of the publishable key's default limits: the user can
                // change them (another key, or other rate limits). Limits the user set are
                // the user's choice, reported per call at `debug`.
                tracing::warn!(
                    endpoint = call.prepared.endpoint().as_str(),
                    "calls are paced by the client's rate limits; a publishable (pk_) key is \
                     limited to 1 generation per second by default: use a secret key or set \
                     rate_limits(..) on the client builder"
                );
            }
        }
    }

    /// The line for `endpoint`'s limiters: endpoints sharing the generation limiter share
    /// one; the others have one each.
    fn pacing_group(&self, endpoint: EndpointKind) -> usize {
        if self.generation.is_some() && Self::uses_generation_limit(endpoint) {
            0
        } else {
            1 + endpoint.index()
        }
    }

    /// The call first in `group`'s line when it is not `id` and could pass its limiters at
    /// `now` (a first call held back by a limiter of its own does not hold the others).
    fn first_in_line(&self, group: usize, id: CallId, now: Instant) -> Option<CallId> {
        let first = self.pacing[group].peek(now).filter(|first| *first != id)?;
        let endpoint = self.calls.get(first)?.prepared.endpoint();
        self.check_limits(endpoint, now).is_ok().then_some(first)
    }

    /// Puts `id` in `group`'s line for a limiter slot, unless it is there already.
    fn join_pacing(&mut self, id: CallId, group: usize, now: Instant) {
        self.note_wait(id);
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let mut joined = false;
        call.state.morph(|state| match state {
            State::Ready(permit) => {
                joined = true;
                State::Pacing(permit, group)
            }
            other => other,
        });
        if joined {
            let priority = call.options.priority;
            self.pacing[group].push(id, priority, now);
        }
    }

    /// Takes `id` out of its limiter line (it passed) and wakes the call now first, which
    /// alone waits for the limiter's next slot.
    fn leave_pacing(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let mut left = None;
        call.state.morph(|state| match state {
            State::Pacing(permit, group) => {
                left = Some(group);
                State::Ready(permit)
            }
            other => other,
        });
        if let Some(group) = left {
            self.leave_line(id, group, now);
        }
    }

    /// Removes `id` from `group`'s line and wakes whoever is first now.
    fn leave_line(&mut self, id: CallId, group: usize, now: Instant) {
        self.pacing[group].remove(id);
        if let Some(first) = self.pacing[group].peek(now) {
            self.woken.push(first);
        }
    }

    fn note_running(&mut self) {
        let running = self.scheduler.running() as u64;
        self.metrics.max_in_flight = self.metrics.max_in_flight.max(running);
    }

    fn uses_generation_limit(endpoint: EndpointKind) -> bool {
        endpoint != EndpointKind::Models
    }

    fn check_limits(&self, endpoint: EndpointKind, now: Instant) -> Result<(), Hold> {
        let own = self.limiters[endpoint.index()].check(now);
        let shared = match (&self.generation, Self::uses_generation_limit(endpoint)) {
            (Some(limiter), true) => limiter.check(now),
            _ => Ok(()),
        };
        match (own, shared) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(Hold::Until(a)), Err(Hold::Until(b))) => Err(Hold::Until(a.max(b))),
            (Err(Hold::Until(a)), _) | (_, Err(Hold::Until(a))) => Err(Hold::Until(a)),
            _ => Err(Hold::Slot),
        }
    }

    fn take_limits(&mut self, endpoint: EndpointKind, now: Instant) {
        self.limiters[endpoint.index()].take(now);
        if Self::uses_generation_limit(endpoint)
            && let Some(limiter) = &mut self.generation
        {
            limiter.take(now);
        }
    }

    /// Returns the limiter tokens of a finished attempt (with the server's 429 delay, if any),
    /// or of one abandoned before an answer.
    fn release_limits(
        &mut self,
        endpoint: EndpointKind,
        throttled: Option<Option<Duration>>,
        abandoned: bool,
        now: Instant,
    ) {
        let mut freed = if abandoned {
            self.limiters[endpoint.index()].abandon()
        } else {
            self.limiters[endpoint.index()].release(now, throttled)
        };
        if Self::uses_generation_limit(endpoint)
            && let Some(limiter) = &mut self.generation
        {
            freed |= if abandoned {
                limiter.abandon()
            } else {
                limiter.release(now, throttled)
            };
        }
        if freed {
            self.woken.append(&mut self.slot_waiters);
        }
    }

    /// Feeds an attempt's outcome, and how long it took, to its endpoint's breaker (when
    /// breakers are on and the attempt was let through by one).
    fn record_breaker(
        &mut self,
        endpoint: EndpointKind,
        out: &Out,
        outcome: Outcome,
        now: Instant,
    ) {
        if let (Some(pass), Some(breakers)) = (out.pass, &mut self.breakers) {
            let took = now.saturating_duration_since(out.started);
            trace::recorded(
                &mut breakers[endpoint.index()],
                endpoint,
                pass,
                outcome,
                took,
                now,
            );
        }
    }

    /// Ends the attempt in flight: feeds its outcome to the breaker and returns the limiter's
    /// tokens (with the server's 429 delay, if any). The call keeps its permit.
    fn end_attempt(
        &mut self,
        id: CallId,
        outcome: Outcome,
        throttled: Option<Option<Duration>>,
        now: Instant,
    ) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let endpoint = call.prepared.endpoint();
        let mut attempt = None;
        call.state.morph(|state| match state {
            State::InFlight(permit, out) | State::Opening(permit, out, _) => {
                attempt = Some(out);
                State::Ready(permit)
            }
            other => other,
        });
        let Some(out) = attempt else {
            return;
        };
        self.record_breaker(endpoint, &out, outcome, now);
        self.release_limits(endpoint, throttled, false, now);
    }

    fn succeed(&mut self, id: CallId, mut output: Output, body_len: usize, now: Instant) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        output.meta_mut().attempts = call.attempts;
        // Before it is cached or shared: a server may echo the key in any header kept.
        if let Some(secret) = &self.config.redact {
            output.scrub(secret.expose());
        }
        if let Some(key) = call
            .store
            .filter(|_| body_len <= self.config.cache.max_entry_bytes)
        {
            let ttl = match call.prepared.expect() {
                Expect::Models(_) => self.config.cache.models_ttl,
                _ => self.config.cache.ttl,
            };
            self.cache.insert(key, output.clone(), body_len, ttl, now);
        }
        self.finish(id, Ok(output), now, true);
    }

    fn fail_attempt(&mut self, id: CallId, error: Error, now: Instant) {
        let unit = self.rng.f64();
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let policy: &RetryPolicy = call.options.retry.as_ref().unwrap_or(&self.config.retry);
        let decision = policy.decide(
            &error,
            call.attempts,
            call.prepared.is_idempotent(),
            call.last_delay,
            unit,
            now,
            call.deadline,
        );
        let retry = match decision {
            RetryDecision::RetryAfter(delay) if matches!(call.state, State::Ready(_)) => {
                if self.budget.as_mut().is_none_or(|b| b.try_retry(now)) {
                    Some(delay)
                } else {
                    tracing::debug!(
                        parent: &call.span,
                        error = %error,
                        "not retried: the retry budget is spent"
                    );
                    None
                }
            }
            RetryDecision::RetryAfter(_) => None,
            RetryDecision::GiveUp(reason) => {
                tracing::debug!(
                    parent: &call.span,
                    reason = ?reason,
                    error = %error,
                    "not retried"
                );
                None
            }
        };
        if let Some(delay) = retry {
            tracing::debug!(
                parent: &call.span,
                attempt = call.attempts,
                delay_ms = trace::ms(delay),
                retry_after = error.retry_after() == Some(delay),
                error = %error,
                "retrying"
            );
            call.last_delay = delay;
            let until = crate::time::after(now, delay);
            call.state.morph(|state| match state {
                State::Ready(permit) => State::Backoff(permit, until),
                other => other,
            });
            self.metrics.retried += 1;
            export::count(export::RETRIES_TOTAL, call.prepared.endpoint());
            return;
        }
        let error = error.with_attempts(call.attempts);
        self.finish(id, Err(error), now, true);
    }

    /// Ends a call with `result`: frees what it holds, records metrics, hands the result to
    /// the calls following it (when `propagate`; otherwise one of them takes over), and wakes
    /// its driver.
    fn finish(&mut self, id: CallId, result: Result<Output, Error>, now: Instant, propagate: bool) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        if matches!(call.state, State::Finished(_)) {
            return;
        }
        let attempts = call.attempts;
        let endpoint = call.prepared.endpoint();
        let leads = call.leads;
        let result = match result {
            Ok(mut output) => {
                output.meta_mut().attempts = attempts;
                Ok(output)
            }
            Err(error) => {
                let error = error.with_attempts(attempts);
                Err(match &self.config.redact {
                    Some(secret) => error.redacted(secret.expose()),
                    None => error,
                })
            }
        };
        self.release(id, now, propagate, health(&result));
        let followers = match leads {
            Some(key) if propagate => self.flights.remove(&key).map(|f| f.followers),
            _ => None,
        };
        for follower in followers.into_iter().flatten() {
            let shared = match &result {
                Ok(output) => {
                    let mut output = output.clone();
                    output.meta_mut().coalesced = true;
                    Ok(output)
                }
                Err(error) => Err(error.clone()),
            };
            self.record_end(endpoint, &shared, now, follower);
            if let Some(call) = self.calls.get_mut(follower) {
                tracing::debug!(parent: &call.span, "answered by the identical call it followed");
                call.state = State::Finished(shared);
            }
            self.woken.push(follower);
        }
        let took = self.record_end(endpoint, &result, now, id);
        if let Some(call) = self.calls.get_mut(id) {
            trace::call_end(&call.span, &result, attempts, took);
            call.state = State::Finished(result);
        }
        self.woken.push(id);
    }

    /// Counts a call's end in the metrics; returns how long the call took.
    fn record_end(
        &mut self,
        endpoint: EndpointKind,
        result: &Result<Output, Error>,
        now: Instant,
        id: CallId,
    ) -> Duration {
        let submitted = self.calls.get(id).map_or(now, |c| c.submitted);
        let took = now.saturating_duration_since(submitted);
        self.metrics.latency(endpoint, took);
        let outcome = match result {
            Ok(_) => {
                self.metrics.succeeded += 1;
                "ok"
            }
            Err(error) => {
                self.metrics.failed(error.kind());
                error.kind().as_str()
            }
        };
        export::call_ended(endpoint, outcome, took);
        took
    }

    /// Frees what a call holds, as its state says: its queue or line place, its attempt's
    /// breaker pass and limiter tokens (a stream's, once it opened, are released as finished
    /// work; an attempt's as abandoned), its permit, and its flight, which passes to a follower
    /// unless the result is being shared.
    fn release(&mut self, id: CallId, now: Instant, sharing: bool, outcome: Outcome) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let endpoint = call.prepared.endpoint();
        let leads = if sharing { None } else { call.leads.take() };
        let state = std::mem::replace(&mut call.state, State::Queued);
        let (permit, attempt, streaming) = match state {
            State::Queued => {
                self.scheduler.remove(id);
                (None, None, false)
            }
            State::Following(key) => {
                if let Some(flight) = self.flights.get_mut(&key) {
                    flight.followers.retain(|f| *f != id);
                }
                (None, None, false)
            }
            State::Pacing(permit, group) => {
                self.leave_line(id, group, now);
                (Some(permit), None, false)
            }
            State::Ready(permit) | State::Backoff(permit, _) => (Some(permit), None, false),
            State::InFlight(permit, out) | State::Opening(permit, out, _) => {
                (Some(permit), Some(out), false)
            }
            State::StreamOpen(permit, _) | State::Streaming(permit) => (Some(permit), None, true),
            State::Finished(result) => {
                if let Some(call) = self.calls.get_mut(id) {
                    call.state = State::Finished(result);
                }
                return;
            }
        };
        if let Some(out) = attempt {
            let outcome = if outcome == Outcome::Success {
                Outcome::Ignored
            } else {
                outcome
            };
            self.record_breaker(endpoint, &out, outcome, now);
            self.release_limits(endpoint, None, true, now);
        }
        if streaming {
            self.release_limits(endpoint, None, false, now);
        }
        if let Some(Permit(())) = permit {
            self.scheduler.release();
        }
        if let Some(key) = leads {
            self.promote(key, now);
        }
    }

    /// Makes the first follower of a flight its leader (the old leader stopped without a
    /// result to share), or ends the flight if nobody follows.
    fn promote(&mut self, key: CacheKey, now: Instant) {
        let next = match self.flights.get_mut(&key) {
            Some(flight) if !flight.followers.is_empty() => flight.followers.remove(0),
            _ => {
                self.flights.remove(&key);
                return;
            }
        };
        let Some(call) = self.calls.get_mut(next) else {
            return;
        };
        call.leads = Some(key);
        let priority = call.options.priority;
        if self.scheduler.try_admit() {
            call.state = State::Ready(Permit(()));
            self.note_running();
        } else {
            call.state = State::Queued;
            self.scheduler.enqueue(next, priority, now);
        }
        self.woken.push(next);
    }

    /// Hands free permits to queued calls, by priority; calls whose deadline passed while
    /// queued are ended instead.
    fn admit_queued(&mut self, now: Instant) {
        while let Some(next) = self.scheduler.next(now) {
            let Some(call) = self.calls.get_mut(next) else {
                self.scheduler.release();
                continue;
            };
            call.state = State::Ready(Permit(()));
            if call.deadline.is_some_and(|d| now >= d) {
                let error = deadline_error(call.attempts);
                self.finish(next, Err(error), now, false);
                continue;
            }
            self.note_running();
            self.woken.push(next);
        }
        export::occupancy(self.scheduler.running(), self.scheduler.queued());
    }
}

/// Lines for limiter slots: one for the endpoints sharing the generation limiter, one for each
/// endpoint kind on its own.
const PACING_GROUPS: usize = 1 + EndpointKind::ALL.len();

/// What an attempt's result says about the service's health.
fn health(result: &Result<Output, Error>) -> Outcome {
    let Err(error) = result else {
        return Outcome::Success;
    };
    match error.kind() {
        ErrorKind::Api => match error.status().map_or(0, |s| s.as_u16()) {
            429 => Outcome::Ignored,
            408 | 500..=599 => Outcome::Failure,
            _ => Outcome::Success,
        },
        ErrorKind::Decode => Outcome::Failure,
        ErrorKind::Transport | ErrorKind::Timeout => {
            match error.transport_error().map(|t| t.kind()) {
                Some(TransportErrorKind::BodyTooLarge | TransportErrorKind::InvalidRequest) => {
                    Outcome::Ignored
                }
                Some(_) => Outcome::Failure,
                None => Outcome::Ignored,
            }
        }
        _ => Outcome::Ignored,
    }
}

fn deadline_error(attempts: u32) -> Error {
    Error::timeout("the call's deadline passed").with_attempts(attempts)
}

fn unknown_call() -> Error {
    Error::invalid_input("call", "unknown or already finished call id")
}

#[cfg(test)]
mod tests;
