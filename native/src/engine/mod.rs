//! The engine's internals: the loop, timers, readiness, threads.

pub(crate) mod handle;
pub(crate) mod main_loop;
pub(crate) mod pool;
pub(crate) mod reactor;
mod timer;
