//! One API exchange, from its request to the last byte of its body: the in-flight gauge
//! (`in_flight`, `max_in_flight`), and whether the client walked away before the end
//! (`aborted_by_client`): while the answer was being prepared (hyper drops the handler of
//! a connection that closed) or while a streamed body was being sent.
//!
//! Answers already in memory end when their handler returns. Streamed answers (SSE, and
//! bodies shaped by faults) are followed to their end: hyper drops a body it can no
//! longer write because the client closed the connection (or, over HTTP/2, cancelled the
//! stream), and a body dropped before its end is an abort by the client, unless the
//! emulator itself closed it (an injected fault) or is stopping. The exchange also holds
//! the request's concurrency permit until then.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, BodyDataStream, Bytes};
use axum::response::Response;
use futures_core::Stream;

use crate::concurrency::Held;
use crate::script::{self, find_abort};
use crate::state::AppState;

/// An exchange in progress: counted in flight until dropped.
pub(crate) struct Exchange {
    app: Arc<AppState>,
    permit: Option<Held>,
    handed_out: bool,
    streamed: bool,
    finished: bool,
    closed_by_server: bool,
}

impl Exchange {
    /// Starts counting an exchange.
    pub(crate) fn begin(app: Arc<AppState>) -> Self {
        app.with_stats(|s| {
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
        });
        Exchange {
            app,
            permit: None,
            handed_out: false,
            streamed: false,
            finished: false,
            closed_by_server: false,
        }
    }

    /// Hands the response out: a streamed body carries the exchange (and the request's
    /// concurrency permit) until it ends; otherwise the exchange ends here.
    pub(crate) fn finish(mut self, mut response: Response) -> Response {
        self.handed_out = true;
        self.permit = response.extensions_mut().remove::<Held>();
        if !script::is_streaming(&response) {
            return response;
        }
        self.streamed = true;
        let (parts, body) = response.into_parts();
        let tracked = Tracked {
            inner: body.into_data_stream(),
            exchange: self,
        };
        Response::from_parts(parts, Body::from_stream(tracked))
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let walked_away =
            !self.handed_out || (self.streamed && !self.finished && !self.closed_by_server);
        let aborted = walked_away && !self.app.is_stopping();
        self.app.with_stats(|s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            if aborted {
                s.aborted_by_client += 1;
            }
        });
    }
}

/// A streamed body that reports its end (or an injected close) to its exchange.
struct Tracked {
    inner: BodyDataStream,
    exchange: Exchange,
}

impl Stream for Tracked {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let item = Pin::new(&mut this.inner).poll_next(cx);
        match &item {
            Poll::Ready(None) => this.exchange.finished = true,
            Poll::Ready(Some(Err(error))) if find_abort(error).is_some() => {
                this.exchange.closed_by_server = true;
            }
            _ => {}
        }
        item
    }
}
