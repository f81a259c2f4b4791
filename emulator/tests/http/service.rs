//! Service rules: keys, model lists, unknown routes, the cache, `pk_` pacing, stats.

use std::collections::HashSet;

use blossom_emulator::{DEMO_SECRET_KEY, EmulatorConfig, PkRateLimit, Stats};
use serde_json::{Value, json};

use crate::{BEARER, PK, SK, auth, chat_body, start};

#[tokio::test]
async fn generation_routes_require_a_key() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let no_key: [(&str, &str); 0] = [];
    let answers = [
        client
            .post_json("/v1/chat/completions", &no_key, &chat_body("hi"))
            .await,
        client.get("/text/hi", &no_key).await,
        client.post_json("/text", &no_key, &chat_body("hi")).await,
        client.get("/image/hi", &no_key).await,
        client.get("/audio/hi", &no_key).await,
        client
            .post_json("/v1/audio/speech", &no_key, &json!({"input": "hi"}))
            .await,
    ];
    for r in answers {
        assert_eq!(r.status, 401);
        let j = r.json();
        assert_eq!(j["status"], 401);
        assert_eq!(j["success"], false);
        assert_eq!(j["error"]["code"], "UNAUTHORIZED");
        assert!(j["error"]["message"].is_string() && j["error"]["timestamp"].is_string());
        assert!(r.header("x-request-id").is_some());
    }
    for bad in [
        "Bearer sk_short",
        "Bearer pk_0123456789abcdef0",
        "Bearer nonsense",
        "Bearer sk_0123456789abcdef0123456789abcde!",
    ] {
        let r = client.get("/text/hi", &[("Authorization", bad)]).await;
        assert_eq!(r.status, 401, "{bad}");
        assert!(!r.text().contains(&bad[7..]), "the key is never echoed");
    }
}

#[tokio::test]
async fn keys_are_read_from_bearer_x_api_key_and_query() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    assert_eq!(
        client
            .get("/text/a", &[("Authorization", BEARER)])
            .await
            .status,
        200
    );
    assert_eq!(
        client.get("/text/b", &[("X-API-KEY", SK)]).await.status,
        200
    );
    assert_eq!(
        client.get(&format!("/text/c?key={SK}"), &[]).await.status,
        200
    );
    assert_eq!(
        client.get(&format!("/text/d?key={PK}"), &[]).await.status,
        200
    );
    let demo = format!("Bearer {DEMO_SECRET_KEY}");
    assert_eq!(
        client
            .get("/text/e", &[("Authorization", demo.as_str())])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn model_lists_are_public_and_shaped() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let r = client.get("/v1/models", &[]).await;
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["object"], "list");
    let data = j["data"].as_array().unwrap();
    let ids: HashSet<&str> = data.iter().map(|m| m["id"].as_str().unwrap()).collect();
    for id in [
        "openai",
        "openai-fast",
        "openai-large",
        "openai-audio",
        "mistral",
        "gemini",
        "gemini-search",
        "deepseek",
        "claude",
        "grok",
        "qwen-coder",
    ] {
        assert!(ids.contains(id), "{id}");
    }
    for m in data {
        assert_eq!(m["object"], "model");
        assert!(m["created"].is_u64());
        assert!(m["pricing"]["promptTextTokens"].is_string());
        assert!(m["context_length"].is_u64());
    }

    let text = client.get("/text/models", &[]).await.json();
    let openai = text
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "openai")
        .unwrap();
    assert!(openai["aliases"].is_array());
    assert_eq!(openai["tools"], true);
    assert!(openai["input_modalities"].is_array() && openai["output_modalities"].is_array());
    assert!(openai["pricing"]["completionTextTokens"].is_string());
    let audio_model = text
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "openai-audio")
        .unwrap();
    assert!(
        audio_model["output_modalities"]
            .as_array()
            .unwrap()
            .contains(&json!("audio"))
    );

    let images = client.get("/image/models", &[]).await.json();
    let names: HashSet<&str> = images
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for name in [
        "flux",
        "zimage",
        "turbo",
        "kontext",
        "gptimage",
        "seedream",
        "nanobanana",
    ] {
        assert!(names.contains(name), "{name}");
    }

    let audio = client.get("/audio/models", &[]).await.json();
    let voices = audio[0]["voices"].as_array().unwrap();
    assert_eq!(voices.len(), 13);
    assert!(voices.contains(&json!("amuch")) && voices.contains(&json!("dan")));

    let (_legacy, legacy_client) = start(EmulatorConfig::default().legacy_image_models(true)).await;
    let legacy = legacy_client.get("/image/models", &[]).await.json();
    assert!(legacy.as_array().unwrap().iter().all(Value::is_string));
    assert!(legacy.as_array().unwrap().contains(&json!("flux")));
}

