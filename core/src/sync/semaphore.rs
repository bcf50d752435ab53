//! [`Semaphore`]: counted permits, with the API tokio users expect.
//!
//! # Ground rules
//!
//! 1. Waiters are served strictly in order (FIFO): a waiter that wants more
//!    permits than are free blocks those behind it, even if they want fewer,
//!    as in tokio. So a large request is never starved.
//! 2. A waiter is a cancelable promise; canceled (or, for the [`Acquire`]
//!    future, dropped) it leaves the line, and the line is served again,
//!    since the one that left may have been blocking the others.
//! 3. Permits granted to a waiter are counted as taken the moment it is
//!    chosen; an [`Acquire`] future dropped after that gives them back. No
//!    permit is ever lost or counted twice.
//! 4. Waiters are resolved after the borrow is dropped, with
//!    [`crate::Resolver::resolve_later`].

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waitq::{enqueue, WaitQueue};
use crate::{Error, Promise, Resolver};

struct State {
    permits: usize,
    closed: bool,
    waiters: WaitQueue<(), usize>,
}

/// A counting semaphore for promise code. Cloning gives another handle to
/// the same semaphore.
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// let sem = lwt::Semaphore::new(2);
/// let s = sem.clone();
/// let r = engine.block_on(async move {
///     let _a = s.acquire().await?;
///     let _b = s.acquire().await?;
///     assert_eq!(s.available_permits(), 0);
///     Ok(())
/// });
/// r.unwrap();
/// assert_eq!(sem.available_permits(), 2); // the permits were dropped
/// ```
#[derive(Clone)]
pub struct Semaphore {
    state: Rc<RefCell<State>>,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("Semaphore")
            .field("permits", &s.permits)
            .field("closed", &s.closed)
            .field("waiters", &s.waiters.len())
            .finish()
    }
}

fn serve(state: &Rc<RefCell<State>>) {
    let mut granted: Vec<Resolver<()>> = Vec::new();
    {
        let mut s = state.borrow_mut();
        while let Some(&n) = s.waiters.front() {
            if n > s.permits {
                break;
            }
            if let Some((n, r)) = s.waiters.pop_live() {
                s.permits -= n;
                granted.push(r);
            }
        }
    }
    for r in granted {
        let _ = r.resolve_later(Ok(()));
    }
}

