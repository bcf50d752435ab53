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
//! 5. Canceling a task's promise cancels the promises the task is awaiting:
//!    the task sees `Err(canceled)` at that `.await` and may clean up.
//!    [`Promise::abort`] instead drops the future at once (tokio's meaning) and
//!    rejects the promise; a future dropped cannot resolve it later.
//! 6. Awaiting a promise yields `Result<T, Error>` and clones the value out
//!    (every awaiter gets its own copy): wrap large values in an `Rc`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::engine::wake::{self, Pollable, TaskWaker};
use crate::error::Error;
use crate::promise::node::{
    underlying, value_of, CancelTo, Cancelable, Core, Entry, Extra, Node, NodeDyn, NodeRef,
    Resumable,
};
use crate::promise::resolve::{add_entry_underlying, defer, run_nested, settle};
use crate::promise::Promise;
use crate::storage::{self, Ctx};

/// The task being polled right now, seen from `Promise::poll`.
trait Running {
    fn waker(&self) -> &Waker;
    fn generation(&self) -> usize;
    fn as_resumable(self: Rc<Self>) -> Rc<dyn Resumable>;
    /// The task now also waits on `promise`: canceling the task cancels it.
    fn awaits(self: Rc<Self>, promise: Weak<dyn Cancelable>);
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<dyn Running>>> = const { RefCell::new(None) };
}

struct TaskExtra<F> {
    future: RefCell<Option<Pin<Box<F>>>>,
    arc: Arc<TaskWaker>,
    waker: Waker,
    generation: Cell<usize>,
    /// The generation whose awaits the cancel links list.
    cancel_generation: Cell<usize>,
    polling: Cell<bool>,
    repoll: Cell<bool>,
    aborted: Cell<bool>,
    registered: Cell<bool>,
    ctx: Ctx,
}

impl<F: 'static> Extra for TaskExtra<F> {
    fn abort(&self) -> bool {
        self.aborted.set(true);
        self.generation.set(self.generation.get() + 1);
        let future = self.future.borrow_mut().take();
        drop(future);
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
        let guard = PollGuard { node: &self };
        let outcome = loop {
            x.generation.set(x.generation.get() + 1);
            let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
            let polled = {
                let _restore = storage::enter(&x.ctx);
                future.as_mut().poll(&mut Context::from_waker(&x.waker))
            };
            CURRENT.with(|c| *c.borrow_mut() = previous);
            match polled {
                Poll::Ready(result) => break Some(result),
                Poll::Pending if x.repoll.take() && !x.aborted.get() => continue,
                Poll::Pending => break None,
            }
        };
        std::mem::forget(guard);
        x.polling.set(false);
        match outcome {
            Some(result) => {
                drop(future);
                self.finish();
                let me: NodeRef<T> = self;
                settle(&me, result);
            }
            None if x.aborted.get() => drop(future),
            None => {
                *x.future.borrow_mut() = Some(future);
                if !x.registered.get() && Arc::strong_count(&x.arc) > 2 {
                    x.registered.set(true);
                    let weak: Weak<dyn Pollable> =
                        Rc::downgrade(&(self.clone() as Rc<dyn Pollable>));
                    wake::register(x.arc.id(), weak);
                }
            }
        }
    }

    /// The future is done: its waker's id can no longer poll it.
    fn finish(&self) {
        self.extra.unregister();
    }
}

impl<F> TaskExtra<F> {
    /// Forgets the waker's id in the registry of foreign wake-ups, once.
    fn unregister(&self) {
        if self.registered.replace(false) {
            wake::unregister(self.arc.id());
        }
    }
}

impl<F> Drop for TaskExtra<F> {
    fn drop(&mut self) {
        self.unregister();
        // Ours and the `Waker`'s: nobody else can wake this id any more.
        if Arc::strong_count(&self.arc) == 2 {
            wake::recycle(self.arc.clone());
        }
    }
}

/// If a task's future panics, the task is rejected (at the next resolution)
/// instead of staying pending forever.
struct PollGuard<'a, T: 'static, F: Future<Output = Result<T, Error>> + 'static> {
    node: &'a Rc<TaskNode<T, F>>,
}

impl<T: 'static, F: Future<Output = Result<T, Error>> + 'static> Drop for PollGuard<'_, T, F> {
    fn drop(&mut self) {
        let node = self.node.clone();
        node.extra.polling.set(false);
        CURRENT.with(|c| c.borrow_mut().take());
        defer(Box::new(move || {
            let me: NodeRef<T> = node;
            settle(&me, Err(Error::msg("the task panicked")));
        }));
    }
}

impl<T: 'static, F: Future<Output = Result<T, Error>> + 'static> Running for TaskNode<T, F> {
    fn waker(&self) -> &Waker {
        &self.extra.waker
    }

    fn generation(&self) -> usize {
        self.extra.generation.get()
    }

    fn as_resumable(self: Rc<Self>) -> Rc<dyn Resumable> {
        self
    }

    fn awaits(self: Rc<Self>, promise: Weak<dyn Cancelable>) {
        // The first await of a poll replaces the links of earlier polls
        // (those promises resolved, or the task would not have been polled;
        // a cancel walk stops at them anyway); later ones in the same poll add.
        let generation = self.extra.generation.get();
        let fresh = self.extra.cancel_generation.replace(generation) != generation;
        let me: NodeRef<T> = self;
        let node = underlying(&me);
        let Some(mut waiting) = node.core().waiting_mut() else {
            return;
        };
        let w = &mut *waiting;
        match &mut w.cancel {
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
            waker: Waker::from(arc.clone()),
            arc,
            generation: Cell::new(0),
            cancel_generation: Cell::new(0),
            polling: Cell::new(false),
            repoll: Cell::new(false),
            aborted: Cell::new(false),
            registered: Cell::new(false),
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
        if self.node.abort() {
            settle(&self.node, Err(Error::canceled()));
        } else {
            self.cancel();
        }
    }
}

impl<T: Clone + 'static> Future for Promise<T> {
    type Output = Result<T, Error>;

    /// Ready with a clone of the result once the promise is resolved.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let node = underlying(&self.node);
        if let Some(result) = value_of(&node) {
            return Poll::Ready(result.clone());
        }
        let running = CURRENT.with(|c| c.borrow().clone());
        match running {
            Some(task) if cx.waker().will_wake(task.waker()) => {
                let generation = task.generation();
                let weak: Weak<dyn NodeDyn<T>> = Rc::downgrade(&node);
                task.clone().awaits(weak);
                add_entry_underlying(node, Entry::Task(task.as_resumable(), generation));
            }
            _ => add_entry_underlying(node, Entry::Waker(cx.waker().clone())),
        }
        Poll::Pending
    }
}
