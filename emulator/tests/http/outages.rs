//! Configured faults: seeded random rates, scopes, switching an outage on and off at run
//! time, the per-key concurrency limit, streams abandoned by clients, and the binary's
//! `--faults` flag.

use std::time::{Duration, Instant};

use blossom_emulator::{Emulator, EmulatorConfig, FaultSpec, Stats};
use tokio::io::AsyncReadExt;

#[cfg(unix)]
use crate::binary::{EmulatorProcess, sync_request};
use crate::faults::{fault, read_all, read_head_and_some};
use crate::{BEARER, Client, auth, chat_body, start};

/// What one request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Status(u16),
    Reset,
}

async fn attempt(client: &Client, target: &str) -> Outcome {
    let mut socket = client.open("GET", target, &auth(), None).await;
    let (raw, _error) = read_all(&mut socket).await;
    if raw.is_empty() {
        return Outcome::Reset;
    }
    Outcome::Status(crate::client::parse(&raw).status)
}

async fn outcomes(config: EmulatorConfig, runs: usize) -> (Vec<Outcome>, Stats) {
    let (emulator, client) = start(config).await;
    let mut seen = Vec::with_capacity(runs);
    for _ in 0..runs {
        seen.push(attempt(&client, "/v1/models").await);
    }
    (seen, emulator.stats())
}

fn spec(text: &str) -> FaultSpec {
    text.parse().unwrap()
}

/// Polls the stats until `done` holds (at most 5 s).
async fn eventually(emulator: &Emulator, done: impl Fn(&Stats) -> bool) -> Stats {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stats = emulator.stats();
        if done(&stats) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "condition not reached: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn random_faults_land_near_their_rate_and_are_counted() {
    let config = EmulatorConfig::default().seed(7).faults(spec("503=0.3"));
    let (seen, stats) = outcomes(config.clone(), 200).await;
    let failed = seen.iter().filter(|o| **o == Outcome::Status(503)).count() as u64;
    assert!((40..=80).contains(&failed), "{failed} of 200 at 30%");
    assert_eq!(stats.fault("503"), failed);
    assert_eq!(stats.errors(503), failed);
    assert_eq!(stats.requests_total, 200);
    assert_eq!(stats.route("GET /v1/models"), 200);

    // Same seed, same order: the same decisions. Another seed: others.
    let (again, _) = outcomes(config, 200).await;
    assert_eq!(again, seen);
    let (other, _) = outcomes(
        EmulatorConfig::default().seed(8).faults(spec("503=0.3")),
        200,
    )
    .await;
    assert_ne!(other, seen);
}

#[tokio::test]
async fn random_resets_and_statuses_mix() {
    let config = EmulatorConfig::default()
        .seed(3)
        .faults(spec("429=0.2,reset=0.2,retry_after=2s"));
    let (seen, stats) = outcomes(config, 100).await;
    let resets = seen.iter().filter(|o| **o == Outcome::Reset).count() as u64;
    let limited = seen.iter().filter(|o| **o == Outcome::Status(429)).count() as u64;
    let ok = seen.iter().filter(|o| **o == Outcome::Status(200)).count() as u64;
    assert_eq!(resets + limited + ok, 100);
    assert!(
        resets >= 5 && limited >= 5 && ok >= 40,
        "{resets} {limited} {ok}"
    );
    assert_eq!(stats.fault("reset"), resets);
    assert_eq!(stats.fault("429"), limited);
    assert_eq!(stats.requests_total, 100);
}

#[tokio::test]
async fn scopes_limit_random_faults_to_some_routes() {
    let config = EmulatorConfig::default().faults(spec("503=1,scope=POST /v1/chat"));
    let (emulator, client) = start(config).await;
    let chat = client
        .post_json("/v1/chat/completions", &auth(), &chat_body("hi"))
        .await;
    assert_eq!(chat.status, 503);
    assert_eq!(client.get("/v1/models", &[]).await.status, 200);
    assert_eq!(client.get("/text/hi", &auth()).await.status, 200);
    // The header is not subject to scopes.
    assert_eq!(client.get("/text/hi", &fault("502")).await.status, 502);
    assert_eq!(emulator.stats().fault("503"), 1);
}

#[tokio::test]
async fn set_faults_switches_an_outage_on_and_off() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    assert_eq!(client.get("/text/hi", &auth()).await.status, 200);
    emulator.set_faults(spec("503=1"));
    assert_eq!(client.get("/text/hi", &auth()).await.status, 503);
    assert_eq!(client.get("/v1/models", &[]).await.status, 503);
    emulator.set_faults(FaultSpec::none());
    assert_eq!(client.get("/text/hi", &auth()).await.status, 200);

    // The same over HTTP.
    let set = |body: &'static str| async move {
        client
            .send("POST", "/__emulator/faults", &[], Some(body.as_bytes()))
            .await
    };
    let r = set("429=1, retry_after=3s").await;
    assert_eq!((r.status, r.text().as_str()), (200, "429=1,retry_after=3s"));
    assert_eq!(
        client.get("/__emulator/faults", &[]).await.text(),
        "429=1,retry_after=3s"
    );
    assert_eq!(emulator.faults(), spec("429=1,retry_after=3s"));
    let limited = client.get("/text/hi", &auth()).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("3"));
    assert_eq!(limited.header("retry-after-ms"), Some("3000"));
    let r = set("").await;
    assert_eq!((r.status, r.text().as_str()), (200, ""));
    assert_eq!(client.get("/text/hi", &auth()).await.status, 200);
    let bad = set("503=2").await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]["details"]["fieldErrors"]["faults"][0].is_string());
    assert!(emulator.faults().is_none(), "a bad spec changes nothing");

    let stats = emulator.stats();
    assert_eq!((stats.fault("503"), stats.fault("429")), (2, 1));
    assert_eq!(stats.requests_total, 6, "control requests are not counted");
}

