//! The promise core, in three layers, each using only those before it:
//!
//! 1. `node`: the node behind every promise, its states (`Links`, and the
//!    transient tail) and every transition between them. The only module
//!    that matches on a node's state.
//! 2. `resolve`: the resolution loop, the one place callbacks run from. It
//!    resolves nodes through the node's transitions and runs what they hand
//!    back, with the stack bounded.
//! 3. This module: the public handles, [`Promise`] and [`Resolver`], with
//!    [`wait`], [`task`], [`from_result`], [`wrap`] and the queries
//!    ([`Promise::state`], [`Promise::peek`], ...).
//!
//! # Ground rules
//!
//! 1. A [`Promise`] and its [`Resolver`] are two handles on one node. Cloning
//!    a handle clones the reference, never the promise. The one exception
//!    is a promise made resolved: until it is cloned or waited on, its
//!    handle holds the result itself ("inline"), and the node is made when
//!    one of those first needs it (`Promise::node`). Nothing else can see
//!    the difference; the queries and `bind`-like calls on an inline promise
//!    read the result in place.
//! 2. Every query and every resolution first finds the *underlying* node
//!    (proxies, see `node`), so a merged promise answers for both.
//! 3. Resolving through a [`Resolver`] runs the callbacks before it returns
//!    (eager: [execution model](crate::execution_model), rule 3), except
//!    [`Resolver::resolve_later`] from inside a callback.
//!
//! Composition (`bind`, `join`, ...), cancellation and tasks add their own
//! methods to [`Promise`] from the modules above this one.

use std::cell::{Cell, OnceCell};
use std::fmt;
use std::rc::{Rc, Weak};

pub(crate) mod node;
pub(crate) mod resolve;

use self::node::{
    same_node, underlying, value_of, CancelLink, CancelTo, Cancelable, Core, Entry, Node, NodeDyn,
    NodeRef,
};
use self::resolve::{add_entry, resolve_by};
use crate::error::Error;

/// A snapshot of a promise's state, from [`Promise::state`].
///
/// ```
/// let (p, r) = lwt::wait::<u8>();
/// assert_eq!(p.state(), lwt::State::Pending);
/// r.resolve(7).unwrap();
/// assert_eq!(p.state(), lwt::State::Fulfilled(7));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum State<T> {
    /// Not resolved yet. Can be followed by either of the others.
    Pending,
    /// Resolved with a value. Nothing follows it.
    Fulfilled(T),
    /// Resolved with an error. Nothing follows it.
    Rejected(Error),
}

/// A promise of a `T`: pending, then fulfilled with a `T` or rejected with an
/// [`Error`], once (Lwt's `'a Lwt.t`).
///
/// A `Promise` is a cheap handle: cloning it gives another handle to the same
/// promise. It is `!Send`: promises live on one thread, the one running the
/// engine (see the crate docs). Callbacks attached to a pending promise run
/// when it is resolved, in the order they were attached; attached to a
/// resolved promise they run at once.
///
/// ```
/// let (p, r) = lwt::wait::<i32>();
/// let q = p.map(|x| x * 2);
/// assert!(q.is_pending());
/// r.resolve(21).unwrap();
/// assert_eq!(q.peek().unwrap().unwrap(), 42);
/// ```
///
/// A `Promise` is also a `Future` (awaiting it gives `Result<T, Error>`, for
/// a `Clone` value; [`Promise::take`] moves out any other). `map`, `and_then`
/// and `map_err` take the handle by value, so with `futures::FutureExt` in
/// scope `p.map(f)` is still this crate's ([`crate::from_tokio`]).
///
/// A promise made resolved ([`Promise::resolved`], [`Promise::rejected`],
/// [`from_result`], and what `bind`, `map`, ... return on such a promise)
/// holds its result in the handle and allocates nothing until it is cloned
/// or waited on; Lwt's `return x >>= f` is then a call to `f`. The handle is
/// therefore as large as its result plus 16 bytes, and a type that holds a
/// promise of itself (Lwt's lazy list) boxes it, as any Rust type that
/// contains itself must:
///
/// ```
/// #[derive(Clone)]
/// enum List {
///     Nil,
///     Cons(u32, Box<lwt::Promise<List>>),
/// }
/// let two = List::Cons(1, Box::new(lwt::Promise::resolved(List::Cons(2, Box::new(
///     lwt::Promise::resolved(List::Nil),
/// )))));
/// fn sum(l: List) -> lwt::Promise<u32> {
///     match l {
///         List::Nil => lwt::Promise::resolved(0),
///         List::Cons(x, rest) => rest.bind(sum).map(move |s| s + x),
///     }
/// }
/// assert_eq!(sum(two).peek().unwrap().unwrap(), 3);
/// ```
#[must_use = "a promise does nothing unless it is waited on, or given to `dont_wait`"]
pub struct Promise<T: 'static> {
    /// The node, once there is one: from the start for a pending promise,
    /// made on first need for an inline one.
    node: OnceCell<NodeRef<T>>,
    /// The result of a promise made resolved ([`Promise::resolved`],
    /// [`from_result`]) while it has no node: such a promise costs no
    /// allocation until something must wait on it or share it. Set only
    /// while `node` is not. It is taken out only for an instant to clone it,
    /// or for good when the node is made or the handle consumed.
    inline: Cell<Option<Result<T, Error>>>,
}

