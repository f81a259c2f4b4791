use std::time::Duration;

use http::{HeaderMap, StatusCode};
use proptest::prelude::*;

use super::*;
use crate::error::{TransportError, api_error};
use crate::testing::origin;

fn api(status: u16, retry_after: Option<&str>) -> Error {
    let mut headers = HeaderMap::new();
    if let Some(value) = retry_after {
        headers.insert("retry-after", value.parse().unwrap());
    }
    api_error(
        StatusCode::from_u16(status).unwrap(),
        &headers,
        b"",
        None,
        None,
    )
}

fn transport(kind: TransportErrorKind) -> Error {
    Error::transport(TransportError::new(kind, "x"))
}

#[test]
fn classification_table() {
    let cases = [
        (api(408, None), false, true),
        (api(429, None), false, true),
        (api(500, None), false, true),
        (api(502, None), false, true),
        (api(503, None), false, true),
        (api(504, None), false, true),
        (api(520, None), false, true),
        (api(530, None), false, true),
        (api(400, None), true, false),
        (api(401, None), true, false),
        (api(402, None), true, false),
        (api(403, None), true, false),
        (api(404, None), true, false),
        (api(413, None), true, false),
        (api(422, None), true, false),
        (transport(TransportErrorKind::Connect), false, true),
        (
            transport(TransportErrorKind::ResetBeforeResponse),
            false,
            true,
        ),
        (transport(TransportErrorKind::Timeout), false, false),
        (transport(TransportErrorKind::Timeout), true, true),
        (transport(TransportErrorKind::ResetDuringBody), false, false),
        (transport(TransportErrorKind::ResetDuringBody), true, true),
        (transport(TransportErrorKind::Tls), true, false),
        (transport(TransportErrorKind::BodyTooLarge), true, false),
        (Error::stream("cut"), true, false),
        (Error::timeout("deadline"), true, false),
        (Error::invalid_input("x", "y"), true, false),
        (Error::malformed("bad json", b"{"), true, true),
        (Error::malformed("bad json", b"{"), false, false),
    ];
    for (error, idempotent, expected) in cases {
        assert_eq!(
            RetryPolicy::is_retryable(&error, idempotent),
            expected,
            "{error:?} idempotent={idempotent}"
        );
    }
}

#[test]
fn backoff_shapes() {
    let policy = RetryPolicy {
        jitter: Jitter::None,
        ..RetryPolicy::default()
    };
    let steps: Vec<_> = (1..=6)
        .map(|n| policy.backoff(n, Duration::ZERO, 0.5))
        .collect();
    assert_eq!(
        steps,
        [500, 1000, 2000, 4000, 8000, 8000].map(Duration::from_millis)
    );
    let full = RetryPolicy::default();
    assert_eq!(full.backoff(3, Duration::ZERO, 0.0), Duration::ZERO);
    assert_eq!(full.backoff(3, Duration::ZERO, 0.5), Duration::from_secs(1));
    let equal = RetryPolicy {
        jitter: Jitter::Equal,
        ..RetryPolicy::default()
    };
    assert_eq!(
        equal.backoff(3, Duration::ZERO, 0.0),
        Duration::from_secs(1)
    );
    let decorrelated = RetryPolicy {
        jitter: Jitter::Decorrelated,
        ..RetryPolicy::default()
    };
    assert_eq!(
        decorrelated.backoff(1, Duration::ZERO, 0.0),
        Duration::from_millis(500)
    );
    assert_eq!(
        decorrelated.backoff(2, Duration::from_secs(2), 1.0),
        Duration::from_secs(6)
    );
    assert_eq!(
        decorrelated.backoff(9, Duration::from_secs(60), 1.0),
        Duration::from_secs(8)
    );
    assert_eq!(
        policy.backoff(u32::MAX, Duration::ZERO, 0.5),
        Duration::from_secs(8)
    );
}

/// openai-python's retry-delay cases, as this SDK reads them: "20" waits 20 s; "0", "-10"
/// and "" fall back to backoff; "121" over the 120 s maximum gives up; dates and
/// `retry-after-ms` are honoured.
#[test]
fn server_delay_cases() {
    let t0 = origin();
    let policy = RetryPolicy {
        jitter: Jitter::None,
        ..RetryPolicy::default()
    };
    let decide = |error: &Error| policy.decide(error, 1, true, Duration::ZERO, 0.5, t0, None);
    assert_eq!(
        decide(&api(429, Some("20"))),
        RetryDecision::RetryAfter(Duration::from_secs(20))
    );
    for fallback in ["0", "-10", "", "junk"] {
        assert_eq!(
            decide(&api(429, Some(fallback))),
            RetryDecision::RetryAfter(Duration::from_millis(500)),
            "{fallback:?}"
        );
    }
    assert_eq!(
        decide(&api(429, Some("121"))),
        RetryDecision::GiveUp(GiveUpReason::ServerDelayTooLong)
    );
    assert_eq!(
        decide(&api(429, Some("120"))),
        RetryDecision::RetryAfter(Duration::from_secs(120))
    );
    assert_eq!(
        decide(&api(503, Some("0.2"))),
        RetryDecision::RetryAfter(Duration::from_millis(500)),
        "backoff is larger"
    );

    let mut headers = HeaderMap::new();
    headers.insert(
        "retry-after",
        "Sat, 01 Jan 2000 00:00:30 GMT".parse().unwrap(),
    );
    headers.insert("date", "Sat, 01 Jan 2000 00:00:00 GMT".parse().unwrap());
    let dated = api_error(StatusCode::SERVICE_UNAVAILABLE, &headers, b"", None, None);
    assert_eq!(
        decide(&dated),
        RetryDecision::RetryAfter(Duration::from_secs(30))
    );
    let mut ms = HeaderMap::new();
    ms.insert("retry-after-ms", "2500".parse().unwrap());
    let ms = api_error(StatusCode::TOO_MANY_REQUESTS, &ms, b"", None, None);
    assert_eq!(
        decide(&ms),
        RetryDecision::RetryAfter(Duration::from_millis(2500))
    );
}

