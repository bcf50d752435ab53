//! The resolution loop: the one place user callbacks are run from.
//!
//! # Ground rules
//!
//! 1. Resolving a promise runs its callbacks before the outermost `resolve`
//!    returns (eager callbacks: [execution model](crate::execution_model),
//!    rule 3). Attaching a callback to a resolved promise runs it at once. No
//!    engine is involved.
//! 2. Callbacks run in the order they were attached (FIFO). `on_cancel` hooks
//!    run before the regular callbacks of a canceled promise.
//! 3. The stack is bounded ([execution model](crate::execution_model), rule
//!    4): every callback runs one level deeper in a thread-local *depth*
//!    counter. Past [`MAX_DEPTH`] the callbacks of a resolution are queued
//!    instead of run, and the outermost level (depth
//!    back to zero) drains the queue, FIFO, before it returns. So a chain of
//!    a million dependent promises resolves in a loop, not a recursion.
//!    A `bind`/`map` node does better still: its last act, resolving its own
//!    promise, is handed back to the caller as a [`Tail`], whose callbacks
//!    the caller runs next. A chain of them runs at one depth, in a loop.
//! 4. No `RefCell` borrow is held while a callback runs: the list of callbacks
//!    is taken out of the node first, and the value is read from the node's
//!    `OnceCell`, which never changes again.
//! 5. Panics (natively, where they unwind): user code run as a callback is
//!    run through [`catch`] or [`catch_to_hook`], right around the user's
//!    closure, so a panic never unwinds through the loop. One that produces
//!    a promise (`bind`, `map`, a task's poll) rejects that promise with an
//!    [`Error::is_panic`] error; one that produces none (`on_success`, ...,
//!    `on_cancel`) goes to the async-exception hook. Either way the rest of
//!    the resolution runs as if nothing happened. On wasm32 panics abort, so
//!    there is nothing to catch. As a last resort, should something else
//!    panic inside the loop (a user value's `Drop`, a foreign waker), the
//!    depth counter is restored by a guard, and the callbacks of the same
//!    resolution that had not run yet are queued, so they run at the next
//!    resolution instead of being lost.
//!
//! # Verbs
//!
//! Every function that runs callbacks is named with one verb, `run`, and two
//! modifiers; `defer` and `drain` are the queue:
//!
//! * `run`: runs it now, at the current level, to completion, tails
//!   included: `Callback::run`, `Entry::run`, `Hooks::run`, `run_callbacks`
//!   (a resolved node's hooks and callbacks), `run_tails` (a tail and every
//!   tail it leads to).
//! * `…_to_tail`: runs it now but hands back the tail its last act produced
//!   instead of running it, for the caller's loop: `Callback::run_to_tail`,
//!   `Entry::run_to_tail`, `Tail::run_to_tail`, `run_callbacks_to_tail`.
//! * `…_nested`: runs it one level deeper, or, past [`MAX_DEPTH`], defers
//!   it: `run_nested` (a closure), `run_callbacks_nested` (the entry point
//!   of every resolution).
//! * `defer` queues a job for the outermost level; `drain` runs the queue.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::node::{
    drop_swept, fold_into, hand_over, same_node, underlying, underlying_owned, value_of, Callbacks,
    Entry, Extra, Hooks, Job, Node, NodeRef, RunQueued, Slots, Tail, TailRef,
};
use crate::error::Error;
use crate::hook::report_unhandled;

/// How deep callbacks nest before the resolution loop queues them instead of
/// running them at once (Lwt uses the same bound).
///
/// Callbacks are eager everywhere below this bound. Inside exactly
/// `MAX_DEPTH` nested callbacks ([`depth`] `== MAX_DEPTH`), a resolution's
/// callbacks, and a callback attached to an already-resolved promise, are
/// queued instead; they run, in order, before the outermost callback returns
/// ([execution model](crate::execution_model), rule 4).
///
/// ```
/// use lwt::{depth, Promise, MAX_DEPTH};
/// // Runs `f` inside `n` nested callbacks.
/// fn nest(n: u32, f: Box<dyn FnOnce()>) {
///     if n == 0 { f() } else { drop(Promise::resolved(()).map(move |()| nest(n - 1, f))); }
/// }
/// nest(MAX_DEPTH - 1, Box::new(|| {
///     assert_eq!(depth(), MAX_DEPTH - 1);
///     assert!(Promise::resolved(1).map(|x| x + 1).is_fulfilled()); // eager
/// }));
/// nest(MAX_DEPTH, Box::new(|| {
///     assert_eq!(depth(), MAX_DEPTH);
///     assert!(Promise::resolved(1).map(|x| x + 1).is_pending()); // queued
/// }));
/// ```
pub const MAX_DEPTH: u32 = 42;

