//! A `tracing` subscriber for tests: it records every span and event as text, at every
//! level, so that a test can look for what the SDK said, or for what it must never say.
//!
//! An event reads `LEVEL target fields [its parent span]`, a span `name fields` (with the
//! fields recorded later appended); fields read ` name=value`, strings as they are and
//! everything else by `Debug`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// The most events kept (a transport at TRACE logs every body chunk); later ones are dropped.
const MAX_LINES: usize = 200_000;

/// One recorded event.
#[derive(Debug, Clone)]
pub struct Line {
    /// Its level.
    pub level: Level,
    /// `LEVEL target fields [parent span]`.
    pub text: String,
}

#[derive(Default)]
struct Recorded {
    /// By span id, less one.
    spans: Vec<String>,
    lines: Vec<Line>,
}

/// The subscriber; clones share what they record.
#[derive(Clone, Default)]
pub struct Capture {
    record: Arc<Mutex<Recorded>>,
    next_id: Arc<AtomicU64>,
}

impl Capture {
    fn with<T>(&self, f: impl FnOnce(&mut Recorded) -> T) -> T {
        f(&mut self.record.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn span_text(&self, id: &Id) -> String {
        let index = usize::try_from(id.into_u64() - 1).unwrap_or(usize::MAX);
        self.with(|r| r.spans.get(index).cloned().unwrap_or_default())
    }

    /// The events recorded so far.
    pub fn lines(&self) -> Vec<Line> {
        self.with(|r| r.lines.clone())
    }

    /// Every text recorded: the events since the last call (which it removes), then every
    /// span so far.
    pub fn take_texts(&self) -> Vec<String> {
        self.with(|r| {
            let mut texts: Vec<String> = r.lines.drain(..).map(|line| line.text).collect();
            texts.extend(r.spans.iter().cloned());
            texts
        })
    }
}

/// Fields as ` name=value`.
struct Fields(String);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields(span.metadata().name().to_owned());
        span.record(&mut fields);
        self.with(|r| r.spans.push(fields.0));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut fields = Fields(String::new());
        values.record(&mut fields);
        let index = usize::try_from(span.into_u64() - 1).unwrap_or(usize::MAX);
        self.with(|r| {
            if let Some(text) = r.spans.get_mut(index) {
                text.push_str(&fields.0);
            }
        });
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let parent = event.parent().map(|id| self.span_text(id));
        let text = format!(
            "{} {}{} [{}]",
            event.metadata().level(),
            event.metadata().target(),
            fields.0,
            parent.unwrap_or_default()
        );
        let level = *event.metadata().level();
        self.with(|r| {
            if r.lines.len() < MAX_LINES {
                r.lines.push(Line { level, text });
            }
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
