//! [`OnceCell`]: a value initialized once, by async code (tokio's
//! `sync::OnceCell`).
//!
//! # Ground rules
//!
//! 1. The value lives in a `std::cell::OnceCell`, so [`OnceCell::get`]
//!    hands out a plain `&T` with no borrow guard.
//! 2. One caller at a time runs the initializer; the others wait in the
//!    cell's waiter queue (canceled, they leave it). A success wakes them
//!    all; a failure, a cancel or a dropped initializer wakes the first of
//!    them, which then runs its own initializer (the retry).
//! 3. A guard resets "initializing" however the initializer ends, even if
//!    its future is dropped half-way (the task running it aborted), so the
//!    cell never stays stuck.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;

use super::waitq::{enqueue, WaitQueue};
use crate::Error;

#[derive(Default)]
struct State {
    initializing: bool,
    waiters: WaitQueue<()>,
}

/// A cell set once, by the first caller of [`OnceCell::get_or_init`], while
/// concurrent callers wait for that result (tokio's `OnceCell`). Share it
/// with an `Rc`, or keep it in a `static`-like owner.
///
/// ```
/// use std::rc::Rc;
/// let engine = lwt::testing::VirtualEngine::new();
/// let config = Rc::new(lwt::OnceCell::new());
/// let (loaded, load) = lwt::task::<u32>();
/// let (c1, c2) = (config.clone(), config.clone());
/// let first = lwt::spawn(async move { Ok(*c1.get_or_init(|| loaded).await?) });
/// let second = lwt::spawn(async move {
///     Ok(*c2.get_or_init(|| async { Ok(0) }).await?) // not run: the first init is under way
/// });
/// load.resolve(42).unwrap();
/// assert_eq!(engine.run(&first).unwrap(), 42);
/// assert_eq!(engine.run(&second).unwrap(), 42);
/// ```
pub struct OnceCell<T> {
    value: std::cell::OnceCell<T>,
    state: Rc<RefCell<State>>,
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.value.get())
            .finish()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

/// Resets "initializing" and wakes the next waiter (or every waiter, once
/// the value is set) when the initializer ends, however it ends.
struct InitGuard<'a> {
    state: &'a Rc<RefCell<State>>,
    all: bool,
}

impl Drop for InitGuard<'_> {
    fn drop(&mut self) {
        let woken: Vec<_> = {
            let mut s = self.state.borrow_mut();
            s.initializing = false;
            if self.all {
                s.waiters.take_all().into_iter().collect()
            } else {
                s.waiters.pop_live().into_iter().collect()
            }
        };
        for ((), r) in woken {
            if r.is_pending() {
                let _ = r.resolve_later(Ok(()));
            }
        }
    }
}

impl<T> OnceCell<T> {
    /// An empty cell.
    ///
    /// ```
    /// assert!(lwt::OnceCell::<u8>::new().get().is_none());
    /// ```
    pub fn new() -> OnceCell<T> {
        OnceCell {
            value: std::cell::OnceCell::new(),
            state: Rc::default(),
        }
    }

    /// A cell holding `value` already (tokio's `new_with(Some(value))`).
    ///
    /// ```
    /// assert_eq!(lwt::OnceCell::with_value(3).get(), Some(&3));
    /// ```
    pub fn with_value(value: T) -> OnceCell<T> {
        let cell = OnceCell::new();
        let _ = cell.value.set(value);
        cell
    }

    /// The value, if the cell is initialized.
    ///
    /// ```
    /// let cell = lwt::OnceCell::new();
    /// cell.set(1).unwrap();
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// True once the cell holds a value.
    ///
    /// ```
    /// assert!(!lwt::OnceCell::<()>::new().initialized());
    /// ```
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// Sets the value if the cell is empty and no initializer is running;
    /// else an error saying which, and the value is dropped (tokio's `set`).
    ///
    /// ```
    /// let cell = lwt::OnceCell::new();
    /// assert!(cell.set(1).is_ok());
    /// assert!(cell.set(2).unwrap_err().is_invalid_argument());
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn set(&self, value: T) -> Result<(), Error> {
        if self.state.borrow().initializing {
            return Err(Error::invalid_argument(
                "OnceCell::set: an initializer is running",
            ));
        }
        if self.value.set(value).is_err() {
            return Err(Error::invalid_argument(
                "OnceCell::set: the cell is already initialized",
            ));
        }
        Ok(())
    }

    /// Takes the value out, leaving the cell empty.
    ///
    /// ```
    /// let mut cell = lwt::OnceCell::with_value("x");
    /// assert_eq!(cell.take(), Some("x"));
    /// assert!(cell.get().is_none());
    /// ```
    pub fn take(&mut self) -> Option<T> {
        self.value.take()
    }

