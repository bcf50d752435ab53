//! `async`/`.await` on promises: [`spawn`], and `Future` for [`Promise`].
//!
//! # Ground rules
//!
//! 1. A spawned task is a node like any other: its `extra` holds the boxed
//!    future, and the node is the task's promise. [`spawn`] polls the future at
//!    once (Lwt's `async` timing).
//! 2. Awaiting a promise from inside a task attaches the *task itself* to the
//!    promise's callback list (no waker, no allocation). When the promise
//!    resolves, the task is polled again inside that same resolution, so
//!    `.await` code has the timing of `bind` chains
//!    ([execution model](crate::execution_model), rule 3).
//! 3. Each poll has a *generation*. A callback attached during an older poll
//!    is stale: it does nothing when it fires and is swept from long callback
//!    lists. Futures re-register on every poll, as the `Future` contract says.
//! 4. Any other future can be awaited too. Its waker is a real, `Send` waker:
//!    waking it from this thread queues the task for the engine's next turn;
//!    waking it from another thread goes through the engine's wake handle.
//! 5. **A pending task is owned by whatever can wake it, for as long as it
//!    can be woken.** A task awaiting an lwt promise is held by that
//!    promise's callback list. A task whose waker a foreign future kept
//!    (cloned, still alive when the poll ended) *lends* the waker out: the
//!    task keeps only a `Weak` to it, and the registry of foreign wake-ups
//!    holds the task until the last clone is dropped, on any thread (then the
//!    next turn lets it go) ([`engine::wake`](crate::engine) ground rule 3).
//!    A finished or aborted task leaves the registry at once, so a future
//!    that holds its own task's waker is no cycle once the task ends; a task
//!    whose every waker was dropped unwoken is freed on the next turn. So
//!    dropping a task's promise never loses the task: [`crate::async_`] and
//!    [`crate::dont_wait`] rely on it. The hot path does not change: an
//!    lwt-only task never lends its waker, and pays one relaxed load per poll.
//! 6. Canceling a task's promise cancels the promises the task is awaiting:
//!    the task sees `Err(canceled)` at that `.await` and may clean up.
//!    [`Promise::abort`] instead drops the future at once (tokio's meaning) and
//!    rejects the promise; a future dropped cannot resolve it later.
//! 7. Awaiting a promise yields `Result<T, Error>` and clones the value out
//!    (every awaiter gets its own copy): wrap large values in an `Rc`.
//! 8. A future that panics (natively) is dropped at once and its promise
//!    rejected with an [`Error::is_panic`] error, inside the same poll; the
//!    resolution that polled it goes on.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::engine::wake::{self, Pollable, TaskWaker};
use crate::error::Error;
use crate::promise::node::{
    underlying, value_of, CancelTo, Cancelable, Claim, Core, Entry, Extra, Links, Node, NodeDyn,
    NodeRef, Resumable,
};
use crate::promise::resolve::{add_entry_underlying, catch, run_nested, settle};
use crate::promise::Promise;
use crate::storage::{self, Ctx};

/// The task being polled right now, seen from `Promise::poll`.
trait Running {
    /// True when `waker` is this task's own (an await needs no waker then).
    fn owns(&self, waker: &Waker) -> bool;
    fn generation(&self) -> usize;
    fn as_resumable(self: Rc<Self>) -> Rc<dyn Resumable>;
    /// The task now also waits on `promise`: canceling the task cancels it.
    fn awaits(&self, promise: Weak<dyn Cancelable>);
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<dyn Running>>> = const { RefCell::new(None) };
}

/// Where a task's waker is (ground rule 5).
enum WakerSlot {
    /// The task holds it: `arc` and `waker` are two references to one
    /// `TaskWaker`, so a count above two means a foreign future kept a clone.
    Own { arc: Arc<TaskWaker>, waker: Waker },
    /// Lent out to foreign futures, which own the task through the registry.
    Lent(std::sync::Weak<TaskWaker>),
}

