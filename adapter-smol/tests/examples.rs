//! Runs every program in `examples/` and checks that it exits with status 0 (see
//! `blossom_tests::examples`). The list is explicit: an example that goes missing fails.

blossom_tests::example_tests! {
    features: "",
    simple_request => "01_simple_request",
    streaming => "02_streaming",
    batch => "03_batch",
    graceful_shutdown => "04_graceful_shutdown",
}