/// How many callbacks are running nested inside each other on this thread
/// right now: 0 outside any callback, 1 in a callback run by a top-level
/// `resolve`, and so on. While it is below [`MAX_DEPTH`], callbacks are
/// eager; at `MAX_DEPTH` they are queued (see there).
///
/// ```
/// assert_eq!(lwt::depth(), 0);
/// let (p, r) = lwt::wait::<()>();
/// p.on_success(|()| assert_eq!(lwt::depth(), 1));
/// r.resolve(()).unwrap();
/// ```
pub fn depth() -> u32 {
    DEPTH.with(Cell::get)
}

/// Runs `f`, user code that produces a promise's result; a panic comes back
/// as an [`Error::is_panic`] error whose message starts with `what` (ground
/// rule 5). Costs nothing unless `f` panics.
#[inline(always)]
pub(crate) fn catch<R>(what: &'static str, f: impl FnOnce() -> R) -> Result<R, Error> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Ok(r),
        Err(payload) => Err(panic_error(what, payload)),
    }
}

/// Runs `f`, a user callback that produces nothing; a panic goes to the
/// async-exception hook (ground rule 5).
#[inline(always)]
pub(crate) fn catch_to_hook(what: &'static str, f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        report_unhandled(&panic_error(what, payload));
    }
}

/// The error for a caught panic: `what` panicked, and what it said.
#[cold]
#[inline(never)]
fn panic_error(what: &'static str, payload: Box<dyn Any + Send>) -> Error {
    let said = if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some(*s)
    } else {
        payload.downcast_ref::<String>().map(String::as_str)
    };
    let message = match said {
        Some(said) => format!("{what} panicked: {said}"),
        None => format!("{what} panicked"),
    };
    // The payload's own `Drop` may panic too: keep it from unwinding here.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    Error::panicked(message)
}

impl<T: 'static> Entry<T> {
    fn run(self, source: NodeRef<T>) {
        run_tails(self.run_to_tail(source));
    }

    /// Runs the entry; returns the tail its callback handed back.
    fn run_to_tail(self, source: NodeRef<T>) -> Option<TailRef> {
        match self {
            Entry::Node(cb, tag) => cb.run_to_tail(tag, source),
            Entry::Task(task, generation) => {
                task.resume(generation);
                None
            }
            Entry::Waker(waker) => {
                waker.wake();
                None
            }
            Entry::Claim(claim) => {
                let claim = claim.upgrade()?;
                if claim.result.borrow().is_none() {
                    // Not handed over: others were waiting too, or the
                    // value came from a node shared elsewhere.
                    let result = match value_of(&source) {
                        Some(Err(e)) => Err(e.clone()),
                        _ => Err(Error::shared_take()),
                    };
                    *claim.result.borrow_mut() = Some(result);
                }
                let notify = claim.notify.borrow_mut().take();
                drop(claim);
                notify?.run_to_tail(source)
            }
        }
    }
}

impl Hooks {
    #[inline]
    fn run(self) {
        match self {
            Hooks::None => std::mem::forget(self),
            Hooks::One(h) => h(),
            Hooks::Many(v) => v.into_iter().for_each(|h| h()),
        }
    }
}

/// Runs `tail` and every tail it leads to.
pub(crate) fn run_tails(mut tail: Option<TailRef>) {
    while let Some(t) = tail {
        tail = t.run_to_tail();
    }
}

thread_local! {
    /// How many callbacks are running, one inside another, on this thread.
    /// A cell of its own, with no destructor, so that reading it is one load
    /// (the binds of a resolved promise read it twice each).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Callbacks queued past [`MAX_DEPTH`] (or by `resolve_later`), run by
    /// the outermost level.
    static QUEUE: RefCell<VecDeque<Queued>> = const { RefCell::new(VecDeque::new()) };
}

