//! Calls as futures: the drive loop over the engine, and the per-call option builders.

use std::future::{Future, IntoFuture, poll_fn};
use std::marker::PhantomData;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use futures_util::future::select;

use super::inner::Inner;
use super::stream::{ChatStream, OpenStream, Opened, open, sleep_until};
use super::watchdog;
use crate::cell::{EndGuard, EngineGuard, StreamControl};
use crate::request::{FromOutput, mismatch};
use crate::runtime::Runtime;
use crate::signal::AsyncSignal;
use crate::transport::{HttpResponse, read_body};
use blossom_core::api::ResponseMeta;
use blossom_core::codec::{Output, Prepared};
use blossom_core::engine::{CallId, CallOptions, RawResponse, Step};
use blossom_core::error::{Error, TransportError};
use blossom_core::policy::{Priority, RetryPolicy};

/// A boxed, sendable future, as returned by `.await`ing a call.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// One call, not yet started. Set options, then `.await` it.
///
/// ```ignore
/// let reply = client.chat(request).timeout(Duration::from_secs(20)).priority(Priority::High).await?;
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<R: Runtime, T> {
    inner: Arc<Inner<R>>,
    prepared: Result<Prepared, Error>,
    options: CallOptions,
    _output: PhantomData<fn() -> T>,
}

impl<R: Runtime, T> std::fmt::Debug for Call<R, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime, T> Call<R, T> {
    pub(crate) fn new(inner: Arc<Inner<R>>, prepared: Result<Prepared, Error>) -> Self {
        Self {
            inner,
            prepared,
            options: CallOptions::default(),
            _output: PhantomData,
        }
    }

    /// The call must finish within `timeout`, across all attempts and waits.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// The call must finish by `deadline`.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.options.deadline = Some(deadline);
        self
    }

    /// Its priority for a permit (default normal).
    pub fn priority(mut self, priority: Priority) -> Self {
        self.options.priority = priority;
        self
    }

    /// Skip the client's cache and coalescing for this call (the answer still refreshes the cache).
    pub fn no_cache(mut self) -> Self {
        self.options.no_cache = true;
        self
    }

    /// A retry policy for this call instead of the client's.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = Some(policy);
        self
    }

    /// Replaces all options at once.
    pub fn options(mut self, options: CallOptions) -> Self {
        self.options = options;
        self
    }
}

impl<R: Runtime, T: FromOutput> IntoFuture for Call<R, T> {
    type Output = Result<T, Error>;
    type IntoFuture = BoxFuture<Result<T, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        run(
            self.inner,
            self.prepared,
            self.options,
            |inner, id, signal| async move {
                match execute(&inner, id, signal).await? {
                    Executed::Output(output) => T::from_output(output),
                    // Dropping the stream ends its call.
                    Executed::Stream(open) => Err(mismatch(&Output::Stream(Box::new(open.meta)))),
                }
            },
        )
    }
}

/// A streaming chat call, not yet started. Set options, then `.await` it for a [`ChatStream`].
#[must_use = "a call does nothing until it is awaited"]
pub struct StreamCall<R: Runtime> {
    inner: Call<R, ChatStream>,
}

impl<R: Runtime> std::fmt::Debug for StreamCall<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<R: Runtime> StreamCall<R> {
    pub(crate) fn new(inner: Arc<Inner<R>>, prepared: Result<Prepared, Error>) -> Self {
        Self {
            inner: Call::new(inner, prepared),
        }
    }

    /// The whole call must end within `timeout`: waits, attempts and every byte of the
    /// stream. Past it the stream fails with [`ErrorKind::Timeout`](blossom_core::ErrorKind::Timeout).
    pub fn timeout(self, timeout: Duration) -> Self {
        Self {
            inner: self.inner.timeout(timeout),
        }
    }

    /// The whole call, stream included, must end by `deadline`.
    pub fn deadline(self, deadline: Instant) -> Self {
        Self {
            inner: self.inner.deadline(deadline),
        }
    }

