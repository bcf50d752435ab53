//! Sequential composition: `bind`, `map`, `catch`, `try_bind`, `finalize`, and
//! the `on_*` callbacks.
//!
//! # Ground rules
//!
//! Read [`Promise::bind`] first; the others are variations of it.
//!
//! * Every combinator here is one *then node* (`then_node`): a node whose
//!   `extra` holds the user's closure and which is itself the callback attached
//!   to the source promise. That is one allocation for a `bind` on a pending
//!   promise: the result promise, the closure and the callback are the same
//!   object.
//! * When the source is already resolved (and the stack is not too deep) the
//!   closure runs at once and no node is made at all; for `bind` the result is
//!   then the very promise the closure returned.
//! * When the closure returns a pending promise, the result is *merged* with it
//!   (Lwt's proxies, see `resolve::merge`), which is what makes a
//!   tail-recursive loop of binds run in constant memory.
//! * A user closure that panics rejects the promise it was producing with an
//!   [`Error::is_panic`] error (natively; `promise::resolve` ground rule 5),
//!   on a pending source and on a resolved one alike. A panic in an `on_*`
//!   callback goes to the async-exception hook.
//! * Values are passed to user closures by value, cloned from the promise (a
//!   promise's value is shared by all its callbacks): wrap large values in an
//!   `Rc`. Errors are a reference count.
//!
//! # Life of a bind
//!
//! What happens to `let q = p.bind(f)`, function by function (node
//! transitions are in `promise::node`, the loop in `promise::resolve`).
//!
//! 1. **`p` is pending.** [`Promise::bind`] calls `then_node` with a closure
//!    that clones `p`'s value into `f` and passes `f`'s promise to `follow`.
//!    `then_node` borrows `p`'s node once (`Core::waiting_mut`); it is pending,
//!    so `new_then` builds the then node (one allocation: `q`'s core, the
//!    closure, the implicit storage captured now, and a weak cancel link back
//!    to `p`) and pushes it as `Entry::Node` on `p`'s callbacks. `q` is that
//!    node. (If `p` is a proxy, the same happens on its `underlying` node
//!    through `add_entry_underlying`.)
//! 2. **`p` resolves.** `Resolver::resolve` → `resolve_node` →
//!    `resolve_underlying`: `Core::take_waiting` moves `p` from pending to
//!    resolved, the value is set, `Waiting::release` hands out the callbacks,
//!    and `run_callbacks_nested` enters one level of the loop (`Level::enter`)
//!    and runs them (`run_callbacks` → `Entry::run`). `q`'s node runs as
//!    `Callback::run_to_tail`: it takes the closure, reads `p`'s value from its
//!    `OnceCell`, calls `f` inside the captured storage, and lets go of `p`.
//! 3. **`f` returns a resolved promise** (typically `Promise::resolved(x)`,
//!    held by nobody else). `follow` moves the value out of it
//!    (`Core::take_unshared_value`) and gives `Next::Done`; `resolve_tail`
//!    stores it in `q` (`Core::enter_tail`: the tail state) and hands `q` back
//!    as a `Tail` instead of resolving it in place. `run_tails`, in the frame
//!    that ran `q`, calls `Tail::run_to_tail`: `Core::take_waiting` makes `q`
//!    resolved, and `run_callbacks_to_tail` runs its one callback through
//!    `Entry::run_to_tail`, which hands back *that* node's tail, and so on. A
//!    chain of a million binds resolves in this one loop, at one depth.
//! 4. **`f` returns a pending promise `r`** (the proxy merge). `follow` gives
//!    `Next::Follow`, and `merge(q, r)` makes the two one: `fold_into` turns
//!    `r` into a proxy for `q`, and `q` takes over `r`'s callbacks, `on_cancel`
//!    hooks and cancel link. The node that lives on is the *older* one, `q`, so
//!    a loop that binds on itself keeps one node, not one per turn. When `r`
//!    resolves later, `q`'s callbacks run from step 2 on. (Had `r` been
//!    resolved but shared, `Core::become_proxy` makes `q` a proxy for it and
//!    runs `q`'s callbacks with `r`'s value.)
//! 5. **The depth bound.** Each resolution's callbacks run one `Level` deeper.
//!    Past `MAX_DEPTH` (42, as in Lwt), `run_callbacks_nested` queues them with
//!    `defer` instead, and the outermost level `drain`s the queue, in order,
//!    before the first `resolve` returns. In the same way, a `bind` on a
//!    resolved `p` runs `f` at once only while `Level::enter` succeeds; past
//!    the bound it attaches a node and `add_entry_underlying` queues it.
//!
//! Canceling `q` meanwhile follows the weak link made in step 1 back to `p`
//! (or, after a merge, to what `r` waited on): see `cancel`.

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::{Rc, Weak};

