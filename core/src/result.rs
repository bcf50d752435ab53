//! Helpers for promises of typed results, `Promise<Result<T, E>>` (Lwt's
//! `Lwt_result`).
//!
//! # Ground rules
//!
//! 1. Two kinds of failure stay apart: a typed `Err(e)` is a *value* (the
//!    promise is fulfilled with it); a rejection ([`crate::Error`]) is an
//!    exceptional failure and flows past these helpers unchanged.
//! 2. `?` works in `async` code: in [`crate::spawn`],
//!    `p.await??` turns a rejection and, for `E: std::error::Error`, a typed
//!    error into the task's rejection; in [`spawn`] (this module), the task
//!    returns `Result<T, E>` and `p.await?` keeps typed errors typed.
//!
//! ```
//! let p: lwt::Promise<Result<u8, String>> = lwt::Promise::resolved(Ok(2));
//! let q = lwt::result::and_then(&lwt::result::map(&p, |x| x * 10), |x| {
//!     lwt::Promise::resolved(if x > 10 { Ok(x) } else { Err("too small".to_string()) })
//! });
//! assert_eq!(q.peek().unwrap().unwrap(), Ok(20));
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use crate::{Error, Promise};

/// Maps the `Ok` value (Lwt's `Lwt_result.map`).
///
/// ```
/// let p = lwt::Promise::resolved(Ok::<_, ()>(1));
/// assert_eq!(lwt::result::map(&p, |x| x + 1).peek().unwrap().unwrap(), Ok(2));
/// ```
pub fn map<T: Clone + 'static, E: Clone + 'static, U: 'static>(
    p: &Promise<Result<T, E>>,
    f: impl FnOnce(T) -> U + 'static,
) -> Promise<Result<U, E>> {
    p.clone().map(|r| r.map(f))
}

/// Maps the typed error (Lwt's `Lwt_result.map_error`).
///
/// ```
/// let p = lwt::Promise::resolved(Err::<(), _>(404));
/// let q = lwt::result::map_err(&p, |code| format!("status {code}"));
/// assert_eq!(q.peek().unwrap().unwrap(), Err("status 404".to_string()));
/// ```
pub fn map_err<T: Clone + 'static, E: Clone + 'static, F: 'static>(
    p: &Promise<Result<T, E>>,
    f: impl FnOnce(E) -> F + 'static,
) -> Promise<Result<T, F>> {
    p.clone().map(|r| r.map_err(f))
}

/// Continues with `f` on `Ok`, skipping it on `Err` (Lwt's
/// `Lwt_result.bind`).
///
/// ```
/// let p = lwt::Promise::resolved(Err::<u8, _>("no"));
/// let q = lwt::result::and_then(&p, |x| lwt::Promise::resolved(Ok(x + 1)));
/// assert_eq!(q.peek().unwrap().unwrap(), Err("no"));
/// ```
pub fn and_then<T: Clone + 'static, E: Clone + 'static, U: 'static>(
    p: &Promise<Result<T, E>>,
    f: impl FnOnce(T) -> Promise<Result<U, E>> + 'static,
) -> Promise<Result<U, E>> {
    p.bind(|r| match r {
        Ok(v) => f(v),
        Err(e) => Promise::resolved(Err(e)),
    })
}

/// Handles a typed error with `f`, which may change the error type; an `Ok`
/// skips it (Lwt's `Lwt_result.bind_error`). Rejections flow past. This was
/// `result::catch` before; [`catch`] now has Lwt's meaning.
///
/// ```
/// let p = lwt::Promise::resolved(Err::<u8, _>("no"));
/// let q = lwt::result::bind_error(&p, |_| lwt::Promise::resolved(Ok::<_, ()>(0)));
/// assert_eq!(q.peek().unwrap().unwrap(), Ok(0));
/// ```
pub fn bind_error<T: Clone + 'static, E: Clone + 'static, F: 'static>(
    p: &Promise<Result<T, E>>,
    f: impl FnOnce(E) -> Promise<Result<T, F>> + 'static,
) -> Promise<Result<T, F>> {
    p.bind(|r| match r {
        Ok(v) => Promise::resolved(Ok(v)),
        Err(e) => f(e),
    })
}

/// Turns a rejection into a typed `Err` (Lwt's `Lwt_result.catch`): the
/// result is never rejected, but fulfilled with `Ok(value)` or
/// `Err(error)`. The way back is [`get_exn`].
///
/// ```
/// let failed = lwt::Promise::<u8>::rejected(lwt::Error::timeout());
/// let caught = lwt::result::catch(&failed).peek().unwrap().unwrap();
/// assert!(caught.unwrap_err().is_timeout());
/// let fine = lwt::result::catch(&lwt::Promise::resolved(1u8));
/// assert_eq!(fine.peek().unwrap().unwrap(), Ok(1));
/// ```
pub fn catch<T: Clone + 'static>(p: &Promise<T>) -> Promise<Result<T, Error>> {
    p.try_bind(|v| Promise::resolved(Ok(v)), |e| Promise::resolved(Err(e)))
}

