//! The async-exception hook: where errors that nobody can handle go.
//!
//! # Ground rules
//!
//! One replaceable hook per thread receives every error that has no promise
//! to reject and no caller to return to: a rejection nobody handles (see
//! `unhandled`), and a panic in a callback that produces no promise. The
//! default reports it on stderr (engines may replace it: the browser engine
//! uses `console.error`) and the program goes on; Lwt exits, we do not. This
//! module uses only `error`, so the resolution loop can report to it.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::Error;

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
/// The hook also receives, natively, each panic of an `on_*` callback
/// ([`crate::Promise::on_success`], ..., [`crate::Promise::on_cancel`]),
/// once, as an [`Error::is_panic`] error: such a callback has no promise to
/// reject, and the resolution it ran in goes on.
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
///
/// # std::panic::set_hook(Box::new(|_| {})); // keep the doctest's stderr quiet
/// let (p, r) = lwt::wait::<()>();
/// p.on_success(|()| panic!("oops"));
/// r.resolve(()).unwrap(); // returns normally
/// assert_eq!(seen.borrow()[1], "an on_* callback of a promise panicked: oops");
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