use crate::error::Error;
use crate::promise::node::{
    drop_swept, underlying, value_of, Callback, CancelLink, CancelTo, Core, Entry, Extra, Node,
    NodeDyn, NodeRef, TailRef,
};
use crate::promise::resolve::{
    add_entry_underlying, catch, catch_to_hook, merge, resolve_tail, run_tails, Level,
};
use crate::promise::{from_result, Promise};
use crate::storage::{self, Ctx};

/// Who panicked, in the message of a panic caught in a then node's closure.
const CALLBACK: &str = "the callback";

/// What a then node's closure decides.
pub(crate) enum Next<U: 'static> {
    /// Resolve the result with this.
    Done(Result<U, Error>),
    /// Make the result wait on this promise (merge with it).
    Follow(NodeRef<U>),
}

struct Then<S, U, F> {
    f: Cell<Option<F>>,
    ctx: Ctx,
    _types: PhantomData<fn(S) -> U>,
}

impl<S: 'static, U: 'static, F: 'static> Extra for Then<S, U, F> {}

impl<S, U, F> Callback<S> for Node<U, Then<S, U, F>>
where
    S: 'static,
    U: 'static,
    F: FnOnce(&NodeRef<S>, &Result<S, Error>) -> Next<U> + 'static,
{
    fn run(self: Rc<Self>, tag: usize, source: NodeRef<S>) {
        run_tails(self.run_to_tail(tag, source));
    }

    fn source_lost(&self, _tag: usize) {
        self.core.source_lost();
    }

    fn run_to_tail(self: Rc<Self>, _tag: usize, source: NodeRef<S>) -> Option<TailRef> {
        let f = self.extra.f.take()?;
        let result = value_of(&source)?;
        let next = {
            let _restore = storage::enter(&self.extra.ctx);
            catch(CALLBACK, || f(&source, result)).unwrap_or_else(|e| Next::Done(Err(e)))
        };
        // Let go of the source before resolving on: down a chain, each node
        // is freed as soon as the next one has read it.
        drop(source);
        match next {
            // The result may have been canceled meanwhile: then this is a no-op.
            Next::Done(result) => resolve_tail(self, result),
            Next::Follow(inner) => {
                merge(self, inner);
                None
            }
        }
    }
}

/// What to do with the promise a `bind`-like function returned: if it is
/// resolved and nobody else holds it (`Promise::resolved(x)`, typically), its
/// value is moved out, and no merge is needed; otherwise, follow it.
#[inline]
fn follow<U: 'static>(p: Promise<U>) -> Next<U> {
    let mut node = match p.into_inline() {
        Ok(result) => return Next::Done(result),
        Err(p) => p.into_node(),
    };
    if let Some(node) = Rc::get_mut(&mut node) {
        if let Some(result) = node.core_mut().take_unshared_value() {
            return Next::Done(result);
        }
    }
    Next::Follow(node)
}

/// Where a then node's cancel goes, chosen before the node exists: the
/// then-node form of [`CancelTo`], one to one (`Source` becomes
/// `CancelTo::Source` with a weak link to the source, once `then_node` knows
/// the underlying source; `This` and `Nowhere` are the same). A separate
/// payload-free type keeps `then_node`'s argument one byte on the `bind`
/// path.
#[derive(Clone, Copy)]
pub(crate) enum CancelVia {
    /// Cancel the source (`bind`, `map`, ...).
    Source,
    /// Reject the result itself ([`crate::protected`]).
    This,
    /// Nothing ([`crate::no_cancel`]).
    Nowhere,
}

