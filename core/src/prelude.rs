//! Everything a user of an adapter crate needs, for `pub use blossom_core::prelude::*` in the
//! adapters (and `use blossom_tokio::*` in programs).

pub use crate::api::*;
pub use crate::engine::{CallOptions, LimiterConfig};
pub use crate::policy::{
    BreakerConfig, BreakerStatus, BreakerWindow, BudgetConfig, CacheConfig, Jitter, LatencySummary,
    MetricsSnapshot, Priority, RateLimit, RetryPolicy,
};
pub use crate::sse::ChatAccumulator;
pub use crate::{ApiKey, ClientConfig, Error, ErrorKind, FieldError, KeyTier, TransportErrorKind};
