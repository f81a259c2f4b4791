//! Request batching: collect calls for a short window, then send them together.
//!
//! docs/PATTERNS.md row 13. The service has no batch endpoint, so "sending together" means one
//! `client.batch(window)` per window: the window's calls run side by side under one
//! concurrency limit (and identical calls in flight share one request, by the client's
//! coalescing). This program is the collecting part: callers put a request and a reply
//! channel on a queue; a collector closes a window after 50 ms or 16 requests, whichever
//! comes first, sends it, and routes each result back by its batch index.
//!
//! Run it with `cargo run -p blossom-tokio --example 13_windowed_batching`.

use std::time::Duration;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_tokio::{Client, Error, StreamExt, TextReply, TextRequest};
use tokio::sync::{mpsc, oneshot};

const WINDOW: Duration = Duration::from_millis(50);
const MAX_WINDOW: usize = 16;

/// What a caller queues: its request and where its answer goes.
type Job = (TextRequest, oneshot::Sender<Result<TextReply, Error>>);

/// Collects jobs into windows and sends each window as one batch. Returns the window sizes.
async fn collector(client: Client, mut queue: mpsc::Receiver<Job>) -> Vec<usize> {
    let mut sizes = Vec::new();
    // A window opens with its first job and closes after WINDOW or MAX_WINDOW jobs.
    while let Some(first) = queue.recv().await {
        let closes = tokio::time::Instant::now() + WINDOW;
        let mut window = vec![first];
        while window.len() < MAX_WINDOW {
            match tokio::time::timeout_at(closes, queue.recv()).await {
                Ok(Some(job)) => window.push(job),
                Ok(None) | Err(_) => break, // every caller is gone, or time is up
            }
        }
        sizes.push(window.len());
        let (requests, mut replies): (Vec<_>, Vec<_>) = window
            .into_iter()
            .map(|(request, reply)| (request, Some(reply)))
            .unzip();
        // Send the window on its own task so the next window collects meanwhile.
        let client = client.clone();
        tokio::spawn(async move {
            let mut results = client.batch(requests).concurrency(MAX_WINDOW).run();
            while let Some((index, result)) = results.next().await {
                if let Some(reply) = replies.get_mut(index).and_then(Option::take) {
                    let _ = reply.send(result); // the caller may have given up
                }
            }
        });
    }
    sizes
}

/// What a caller does: queue a request, wait for its own answer.
async fn ask(queue: mpsc::Sender<Job>, prompt: String) -> Result<TextReply, Error> {
    let (reply, answer) = oneshot::channel();
    let gone = || Error::shutdown("the collector stopped");
    queue
        .send((TextRequest::new(prompt), reply))
        .await
        .map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = EmulatorConfig::default().faults("latency=30ms".parse()?);
    let emulator = Emulator::start(config).await?;
    // A real program uses `Client::builder().from_env()` (POLLINATIONS_API_KEY).
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;

    let (queue, jobs) = mpsc::channel(64);
    let collector = tokio::spawn(collector(client.clone(), jobs));

    // 40 callers, arriving over about 120 ms.
    let mut callers = tokio::task::JoinSet::new();
    for i in 0..40u64 {
        let queue = queue.clone();
        callers.spawn(async move {
            tokio::time::sleep(Duration::from_millis(i * 3)).await;
            ask(queue, format!("caller {i}")).await
        });
    }
    drop(queue); // the collector ends once every caller's sender is gone

    let mut answered = 0;
    while let Some(joined) = callers.join_next().await {
        joined??;
        answered += 1;
    }
    let sizes = collector.await?;
    println!(
        "{answered} calls from 40 callers were sent in {} windows of sizes {sizes:?}",
        sizes.len()
    );
    // Ideally 3 windows (16 + 16 + 8); a busy machine spreads the callers out, so allow five
    // times as many. One request per window would make 40.
    let capped = sizes.iter().all(|&size| size <= MAX_WINDOW);
    if answered != 40 || sizes.iter().sum::<usize>() != 40 || !capped || sizes.len() > 15 {
        return Err("the calls were not collected into windows".into());
    }
    Ok(())
}