/// The one combinator the others are made of: when `source` resolves, call `f`
/// with it and resolve the result as `f` says.
pub(crate) fn then_node<S, U, F>(source: &Promise<S>, cancel: CancelVia, f: F) -> Promise<U>
where
    S: 'static,
    U: 'static,
    F: FnOnce(&NodeRef<S>, &Result<S, Error>) -> Next<U> + 'static,
{
    // The common case first: the source is pending and not a proxy, so one
    // borrow of it both checks that and attaches the new node.
    if let Some(mut waiting) = source.node().core().waiting_mut() {
        let node = new_then(source.node(), cancel, f);
        let swept = waiting.callbacks.push(Entry::Node(node.clone(), 0));
        drop(waiting);
        drop_swept(swept);
        return Promise::from_node(node);
    }
    let src = underlying(source.node());
    if let Some(result) = value_of(&src) {
        if let Some(_level) = Level::enter() {
            return run_now(|| f(&src, result));
        }
    }
    let node = new_then(&src, cancel, f);
    add_entry_underlying(src, Entry::Node(node.clone(), 0));
    Promise::from_node(node)
}

/// Runs a then node's closure now, on a resolved source: its promise is
/// made from what it decides, a panic rejecting it.
fn run_now<U: 'static>(f: impl FnOnce() -> Next<U>) -> Promise<U> {
    match catch(CALLBACK, f).unwrap_or_else(|e| Next::Done(Err(e))) {
        Next::Done(r) => from_result(r),
        Next::Follow(node) => Promise::from_node(node),
    }
}

/// [`then_node`] for a closure that needs only the source's result, not its
/// node (`bind`, `map`, ...), canceling the source. On an inline promise
/// ([`Promise::resolved`] not yet shared) with the stack under the bound,
/// `f` runs at once on a clone of the result, and no node is made: Lwt's
/// `return x >>= f` is a call, not an allocation.
fn then_result<S, U, F>(source: &Promise<S>, f: F) -> Promise<U>
where
    S: Clone + 'static,
    U: 'static,
    F: FnOnce(Result<S, Error>) -> Next<U> + 'static,
{
    if source.is_inline() {
        if let Some(_level) = Level::enter() {
            if let Some(result) = source.inline_clone() {
                return run_now(|| f(result));
            }
        }
    }
    then_node(source, CancelVia::Source, move |_, r| f(r.clone()))
}

/// [`then_result`] for a handle given by value: an inline promise's result
/// moves to `f`, not even cloned.
fn then_result_owned<S, U, F>(source: Promise<S>, f: F) -> Promise<U>
where
    S: Clone + 'static,
    U: 'static,
    F: FnOnce(Result<S, Error>) -> Next<U> + 'static,
{
    let source = match source.into_inline() {
        Ok(result) => match Level::enter() {
            Some(_level) => return run_now(|| f(result)),
            None => from_result(result),
        },
        Err(source) => source,
    };
    then_node(&source, CancelVia::Source, move |_, r| f(r.clone()))
}

/// A pending then node that will run `f` on `src` (an underlying node),
/// canceled as `cancel` says, with the current implicit storage.
#[inline(always)]
fn new_then<S, U, F>(src: &NodeRef<S>, cancel: CancelVia, f: F) -> Rc<Node<U, Then<S, U, F>>>
where
    S: 'static,
    U: 'static,
{
    let cancel: CancelLink = match cancel {
        CancelVia::Source => {
            let weak: Weak<dyn NodeDyn<S>> = Rc::downgrade(src);
            CancelTo::Source(weak)
        }
        CancelVia::This => CancelTo::This,
        CancelVia::Nowhere => CancelTo::Nowhere,
    };
    Rc::new(Node {
        core: Core::pending(cancel),
        extra: Then {
            f: Cell::new(Some(f)),
            ctx: storage::capture(),
            _types: PhantomData,
        },
    })
}

