//! The FIFO queue of cancelable waiters every primitive in this crate's
//! concurrency library is built on.
//!
//! # Ground rules
//!
//! 1. A waiter is a promise made by [`crate::task`], so it is cancelable, and
//!    its [`Resolver`] sits in a [`WaitQueue`], with an optional payload (the
//!    value a blocked `put` wants to store, the permits an `acquire` wants).
//! 2. A canceled waiter leaves its queue: its `on_cancel` hook removes every
//!    entry whose promise is no longer pending. The hook holds the queue's
//!    owner weakly, so no `Rc` cycle is made.
//! 3. [`WaitQueue::pop_live`] never returns a waiter that is resolved
//!    already (canceled, say, with its hook not run yet): so an element is
//!    handed only to a waiter that will really receive it, and none is lost.
//! 4. Callers pop under their `RefCell` borrow, *drop the borrow*, and only
//!    then resolve, with [`Resolver::resolve_later`]: resolving runs user
//!    callbacks, which may come straight back to the same queue. Resolving
//!    "later" also means that releasing a long line of waiters, each of which
//!    releases the next, is a loop and not a recursion.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::{task, Promise, Resolver};

/// A FIFO of waiters, each with a payload `X`.
pub(crate) struct WaitQueue<T: 'static, X = ()> {
    q: VecDeque<(X, Resolver<T>)>,
}

impl<T: 'static, X> Default for WaitQueue<T, X> {
    fn default() -> Self {
        WaitQueue { q: VecDeque::new() }
    }
}

impl<T: 'static, X> WaitQueue<T, X> {
    /// Live waiters (canceled ones leave at once, see the ground rules).
    pub(crate) fn len(&self) -> usize {
        self.q.iter().filter(|(_, r)| r.is_pending()).count()
    }

    /// Every entry the queue holds, live or not: what the primitives report
    /// as their waiter counts. Equal to [`WaitQueue::len`] because canceled
    /// waiters leave at once (ground rule 2); counting what is held, not
    /// what is live, is what lets a test see a canceled waiter that stayed.
    pub(crate) fn held(&self) -> usize {
        self.q.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.q.iter().all(|(_, r)| !r.is_pending())
    }

    /// The first live waiter's payload.
    pub(crate) fn front(&self) -> Option<&X> {
        self.q.iter().find(|(_, r)| r.is_pending()).map(|(x, _)| x)
    }

    /// Removes and returns the first waiter still pending. Resolved
    /// (canceled) ones before it stay for their `prune` hook, which drops
    /// their payloads (user values) outside the borrow.
    pub(crate) fn pop_live(&mut self) -> Option<(X, Resolver<T>)> {
        let i = self.q.iter().position(|(_, r)| r.is_pending())?;
        self.q.remove(i)
    }

    /// Removes every waiter that is no longer pending, and returns them so
    /// the caller drops them after its borrow ends.
    pub(crate) fn prune(&mut self) -> Vec<(X, Resolver<T>)> {
        let mut removed = Vec::new();
        let mut kept = VecDeque::with_capacity(self.q.len());
        for (x, r) in self.q.drain(..) {
            if r.is_pending() {
                kept.push_back((x, r));
            } else {
                removed.push((x, r));
            }
        }
        self.q = kept;
        removed
    }

    /// Removes all waiters, live or not.
    pub(crate) fn take_all(&mut self) -> VecDeque<(X, Resolver<T>)> {
        std::mem::take(&mut self.q)
    }

    pub(crate) fn push(&mut self, x: X, r: Resolver<T>) {
        self.q.push_back((x, r));
    }
}

/// Adds a cancelable waiter with payload `x` to the queue `field` of `owner`.
/// When the waiter is canceled it leaves the queue, and then `after_cancel`
/// runs (with no borrow held), for primitives where a departure can unblock
/// others (a semaphore whose head waiter wanted many permits).
pub(crate) fn enqueue<S: 'static, T: 'static, X: 'static>(
    owner: &Rc<RefCell<S>>,
    field: fn(&mut S) -> &mut WaitQueue<T, X>,
    x: X,
    after_cancel: Option<fn(&Rc<RefCell<S>>)>,
) -> Promise<T> {
    let (p, r) = task();
    field(&mut owner.borrow_mut()).push(x, r);
    let weak = Rc::downgrade(owner);
    p.on_cancel(move || {
        if let Some(owner) = weak.upgrade() {
            let removed = field(&mut owner.borrow_mut()).prune();
            drop(removed);
            if let Some(f) = after_cancel {
                f(&owner);
            }
        }
    });
    p
}