#[tokio::test]
async fn stats_can_be_reset() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    client.get("/text/hi", &fault("503")).await;
    client.get("/v1/models", &[]).await;
    assert_eq!(emulator.stats().requests_total, 2);
    emulator.reset_stats();
    assert_eq!(emulator.stats(), Stats::default());
    client.get("/v1/models", &[]).await;
    let r = client.send("POST", "/__emulator/reset", &[], None).await;
    assert_eq!(r.status, 204);
    let stats = emulator.stats();
    assert_eq!((stats.requests_total, stats.connections_opened), (0, 0));
    assert!(stats.by_route.is_empty() && stats.faults.is_empty());
}

#[tokio::test]
async fn a_key_over_its_concurrency_limit_gets_429() {
    let config = EmulatorConfig::default()
        .concurrency_limit(Some(1))
        .stream_chunk_delay(Duration::from_millis(10));
    let (emulator, client) = start(config).await;
    let mut stream = client
        .open(
            "GET",
            "/text/count%20slowly%20to%20twenty?stream=true",
            &auth(),
            None,
        )
        .await;
    read_head_and_some(&mut stream).await;

    let refused = client.get("/text/again", &auth()).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("1"));
    let j = refused.json();
    assert_eq!(j["error"], "concurrency_limit_exceeded");
    assert!(j["message"].is_string());
    // Another key, and model lists, are not affected.
    let other = [(
        "Authorization",
        "Bearer sk_AnotherKey0123456789abcdefghijkl",
    )];
    assert_eq!(client.get("/text/again", &other).await.status, 200);
    assert_eq!(client.get("/v1/models", &auth()).await.status, 200);

    // Once the stream is done, the key may generate again.
    let (rest, _) = read_all(&mut stream).await;
    assert!(String::from_utf8_lossy(&rest).contains("[DONE]"));
    eventually(&emulator, |s| s.in_flight == 0).await;
    assert_eq!(client.get("/text/again", &auth()).await.status, 200);

    // Injected latency stands for generation time: it holds the key's slot too.
    let slow = tokio::spawn(async move { client.get("/text/slow", &fault("latency=500ms")).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(client.get("/text/fast", &auth()).await.status, 429);
    assert_eq!(slow.await.unwrap().status, 200);
    assert_eq!(emulator.stats().rate_limited, 2);
}

#[tokio::test]
async fn a_client_closing_a_slow_stream_is_counted() {
    let config = EmulatorConfig::default().stream_chunk_delay(Duration::from_millis(50));
    let (emulator, client) = start(config).await;
    let mut stream = client
        .open(
            "GET",
            "/text/a%20long%20slow%20answer?stream=true",
            &auth(),
            None,
        )
        .await;
    read_head_and_some(&mut stream).await;
    assert_eq!(emulator.stats().in_flight, 1);
    drop(stream);
    let stats = eventually(&emulator, |s| s.aborted_by_client == 1 && s.in_flight == 0).await;
    assert_eq!(stats.max_in_flight, 1);

    // A stream read to its end is not an abort.
    let r = client.get("/text/short?stream=true", &auth()).await;
    assert_eq!(r.sse_data().last().map(String::as_str), Some("[DONE]"));
    let stats = eventually(&emulator, |s| s.in_flight == 0).await;
    assert_eq!(stats.aborted_by_client, 1);
    assert_eq!(stats.connections_opened, 2);
}

#[tokio::test]
async fn a_stopping_emulator_does_not_blame_clients() {
    let config = EmulatorConfig::default()
        .stream_chunk_delay(Duration::from_secs(30))
        .shutdown_grace(Duration::from_millis(100));
    let (emulator, client) = start(config).await;
    let mut stream = client
        .open("GET", "/text/x?stream=true", &auth(), None)
        .await;
    read_head_and_some(&mut stream).await;
    assert_eq!(emulator.stats().in_flight, 1);
    emulator.stop_handle().stop();
    // The stop closes the stalled stream after the grace period.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the stop closed the stream");
    let stats = eventually(&emulator, |s| s.in_flight == 0).await;
    assert_eq!(stats.aborted_by_client, 0, "{stats:?}");
}

/// The binary takes `--faults` and `--seed`, and refuses a bad spec.
#[cfg(unix)]
#[test]
fn binary_accepts_faults_and_a_seed() {
    use std::process::{Command, Stdio};

    let emulator = EmulatorProcess::start(&[
        "--port",
        "0",
        "--faults",
        "503=0.1,latency=5ms",
        "--seed",
        "7",
    ]);
    let addr = emulator.addr;
    let spec = sync_request(
        addr,
        "GET /__emulator/faults HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(spec.ends_with("\r\n\r\n503=0.1,latency=5ms"), "{spec}");
    let forced = sync_request(
        addr,
        &format!(
            "GET /text/hi HTTP/1.1\r\nHost: x\r\nAuthorization: {BEARER}\r\n\
             X-Emulator-Fault: 504\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(forced.starts_with("HTTP/1.1 504"), "{forced}");
    emulator.interrupt_and_wait();

    let refused = Command::new(env!("CARGO_BIN_EXE_blossom-emulator"))
        .args(["--port", "0", "--faults", "503=2"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("invalid fault token"), "{message}");
}
