//! Promises, resolvers, and the node behind them.
//!
//! # Ground rules
//!
//! Read [`Promise`] and [`Resolver`] first, then `Core`, then `Links`: every
//! other module is written in terms of these.
//!
//! 1. A promise handle ([`Promise`]) and a resolver handle ([`Resolver`]) both
//!    point to one *node*, `Rc<dyn NodeDyn<T>>`. A node is a `Core<T>` (the
//!    state below) plus an `extra` part that depends on how the promise was
//!    made: nothing for [`wait`]/[`task`], the user's closure for
//!    `bind`/`map`, the counters of a `join`, the future of a `spawn`. Keeping
//!    the closure in the same allocation as the promise it produces is what
//!    makes `bind` on a pending promise cost one heap allocation.
//! 2. A node's value lives in a `OnceCell`, set exactly once, when the node is
//!    resolved. After that it never changes, so callbacks read it through a
//!    plain `&` while other code freely borrows the node's `RefCell` links:
//!    no borrow is ever held while user code runs.
//! 3. Links go *forward* strongly (a pending node owns its callbacks, and so
//!    the promises waiting on it) and *backward* weakly (a node knows the
//!    cancelable promises it waits on through `Weak`). There are no `Rc`
//!    cycles: a pending promise nobody can resolve or cancel is freed with its
//!    whole downstream.
//! 4. A node may become a *proxy* for another node of the same type, its
//!    *underlying* node (Lwt's proxies). Every operation starts by finding the
//!    underlying node; see `underlying` and `merge`.

use std::cell::{OnceCell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};

pub(crate) mod resolve;

use self::resolve::{Callbacks, Entry, Hooks};
use crate::cancel::{Cancelable, HowToCancel};
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

impl PartialEq for Error {
    /// Errors compare by identity and, failing that, by kind and message.
    fn eq(&self, other: &Error) -> bool {
        self.same_as(other)
            || (self.is_canceled() == other.is_canceled()
                && self.is_timeout() == other.is_timeout()
                && self.message() == other.message())
    }
}

/// What a node's `RefCell` holds. One variant per state of the promise's
/// life; the comment on each says what leads into it and what may follow.
pub(crate) enum Links<T: 'static> {
    /// Fresh nodes start here. Followed by `Resolved` (the node's value is
    /// set) or `Proxy` (the node was merged into another).
    Pending(Waiting<T>),
    /// The `OnceCell` value is set. Nothing follows.
    Resolved,
    /// The node was merged into another pending or resolved node of the same
    /// type, which now stands for both. Its own value is never set. Followed by
    /// `Proxy` to a node further down the same chain (path compression) only.
    Proxy(Rc<dyn NodeDyn<T>>),
}

/// What a pending node is waiting with.
pub(crate) struct Waiting<T: 'static> {
    /// Run, in order, when the node is resolved.
    pub(crate) callbacks: Callbacks<T>,
    /// Run before `callbacks` when the node is rejected with `Canceled`;
    /// dropped unrun otherwise.
    pub(crate) on_cancel: Hooks,
    /// Where [`Promise::cancel`] goes from here.
    pub(crate) cancel: HowToCancel,
}

impl<T> Waiting<T> {
    pub(crate) fn new(cancel: HowToCancel) -> Self {
        Waiting {
            callbacks: Callbacks::default(),
            on_cancel: Hooks::None,
            cancel,
        }
    }

    /// What a node that was just resolved runs: its callbacks, and its
    /// `on_cancel` hooks if it was `canceled` (dropped otherwise). The
    /// backward link is let go of first: it may be the last (weak) hold on
    /// the node this one waited on, which is then freed now, in chain order,
    /// rather than after the callbacks. Always inlined: as a call, it made
    /// the tail loop of a `bind` chain 6% slower.
    #[inline(always)]
    fn release(self, canceled: bool) -> (Callbacks<T>, Hooks) {
        let Waiting {
            callbacks,
            on_cancel,
            cancel,
        } = self;
        drop(cancel);
        let hooks = if canceled { on_cancel } else { Hooks::None };
        (callbacks, hooks)
    }
}

