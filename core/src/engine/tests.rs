//! Engine state-machine tests with hand-fed inputs (the core's inputs are the only mocks).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::*;
use crate::ErrorKind;
use crate::api::{ModelKind, TextRequest};
use crate::codec::Encoder;

fn setup() -> (Engine, Encoder) {
    let config = ClientConfig::new()
        .api_key("sk_ENGINEengineENGINEengine012345")
        .unwrap();
    let mut engine_config = EngineConfig::from_client(&config);
    engine_config.attempt_timeout = Duration::from_secs(10);
    (Engine::new(engine_config), Encoder::new(&config).unwrap())
}

/// The origin of virtual time. Any instant works: the engine only compares and adds.
#[allow(clippy::disallowed_methods)] // reading the clock once to get an `Instant` value is fine in tests
fn origin() -> Instant {
    Instant::now()
}

fn response(status: u16, body: &'static str) -> RawResponse {
    RawResponse {
        status: StatusCode::from_u16(status).unwrap(),
        headers: HeaderMap::new(),
        body: Bytes::from_static(body.as_bytes()),
        received_at: None,
    }
}

#[test]
fn success_path_ends_once() {
    let (mut engine, encoder) = setup();
    let t0 = origin();
    let id = engine.submit(
        encoder.text(&TextRequest::new("hi")).unwrap(),
        CallOptions::default(),
        t0,
    );
    let Step::Send(attempt) = engine.poll(id, t0) else {
        panic!()
    };
    assert_eq!(attempt.deadline, t0 + Duration::from_secs(10));
    assert!(!attempt.stream);
    assert!(matches!(engine.poll(id, t0), Step::Pending));
    engine.on_response(id, response(200, "hello"), t0);
    let Step::Done(Ok(Output::Text(text))) = engine.poll(id, t0) else {
        panic!()
    };
    assert_eq!(text.text, "hello");
    assert_eq!(text.meta.attempts, 1);
    assert_eq!(engine.calls(), 0);
    let Step::Done(Err(stale)) = engine.poll(id, t0) else {
        panic!()
    };
    assert_eq!(stale.kind(), ErrorKind::InvalidInput);
}

#[test]
fn api_errors_keep_attempts_and_scrub_the_key() {
    let (mut engine, encoder) = setup();
    let t0 = origin();
    let id = engine.submit(
        encoder.models(ModelKind::Text).unwrap(),
        CallOptions::default(),
        t0,
    );
    let Step::Send(_) = engine.poll(id, t0) else {
        panic!()
    };
    engine.on_response(
        id,
        response(401, r#"{"error":{"code":"UNAUTHORIZED","message":"bad key sk_ENGINEengineENGINEengine012345"}}"#),
        t0,
    );
    let Step::Done(Err(error)) = engine.poll(id, t0) else {
        panic!()
    };
    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(error.attempts(), 1);
    assert!(!error.to_string().contains("ENGINE"));
}

#[test]
fn deadlines_bound_attempts_and_calls() {
    let (mut engine, encoder) = setup();
    let t0 = origin();
    let options = CallOptions::default().timeout(Duration::from_secs(3));
    let id = engine.submit(encoder.text(&TextRequest::new("hi")).unwrap(), options, t0);
    let Step::Send(attempt) = engine.poll(id, t0) else {
        panic!()
    };
    assert_eq!(
        attempt.deadline,
        t0 + Duration::from_secs(3),
        "the call deadline is earlier"
    );
    engine.on_attempt_timeout(id, t0 + Duration::from_secs(3));
    let Step::Done(Err(error)) = engine.poll(id, t0 + Duration::from_secs(3)) else {
        panic!()
    };
    assert_eq!(error.kind(), ErrorKind::Timeout);

    let late = engine.submit(
        encoder.text(&TextRequest::new("hi")).unwrap(),
        CallOptions::default().deadline(t0),
        t0,
    );
    let Step::Done(Err(error)) = engine.poll(late, t0) else {
        panic!()
    };
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(error.attempts(), 0);
}

#[test]
fn attempt_timeout_before_the_deadline_is_a_transport_timeout() {
    let (mut engine, encoder) = setup();
    let t0 = origin();
    let id = engine.submit(
        encoder.text(&TextRequest::new("hi")).unwrap(),
        CallOptions::default(),
        t0,
    );
    let Step::Send(_) = engine.poll(id, t0) else {
        panic!()
    };
    engine.on_attempt_timeout(id, t0 + Duration::from_secs(10));
    let Step::Done(Err(error)) = engine.poll(id, t0) else {
        panic!()
    };
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(
        error.transport_error().map(TransportError::kind),
        Some(TransportErrorKind::Timeout)
    );
}

#[test]
fn transport_errors_and_cancellation() {
    let (mut engine, encoder) = setup();
    let t0 = origin();
    let id = engine.submit(
        encoder.text(&TextRequest::new("hi")).unwrap(),
        CallOptions::default(),
        t0,
    );
    let Step::Send(_) = engine.poll(id, t0) else {
        panic!()
    };
    engine.on_transport_error(
        id,
        TransportError::new(TransportErrorKind::Connect, "refused"),
        t0,
    );
    let Step::Done(Err(error)) = engine.poll(id, t0) else {
        panic!()
    };
    assert_eq!(error.kind(), ErrorKind::Transport);

    let cancelled = engine.submit(
        encoder.text(&TextRequest::new("hi")).unwrap(),
        CallOptions::default(),
        t0,
    );
    let Step::Send(_) = engine.poll(cancelled, t0) else {
        panic!()
    };
    engine.cancel(cancelled, t0);
    assert_eq!(engine.calls(), 0);
    // A late answer for a cancelled call is ignored.
    engine.on_response(cancelled, response(200, "late"), t0);
    assert_eq!(engine.calls(), 0);
}