/// Turns a typed `Err` into a rejection (Lwt's `Lwt_result.get_exn`): the
/// inverse of [`catch`]. Any `E` that converts into [`Error`] will do,
/// `Error` itself and every `std::error::Error`.
///
/// ```
/// let p = lwt::result::err::<u8, lwt::Error>(lwt::Error::msg("bad"));
/// let q = lwt::result::get_exn(&p);
/// assert_eq!(q.peek().unwrap().unwrap_err().message(), "bad");
/// assert_eq!(lwt::result::get_exn(&lwt::result::ok::<u8, lwt::Error>(2)).peek().unwrap().unwrap(), 2);
/// ```
pub fn get_exn<T: Clone + 'static, E: Into<Error> + Clone + 'static>(
    p: &Promise<Result<T, E>>,
) -> Promise<T> {
    p.bind(|r| crate::from_result(r.map_err(Into::into)))
}

/// Continues with `f`, a plain promise, on `Ok`; its rejection rejects the
/// result (Lwt's `Lwt_result.bind_lwt`).
///
/// ```
/// let p = lwt::result::ok::<u8, &str>(2);
/// let q = lwt::result::bind_lwt(&p, |x| lwt::Promise::resolved(x * 10));
/// assert_eq!(q.peek().unwrap().unwrap(), Ok(20));
/// ```
pub fn bind_lwt<T: Clone + 'static, E: Clone + 'static, U: Clone + 'static>(
    p: &Promise<Result<T, E>>,
    f: impl FnOnce(T) -> Promise<U> + 'static,
) -> Promise<Result<U, E>> {
    p.bind(|r| match r {
        Ok(v) => f(v).map(Ok),
        Err(e) => Promise::resolved(Err(e)),
    })
}

/// Maps the typed error with `f`, a plain promise (Lwt's
/// `Lwt_result.bind_lwt_error`).
///
/// ```
/// let p = lwt::result::err::<u8, u16>(404);
/// let q = lwt::result::bind_lwt_error(&p, |code| lwt::Promise::resolved(format!("status {code}")));
/// assert_eq!(q.peek().unwrap().unwrap(), Err("status 404".to_string()));
/// ```
pub fn bind_lwt_error<T: Clone + 'static, E: Clone + 'static, F: Clone + 'static>(
    p: &Promise<Result<T, E>>,
    f: impl FnOnce(E) -> Promise<F> + 'static,
) -> Promise<Result<T, F>> {
    p.bind(|r| match r {
        Ok(v) => Promise::resolved(Ok(v)),
        Err(e) => f(e).map(Err),
    })
}

/// Continues with `f`, a plain `Result`, on `Ok` (Lwt's
/// `Lwt_result.bind_result`).
///
/// ```
/// let p = lwt::result::ok::<&str, String>("12");
/// let q = lwt::result::bind_result(&p, |s| s.parse::<u8>().map_err(|e| e.to_string()));
/// assert_eq!(q.peek().unwrap().unwrap(), Ok(12));
/// ```
pub fn bind_result<T: Clone + 'static, E: Clone + 'static, U: 'static>(
    p: &Promise<Result<T, E>>,
    f: impl FnOnce(T) -> Result<U, E> + 'static,
) -> Promise<Result<U, E>> {
    p.clone().map(|r| r.and_then(f))
}

/// Runs `f` on the `Ok` value and waits for it; nothing on `Err` (Lwt's
/// `Lwt_result.iter`).
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// let seen = Rc::new(Cell::new(0));
/// let s = seen.clone();
/// let done = lwt::result::iter(&lwt::result::ok::<u8, ()>(7), move |x| {
///     s.set(x);
///     lwt::Promise::resolved(())
/// });
/// assert!(done.is_fulfilled());
/// assert_eq!(seen.get(), 7);
/// ```
pub fn iter<T: Clone + 'static, E: Clone + 'static>(
    p: &Promise<Result<T, E>>,
    f: impl FnOnce(T) -> Promise<()> + 'static,
) -> Promise<()> {
    p.bind(|r| match r {
        Ok(v) => f(v),
        Err(_) => Promise::resolved(()),
    })
}

/// Runs `f` on the typed error and waits for it; nothing on `Ok` (Lwt's
/// `Lwt_result.iter_error`).
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// let seen = Rc::new(RefCell::new(String::new()));
/// let s = seen.clone();
/// let done = lwt::result::iter_error(&lwt::result::err::<(), _>("lost"), move |e| {
///     s.borrow_mut().push_str(e);
///     lwt::Promise::resolved(())
/// });
/// assert!(done.is_fulfilled());
/// assert_eq!(*seen.borrow(), "lost");
/// ```
pub fn iter_error<T: Clone + 'static, E: Clone + 'static>(
    p: &Promise<Result<T, E>>,
    f: impl FnOnce(E) -> Promise<()> + 'static,
) -> Promise<()> {
    p.bind(|r| match r {
        Ok(_) => Promise::resolved(()),
        Err(e) => f(e),
    })
}

