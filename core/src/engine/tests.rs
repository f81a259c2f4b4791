//! Engine state-machine tests with hand-fed inputs (the core's inputs are the only mocks).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::*;
use crate::ErrorKind;
use crate::api::{ChatRequest, ImageRequest, ModelKind, TextRequest};
use crate::codec::Encoder;
use crate::config::ClientConfig;
use crate::policy::{BreakerConfig, CacheConfig, Jitter, Priority, RateLimit, SchedulerConfig};
use crate::testing::origin;

const KEY: &str = "sk_ENGINEengineENGINEengine012345";

struct Rig {
    engine: Engine,
    encoder: Encoder,
    t0: Instant,
}

fn rig(change: impl FnOnce(&mut EngineConfig)) -> Rig {
    let config = ClientConfig::new().api_key(KEY).unwrap();
    let mut engine_config = EngineConfig::from_client(&config);
    engine_config.attempt_timeout = Duration::from_secs(10);
    engine_config.retry.jitter = Jitter::None;
    change(&mut engine_config);
    Rig {
        engine: Engine::new(engine_config),
        encoder: Encoder::new(&config).unwrap(),
        t0: origin(),
    }
}

fn response(status: u16, body: &'static str) -> RawResponse {
    RawResponse {
        status: StatusCode::from_u16(status).unwrap(),
        headers: HeaderMap::new(),
        body: Bytes::from_static(body.as_bytes()),
        received_at: None,
    }
}

fn with_header(mut raw: RawResponse, name: &'static str, value: &'static str) -> RawResponse {
    raw.headers.insert(name, value.parse().unwrap());
    raw
}

impl Rig {
    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn text(&mut self, prompt: &str, options: CallOptions, ms: u64) -> CallId {
        let prepared = self
            .encoder
            .text(&TextRequest::new(prompt).seed(1))
            .unwrap();
        self.engine.submit(prepared, options, self.at(ms))
    }

    fn send(&mut self, id: CallId, ms: u64) -> Attempt {
        match self.engine.poll(id, self.at(ms)) {
            Step::Send(attempt) => attempt,
            other => panic!("expected Send, got {other:?}"),
        }
    }

    fn done(&mut self, id: CallId, ms: u64) -> Result<Output, Error> {
        match self.engine.poll(id, self.at(ms)) {
            Step::Done(result) => result,
            other => panic!("expected Done, got {other:?}"),
        }
    }

    /// Whether `id` waits to be woken: no step of its own before its deadline (a minute or
    /// more away in these tests).
    fn parked(&mut self, id: CallId, ms: u64) -> bool {
        match self.engine.poll(id, self.at(ms)) {
            Step::Pending => true,
            Step::Wait(at) if at >= self.at(ms + 60_000) => true,
            _ => false,
        }
    }

    fn woken(&mut self) -> Vec<CallId> {
        let mut out = Vec::new();
        self.engine.take_woken(&mut out);
        out
    }
}

#[test]
fn success_path_ends_once() {
    let mut r = rig(|_| {});
    let id = r.text("hi", CallOptions::default(), 0);
    let attempt = r.send(id, 0);
    assert_eq!(attempt.deadline, Some(r.at(10_000)));
    assert!(!attempt.stream);
    assert!(matches!(r.engine.poll(id, r.at(0)), Step::Pending));
    r.engine.on_response(id, response(200, "hello"), r.at(5));
    let Ok(Output::Text(text)) = r.done(id, 5) else {
        panic!()
    };
    assert_eq!(text.text, "hello");
    assert_eq!(text.meta.attempts, 1);
    assert_eq!(r.engine.calls(), 0);
    assert_eq!(
        r.done(id, 5).unwrap_err().kind(),
        ErrorKind::InvalidInput,
        "stale id"
    );
    let m = r.engine.metrics(r.at(5));
    assert_eq!(
        (m.submitted, m.succeeded, m.attempts, m.in_flight),
        (1, 1, 1, 0)
    );
    assert_eq!(m.latency["text"].count, 1);
}