struct TaskExtra<F> {
    future: RefCell<Option<Pin<Box<F>>>>,
    slot: RefCell<WakerSlot>,
    /// The waker id under which the registry owns this task, if it does.
    registered: Cell<Option<u64>>,
    generation: Cell<usize>,
    /// The generation whose awaits the cancel links list.
    cancel_generation: Cell<usize>,
    polling: Cell<bool>,
    repoll: Cell<bool>,
    aborted: Cell<bool>,
    ctx: Ctx,
}

impl<F: 'static> Extra for TaskExtra<F> {
    fn abort(&self) -> bool {
        self.aborted.set(true);
        self.generation.set(self.generation.get() + 1);
        let future = self.future.borrow_mut().take();
        drop(future);
        // An aborted task can never be woken: nothing owns it any more.
        self.unregister();
        true
    }
}

type TaskNode<T, F> = Node<T, TaskExtra<F>>;

impl<T: 'static, F: Future<Output = Result<T, Error>> + 'static> TaskNode<T, F> {
    fn poll_task(self: Rc<Self>) {
        let x = &self.extra;
        if x.polling.get() {
            x.repoll.set(true);
            return;
        }
        let Some(mut future) = x.future.borrow_mut().take() else {
            return;
        };
        x.polling.set(true);
        x.take_back_waker();
        let outcome = {
            let slot = x.slot.borrow();
            let (arc, waker) = match &*slot {
                WakerSlot::Own { arc, waker } => (Some(arc), waker),
                WakerSlot::Lent(_) => (None, Waker::noop()),
            };
            loop {
                x.generation.set(x.generation.get() + 1);
                if let Some(arc) = arc {
                    arc.clear_woken();
                }
                let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
                let polled = {
                    let _restore = storage::enter(&x.ctx);
                    catch("the task", || {
                        future.as_mut().poll(&mut Context::from_waker(waker))
                    })
                };
                CURRENT.with(|c| *c.borrow_mut() = previous);
                match polled {
                    Ok(Poll::Ready(result)) => break Some(result),
                    // A panicking future is done: it is dropped, not polled again.
                    Err(panicked) => break Some(Err(panicked)),
                    Ok(Poll::Pending) if x.repoll.take() && !x.aborted.get() => continue,
                    Ok(Poll::Pending) => break None,
                }
            }
        };
        x.polling.set(false);
        match outcome {
            Some(result) => {
                drop(future);
                self.extra.unregister();
                let me: NodeRef<T> = self;
                settle(&me, result);
            }
            None if x.aborted.get() => {
                drop(future);
                x.unregister();
            }
            None => {
                *x.future.borrow_mut() = Some(future);
                self.lend_waker_if_kept();
            }
        }
    }

    /// After a pending poll: if a foreign future kept the waker, or woke it
    /// during the poll, the registry owns the task; if the waker was kept,
    /// the task lends it out (keeps a `Weak`), so that dropping the last
    /// clone can let the task go (ground rule 5).
    fn lend_waker_if_kept(self: Rc<Self>) {
        let x = &self.extra;
        let mut slot = x.slot.borrow_mut();
        let WakerSlot::Own { arc, .. } = &*slot else {
            return;
        };
        let kept = Arc::strong_count(arc) > 2;
        // Pairs with the release decrement of a clone dropped on another
        // thread: what it did before (a wake-up) is visible below.
        fence(Ordering::Acquire);
        let woken = arc.was_woken();
        if kept || woken {
            if x.registered.get().is_none() {
                x.registered.set(Some(arc.id()));
                wake::register(arc.id(), self.clone());
            }
        } else if let Some(id) = x.registered.take() {
            // Never the last reference to the task: `self` is another.
            wake::unregister(id);
        }
        if kept {
            arc.set_lent(true);
            let weak = Arc::downgrade(arc);
            *slot = WakerSlot::Lent(weak);
        }
    }
}

impl<F> TaskExtra<F> {
    /// Before a poll: a waker that was lent out comes back if some clone of
    /// it still lives; if none does, a new one (a new id) replaces it, and the
    /// release already queued for the old id lets the registry's hold go.
    fn take_back_waker(&self) {
        let mut slot = self.slot.borrow_mut();
        let WakerSlot::Lent(weak) = &*slot else {
            return;
        };
        let arc = match weak.upgrade() {
            Some(arc) => {
                arc.set_lent(false);
                arc
            }
            None => {
                // The last clone's thread dropped it after waking: see what
                // it did before.
                fence(Ordering::Acquire);
                self.registered.set(None);
                wake::new_waker()
            }
        };
        *slot = WakerSlot::Own {
            waker: Waker::from(arc.clone()),
            arc,
        };
    }

