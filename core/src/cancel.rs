//! Cancellation, Lwt's model.
//!
//! # Ground rules
//!
//! 1. Cancellation goes *backwards*. [`Promise::cancel`] walks from a promise
//!    to the promises it waits on, following each pending node's
//!    cancel link (`CancelTo`), and collects the *cancelable* ones it reaches: promises
//!    made by [`crate::task`], sleeps, I/O waits, paused promises, queue
//!    waiters. It then rejects each of those with [`Error::canceled`], in the
//!    order reached, and the rejection flows *forwards* as an ordinary
//!    rejection through the resolution loop.
//! 2. A promise made by [`crate::wait`] is not cancelable: the walk stops there.
//! 3. The walk is a loop over an explicit stack, so canceling the end of a
//!    chain of a million promises does not recurse a million deep.
//! 4. Backward links are `Weak`: a node that nothing can resolve any more is
//!    gone, and the walk skips it. When that node was cancelable (a `task`
//!    whose promise and resolver were both dropped), each promise still held
//!    that waited on it alone becomes the leaf in its place, so canceling it
//!    rejects it with [`Error::canceled`] and runs its `on_cancel` hooks, as
//!    in Lwt: `lwt::task::<()>().0.map(|()| ())` is cancelable. A dependent
//!    of a dropped `wait` stays uncancelable.
//! 5. Engine resources (a timer, an fd interest, a DOM listener) are released
//!    before the regular callbacks run: by `on_cancel` hooks, or, for a
//!    sleep, by the node itself (its timer is part of the node; when the
//!    sleep is folded into another promise, the release moves there as a
//!    hook).

use std::rc::{Rc, Weak};

use crate::error::Error;
use crate::promise::node::{underlying, CancelTo, Cancelable, Extra, Node, NodeRef, Step};
use crate::promise::resolve::{catch_to_hook, run_nested, settle};

/// Who panicked, in the message of a panic caught in an `on_cancel` hook.
const ON_CANCEL: &str = "an on_cancel hook";
use crate::promise::Promise;
use crate::sequential::{then_node, CancelVia, Next};

impl<T: 'static, X: Extra> Cancelable for Node<T, X> {
    fn step(self: Rc<Self>) -> Step {
        let me: NodeRef<T> = self;
        let node = underlying(&me);
        let Some(waiting) = node.core().waiting() else {
            return CancelTo::Nowhere;
        };
        match &waiting.cancel {
            CancelTo::Nowhere => CancelTo::Nowhere,
            CancelTo::This => CancelTo::This,
            CancelTo::Source(next) => next.upgrade().map_or(CancelTo::Nowhere, CancelTo::Source),
            CancelTo::Sources(next) => {
                CancelTo::Sources(next.iter().filter_map(Weak::upgrade).collect())
            }
        }
    }

    fn reject_canceled(self: Rc<Self>) {
        // A folded node's extra gave its hook away ([`fold_into`]), so this
        // releases nothing twice.
        self.extra.canceled();
        let me: NodeRef<T> = self;
        // Already resolved: nothing to cancel, and not an error.
        settle(&me, Err(Error::canceled()));
    }
}

/// Cancels whatever `start` waits on; see the module docs. A walk along a
/// chain (the usual case) allocates nothing.
pub(crate) fn cancel_from(start: Rc<dyn Cancelable>) {
    let mut todo: Vec<Rc<dyn Cancelable>> = Vec::new();
    let mut first_leaf = None;
    let mut more_leaves = Vec::new();
    let mut next = Some(start);
    while let Some(node) = next.take().or_else(|| todo.pop()) {
        // A leaf is rejected through the handle the walk reached it by;
        // rejecting goes to the underlying node, as `step` read it.
        match node.clone().step() {
            CancelTo::Nowhere => {}
            CancelTo::This if first_leaf.is_none() => first_leaf = Some(node),
            CancelTo::This => more_leaves.push(node),
            CancelTo::Source(n) => next = Some(n),
            CancelTo::Sources(v) => todo.extend(v.into_iter().rev()),
        }
    }
    for leaf in first_leaf.into_iter().chain(more_leaves) {
        leaf.reject_canceled();
    }
}

