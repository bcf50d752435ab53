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

use crate::Promise;

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
    p.map(|r| r.map(f))
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
    p.map(|r| r.map_err(f))
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

/// Handles a typed error with `f` (Lwt's `Lwt_result.catch`, for typed
/// errors; rejections flow past).
///
/// ```
/// let p = lwt::Promise::resolved(Err::<u8, _>("no"));
/// let q = lwt::result::catch(&p, |_| lwt::Promise::resolved(Ok::<_, ()>(0)));
/// assert_eq!(q.peek().unwrap().unwrap(), Ok(0));
/// ```
pub fn catch<T: Clone + 'static, E: Clone + 'static, F: 'static>(
    p: &Promise<Result<T, E>>,
    f: impl FnOnce(E) -> Promise<Result<T, F>> + 'static,
) -> Promise<Result<T, F>> {
    p.bind(|r| match r {
        Ok(v) => Promise::resolved(Ok(v)),
        Err(e) => f(e),
    })
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
