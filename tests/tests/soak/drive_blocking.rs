//! The blocking driver: `CONCURRENCY` threads take the calls in order. A blocking call
//! cannot be interrupted, so only streams are cancelled: the iterator is dropped after the
//! planned number of chunks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use blossom_client::BlockingChatStream;
use blossom_core::Error;
use blossom_core::policy::MetricsSnapshot;

use crate::ledger::{Ending, Ledger, Record};
use crate::plan::{self, Answer, Cancel, Kind, Planned};
use crate::{CONCURRENCY, settled};

/// Returns the client's metrics once no call holds a permit.
pub(crate) fn run(
    client: &blossom_blocking::Client,
    calls: &[Planned],
    ledger: &Ledger,
) -> MetricsSnapshot {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..CONCURRENCY {
            scope.spawn(|| {
                while let Some(&call) = calls.get(next.fetch_add(1, Ordering::Relaxed)) {
                    ledger.start(call.id);
                    let started = Instant::now();
                    let ending = perform(&client.with_timeout(call.deadline), call);
                    ledger.end(Record {
                        call,
                        ending,
                        elapsed: started.elapsed(),
                    });
                }
            });
        }
    });
    settled(|| client.metrics())
}

fn perform(client: &blossom_blocking::Client, call: Planned) -> Ending {
    let v = call.variant;
    let result = match call.kind {
        Kind::Text => client
            .text(plan::text(v))
            .map(|reply| Answer::Text(reply.text)),
        Kind::Chat => client
            .chat(plan::chat(v))
            .map(|reply| Answer::Text(reply.text().to_owned())),
        Kind::Image => client
            .image(plan::image(v))
            .map(|image| Answer::Bytes(image.bytes)),
        Kind::Speech => client
            .speech(plan::speech(v))
            .map(|audio| Answer::Bytes(audio.bytes)),
        Kind::Stream => return stream(client, call),
    };
    match result {
        Ok(answer) => Ending::Ok(answer),
        Err(error) => Ending::Failed(error),
    }
}

fn stream(client: &blossom_blocking::Client, call: Planned) -> Ending {
    let mut stream = match client.chat_stream(plan::stream(call.variant)) {
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
        match stream.next() {
            None => return Ending::Ok(Answer::Text(text)),
            Some(Ok(chunk)) => {
                text.push_str(chunk.text());
                chunks += 1;
            }
            Some(Err(error)) => return after_error(stream, error),
        }
    }
}

/// A stream yields its error once and then ends: anything after it is a second ending.
fn after_error(mut stream: BlockingChatStream, error: Error) -> Ending {
    match stream.next() {
        None => Ending::Failed(error),
        Some(item) => Ending::Broken(format!(
            "the stream yielded {item:?} after its error ({error})"
        )),
    }
}