/// Lifts a plain promise into a result promise: its value becomes `Ok`
/// (Lwt's `Lwt_result.ok`; [`ok`] here is Lwt's `return`). A rejection
/// stays a rejection.
///
/// ```
/// let p = lwt::result::lift_ok::<_, ()>(&lwt::Promise::resolved(3));
/// assert_eq!(p.peek().unwrap().unwrap(), Ok(3));
/// ```
pub fn lift_ok<T: Clone + 'static, E: 'static>(p: &Promise<T>) -> Promise<Result<T, E>> {
    p.clone().map(Ok)
}

/// Lifts a plain promise into a result promise: its value becomes the `Err`
/// (Lwt's `Lwt_result.error`; [`err`] here is Lwt's `fail`).
///
/// ```
/// let p = lwt::result::lift_err::<(), _>(&lwt::Promise::resolved("gone"));
/// assert_eq!(p.peek().unwrap().unwrap(), Err("gone"));
/// ```
pub fn lift_err<T: 'static, E: Clone + 'static>(p: &Promise<E>) -> Promise<Result<T, E>> {
    p.clone().map(Err)
}

/// Both values, or, once both are resolved, the typed error that came first
/// in time (Lwt's `Lwt_result.both`); of two inputs already resolved with
/// errors, `a`'s. A rejection of either rejects the result, as [`crate::both`].
///
/// ```
/// let a = lwt::Promise::resolved(Ok::<_, String>(1));
/// let b = lwt::Promise::resolved(Ok::<_, String>("one"));
/// assert_eq!(lwt::result::both(&a, &b).peek().unwrap().unwrap(), Ok((1, "one")));
///
/// let (a, ra) = lwt::wait::<Result<u8, &str>>();
/// let (b, rb) = lwt::wait::<Result<u8, &str>>();
/// let p = lwt::result::both(&a, &b);
/// rb.resolve(Err("b failed first")).unwrap();
/// ra.resolve(Err("a failed later")).unwrap();
/// assert_eq!(p.peek().unwrap().unwrap(), Err("b failed first"));
/// ```
pub fn both<A: Clone + 'static, B: Clone + 'static, E: Clone + 'static>(
    a: &Promise<Result<A, E>>,
    b: &Promise<Result<B, E>>,
) -> Promise<Result<(A, B), E>> {
    let first: Rc<RefCell<Option<E>>> = Rc::default();
    // Attached before `crate::both`'s own callbacks, so each runs (eagerly,
    // in attach order) before the pair can resolve.
    let note = |first: &Rc<RefCell<Option<E>>>| {
        let first = first.clone();
        move |e: &E| {
            first.borrow_mut().get_or_insert_with(|| e.clone());
        }
    };
    let on_a = note(&first);
    a.on_success(move |r| {
        if let Err(e) = &r {
            on_a(e)
        }
    });
    let on_b = note(&first);
    b.on_success(move |r| {
        if let Err(e) = &r {
            on_b(e)
        }
    });
    crate::both(a, b).map(move |(a, b)| match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), _) | (_, Err(e)) => Err(first.take().unwrap_or(e)),
    })
}

/// A fulfilled `Ok` (Lwt's `Lwt_result.return`).
///
/// ```
/// assert_eq!(lwt::result::ok::<_, ()>(3).peek().unwrap().unwrap(), Ok(3));
/// ```
pub fn ok<T: 'static, E: 'static>(value: T) -> Promise<Result<T, E>> {
    Promise::resolved(Ok(value))
}

/// A fulfilled `Err` (Lwt's `Lwt_result.fail`).
///
/// ```
/// assert_eq!(lwt::result::err::<(), _>("x").peek().unwrap().unwrap(), Err("x"));
/// ```
pub fn err<T: 'static, E: 'static>(error: E) -> Promise<Result<T, E>> {
    Promise::resolved(Err(error))
}

/// Runs a future whose `Err` is a typed error as a task: `Err(e)` fulfills
/// the promise with `Err(e)`, it does not reject it. Inside, `?` on a typed
/// result propagates it; a rejected awaited promise converts through
/// `E: From<lwt::Error>`.
///
/// ```
/// #[derive(Clone, Debug, PartialEq)]
/// enum AppError { NotFound, Lwt(String) }
/// impl From<lwt::Error> for AppError {
///     fn from(e: lwt::Error) -> Self { AppError::Lwt(e.to_string()) }
/// }
/// let lookup = lwt::result::err::<u8, AppError>(AppError::NotFound);
/// let t = lwt::result::spawn(async move {
///     let v = lookup.await??; // rejection -> AppError::Lwt, typed error as is
///     Ok::<_, AppError>(v + 1)
/// });
/// assert_eq!(t.peek().unwrap().unwrap(), Err(AppError::NotFound));
/// ```
pub fn spawn<T: 'static, E: 'static>(
    future: impl Future<Output = Result<T, E>> + 'static,
) -> Promise<Result<T, E>> {
    crate::spawn(async move { Ok(future.await) })
}