impl<T: 'static> Promise<T> {
    /// Cancels the promise (Lwt's `Lwt.cancel`): rejects with
    /// [`Error::canceled`] the cancelable promises it is waiting on, and the
    /// rejection flows back to this one. Does nothing to a resolved promise or
    /// to one that waits only on promises from [`crate::wait`].
    ///
    /// ```
    /// let (p, _r) = lwt::task::<u32>();
    /// let q = p.bind(|x| lwt::Promise::resolved(x + 1)).map(|x| x * 2);
    /// q.cancel();
    /// assert!(p.peek().unwrap().unwrap_err().is_canceled());
    /// assert!(q.peek().unwrap().unwrap_err().is_canceled());
    /// ```
    pub fn cancel(&self) {
        if self.is_inline() {
            return; // resolved: nothing to cancel
        }
        cancel_from(self.node().clone());
    }

    /// Registers `f` to run if the promise is rejected with `Canceled`, before
    /// its regular callbacks (Lwt's `on_cancel`). Runs `f` at once if the
    /// promise is already canceled, and never if it resolves otherwise. If
    /// `f` panics (natively), the panic goes to the async-exception hook
    /// ([`crate::set_async_exception_hook`]) and the cancellation goes on.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// let released = Rc::new(Cell::new(false));
    /// let (p, _r) = lwt::task::<()>();
    /// let flag = released.clone();
    /// p.on_cancel(move || flag.set(true));
    /// p.cancel();
    /// assert!(released.get());
    /// ```
    pub fn on_cancel(&self, f: impl FnOnce() + 'static) {
        let node = underlying(self.node());
        {
            if let Some(mut w) = node.core().waiting_mut() {
                let ctx = crate::storage::capture();
                if ctx.is_none() {
                    w.on_cancel
                        .push(Box::new(move || catch_to_hook(ON_CANCEL, f)));
                } else {
                    w.on_cancel.push(Box::new(move || {
                        let _restore = crate::storage::enter(&ctx);
                        catch_to_hook(ON_CANCEL, f)
                    }));
                }
                return;
            }
        }
        if matches!(node.core().value.get(), Some(Err(e)) if e.is_canceled()) {
            run_nested(move || catch_to_hook(ON_CANCEL, f));
        }
    }
}

/// A promise that follows `p` but whose cancellation does not reach `p`:
/// canceling the result rejects only the result (Lwt's `Lwt.protected`).
///
/// ```
/// let (p, r) = lwt::task::<u8>();
/// let guarded = lwt::protected(&p);
/// guarded.cancel();
/// assert!(guarded.peek().unwrap().unwrap_err().is_canceled());
/// assert!(p.is_pending()); // untouched
/// r.resolve(1).unwrap();
/// ```
pub fn protected<T: 'static>(p: &Promise<T>) -> Promise<T> {
    then_node(p, CancelVia::This, |source, _| Next::Follow(source.clone()))
}

/// A promise that follows `p` and cannot be canceled at all
/// (Lwt's `Lwt.no_cancel`).
///
/// ```
/// let (p, _r) = lwt::task::<u8>();
/// let shielded = lwt::no_cancel(&p);
/// shielded.cancel();
/// assert!(shielded.is_pending());
/// assert!(p.is_pending());
/// ```
pub fn no_cancel<T: 'static>(p: &Promise<T>) -> Promise<T> {
    then_node(p, CancelVia::Nowhere, |source, _| {
        Next::Follow(source.clone())
    })
}

/// A cancelable promise that follows `p`: canceling it rejects it at once,
/// even when `p` is not cancelable, and also cancels `p`
/// (Lwt's `Lwt.wrap_in_cancelable`).
///
/// ```
/// let (p, _r) = lwt::wait::<u8>(); // not cancelable
/// let c = lwt::wrap_in_cancelable(&p);
/// c.cancel();
/// assert!(c.peek().unwrap().unwrap_err().is_canceled());
/// assert!(p.is_pending());
/// ```
pub fn wrap_in_cancelable<T: 'static>(p: &Promise<T>) -> Promise<T> {
    let wrapped = protected(p);
    let inner = p.clone();
    wrapped.on_cancel(move || inner.cancel());
    wrapped
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use crate::Promise;

    fn canceled<T: Clone + 'static>(p: &Promise<T>) -> bool {
        matches!(p.peek(), Some(Err(e)) if e.is_canceled())
    }

    #[test]
    fn cancel_reaches_a_dependent_of_a_freed_task() {
        let p = crate::task::<()>().0.map(|()| ());
        let hook = Rc::new(Cell::new(false));
        let h = hook.clone();
        p.on_cancel(move || h.set(true));
        p.cancel();
        assert!(canceled(&p));
        assert!(hook.get());
    }

    #[test]
    fn cancel_reaches_the_end_of_a_freed_chain() {
        let p = crate::task::<u8>()
            .0
            .map(|x| x + 1)
            .bind(|x| Promise::resolved(x * 2))
            .catch(Promise::rejected);
        p.cancel();
        assert!(canceled(&p));
    }

    #[test]
    fn a_dependent_of_a_freed_wait_stays_uncancelable() {
        let p = crate::wait::<()>().0.map(|()| ());
        p.cancel();
        assert!(p.is_pending());
        let q = crate::no_cancel(&crate::task::<()>().0).map(|()| ());
        q.cancel();
        assert!(q.is_pending());
    }

    #[test]
    fn a_dependent_of_a_live_task_cancels_the_task() {
        let (t, _r) = crate::task::<()>();
        let p = t.clone().map(|()| ());
        p.cancel();
        assert!(canceled(&t));
        assert!(canceled(&p));
    }
}
