//! `async`/`.await` on promises: [`spawn`], and `Future` for [`Promise`].
//!
//! # Ground rules
//!
//! 1. A spawned task that must wait is a node like any other: its `extra`
//!    holds the boxed future, and the node is the task's promise. [`spawn`]
//!    polls the future at once (Lwt's `async` timing); ground rule 9 says
//!    when the node is made.
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
//! 9. **A task's first poll has no node.** It has its boxed future and a
//!    waker (a spare one, reused), and `STARTING` says how to make its node.
//!    The node is made the first time the task must be found again: when
//!    it awaits a pending lwt promise (inside the poll, so that the promise
//!    can hold the task, as in rule 2), or when the poll ends pending. A
//!    task done in its first poll never has one: its promise holds the
//!    result inline, and the spawn costs the future's box alone.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWakerVTable, Waker};

use crate::engine::wake::{self, Pollable, TaskWaker};
use crate::error::Error;
use crate::promise::node::{
    underlying, value_of, CancelTo, Cancelable, Claim, Core, Entry, Extra, Links, Node, NodeDyn,
    NodeRef, Resumable,
};
use crate::promise::resolve::{add_entry_underlying, catch, defer, settle, Level};
use crate::promise::{from_result, Promise};
use crate::storage::{self, Ctx};

/// The task being polled right now, seen from `Promise::poll`.
trait Running {
    /// True when `waker` is this task's own (an await needs no waker then).
    fn owns(&self, waker: &Waker) -> bool;
    fn generation(&self) -> usize;
    fn as_resumable(self: Rc<Self>) -> Rc<dyn Resumable>;
    /// The task now also waits on `promise`: canceling the task cancels it.
    fn awaits(&self, promise: Weak<dyn Cancelable>);
    fn into_any(self: Rc<Self>) -> Rc<dyn Any>;
}

/// A task in its first poll: what its node is made of, if it needs one
/// before the poll ends (it awaits a pending lwt promise).
struct Starting {
    /// The task's own waker, told apart as `Waker::will_wake` does.
    data: *const (),
    vtable: &'static RawWakerVTable,
    arc: Arc<TaskWaker>,
    ctx: Ctx,
    /// Makes the node, in the middle of its first poll.
    make: fn(Arc<TaskWaker>, Ctx) -> Rc<dyn Running>,
}

impl Starting {
    fn owns(&self, waker: &Waker) -> bool {
        waker.data() == self.data && waker.vtable() == self.vtable
    }
}

thread_local! {
    /// The task being polled; `None` in a task's first poll (ground rule 9).
    static CURRENT: RefCell<Option<Rc<dyn Running>>> = const { RefCell::new(None) };
    /// The task in its first poll, when the innermost poll is a first one
    /// (`CURRENT` is then `None`).
    static STARTING: RefCell<Option<Starting>> = const { RefCell::new(None) };
}

/// The task being polled, if `waker` is its own. A task in its first poll
/// gets its node here.
#[inline]
fn running_task(waker: &Waker) -> Option<Rc<dyn Running>> {
    let task = CURRENT.with(|c| c.borrow().clone());
    match task {
        Some(task) => task.owns(waker).then_some(task),
        None => first_poll_node(waker),
    }
}

/// The node of the task in its first poll, made now, if `waker` is its own.
#[cold]
fn first_poll_node(waker: &Waker) -> Option<Rc<dyn Running>> {
    let starting = STARTING.with(|s| {
        let mut s = s.borrow_mut();
        s.as_ref()
            .is_some_and(|s| s.owns(waker))
            .then(|| s.take())?
    })?;
    let task = (starting.make)(starting.arc, starting.ctx);
    CURRENT.with(|c| *c.borrow_mut() = Some(task.clone()));
    Some(task)
}

/// What a poll of a task's future gives: `Err` if it panicked.
type Polled<T> = Result<Poll<Result<T, Error>>, Error>;

