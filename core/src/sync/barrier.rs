//! [`Barrier`]: `n` parties wait until all have arrived (tokio's
//! `sync::Barrier`).
//!
//! # Ground rules
//!
//! 1. The parties that have arrived are the live waiters in the barrier's
//!    waiter queue: a canceled waiter leaves it and no longer counts.
//! 2. The `n`-th arrival is the leader: it is fulfilled at once, and it
//!    releases every waiter (with `resolve_later`, after the borrow is
//!    dropped). The barrier is then empty and ready for the next round.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use super::waitq::{enqueue, WaitQueue};
use crate::Promise;

struct State {
    parties: usize,
    generation: u64,
    waiters: WaitQueue<BarrierWaitResult>,
}

/// What [`Barrier::wait`] gives: whether this party was the leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierWaitResult {
    leader: bool,
}

impl BarrierWaitResult {
    /// True for exactly one party of each round: the last to arrive
    /// (tokio's `is_leader`).
    ///
    /// ```
    /// let b = lwt::Barrier::new(1);
    /// assert!(b.wait().peek().unwrap().unwrap().is_leader());
    /// ```
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

/// A barrier for `n` parties (tokio's `Barrier`): each [`Barrier::wait`]
/// waits until `n` have called it; the last one is the leader, and the
/// barrier is then reused for the next round. Cloning gives another handle
/// to the same barrier.
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// let barrier = lwt::Barrier::new(3);
/// let mut parties: Vec<_> = (0..2).map(|_| barrier.wait()).collect();
/// assert!(parties.iter().all(|p| p.is_pending()));
/// parties.push(barrier.wait()); // the third arrival releases the others
/// let leaders = parties
///     .iter()
///     .filter(|p| engine.run(p).unwrap().is_leader())
///     .count();
/// assert_eq!(leaders, 1);
/// ```
#[derive(Clone)]
pub struct Barrier {
    state: Rc<RefCell<State>>,
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("Barrier")
            .field("parties", &s.parties)
            .field("waiting", &s.waiters.len())
            .finish()
    }
}

impl Barrier {
    /// A barrier for `n` parties. `Barrier::new(0)` is a barrier for one, as
    /// in tokio: every wait is fulfilled at once, as the leader.
    ///
    /// ```
    /// let b = lwt::Barrier::new(0);
    /// assert!(b.wait().peek().unwrap().unwrap().is_leader());
    /// assert_eq!(b.parties(), 1);
    /// ```
    pub fn new(n: usize) -> Barrier {
        Barrier {
            state: Rc::new(RefCell::new(State {
                parties: n.max(1),
                generation: 0,
                waiters: WaitQueue::default(),
            })),
        }
    }

    /// Arrives at the barrier (tokio's `wait`): fulfilled when the last of
    /// the `n` parties arrives, the leader's at once. Canceling a waiting
    /// party takes it out of the count.
    ///
    /// ```
    /// let b = lwt::Barrier::new(2);
    /// let gone = b.wait();
    /// gone.cancel(); // no longer counts
    /// let first = b.wait();
    /// assert!(first.is_pending());
    /// let last = b.wait();
    /// assert!(last.peek().unwrap().unwrap().is_leader());
    /// ```
    pub fn wait(&self) -> Promise<BarrierWaitResult> {
        let released = {
            let mut s = self.state.borrow_mut();
            if s.waiters.len() + 1 < s.parties {
                None
            } else {
                s.generation += 1;
                Some(s.waiters.take_all())
            }
        };
        match released {
            None => enqueue(&self.state, |s| &mut s.waiters, (), None),
            Some(waiters) => {
                for ((), r) in waiters {
                    if r.is_pending() {
                        let _ = r.resolve_later(Ok(BarrierWaitResult { leader: false }));
                    }
                }
                Promise::resolved(BarrierWaitResult { leader: true })
            }
        }
    }

    /// How many parties each round needs.
    ///
    /// ```
    /// assert_eq!(lwt::Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.state.borrow().parties
    }

    /// How many parties wait in this round.
    ///
    /// ```
    /// let b = lwt::Barrier::new(3);
    /// let _a = b.wait();
    /// assert_eq!(b.waiting(), 1);
    /// ```
    pub fn waiting(&self) -> usize {
        self.state.borrow().waiters.len()
    }

    /// How many rounds have completed.
    ///
    /// ```
    /// let b = lwt::Barrier::new(1);
    /// let _ = b.wait();
    /// assert_eq!(b.rounds(), 1);
    /// ```
    pub fn rounds(&self) -> u64 {
        self.state.borrow().generation
    }
}
