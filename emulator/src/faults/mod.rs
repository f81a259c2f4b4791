//! Fault injection: seeded, configurable failures at the HTTP and TCP level, so the SDK's
//! retries, circuit breaker, rate limiter, timeouts and cancellation can be proven
//! against a real server.
//!
//! Faults come from two places:
//!
//! - a [`FaultSpec`] (from [`EmulatorConfig::faults`](crate::EmulatorConfig::faults),
//!   `--faults`, [`Emulator::set_faults`](crate::Emulator::set_faults) or
//!   `POST /__emulator/faults`): each request on a route in scope draws its fault with the
//!   given probabilities, seeded by the emulator seed and a per-request counter;
//! - the `X-Emulator-Fault` request header, which names the faults of that one request
//!   and overrides the spec.
//!
//! At most one fault kind fires per request, plus latency. `/__emulator/*` routes are
//! never faulted. Every injected fault is counted in [`Stats::faults`](crate::Stats::faults)
//! by its token, and injected answers carry an `x-emulator-fault` header.
//!
//! Modules: [`units`] (probabilities and durations), [`kind`], [`spec`], [`decide`]
//! (the seeded draw), [`header`], [`answer`] (status faults), [`body`] (body faults) and
//! [`layer`] (the step every API route runs through).

mod answer;
mod body;
mod decide;
mod header;
mod kind;
mod layer;
mod spec;
mod units;

pub(crate) use decide::{Plan, decide};
pub(crate) use header::Forced;
pub(crate) use layer::{Route, run};
pub use spec::{FaultSpec, FaultSpecError};
