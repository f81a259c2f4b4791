//! Runs every program in `examples/` and checks that it exits with status 0 (see
//! `blossom_tests::examples`). The list is explicit: an example that goes missing fails.

blossom_tests::example_tests! {
    features: "",
    simple_request => "blocking_01_simple_request",
    streaming => "blocking_02_streaming",
    batch => "blocking_03_batch",
    graceful_shutdown => "blocking_04_graceful_shutdown",
}