    /// Its priority for a permit.
    pub fn priority(self, priority: Priority) -> Self {
        Self {
            inner: self.inner.priority(priority),
        }
    }

    /// Replaces all options at once (timeout, deadline, priority, retry).
    pub fn options(self, options: CallOptions) -> Self {
        Self {
            inner: self.inner.options(options),
        }
    }

    /// A retry policy for this call (a stream is retried only before its first event).
    pub fn retry(self, policy: RetryPolicy) -> Self {
        Self {
            inner: self.inner.retry(policy),
        }
    }
}

impl<R: Runtime> IntoFuture for StreamCall<R> {
    type Output = Result<ChatStream, Error>;
    type IntoFuture = BoxFuture<Result<ChatStream, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        let Call {
            inner,
            prepared,
            options,
            ..
        } = self.inner;
        run(inner, prepared, options, |inner, id, signal| async move {
            match execute(&inner, id, signal).await? {
                Executed::Stream(open) => Ok(ChatStream::new(*open, inner.runtime.clone())),
                Executed::Output(other) => Err(mismatch(&other)),
            }
        })
    }
}

/// A call's future: submits the call when first polled, then drives it with `drive`.
fn run<R: Runtime, T, F>(
    inner: Arc<Inner<R>>,
    prepared: Result<Prepared, Error>,
    options: CallOptions,
    drive: impl FnOnce(Arc<Inner<R>>, CallId, Arc<AsyncSignal>) -> F + Send + 'static,
) -> BoxFuture<Result<T, Error>>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    Box::pin(CallFuture::Start {
        inner,
        prepared,
        options,
        drive,
    })
}

pin_project_lite::pin_project! {
    /// A call's future by hand rather than one `async` block: a block would keep its captured
    /// request (280 bytes) for as long as it lives, and a combinator chain moves the driving
    /// future (700 bytes) several times on the way in; here the request moves into the
    /// engine and the driving future is written once, in place of it.
    #[project = CallProj]
    #[project_replace = CallStart]
    enum CallFuture<R: Runtime, D, F> {
        Start {
            inner: Arc<Inner<R>>,
            prepared: Result<Prepared, Error>,
            options: CallOptions,
            drive: D,
        },
        Running {
            #[pin]
            drive: F,
        },
        Ended,
    }
}

impl<R, D, F, T> Future for CallFuture<R, D, F>
where
    R: Runtime,
    D: FnOnce(Arc<Inner<R>>, CallId, Arc<AsyncSignal>) -> F,
    F: Future<Output = Result<T, Error>>,
{
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let CallProj::Start { .. } = self.as_mut().project()
            && let CallStart::Start {
                inner,
                prepared,
                options,
                drive,
            } = self.as_mut().project_replace(Self::Ended)
        {
            let prepared = match prepared {
                Ok(prepared) => prepared,
                Err(error) => return Poll::Ready(Err(error)),
            };
            let (id, signal) = submit(&inner, prepared, options);
            self.set(Self::Running {
                drive: drive(inner, id, signal),
            });
        }
        match self.as_mut().project() {
            CallProj::Running { drive } => {
                let output = ready!(drive.poll(cx));
                self.set(Self::Ended);
                Poll::Ready(output)
            }
            // A future polled again after it completed (a misuse): it stays pending rather
            // than panic or invent a second result.
            CallProj::Start { .. } | CallProj::Ended => Poll::Pending,
        }
    }
}

/// How a call ended: with its answer, or with its stream open.
enum Executed {
    Output(Output),
    Stream(Box<OpenStream>),
}

/// Cancels the call in the engine if the future is dropped before it finishes.
struct CancelOnDrop<'a, R: Runtime> {
    inner: &'a Inner<R>,
    id: CallId,
    armed: bool,
}