// The handle never pins its value (it is moved or cloned, never polled), so
// a `Promise` of any `T` is `Unpin`, as when it was only a reference.
impl<T: 'static> Unpin for Promise<T> {}

impl<T: 'static> Clone for Promise<T> {
    /// Another handle to the same promise. An inline promise gets its node
    /// first (handles share a node; the value need not be `Clone`).
    fn clone(&self) -> Self {
        Promise::from_node(self.node().clone())
    }
}

impl<T: 'static> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inline_state() {
            Some(Ok(())) => return f.write_str("Promise(fulfilled)"),
            Some(Err(e)) => return write!(f, "Promise(rejected: {e})"),
            None => {}
        }
        let node = underlying(self.node());
        match value_of(&node) {
            None => f.write_str("Promise(pending)"),
            Some(Ok(_)) => f.write_str("Promise(fulfilled)"),
            Some(Err(e)) => write!(f, "Promise(rejected: {e})"),
        }
    }
}

/// The write end of a promise made by [`wait`] or [`task`] (Lwt's `'a Lwt.u`).
///
/// Resolving twice is an error ([`Error::is_already_resolved`], which is an
/// invalid-argument error whose message names the method, as Lwt's
/// `Invalid_argument "Lwt.wakeup"`), except that
/// resolving a canceled promise does nothing, as in Lwt: the canceler won, and
/// the value given is dropped. Code that hands out something that must not be
/// lost (a queue handing an element to a waiter) checks
/// [`Resolver::is_pending`] first, and keeps the element otherwise.
///
/// ```
/// let (p, r) = lwt::task::<&str>();
/// p.cancel();
/// assert!(r.resolve("late").is_ok()); // canceled: a no-op
/// assert!(p.peek().unwrap().unwrap_err().is_canceled());
/// ```
pub struct Resolver<T: 'static> {
    node: NodeRef<T>,
}

impl<T: 'static> Clone for Resolver<T> {
    fn clone(&self) -> Self {
        Resolver {
            node: self.node.clone(),
        }
    }
}

impl<T: 'static> fmt::Debug for Resolver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}