#[test]
fn limits_and_deadlines() {
    let t0 = origin();
    let policy = RetryPolicy {
        jitter: Jitter::None,
        ..RetryPolicy::default()
    };
    let error = api(503, None);
    assert!(matches!(
        policy.decide(&error, 2, true, Duration::ZERO, 0.5, t0, None),
        RetryDecision::RetryAfter(_)
    ));
    assert_eq!(
        policy.decide(&error, 3, true, Duration::ZERO, 0.5, t0, None),
        RetryDecision::GiveUp(GiveUpReason::Exhausted)
    );
    assert_eq!(
        policy.decide(
            &error,
            1,
            true,
            Duration::ZERO,
            0.5,
            t0,
            Some(t0 + Duration::from_millis(400))
        ),
        RetryDecision::GiveUp(GiveUpReason::Deadline)
    );
    assert_eq!(
        policy.decide(&api(400, None), 1, true, Duration::ZERO, 0.5, t0, None),
        RetryDecision::GiveUp(GiveUpReason::NotRetryable)
    );
    assert_eq!(
        RetryPolicy::never().decide(&error, 1, true, Duration::ZERO, 0.5, t0, None),
        RetryDecision::GiveUp(GiveUpReason::Exhausted)
    );
}

#[test]
fn budget_caps_retries_at_a_ratio_of_requests() {
    let t0 = origin();
    let mut budget = RetryBudget::new(BudgetConfig {
        ratio: 0.2,
        min_per_second: 0.1,
        window: Duration::from_secs(10),
    });
    // The floor: 1 retry per 10 s window with no traffic.
    assert!(budget.try_retry(t0));
    assert!(!budget.try_retry(t0));
    for _ in 0..100 {
        budget.on_request(t0);
    }
    let granted = (0..100).filter(|_| budget.try_retry(t0)).count();
    assert_eq!(granted, 19, "20 % of 100 requests, one already spent");
    // Later, the window has moved on and the budget refills.
    let later = t0 + Duration::from_secs(11);
    assert!(budget.try_retry(later));
}

proptest! {
    /// Backoff stays within [0, cap], and the delay never undercuts the server's request.
    #[test]
    fn delays_are_bounded_and_honour_the_server(
        retry in 1u32..40,
        unit in 0.0f64..1.0,
        previous_ms in 0u64..100_000,
        asked_s in proptest::option::of(1u32..120),
        jitter in prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Equal), Just(Jitter::Decorrelated)],
    ) {
        let policy = RetryPolicy { jitter, max_retries: 50, ..RetryPolicy::default() };
        let backoff = policy.backoff(retry, Duration::from_millis(previous_ms), unit);
        prop_assert!(backoff <= policy.cap);
        let error = api(429, asked_s.map(|s| s.to_string()).as_deref());
        match policy.decide(&error, retry, true, Duration::from_millis(previous_ms), unit, origin(), None) {
            RetryDecision::RetryAfter(delay) => {
                if let Some(s) = asked_s {
                    prop_assert!(delay >= Duration::from_secs(u64::from(s)));
                }
            }
            RetryDecision::GiveUp(reason) => prop_assert!(false, "gave up: {reason:?}"),
        }
    }

    /// A retry never waits past the deadline.
    #[test]
    fn no_wait_passes_the_deadline(
        unit in 0.0f64..1.0,
        left_ms in 0u64..20_000,
        asked_s in proptest::option::of(1u32..30),
        retry in 1u32..3,
    ) {
        let t0 = origin();
        let deadline = t0 + Duration::from_millis(left_ms);
        let error = api(503, asked_s.map(|s| s.to_string()).as_deref());
        if let RetryDecision::RetryAfter(delay) = RetryPolicy::default().decide(&error, retry, true, Duration::ZERO, unit, t0, Some(deadline)) {
            prop_assert!(t0 + delay < deadline);
        }
    }
}