    /// The registry lets go of the task, if it held it.
    fn unregister(&self) {
        if let Some(id) = self.registered.take() {
            wake::unregister(id);
        }
    }
}

impl<F> Drop for TaskExtra<F> {
    fn drop(&mut self) {
        self.unregister();
        // Ours and the `Waker`'s: nobody else can wake this id any more.
        if let WakerSlot::Own { arc, .. } = &*self.slot.borrow() {
            if Arc::strong_count(arc) == 2 {
                wake::recycle(arc.clone());
            }
        }
    }
}

impl<T: 'static, F: Future<Output = Result<T, Error>> + 'static> Running for TaskNode<T, F> {
    fn owns(&self, waker: &Waker) -> bool {
        match &*self.extra.slot.borrow() {
            WakerSlot::Own { waker: own, .. } => waker.will_wake(own),
            WakerSlot::Lent(_) => false,
        }
    }

    fn generation(&self) -> usize {
        self.extra.generation.get()
    }

    fn as_resumable(self: Rc<Self>) -> Rc<dyn Resumable> {
        self
    }

    fn awaits(&self, promise: Weak<dyn Cancelable>) {
        // The first await of a poll replaces the links of earlier polls
        // (those promises resolved, or the task would not have been polled;
        // a cancel walk stops at them anyway); later ones in the same poll add.
        let generation = self.extra.generation.get();
        let fresh = self.extra.cancel_generation.replace(generation) != generation;
        // The task's node itself, unless a bind folded it into its own
        // (the task's promise was returned from a bind's function): then
        // the cancel links are that node's.
        let folded = match &*self.core.links.borrow() {
            Links::Proxy(next) => Some(underlying(next)),
            _ => None,
        };
        let core = folded.as_ref().map_or(&self.core, |node| node.core());
        let Some(mut waiting) = core.waiting_mut() else {
            return;
        };
        let w = &mut *waiting;
        match &mut w.cancel {
            // Kept, with its capacity: a task that awaits two promises at
            // each poll (a read and its time-out) allocates the list once.
            // A long one (a poll that awaited many) is not held on to.
            CancelTo::Sources(v) if fresh && v.capacity() <= 8 => {
                v.clear();
                v.push(promise);
            }
            _ if fresh => w.cancel = CancelTo::Source(promise),
            CancelTo::Sources(v) => v.push(promise),
            CancelTo::Source(first) => {
                let first = first.clone();
                w.cancel = CancelTo::Sources(vec![first, promise]);
            }
            _ => w.cancel = CancelTo::Source(promise),
        }
    }
}

impl<T: 'static, F: Future<Output = Result<T, Error>> + 'static> Resumable for TaskNode<T, F> {
    fn resume(self: Rc<Self>, generation: usize) {
        if generation == self.extra.generation.get() {
            self.poll_task();
        }
    }

    fn is_live(&self, generation: usize) -> bool {
        generation == self.extra.generation.get() && !self.extra.aborted.get()
    }
}

impl<T: 'static, F: Future<Output = Result<T, Error>> + 'static> Pollable for TaskNode<T, F> {
    fn poll_now(self: Rc<Self>) {
        self.poll_task();
    }
}

