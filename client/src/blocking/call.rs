//! The engine's loop on the calling thread: ask, perform, sleep, repeat.

use std::sync::Arc;

use blossom_core::codec::{Output, Prepared};
use blossom_core::engine::{Attempt, CallId, CallOptions, RawResponse, Step};
use blossom_core::error::{Error, TransportErrorKind};

use super::inner::BlockingInner;
use super::seams::{BlockingRuntime, read_body_blocking};
use super::stream::{BlockingChatStream, Opened, open};
use crate::cell::{EndGuard, StreamControl};
use crate::request::{ApiRequest, FromOutput, mismatch};

/// How a call ended: with its answer, or with its stream open.
pub(crate) enum Executed {
    Output(Output),
    Stream(Box<BlockingChatStream>),
}

/// Runs a request to its answer.
///
/// # Errors
/// Invalid input, or the call's failure.
pub(crate) fn call<C: BlockingRuntime, Q: ApiRequest>(
    inner: &Arc<BlockingInner<C>>,
    request: Q,
    options: CallOptions,
) -> Result<Q::Output, Error> {
    let prepared = request.prepare(&inner.encoder)?;
    match execute(inner, prepared, options)? {
        Executed::Output(output) => Q::Output::from_output(output),
        // Dropping the stream ends its call.
        Executed::Stream(stream) => Err(mismatch(&Output::Stream(Box::new(stream.meta().clone())))),
    }
}

/// Cancels the call if the loop unwinds before the call ends (a panic in a transport).
struct CancelOnUnwind<'a, C: BlockingRuntime> {
    inner: &'a BlockingInner<C>,
    id: CallId,
    armed: bool,
}

impl<C: BlockingRuntime> Drop for CancelOnUnwind<'_, C> {
    fn drop(&mut self) {
        if self.armed {
            self.inner.cell.cancel_call(self.id, self.inner.clock.now());
        }
    }
}

/// Drives one call to its end on this thread.
pub(crate) fn execute<C: BlockingRuntime>(
    inner: &Arc<BlockingInner<C>>,
    prepared: Prepared,
    options: CallOptions,
) -> Result<Executed, Error> {
    let clock = &inner.clock;
    let (id, signal) = {
        let mut engine = inner.engine();
        let id = engine.submit(prepared, options, clock.now());
        (id, engine.register(id))
    };
    let mut guard = CancelOnUnwind {
        inner,
        id,
        armed: true,
    };
    let mut opened = None;
    loop {
        let step = inner.engine().poll(id, clock.now());
        match step {
            Step::Send(attempt) => opened = perform(inner, id, attempt),
            Step::Wait(until) => signal.wait(Some(until), || clock.now()),
            Step::Pending => signal.wait(None, || clock.now()),
            Step::Stream(meta) => {
                let Some(opened) = opened.take() else {
                    // The engine opened a stream this loop did not read: a bug, reported
                    // (the guard cancels the call) rather than hung.
                    return Err(mismatch(&Output::Stream(Box::new(meta))));
                };
                guard.armed = false;
                let control: Arc<dyn StreamControl> = inner.clone();
                let ender = EndGuard::new(control, id);
                return Ok(Executed::Stream(Box::new(BlockingChatStream::new(
                    meta, opened, ender, signal, inner,
                ))));
            }
            Step::Done(result) => {
                guard.armed = false;
                // A blocking signal holds no waker.
                let _none = inner.engine().unregister(id);
                return result.map(Executed::Output);
            }
        }
    }
}

/// Performs one attempt (for a stream: up to its first event) within the attempt's deadline,
/// and reports the outcome. Returns a stream that opened.
fn perform<C: BlockingRuntime>(
    inner: &BlockingInner<C>,
    id: CallId,
    attempt: Attempt,
) -> Option<Opened> {
    let clock = &inner.clock;
    let response = match inner.transport.send(attempt.request, attempt.deadline) {
        Ok(response) => response,
        Err(error) => {
            let now = clock.now();
            let mut engine = inner.engine();
            if error.kind() == TransportErrorKind::Timeout {
                engine.on_attempt_timeout(id, now);
            } else {
                engine.on_transport_error(id, error, now);
            }
            return None;
        }
    };
    if attempt.stream && response.status.is_success() {
        let reader =
            inner
                .engine()
                .on_stream_head(id, response.status, &response.headers, clock.now())?;
        let opening = open(response.body, reader, attempt.deadline, clock);
        let now = clock.now();
        let mut engine = inner.engine();
        return match opening {
            Ok(Some(opened)) => {
                engine.on_stream_open(id, now);
                Some(opened)
            }
            Ok(None) => {
                engine.on_attempt_timeout(id, now);
                None
            }
            Err(error) => {
                engine.on_stream_end(id, Some(&error), now);
                None
            }
        };
    }
    let body = read_body_blocking(response.body, inner.config.max_body_bytes, attempt.deadline);
    let now = clock.now();
    let mut engine = inner.engine();
    match body {
        Ok(body) => engine.on_response(
            id,
            RawResponse {
                status: response.status,
                headers: response.headers,
                body,
                received_at: (!response.status.is_success()).then(|| clock.wall_now()),
            },
            now,
        ),
        Err(error) if error.kind() == TransportErrorKind::Timeout => {
            engine.on_attempt_timeout(id, now);
        }
        Err(error) => engine.on_transport_error(id, error, now),
    }
    None
}
