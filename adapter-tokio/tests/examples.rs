//! Runs every program in `examples/` and checks that it exits with status 0 (see
//! `blossom_tests::examples`). The list is explicit: an example that goes missing fails.

blossom_tests::example_tests! {
    features: "metrics",
    streaming => "00_streaming",
    simple_request => "01_simple_request",
    concurrent_requests => "02_concurrent_requests",
    batch_with_limit => "03_batch_with_limit",
    producer_consumer => "04_producer_consumer",
    scoped_session => "05_scoped_session",
    async_prompt_source => "06_async_prompt_source",
    timeouts => "07_timeouts",
    retries => "08_retries",
    collect_results => "09_collect_results",
    circuit_breaker => "10_circuit_breaker",
    connection_pooling => "11_connection_pooling",
    rate_limiting => "12_rate_limiting",
    windowed_batching => "13_windowed_batching",
    shared_client => "14_shared_client",
    caching => "15_caching",
    priorities => "16_priorities",
    releasing_resources => "17_releasing_resources",
    graceful_shutdown => "18_graceful_shutdown",
    testing_with_the_emulator => "19_testing_with_the_emulator",
    metrics => "20_metrics",
    prometheus => "21_prometheus",
}