/// One poll of a task's future, inside its implicit storage.
#[inline]
fn poll_once<T, F: Future<Output = Result<T, Error>>>(
    future: &mut Pin<Box<F>>,
    waker: &Waker,
    ctx: &Ctx,
) -> Polled<T> {
    let _restore = storage::enter(ctx);
    catch("the task", || {
        future.as_mut().poll(&mut Context::from_waker(waker))
    })
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
    /// A task's node. `polling` for one made in the middle of its first poll
    /// (its future is with that poll).
    fn new(
        future: Option<Pin<Box<F>>>,
        arc: Arc<TaskWaker>,
        ctx: Ctx,
        generation: usize,
        polling: bool,
    ) -> Rc<Self> {
        Rc::new(Node {
            core: Core::pending(CancelTo::Nowhere),
            extra: TaskExtra {
                future: RefCell::new(future),
                slot: RefCell::new(WakerSlot::Own {
                    waker: Waker::from(arc.clone()),
                    arc,
                }),
                registered: Cell::new(None),
                generation: Cell::new(generation),
                cancel_generation: Cell::new(0),
                polling: Cell::new(polling),
                repoll: Cell::new(false),
                aborted: Cell::new(false),
                ctx,
            },
        })
    }

    /// [`Starting::make`]: the node of a task in its first poll.
    fn made_in_first_poll(arc: Arc<TaskWaker>, ctx: Ctx) -> Rc<dyn Running> {
        Self::new(None, arc, ctx, 1, true)
    }

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
                let polled = poll_once(&mut future, waker, &x.ctx);
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
                self.finish(result);
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

    /// After a first poll that left the task pending, or that made its node
    /// (ground rule 9): the node takes the future on, as after any poll.
    /// A wake-up from inside the poll (a promise it awaited resolved) polls
    /// it again now.
    fn end_first_poll(self: Rc<Self>, future: Pin<Box<F>>, polled: Polled<T>) {
        let x = &self.extra;
        x.polling.set(false);
        let result = match polled {
            Ok(Poll::Pending) => {
                *x.future.borrow_mut() = Some(future);
                if x.repoll.take() {
                    self.poll_task();
                } else {
                    self.lend_waker_if_kept();
                }
                return;
            }
            Ok(Poll::Ready(result)) => result,
            Err(panicked) => Err(panicked),
        };
        drop(future);
        self.finish(result);
    }

    /// The task is done: the registry lets it go, and its promise is settled.
    fn finish(self: Rc<Self>, result: Result<T, Error>) {
        self.extra.unregister();
        let me: NodeRef<T> = self;
        settle(&me, result);
    }

    /// After a pending poll: if a foreign future kept the waker, or woke it
    /// during the poll, the registry owns the task; if the waker was kept,
    /// the task lends it out (keeps a `Weak`), so that dropping the last
    /// clone can let the task go (ground rule 5).
    fn lend_waker_if_kept(self: Rc<Self>) {
        if let Some(id) = self.extra.lend_waker_if_kept() {
            wake::register(id, self);
        }
    }
}