/// The part of a node every promise has.
pub(crate) struct Core<T: 'static> {
    pub(crate) value: OnceCell<Result<T, Error>>,
    pub(crate) links: RefCell<Links<T>>,
}

impl<T: 'static> Core<T> {
    pub(crate) fn pending(cancel: HowToCancel) -> Self {
        Core {
            value: OnceCell::new(),
            links: RefCell::new(Links::Pending(Waiting::new(cancel))),
        }
    }

    pub(crate) fn resolved(result: Result<T, Error>) -> Self {
        Core {
            value: OnceCell::from(result),
            links: RefCell::new(Links::Resolved),
        }
    }
}

/// A node: the core plus whatever the promise's maker keeps beside it.
///
/// `repr(C)` keeps the core first and the extra after it: with the layout
/// left to the compiler, building a node moved it through the stack at odd
/// offsets, which made `bind` a fifth slower.
#[repr(C)]
pub(crate) struct Node<T: 'static, X = ()> {
    pub(crate) core: Core<T>,
    pub(crate) extra: X,
}

/// What a node with a given `extra` can do beyond a plain promise.
pub(crate) trait Extra: 'static {
    /// [`Promise::abort`] on this node: drops what the node runs and returns
    /// true (a spawned task), or returns false to make `abort` a `cancel`.
    fn abort(&self) -> bool {
        false
    }
}

impl Extra for () {}

/// A node seen through its value type. `Promise<T>` holds one of these.
pub(crate) trait NodeDyn<T: 'static>: Cancelable {
    fn core(&self) -> &Core<T>;
    fn core_mut(&mut self) -> &mut Core<T>;
    fn abort(&self) -> bool;
}

impl<T: 'static, X: Extra> NodeDyn<T> for Node<T, X> {
    fn core(&self) -> &Core<T> {
        &self.core
    }
    fn core_mut(&mut self) -> &mut Core<T> {
        &mut self.core
    }
    fn abort(&self) -> bool {
        self.extra.abort()
    }
}

pub(crate) type NodeRef<T> = Rc<dyn NodeDyn<T>>;

/// Follows proxies to the node that stands for `node`, compressing the path.
#[inline]
pub(crate) fn underlying<T: 'static>(node: &NodeRef<T>) -> NodeRef<T> {
    let next = match &*node.core().links.borrow() {
        Links::Proxy(next) => next.clone(),
        _ => return node.clone(),
    };
    follow_proxies(node, next)
}

#[cold]
fn follow_proxies<T: 'static>(node: &NodeRef<T>, mut current: NodeRef<T>) -> NodeRef<T> {
    let mut hops = 0;
    loop {
        let next = match &*current.core().links.borrow() {
            Links::Proxy(next) => next.clone(),
            _ => break,
        };
        current = next;
        hops += 1;
    }
    if hops == 0 {
        // `node` already points straight at the end.
        return current;
    }
    let link = Links::Proxy(current.clone());
    let old = std::mem::replace(&mut *node.core().links.borrow_mut(), link);
    drop(old);
    current
}

/// The resolved value of an underlying node, if it is resolved.
pub(crate) fn value_of<T: 'static>(node: &NodeRef<T>) -> Option<&Result<T, Error>> {
    node.core().value.get()
}

/// Resolves the node `node` stands for. `later`: Lwt's `wakeup_later`.
pub(crate) fn resolve_node<T: 'static>(
    node: &NodeRef<T>,
    result: Result<T, Error>,
    later: bool,
) -> Result<(), Error> {
    resolve_underlying(underlying(node), result, later)
}

