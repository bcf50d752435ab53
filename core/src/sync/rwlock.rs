//! [`RwLock`]: many readers or one writer, served in order (tokio's
//! `sync::RwLock`).
//!
//! # Ground rules
//!
//! 1. FIFO fairness: a caller is granted at once only if the lock is free
//!    for it *and nobody waits*. Waiters are served from the front: a
//!    writer when nobody holds the lock, or the run of readers before the
//!    next writer. So a stream of readers never starves a writer.
//! 2. Waiters sit in the waiter queue with their kind; a canceled waiter
//!    leaves it, and the queue is served again (a writer that left may have
//!    been holding readers back).
//! 3. A grant is counted when it is made. A waiting future dropped after
//!    its grant gives it back, so nothing is lost or counted twice.
//! 4. The data is in a `RefCell`; the lock's own counts make its borrows
//!    never conflict, and a guard releases its borrow before the lock.

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use super::waitq::{enqueue, WaitQueue};
use crate::{Error, Promise, Resolver};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

#[derive(Default)]
struct State {
    readers: usize,
    writer: bool,
    waiters: WaitQueue<(), Kind>,
}

fn serve(state: &Rc<RefCell<State>>) {
    let mut granted: Vec<Resolver<()>> = Vec::new();
    {
        let mut s = state.borrow_mut();
        while let Some(&kind) = s.waiters.front() {
            if s.writer || (kind == Kind::Write && s.readers > 0) {
                break;
            }
            let Some((kind, r)) = s.waiters.pop_live() else {
                break;
            };
            granted.push(r);
            match kind {
                Kind::Read => s.readers += 1,
                Kind::Write => {
                    s.writer = true;
                    break;
                }
            }
        }
    }
    for r in granted {
        let _ = r.resolve_later(Ok(()));
    }
}

fn release(state: &Rc<RefCell<State>>, kind: Kind) {
    {
        let mut s = state.borrow_mut();
        match kind {
            Kind::Read => s.readers = s.readers.saturating_sub(1),
            Kind::Write => s.writer = false,
        }
    }
    serve(state);
}

/// A reader-writer lock for promise code (tokio's `RwLock`): any number of
/// readers, or one writer, granted first come, first served.
///
/// Re-entrancy: a task that holds a guard and asks for a conflicting one
/// (`write` while it reads, or anything while it writes) waits for itself
/// and never gets it; the wait is cancelable, and
/// [`RwLock::try_write`]/[`RwLock::try_read`] answer at once with an error
/// instead. Nothing panics.
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// let lock = std::rc::Rc::new(lwt::RwLock::new(vec![1]));
/// let l = lock.clone();
/// let r = engine.block_on(async move {
///     {
///         let (a, b) = (l.read().await?, l.read().await?); // readers share
///         assert_eq!(a.len() + b.len(), 2);
///     }
///     l.write().await?.push(2);
///     Ok(l.read().await?.clone())
/// });
/// assert_eq!(r.unwrap(), [1, 2]);
/// ```
pub struct RwLock<T> {
    state: Rc<RefCell<State>>,
    data: RefCell<T>,
}

impl<T> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("RwLock")
            .field("readers", &s.readers)
            .field("writer", &s.writer)
            .field("waiters", &s.waiters.len())
            .finish()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

/// A wait for a grant; dropped after the grant, it gives it back.
struct Waiting<'a> {
    state: &'a Rc<RefCell<State>>,
    promise: Promise<()>,
    kind: Kind,
    armed: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if self.promise.is_fulfilled() {
            release(self.state, self.kind);
        } else {
            self.promise.cancel();
        }
    }
}