/// Runs `future` as a task and gives its result as a promise (Lwt's
/// `Lwt.async`-style `let%lwt` code, written with `async`/`.await`).
///
/// The future is polled at once, before `spawn` returns. When a promise it
/// awaits resolves, it is polled again right there, inside that resolution.
/// Its `Err` rejects the promise. Canceling the promise cancels what the task
/// is awaiting, so the task sees `Err(canceled)` there; [`Promise::abort`]
/// drops the future instead.
///
/// ```
/// let (p, r) = lwt::wait::<u32>();
/// let doubled = lwt::spawn(async move {
///     let x = p.await?;
///     Ok(x * 2)
/// });
/// assert!(doubled.is_pending());
/// r.resolve(21).unwrap(); // the task runs again here, inside `resolve`
/// assert_eq!(doubled.peek().unwrap().unwrap(), 42);
/// ```
pub fn spawn<T, F>(future: F) -> Promise<T>
where
    T: 'static,
    F: Future<Output = Result<T, Error>> + 'static,
{
    let arc = wake::new_waker();
    let node = Rc::new(Node {
        core: Core::pending(CancelTo::Nowhere),
        extra: TaskExtra {
            future: RefCell::new(Some(Box::pin(future))),
            slot: RefCell::new(WakerSlot::Own {
                waker: Waker::from(arc.clone()),
                arc,
            }),
            registered: Cell::new(None),
            generation: Cell::new(0),
            cancel_generation: Cell::new(0),
            polling: Cell::new(false),
            repoll: Cell::new(false),
            aborted: Cell::new(false),
            ctx: storage::capture(),
        },
    });
    let promise = Promise::from_node(node.clone() as NodeRef<T>);
    run_nested(move || node.poll_task());
    promise
}

impl<T: 'static> Promise<T> {
    /// Stops a spawned task now: drops its future (running its destructors)
    /// and rejects its promise with [`Error::canceled`] (tokio's `abort`).
    /// On a promise that is not a task, the same as [`Promise::cancel`].
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// struct Flag(Rc<Cell<bool>>);
    /// impl Drop for Flag { fn drop(&mut self) { self.0.set(true) } }
    ///
    /// let dropped = Rc::new(Cell::new(false));
    /// let flag = Flag(dropped.clone());
    /// let t = lwt::spawn(async move {
    ///     let _flag = flag;
    ///     lwt::Promise::<()>::never().await
    /// });
    /// t.abort();
    /// assert!(dropped.get());
    /// assert!(t.peek().unwrap().unwrap_err().is_canceled());
    /// ```
    pub fn abort(&self) {
        if self.is_inline() {
            return; // resolved: nothing to stop
        }
        if self.node().abort() {
            settle(self.node(), Err(Error::canceled()));
        } else {
            self.cancel();
        }
    }
}

impl<T: Clone + 'static> Future for Promise<T> {
    type Output = Result<T, Error>;

    /// Ready with a clone of the result once the promise is resolved.
    ///
    /// Inlined, so that awaiting a [`Promise::resolved`] in an `async` block
    /// compiles to reading its value: the node path is a call.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.inline_mut() {
            Some(result) => Poll::Ready(result.clone()),
            None => poll_node(this.node(), cx),
        }
    }
}

/// [`Promise`]'s poll once it has a node: ready if the underlying node is
/// resolved, else its waiter is registered.
#[inline(never)]
fn poll_node<T: Clone + 'static>(
    node: &NodeRef<T>,
    cx: &mut Context<'_>,
) -> Poll<Result<T, Error>> {
    let node = underlying(node);
    if let Some(result) = value_of(&node) {
        return Poll::Ready(result.clone());
    }
    let entry = notify_entry(&node, cx);
    add_entry_underlying(node, entry);
    Poll::Pending
}

/// Who the current poll should wake: the running task itself (polled
/// again inside the resolution, as any await in a task is), else the waker.
fn notify_entry<T: 'static>(node: &NodeRef<T>, cx: &Context<'_>) -> Entry<T> {
    let running = CURRENT.with(|c| c.borrow().clone());
    match running {
        Some(task) if task.owns(cx.waker()) => {
            let generation = task.generation();
            let weak: Weak<dyn NodeDyn<T>> = Rc::downgrade(node);
            task.awaits(weak);
            Entry::Task(task.as_resumable(), generation)
        }
        _ => Entry::Waker(cx.waker().clone()),
    }
}

