//! Faults forced by the `X-Emulator-Fault` header: every kind, on the wire.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use blossom_emulator::EmulatorConfig;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::client::TIMEOUT;
use crate::{BEARER, auth, chat_body, start};

/// The key and a fault header.
pub(crate) fn fault(token: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![("Authorization", BEARER), ("X-Emulator-Fault", token)]
}

/// Reads until end of file or an error, returning what arrived and the error.
pub(crate) async fn read_all(socket: &mut TcpStream) -> (Vec<u8>, Option<std::io::Error>) {
    let work = async {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
    };
    tokio::time::timeout(TIMEOUT, work)
        .await
        .expect("the server closed the connection in time")
}

/// Reads until the head and at least one body byte have arrived.
pub(crate) async fn read_head_and_some(socket: &mut TcpStream) -> Vec<u8> {
    let work = async {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if let Some(end) = head_end(&out)
                && out.len() > end
            {
                return out;
            }
            let n = socket.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&out));
            out.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(TIMEOUT, work)
        .await
        .expect("head and first bytes in time")
}

/// Where the body starts (after `\r\n\r\n`).
pub(crate) fn head_end(raw: &[u8]) -> Option<usize> {
    raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The status and a header of a raw head.
fn head_field(raw: &[u8], name: &str) -> Option<String> {
    let head = String::from_utf8_lossy(&raw[..head_end(raw)?]).to_string();
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

fn status_of(raw: &[u8]) -> u16 {
    String::from_utf8_lossy(raw)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn stream_body() -> Value {
    let mut body = chat_body("Tell me a long story about a lighthouse keeper and the sea");
    body["stream"] = json!(true);
    body
}

fn content_of(events: &[String]) -> String {
    events
        .iter()
        .filter(|e| *e != "[DONE]")
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn forced_statuses_answer_the_service_envelopes() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    for (token, code, name) in [
        ("408", 408, "REQUEST_TIMEOUT"),
        ("429", 429, "RATE_LIMITED"),
        ("500", 500, "INTERNAL_ERROR"),
        ("502", 502, "BAD_GATEWAY"),
        ("503", 503, "SERVICE_UNAVAILABLE"),
        ("504", 504, "GATEWAY_TIMEOUT"),
    ] {
        let r = client.get("/text/hi", &fault(token)).await;
        assert_eq!(r.status, code);
        let j = r.json();
        assert_eq!(j["status"], code);
        assert_eq!(j["success"], false);
        assert_eq!(j["error"]["code"], name);
        assert!(j["error"]["message"].is_string() && j["error"]["timestamp"].is_string());
        assert!(r.header("x-request-id").is_some());
        assert_eq!(r.header("x-emulator-fault"), Some(token));
    }

    let r = client.get("/text/hi", &fault("429")).await;
    assert_eq!(r.header("retry-after"), Some("1"), "default wait");
    assert_eq!(r.header("retry-after-ms"), Some("1000"));
    let r = client.get("/text/hi", &fault("429,retry_after=2s")).await;
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(r.header("retry-after-ms"), Some("2000"));
    let r = client
        .get("/text/hi", &fault("429, retry_after=500ms"))
        .await;
    assert_eq!(r.header("retry-after"), Some("1"), "rounded up");
    assert_eq!(r.header("retry-after-ms"), Some("500"));
    let r = client.get("/text/hi", &fault("503")).await;
    assert_eq!(r.header("retry-after"), None, "503 waits only when told");
    let r = client
        .get("/text/hi", &fault("retry_after=2500ms,503"))
        .await;
    assert_eq!(r.header("retry-after"), Some("3"));
    assert_eq!(r.header("retry-after-ms"), Some("2500"));

    let r = client.get("/text/hi", &fault("520")).await;
    assert_eq!(r.status, 520);
    assert_eq!(r.header("content-type"), Some("text/html; charset=UTF-8"));
    assert!(r.text().starts_with("<!DOCTYPE html>") && r.text().contains("Error 520"));

    let stats = emulator.stats();
    assert_eq!(stats.requests_total, 12);
    assert_eq!(stats.route("GET /text"), 12);
    assert_eq!(stats.fault("429"), 4);
    assert_eq!(stats.fault("503"), 3);
    assert_eq!(stats.fault("520"), 1);
    assert_eq!(stats.errors(503), 3);
    assert_eq!(stats.rate_limited, 4);
    assert_eq!(
        stats.cache_misses, 0,
        "an injected status generates nothing"
    );
}

#[tokio::test]
async fn the_header_works_on_every_api_route() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let chat = chat_body("hi");
    let speech = json!({"input": "hi"});
    let requests: [(&str, &str, Option<&Value>); 13] = [
        ("POST", "/v1/chat/completions", Some(&chat)),
        ("POST", "/openai", Some(&chat)),
        ("GET", "/text/hi", None),
        ("POST", "/text", Some(&chat)),
        ("GET", "/image/hi?width=32&height=32", None),
        ("GET", "/prompt/hi?width=32&height=32", None),
        ("GET", "/audio/hi", None),
        ("POST", "/v1/audio/speech", Some(&speech)),
        ("GET", "/v1/models", None),
        ("GET", "/models", None),
        ("GET", "/text/models", None),
        ("GET", "/image/models", None),
        ("GET", "/audio/models", None),
    ];
    for (method, target, body) in requests {
        let r = match body {
            Some(body) => client.post_json(target, &fault("502"), body).await,
            None => client.get(target, &fault("502")).await,
        };
        assert_eq!(r.status, 502, "{method} {target}");
        assert_eq!(r.json()["error"]["code"], "BAD_GATEWAY");
    }
    // Unknown routes and the emulator's own routes are never faulted.
    assert_eq!(client.get("/nowhere", &fault("502")).await.status, 404);
    assert_eq!(
        client.get("/__emulator/stats", &fault("502")).await.status,
        200
    );
    let stats = emulator.stats();
    assert_eq!(stats.fault("502"), 13);
    assert_eq!(stats.requests_total, 14);
    assert_eq!(stats.route("GET /image/models"), 1);
    assert_eq!(stats.route("POST /v1/audio/speech"), 1);
}

#[tokio::test]
async fn a_bad_header_is_a_400_and_none_forces_no_fault() {
    let config = EmulatorConfig::default().faults("503=1".parse().unwrap());
    let (_emulator, client) = start(config).await;
    for bad in ["503=0.5", "503,reset", "explode", "latency=5"] {
        let r = client.get("/text/hi", &fault(bad)).await;
        assert_eq!(r.status, 400, "{bad}");
        let j = r.json();
        assert_eq!(j["error"]["code"], "BAD_REQUEST");
        assert!(j["error"]["details"]["fieldErrors"]["X-Emulator-Fault"][0].is_string());
    }
    assert_eq!(client.get("/text/hi", &auth()).await.status, 503);
    assert_eq!(client.get("/text/hi", &fault("none")).await.status, 200);
}

#[tokio::test]
async fn reset_closes_the_connection_before_any_byte() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let mut socket = client
        .open("GET", "/v1/models", &fault("reset"), None)
        .await;
    let (bytes, error) = read_all(&mut socket).await;
    assert!(bytes.is_empty(), "no status line: {bytes:?}");
    let kind = error.map(|e| e.kind());
    assert_eq!(kind, Some(ErrorKind::ConnectionReset), "a TCP reset");

    let body = serde_json::to_vec(&chat_body("hi")).unwrap();
    let headers = [fault("reset"), vec![("Content-Type", "application/json")]].concat();
    let mut socket = client
        .open("POST", "/v1/chat/completions", &headers, Some(&body))
        .await;
    let (bytes, _error) = read_all(&mut socket).await;
    assert!(bytes.is_empty());

    let stats = emulator.stats();
    assert_eq!(stats.fault("reset"), 2);
    assert_eq!(stats.requests_total, 2, "attempts are counted");
    assert_eq!(stats.route("POST /v1/chat/completions"), 1);
    assert_eq!(stats.aborted_by_client, 0, "the emulator closed it");
    // The emulator still serves.
    assert_eq!(client.get("/v1/models", &[]).await.status, 200);
}

#[tokio::test]
async fn reset_body_sends_a_short_body_then_closes() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let target = "/image/a%20lighthouse?width=96&height=64";
    let mut socket = client.open("GET", target, &fault("reset_body"), None).await;
    let (raw, _error) = read_all(&mut socket).await;
    assert_eq!(status_of(&raw), 200);
    let declared: usize = head_field(&raw, "content-length").unwrap().parse().unwrap();
    let body = &raw[head_end(&raw).unwrap()..];
    assert!(
        !body.is_empty() && body.len() < declared,
        "{} of {declared}",
        body.len()
    );
    // The part that arrived is the start of the real image (cached by then).
    let full = client.get(target, &auth()).await;
    assert_eq!(full.header("x-cache"), Some("HIT"));
    assert_eq!(full.body.len(), declared);
    assert!(full.body.starts_with(body));

    // A stream: some events, then the connection closes without [DONE] or the last chunk.
    let bytes = serde_json::to_vec(&stream_body()).unwrap();
    let headers = [
        fault("reset_body"),
        vec![("Content-Type", "application/json")],
    ]
    .concat();
    let mut socket = client
        .open("POST", "/v1/chat/completions", &headers, Some(&bytes))
        .await;
    let (raw, _error) = read_all(&mut socket).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200"));
    assert!(text.contains("data: {"), "{text}");
    assert!(!text.contains("[DONE]"));
    assert!(!text.ends_with("0\r\n\r\n"), "no final chunk");
    assert_eq!(emulator.stats().fault("reset_body"), 2);
    assert_eq!(emulator.stats().aborted_by_client, 0);
}

