//! Scripted response bodies: steps (send bytes, pause, fail) played in order.
//!
//! Server-sent events and every fault that shapes a body in time (part of a body then a
//! close, a stall) are scripts, so body timing lives in one place.
//!
//! Failing is how a body closes its connection: hyper abandons an HTTP/1.1 connection
//! whose body fails (without flushing what it buffered since the last pause), and the
//! connection task turns [`Abort::Reset`] into a TCP reset. Over HTTP/2 a failing body
//! resets its stream instead.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_core::Stream;
use tokio::time::Sleep;

/// One step of a body.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Write these bytes (empty ones are skipped).
    Send(Bytes),
    /// Write nothing for this long; what was sent before is flushed meanwhile.
    Pause(Duration),
    /// End the body with an error, which closes the connection.
    Fail(Abort),
}

/// How an injected fault ends a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abort {
    /// A TCP reset (`SO_LINGER` zero), before or after response bytes.
    Reset,
    /// An ordinary close: what was flushed arrives, then end of file.
    Close,
}

impl fmt::Display for Abort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Abort::Reset => "connection reset by an injected fault",
            Abort::Close => "connection closed by an injected fault",
        })
    }
}

impl std::error::Error for Abort {}

/// The [`Abort`] somewhere in an error's source chain (hyper and axum wrap it).
pub(crate) fn find_abort(error: &(dyn std::error::Error + 'static)) -> Option<Abort> {
    let mut current = Some(error);
    while let Some(err) = current {
        if let Some(abort) = err.downcast_ref::<Abort>() {
            return Some(*abort);
        }
        current = err.source();
    }
    None
}

/// Marks a response whose body is played over time (a script), as opposed to bytes
/// already in memory; the exchange tracker follows such bodies to their end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Streaming;

/// Marks `response` as [`Streaming`].
pub(crate) fn mark_streaming(response: &mut Response) {
    response.extensions_mut().insert(Streaming);
}

/// Whether `response` is [`Streaming`].
pub(crate) fn is_streaming(response: &Response) -> bool {
    response.extensions().get::<Streaming>().is_some()
}

/// The steps that send `events` one by one with `delay` between two of them.
pub(crate) fn events(events: &[Bytes], delay: Duration) -> Vec<Step> {
    let mut steps = Vec::with_capacity(events.len() * 2);
    for (i, event) in events.iter().enumerate() {
        if i > 0 && !delay.is_zero() {
            steps.push(Step::Pause(delay));
        }
        steps.push(Step::Send(event.clone()));
    }
    steps
}

/// A body that plays its steps.
pub(crate) struct Script {
    steps: VecDeque<Step>,
    pause: Option<Pin<Box<Sleep>>>,
}

impl Script {
    /// A script of `steps`.
    pub(crate) fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        Script {
            steps: steps.into_iter().collect(),
            pause: None,
        }
    }

    /// The response body.
    pub(crate) fn into_body(self) -> Body {
        Body::from_stream(self)
    }
}

impl Stream for Script {
    type Item = Result<Bytes, Abort>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(pause) = self.pause.as_mut() {
                ready!(pause.as_mut().poll(cx));
                self.pause = None;
            }
            match self.steps.pop_front() {
                None => return Poll::Ready(None),
                Some(Step::Send(bytes)) if bytes.is_empty() => {}
                Some(Step::Send(bytes)) => return Poll::Ready(Some(Ok(bytes))),
                Some(Step::Pause(delay)) if delay.is_zero() => {}
                Some(Step::Pause(delay)) => self.pause = Some(Box::pin(tokio::time::sleep(delay))),
                Some(Step::Fail(abort)) => {
                    self.steps.clear();
                    return Poll::Ready(Some(Err(abort)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    async fn next(script: &mut Script) -> Option<Result<Bytes, Abort>> {
        poll_fn(|cx| Pin::new(&mut *script).poll_next(cx)).await
    }

    #[tokio::test]
    async fn plays_steps_in_order_with_pauses() {
        let start = std::time::Instant::now();
        let mut script = Script::new([
            Step::Send(Bytes::from_static(b"a")),
            Step::Send(Bytes::new()),
            Step::Pause(Duration::from_millis(30)),
            Step::Send(Bytes::from_static(b"b")),
            Step::Fail(Abort::Close),
            Step::Send(Bytes::from_static(b"never")),
        ]);
        assert_eq!(next(&mut script).await.unwrap().unwrap(), "a");
        assert_eq!(next(&mut script).await.unwrap().unwrap(), "b");
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(next(&mut script).await.unwrap(), Err(Abort::Close));
        assert!(next(&mut script).await.is_none());
    }

    #[test]
    fn events_pause_between_not_after() {
        let e = [Bytes::from_static(b"1"), Bytes::from_static(b"2")];
        let steps = events(&e, Duration::from_millis(1));
        assert_eq!(steps.len(), 3);
        assert!(matches!(steps[1], Step::Pause(_)));
        assert_eq!(events(&e, Duration::ZERO).len(), 2);
    }

    #[test]
    fn finds_an_abort_through_wrappers() {
        let wrapped = axum::Error::new(axum::Error::new(Abort::Reset));
        assert_eq!(find_abort(&wrapped), Some(Abort::Reset));
        let other = std::io::Error::other("x");
        assert_eq!(find_abort(&other), None);
    }
}