    /// The value, consuming the cell.
    ///
    /// ```
    /// assert_eq!(lwt::OnceCell::with_value(7).into_inner(), Some(7));
    /// ```
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// The value, initializing it first with `init` if the cell is empty
    /// (tokio's `get_or_try_init`; initializers here give a `Result`, as
    /// every lwt future does, so there is no separate infallible form).
    ///
    /// * Only one initializer runs at a time. Callers that come while it
    ///   runs wait for its outcome, and their own `init` is not called if it
    ///   succeeds.
    /// * If it fails, its caller gets the error, the cell stays empty, and
    ///   the first waiting caller runs its own `init`: a failed init lets
    ///   the next caller retry. The same happens if the initializer is
    ///   canceled or its future dropped.
    /// * A waiting caller that is canceled leaves the queue, with
    ///   `Err(canceled)`.
    ///
    /// Re-entrancy: calling `get_or_init` on the same cell from inside its
    /// own `init` waits for that very initializer, so it never resolves (as
    /// with tokio's); cancel it, or do not do it. It does not panic.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let cell = lwt::OnceCell::<u8>::new();
    /// let r = engine.block_on(async move {
    ///     let failed = cell.get_or_init(|| async { Err(lwt::Error::msg("offline")) }).await;
    ///     assert_eq!(failed.unwrap_err().message(), "offline");
    ///     assert!(cell.get().is_none()); // still empty: the next call retries
    ///     Ok(*cell.get_or_init(|| async { Ok(5) }).await?)
    /// });
    /// assert_eq!(r.unwrap(), 5);
    /// ```
    pub async fn get_or_init<F, Fut>(&self, init: F) -> Result<&T, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        loop {
            if let Some(v) = self.value.get() {
                return Ok(v);
            }
            let wait = {
                let mut s = self.state.borrow_mut();
                if !s.initializing {
                    s.initializing = true;
                    None
                } else {
                    drop(s);
                    Some(enqueue(&self.state, |s| &mut s.waiters, (), None))
                }
            };
            match wait {
                Some(w) => w.await?,
                None => break,
            }
        }
        let mut guard = InitGuard {
            state: &self.state,
            all: false,
        };
        let value = init().await?;
        let _ = self.value.set(value);
        guard.all = true;
        drop(guard);
        self.value
            .get()
            .ok_or_else(|| Error::msg("OnceCell: the value was not kept"))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::OnceCell;
    use crate::testing::VirtualEngine;
    use crate::{spawn, task, Error};

    #[test]
    fn a_failed_init_lets_the_first_waiter_retry() {
        let engine = VirtualEngine::new();
        let cell = Rc::new(OnceCell::new());
        let calls = Rc::new(Cell::new(0));
        let (gate, open) = task::<u32>();
        let mut tasks = Vec::new();
        for i in 0..3u32 {
            let (c, n) = (cell.clone(), calls.clone());
            let gate = gate.clone();
            tasks.push(spawn(async move {
                let v = c
                    .get_or_init(|| {
                        n.set(n.get() + 1);
                        async move {
                            if i == 0 {
                                gate.await?;
                                Err(Error::msg("first fails"))
                            } else {
                                Ok(i * 10)
                            }
                        }
                    })
                    .await;
                Ok(v.copied().map_err(|e| e.message().to_string()))
            }));
        }
        assert_eq!(calls.get(), 1);
        open.resolve(0).unwrap();
        let got: Vec<_> = tasks.iter().map(|t| engine.run(t).unwrap()).collect();
        assert_eq!(got, [Err("first fails".into()), Ok(10), Ok(10)]);
        assert_eq!(calls.get(), 2); // the second caller retried; the third waited
    }

    #[test]
    fn a_canceled_waiter_leaves_and_an_aborted_initializer_unblocks() {
        let engine = VirtualEngine::new();
        let cell = Rc::new(OnceCell::<u8>::new());
        let (c1, c2, c3) = (cell.clone(), cell.clone(), cell.clone());
        let init = spawn(async move { Ok(*c1.get_or_init(crate::Promise::<u8>::never).await?) });
        let waiter = spawn(async move { Ok(*c2.get_or_init(|| async { Ok(1) }).await?) });
        waiter.cancel();
        assert!(waiter.peek().unwrap().unwrap_err().is_canceled());
        let next = spawn(async move { Ok(*c3.get_or_init(|| async { Ok(2) }).await?) });
        assert!(next.is_pending());
        init.abort(); // drops the initializer's future: the guard resets
        assert_eq!(engine.run(&next).unwrap(), 2);
        assert_eq!(cell.get(), Some(&2));
    }
}
