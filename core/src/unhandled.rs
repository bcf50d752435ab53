//! Fire-and-forget promises, and where their rejections go.
//!
//! # Ground rules
//!
//! A rejection nobody handles (a [`dont_wait`] without a handler, an
//! [`async_`] promise, a detached task) goes to the one replaceable hook of
//! `hook` ([`crate::set_async_exception_hook`]).

use crate::error::Error;
use crate::hook::report_unhandled;
use crate::promise::Promise;
use crate::sequential::on_failure_owned;

/// Runs `f` and lets its promise go on by itself; if it is rejected, `handler`
/// gets the error (Lwt's `Lwt.dont_wait`).
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// let failed = Rc::new(Cell::new(false));
/// let f = failed.clone();
/// let (p, r) = lwt::wait::<()>();
/// lwt::dont_wait(move || p, move |_e| f.set(true));
/// r.reject(lwt::Error::msg("x")).unwrap();
/// assert!(failed.get());
/// ```
pub fn dont_wait<T: 'static>(
    f: impl FnOnce() -> Promise<T>,
    handler: impl FnOnce(Error) + 'static,
) {
    on_failure_owned(f(), handler);
}

/// Runs `f` and lets its promise go on by itself; a rejection goes to the
/// async exception hook (Lwt's `Lwt.async`; `async` is a Rust keyword).
///
/// ```
/// let (p, r) = lwt::wait::<()>();
/// lwt::async_(move || p);
/// r.resolve(()).unwrap();
/// ```
pub fn async_<T: 'static>(f: impl FnOnce() -> Promise<T>) {
    on_failure_owned(f(), |e| report_unhandled(&e));
}
