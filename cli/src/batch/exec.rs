//! Running one line: the call, waiting out an open circuit breaker, saving media atomically,
//! and the record that says how it went.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blossom_tokio::{
    AnyResponse, CallOptions, Client, Error, ErrorKind, Media, ResponseMeta, ServerCache,
    write_atomically,
};

use super::job::Job;
use super::record::{ErrorInfo, Failed, Outcome, Record, Success, Usage};

/// Runs jobs; shared by every call in flight.
#[derive(Debug)]
pub(crate) struct Runner {
    /// The client (one pool, one engine for the whole job).
    pub(crate) client: Client,
    /// Where images and audio go.
    pub(crate) media_dir: Option<PathBuf>,
    /// Per-line time limit, across attempts and waits.
    pub(crate) timeout: Option<Duration>,
    /// How many times a line waits for an open circuit breaker before failing with it.
    pub(crate) breaker_waits: u32,
}

impl Runner {
    /// Runs one job to its record.
    pub(crate) async fn run(self: Arc<Self>, job: Job) -> Record {
        let started = Instant::now();
        let deadline = self.timeout.and_then(|t| started.checked_add(t));
        let mut waits = 0;
        // Attempts of the calls that ended on an open breaker before this one: they reached
        // the server too, and the record counts every attempt of the line.
        let mut earlier = 0;
        let result = loop {
            let mut options = CallOptions::default().priority(job.priority);
            if let Some(deadline) = deadline {
                options = options.deadline(deadline);
            }
            let result = self.client.call(job.request.clone()).options(options).await;
            // An open breaker fails calls fast; a batch would burn through its input in
            // seconds. Waiting for the breaker's next probe turns an outage into a pause.
            match result {
                Err(error)
                    if error.kind() == ErrorKind::CircuitOpen && waits < self.breaker_waits =>
                {
                    let pause = error
                        .retry_after()
                        .unwrap_or(Duration::from_secs(1))
                        .clamp(Duration::from_millis(50), Duration::from_secs(60));
                    if deadline.is_some_and(|d| Instant::now() + pause >= d) {
                        break Err(error);
                    }
                    waits += 1;
                    earlier += error.attempts();
                    tokio::time::sleep(pause).await;
                }
                other => break other,
            }
        };
        let mut outcome = match result {
            Ok(answer) => self.success(&job, answer, started).await,
            Err(error) => failed(ErrorInfo::from_sdk(&error), error.attempts(), started),
        };
        match &mut outcome {
            Outcome::Ok(success) => success.attempts += earlier,
            Outcome::Failed(failure) => failure.attempts += earlier,
        }
        Record {
            id: job.id,
            line: job.line,
            outcome,
        }
    }

    async fn success(&self, job: &Job, answer: AnyResponse, started: Instant) -> Outcome {
        let meta = answer.meta().clone();
        let (text, file, model, usage) = match answer {
            AnyResponse::Text(reply) => (Some(reply.text), None, None, None),
            AnyResponse::Chat(chat) => {
                let usage = chat.usage.as_ref().map(|u| Usage {
                    prompt_tokens: u.prompt_tokens,
                    completion_tokens: u.completion_tokens,
                    total_tokens: u.total_tokens,
                });
                let model = Some(chat.model.clone()).filter(|m| !m.is_empty());
                (Some(chat.text().to_owned()), None, model, usage)
            }
            AnyResponse::Media(media) => match self.save(job, media).await {
                Ok(path) => (None, Some(path), None, None),
                Err(error) => return failed(error, meta.attempts, started),
            },
            _ => {
                let error = Error::decode("the answer is not of the kind asked for", b"");
                return failed(ErrorInfo::from_sdk(&error), meta.attempts, started);
            }
        };
        Outcome::Ok(Success {
            kind: job.kind,
            text,
            file,
            model: meta
                .model_used
                .clone()
                .or(model)
                .or_else(|| job.model.clone()),
            usage,
            attempts: meta.attempts,
            cached: cached(&meta),
            latency: started.elapsed(),
        })
    }

    /// Writes the media as `<id>.<ext>` in the media directory, atomically, off the runtime.
    async fn save(&self, job: &Job, media: Media) -> Result<String, ErrorInfo> {
        let io_error = |message: String| ErrorInfo {
            kind: "io".to_owned(),
            status: None,
            code: None,
            message,
            request_id: media.meta.request_id.clone(),
        };
        let Some(dir) = &self.media_dir else {
            return Err(io_error("no --media-dir to save the file in".to_owned()));
        };
        let path = dir.join(format!("{}.{}", job.id.file_stem(), media.extension()));
        let target = path.clone();
        let bytes = media.bytes.clone();
        match tokio::task::spawn_blocking(move || write_atomically(&target, &bytes)).await {
            Ok(Ok(())) => Ok(path.display().to_string()),
            Ok(Err(e)) => Err(io_error(format!("cannot save {}: {e}", path.display()))),
            Err(e) => Err(io_error(format!("cannot save {}: {e}", path.display()))),
        }
    }
}

fn failed(error: ErrorInfo, attempts: u32, started: Instant) -> Outcome {
    Outcome::Failed(Failed {
        error,
        attempts,
        latency: Some(started.elapsed()),
    })
}

/// Answered without a new generation: from the client's cache, by sharing an identical
/// call in flight, or from the server's cache.
fn cached(meta: &ResponseMeta) -> bool {
    meta.cached || meta.coalesced || meta.server_cache == Some(ServerCache::Hit)
}
