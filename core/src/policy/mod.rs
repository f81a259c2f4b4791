//! The resilience policies, each a small state machine that takes `now` and reads no clock:
//! retry with budget, circuit breaker, rate limiter, response cache, scheduler, and the
//! metrics they report.

pub mod breaker;
pub mod cache;
pub mod limiter;
pub mod metrics;
pub mod retry;
pub mod scheduler;
mod window;

pub use breaker::{Breaker, BreakerConfig, BreakerState, BreakerWindow};
pub use cache::{Cache, CacheConfig, CacheKey};
pub use limiter::{Limiter, RateLimit};
pub use metrics::{BreakerStatus, LatencySummary, MetricsSnapshot};
pub use retry::{BudgetConfig, Jitter, RetryBudget, RetryPolicy};
pub use scheduler::{Priority, PriorityQueue, Scheduler, SchedulerConfig};
