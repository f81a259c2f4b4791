//! `blossom batch`: results, faults, interruption and resumption, input errors, pipes, exit
//! codes and memory.

mod exit_codes;
mod faults;
mod input_errors;
#[cfg(unix)]
mod interrupt;
#[cfg(target_os = "linux")]
mod memory;
mod mixed;
mod pacing;
mod pipes;