impl<T: 'static> Resolver<T> {
    /// Fulfills the promise with `value`, running its callbacks before this
    /// returns (Lwt's `wakeup_later`'s eager sibling, `wakeup`).
    ///
    /// ```
    /// let (p, r) = lwt::wait();
    /// let seen = std::rc::Rc::new(std::cell::Cell::new(0));
    /// let s = seen.clone();
    /// p.on_success(move |v| s.set(v));
    /// r.resolve(5).unwrap();
    /// assert_eq!(seen.get(), 5); // the callback already ran
    /// ```
    pub fn resolve(&self, value: T) -> Result<(), Error> {
        resolve_by(&self.node, Ok(value), false, "Resolver::resolve")
    }

    /// Rejects the promise with `error`.
    ///
    /// ```
    /// let (p, r) = lwt::wait::<()>();
    /// r.reject(lwt::Error::msg("no")).unwrap();
    /// assert_eq!(p.peek().unwrap().unwrap_err().message(), "no");
    /// ```
    pub fn reject(&self, error: Error) -> Result<(), Error> {
        resolve_by(&self.node, Err(error), false, "Resolver::reject")
    }

    /// Resolves the promise with a `Result` (Lwt's `wakeup_result`).
    ///
    /// ```
    /// let (p, r) = lwt::wait::<u8>();
    /// r.resolve_with(Ok(1)).unwrap();
    /// assert_eq!(p.peek().unwrap().unwrap(), 1);
    /// ```
    pub fn resolve_with(&self, result: Result<T, Error>) -> Result<(), Error> {
        resolve_by(&self.node, result, false, "Resolver::resolve_with")
    }

    /// Like [`Resolver::resolve_with`], but when called from inside a callback
    /// (a task's body counts) the promise's own callbacks are queued, and run
    /// when the outermost callback returns, instead of nested inside the
    /// current one (Lwt's `wakeup_later`). The state changes at once either
    /// way.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// let (a, ra) = lwt::wait::<()>();
    /// let (b, rb) = lwt::wait::<()>();
    /// let l = log.clone();
    /// b.on_success(move |()| l.borrow_mut().push("b's callback"));
    /// let l = log.clone();
    /// a.on_success(move |()| {
    ///     rb.resolve_later(Ok(())).unwrap();
    ///     l.borrow_mut().push("end of a's callback");
    /// });
    /// ra.resolve(()).unwrap();
    /// assert_eq!(*log.borrow(), ["end of a's callback", "b's callback"]);
    /// ```
    pub fn resolve_later(&self, result: Result<T, Error>) -> Result<(), Error> {
        resolve_by(&self.node, result, true, "Resolver::resolve_later")
    }

    /// The promise this resolver resolves.
    ///
    /// ```
    /// let (p, r) = lwt::wait::<()>();
    /// assert!(r.promise().same_as(&p));
    /// ```
    pub fn promise(&self) -> Promise<T> {
        Promise::from_node(self.node.clone())
    }

    /// True while the promise is pending (it may have been canceled since).
    ///
    /// ```
    /// let (_p, r) = lwt::wait::<()>();
    /// assert!(r.is_pending());
    /// r.resolve(()).unwrap();
    /// assert!(!r.is_pending());
    /// ```
    pub fn is_pending(&self) -> bool {
        value_of(&underlying(&self.node)).is_none()
    }
}

/// A pending promise that cannot be canceled, and its resolver (Lwt's
/// `Lwt.wait`).
///
/// ```
/// let (p, r) = lwt::wait::<i32>();
/// p.cancel(); // not cancelable: nothing happens
/// assert!(p.is_pending());
/// r.resolve(1).unwrap();
/// ```
pub fn wait<T: 'static>() -> (Promise<T>, Resolver<T>) {
    make(CancelTo::Nowhere)
}

/// A pending promise that [`Promise::cancel`] rejects with
/// [`Error::canceled`], and its resolver (Lwt's `Lwt.task`).
///
/// ```
/// let (p, _r) = lwt::task::<i32>();
/// let q = p.clone().map(|x| x + 1);
/// q.cancel(); // walks back to `p`, rejects it, and the rejection flows to `q`
/// assert!(p.peek().unwrap().unwrap_err().is_canceled());
/// assert!(q.peek().unwrap().unwrap_err().is_canceled());
/// ```
pub fn task<T: 'static>() -> (Promise<T>, Resolver<T>) {
    make(CancelTo::This)
}

fn make<T: 'static>(cancel: CancelLink) -> (Promise<T>, Resolver<T>) {
    let node: NodeRef<T> = Rc::new(Node {
        core: Core::pending(cancel),
        extra: (),
    });
    (Promise::from_node(node.clone()), Resolver { node })
}

/// A promise already resolved with `result` (Lwt's `Lwt.of_result`).
///
/// ```
/// let p = lwt::from_result::<u8>(Err(lwt::Error::msg("bad")));
/// assert!(p.is_rejected());
/// ```
pub fn from_result<T: 'static>(result: Result<T, Error>) -> Promise<T> {
    Promise {
        node: OnceCell::new(),
        inline: Cell::new(Some(result)),
    }
}

