//! [`Condition`]: wait for a notification, optionally under a [`Mutex`]
//! (Lwt's `Lwt_condition`).
//!
//! # Ground rules
//!
//! 1. A condition has no memory: `signal` and `broadcast` wake those waiting
//!    *now* and are lost if nobody waits.
//! 2. Waiters are FIFO and cancelable; a canceled waiter leaves the line and
//!    does not use up a `signal`.
//! 3. `wait` with a mutex unlocks it while waiting and locks it again before
//!    the result resolves, whether the wait was fulfilled, rejected by
//!    [`Condition::broadcast_error`], or canceled (Lwt's behaviour): the
//!    caller holds the mutex again in every case.
//! 4. Waiters are woken after the borrow is dropped, with
//!    [`crate::Resolver::resolve_later`].

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use super::waitq::{enqueue, WaitQueue};
use crate::{Error, Mutex, Promise};

struct State<T: 'static> {
    waiters: WaitQueue<T>,
}

/// A condition variable carrying a value of type `T` to those it wakes
/// (Lwt's `'a Lwt_condition.t`). Cloning gives another handle to the same
/// condition.
///
/// ```
/// let c = lwt::Condition::new();
/// let w = c.wait(None);
/// c.signal(5);
/// assert_eq!(w.peek().unwrap().unwrap(), 5);
/// ```
pub struct Condition<T: 'static> {
    state: Rc<RefCell<State<T>>>,
}

impl<T: 'static> Clone for Condition<T> {
    fn clone(&self) -> Self {
        Condition {
            state: self.state.clone(),
        }
    }
}

impl<T: 'static> Default for Condition<T> {
    fn default() -> Self {
        Condition::new()
    }
}

impl<T: 'static> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.state.borrow().waiters.len())
            .finish()
    }
}

impl<T: 'static> Condition<T> {
    /// A condition nobody waits on (Lwt's `Lwt_condition.create`).
    ///
    /// ```
    /// let c = lwt::Condition::<()>::new();
    /// assert_eq!(c.waiter_count(), 0);
    /// ```
    pub fn new() -> Condition<T> {
        Condition {
            state: Rc::new(RefCell::new(State {
                waiters: WaitQueue::default(),
            })),
        }
    }

    /// Waits for the next [`signal`](Condition::signal) or
    /// [`broadcast`](Condition::broadcast) (Lwt's `Lwt_condition.wait`).
    ///
    /// With `Some(mutex)`, which the caller must hold, the mutex is unlocked
    /// while waiting and locked again before the result resolves, whichever
    /// way it resolves. If the mutex is not locked the result is rejected
    /// with an invalid-argument error.
    ///
    /// ```
    /// let m = lwt::Mutex::new();
    /// let c = lwt::Condition::new();
    /// m.lock().peek().unwrap().unwrap();
    /// let w = c.wait(Some(&m));
    /// assert!(!m.is_locked()); // released while waiting
    /// c.signal("go");
    /// assert_eq!(w.peek().unwrap().unwrap(), "go");
    /// assert!(m.is_locked()); // held again
    /// ```
    pub fn wait(&self, mutex: Option<&Mutex>) -> Promise<T> {
        match mutex {
            None => enqueue(&self.state, |s| &mut s.waiters, (), None),
            Some(m) => {
                if !m.is_locked() {
                    return Promise::rejected(Error::invalid_argument(
                        "Condition::wait: the mutex must be locked by the caller",
                    ));
                }
                let w = enqueue(&self.state, |s| &mut s.waiters, (), None);
                let _ = m.unlock();
                let m = m.clone();
                w.finalize(move || m.lock())
            }
        }
    }

    /// Wakes the first waiter with `value`, if anyone waits
    /// (Lwt's `Lwt_condition.signal`).
    ///
    /// ```
    /// let c = lwt::Condition::new();
    /// let a = c.wait(None);
    /// let b = c.wait(None);
    /// c.signal(1);
    /// assert!(a.is_fulfilled());
    /// assert!(b.is_pending());
    /// ```
    pub fn signal(&self, value: T) {
        let w = self.state.borrow_mut().waiters.pop_live();
        if let Some(((), r)) = w {
            let _ = r.resolve_later(Ok(value));
        }
    }

    /// Wakes every waiter with a copy of `value`
    /// (Lwt's `Lwt_condition.broadcast`). Those who start waiting during the
    /// broadcast wait for the next one.
    ///
    /// ```
    /// let c = lwt::Condition::new();
    /// let ws: Vec<_> = (0..3).map(|_| c.wait(None)).collect();
    /// c.broadcast(9);
    /// assert!(ws.iter().all(|w| w.peek().unwrap().unwrap() == 9));
    /// ```
    pub fn broadcast(&self, value: T)
    where
        T: Clone,
    {
        let all = self.state.borrow_mut().waiters.take_all();
        for ((), r) in all {
            if r.is_pending() {
                let _ = r.resolve_later(Ok(value.clone()));
            }
        }
    }

    /// Rejects every waiter with `error`
    /// (Lwt's `Lwt_condition.broadcast_exn`).
    ///
    /// ```
    /// let c = lwt::Condition::<u8>::new();
    /// let w = c.wait(None);
    /// c.broadcast_error(lwt::Error::msg("shutting down"));
    /// assert_eq!(w.peek().unwrap().unwrap_err().message(), "shutting down");
    /// ```
    pub fn broadcast_error(&self, error: Error) {
        let all = self.state.borrow_mut().waiters.take_all();
        for ((), r) in all {
            if r.is_pending() {
                let _ = r.resolve_later(Err(error.clone()));
            }
        }
    }

    /// How many wait.
    ///
    /// ```
    /// let c = lwt::Condition::<()>::new();
    /// let w = c.wait(None);
    /// assert_eq!(c.waiter_count(), 1);
    /// w.cancel();
    /// assert_eq!(c.waiter_count(), 0);
    /// ```
    pub fn waiter_count(&self) -> usize {
        self.state.borrow().waiters.held()
    }
}
