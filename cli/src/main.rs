//! The `blossom` command (work in progress).
fn main() {}