#[test]
fn retries_back_off_and_honour_retry_after() {
    let mut r = rig(|_| {});
    let id = r.text("hi", CallOptions::default(), 0);
    r.send(id, 0);
    r.engine.on_response(id, response(503, ""), r.at(10));
    // Backoff without jitter: 500 ms.
    assert!(matches!(r.engine.poll(id, r.at(10)), Step::Wait(at) if at == r.at(510)));
    let second = r.send(id, 510);
    assert_eq!(
        second.request.uri(),
        r.encoder
            .text(&TextRequest::new("hi").seed(1))
            .unwrap()
            .request()
            .uri()
    );
    r.engine.on_response(
        id,
        with_header(response(429, ""), "retry-after", "3"),
        r.at(520),
    );
    // The server asked for 3 s: more than the 1 s backoff.
    assert!(matches!(r.engine.poll(id, r.at(520)), Step::Wait(at) if at == r.at(3520)));
    r.send(id, 3520);
    r.engine.on_response(id, response(200, "ok"), r.at(3530));
    let Ok(Output::Text(text)) = r.done(id, 3530) else {
        panic!()
    };
    assert_eq!(text.meta.attempts, 3);
    let m = r.engine.metrics(r.at(3530));
    assert_eq!((m.attempts, m.retried), (3, 2));
}

#[test]
fn retries_are_limited_and_errors_keep_attempts() {
    let mut r = rig(|_| {});
    let id = r.text("hi", CallOptions::default(), 0);
    let mut now = 0;
    for _ in 0..3 {
        r.send(id, now);
        r.engine.on_response(
            id,
            response(
                500,
                r#"{"error":{"code":"INTERNAL_ERROR","message":"boom"}}"#,
            ),
            r.at(now),
        );
        now += 10_000;
    }
    let error = r.done(id, now).unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(error.attempts(), 3);
    assert_eq!(error.code(), Some("INTERNAL_ERROR"));
}

#[test]
fn client_errors_are_not_retried_and_the_key_is_scrubbed() {
    let mut r = rig(|_| {});
    let id = r.engine.submit(
        r.encoder.models(ModelKind::Text).unwrap(),
        CallOptions::default(),
        r.t0,
    );
    r.send(id, 0);
    r.engine.on_response(id, response(401, r#"{"error":{"code":"UNAUTHORIZED","message":"bad key sk_ENGINEengineENGINEengine012345"}}"#), r.t0);
    let error = r.done(id, 0).unwrap_err();
    assert_eq!(error.attempts(), 1);
    assert!(!error.to_string().contains("ENGINE"));
}

#[test]
fn a_server_delay_over_the_maximum_gives_up_with_the_delay() {
    let mut r = rig(|_| {});
    let id = r.text("hi", CallOptions::default(), 0);
    r.send(id, 0);
    r.engine.on_response(
        id,
        with_header(response(429, ""), "retry-after", "600"),
        r.t0,
    );
    let error = r.done(id, 0).unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(600)));
    assert_eq!(error.attempts(), 1);
}

#[test]
fn per_call_retry_override() {
    let mut r = rig(|_| {});
    let id = r.text(
        "hi",
        CallOptions::default().retry(crate::policy::RetryPolicy::never()),
        0,
    );
    r.send(id, 0);
    r.engine.on_response(id, response(503, ""), r.t0);
    assert_eq!(r.done(id, 0).unwrap_err().attempts(), 1);
}

