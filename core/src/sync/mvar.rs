//! [`MVar`]: a box that holds at most one value (Lwt's `Lwt_mvar`).
//!
//! # Ground rules
//!
//! 1. `put` waits while the box is full; `take` waits while it is empty. Both
//!    lines are FIFO, and a value goes from a `put` straight to a waiting
//!    `take` (the box never holds a value while a taker waits).
//! 2. Waiters are cancelable ([`crate::task`]) and leave their line when
//!    canceled. A canceled `put` never stores its value; a canceled `take`
//!    never receives one, so no value is lost: it stays for the next taker.
//! 3. State is changed under the borrow, the borrow is dropped, and only then
//!    are waiters resolved, with [`crate::Resolver::resolve_later`].

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use super::waitq::{enqueue, WaitQueue};
use crate::Promise;

struct State<T: 'static> {
    value: Option<T>,
    takers: WaitQueue<T>,
    putters: WaitQueue<(), T>,
}

/// A box holding at most one value, with waiting `put` and `take`
/// (Lwt's `Lwt_mvar.t`). Cloning gives another handle to the same box.
///
/// ```
/// let mv = lwt::MVar::new_empty();
/// let got = mv.take();
/// assert!(got.is_pending());
/// mv.put("hello").peek().unwrap().unwrap();
/// assert_eq!(got.peek().unwrap().unwrap(), "hello");
/// ```
pub struct MVar<T: 'static> {
    state: Rc<RefCell<State<T>>>,
}

impl<T: 'static> Clone for MVar<T> {
    fn clone(&self) -> Self {
        MVar {
            state: self.state.clone(),
        }
    }
}

impl<T: 'static> fmt::Debug for MVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("MVar")
            .field("full", &s.value.is_some())
            .field("takers", &s.takers.len())
            .field("putters", &s.putters.len())
            .finish()
    }
}

impl<T: 'static> MVar<T> {
    /// A box holding `value` (Lwt's `Lwt_mvar.create`).
    ///
    /// ```
    /// let mv = lwt::MVar::new(1);
    /// assert!(!mv.is_empty());
    /// ```
    pub fn new(value: T) -> MVar<T> {
        MVar::make(Some(value))
    }

    /// An empty box (Lwt's `Lwt_mvar.create_empty`).
    ///
    /// ```
    /// assert!(lwt::MVar::<u8>::new_empty().is_empty());
    /// ```
    pub fn new_empty() -> MVar<T> {
        MVar::make(None)
    }

    fn make(value: Option<T>) -> MVar<T> {
        MVar {
            state: Rc::new(RefCell::new(State {
                value,
                takers: WaitQueue::default(),
                putters: WaitQueue::default(),
            })),
        }
    }

    /// Puts `value` in the box: fulfilled at once if the box is empty (the
    /// value going straight to the first waiting taker, if any), else when
    /// the value was stored after the earlier puts (Lwt's `Lwt_mvar.put`).
    /// Canceling a waiting put withdraws its value.
    ///
    /// ```
    /// let mv = lwt::MVar::new(1);
    /// let second = mv.put(2);
    /// assert!(second.is_pending());
    /// assert_eq!(mv.take().peek().unwrap().unwrap(), 1);
    /// assert!(second.is_fulfilled()); // 2 is in the box now
    /// assert_eq!(mv.take_available(), Some(2));
    /// ```
    pub fn put(&self, value: T) -> Promise<()> {
        let taker = {
            let mut s = self.state.borrow_mut();
            if s.value.is_some() {
                None
            } else if let Some(((), taker)) = s.takers.pop_live() {
                Some(taker)
            } else {
                s.value = Some(value);
                return Promise::resolved(());
            }
        };
        match taker {
            Some(taker) => {
                let _ = taker.resolve_later(Ok(value));
                Promise::resolved(())
            }
            None => enqueue(&self.state, |s| &mut s.putters, value, None),
        }
    }

    /// Puts `value` if the box is empty now; gives it back otherwise.
    ///
    /// ```
    /// let mv = lwt::MVar::new(1);
    /// assert_eq!(mv.try_put(2), Err(2));
    /// ```
    pub fn try_put(&self, value: T) -> Result<(), T> {
        if self.state.borrow().value.is_some() {
            return Err(value);
        }
        let p = self.put(value);
        debug_assert!(p.is_fulfilled());
        Ok(())
    }

    /// Takes the value out of the box: fulfilled at once if the box is full,
    /// else with the next value put (Lwt's `Lwt_mvar.take`). Canceling a
    /// waiting take leaves the line; it never receives a value.
    ///
    /// ```
    /// let mv = lwt::MVar::new_empty();
    /// let a = mv.take();
    /// let b = mv.take();
    /// a.cancel();
    /// mv.put(7).peek().unwrap().unwrap();
    /// assert!(a.peek().unwrap().unwrap_err().is_canceled());
    /// assert_eq!(b.peek().unwrap().unwrap(), 7);
    /// ```
    pub fn take(&self) -> Promise<T> {
        match self.take_now() {
            Some(v) => Promise::resolved(v),
            None => enqueue(&self.state, |s| &mut s.takers, (), None),
        }
    }

    /// Takes the value if there is one now (Lwt's `Lwt_mvar.take_available`).
    ///
    /// ```
    /// let mv = lwt::MVar::new(3);
    /// assert_eq!(mv.take_available(), Some(3));
    /// assert_eq!(mv.take_available(), None);
    /// ```
    pub fn take_available(&self) -> Option<T> {
        self.take_now()
    }

    fn take_now(&self) -> Option<T> {
        let (value, putter) = {
            let mut s = self.state.borrow_mut();
            let value = s.value.take()?;
            let putter = match s.putters.pop_live() {
                Some((next, r)) => {
                    s.value = Some(next);
                    Some(r)
                }
                None => None,
            };
            (value, putter)
        };
        if let Some(r) = putter {
            let _ = r.resolve_later(Ok(()));
        }
        Some(value)
    }

    /// True when the box is empty (Lwt's `Lwt_mvar.is_empty`).
    ///
    /// ```
    /// let mv = lwt::MVar::new(());
    /// assert!(!mv.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.state.borrow().value.is_none()
    }

    /// How many takes wait for a value. A canceled take leaves at once.
    ///
    /// ```
    /// let mv = lwt::MVar::<u8>::new_empty();
    /// let t = mv.take();
    /// assert_eq!(mv.taker_count(), 1);
    /// t.cancel();
    /// assert_eq!(mv.taker_count(), 0);
    /// ```
    pub fn taker_count(&self) -> usize {
        self.state.borrow().takers.held()
    }

    /// How many puts wait for room. A canceled put leaves at once, and its
    /// value is dropped.
    ///
    /// ```
    /// let mv = lwt::MVar::new(0);
    /// let p = mv.put(1);
    /// assert_eq!(mv.putter_count(), 1);
    /// p.cancel();
    /// assert_eq!(mv.putter_count(), 0);
    /// ```
    pub fn putter_count(&self) -> usize {
        self.state.borrow().putters.held()
    }
}