/// What the resolution loop's queue holds.
enum Queued {
    /// Work of any kind.
    Job(Job),
    /// A node in the queued state: its resolution's hooks and callbacks,
    /// kept in the node itself, so queuing them allocates nothing.
    Node(Rc<dyn RunQueued>),
}

impl<T: 'static, X: Extra> RunQueued for Node<T, X> {
    fn run_queued(self: Rc<Self>) {
        if let Some((hooks, callbacks)) = self.core.take_queued() {
            run_callbacks(self, hooks, callbacks);
        }
    }
}

/// One level of callback nesting, undone on drop (also when unwinding).
pub(crate) struct Level(());

impl Level {
    /// Enters one level deeper, or `None` if that would pass [`MAX_DEPTH`].
    #[inline]
    pub(crate) fn enter() -> Option<Level> {
        DEPTH.with(|depth| {
            let d = depth.get();
            if d >= MAX_DEPTH {
                None
            } else {
                depth.set(d + 1);
                Some(Level(()))
            }
        })
    }
}

impl Drop for Level {
    #[inline]
    fn drop(&mut self) {
        let outermost = DEPTH.with(|depth| {
            let d = depth.get() - 1;
            depth.set(d);
            d == 0
        });
        if outermost && !std::thread::panicking() {
            drain();
        }
    }
}

/// True while some callback is running on this thread.
pub(crate) fn in_callback() -> bool {
    DEPTH.with(|depth| depth.get() > 0)
}

/// Queues `job` to run when the outermost level returns.
pub(crate) fn defer(job: Job) {
    QUEUE.with(|q| q.borrow_mut().push_back(Queued::Job(job)));
}

/// Runs queued jobs until none is left. Called by the outermost level, and by
/// engines at the start of a turn (jobs left behind by a panic).
pub(crate) fn drain() {
    /// Puts the depth back to zero after each job, also when it panics.
    struct Outermost;
    impl Drop for Outermost {
        fn drop(&mut self) {
            DEPTH.with(|depth| depth.set(0));
        }
    }
    if in_callback() {
        return;
    }
    loop {
        let queued = QUEUE.with(|q| q.borrow_mut().pop_front());
        let Some(queued) = queued else { return };
        DEPTH.with(|depth| depth.set(1));
        let _outermost = Outermost;
        match queued {
            Queued::Job(job) => job(),
            Queued::Node(node) => node.run_queued(),
        }
    }
}

/// Runs `f` as a callback: one level deeper, or queued if that is too deep.
pub(crate) fn run_nested(f: impl FnOnce() + 'static) {
    match Level::enter() {
        Some(_level) => f(),
        None => defer(Box::new(f)),
    }
}

/// Runs the hooks and callbacks of a node that was just resolved.
pub(crate) fn run_callbacks_nested<T: 'static>(
    node: NodeRef<T>,
    hooks: Hooks,
    callbacks: Callbacks<T>,
    later: bool,
) {
    // Callbacks left behind by a panic go first. The test only saves the
    // call: `drain` does nothing inside a callback, and pops nothing from an
    // empty queue, so `||` for `&&`, or either side's `!` deleted, are
    // equivalent mutants.
    if !in_callback() && QUEUE.with(|q| !q.borrow().is_empty()) {
        drain();
    }
    if hooks.is_empty() && callbacks.is_empty() {
        return;
    }
    if later && in_callback() {
        queue_callbacks(node, hooks, callbacks);
        return;
    }
    match Level::enter() {
        Some(_level) => run_callbacks(node, hooks, callbacks),
        None => queue_callbacks(node, hooks, callbacks),
    }
}

/// Queues the hooks and callbacks of `node`'s resolution to run when the
/// outermost level returns: kept in the node if it is plainly resolved (no
/// allocation), else (it is queued already, with others) in a job of their
/// own, behind it.
fn queue_callbacks<T: 'static>(node: NodeRef<T>, hooks: Hooks, callbacks: Callbacks<T>) {
    match node.core().queue(hooks, callbacks) {
        Ok(()) => {
            let node: Rc<dyn RunQueued> = node;
            QUEUE.with(|q| q.borrow_mut().push_back(Queued::Node(node)));
        }
        Err((hooks, callbacks)) => {
            defer(Box::new(move || run_callbacks(node, hooks, callbacks)));
        }
    }
}