#[tokio::test]
async fn stall_sends_the_head_then_nothing_until_the_client_leaves() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let bytes = serde_json::to_vec(&stream_body()).unwrap();
    let headers = [fault("stall"), vec![("Content-Type", "application/json")]].concat();
    let mut stream = client
        .open("POST", "/v1/chat/completions", &headers, Some(&bytes))
        .await;
    let first = read_head_and_some(&mut stream).await;
    assert_eq!(status_of(&first), 200);
    let mut buf = [0u8; 1024];
    let more = tokio::time::timeout(Duration::from_millis(400), stream.read(&mut buf)).await;
    assert!(more.is_err(), "nothing more arrives: {more:?}");
    let stats = emulator.stats();
    assert_eq!((stats.in_flight, stats.fault("stall")), (1, 1));

    // A JSON answer stalls after half its declared length.
    let mut json = client
        .open("GET", "/v1/models", &fault("stall"), None)
        .await;
    let first = read_head_and_some(&mut json).await;
    let declared: usize = head_field(&first, "content-length")
        .unwrap()
        .parse()
        .unwrap();
    let more = tokio::time::timeout(Duration::from_millis(300), json.read(&mut buf)).await;
    assert!(more.is_err());
    assert!(first.len() - head_end(&first).unwrap() < declared);
    assert_eq!(emulator.stats().in_flight, 2);

    // Clients giving up are noticed: both stalled bodies count as aborted by the client.
    drop(stream);
    drop(json);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stats = emulator.stats();
        if stats.aborted_by_client == 2 && stats.in_flight == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "aborts not seen: {stats:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(emulator.stats().max_in_flight, 2);
}