/// The node an inline promise's result moves into. `inline` is empty only
/// while its value is being cloned: a `Clone` of the value that reads the
/// very promise holding it gets this error rather than a panic.
fn inline_node<T: 'static>(inline: Option<Result<T, Error>>) -> NodeRef<T> {
    resolved_node(inline.unwrap_or_else(|| {
        Err(Error::invalid_argument(
            "a promise was read from inside the `Clone` of its own value",
        ))
    }))
}

/// A resolved node holding `result`.
fn resolved_node<T: 'static>(result: Result<T, Error>) -> NodeRef<T> {
    Rc::new(Node {
        core: Core::resolved(result),
        extra: (),
    })
}

/// Runs `f` now and turns its result into a promise: `Ok` fulfills it, `Err`
/// rejects it (Lwt's `Lwt.wrap`).
///
/// ```
/// let p = lwt::wrap(|| "12".parse::<u32>());
/// assert_eq!(p.peek().unwrap().unwrap(), 12);
/// let q = lwt::wrap(|| "x".parse::<u32>());
/// assert!(q.peek().unwrap().unwrap_err().downcast_ref::<std::num::ParseIntError>().is_some());
/// ```
pub fn wrap<T: 'static, E: Into<Error>>(f: impl FnOnce() -> Result<T, E>) -> Promise<T> {
    from_result(f().map_err(Into::into))
}