impl Semaphore {
    /// `p`, giving one permit back once `p` is resolved, either way: how
    /// bounded-concurrency helpers (`list::*_n`, the `Stream` transforms)
    /// make room.
    pub(crate) fn release_after<X: 'static>(&self, p: Promise<X>) -> Promise<X> {
        let s = self.clone();
        p.finalize(move || {
            s.add_permits(1);
            Promise::resolved(())
        })
    }

    /// A semaphore with `permits` permits.
    ///
    /// ```
    /// assert_eq!(lwt::Semaphore::new(3).available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: Rc::new(RefCell::new(State {
                permits,
                closed: false,
                waiters: WaitQueue::default(),
            })),
        }
    }

    /// Free permits now.
    ///
    /// ```
    /// let sem = lwt::Semaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.borrow().permits
    }

    /// Adds `n` permits, serving waiters in order (tokio's `add_permits`;
    /// the way to give back permits taken with
    /// [`Semaphore::acquire_promise`]).
    ///
    /// ```
    /// let sem = lwt::Semaphore::new(0);
    /// let w = sem.acquire_promise(2);
    /// sem.add_permits(1);
    /// assert!(w.is_pending());
    /// sem.add_permits(1);
    /// assert!(w.is_fulfilled());
    /// ```
    pub fn add_permits(&self, n: usize) {
        {
            let mut s = self.state.borrow_mut();
            s.permits = s.permits.saturating_add(n);
        }
        serve(&self.state);
    }

    /// Takes `n` permits, waiting in line for them; they are not given back
    /// automatically: give them back with [`Semaphore::add_permits`] (Lwt
    /// style). Rejected with a closed error if the semaphore is closed.
    /// Canceling the promise while it waits leaves the line.
    ///
    /// ```
    /// let sem = lwt::Semaphore::new(1);
    /// let a = sem.acquire_promise(1);
    /// let b = sem.acquire_promise(1);
    /// assert!(a.is_fulfilled() && b.is_pending());
    /// b.cancel();
    /// sem.add_permits(1);
    /// assert_eq!(sem.available_permits(), 1); // `b` did not take it
    /// ```
    pub fn acquire_promise(&self, n: usize) -> Promise<()> {
        {
            let mut s = self.state.borrow_mut();
            if s.closed {
                return Promise::rejected(Error::closed("Semaphore: the semaphore is closed"));
            }
            if s.waiters.is_empty() && n <= s.permits {
                s.permits -= n;
                return Promise::resolved(());
            }
        }
        enqueue(&self.state, |s| &mut s.waiters, n, Some(serve))
    }

    /// Waits for one permit, given back when the [`Permit`] is dropped
    /// (tokio's `acquire`). Dropping the future before it is ready leaves
    /// the line.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let sem = lwt::Semaphore::new(1);
    /// let s = sem.clone();
    /// let n = engine.block_on(async move {
    ///     let permit = s.acquire().await?;
    ///     Ok(permit.num_permits())
    /// });
    /// assert_eq!(n.unwrap(), 1);
    /// ```
    pub fn acquire(&self) -> Acquire {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once (tokio's `acquire_many`).
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let sem = lwt::Semaphore::new(3);
    /// let s = sem.clone();
    /// engine.block_on(async move {
    ///     let _p = s.acquire_many(3).await?;
    ///     assert_eq!(s.available_permits(), 0);
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire {
        Acquire {
            promise: self.acquire_promise(n),
            sem: self.clone(),
            n,
            done: false,
        }
    }

    /// One permit if it is free now and nobody waits (tokio's
    /// `try_acquire`); else an error saying why.
    ///
    /// ```
    /// let sem = lwt::Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// drop(p);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<Permit, Error> {
        self.try_acquire_many(1)
    }

    /// `n` permits if they are free now and nobody waits.
    ///
    /// ```
    /// let sem = lwt::Semaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<Permit, Error> {
        let mut s = self.state.borrow_mut();
        if s.closed {
            return Err(Error::closed("Semaphore: the semaphore is closed"));
        }
        if !s.waiters.is_empty() || n > s.permits {
            return Err(Error::msg("Semaphore: no permits available"));
        }
        s.permits -= n;
        Ok(Permit {
            sem: Some(self.clone()),
            n,
        })
    }

    /// Closes the semaphore: every waiter is rejected with a closed error,
    /// and so is every later acquire. Permits held stay valid.
    ///
    /// ```
    /// let sem = lwt::Semaphore::new(0);
    /// let w = sem.acquire_promise(1);
    /// sem.close();
    /// assert!(w.peek().unwrap().unwrap_err().is_closed());
    /// assert!(sem.is_closed());
    /// ```
    pub fn close(&self) {
        let all = {
            let mut s = self.state.borrow_mut();
            s.closed = true;
            s.waiters.take_all()
        };
        for (_, r) in all {
            if r.is_pending() {
                let _ = r.resolve_later(Err(Error::closed("Semaphore: the semaphore is closed")));
            }
        }
    }

    /// True once [`Semaphore::close`] was called.
    ///
    /// ```
    /// assert!(!lwt::Semaphore::new(1).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    /// How many wait for permits. A canceled waiter leaves at once.
    ///
    /// ```
    /// let sem = lwt::Semaphore::new(0);
    /// let w = sem.acquire_promise(1);
    /// assert_eq!(sem.waiter_count(), 1);
    /// w.cancel();
    /// assert_eq!(sem.waiter_count(), 0);
    /// ```
    pub fn waiter_count(&self) -> usize {
        self.state.borrow().waiters.held()
    }
}

/// Permits from a [`Semaphore`], given back when dropped.
///
/// ```
/// let sem = lwt::Semaphore::new(1);
/// {
///     let _p = sem.try_acquire().unwrap();
///     assert_eq!(sem.available_permits(), 0);
/// }
/// assert_eq!(sem.available_permits(), 1);
/// ```
pub struct Permit {
    sem: Option<Semaphore>,
    n: usize,
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("n", &self.n).finish()
    }
}

impl Permit {
    /// How many permits this holds.
    ///
    /// ```
    /// let sem = lwt::Semaphore::new(4);
    /// assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Keeps the permits taken for good (tokio's `forget`).
    ///
    /// ```
    /// let sem = lwt::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.sem = None;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(sem) = self.sem.take() {
            sem.add_permits(self.n);
        }
    }
}

/// The future of [`Semaphore::acquire`]: ready with a [`Permit`], or with a
/// closed error (or canceled, if its promise was canceled).
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// let sem = lwt::Semaphore::new(0);
/// let s = sem.clone();
/// let t = lwt::spawn(async move { s.acquire().await.map(|p| p.num_permits()) });
/// assert!(t.is_pending());
/// sem.add_permits(1);
/// assert_eq!(engine.run(&t).unwrap(), 1);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire {
    promise: Promise<()>,
    sem: Semaphore,
    n: usize,
    done: bool,
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire").field("n", &self.n).finish()
    }
}

impl Acquire {
    /// The promise underneath, for code that prefers promises. The permits
    /// are then yours to give back with [`Semaphore::add_permits`].
    ///
    /// ```
    /// let sem = lwt::Semaphore::new(1);
    /// let p = sem.acquire().into_promise();
    /// assert!(p.is_fulfilled());
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn into_promise(mut self) -> Promise<()> {
        self.done = true;
        self.promise.clone()
    }
}

impl Future for Acquire {
    type Output = Result<Permit, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.promise).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                self.done = true;
                Poll::Ready(r.map(|()| Permit {
                    sem: Some(self.sem.clone()),
                    n: self.n,
                }))
            }
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.promise.is_fulfilled() {
            self.sem.add_permits(self.n);
        } else {
            self.promise.cancel();
        }
    }
}
