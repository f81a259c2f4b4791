//! Calls as futures: the drive loop of ARCHITECTURE §2, and the per-call option builders.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::{Either, select};

use super::wake::AsyncSignal;

use super::Runtime;
use super::client::Client;
use super::stream::ChatStream;
use super::transport::{BodyStream, read_body};
use crate::api::{ChatCompletion, Media, ModelList, TextReply};
use crate::codec::{Output, Prepared};
use crate::engine::{Attempt, CallId, CallOptions, RawResponse, Step};
use crate::error::Error;
use crate::policy::{Priority, RetryPolicy};

/// A boxed, sendable future, as returned by `.await`ing a call.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Answers a call can produce. Sealed: implemented for the SDK's answer types only.
pub trait FromOutput: Sized + Send + 'static + sealed::Sealed {
    /// Extracts this answer from the engine's output.
    ///
    /// # Errors
    /// When the output is of another kind (a bug in the SDK, reported rather than panicking).
    fn from_output(output: Output) -> Result<Self, Error>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::api::ChatCompletion {}
    impl Sealed for crate::api::TextReply {}
    impl Sealed for crate::api::Media {}
    impl Sealed for crate::api::ModelList {}
}

fn mismatch(output: &Output) -> Error {
    Error::decode(
        format!("internal: unexpected answer kind {:?}", output.meta()),
        b"",
    )
}

impl FromOutput for ChatCompletion {
    fn from_output(output: Output) -> Result<Self, Error> {
        match output {
            Output::Chat(chat) => Ok(*chat),
            other => Err(mismatch(&other)),
        }
    }
}

impl FromOutput for TextReply {
    fn from_output(output: Output) -> Result<Self, Error> {
        match output {
            Output::Text(text) => Ok(text),
            other => Err(mismatch(&other)),
        }
    }
}

impl FromOutput for Media {
    fn from_output(output: Output) -> Result<Self, Error> {
        match output {
            Output::Media(media) => Ok(media),
            other => Err(mismatch(&other)),
        }
    }
}

impl FromOutput for ModelList {
    fn from_output(output: Output) -> Result<Self, Error> {
        match output {
            Output::Models(models) => Ok(models),
            other => Err(mismatch(&other)),
        }
    }
}

/// One call, not yet started. Set options, then `.await` it.
///
/// ```ignore
/// let reply = client.chat(request).timeout(Duration::from_secs(20)).priority(Priority::High).await?;
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<R: Runtime, T> {
    client: Client<R>,
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
    pub(crate) fn new(client: Client<R>, prepared: Result<Prepared, Error>) -> Self {
        Self {
            client,
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
        Box::pin(async move {
            let prepared = self.prepared?;
            let (output, _stream) = execute(&self.client, prepared, self.options).await?;
            T::from_output(output)
        })
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
    pub(crate) fn new(client: Client<R>, prepared: Result<Prepared, Error>) -> Self {
        Self {
            inner: Call::new(client, prepared),
        }
    }

    /// The stream must have started (its head arrived) within `timeout`.
    pub fn timeout(self, timeout: Duration) -> Self {
        Self {
            inner: self.inner.timeout(timeout),
        }
    }

    /// The stream must have started by `deadline`.
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
            client,
            prepared,
            options,
            ..
        } = self.inner;
        Box::pin(async move {
            let prepared = prepared?;
            match execute(&client, prepared, options).await? {
                (Output::Stream(meta), Some(open)) => Ok(ChatStream::new(&client, meta, open)),
                (other, _) => Err(mismatch(&other)),
            }
        })
    }
}

/// A stream that opened: its call id (still live in the engine), its signal and its body.
pub(crate) struct OpenStream {
    pub(crate) id: CallId,
    pub(crate) signal: Arc<AsyncSignal>,
    pub(crate) body: BodyStream,
}

/// Cancels the call in the engine if the future is dropped before it finishes.
struct CancelOnDrop<'a, R: Runtime> {
    client: &'a Client<R>,
    id: CallId,
    armed: bool,
}