impl<T: 'static> Promise<T> {
    pub(crate) fn from_node(node: NodeRef<T>) -> Self {
        Promise {
            node: OnceCell::from(node),
            inline: Cell::new(None),
        }
    }

    /// The node behind this handle, made now for an inline promise.
    #[inline]
    pub(crate) fn node(&self) -> &NodeRef<T> {
        match self.node.get() {
            Some(node) => node,
            None => self.make_node(),
        }
    }

    /// An inline promise's node: its result moves into a resolved node.
    #[cold]
    fn make_node(&self) -> &NodeRef<T> {
        self.node.get_or_init(|| inline_node(self.inline.take()))
    }

    /// The node behind this handle, consuming it.
    #[inline]
    pub(crate) fn into_node(self) -> NodeRef<T> {
        match self.node.into_inner() {
            Some(node) => node,
            None => inline_node(self.inline.into_inner()),
        }
    }

    /// The result of an inline promise, moved out; any other is given back.
    #[inline]
    pub(crate) fn into_inline(self) -> Result<Result<T, Error>, Promise<T>> {
        if self.node.get().is_none() {
            if let Some(result) = self.inline.take() {
                return Ok(result);
            }
        }
        Err(self)
    }

    /// True for an inline promise (made resolved, with no node yet).
    #[inline]
    pub(crate) fn is_inline(&self) -> bool {
        self.node.get().is_none()
    }

    /// An inline promise's result, through the only access there is (no
    /// clone of it can reach this handle); `None` for any other.
    #[inline(always)]
    pub(crate) fn inline_mut(&mut self) -> Option<&mut Result<T, Error>> {
        match self.node.get() {
            Some(_) => None,
            None => self.inline.get_mut().as_mut(),
        }
    }

    /// A clone of an inline promise's result; `None` for any other.
    #[inline(always)]
    pub(crate) fn inline_clone(&self) -> Option<Result<T, Error>>
    where
        T: Clone,
    {
        if self.node.get().is_some() {
            return None;
        }
        let result = self.inline.take()?;
        let copy = result.clone();
        self.inline.set(Some(result));
        Some(copy)
    }

    /// An inline promise's state: `Ok(())` fulfilled, `Err` rejected (a
    /// clone of the error); `None` for any other.
    #[inline]
    pub(crate) fn inline_state(&self) -> Option<Result<(), Error>> {
        if self.node.get().is_some() {
            return None;
        }
        let result = self.inline.take()?;
        let state = result.as_ref().map(|_| ()).map_err(Error::clone);
        self.inline.set(Some(result));
        Some(state)
    }

    /// A promise already fulfilled with `value` (Lwt's `Lwt.return`).
    ///
    /// ```
    /// assert_eq!(lwt::Promise::resolved(3).peek().unwrap().unwrap(), 3);
    /// ```
    pub fn resolved(value: T) -> Promise<T> {
        from_result(Ok(value))
    }

    /// A promise already rejected with `error` (Lwt's `Lwt.fail`).
    ///
    /// ```
    /// let p = lwt::Promise::<()>::rejected(lwt::Error::msg("no"));
    /// assert!(p.is_rejected());
    /// ```
    pub fn rejected(error: Error) -> Promise<T> {
        from_result(Err(error))
    }

    /// A promise that is pending forever and cannot be canceled.
    ///
    /// ```
    /// let p = lwt::Promise::<()>::never();
    /// p.cancel();
    /// assert!(p.is_pending());
    /// ```
    pub fn never() -> Promise<T> {
        wait().0
    }

    /// A snapshot of the state (Lwt's `Lwt.state`).
    ///
    /// ```
    /// let p = lwt::Promise::<u8>::rejected(lwt::Error::msg("x"));
    /// assert!(matches!(p.state(), lwt::State::Rejected(e) if e.message() == "x"));
    /// ```
    pub fn state(&self) -> State<T>
    where
        T: Clone,
    {
        match self.peek() {
            None => State::Pending,
            Some(Ok(v)) => State::Fulfilled(v),
            Some(Err(e)) => State::Rejected(e),
        }
    }

    /// The result, if resolved, without waiting (Lwt's `Lwt.poll`, without the
    /// exception).
    ///
    /// ```
    /// let (p, r) = lwt::wait();
    /// assert!(p.peek().is_none());
    /// r.resolve("done").unwrap();
    /// assert_eq!(p.peek(), Some(Ok("done")));
    /// ```
    pub fn peek(&self) -> Option<Result<T, Error>>
    where
        T: Clone,
    {
        if let Some(result) = self.inline_clone() {
            return Some(result);
        }
        self.with_result(|r| r.clone())
    }

    /// Calls `f` with a reference to the result, if resolved. Reads the value
    /// without cloning it.
    ///
    /// ```
    /// let p = lwt::Promise::resolved(vec![1, 2, 3]);
    /// assert_eq!(p.with_result(|r| r.as_ref().unwrap().len()), Some(3));
    /// ```
    pub fn with_result<R>(&self, f: impl FnOnce(&Result<T, Error>) -> R) -> Option<R> {
        // `f` may read this promise again: an inline one gets its node first,
        // so that its value stays in place while `f` runs.
        let node = underlying(self.node());
        value_of(&node).map(f)
    }

    /// True while the promise is pending.
    ///
    /// ```
    /// assert!(lwt::Promise::<()>::never().is_pending());
    /// ```
    pub fn is_pending(&self) -> bool {
        if self.inline_state().is_some() {
            return false;
        }
        value_of(&underlying(self.node())).is_none()
    }

    /// True once the promise is fulfilled.
    ///
    /// ```
    /// assert!(lwt::Promise::resolved(()).is_fulfilled());
    /// ```
    pub fn is_fulfilled(&self) -> bool {
        if let Some(state) = self.inline_state() {
            return state.is_ok();
        }
        matches!(value_of(&underlying(self.node())), Some(Ok(_)))
    }

    /// True once the promise is rejected.
    ///
    /// ```
    /// assert!(lwt::Promise::<()>::rejected(lwt::Error::canceled()).is_rejected());
    /// ```
    pub fn is_rejected(&self) -> bool {
        if let Some(state) = self.inline_state() {
            return state.is_err();
        }
        matches!(value_of(&underlying(self.node())), Some(Err(_)))
    }

    /// True when both handles stand for the same promise (after proxies).
    ///
    /// ```
    /// let p = lwt::Promise::resolved(1);
    /// assert!(p.same_as(&p.clone()));
    /// assert!(!p.same_as(&lwt::Promise::resolved(1)));
    /// ```
    pub fn same_as(&self, other: &Promise<T>) -> bool {
        same_node(&underlying(self.node()), &underlying(other.node()))
    }

    pub(crate) fn add(&self, entry: Entry<T>) {
        add_entry(self.node(), entry);
    }

    pub(crate) fn weak(&self) -> Weak<dyn Cancelable> {
        let weak: Weak<dyn NodeDyn<T>> = Rc::downgrade(self.node());
        weak
    }
}
