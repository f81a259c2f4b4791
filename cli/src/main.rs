//! The `blossom` command; see the library's documentation.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    blossom_cli::main()
}