impl<T: 'static> Promise<T> {
    /// Awaits this promise and moves its value out, for values that are not
    /// `Clone` (awaiting a `Promise<T>` itself needs `T: Clone`, since every
    /// handle may read the value). Made for a promise with one consumer, the
    /// way a tokio `JoinHandle` is awaited once.
    ///
    /// The rule, since a value can be moved out only where nobody else can
    /// read it:
    ///
    /// - a rejection is always passed on (errors are shared, not moved);
    /// - a promise still pending when the take is first polled is *claimed*:
    ///   if, when it is fulfilled, the claim is the only callback waiting on
    ///   it, the value moves to the take, and the promise keeps an
    ///   invalid-argument error in its place, which other handles then see;
    ///   if other callbacks were waiting too, they read the value and the
    ///   take fails with an invalid-argument error;
    /// - a promise already fulfilled gives its value only if this was its
    ///   last handle (nothing else can read it), else the same error.
    ///
    /// Canceling the promise works as for any await (the take sees
    /// `Err(canceled)`). Works on every engine.
    ///
    /// ```
    /// # let engine = lwt::testing::VirtualEngine::new();
    /// struct Conn(u32); // not Clone
    ///
    /// let (p, r) = lwt::wait::<Conn>();
    /// let user = lwt::spawn(async move {
    ///     let conn = p.take().await?;
    ///     Ok(conn.0)
    /// });
    /// r.resolve(Conn(7)).unwrap();
    /// assert_eq!(engine.run(&user).unwrap(), 7);
    ///
    /// // A spawned task's result, moved out.
    /// let t = lwt::spawn(async { Ok(Conn(8)) });
    /// let got = lwt::spawn(async move { Ok(t.take().await?.0) });
    /// assert_eq!(engine.run(&got).unwrap(), 8);
    /// ```
    pub fn take(self) -> Take<T> {
        Take {
            promise: Some(self),
            claim: None,
        }
    }
}

/// The future of [`Promise::take`].
#[must_use = "futures do nothing unless awaited"]
pub struct Take<T: 'static> {
    promise: Option<Promise<T>>,
    /// Once claimed: the claim, and the node, kept alive until it resolves.
    claim: Option<(Rc<Claim<T>>, NodeRef<T>)>,
}

impl<T: 'static> fmt::Debug for Take<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Take")
            .field("claimed", &self.claim.is_some())
            .finish()
    }
}