/// A callback that produces no promise (the `on_*` family): one allocation.
struct OnResult<F> {
    f: Cell<Option<F>>,
    ctx: Ctx,
}

impl<T: 'static, F: FnOnce(&Result<T, Error>) + 'static> Callback<T> for OnResult<F> {
    fn run(self: Rc<Self>, _tag: usize, source: NodeRef<T>) {
        if let (Some(f), Some(result)) = (self.f.take(), value_of(&source)) {
            let _restore = storage::enter(&self.ctx);
            catch_to_hook(ON_CALLBACK, || f(result));
        }
    }
}

/// What a panicking `on_*` callback is called in its report.
const ON_CALLBACK: &str = "an on_* callback of a promise";

/// [`Promise::on_failure`] on a handle given by value (`dont_wait`,
/// `async_`): an inline promise needs no node and no callback, its error
/// goes to `f` at once (below the depth bound; at it, `f` is queued as any
/// callback is).
pub(crate) fn on_failure_owned<T: 'static>(p: Promise<T>, f: impl FnOnce(Error) + 'static) {
    match p.into_inline() {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => match Level::enter() {
            Some(_level) => catch_to_hook(ON_CALLBACK, || f(e)),
            None => Promise::<T>::rejected(e).on_failure(f),
        },
        Err(p) => p.on_failure(f),
    }
}

fn on_result<T: 'static>(p: &Promise<T>, f: impl FnOnce(&Result<T, Error>) + 'static) {
    p.add(Entry::Node(
        Rc::new(OnResult {
            f: Cell::new(Some(f)),
            ctx: storage::capture(),
        }),
        0,
    ));
}