impl<R: Runtime> Drop for CancelOnDrop<'_, R> {
    fn drop(&mut self) {
        if self.armed {
            self.inner.cell.cancel_call(self.id, self.inner.now());
        }
    }
}

/// Submits a call to the engine and registers the signal that wakes its driver.
fn submit<R: Runtime>(
    inner: &Inner<R>,
    prepared: Prepared,
    options: CallOptions,
) -> (CallId, Arc<AsyncSignal>) {
    let mut engine = inner.engine();
    let id = engine.submit(prepared, options, inner.now());
    let signal = engine.register(id);
    (id, signal)
}

/// What the driver does next for a call, once the engine's step is taken apart (so that the
/// step, which may hold a whole request, is not kept across an `.await`).
enum Next<'a> {
    Send(Sending<'a>),
    Wait(Instant),
    Pending,
    Stream(ResponseMeta),
    Done(Result<Output, Error>),
}

/// Polls the engine for a call's next step, under the lock the caller took (for a report
/// and this poll to share it), and releases the lock. The transport's future is made after
/// that (a transport may do work in `send`), and before the attempt is awaited, so that the
/// call's future holds that (a box) rather than the request: small futures are cheap to
/// create and move, and one is made for every call.
fn next<'a, R: Runtime>(
    inner: &'a Inner<R>,
    mut engine: EngineGuard<'_, AsyncSignal>,
    id: CallId,
    now: Instant,
) -> Next<'a> {
    let attempt = match engine.poll(id, now) {
        Step::Send(attempt) => attempt,
        Step::Wait(until) => return Next::Wait(until),
        Step::Pending => return Next::Pending,
        Step::Stream(meta) => return Next::Stream(meta),
        Step::Done(result) => {
            let waker = engine.unregister(id);
            drop(engine);
            drop(waker);
            return Next::Done(result);
        }
    };
    drop(engine);
    Next::Send(Sending {
        future: inner.transport.send(attempt.request),
        deadline: attempt.deadline,
        stream: attempt.stream,
    })
}

/// Drives one submitted call to its end: ask the engine, perform, sleep, repeat. Each report
/// to the engine and the poll that follows it share one lock.
async fn execute<R: Runtime>(
    inner: &Arc<Inner<R>>,
    id: CallId,
    signal: Arc<AsyncSignal>,
) -> Result<Executed, Error> {
    let mut guard = CancelOnDrop {
        inner,
        id,
        armed: true,
    };
    let mut opened = None;
    let mut step = next(inner, inner.engine(), id, inner.now());
    loop {
        step = match step {
            Next::Send(sending) => {
                let (stream, step) = perform(inner, id, sending, &signal).await;
                opened = stream;
                step
            }
            Next::Wait(until) => {
                let sleep = pin!(inner.runtime.sleep_until(until));
                select(sleep, pin!(signal.wait())).await;
                next(inner, inner.engine(), id, inner.now())
            }
            Next::Pending => {
                signal.wait().await;
                next(inner, inner.engine(), id, inner.now())
            }
            Next::Stream(meta) => {
                let Some(opened) = opened.take() else {
                    // The engine opened a stream this loop did not read: a bug, reported
                    // (the guard cancels the call) rather than hung.
                    return Err(mismatch(&Output::Stream(Box::new(meta))));
                };
                guard.armed = false;
                let control: Arc<dyn StreamControl> = inner.clone();
                return Ok(Executed::Stream(Box::new(OpenStream {
                    meta,
                    opened,
                    signal,
                    guard: EndGuard::new(control, id),
                })));
            }
            Next::Done(result) => {
                guard.armed = false;
                return result.map(Executed::Output);
            }
        };
    }
}

/// What one exchange produced before the engine hears of it.
enum Exchange {
    Whole(RawResponse),
    Opened(Box<Opened>),
    StreamFailed(Error),
    Failed(TransportError),
    /// The engine no longer wants the attempt (it ended the call meanwhile).
    Abandoned,
}