#[tokio::test]
async fn unknown_routes_are_404_envelopes() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    for (method, path) in [
        ("GET", "/nope"),
        ("GET", "/v2/chat"),
        ("POST", "/image/cat"),
        ("DELETE", "/v1/models"),
        ("GET", "/v1/chat/completions"),
    ] {
        let r = client.send(method, path, &auth(), None).await;
        assert_eq!(r.status, 404, "{method} {path}");
        let j = r.json();
        assert_eq!(j["error"]["code"], "NOT_FOUND");
        assert_eq!(j["success"], false);
        assert!(r.header("x-request-id").is_some());
    }
}

#[tokio::test]
async fn every_response_has_a_unique_request_id() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let mut ids = HashSet::new();
    for path in ["/text/a", "/text/a", "/nope", "/v1/models", "/image/models"] {
        let r = client.get(path, &auth()).await;
        assert!(ids.insert(r.header("x-request-id").unwrap().to_owned()));
    }
    let r = client.get("/text/a", &[]).await;
    assert!(ids.insert(r.header("x-request-id").unwrap().to_owned()));
}

#[tokio::test]
async fn cache_hits_misses_and_no_cache() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    let path = "/image/cached?width=16&height=16";
    let first = client.get(path, &auth()).await;
    assert_eq!(first.header("x-cache"), Some("MISS"));
    assert_eq!(
        first.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        first.header("x-cache-key"),
        None,
        "only text answers carry X-Cache-Key"
    );
    let second = client.get(path, &auth()).await;
    assert_eq!(second.header("x-cache"), Some("HIT"));
    assert_eq!(
        second.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(first.body, second.body);
    // Parameter order, the key parameter and nofeed do not change the key.
    let reordered = client
        .get(
            &format!("/image/cached?height=16&nofeed=true&key={SK}&width=16"),
            &[],
        )
        .await;
    assert_eq!(reordered.header("x-cache"), Some("HIT"));
    // no-cache regenerates.
    let fresh = client.get(&format!("{path}&no-cache=true"), &auth()).await;
    assert_eq!(fresh.header("x-cache"), Some("MISS"));
    assert_eq!(fresh.body, first.body);

    // Chat: the body is the key, in canonical form (key order does not matter).
    let a = client
        .post_json(
            "/v1/chat/completions",
            &auth(),
            &json!({"model": "openai", "messages": [{"role": "user", "content": "c"}]}),
        )
        .await;
    let b = client
        .post_json(
            "/v1/chat/completions",
            &auth(),
            &json!({"messages": [{"content": "c", "role": "user"}], "model": "openai"}),
        )
        .await;
    assert_eq!(
        (a.header("x-cache"), b.header("x-cache")),
        (Some("MISS"), Some("HIT"))
    );
    assert_eq!(a.body, b.body);
    assert_eq!(a.header("x-cache-key"), b.header("x-cache-key"));
    // Streams are never cached and never counted as hits or misses.
    let mut streamed = chat_body("c");
    streamed["stream"] = json!(true);
    let s = client
        .post_json("/v1/chat/completions", &auth(), &streamed)
        .await;
    assert_eq!(s.header("x-cache"), None);
    // Errors are not cached either.
    assert_eq!(client.get("/image/x?width=0", &auth()).await.status, 400);
    assert_eq!(
        client
            .get("/image/x?width=0", &auth())
            .await
            .header("x-cache"),
        None
    );

    let stats = emulator.stats();
    assert_eq!((stats.cache_hits, stats.cache_misses), (3, 3));
}