impl<T> RwLock<T> {
    /// A lock around `value`.
    ///
    /// ```
    /// let lock = lwt::RwLock::new(0);
    /// assert_eq!(*lock.try_read().unwrap(), 0);
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            state: Rc::default(),
            data: RefCell::new(value),
        }
    }

    /// Takes the grant now if it is free and nobody waits.
    fn try_grant(&self, kind: Kind) -> bool {
        let mut s = self.state.borrow_mut();
        if s.writer || !s.waiters.is_empty() {
            return false;
        }
        match kind {
            Kind::Read => s.readers += 1,
            Kind::Write if s.readers == 0 => s.writer = true,
            Kind::Write => return false,
        }
        true
    }

    async fn grant(&self, kind: Kind) -> Result<(), Error> {
        if self.try_grant(kind) {
            return Ok(());
        }
        let promise = enqueue(&self.state, |s| &mut s.waiters, kind, Some(serve));
        let mut waiting = Waiting {
            state: &self.state,
            promise: promise.clone(),
            kind,
            armed: true,
        };
        let r = promise.await;
        waiting.armed = false;
        r
    }

    fn read_guard(&self) -> Result<RwLockReadGuard<'_, T>, Error> {
        match self.data.try_borrow() {
            Ok(data) => Ok(RwLockReadGuard {
                lock: self,
                data: Some(data),
            }),
            Err(_) => {
                release(&self.state, Kind::Read);
                Err(Error::msg("RwLock: the data is borrowed elsewhere"))
            }
        }
    }

    fn write_guard(&self) -> Result<RwLockWriteGuard<'_, T>, Error> {
        match self.data.try_borrow_mut() {
            Ok(data) => Ok(RwLockWriteGuard {
                lock: self,
                data: Some(data),
            }),
            Err(_) => {
                release(&self.state, Kind::Write);
                Err(Error::msg("RwLock: the data is borrowed elsewhere"))
            }
        }
    }

    /// Waits for shared access (tokio's `read`): at once if no writer holds
    /// or waits for the lock, else in line. Canceling the waiting task (or
    /// dropping the future) leaves the line.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let lock = lwt::RwLock::new("data");
    /// let n = engine.block_on(async move { Ok(lock.read().await?.len()) });
    /// assert_eq!(n.unwrap(), 4);
    /// ```
    pub async fn read(&self) -> Result<RwLockReadGuard<'_, T>, Error> {
        self.grant(Kind::Read).await?;
        self.read_guard()
    }

    /// Waits for exclusive access (tokio's `write`): once every earlier
    /// reader and writer is done. Canceling the wait leaves the line.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let lock = lwt::RwLock::new(1);
    /// let v = engine.block_on(async move {
    ///     *lock.write().await? += 1;
    ///     Ok(*lock.read().await?)
    /// });
    /// assert_eq!(v.unwrap(), 2);
    /// ```
    pub async fn write(&self) -> Result<RwLockWriteGuard<'_, T>, Error> {
        self.grant(Kind::Write).await?;
        self.write_guard()
    }

    /// Shared access now, or an error if a writer holds or waits for it.
    ///
    /// ```
    /// let lock = lwt::RwLock::new(0);
    /// let _w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, Error> {
        if !self.try_grant(Kind::Read) {
            return Err(Error::msg(
                "RwLock::try_read: the lock is taken for writing",
            ));
        }
        self.read_guard()
    }

    /// Exclusive access now, or an error if anyone holds or waits for it.
    ///
    /// ```
    /// let lock = lwt::RwLock::new(0);
    /// let _r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err()); // re-entrancy: an error, not a hang
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, Error> {
        if !self.try_grant(Kind::Write) {
            return Err(Error::msg("RwLock::try_write: the lock is taken"));
        }
        self.write_guard()
    }

    /// How many wait for the lock.
    ///
    /// ```
    /// let lock = lwt::RwLock::new(());
    /// assert_eq!(lock.waiter_count(), 0);
    /// ```
    pub fn waiter_count(&self) -> usize {
        self.state.borrow().waiters.len()
    }

    /// The data, through exclusive access to the lock itself.
    ///
    /// ```
    /// let mut lock = lwt::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// The data, consuming the lock.
    ///
    /// ```
    /// assert_eq!(lwt::RwLock::new("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

/// Shared access to an [`RwLock`]'s data; released when dropped.
pub struct RwLockReadGuard<'a, T> {
    lock: &'a RwLock<T>,
    data: Option<Ref<'a, T>>,
}

impl<T: fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.data {
            Some(d) => d,
            // Only `drop` empties it.
            None => unreachable!("RwLockReadGuard used after release"),
        }
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.data.take());
        release(&self.lock.state, Kind::Read);
    }
}

/// Exclusive access to an [`RwLock`]'s data; released when dropped.
pub struct RwLockWriteGuard<'a, T> {
    lock: &'a RwLock<T>,
    data: Option<RefMut<'a, T>>,
}

impl<T: fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.data {
            Some(d) => d,
            None => unreachable!("RwLockWriteGuard used after release"),
        }
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.data {
            Some(d) => d,
            None => unreachable!("RwLockWriteGuard used after release"),
        }
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.data.take());
        release(&self.lock.state, Kind::Write);
    }
}