/// An attempt whose request is on its way: the transport's future, and what the engine
/// said about the attempt.
struct Sending<'a> {
    future: Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>>,
    deadline: Option<Instant>,
    stream: bool,
}

/// How the race of an attempt ended.
enum Raced {
    Answered(Exchange),
    TimedOut,
    Woken,
}

/// Performs one attempt (for a stream: up to its first event), racing it against its
/// deadline (unless the client's watchdog keeps deadlines) and against the call's signal:
/// the engine may end the attempt meanwhile (the watchdog found its deadline passed, or the
/// client shut down). Reports the outcome and returns a stream that opened, with the call's
/// next step.
async fn perform<'a, R: Runtime>(
    inner: &'a Arc<Inner<R>>,
    id: CallId,
    sending: Sending<'_>,
    signal: &AsyncSignal,
) -> (Option<Box<Opened>>, Next<'a>) {
    let Sending {
        future,
        deadline,
        stream,
    } = sending;
    let watched = inner.runtime.attempt_watchdog();
    if watched {
        watchdog::ensure(inner);
    }
    let exchange = async {
        let response = match future.await {
            Ok(response) => response,
            Err(error) => return Exchange::Failed(error),
        };
        if stream && response.status.is_success() {
            let head = (response.status, &response.headers);
            // Boxed, and the reader moved into it at once: reading up to the first event
            // holds the reader and its decoder (about 2 KB), which the calls that do not
            // stream should not carry.
            let opening = match inner
                .engine()
                .on_stream_head(id, head.0, head.1, inner.now())
            {
                Some(reader) => Box::pin(open(response.body, reader, &inner.runtime)),
                None => return Exchange::Abandoned,
            };
            return match opening.await {
                Ok(opened) => Exchange::Opened(opened),
                Err(error) => Exchange::StreamFailed(error),
            };
        }
        match read_body(response.body, inner.config.max_body_bytes).await {
            Ok(body) => Exchange::Whole(RawResponse {
                status: response.status,
                headers: response.headers,
                body,
                received_at: (!response.status.is_success()).then(|| inner.runtime.wall_now()),
            }),
            Err(error) => Exchange::Failed(error),
        }
    };
    let mut exchange = pin!(exchange);
    let mut timer = pin!(sleep_until(&inner.runtime, deadline.filter(|_| !watched)));
    let outcome = loop {
        // The exchange first: an answer that is ready is taken even if the deadline passed
        // or the signal fired too.
        let raced = poll_fn(|cx| {
            if let Poll::Ready(outcome) = exchange.as_mut().poll(cx) {
                return Poll::Ready(Raced::Answered(outcome));
            }
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Raced::TimedOut);
            }
            signal.poll_wait(cx).map(|()| Raced::Woken)
        });
        match raced.await {
            Raced::Answered(outcome) => break Some(outcome),
            Raced::TimedOut => break None,
            Raced::Woken => {
                let engine = inner.engine();
                if !engine.attempt_out(id) {
                    // Ended by the engine: drop the exchange, which aborts it.
                    return (None, next(inner, engine, id, inner.now()));
                }
                drop(engine);
                if watched {
                    // The watchdog may have stopped (its executor dropped it).
                    watchdog::ensure(inner);
                }
            }
        }
    };
    let now = inner.now();
    let mut engine = inner.engine();
    let mut opened = None;
    match outcome {
        Some(Exchange::Whole(response)) => engine.on_response(id, response, now),
        Some(Exchange::Opened(stream)) => {
            engine.on_stream_open(id, now);
            opened = Some(stream);
        }
        Some(Exchange::StreamFailed(error)) => engine.on_stream_end(id, Some(&error), now),
        Some(Exchange::Failed(error)) => engine.on_transport_error(id, error, now),
        Some(Exchange::Abandoned) => {}
        None => engine.on_attempt_timeout(id, now),
    }
    (opened, next(inner, engine, id, now))
}