impl<R: Runtime> Drop for CancelOnDrop<'_, R> {
    fn drop(&mut self) {
        if self.armed {
            self.client
                .inner
                .cell
                .cancel_call(self.id, self.client.now());
        }
    }
}

/// Drives one call to its end: the loop of ARCHITECTURE §2.
pub(crate) async fn execute<R: Runtime>(
    client: &Client<R>,
    prepared: Prepared,
    options: CallOptions,
) -> Result<(Output, Option<OpenStream>), Error> {
    let inner = &client.inner;
    let (id, signal) = {
        let mut engine = inner.engine();
        let id = engine.submit(prepared, options, client.now());
        let signal = engine.register(id);
        (id, signal)
    };
    let mut guard = CancelOnDrop {
        client,
        id,
        armed: true,
    };
    let mut stream_body = None;
    loop {
        let step = inner.engine().poll(id, client.now());
        match step {
            Step::Send(attempt) => stream_body = perform(client, id, attempt, &signal).await,
            Step::Wait(until) => {
                let sleep = pin!(inner.runtime.sleep_until(until));
                let woken = pin!(signal.wait());
                select(sleep, woken).await;
            }
            Step::Pending => signal.wait().await,
            Step::Done(result) => {
                guard.armed = false;
                return match (result, stream_body.take()) {
                    (Ok(output @ Output::Stream(_)), Some(body)) => {
                        Ok((output, Some(OpenStream { id, signal, body })))
                    }
                    (result, _) => {
                        inner.engine().unregister(id);
                        result.map(|output| (output, None))
                    }
                };
            }
        }
    }
}

/// What one exchange produced before the engine hears of it.
enum Exchange {
    Whole(RawResponse),
    Stream(http::StatusCode, http::HeaderMap, BodyStream),
}

/// Performs one attempt, racing it against the attempt's deadline and against the call's
/// signal (the engine may end the call meanwhile, at shutdown), and reports the outcome.
/// Returns the body of a stream that opened.
async fn perform<R: Runtime>(
    client: &Client<R>,
    id: CallId,
    attempt: Attempt,
    signal: &AsyncSignal,
) -> Option<BodyStream> {
    let inner = &client.inner;
    let limit = client.body_limit();
    let exchange = async {
        let response = inner.transport.send(attempt.request).await?;
        if attempt.stream && response.status.is_success() {
            return Ok(Exchange::Stream(
                response.status,
                response.headers,
                response.body,
            ));
        }
        let body = read_body(response.body, limit).await?;
        Ok(Exchange::Whole(RawResponse {
            status: response.status,
            headers: response.headers,
            body,
            received_at: Some(inner.runtime.wall_now()),
        }))
    };
    let mut exchange = pin!(exchange);
    let mut timer = pin!(inner.runtime.sleep_until(attempt.deadline));
    let outcome = loop {
        let ended = pin!(signal.wait());
        match select(exchange.as_mut(), select(timer.as_mut(), ended)).await {
            Either::Left((outcome, _)) => break Some(outcome),
            Either::Right((Either::Left(((), _)), _)) => break None,
            Either::Right((Either::Right(((), _)), _)) => {
                if inner.engine().is_finished(id) {
                    // Ended from outside (shutdown): drop the exchange, which aborts it.
                    return None;
                }
            }
        }
    };
    let now = client.now();
    let mut engine = inner.engine();
    match outcome {
        Some(Ok(Exchange::Whole(response))) => {
            engine.on_response(id, response, now);
            None
        }
        Some(Ok(Exchange::Stream(status, headers, body))) => {
            engine.on_stream_open(id, status, &headers, now);
            Some(body)
        }
        Some(Err(error)) => {
            engine.on_transport_error(id, error, now);
            None
        }
        None => {
            engine.on_attempt_timeout(id, now);
            None
        }
    }
}