#[tokio::test]
async fn truncate_ends_a_stream_cleanly_before_done() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let full = client
        .post_json("/v1/chat/completions", &auth(), &stream_body())
        .await;
    let full_events = full.sse_data();
    let cut = client
        .post_json("/v1/chat/completions", &fault("truncate"), &stream_body())
        .await;
    assert_eq!(cut.status, 200);
    assert_eq!(cut.header("x-emulator-fault"), Some("truncate"));
    let events = cut.sse_data();
    assert!(!events.is_empty() && events.len() < full_events.len() - 1);
    assert!(events.iter().all(|e| e != "[DONE]"));
    for e in &events {
        let chunk: Value = serde_json::from_str(e).unwrap();
        assert_eq!(chunk["object"], "chat.completion.chunk");
    }
    let text = content_of(&events);
    assert!(!text.is_empty() && content_of(&full_events).starts_with(&text));

    // Not a stream: nothing to truncate, so the answer is whole and nothing is counted.
    let models = client.get("/v1/models", &fault("truncate")).await;
    assert_eq!(models.json()["object"], "list");
    assert_eq!(emulator.stats().fault("truncate"), 1);
}

#[tokio::test]
async fn stream_error_ends_with_an_error_event() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let r = client
        .get(
            "/text/Tell%20me%20about%20tea?stream=true",
            &fault("stream_error"),
        )
        .await;
    assert_eq!(r.status, 200);
    let events = r.sse_data();
    assert!(events.iter().all(|e| e != "[DONE]"));
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["error"]["type"], "upstream_error");
    assert_eq!(last["error"]["code"], "usage_missing");
    assert!(last["error"]["message"].is_string());
    assert!(!content_of(&events[..events.len() - 1]).is_empty());
    assert_eq!(emulator.stats().fault("stream_error"), 1);
}