impl<T: 'static> Promise<T> {
    /// Waits for this promise, then for the promise `f` makes from its value
    /// (Lwt's `Lwt.bind`, `>>=`). A rejection skips `f` and flows to the
    /// result. Canceling the result cancels what it currently waits on.
    ///
    /// On a resolved promise `f` runs at once, before `bind` returns, unless
    /// the call is made inside [`crate::MAX_DEPTH`] nested callbacks
    /// ([`crate::depth`] `== MAX_DEPTH`): then `f` is queued, and runs before
    /// the outermost callback returns (execution model, rule 4).
    ///
    /// ```
    /// let (p, r) = lwt::wait::<u32>();
    /// let (q, rq) = lwt::wait::<String>();
    /// let result = p.bind(move |n| q.map(move |s| format!("{s}{n}")));
    /// r.resolve(1).unwrap();
    /// assert!(result.is_pending()); // now waiting on q
    /// rq.resolve("x".into()).unwrap();
    /// assert_eq!(result.peek().unwrap().unwrap(), "x1");
    /// ```
    pub fn bind<U: 'static>(&self, f: impl FnOnce(T) -> Promise<U> + 'static) -> Promise<U>
    where
        T: Clone,
    {
        then_result(self, move |r| match r {
            Ok(v) => follow(f(v)),
            Err(e) => Next::Done(Err(e)),
        })
    }

    /// Applies `f` to the value (Lwt's `Lwt.map`, `>|=`). On a resolved
    /// promise `f` runs at once, with the one exception of [`Promise::bind`]:
    /// at [`crate::depth`] `==` [`crate::MAX_DEPTH`] it is queued instead.
    ///
    /// Takes the handle by value, so that it wins over `futures::FutureExt::map`
    /// when that trait is in scope ([`crate::from_tokio`]); `p.clone().map(f)`
    /// keeps `p`.
    ///
    /// ```
    /// let p = lwt::Promise::resolved(20).map(|x| x + 1).map(|x| x * 2);
    /// assert_eq!(p.peek().unwrap().unwrap(), 42);
    /// ```
    pub fn map<U: 'static>(self, f: impl FnOnce(T) -> U + 'static) -> Promise<U>
    where
        T: Clone,
    {
        then_result_owned(self, move |r| match r {
            Ok(v) => Next::Done(Ok(f(v))),
            Err(e) => Next::Done(Err(e)),
        })
    }

    /// Like [`Promise::map`] for a function that can fail: its `Err` rejects
    /// the result. By value, like `map`, so it wins over
    /// `futures::TryFutureExt::and_then`.
    ///
    /// ```
    /// let p = lwt::Promise::resolved("x").and_then(|s| s.parse::<u8>());
    /// assert!(p.is_rejected());
    /// ```
    pub fn and_then<U: 'static, E: Into<Error>>(
        self,
        f: impl FnOnce(T) -> Result<U, E> + 'static,
    ) -> Promise<U>
    where
        T: Clone,
    {
        then_result_owned(self, move |r| match r {
            Ok(v) => Next::Done(f(v).map_err(Into::into)),
            Err(e) => Next::Done(Err(e)),
        })
    }

    /// Handles a rejection (Lwt's `Lwt.catch`): the result follows this
    /// promise when it is fulfilled, and the promise `f` returns when it is
    /// rejected.
    ///
    /// ```
    /// let p = lwt::Promise::<u8>::rejected(lwt::Error::msg("no"))
    ///     .catch(|e| lwt::Promise::resolved(e.message().len() as u8));
    /// assert_eq!(p.peek().unwrap().unwrap(), 2);
    /// ```
    pub fn catch(&self, f: impl FnOnce(Error) -> Promise<T> + 'static) -> Promise<T> {
        then_node(self, CancelVia::Source, move |src, r| match r {
            Ok(_) => Next::Follow(src.clone()),
            Err(e) => follow(f(e.clone())),
        })
    }

    /// Replaces a rejection's error (a convenience beyond Lwt). By value,
    /// like `map`, so it wins over `futures::TryFutureExt::map_err`.
    ///
    /// ```
    /// let p = lwt::Promise::<()>::rejected(lwt::Error::timeout())
    ///     .map_err(|e| e.context("loading the page"));
    /// assert_eq!(p.peek().unwrap().unwrap_err().to_string(), "loading the page: timed out");
    /// ```
    pub fn map_err(self, f: impl FnOnce(Error) -> Error + 'static) -> Promise<T> {
        let source = match self.into_inline() {
            Ok(Ok(v)) => return Promise::resolved(v),
            Ok(Err(e)) => match Level::enter() {
                Some(_level) => return run_now(|| Next::Done(Err(f(e)))),
                None => Promise::rejected(e),
            },
            Err(source) => source,
        };
        then_node(&source, CancelVia::Source, move |src, r| match r {
            Ok(_) => Next::Follow(src.clone()),
            Err(e) => Next::Done(Err(f(e.clone()))),
        })
    }

    /// `bind` and `catch` at once (Lwt's `Lwt.try_bind`): `ok` gets the
    /// value, `err` the error, and the result follows whichever promise it
    /// returns.
    ///
    /// ```
    /// let p = lwt::Promise::resolved(1).try_bind(
    ///     |v| lwt::Promise::resolved(format!("ok {v}")),
    ///     |e| lwt::Promise::resolved(format!("err {e}")),
    /// );
    /// assert_eq!(p.peek().unwrap().unwrap(), "ok 1");
    /// ```
    pub fn try_bind<U: 'static>(
        &self,
        ok: impl FnOnce(T) -> Promise<U> + 'static,
        err: impl FnOnce(Error) -> Promise<U> + 'static,
    ) -> Promise<U>
    where
        T: Clone,
    {
        then_result(self, move |r| match r {
            Ok(v) => follow(ok(v)),
            Err(e) => follow(err(e)),
        })
    }

    /// Runs `f` once this promise resolves either way, waits for the promise
    /// it returns, and then resolves like this promise; if `f`'s promise is
    /// rejected, the result is rejected with that error instead
    /// (Lwt's `Lwt.finalize`).
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// let closed = Rc::new(Cell::new(false));
    /// let c = closed.clone();
    /// let p = lwt::Promise::<u8>::rejected(lwt::Error::msg("read failed"))
    ///     .finalize(move || { c.set(true); lwt::Promise::resolved(()) });
    /// assert!(closed.get());
    /// assert_eq!(p.peek().unwrap().unwrap_err().message(), "read failed");
    /// ```
    pub fn finalize(&self, f: impl FnOnce() -> Promise<()> + 'static) -> Promise<T> {
        then_node(self, CancelVia::Source, move |src, _| {
            let src = src.clone();
            let after = then_node(&f(), CancelVia::Source, move |_, fr| match fr {
                Ok(()) => Next::Follow(src),
                Err(e) => Next::Done(Err(e.clone())),
            });
            Next::Follow(after.into_node())
        })
    }

    /// A promise of `()` that resolves when this one does, dropping the value.
    ///
    /// ```
    /// let p: lwt::Promise<()> = lwt::Promise::resolved(vec![1]).ignore();
    /// assert!(p.is_fulfilled());
    /// ```
    pub fn ignore(&self) -> Promise<()> {
        match self.inline_state() {
            Some(Ok(())) => return Promise::resolved(()),
            Some(Err(e)) => return Promise::rejected(e),
            None => {}
        }
        then_node(self, CancelVia::Source, |_, r| match r {
            Ok(_) => Next::Done(Ok(())),
            Err(e) => Next::Done(Err(e.clone())),
        })
    }

    /// Calls `f` with the value if the promise is fulfilled
    /// (Lwt's `Lwt.on_success`).
    ///
    /// ```
    /// let (p, r) = lwt::wait::<u8>();
    /// p.on_success(|v| assert_eq!(v, 3));
    /// r.resolve(3).unwrap();
    /// ```
    pub fn on_success(&self, f: impl FnOnce(T) + 'static)
    where
        T: Clone,
    {
        on_result(self, move |r| {
            if let Ok(v) = r {
                f(v.clone())
            }
        });
    }

    /// Calls `f` with the error if the promise is rejected
    /// (Lwt's `Lwt.on_failure`).
    ///
    /// ```
    /// let (p, r) = lwt::wait::<u8>();
    /// p.on_failure(|e| assert!(e.is_timeout()));
    /// r.reject(lwt::Error::timeout()).unwrap();
    /// ```
    pub fn on_failure(&self, f: impl FnOnce(Error) + 'static) {
        on_result(self, move |r| {
            if let Err(e) = r {
                f(e.clone())
            }
        });
    }

    /// Calls `f` when the promise resolves, either way
    /// (Lwt's `Lwt.on_termination`).
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// let done = Rc::new(Cell::new(false));
    /// let d = done.clone();
    /// lwt::Promise::<()>::rejected(lwt::Error::msg("x")).on_termination(move || d.set(true));
    /// assert!(done.get());
    /// ```
    pub fn on_termination(&self, f: impl FnOnce() + 'static) {
        on_result(self, move |_| f());
    }

    /// Calls `ok` or `err` when the promise resolves (Lwt's `Lwt.on_any`).
    ///
    /// ```
    /// lwt::Promise::resolved(1).on_any(|v| assert_eq!(v, 1), |_| unreachable!());
    /// ```
    pub fn on_any(&self, ok: impl FnOnce(T) + 'static, err: impl FnOnce(Error) + 'static)
    where
        T: Clone,
    {
        on_result(self, move |r| match r {
            Ok(v) => ok(v.clone()),
            Err(e) => err(e.clone()),
        });
    }

    /// Calls `f` with a reference to the result when the promise resolves; the
    /// value is not cloned.
    ///
    /// ```
    /// let p = lwt::Promise::resolved(String::from("big"));
    /// p.on_result(|r| assert_eq!(r.as_ref().unwrap().len(), 3));
    /// ```
    pub fn on_result(&self, f: impl FnOnce(&Result<T, Error>) + 'static) {
        on_result(self, f);
    }
}