#[test]
fn deadlines_bound_attempts_backoffs_and_calls() {
    let mut r = rig(|_| {});
    let id = r.text(
        "hi",
        CallOptions::default().timeout(Duration::from_secs(3)),
        0,
    );
    let attempt = r.send(id, 0);
    assert_eq!(
        attempt.deadline,
        Some(r.at(3000)),
        "the call deadline is earlier"
    );
    r.engine.on_attempt_timeout(id, r.at(3000));
    let error = r.done(id, 3000).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(
        error.transport_error().is_none(),
        "the call's own deadline, not a transport timeout"
    );

    // A retry whose backoff would pass the deadline gives up at once.
    let id = r.text(
        "x",
        CallOptions::default().timeout(Duration::from_millis(400)),
        0,
    );
    r.send(id, 0);
    r.engine.on_response(id, response(503, ""), r.at(10));
    assert_eq!(
        r.done(id, 10).unwrap_err().status(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );

    let late = r.text("y", CallOptions::default().deadline(r.t0), 0);
    let error = r.done(late, 0).unwrap_err();
    assert_eq!((error.kind(), error.attempts()), (ErrorKind::Timeout, 0));
}

#[test]
fn attempt_timeouts_before_the_deadline_are_retried_when_idempotent() {
    let mut r = rig(|_| {});
    let id = r.text("hi", CallOptions::default(), 0);
    r.send(id, 0);
    r.engine.on_attempt_timeout(id, r.at(10_000));
    assert!(matches!(r.engine.poll(id, r.at(10_000)), Step::Wait(_)));

    // A non-deterministic chat is not idempotent: a timeout is final.
    let chat = r
        .encoder
        .chat(&ChatRequest::new("openai").user("hi"))
        .unwrap();
    let id = r.engine.submit(chat, CallOptions::default(), r.t0);
    r.send(id, 0);
    r.engine.on_attempt_timeout(id, r.at(10_000));
    let error = r.done(id, 10_000).unwrap_err();
    assert_eq!(
        error.transport_error().map(TransportError::kind),
        Some(TransportErrorKind::Timeout)
    );
}

#[test]
fn the_watchdog_expires_overdue_attempts_and_names_the_next_deadline() {
    let mut r = rig(|_| {});
    assert_eq!(r.engine.expire_attempts(r.t0), None, "nothing is out");
    let first = r.text("a", CallOptions::default(), 0);
    r.send(first, 0);
    assert!(r.engine.take_watchdog_wake(), "the first deadline wakes it");
    assert!(!r.engine.take_watchdog_wake(), "once");
    assert_eq!(r.engine.expire_attempts(r.at(0)), Some(r.at(10_000)));

    // A later deadline does not wake it; an earlier one (a call's own timeout) does.
    let later = r.text("b", CallOptions::default(), 100);
    r.send(later, 100);
    assert!(!r.engine.take_watchdog_wake());
    let sooner = r.text(
        "c",
        CallOptions::default().timeout(Duration::from_secs(2)),
        200,
    );
    r.send(sooner, 200);
    assert!(r.engine.take_watchdog_wake());
    assert_eq!(r.engine.expire_attempts(r.at(200)), Some(r.at(2200)));

    // At 2.2 s the third call's attempt ends (its call's deadline: the call fails), the
    // others go on; the next deadline is the first's.
    assert_eq!(r.engine.expire_attempts(r.at(2200)), Some(r.at(10_000)));
    let mut woken = Vec::new();
    r.engine.take_woken(&mut woken);
    assert!(woken.contains(&sooner), "its driver is woken");
    assert!(!r.engine.attempt_out(sooner));
    assert!(r.engine.attempt_out(first) && r.engine.attempt_out(later));
    assert_eq!(r.done(sooner, 2200).unwrap_err().kind(), ErrorKind::Timeout);

    // An answered attempt is no longer watched; an overdue one is retried (idempotent).
    r.engine.on_response(first, response(200, "hi"), r.at(300));
    assert_eq!(r.engine.expire_attempts(r.at(10_100)), None);
    assert!(!r.engine.attempt_out(later));
    assert!(matches!(r.engine.poll(later, r.at(10_100)), Step::Wait(_)));
    assert!(r.done(first, 10_100).is_ok());
}

#[test]
fn the_budget_stops_retry_storms() {
    let mut r = rig(|c| {
        c.budget = Some(crate::policy::BudgetConfig {
            ratio: 0.1,
            min_per_second: 0.0,
            window: Duration::from_secs(10),
        });
        c.breaker = None;
    });
    let ids: Vec<_> = (0..20)
        .map(|i| r.text(&format!("p{i}"), CallOptions::default(), 0))
        .collect();
    for id in &ids {
        r.send(*id, 0);
        r.engine.on_response(*id, response(503, ""), r.at(1));
    }
    let retrying = ids
        .iter()
        .filter(|id| matches!(r.engine.poll(**id, r.at(1)), Step::Wait(_)))
        .count();
    assert_eq!(retrying, 2, "10 % of 20 first attempts");
}

#[test]
fn the_breaker_opens_fails_fast_and_recovers() {
    let mut r = rig(|c| {
        c.breaker = Some(BreakerConfig::consecutive(3, Duration::from_secs(5)));
        c.retry = crate::policy::RetryPolicy::never();
    });
    for i in 0..3 {
        let id = r.text(&format!("p{i}"), CallOptions::default(), 0);
        r.send(id, 0);
        r.engine.on_transport_error(
            id,
            TransportError::new(TransportErrorKind::Connect, "refused"),
            r.at(1),
        );
        assert_eq!(r.done(id, 1).unwrap_err().kind(), ErrorKind::Transport);
    }
    let id = r.text("fast", CallOptions::default(), 2);
    let error = r.done(id, 2).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::CircuitOpen);
    assert_eq!(error.retry_after(), Some(Duration::from_millis(4999)));
    assert_eq!(
        r.engine.breaker_state(EndpointKind::Text, r.at(2)),
        BreakerState::Open { until: r.at(5001) }
    );
    // Images have their own breaker.
    let image = r.engine.submit(
        r.encoder.image(&ImageRequest::new("x")).unwrap(),
        CallOptions::default(),
        r.at(2),
    );
    r.send(image, 2);
    // After the open period a probe goes through and closes it.
    let probe = r.text("probe", CallOptions::default(), 5001);
    r.send(probe, 5001);
    r.engine.on_response(probe, response(200, "ok"), r.at(5002));
    assert!(r.done(probe, 5002).is_ok());
    assert_eq!(
        r.engine.breaker_state(EndpointKind::Text, r.at(5002)),
        BreakerState::Closed
    );
    let m = r.engine.metrics(r.at(5002));
    assert_eq!((m.breaker_rejections, m.breaker_opened), (1, 1));
}