#[tokio::test]
async fn malformed_answers_are_broken_200s() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let r = client.get("/v1/models", &fault("malformed")).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());

    let target = "/image/a%20red%20apple?width=64&height=64";
    let r = client.get(target, &fault("malformed")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert!(!r.body.starts_with(&[0xff, 0xd8]), "not a JPEG");
    let good = client.get(target, &auth()).await;
    assert!(
        good.body.starts_with(&[0xff, 0xd8]),
        "the cache kept the real image"
    );

    let r = client
        .post_json(
            "/v1/chat/completions",
            &fault("malformed"),
            &chat_body("hi"),
        )
        .await;
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    let events = client
        .post_json("/v1/chat/completions", &fault("malformed"), &stream_body())
        .await
        .sse_data();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let broken = events
        .iter()
        .filter(|e| *e != "[DONE]" && serde_json::from_str::<Value>(e).is_err())
        .count();
    assert_eq!(broken, 1);
    assert_eq!(emulator.stats().fault("malformed"), 4);
}

#[tokio::test]
async fn latency_delays_the_head() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let started = Instant::now();
    let r = client.get("/v1/models", &fault("latency=300ms")).await;
    assert_eq!(r.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let r = client
        .get("/text/hi", &fault("503, latency=150..200ms"))
        .await;
    assert_eq!(r.status, 503);
    assert!(started.elapsed() >= Duration::from_millis(150));
    let stats = emulator.stats();
    assert_eq!((stats.fault("latency"), stats.fault("503")), (2, 1));
}

#[tokio::test]
async fn answers_without_a_fault_are_unchanged() {
    let plain = start(EmulatorConfig::default().seed(5)).await;
    let faulty = start(
        EmulatorConfig::default()
            .seed(5)
            .faults("503=0.5,malformed=0.2,latency=1ms".parse().unwrap()),
    )
    .await;
    for target in [
        "/text/same%20bytes?seed=3&no-cache=true",
        "/image/same?width=48&height=48&no-cache=true",
    ] {
        let expected = plain.1.get(target, &auth()).await;
        let mut matched = false;
        for _ in 0..30 {
            let r = faulty.1.get(target, &auth()).await;
            if r.status == 200 && r.header("x-emulator-fault").is_none() {
                assert_eq!(r.body, expected.body, "{target}");
                matched = true;
                break;
            }
        }
        assert!(matched, "some request of {target} got no fault");
    }
}