/// [`resolve_node`] for a caller that gives up its handle on `node`: the
/// node is then held only while it is needed, which lets a chain resolved
/// one callback after another free its nodes in order.
pub(crate) fn resolve_owned<T: 'static>(
    node: NodeRef<T>,
    result: Result<T, Error>,
) -> Result<(), Error> {
    let is_proxy = matches!(&*node.core().links.borrow(), Links::Proxy(_));
    let node = if is_proxy {
        let target = underlying(&node);
        drop(node);
        target
    } else {
        node
    };
    resolve_underlying(node, result, false)
}

fn resolve_underlying<T: 'static>(
    node: NodeRef<T>,
    result: Result<T, Error>,
    later: bool,
) -> Result<(), Error> {
    let waiting = {
        let mut links = node.core().links.borrow_mut();
        match std::mem::replace(&mut *links, Links::Resolved) {
            Links::Pending(w) => w,
            other => {
                *links = other;
                drop(links);
                return match value_of(&node) {
                    Some(Err(e)) if e.is_canceled() => Ok(()),
                    _ => Err(Error::already_resolved()),
                };
            }
        }
    };
    let canceled = matches!(&result, Err(e) if e.is_canceled());
    // The cell was empty: a node's value is set only here, guarded by the
    // `Pending` → `Resolved` transition just made.
    let _ = node.core().value.set(result);
    let (callbacks, hooks) = waiting.release(canceled);
    resolve::run_callbacks(node, hooks, callbacks, later);
    Ok(())
}

impl<T: 'static, X: Extra> resolve::Tail for Node<T, X> {
    fn run_tail(self: Rc<Self>) -> Option<resolve::TailRef> {
        let waiting = {
            let mut links = self.core.links.borrow_mut();
            match std::mem::replace(&mut *links, Links::Resolved) {
                Links::Pending(w) => w,
                other => {
                    *links = other;
                    return None;
                }
            }
        };
        // Not canceled (see `resolve_tail`): no `on_cancel` hook runs.
        let (callbacks, _) = waiting.release(false);
        let me: NodeRef<T> = self;
        resolve::run_tail_callbacks(me, callbacks)
    }
}

/// [`resolve_owned`] for a callback about to return: when the node is
/// pending and `result` is not a cancellation, the value is stored and the
/// node returned as a tail, for the caller to run its callbacks.
pub(crate) fn resolve_tail<T: 'static, X: Extra>(
    node: Rc<Node<T, X>>,
    result: Result<T, Error>,
) -> Option<resolve::TailRef> {
    let pending = matches!(&*node.core.links.borrow(), Links::Pending(_));
    if pending && !matches!(&result, Err(e) if e.is_canceled()) {
        // Empty: values are set only while `Pending`, once.
        let _ = node.core.value.set(result);
        return Some(node);
    }
    let _ = resolve_owned(node, result);
    None
}

/// Attaches a callback; runs it at once if the promise is already resolved.
pub(crate) fn add_entry<T: 'static>(node: &NodeRef<T>, entry: Entry<T>) {
    add_entry_underlying(underlying(node), entry);
}

/// [`add_entry`] on a node known to be underlying.
#[inline]
pub(crate) fn add_entry_underlying<T: 'static>(node: NodeRef<T>, entry: Entry<T>) {
    {
        let mut links = node.core().links.borrow_mut();
        if let Links::Pending(w) = &mut *links {
            let swept = w.callbacks.push(entry);
            drop(links);
            drop(swept);
            return;
        }
    }
    resolve::run_callbacks(node, Hooks::None, Callbacks::one(entry), false);
}

