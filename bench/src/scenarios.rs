//! The scenarios: what one measured workload is (kind of call, concurrency, how many calls),
//! and the requests it sends. Every call of a scenario except `cachehit` has a prompt of its
//! own, so neither the SDK's cache nor its request coalescing ever answers for the network.

use blossom_core::api::{ChatRequest, ImageRequest};

/// What a call of a scenario does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A small chat completion.
    Chat,
    /// A 200 KB image.
    Image,
    /// A streamed chat completion, every chunk read.
    Stream,
    /// The same deterministic chat request over and over, so the SDK's cache answers.
    CacheHit,
}

/// One scenario.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scenario {
    /// Its name on the command line and in the report.
    pub(crate) name: &'static str,
    /// What each call does.
    pub(crate) kind: Kind,
    /// Calls in flight at once.
    pub(crate) concurrency: usize,
    /// Measured calls in a full run.
    pub(crate) calls: usize,
    /// Measured calls with `--quick`.
    pub(crate) quick_calls: usize,
    /// How long the server waits before answering each call, in milliseconds (0: at once).
    pub(crate) delay_ms: u64,
    /// Whether the scenario's figure is wall time (slow calls), not CPU.
    pub(crate) slow: bool,
}

/// Every scenario, in report order.
pub(crate) const SCENARIOS: &[Scenario] = &[
    // Full runs: about a second of calls per measurement on the project's machine.
    Scenario::new("chat1", Kind::Chat, 1, 3_000, 300),
    Scenario::new("chat16", Kind::Chat, 16, 10_000, 600),
    Scenario::new("chat64", Kind::Chat, 64, 10_000, 600),
    Scenario::new("image16", Kind::Image, 16, 3_000, 200),
    Scenario::new("stream16", Kind::Stream, 16, 1_000, 60),
    Scenario::slow("slow100", 100),
    Scenario::slow("slow1000", 1_000),
    Scenario::new("cachehit", Kind::CacheHit, 16, 100_000, 4_000),
];

impl Scenario {
    const fn new(
        name: &'static str,
        kind: Kind,
        concurrency: usize,
        calls: usize,
        quick_calls: usize,
    ) -> Self {
        Self {
            name,
            kind,
            concurrency,
            calls,
            quick_calls,
            delay_ms: 0,
            slow: false,
        }
    }

    /// `calls` chat calls of 200 ms each, all in flight at once.
    const fn slow(name: &'static str, calls: usize) -> Self {
        Self {
            name,
            kind: Kind::Chat,
            concurrency: calls,
            calls,
            quick_calls: calls,
            delay_ms: 200,
            slow: true,
        }
    }

    /// The scenario named `name`.
    pub(crate) fn find(name: &str) -> Option<Self> {
        SCENARIOS.iter().copied().find(|s| s.name == name)
    }

    /// How many calls warm the path up before the measured window (not measured): about 5%,
    /// at least a few. Slow scenarios warm up with a handful of calls, so that the memory
    /// held before the window (the baseline of "RSS per call in flight") is that of an idle
    /// client, not of one that already had every call in flight.
    pub(crate) fn warmup_calls(&self, calls: usize) -> usize {
        if self.slow {
            4
        } else {
            (calls / 20).max(2 * self.concurrency).max(8)
        }
    }

    /// Calls in flight during the warm-up.
    pub(crate) fn warmup_concurrency(&self) -> usize {
        if self.slow { 4 } else { self.concurrency }
    }

    /// The chat request of call `i`. Each call has a prompt of its own, except in `cachehit`,
    /// where every call is the same deterministic (seeded) request. The delay the server is
    /// asked for travels in the prompt as `[delay=MS]`, so it reaches the server through the
    /// SDK unchanged, in the JSON body.
    pub(crate) fn chat(&self, i: usize) -> ChatRequest {
        match self.kind {
            Kind::CacheHit => ChatRequest::new("openai")
                .user("The same question every time: what is a cache hit?")
                .seed(7),
            _ if self.delay_ms > 0 => ChatRequest::new("openai").user(format!(
                "[delay={}] Slow question number {i}: say hello.",
                self.delay_ms
            )),
            _ => ChatRequest::new("openai").user(format!(
                "Question number {i} of the load benchmark: please say hello."
            )),
        }
    }

    /// The image request of call `i` (its own prompt and seed).
    pub(crate) fn image(&self, i: usize) -> ImageRequest {
        let seed = i64::try_from(i).unwrap_or(i64::MAX) % 2_147_483_647;
        ImageRequest::new(format!("a red apple on a table, picture {i}"))
            .size(512, 512)
            .seed(seed)
    }
}

/// Whether the path `path` can run scenario `scenario` (raw transports have no cache).
pub(crate) fn applies(path: crate::paths::PathName, scenario: &Scenario) -> bool {
    !(scenario.kind == Kind::CacheHit && path.is_raw())
}