#[test]
fn client_errors_do_not_open_the_breaker() {
    let mut r = rig(|c| c.breaker = Some(BreakerConfig::consecutive(2, Duration::from_secs(5))));
    for i in 0..5 {
        let id = r.text(&format!("p{i}"), CallOptions::default(), 0);
        r.send(id, 0);
        r.engine.on_response(id, response(400, ""), r.at(1));
        assert_eq!(
            r.done(id, 1).unwrap_err().status(),
            Some(StatusCode::BAD_REQUEST)
        );
    }
    assert_eq!(
        r.engine.breaker_state(EndpointKind::Text, r.at(1)),
        BreakerState::Closed
    );
}

#[test]
fn the_limiter_paces_and_never_fails_open() {
    let mut r = rig(|c| {
        c.limits = LimiterConfig::unlimited().generation(Some(RateLimit::per_second(2.0, 1)))
    });
    let a = r.text("a", CallOptions::default(), 0);
    r.send(a, 0);
    let b = r.text("b", CallOptions::default(), 0);
    assert!(matches!(r.engine.poll(b, r.at(0)), Step::Wait(at) if at == r.at(500)));
    r.send(b, 500);
    // A call whose deadline comes before its turn fails at once, typed.
    let c = r.text(
        "c",
        CallOptions::default().timeout(Duration::from_millis(100)),
        500,
    );
    let error = r.done(c, 500).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.retry_after(), Some(Duration::from_millis(500)));
    let m = r.engine.metrics(r.at(500));
    assert_eq!((m.limiter_waits, m.failed["rate_limited"]), (1, 1));
    // Model lists are not in the generation budget.
    let models = r.engine.submit(
        r.encoder.models(ModelKind::Image).unwrap(),
        CallOptions::default(),
        r.at(500),
    );
    r.send(models, 500);
}

#[test]
fn a_429_pauses_the_limiter() {
    let mut r = rig(|c| {
        c.limits = LimiterConfig::unlimited();
        c.retry = crate::policy::RetryPolicy::never();
    });
    let a = r.text("a", CallOptions::default(), 0);
    r.send(a, 0);
    r.engine.on_response(
        a,
        with_header(response(429, ""), "retry-after", "2"),
        r.at(10),
    );
    assert!(r.done(a, 10).unwrap_err().is_rate_limited());
    let b = r.text("b", CallOptions::default(), 20);
    assert!(matches!(r.engine.poll(b, r.at(20)), Step::Wait(at) if at == r.at(2010)));
}

