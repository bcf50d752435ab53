//! Promise code users really write, on `lwt` alone: no engine, no `cfg`.
//! The same code runs on the native engine and in the browser; the
//! conformance suite (`tests/src/patterns.rs`) runs it on every engine.
//!
//! # Ground rules
//!
//! * Time comes from [`lwt::sleep`] and [`lwt::now`]: whichever engine is
//!   installed.
//! * Randomness (jitter) comes from a small seeded generator ([`Rng`]), so
//!   runs are reproducible and nothing platform-specific is needed.
//! * [`Backoff`] numbers its delays by failures so far (1 after the first
//!   failure); [`retry`] and the www app's reconnecting client share it.
//! * Everything is cancelable the Lwt way: canceling a returned promise
//!   cancels what it waits on, and releases what it holds.

mod backoff;
mod coalesce;
mod fan_out;
mod rate;
mod retry;

pub use backoff::{Backoff, Rng};
pub use coalesce::Coalescer;
pub use fan_out::fan_out;
pub use rate::RateLimiter;
pub use retry::retry;