fn run_callbacks<T: 'static>(node: NodeRef<T>, hooks: Hooks, callbacks: Callbacks<T>) {
    hooks.run();
    match callbacks.into_slots() {
        Slots::Empty => {}
        Slots::One(entry) => entry.run(node),
        Slots::Many(entries) => {
            let mut rest = Rest {
                node,
                entries: entries.into_iter(),
            };
            for entry in rest.entries.by_ref() {
                entry.run(rest.node.clone());
            }
        }
    }
}

/// The callbacks of one resolution that have not run yet. If a callback
/// panics, the rest are queued rather than dropped.
struct Rest<T: 'static> {
    node: NodeRef<T>,
    entries: std::vec::IntoIter<Entry<T>>,
}

impl<T: 'static> Drop for Rest<T> {
    fn drop(&mut self) {
        // Not panicking, the loop ran every entry, so `&&` for `||`, or
        // `>=` for `>`, differ only in queuing an empty job while panicking
        // (equivalent mutants).
        if std::thread::panicking() && self.entries.len() > 0 {
            let node = self.node.clone();
            let entries: Vec<Entry<T>> = self.entries.by_ref().collect();
            defer(Box::new(move || {
                run_callbacks(node, Hooks::None, Callbacks(Slots::Many(entries)));
            }));
        }
    }
}

/// The callbacks of a [`Tail`]: the first tail a single callback hands back
/// is returned for the caller's loop; several callbacks run here, in order.
pub(crate) fn run_callbacks_to_tail<T: 'static>(
    node: NodeRef<T>,
    callbacks: Callbacks<T>,
) -> Option<TailRef> {
    match callbacks.into_slots() {
        Slots::Empty => None,
        Slots::One(entry) => entry.run_to_tail(node),
        slots => {
            run_callbacks(node, Hooks::None, Callbacks(slots));
            None
        }
    }
}

/// Resolves the node `node` stands for. `later`: Lwt's `wakeup_later`.
pub(crate) fn resolve_node<T: 'static>(
    node: &NodeRef<T>,
    result: Result<T, Error>,
    later: bool,
) -> Result<(), Error> {
    resolve_underlying(underlying(node), result, later)
}

/// [`resolve_node`] for a resolver method: an already-resolved error names
/// `by`, the public function the user called (as Lwt's
/// `Invalid_argument "Lwt.wakeup"`). The name is added on the error path only.
#[inline]
pub(crate) fn resolve_by<T: 'static>(
    node: &NodeRef<T>,
    result: Result<T, Error>,
    later: bool,
    by: &'static str,
) -> Result<(), Error> {
    resolve_node(node, result, later).map_err(|_| Error::already_resolved(by))
}

/// [`resolve_node`] for a caller that gives up its handle on `node`: the
/// node is then held only while it is needed, which lets a chain resolved
/// one callback after another free its nodes in order.
pub(crate) fn resolve_owned<T: 'static>(
    node: NodeRef<T>,
    result: Result<T, Error>,
) -> Result<(), Error> {
    resolve_underlying(underlying_owned(node), result, false)
}

fn resolve_underlying<T: 'static>(
    node: NodeRef<T>,
    result: Result<T, Error>,
    later: bool,
) -> Result<(), Error> {
    let Some(waiting) = node.core().take_waiting() else {
        return match value_of(&node) {
            Some(Err(e)) if e.is_canceled() => Ok(()),
            _ => Err(Error::already_resolved("resolve")),
        };
    };
    let canceled = matches!(&result, Err(e) if e.is_canceled());
    let result = hand_over(&waiting.callbacks, result);
    // The cell was empty: a node's value is set only here, guarded by the
    // `Pending` → `Resolved` transition just made.
    let _ = node.core().value.set(result);
    let (callbacks, hooks) = waiting.release(canceled);
    run_callbacks_nested(node, hooks, callbacks, later);
    Ok(())
}