#[test]
fn limiter_slots_go_by_priority_to_the_first_in_line() {
    let mut r = rig(|c| {
        c.limits = LimiterConfig::unlimited().generation(Some(RateLimit::per_second(10.0, 1)))
    });
    let first = r.text("first", CallOptions::default(), 0);
    r.send(first, 0);
    let low = r.text("low", CallOptions::default().priority(Priority::Low), 0);
    let normal = r.text("normal", CallOptions::default(), 0);
    let critical = r.text(
        "critical",
        CallOptions::default().priority(Priority::Critical),
        0,
    );
    // Each arrives first in line (more urgent than those before it) and waits for the next
    // slot, at 100 ms.
    for call in [low, normal, critical] {
        assert!(matches!(r.engine.poll(call, r.at(0)), Step::Wait(at) if at == r.at(100)));
    }
    // At 100 ms the low and normal calls wake first, but the critical one is first in line:
    // it is woken and goes; they wait to be woken in turn.
    let _ = r.woken();
    assert!(r.parked(low, 100));
    assert_eq!(r.woken(), vec![critical]);
    assert!(r.parked(normal, 100));
    assert_eq!(r.woken(), vec![critical]);
    r.send(critical, 100);
    // The critical call left the line: the next first (normal) is woken to wait for 200 ms.
    assert_eq!(r.woken(), vec![normal]);
    assert!(matches!(r.engine.poll(normal, r.at(100)), Step::Wait(at) if at == r.at(200)));
    // A call that is not first and polls wakes the first, which waits for the slot itself.
    assert!(r.parked(low, 150));
    assert_eq!(r.woken(), vec![normal]);
    r.send(normal, 200);
    assert_eq!(r.woken(), vec![low]);
    r.send(low, 300);
    assert!(r.woken().is_empty());
    assert_eq!(r.engine.metrics(r.at(300)).limiter_waits, 3);
}

#[test]
fn a_call_leaving_the_line_hands_the_wait_on() {
    let mut r = rig(|c| {
        c.limits = LimiterConfig::unlimited().generation(Some(RateLimit::per_second(10.0, 1)))
    });
    let first = r.text("first", CallOptions::default(), 0);
    r.send(first, 0);
    let high = r.text("high", CallOptions::default().priority(Priority::High), 0);
    let normal = r.text("normal", CallOptions::default(), 0);
    assert!(matches!(r.engine.poll(high, r.at(0)), Step::Wait(_)));
    assert!(r.parked(normal, 0));
    let _ = r.woken();
    // The first in line is cancelled: the next one is woken and takes over the wait.
    r.engine.cancel(high, r.at(50));
    assert!(r.woken().contains(&normal));
    assert!(matches!(r.engine.poll(normal, r.at(50)), Step::Wait(at) if at == r.at(100)));
    r.send(normal, 100);
    // Model lists have a line of their own and never wait behind generations.
    let models = r.engine.submit(
        r.encoder.models(ModelKind::Image).unwrap(),
        CallOptions::default(),
        r.at(100),
    );
    r.send(models, 100);
}

#[test]
fn concurrency_cap_wakes_the_next_call() {
    let mut r =
        rig(|c| c.limits = LimiterConfig::unlimited().generation(Some(RateLimit::concurrency(1))));
    let a = r.text("a", CallOptions::default(), 0);
    r.send(a, 0);
    let b = r.text("b", CallOptions::default(), 0);
    assert!(matches!(r.engine.poll(b, r.at(0)), Step::Pending));
    r.engine.on_response(a, response(200, "ok"), r.at(5));
    assert!(r.woken().contains(&b));
    r.send(b, 5);
}