#[tokio::test]
async fn publishable_keys_are_paced_and_cache_hits_are_free() {
    let config = EmulatorConfig::default().pk_rate_limit(Some(PkRateLimit::new(2, 0.5)));
    let (emulator, client) = start(config).await;
    let pk = [("Authorization", "Bearer pk_TestPublish01234")];
    assert_eq!(client.get("/text/one", &pk).await.status, 200);
    assert_eq!(client.get("/text/two", &pk).await.status, 200);
    let limited = client.get("/text/three", &pk).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("2"));
    let j = limited.json();
    assert_eq!(j["error"], "Rate limit exceeded");
    let wait = j["retryAfterSeconds"].as_f64().unwrap();
    assert!(wait > 1.5 && wait <= 2.0, "{wait}");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .starts_with("Rate limit exceeded. Retry after ")
    );
    assert!(limited.header("x-request-id").is_some());
    // A cached answer costs nothing, even with an empty bucket.
    let hit = client.get("/text/one", &pk).await;
    assert_eq!((hit.status, hit.header("x-cache")), (200, Some("HIT")));
    // Streams cost a token too.
    assert_eq!(client.get("/text/four?stream=true", &pk).await.status, 429);
    // Secret keys are never limited; another pk key has its own bucket.
    for i in 0..5 {
        assert_eq!(
            client.get(&format!("/text/sk{i}"), &auth()).await.status,
            200
        );
    }
    assert_eq!(
        client
            .get("/text/other", &[("X-API-KEY", "pk_AnotherKey000000")])
            .await
            .status,
        200
    );
    let stats = emulator.stats();
    assert_eq!(stats.rate_limited, 2);
    assert_eq!(stats.errors(429), 2);

    let (_open, open_client) = start(EmulatorConfig::default().pk_rate_limit(None)).await;
    for i in 0..15 {
        assert_eq!(
            open_client.get(&format!("/text/n{i}"), &pk).await.status,
            200
        );
    }
}

#[tokio::test]
async fn stats_count_what_the_server_saw() {
    let (emulator, client) = start(EmulatorConfig::default()).await;
    client
        .post_json("/v1/chat/completions", &auth(), &chat_body("hi"))
        .await;
    client
        .post_json("/v1/chat/completions", &auth(), &chat_body("hi"))
        .await;
    client
        .get("/image/x?width=8&height=8", &[("X-API-KEY", PK)])
        .await;
    client.get("/text/models", &[]).await;
    client.get("/nope", &[]).await;
    client.get("/text/x", &[]).await;
    client
        .get("/text/x", &[("Authorization", "Bearer sk_notvalid")])
        .await;

    let stats = emulator.stats();
    assert_eq!(stats.requests_total, 7);
    assert_eq!(stats.route("POST /v1/chat/completions"), 2);
    assert_eq!(stats.route("GET /image"), 1);
    assert_eq!(stats.route("GET /text/models"), 1);
    assert_eq!(stats.route("GET /text"), 2);
    assert_eq!(stats.route("404"), 1);
    assert_eq!(stats.by_key.get("sk_Test…"), Some(&2));
    assert_eq!(stats.by_key.get("pk_Test…"), Some(&1));
    assert_eq!(stats.by_key.get("anonymous"), Some(&3));
    assert_eq!(stats.by_key.get("invalid"), Some(&1));
    assert_eq!((stats.cache_hits, stats.cache_misses), (1, 2));
    assert_eq!(stats.errors(401), 2);
    assert_eq!(stats.errors(404), 1);
    assert_eq!(stats.rate_limited, 0);

    assert_eq!(stats.connections_opened, 7, "one connection per request");
    assert_eq!((stats.in_flight, stats.max_in_flight), (0, 1));

    // The HTTP view is the same data, and reading it is not counted as a request (its
    // connection is one more TCP connection, though).
    let r = client.get("/__emulator/stats", &[]).await;
    assert_eq!(r.status, 200);
    let mut over_http: Stats = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(over_http.connections_opened, 8);
    over_http.connections_opened = 7;
    assert_eq!(over_http, stats);
    let mut now = emulator.stats();
    now.connections_opened = 7;
    assert_eq!(now, stats);
    assert!(
        !r.text().contains(SK) && !r.text().contains(PK),
        "keys never appear in full"
    );
}

#[tokio::test]
async fn python_sdk_chat_and_model_requests_are_answered() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let headers = [
        ("Accept", "application/json"),
        ("User-Agent", "blossom-ai/0.8.0"),
        ("Authorization", BEARER),
    ];
    for stream in [false, true] {
        let body = json!({
            "model": "openai",
            "messages": [{"role": "system", "content": "You are helpful"}, {"role": "user", "content": "Hello from Python"}],
            "temperature": 0.7,
            "max_tokens": 2000,
            "stream": stream
        });
        let r = client
            .post_json("/v1/chat/completions", &headers, &body)
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        if stream {
            assert!(r.text().ends_with("data: [DONE]\n\n"));
        } else {
            let content = r.json()["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(content.contains("Hello from Python"));
        }
    }
    let body = json!({"model": "openai", "messages": [{"role": "user", "content": "no temperature"}], "max_tokens": 2000});
    assert_eq!(
        client
            .post_json("/v1/chat/completions", &headers, &body)
            .await
            .status,
        200
    );
    assert_eq!(client.get("/v1/models", &headers).await.status, 200);
    assert_eq!(client.get("/image/models", &headers).await.status, 200);
}