impl<T: 'static, X: Extra> Tail for Node<T, X> {
    fn run_to_tail(self: Rc<Self>) -> Option<TailRef> {
        let waiting = self.core.take_waiting()?;
        // Not canceled (see `resolve_tail`): no `on_cancel` hook runs.
        let callbacks = waiting.release_callbacks();
        let me: NodeRef<T> = self;
        run_callbacks_to_tail(me, callbacks)
    }
}

/// [`resolve_owned`] for a callback about to return: when the node is
/// pending and `result` is not a cancellation, the value is stored and the
/// node returned as a tail, for the caller to run its callbacks.
pub(crate) fn resolve_tail<T: 'static, X: Extra>(
    node: Rc<Node<T, X>>,
    result: Result<T, Error>,
) -> Option<TailRef> {
    let result = if matches!(&result, Err(e) if e.is_canceled()) {
        result
    } else {
        match node.core.enter_tail(result) {
            Ok(()) => return Some(node),
            Err(result) => result,
        }
    };
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
    if let Some(entry) = node.core().attach(entry) {
        run_callbacks_nested(node, Hooks::None, Callbacks::one(entry), false);
    }
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
        let Some(waiting) = outer.core().become_proxy(&inner) else {
            return;
        };
        let canceled = matches!(value_of(&inner), Some(Err(e)) if e.is_canceled());
        let (callbacks, hooks) = waiting.release(canceled);
        run_callbacks_nested(inner, hooks, callbacks, false);
        return;
    }
    // Dropped outside the borrows: the old cancel link and the swept entries
    // may hold the last reference to a node.
    if let Some((cancel, swept)) = fold_into(&outer, &inner) {
        drop(cancel);
        drop_swept(swept);
    }
}

/// Resolves the node `node` with `result` unless it was resolved meanwhile.
pub(crate) fn settle<T: 'static>(node: &NodeRef<T>, result: Result<T, Error>) {
    let _ = resolve_node(node, result, false);
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::{depth, MAX_DEPTH};
    use crate::Promise;

    /// Runs `f` inside `n` nested callbacks.
    fn nest(n: u32, f: Box<dyn FnOnce()>) {
        if n == 0 {
            f()
        } else {
            drop(Promise::resolved(()).map(move |()| nest(n - 1, f)));
        }
    }

    /// At `depth` inside nested callbacks: is `map` on a resolved promise
    /// eager, do a resolution's callbacks run before `resolve` returns, does
    /// a `dont_wait` handler of a promise rejected at once run before
    /// `dont_wait` returns, and is a task done in its first poll done when
    /// `spawn` returns?
    fn eager_at(n: u32) -> (u32, bool, bool, bool, bool) {
        let seen = Rc::new(Cell::new((0, false, false, false, false)));
        let s = seen.clone();
        nest(
            n,
            Box::new(move || {
                let mapped = Promise::resolved(1).map(|x| x + 1).is_fulfilled();
                let (p, r) = crate::wait::<()>();
                let ran = Rc::new(Cell::new(false));
                let flag = ran.clone();
                p.on_success(move |()| flag.set(true));
                r.resolve(()).unwrap();
                let handled = Rc::new(Cell::new(false));
                let flag = handled.clone();
                crate::dont_wait(
                    || Promise::<()>::rejected(crate::Error::msg("x")),
                    move |_| flag.set(true),
                );
                let spawned = crate::spawn(async { Ok(()) }).is_fulfilled();
                s.set((depth(), mapped, ran.get(), handled.get(), spawned));
            }),
        );
        assert_eq!(depth(), 0);
        seen.get()
    }

    #[test]
    fn eager_below_the_bound_queued_at_it() {
        assert_eq!(eager_at(0), (0, true, true, true, true));
        assert_eq!(
            eager_at(MAX_DEPTH - 1),
            (MAX_DEPTH - 1, true, true, true, true)
        );
        assert_eq!(eager_at(MAX_DEPTH), (MAX_DEPTH, false, false, false, false));
    }

    #[test]
    fn queued_callbacks_run_before_the_outermost_returns() {
        let ran = Rc::new(Cell::new(false));
        let r2 = ran.clone();
        nest(
            MAX_DEPTH,
            Box::new(move || {
                drop(Promise::resolved(()).map(move |()| r2.set(true)));
            }),
        );
        assert!(ran.get());
    }
}
