//! [`Mutex`]: a FIFO-fair lock for promise code (Lwt's `Lwt_mutex`).
//!
//! # Ground rules
//!
//! 1. The lock is *handed off*: [`Mutex::unlock`] with waiters gives the lock
//!    straight to the first live waiter, without ever being unlocked in
//!    between, so a newcomer cannot barge in (FIFO fairness).
//! 2. A waiter is a cancelable promise ([`crate::task`]). Canceling it removes
//!    it from the queue; a canceled waiter never gets the lock.
//! 3. The hand-off resolves the waiter with [`crate::Resolver::resolve_later`]
//!    after the borrow is dropped: a waiter that unlocks at once releases the
//!    next one in a loop, not a recursion.
//! 4. The lock has no owner: any code may unlock it, as in Lwt. Unlocking a
//!    mutex that is not locked is an error, not a panic.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use super::waitq::{enqueue, WaitQueue};
use crate::{Error, Promise};

#[derive(Default)]
struct State {
    locked: bool,
    waiters: WaitQueue<()>,
}

/// A lock for promise code, fair (first come, first served) and cancelable
/// (Lwt's `Lwt_mutex.t`). Cloning gives another handle to the same lock.
///
/// ```
/// let m = lwt::Mutex::new();
/// let first = m.lock();
/// assert!(first.is_fulfilled());
/// let second = m.lock();
/// assert!(second.is_pending());
/// m.unlock().unwrap(); // handed to `second`
/// assert!(second.is_fulfilled());
/// assert!(m.is_locked());
/// ```
#[derive(Clone, Default)]
pub struct Mutex {
    state: Rc<RefCell<State>>,
}

impl fmt::Debug for Mutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("Mutex")
            .field("locked", &s.locked)
            .field("waiters", &s.waiters.len())
            .finish()
    }
}

impl Mutex {
    /// An unlocked mutex (Lwt's `Lwt_mutex.create`).
    ///
    /// ```
    /// assert!(!lwt::Mutex::new().is_locked());
    /// ```
    pub fn new() -> Mutex {
        Mutex::default()
    }

    /// Locks the mutex: fulfilled at once if it is free and nobody waits,
    /// else when every earlier waiter has had it and this one is handed the
    /// lock (Lwt's `Lwt_mutex.lock`). Canceling the promise while it waits
    /// removes it from the line; it then never gets the lock.
    ///
    /// ```
    /// let m = lwt::Mutex::new();
    /// m.lock().peek().unwrap().unwrap();
    /// let waiting = m.lock();
    /// waiting.cancel();
    /// assert!(waiting.peek().unwrap().unwrap_err().is_canceled());
    /// m.unlock().unwrap();
    /// assert!(!m.is_locked()); // the canceled waiter did not get it
    /// ```
    pub fn lock(&self) -> Promise<()> {
        if self.try_lock() {
            return Promise::resolved(());
        }
        enqueue(&self.state, |s| &mut s.waiters, (), None)
    }

    /// Locks the mutex if it is free now; true if it did.
    ///
    /// ```
    /// let m = lwt::Mutex::new();
    /// assert!(m.try_lock());
    /// assert!(!m.try_lock());
    /// ```
    pub fn try_lock(&self) -> bool {
        let mut s = self.state.borrow_mut();
        if !s.locked && s.waiters.is_empty() {
            s.locked = true;
            true
        } else {
            false
        }
    }

    /// Unlocks the mutex, handing it to the first live waiter if there is one
    /// (Lwt's `Lwt_mutex.unlock`). An error if the mutex is not locked.
    ///
    /// ```
    /// let m = lwt::Mutex::new();
    /// assert!(m.unlock().unwrap_err().is_invalid_argument());
    /// ```
    pub fn unlock(&self) -> Result<(), Error> {
        let next = {
            let mut s = self.state.borrow_mut();
            if !s.locked {
                return Err(Error::invalid_argument(
                    "Mutex::unlock: the mutex is not locked",
                ));
            }
            let next = s.waiters.pop_live();
            if next.is_none() {
                s.locked = false;
            }
            next
        };
        if let Some(((), r)) = next {
            // Pending (checked by `pop_live`), and nothing ran since.
            let _ = r.resolve_later(Ok(()));
        }
        Ok(())
    }

    /// True while the mutex is locked (Lwt's `Lwt_mutex.is_locked`).
    ///
    /// ```
    /// let m = lwt::Mutex::new();
    /// let _held = m.lock();
    /// assert!(m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.state.borrow().locked
    }

    /// True when nobody waits for the lock (Lwt's `Lwt_mutex.is_empty`).
    ///
    /// ```
    /// let m = lwt::Mutex::new();
    /// let _a = m.lock();
    /// let _b = m.lock();
    /// assert!(!m.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.state.borrow().waiters.is_empty()
    }

    /// How many wait for the lock. A canceled waiter leaves the line at once.
    ///
    /// ```
    /// let m = lwt::Mutex::new();
    /// let _a = m.lock();
    /// let b = m.lock();
    /// assert_eq!(m.waiter_count(), 1);
    /// b.cancel();
    /// assert_eq!(m.waiter_count(), 0);
    /// ```
    pub fn waiter_count(&self) -> usize {
        self.state.borrow().waiters.held()
    }

    /// Locks, runs `f`, and unlocks when the promise `f` returns resolves,
    /// either way (Lwt's `Lwt_mutex.with_lock`). Canceling the result while
    /// it waits for the lock leaves the line; canceling it while `f`'s
    /// promise runs cancels that promise, and the lock is released when it
    /// resolves.
    ///
    /// ```
    /// let m = lwt::Mutex::new();
    /// let (gate, open) = lwt::task::<u8>();
    /// let a = m.with_lock(move || gate);
    /// let b = m.with_lock(|| lwt::Promise::resolved(2));
    /// assert!(b.is_pending()); // `a` holds the lock
    /// open.resolve(1).unwrap();
    /// assert_eq!(a.peek().unwrap().unwrap(), 1);
    /// assert_eq!(b.peek().unwrap().unwrap(), 2);
    /// assert!(!m.is_locked());
    /// ```
    pub fn with_lock<T: 'static>(&self, f: impl FnOnce() -> Promise<T> + 'static) -> Promise<T> {
        let m = self.clone();
        self.lock().bind(move |()| {
            f().finalize(move || {
                // We hold it, so this cannot fail.
                let _ = m.unlock();
                Promise::resolved(())
            })
        })
    }
}
