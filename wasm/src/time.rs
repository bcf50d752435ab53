//! Time and turns on the JS engine: `sleep`, `timeout`, `with_timeout`,
//! `pause`, `yield_now`.
//!
//! # Ground rules
//!
//! These are the core's functions ([`lwt::sleep`], [`lwt::pause`], ...) with
//! the engine installed first (automatic install, see [`crate::install`]). A
//! sleep is one timer of the engine's; canceling it drops its closure at
//! once, and the one JS timer is cleared when no timer is left. Sleeps longer than `setTimeout`'s 2^31 − 1 ms limit work: the JS
//! timer is re-armed until the deadline is reached.

use std::time::Duration;

use lwt::Promise;

/// A promise fulfilled after `d` (js_of_ocaml-lwt's `Lwt_js.sleep`); never
/// early on `performance.now()`. Canceling it disarms its timer.
///
/// ```no_run
/// use std::time::Duration;
/// let p = lwt_wasm::sleep(Duration::from_millis(100)).map(|()| "later");
/// # drop(p);
/// ```
pub fn sleep(d: Duration) -> Promise<()> {
    crate::install();
    lwt::sleep(d)
}

/// A promise rejected with a time-out error after `d`.
///
/// ```no_run
/// use std::time::Duration;
/// let t = lwt_wasm::timeout::<u32>(Duration::from_secs(1));
/// t.on_failure(|e| assert!(e.is_timeout()));
/// ```
pub fn timeout<T: 'static>(d: Duration) -> Promise<T> {
    crate::install();
    lwt::timeout(d)
}

/// `p`, unless `d` passes first: then `p` is canceled (a fetch is aborted, a
/// listener removed) and the result is rejected with a time-out error.
///
/// ```no_run
/// use std::time::Duration;
/// let request = web_sys::Request::new_with_str("/data.json").unwrap();
/// let p = lwt_wasm::with_timeout(Duration::from_secs(5), &lwt_wasm::fetch(&request));
/// # drop(p);
/// ```
pub fn with_timeout<T: 'static>(d: Duration, p: &Promise<T>) -> Promise<T> {
    crate::install();
    lwt::with_timeout(d, p)
}

/// A promise resolved on the engine's next turn, after the browser had a
/// chance to handle input, fire timers and render (Lwt's `pause`).
///
/// ```no_run
/// fn count(n: u32) -> lwt::Promise<u32> {
///     if n == 0 {
///         return lwt::Promise::resolved(0);
///     }
///     lwt_wasm::pause().bind(move |()| count(n - 1)).map(|k| k + 1)
/// }
/// # drop(count(10));
/// ```
pub fn pause() -> Promise<()> {
    crate::install();
    lwt::pause()
}

/// A promise resolved on a microtask: after the code running now, before
/// rendering, input and timers (js_of_ocaml-lwt's `Lwt_js.yield`).
///
/// ```no_run
/// let y = lwt_wasm::yield_now();
/// assert!(y.is_pending());
/// ```
pub fn yield_now() -> Promise<()> {
    crate::install();
    lwt::yield_now()
}