#[test]
fn cache_hits_skip_the_network() {
    let mut r = rig(|_| {});
    let a = r.text("same", CallOptions::default(), 0);
    r.send(a, 0);
    r.engine.on_response(a, response(200, "answer"), r.at(1));
    assert!(r.done(a, 1).is_ok());
    let b = r.text("same", CallOptions::default(), 2);
    let Ok(Output::Text(hit)) = r.done(b, 2) else {
        panic!()
    };
    assert_eq!(hit.text, "answer");
    assert!(hit.meta.cached);
    assert_eq!(hit.meta.attempts, 0);
    // no_cache goes to the network.
    let c = r.text("same", CallOptions::default().no_cache(), 3);
    r.send(c, 3);
    // Non-deterministic requests are never cached.
    let chat = r
        .encoder
        .chat(&ChatRequest::new("openai").user("hi"))
        .unwrap();
    let d = r
        .engine
        .submit(chat.clone(), CallOptions::default(), r.at(4));
    r.send(d, 4);
    r.engine
        .on_response(d, response(200, r#"{"choices":[]}"#), r.at(5));
    assert!(r.done(d, 5).is_ok());
    let e = r.engine.submit(chat, CallOptions::default(), r.at(6));
    r.send(e, 6);
    assert_eq!(r.engine.metrics(r.at(6)).cache_hits, 1);
}

#[test]
fn answers_over_the_entry_limit_are_not_kept() {
    let mut r = rig(|c| c.cache.max_entry_bytes = 10);
    let big = r.text("big", CallOptions::default(), 0);
    r.send(big, 0);
    r.engine
        .on_response(big, response(200, "eleven byte"), r.at(1));
    assert!(r.done(big, 1).is_ok());
    let again = r.text("big", CallOptions::default(), 2);
    r.send(again, 2);
    let small = r.text("small", CallOptions::default(), 3);
    r.send(small, 3);
    r.engine
        .on_response(small, response(200, "ten bytes!"), r.at(4));
    assert!(r.done(small, 4).is_ok());
    let hit = r.text("small", CallOptions::default(), 5);
    let Ok(Output::Text(hit)) = r.done(hit, 5) else {
        panic!()
    };
    assert!(hit.meta.cached);
}

#[test]
fn cache_off_switch() {
    let mut r = rig(|c| {
        c.cache = CacheConfig {
            enabled: false,
            ..CacheConfig::default()
        }
    });
    let a = r.text("same", CallOptions::default(), 0);
    r.send(a, 0);
    r.engine.on_response(a, response(200, "answer"), r.at(1));
    assert!(r.done(a, 1).is_ok());
    let b = r.text("same", CallOptions::default(), 2);
    r.send(b, 2);
}

#[test]
fn identical_calls_in_flight_share_one_request() {
    let mut r = rig(|_| {});
    let leader = r.text("same", CallOptions::default(), 0);
    let followers: Vec<_> = (0..5)
        .map(|_| r.text("same", CallOptions::default(), 0))
        .collect();
    r.send(leader, 0);
    for f in &followers {
        assert!(matches!(r.engine.poll(*f, r.at(0)), Step::Pending));
    }
    r.engine.on_response(leader, response(503, ""), r.at(1));
    r.send(leader, 501);
    r.engine
        .on_response(leader, response(200, "shared"), r.at(600));
    let woken = r.woken();
    for f in &followers {
        assert!(woken.contains(f));
        let Ok(Output::Text(text)) = r.done(*f, 600) else {
            panic!()
        };
        assert_eq!(text.text, "shared");
        assert!(text.meta.coalesced);
    }
    let m = r.engine.metrics(r.at(600));
    assert_eq!(
        (m.attempts, m.coalesced, m.succeeded),
        (2, 5, 6),
        "six calls, one request"
    );
    assert!(r.done(leader, 600).is_ok());
    assert_eq!(r.engine.calls(), 0);
}

#[test]
fn errors_are_shared_too_but_a_cancelled_leader_hands_over() {
    let mut r = rig(|c| c.retry = crate::policy::RetryPolicy::never());
    let leader = r.text("same", CallOptions::default(), 0);
    let follower = r.text("same", CallOptions::default(), 0);
    r.send(leader, 0);
    r.engine.on_response(leader, response(400, ""), r.at(1));
    assert_eq!(
        r.done(follower, 1).unwrap_err().status(),
        Some(StatusCode::BAD_REQUEST)
    );
    assert!(r.done(leader, 1).is_err());

    let leader = r.text("other", CallOptions::default(), 2);
    let follower = r.text("other", CallOptions::default(), 2);
    r.send(leader, 2);
    r.engine.cancel(leader, r.at(3));
    assert!(r.woken().contains(&follower));
    r.send(follower, 3);
    r.engine
        .on_response(follower, response(200, "mine"), r.at(4));
    assert!(r.done(follower, 4).is_ok());
    assert_eq!(r.engine.metrics(r.at(4)).cancelled, 1);
}

#[test]
fn a_follower_times_out_on_its_own_deadline() {
    let mut r = rig(|_| {});
    let leader = r.text("same", CallOptions::default(), 0);
    let follower = r.text(
        "same",
        CallOptions::default().timeout(Duration::from_millis(50)),
        0,
    );
    r.send(leader, 0);
    assert!(matches!(r.engine.poll(follower, r.at(0)), Step::Wait(at) if at == r.at(50)));
    assert_eq!(r.done(follower, 50).unwrap_err().kind(), ErrorKind::Timeout);
    r.engine
        .on_response(leader, response(200, "late"), r.at(60));
    assert!(r.done(leader, 60).is_ok());
}

#[test]
fn permits_go_by_priority() {
    let mut r = rig(|c| {
        c.scheduler = SchedulerConfig {
            max_concurrent: 1,
            ..SchedulerConfig::default()
        }
    });
    let running = r.text("running", CallOptions::default(), 0);
    r.send(running, 0);
    let low = r.text("low", CallOptions::default().priority(Priority::Low), 0);
    let critical = r.text(
        "critical",
        CallOptions::default().priority(Priority::Critical),
        0,
    );
    assert!(matches!(r.engine.poll(low, r.at(0)), Step::Pending));
    r.engine.on_response(running, response(200, "ok"), r.at(1));
    assert_eq!(r.woken(), vec![running, critical]);
    r.send(critical, 1);
    assert!(matches!(r.engine.poll(low, r.at(1)), Step::Pending));
    let m = r.engine.metrics(r.at(1));
    assert_eq!((m.in_flight, m.queued, m.max_in_flight), (1, 1, 1));
}

#[test]
fn a_queued_call_past_its_deadline_is_dropped_not_run() {
    let mut r = rig(|c| {
        c.scheduler = SchedulerConfig {
            max_concurrent: 1,
            ..SchedulerConfig::default()
        }
    });
    let running = r.text("running", CallOptions::default(), 0);
    r.send(running, 0);
    let queued = r.text(
        "queued",
        CallOptions::default().timeout(Duration::from_millis(10)),
        0,
    );
    let next = r.text("next", CallOptions::default(), 0);
    r.engine.on_response(running, response(200, "ok"), r.at(20));
    assert_eq!(r.done(queued, 20).unwrap_err().kind(), ErrorKind::Timeout);
    r.send(next, 20);
}

#[test]
fn streams_hold_their_permit_until_the_end() {
    let mut r = rig(|c| {
        c.scheduler = SchedulerConfig {
            max_concurrent: 1,
            ..SchedulerConfig::default()
        }
    });
    let mut request = ChatRequest::new("openai").user("stream");
    request.stream = Some(true);
    let stream = r.engine.submit(
        r.encoder.chat(&request).unwrap(),
        CallOptions::default(),
        r.t0,
    );
    assert!(r.send(stream, 0).stream);
    let reader = r
        .engine
        .on_stream_head(stream, StatusCode::OK, &HeaderMap::new(), r.at(1));
    assert!(reader.is_some());
    assert!(matches!(r.engine.poll(stream, r.at(1)), Step::Pending));
    r.engine.on_stream_open(stream, r.at(1));
    let Step::Stream(meta) = r.engine.poll(stream, r.at(1)) else {
        panic!()
    };
    assert_eq!(meta.attempts, 1);
    let waiting = r.text("after", CallOptions::default(), 2);
    assert!(matches!(r.engine.poll(waiting, r.at(2)), Step::Pending));
    r.engine.on_stream_end(stream, None, r.at(3));
    assert!(r.woken().contains(&waiting));
    r.send(waiting, 3);
    assert_eq!(r.engine.metrics(r.at(3)).succeeded, 1);
}

#[test]
fn cancellation_frees_everything() {
    let mut r = rig(|c| {
        c.scheduler = SchedulerConfig {
            max_concurrent: 1,
            ..SchedulerConfig::default()
        };
        c.limits = LimiterConfig::unlimited().generation(Some(RateLimit::concurrency(1)));
    });
    let a = r.text("a", CallOptions::default(), 0);
    r.send(a, 0);
    let b = r.text("b", CallOptions::default(), 0);
    r.engine.cancel(a, r.at(1));
    assert!(r.woken().contains(&b));
    r.send(b, 1);
    // A late answer for a cancelled call is ignored.
    r.engine.on_response(a, response(200, "late"), r.at(2));
    let m = r.engine.metrics(r.at(2));
    assert_eq!((m.cancelled, m.in_flight), (1, 1));
}

#[test]
fn shutdown_refuses_new_calls_and_aborts_the_rest() {
    let mut r = rig(|_| {});
    let running = r.text("running", CallOptions::default(), 0);
    r.send(running, 0);
    r.engine.close();
    let refused = r.text("late", CallOptions::default(), 1);
    assert_eq!(r.done(refused, 1).unwrap_err().kind(), ErrorKind::Shutdown);
    assert_eq!(r.engine.unfinished(), 1);
    assert_eq!(r.engine.abort_all(r.at(2)), 1);
    assert!(r.woken().contains(&running));
    assert!(r.engine.is_finished(running));
    let error = r.done(running, 2).unwrap_err();
    assert_eq!((error.kind(), error.attempts()), (ErrorKind::Shutdown, 1));
    assert_eq!(r.engine.calls(), 0);
}

#[test]
fn transport_errors_are_retried_then_typed() {
    let mut r = rig(|_| {});
    let id = r.text("hi", CallOptions::default(), 0);
    r.send(id, 0);
    r.engine.on_transport_error(
        id,
        TransportError::new(TransportErrorKind::Tls, "bad cert"),
        r.at(1),
    );
    let error = r.done(id, 1).unwrap_err();
    assert_eq!((error.kind(), error.attempts()), (ErrorKind::Transport, 1));
    let id = r.text("hi2", CallOptions::default(), 0);
    r.send(id, 0);
    r.engine.on_transport_error(
        id,
        TransportError::new(TransportErrorKind::ResetBeforeResponse, "reset"),
        r.at(1),
    );
    assert!(matches!(r.engine.poll(id, r.at(1)), Step::Wait(_)));
}

fn stream_call(r: &mut Rig, ms: u64) -> CallId {
    let mut request = ChatRequest::new("openai").user("stream");
    request.stream = Some(true);
    let prepared = r.encoder.chat(&request).unwrap();
    r.engine.submit(prepared, CallOptions::default(), r.at(ms))
}

#[test]
fn a_stream_that_ends_before_its_first_event_is_retried_like_a_reset() {
    let mut r = rig(|_| {});
    let id = stream_call(&mut r, 0);
    r.send(id, 0);
    let mut reader = r
        .engine
        .on_stream_head(id, StatusCode::OK, &HeaderMap::new(), r.at(1))
        .unwrap();
    reader.push(b": ping\n\n", r.at(2));
    reader.on_body_end(Ok(()));
    let crate::sse::ReadStep::End(Err(error)) = reader.poll(r.at(2)) else {
        panic!("expected the end")
    };
    assert!(!reader.has_started());
    r.engine.on_stream_end(id, Some(&error), r.at(2));
    assert!(
        matches!(r.engine.poll(id, r.at(2)), Step::Wait(_)),
        "a backoff, then a retry"
    );
    let attempt = r.send(id, 10_000);
    assert!(attempt.stream);
    assert_eq!(r.engine.metrics(r.at(10_000)).retried, 1);
}

#[test]
fn a_stream_error_after_its_first_event_ends_the_call() {
    let mut r = rig(|_| {});
    let id = stream_call(&mut r, 0);
    r.send(id, 0);
    r.engine
        .on_stream_head(id, StatusCode::OK, &HeaderMap::new(), r.at(1))
        .unwrap();
    r.engine.on_stream_open(id, r.at(1));
    assert!(matches!(r.engine.poll(id, r.at(1)), Step::Stream(_)));
    r.engine
        .on_stream_end(id, Some(&Error::stream("cut")), r.at(2));
    let m = r.engine.metrics(r.at(2));
    assert_eq!((m.retried, m.in_flight, r.engine.calls()), (0, 0, 0));
}

#[test]
fn a_huge_request_timeout_means_no_attempt_deadline() {
    let mut r = rig(|c| c.attempt_timeout = Duration::MAX);
    let id = r.text("hi", CallOptions::default(), 0);
    assert_eq!(r.send(id, 0).deadline, None);
    let id = r.text("bye", CallOptions::default().timeout(Duration::MAX), 0);
    assert_eq!(r.send(id, 0).deadline, None);
}

#[test]
fn only_keys_the_service_limits_are_paced_by_default() {
    use crate::KeyTier;
    for tier in [Some(KeyTier::Secret), Some(KeyTier::Other), None] {
        assert_eq!(
            LimiterConfig::for_tier(tier),
            LimiterConfig::unlimited(),
            "{tier:?}"
        );
    }
    let publishable = LimiterConfig::for_tier(Some(KeyTier::Publishable));
    assert!(publishable.generation.is_some());
}