/// Makes the pending node `outer` wait on `inner` instead of whatever it was
/// waiting on: what a `bind` does when its function returns a promise.
///
/// If `inner` is pending, `inner` becomes a proxy for `outer` and hands over
/// its callbacks and cancel behaviour: the node that lives on is the *older*
/// one, which is what keeps a tail-recursive loop of binds in constant memory
/// (each new iteration's node folds into the first, and is then freed). If
/// `inner` is resolved, `outer` becomes a proxy for it and runs its callbacks
/// with `inner`'s value, which is shared, not copied.
pub(crate) fn merge<T: 'static>(outer: NodeRef<T>, inner: NodeRef<T>) {
    let outer = underlying(&outer);
    let inner = underlying(&inner);
    if same_node(&outer, &inner) {
        // `f` returned its own result: it waits on itself forever, as in Lwt.
        return;
    }
    if value_of(&inner).is_some() {
        let waiting = {
            let mut links = outer.core().links.borrow_mut();
            if !matches!(&*links, Links::Pending(_)) {
                return;
            }
            match std::mem::replace(&mut *links, Links::Proxy(inner.clone())) {
                Links::Pending(w) => w,
                _ => unreachable!("checked pending above"),
            }
        };
        let canceled = matches!(value_of(&inner), Some(Err(e)) if e.is_canceled());
        let hooks = if canceled {
            waiting.on_cancel
        } else {
            Hooks::None
        };
        resolve::run_callbacks(inner, hooks, waiting.callbacks, false);
        return;
    }
    let taken = {
        let mut outer_links = outer.core().links.borrow_mut();
        if !matches!(&*outer_links, Links::Pending(_)) {
            return;
        }
        let mut inner_links = inner.core().links.borrow_mut();
        match std::mem::replace(&mut *inner_links, Links::Proxy(outer.clone())) {
            Links::Pending(w) => {
                if let Links::Pending(o) = &mut *outer_links {
                    let swept = o.callbacks.append(w.callbacks);
                    o.on_cancel.append(w.on_cancel);
                    Some((std::mem::replace(&mut o.cancel, w.cancel), swept))
                } else {
                    None
                }
            }
            other => {
                *inner_links = other;
                None
            }
        }
    };
    // Dropped outside the borrows: the old cancel link and the swept entries
    // may hold the last reference to a node.
    drop(taken);
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
/// A `Promise` is also a `Future` (awaiting it gives `Result<T, Error>`). With
/// `futures::FutureExt` in scope, `p.map(f)` means `FutureExt::map` (Rust
/// prefers a by-value trait method to a by-reference inherent one); write
/// `Promise::map(&p, f)`, or import the trait only where you need it.
#[must_use = "a promise does nothing unless it is waited on, or given to `dont_wait`"]
pub struct Promise<T: 'static> {
    pub(crate) node: NodeRef<T>,
}

impl<T: 'static> Clone for Promise<T> {
    fn clone(&self) -> Self {
        Promise {
            node: self.node.clone(),
        }
    }
}

impl<T: 'static> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let node = underlying(&self.node);
        match value_of(&node) {
            None => f.write_str("Promise(pending)"),
            Some(Ok(_)) => f.write_str("Promise(fulfilled)"),
            Some(Err(e)) => write!(f, "Promise(rejected: {e})"),
        }
    }
}

/// The write end of a promise made by [`wait`] or [`task`] (Lwt's `'a Lwt.u`).
///
/// Resolving twice is an error ([`Error::is_already_resolved`]), except that
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
        resolve_node(&self.node, Ok(value), false)
    }

    /// Rejects the promise with `error`.
    ///
    /// ```
    /// let (p, r) = lwt::wait::<()>();
    /// r.reject(lwt::Error::msg("no")).unwrap();
    /// assert_eq!(p.peek().unwrap().unwrap_err().message(), "no");
    /// ```
    pub fn reject(&self, error: Error) -> Result<(), Error> {
        resolve_node(&self.node, Err(error), false)
    }

    /// Resolves the promise with a `Result` (Lwt's `wakeup_result`).
    ///
    /// ```
    /// let (p, r) = lwt::wait::<u8>();
    /// r.resolve_with(Ok(1)).unwrap();
    /// assert_eq!(p.peek().unwrap().unwrap(), 1);
    /// ```
    pub fn resolve_with(&self, result: Result<T, Error>) -> Result<(), Error> {
        resolve_node(&self.node, result, false)
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
        resolve_node(&self.node, result, true)
    }

    /// The promise this resolver resolves.
    ///
    /// ```
    /// let (p, r) = lwt::wait::<()>();
    /// assert!(r.promise().same_as(&p));
    /// ```
    pub fn promise(&self) -> Promise<T> {
        Promise {
            node: self.node.clone(),
        }
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
    make(HowToCancel::NotCancelable)
}