impl<F> TaskExtra<F> {
    /// [`TaskNode::lend_waker_if_kept`], but for the registry's hold: the
    /// id the registry must now own the task under, if it must. (Apart
    /// from the node, so that one copy serves every task type.)
    fn lend_waker_if_kept(&self) -> Option<u64> {
        let mut slot = self.slot.borrow_mut();
        let WakerSlot::Own { arc, .. } = &*slot else {
            return None;
        };
        let kept = Arc::strong_count(arc) > 2;
        // Pairs with the release decrement of a clone dropped on another
        // thread: what it did before (a wake-up) is visible below.
        fence(Ordering::Acquire);
        let woken = arc.was_woken();
        let mut register = None;
        if kept || woken {
            if self.registered.get().is_none() {
                self.registered.set(Some(arc.id()));
                register = Some(arc.id());
            }
        } else if let Some(id) = self.registered.take() {
            // Never the last reference to the task: the caller holds one.
            wake::unregister(id);
        }
        if kept {
            arc.set_lent(true);
            let weak = Arc::downgrade(arc);
            *slot = WakerSlot::Lent(weak);
        }
        register
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

    fn into_any(self: Rc<Self>) -> Rc<dyn Any> {
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
/// A task that finishes in that first poll is done when `spawn` returns:
/// its promise is already resolved, and the spawn cost one allocation (the
/// future's box) and no engine. A task that must wait is a node of its own.
///
/// ```
/// let quick = lwt::spawn(async { Ok(lwt::Promise::resolved(2).await? + 1) });
/// assert_eq!(quick.peek().unwrap().unwrap(), 3);
/// ```
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
    let future = Box::pin(future);
    let ctx = storage::capture();
    match Level::enter() {
        Some(_level) => start(future, ctx),
        None => {
            // Too deep to poll here: polled when the outermost level returns.
            let node = TaskNode::new(Some(future), wake::new_waker(), ctx, 0, false);
            let promise = Promise::from_node(node.clone() as NodeRef<T>);
            defer(Box::new(move || node.poll_task()));
            promise
        }
    }
}

/// A task's first poll, with no node: one is made only if the task must
/// wait (ground rule 9).
fn start<T, F>(mut future: Pin<Box<F>>, ctx: Ctx) -> Promise<T>
where
    T: 'static,
    F: Future<Output = Result<T, Error>> + 'static,
{
    let (waker, saved) = enter_first_poll(TaskNode::<T, F>::made_in_first_poll, &ctx);
    let polled = poll_once(&mut future, &waker, &ctx);
    drop(waker);
    let (made, arc) = leave_first_poll(saved);
    let made = made.and_then(|task| task.into_any().downcast::<TaskNode<T, F>>().ok());
    let result = match (made, polled) {
        (None, Ok(Poll::Ready(result))) => result,
        (None, Err(panicked)) => Err(panicked),
        (made, polled) => {
            let node = made.unwrap_or_else(|| {
                let arc = arc.unwrap_or_else(wake::new_waker);
                TaskNode::new(None, arc, ctx, 1, true)
            });
            node.clone().end_first_poll(future, polled);
            return Promise::from_node(node);
        }
    };
    drop(future);
    // Done at once: nobody else can wake this id.
    if let Some(arc) = arc.filter(|arc| Arc::strong_count(arc) == 1) {
        wake::recycle(arc);
    }
    from_result(result)
}

/// What a first poll replaced, to put back when it ends.
type Saved = (Option<Rc<dyn Running>>, Option<Starting>);

/// Sets up a task's first poll (ground rule 9): its waker, and `STARTING`
/// with `make`, the way to make its node.
fn enter_first_poll(make: fn(Arc<TaskWaker>, Ctx) -> Rc<dyn Running>, ctx: &Ctx) -> (Waker, Saved) {
    let arc = wake::new_waker();
    let waker = Waker::from(arc.clone());
    let starting = Starting {
        data: waker.data(),
        vtable: waker.vtable(),
        arc,
        ctx: ctx.clone(),
        make,
    };
    let saved = (
        CURRENT.with(|c| c.take()),
        STARTING.with(|s| s.replace(Some(starting))),
    );
    (waker, saved)
}

/// Ends a first poll: the node it made, if it made one, else its waker.
fn leave_first_poll(saved: Saved) -> (Option<Rc<dyn Running>>, Option<Arc<TaskWaker>>) {
    let made = CURRENT.with(|c| c.replace(saved.0));
    let starting = STARTING.with(|s| s.replace(saved.1));
    // Every poll puts back what it found, so `made` is the node this poll
    // made (if it awaited a pending lwt promise), and else `starting` is
    // still there. (Were neither, the caller makes a fresh node and waker.)
    (made, starting.map(|s| s.arc))
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
    match running_task(cx.waker()) {
        Some(task) => {
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
