//! The async drivers (tokio and smol share them: both clients are
//! `blossom_client::Client<R>`): each call is a spawned task, at most `CONCURRENCY` at once;
//! a cancelled call's future is dropped after a random delay, a cancelled stream after a
//! random number of chunks or a random delay.

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blossom_client::{ChatStream, Client, Runtime};
use blossom_core::Error;
use blossom_core::policy::MetricsSnapshot;
use futures_util::StreamExt as _;
use futures_util::future::{Either, select};
use smol::Timer;

use crate::ledger::{Ending, Ledger, Record};
use crate::plan::{self, Answer, Cancel, Kind, Planned};
use crate::{CONCURRENCY, HANG, settled};

/// Runs the calls on a tokio runtime with two workers, each call a task of its own.
/// Returns the client's metrics once no call holds a permit (before the runtime, and the
/// background drains of finished streams on it, go away).
pub(crate) fn run_tokio(
    client: &blossom_tokio::Client,
    calls: &[Planned],
    ledger: &Arc<Ledger>,
) -> MetricsSnapshot {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        futures_util::stream::iter(calls.iter().copied())
            .map(|call| {
                let task = tokio::spawn(run_one(client.clone(), call, Arc::clone(ledger)));
                async move { task.await.unwrap() }
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<()>()
            .await;
    });
    settled(|| client.metrics())
}

/// Runs the calls on smol's global executor, each call a task of its own; returns the
/// client's metrics once no call holds a permit.
pub(crate) fn run_smol(
    client: &blossom_smol::Client,
    calls: &[Planned],
    ledger: &Arc<Ledger>,
) -> MetricsSnapshot {
    smol::block_on(async {
        futures_util::stream::iter(calls.iter().copied())
            .map(|call| smol::spawn(run_one(client.clone(), call, Arc::clone(ledger))))
            .buffer_unordered(CONCURRENCY)
            .collect::<()>()
            .await;
    });
    settled(|| client.metrics())
}

/// One call, from its first poll to its end (or its cancellation), recorded in `ledger`.
async fn run_one<R: Runtime>(client: Client<R>, call: Planned, ledger: Arc<Ledger>) {
    ledger.start(call.id);
    let started = Instant::now();
    let work = pin!(perform(&client, call));
    let cancellable = async {
        match call.cancel {
            Some(Cancel::After(delay)) => match select(work, Timer::after(delay)).await {
                Either::Left((ending, _)) => ending,
                // Dropping the select's other half drops the call's future.
                Either::Right(_) => Ending::Cancelled,
            },
            _ => work.await,
        }
    };
    let ending = match select(pin!(cancellable), Timer::after(HANG)).await {
        Either::Left((ending, _)) => ending,
        Either::Right(_) => Ending::Broken(format!("still running {HANG:?} after it started")),
    };
    ledger.end(Record {
        call,
        ending,
        elapsed: started.elapsed(),
    });
}

async fn perform<R: Runtime>(client: &Client<R>, call: Planned) -> Ending {
    let v = call.variant;
    let result = match call.kind {
        Kind::Text => client
            .text(plan::text(v))
            .timeout(call.deadline)
            .await
            .map(|reply| Answer::Text(reply.text)),
        Kind::Chat => client
            .chat(plan::chat(v))
            .timeout(call.deadline)
            .await
            .map(|reply| Answer::Text(reply.text().to_owned())),
        Kind::Image => client
            .image(plan::image(v))
            .timeout(call.deadline)
            .await
            .map(|image| Answer::Bytes(image.bytes)),
        Kind::Speech => client
            .speech(plan::speech(v))
            .timeout(call.deadline)
            .await
            .map(|audio| Answer::Bytes(audio.bytes)),
        Kind::Stream => return stream(client, call).await,
    };
    match result {
        Ok(answer) => Ending::Ok(answer),
        Err(error) => Ending::Failed(error),
    }
}

/// Opens a stream and reads it to its end, or drops it after the planned number of chunks.
async fn stream<R: Runtime>(client: &Client<R>, call: Planned) -> Ending {
    let mut stream = match client
        .chat_stream(plan::stream(call.variant))
        .timeout(call.deadline)
        .await
    {
        Ok(stream) => stream,
        Err(error) => return Ending::Failed(error),
    };
    let stop_after = match call.cancel {
        Some(Cancel::AfterChunks(n)) => Some(n),
        _ => None,
    };
    let mut text = String::new();
    let mut chunks = 0;
    loop {
        if stop_after == Some(chunks) {
            drop(stream);
            return Ending::Cancelled;
        }
        match stream.next().await {
            None => return Ending::Ok(Answer::Text(text)),
            Some(Ok(chunk)) => {
                text.push_str(chunk.text());
                chunks += 1;
            }
            Some(Err(error)) => return after_error(stream, error).await,
        }
    }
}

/// A stream yields its error once and then ends: anything after it is a second ending.
async fn after_error(mut stream: ChatStream, error: Error) -> Ending {
    match select(stream.next(), Timer::after(Duration::from_secs(1))).await {
        Either::Left((None, _)) => Ending::Failed(error),
        Either::Left((Some(item), _)) => Ending::Broken(format!(
            "the stream yielded {item:?} after its error ({error})"
        )),
        Either::Right(_) => Ending::Broken(format!(
            "the stream did not end within 1 s of its error ({error})"
        )),
    }
}