/// A pending promise that [`Promise::cancel`] rejects with
/// [`Error::canceled`], and its resolver (Lwt's `Lwt.task`).
///
/// ```
/// let (p, _r) = lwt::task::<i32>();
/// let q = p.map(|x| x + 1);
/// q.cancel(); // walks back to `p`, rejects it, and the rejection flows to `q`
/// assert!(p.peek().unwrap().unwrap_err().is_canceled());
/// assert!(q.peek().unwrap().unwrap_err().is_canceled());
/// ```
pub fn task<T: 'static>() -> (Promise<T>, Resolver<T>) {
    make(HowToCancel::CancelThis)
}

fn make<T: 'static>(cancel: HowToCancel) -> (Promise<T>, Resolver<T>) {
    let node: NodeRef<T> = Rc::new(Node {
        core: Core::pending(cancel),
        extra: (),
    });
    (Promise { node: node.clone() }, Resolver { node })
}

/// A promise already resolved with `result` (Lwt's `Lwt.of_result`).
///
/// ```
/// let p = lwt::from_result::<u8>(Err(lwt::Error::msg("bad")));
/// assert!(p.is_rejected());
/// ```
pub fn from_result<T: 'static>(result: Result<T, Error>) -> Promise<T> {
    Promise::from_node(Rc::new(Node {
        core: Core::resolved(result),
        extra: (),
    }))
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
        Promise { node }
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
        let node = underlying(&self.node);
        value_of(&node).map(f)
    }

    /// True while the promise is pending.
    ///
    /// ```
    /// assert!(lwt::Promise::<()>::never().is_pending());
    /// ```
    pub fn is_pending(&self) -> bool {
        value_of(&underlying(&self.node)).is_none()
    }

    /// True once the promise is fulfilled.
    ///
    /// ```
    /// assert!(lwt::Promise::resolved(()).is_fulfilled());
    /// ```
    pub fn is_fulfilled(&self) -> bool {
        matches!(value_of(&underlying(&self.node)), Some(Ok(_)))
    }

    /// True once the promise is rejected.
    ///
    /// ```
    /// assert!(lwt::Promise::<()>::rejected(lwt::Error::canceled()).is_rejected());
    /// ```
    pub fn is_rejected(&self) -> bool {
        matches!(value_of(&underlying(&self.node)), Some(Err(_)))
    }

    /// True when both handles stand for the same promise (after proxies).
    ///
    /// ```
    /// let p = lwt::Promise::resolved(1);
    /// assert!(p.same_as(&p.clone()));
    /// assert!(!p.same_as(&lwt::Promise::resolved(1)));
    /// ```
    pub fn same_as(&self, other: &Promise<T>) -> bool {
        same_node(&underlying(&self.node), &underlying(&other.node))
    }

    pub(crate) fn add(&self, entry: Entry<T>) {
        add_entry(&self.node, entry);
    }

    pub(crate) fn weak(&self) -> Weak<dyn Cancelable> {
        let weak: Weak<dyn NodeDyn<T>> = Rc::downgrade(&self.node);
        weak
    }
}

/// Compares two nodes by address (the thin part of the pointer).
pub(crate) fn same_node<T: 'static>(a: &NodeRef<T>, b: &NodeRef<T>) -> bool {
    std::ptr::addr_eq(Rc::as_ptr(a), Rc::as_ptr(b))
}