impl<T: 'static> Future for Take<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some((claim, node)) = &self.claim {
            let result = claim.result.borrow_mut().take();
            if result.is_none() {
                let notify = notify_entry(node, cx);
                *claim.notify.borrow_mut() = Some(notify);
                return Poll::Pending;
            }
            self.claim = None;
            if let Some(result) = result {
                return Poll::Ready(result);
            }
        }
        let Some(promise) = self.promise.take() else {
            return Poll::Ready(Err(Error::invalid_argument(
                "Promise::take: polled again after it completed",
            )));
        };
        let promise = match promise.into_inline() {
            // Made resolved and never shared: the value is this take's.
            Ok(result) => return Poll::Ready(result),
            Err(promise) => promise,
        };
        let mut node = underlying(promise.node());
        match value_of(&node) {
            Some(Err(e)) => return Poll::Ready(Err(e.clone())),
            Some(Ok(_)) => {
                drop(promise);
                let moved = Rc::get_mut(&mut node).and_then(|n| n.core_mut().take_unshared_value());
                return Poll::Ready(moved.unwrap_or_else(|| Err(Error::shared_take())));
            }
            None => {}
        }
        drop(promise);
        let claim = Rc::new(Claim {
            result: RefCell::new(None),
            notify: RefCell::new(Some(notify_entry(&node, cx))),
        });
        add_entry_underlying(node.clone(), Entry::Claim(Rc::downgrade(&claim)));
        if let Some(result) = claim.result.borrow_mut().take() {
            return Poll::Ready(result);
        }
        self.claim = Some((claim, node));
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    //! Who owns a pending task (ground rule 5), seen through the registry.
    use std::cell::Cell;
    use std::future::Future;
    use std::rc::Rc;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    use crate::engine::wake::registered_count;
    use crate::testing::VirtualEngine;

    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }

    /// A waker slot another thread can take and wake.
    type Shared = Arc<Mutex<(bool, Option<Waker>)>>;

    fn wait_on(shared: Shared, flag: Flag) -> impl Future<Output = Result<u8, crate::Error>> {
        let _flag = flag;
        std::future::poll_fn(move |cx: &mut Context<'_>| {
            let _ = &_flag;
            let mut s = shared.lock().unwrap();
            if s.0 {
                Poll::Ready(Ok(1))
            } else {
                s.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }

    #[test]
    fn woken_from_another_thread_after_its_promise_is_dropped() {
        let engine = VirtualEngine::new();
        let shared: Shared = Arc::default();
        let dropped = Rc::new(Cell::new(false));
        let (done, r) = crate::wait::<u8>();
        let s = shared.clone();
        let flag = Flag(dropped.clone());
        drop(crate::spawn(async move {
            let v = wait_on(s, flag).await?;
            r.resolve(v)
        }));
        engine.run_until_idle();
        assert_eq!(registered_count(), 1);
        assert!(!dropped.get());
        std::thread::spawn(move || {
            let w = {
                let mut s = shared.lock().unwrap();
                s.0 = true;
                s.1.take()
            };
            w.unwrap().wake();
        })
        .join()
        .unwrap();
        engine.run_until_idle();
        assert_eq!(done.peek().unwrap().unwrap(), 1);
        assert!(dropped.get());
        assert_eq!(registered_count(), 0);
    }

    #[test]
    fn freed_when_its_waker_is_dropped_on_another_thread() {
        let engine = VirtualEngine::new();
        let shared: Shared = Arc::default();
        let dropped = Rc::new(Cell::new(false));
        drop(crate::spawn(wait_on(shared.clone(), Flag(dropped.clone()))));
        engine.run_until_idle();
        assert_eq!(registered_count(), 1);
        std::thread::spawn(move || drop(shared.lock().unwrap().1.take()))
            .join()
            .unwrap();
        assert!(!dropped.get(), "freed inside the other thread's drop");
        engine.run_until_idle();
        assert!(dropped.get());
        assert_eq!(registered_count(), 0);
    }

    #[test]
    fn a_task_keeping_its_own_waker_leaves_the_registry_when_done_or_aborted() {
        let engine = VirtualEngine::new();
        for abort in [false, true] {
            let (gate, open) = crate::task::<()>();
            let dropped = Rc::new(Cell::new(false));
            let flag = Flag(dropped.clone());
            let mut kept: Option<Waker> = None;
            let t = crate::spawn(std::future::poll_fn(move |cx| {
                let _ = &flag;
                // The future keeps its own task's waker.
                let _previous = kept.replace(cx.waker().clone());
                std::pin::Pin::new(&mut gate.clone()).poll(cx)
            }));
            engine.run_until_idle();
            assert_eq!(registered_count(), 1);
            if abort {
                t.abort();
            } else {
                drop(t);
                open.resolve(()).unwrap();
            }
            assert!(dropped.get());
            assert_eq!(registered_count(), 0);
            engine.run_until_idle();
        }
    }

    #[test]
    #[allow(clippy::waker_clone_wake)] // the clone is the point: woken, then dropped
    fn a_waker_woken_during_the_poll_polls_again() {
        let engine = VirtualEngine::new();
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        let t = crate::spawn(std::future::poll_fn(move |cx| {
            p.set(p.get() + 1);
            match p.get() {
                // A clone woken and dropped before the poll ends.
                1 => cx.waker().clone().wake(),
                // No clone at all (a yield).
                2 => cx.waker().wake_by_ref(),
                n => return Poll::Ready(Ok(n)),
            }
            Poll::Pending
        }));
        drop(t);
        engine.run_until_idle();
        assert_eq!(polls.get(), 3);
        assert_eq!(registered_count(), 0);
    }

    #[test]
    fn a_task_awaiting_only_lwt_promises_never_enters_the_registry() {
        let engine = VirtualEngine::new();
        let (p, r) = crate::wait::<u8>();
        let t = crate::spawn(async move { Ok(p.await? + crate::pause().await.map(|()| 1)?) });
        assert_eq!(registered_count(), 0);
        r.resolve(1).unwrap();
        assert_eq!(registered_count(), 0);
        assert_eq!(engine.run(&t).unwrap(), 2);
    }
}
