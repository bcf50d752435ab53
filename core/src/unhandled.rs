//! Fire-and-forget promises, and where their rejections go.
//!
//! # Ground rules
//!
//! A rejection nobody handles (a [`dont_wait`] without a handler, an
//! [`async_`] promise, a detached task) goes to one replaceable hook. The
//! default reports it on stderr (engines may replace it: the browser engine
//! uses `console.error`) and the program goes on; Lwt exits, we do not.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::Error;
use crate::promise::Promise;

type Hook = Rc<dyn Fn(&Error)>;

thread_local! {
    static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
}

fn default_hook(e: &Error) {
    eprintln!("lwt: unhandled rejection: {e}");
}

/// Replaces the hook that receives rejections nobody handles, returning the
/// previous one; `None` restores the default, which prints to stderr
/// (Lwt's `Lwt.async_exception_hook`).
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let s = seen.clone();
/// let previous = lwt::set_async_exception_hook(Some(Box::new(move |e: &lwt::Error| {
///     s.borrow_mut().push(e.to_string())
/// })));
/// lwt::async_(|| lwt::Promise::<()>::rejected(lwt::Error::msg("lost")));
/// assert_eq!(*seen.borrow(), ["lost"]);
/// lwt::set_async_exception_hook(previous);
/// ```
#[allow(clippy::type_complexity)]
pub fn set_async_exception_hook(hook: Option<Box<dyn Fn(&Error)>>) -> Option<Box<dyn Fn(&Error)>> {
    let previous = HOOK.with(|h| std::mem::replace(&mut *h.borrow_mut(), hook.map(Rc::from)));
    previous.map(|h| Box::new(move |e: &Error| h(e)) as Box<dyn Fn(&Error)>)
}

/// Hands `e` to the async exception hook.
///
/// ```
/// lwt::report_unhandled(&lwt::Error::msg("printed on stderr"));
/// ```
pub fn report_unhandled(e: &Error) {
    let hook = HOOK.with(|h| h.borrow().clone());
    match hook {
        Some(hook) => hook(e),
        None => default_hook(e),
    }
}

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
    f().on_failure(handler);
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
    f().on_failure(|e| report_unhandled(&e));
}
