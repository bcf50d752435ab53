//! [`JoinSet`]: a set of spawned tasks, joined in the order they finish
//! (tokio's `task::JoinSet`).
//!
//! # Ground rules
//!
//! 1. Each task runs inside a small wrapper task that hands the future's
//!    result, by value, to the set: results need not be `Clone`. A wrapper
//!    that is rejected instead (aborted, or its future panicked) hands its
//!    error over, so every task that enters the set leaves it through
//!    [`JoinSet::join_next`] exactly once.
//! 2. [`JoinSet::join_next`] waits on a cancelable waiter in the set's
//!    [`WaitQueue`]; a finishing task wakes it with `resolve_later`, after
//!    the set's borrow is dropped.
//! 3. Stopping tasks cancels first, then (for [`JoinSet::abort_all`] and
//!    when the set is dropped) aborts. Canceling reaches what a task awaits
//!    and releases it (timers, listeners, fetches); aborting alone would
//!    drop the future but leave a timer it awaited armed.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use super::waitq::{enqueue, WaitQueue};
use crate::{spawn, Error, Promise};

struct Inner<T> {
    next_id: u64,
    running: Vec<(u64, Promise<()>)>,
    done: VecDeque<Result<T, Error>>,
    waiters: WaitQueue<()>,
}

/// A set of tasks whose results are collected as they finish (tokio's
/// `JoinSet`). Dropping the set cancels and aborts the tasks still running,
/// releasing what they wait on.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let order = engine.block_on(async {
///     let mut set = lwt::JoinSet::new();
///     for secs in [3u64, 1, 2] {
///         set.spawn(async move {
///             lwt::sleep(Duration::from_secs(secs)).await?;
///             Ok(secs)
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(r) = set.join_next().await {
///         order.push(r?);
///     }
///     Ok(order)
/// });
/// assert_eq!(order.unwrap(), [1, 2, 3]); // in the order they finished
/// ```
pub struct JoinSet<T: 'static> {
    inner: Rc<RefCell<Inner<T>>>,
}

impl<T: 'static> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.inner.borrow();
        f.debug_struct("JoinSet")
            .field("running", &s.running.len())
            .field("finished", &s.done.len())
            .finish()
    }
}

impl<T: 'static> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

/// Moves a finished task's result into the set and wakes a waiter.
fn deliver<T: 'static>(weak: &Weak<RefCell<Inner<T>>>, id: u64, result: Result<T, Error>) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    let waiter = {
        let mut s = inner.borrow_mut();
        s.running.retain(|(i, _)| *i != id);
        s.done.push_back(result);
        s.waiters.pop_live()
    };
    if let Some(((), r)) = waiter {
        let _ = r.resolve_later(Ok(()));
    }
}

impl<T: 'static> JoinSet<T> {
    /// An empty set.
    ///
    /// ```
    /// let set = lwt::JoinSet::<u8>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            inner: Rc::new(RefCell::new(Inner {
                next_id: 0,
                running: Vec::new(),
                done: VecDeque::new(),
                waiters: WaitQueue::default(),
            })),
        }
    }

    /// Spawns `future` as a task of the set (tokio's `JoinSet::spawn`). It
    /// starts at once, as [`spawn`](crate::spawn) does. The [`TaskHandle`]
    /// returned cancels or aborts that one task (tokio's `AbortHandle`); its
    /// result is collected by [`JoinSet::join_next`] either way (a task
    /// aborted gives `Err(canceled)` there).
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let mut set = lwt::JoinSet::new();
    /// let (gate, _open) = lwt::task::<u8>();
    /// let handle = set.spawn(async move { gate.await });
    /// assert_eq!(set.len(), 1);
    /// handle.cancel(); // the task sees Err(canceled) at its await
    /// let r = engine.block_on(async move { Ok(set.join_next().await) });
    /// assert!(r.unwrap().unwrap().unwrap_err().is_canceled());
    /// ```
    pub fn spawn<F>(&mut self, future: F) -> TaskHandle
    where
        F: Future<Output = Result<T, Error>> + 'static,
    {
        let id = {
            let mut s = self.inner.borrow_mut();
            s.next_id += 1;
            s.next_id
        };
        let weak = Rc::downgrade(&self.inner);
        let w = weak.clone();
        let p = spawn(async move {
            let result = future.await;
            deliver(&w, id, result);
            Ok(())
        });
        if p.is_pending() {
            self.inner.borrow_mut().running.push((id, p.clone()));
            // Rejected without delivering: aborted, or the future panicked.
            p.on_failure(move |e| {
                let still_running = weak
                    .upgrade()
                    .is_some_and(|inner| inner.borrow().running.iter().any(|(i, _)| *i == id));
                if still_running {
                    deliver(&weak, id, Err(e));
                }
            });
        } else if let Some(Err(e)) = p.peek() {
            // The future panicked during its first poll.
            deliver(&weak, id, Err(e));
        }
        TaskHandle { task: p }
    }

    /// The next result, in the order tasks finished (tokio's `join_next`):
    /// `Some(result)` of a task, which then leaves the set, or `None` when
    /// the set is empty. If the wait itself is canceled (the task awaiting
    /// it was), it gives `Some(Err(canceled))` and no task leaves the set.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let mut set = lwt::JoinSet::<u8>::new();
    /// let r = engine.block_on(async move { Ok(set.join_next().await.is_none()) });
    /// assert!(r.unwrap());
    /// ```
    pub fn join_next(&mut self) -> JoinNext<'_, T> {
        JoinNext {
            set: self,
            wait: None,
        }
    }

    /// A result that is ready now, if any (tokio's `try_join_next`).
    ///
    /// ```
    /// let mut set = lwt::JoinSet::new();
    /// set.spawn(async { Ok(5) });
    /// assert_eq!(set.try_join_next().unwrap().unwrap(), 5);
    /// assert!(set.try_join_next().is_none());
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, Error>> {
        self.inner.borrow_mut().done.pop_front()
    }

    /// Tasks in the set: running, or finished and not joined yet.
    ///
    /// ```
    /// let mut set = lwt::JoinSet::new();
    /// set.spawn(async { Ok(1) });
    /// set.spawn(lwt::Promise::<u8>::never());
    /// assert_eq!(set.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        let s = self.inner.borrow();
        s.running.len() + s.done.len()
    }

    /// True when the set holds no task.
    ///
    /// ```
    /// assert!(lwt::JoinSet::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn running(&self) -> Vec<Promise<()>> {
        let s = self.inner.borrow();
        s.running.iter().map(|(_, p)| p.clone()).collect()
    }

    /// Cancels every running task, Lwt's way: each sees `Err(canceled)` at
    /// its `.await` and may clean up; their results (usually that error)
    /// still come out of [`JoinSet::join_next`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let mut set = lwt::JoinSet::new();
    /// set.spawn(async { lwt::sleep(Duration::from_secs(9)).await });
    /// assert_eq!(engine.timer_count(), 1);
    /// set.cancel_all();
    /// assert_eq!(engine.timer_count(), 0);
    /// assert!(set.try_join_next().unwrap().unwrap_err().is_canceled());
    /// ```
    pub fn cancel_all(&mut self) {
        for p in self.running() {
            p.cancel();
        }
    }

    /// Stops every running task now (tokio's `abort_all`): cancels what each
    /// awaits (releasing timers and listeners), then drops its future. Each
    /// gives `Err(canceled)` from [`JoinSet::join_next`], unless it finished
    /// while being canceled.
    ///
    /// ```
    /// let mut set = lwt::JoinSet::<u8>::new();
    /// set.spawn(lwt::Promise::never());
    /// set.abort_all();
    /// assert!(set.try_join_next().unwrap().unwrap_err().is_canceled());
    /// assert!(set.is_empty());
    /// ```
    pub fn abort_all(&mut self) {
        for p in self.running() {
            p.cancel();
            p.abort();
        }
    }

    /// Stops every running task and forgets every result (tokio's
    /// `shutdown`, which needs no `.await` here).
    ///
    /// ```
    /// let mut set = lwt::JoinSet::new();
    /// set.spawn(async { Ok(1) });
    /// set.spawn(lwt::Promise::never());
    /// set.shutdown();
    /// assert!(set.is_empty());
    /// ```
    pub fn shutdown(&mut self) {
        self.abort_all();
        let done = std::mem::take(&mut self.inner.borrow_mut().done);
        drop(done);
    }
}

impl<T: 'static> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

/// One task of a [`JoinSet`], to stop it alone (tokio's `AbortHandle`).
/// Dropping the handle changes nothing.
#[derive(Clone, Debug)]
pub struct TaskHandle {
    task: Promise<()>,
}

impl TaskHandle {
    /// Cancels the task, Lwt's way: it sees `Err(canceled)` at its `.await`.
    ///
    /// ```
    /// let mut set = lwt::JoinSet::new();
    /// let (input, _r) = lwt::task::<u8>();
    /// set.spawn(input).cancel(); // reaches the `task` it awaits
    /// assert!(set.try_join_next().unwrap().unwrap_err().is_canceled());
    /// ```
    pub fn cancel(&self) {
        self.task.cancel();
    }

    /// Stops the task now: cancels what it awaits, then drops its future.
    ///
    /// ```
    /// let mut set = lwt::JoinSet::<u8>::new();
    /// let h = set.spawn(lwt::Promise::never());
    /// h.abort();
    /// assert!(h.is_finished());
    /// assert!(set.try_join_next().unwrap().unwrap_err().is_canceled());
    /// ```
    pub fn abort(&self) {
        self.task.cancel();
        self.task.abort();
    }

    /// True once the task has finished, either way.
    ///
    /// ```
    /// let mut set = lwt::JoinSet::new();
    /// assert!(set.spawn(async { Ok(1) }).is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        !self.task.is_pending()
    }
}

/// The future of [`JoinSet::join_next`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinNext<'a, T: 'static> {
    set: &'a mut JoinSet<T>,
    wait: Option<Promise<()>>,
}

impl<T: 'static> fmt::Debug for JoinNext<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinNext").finish_non_exhaustive()
    }
}

impl<T: 'static> Future for JoinNext<'_, T> {
    type Output = Option<Result<T, Error>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            {
                let mut s = self.set.inner.borrow_mut();
                if let Some(r) = s.done.pop_front() {
                    return Poll::Ready(Some(r));
                }
                if s.running.is_empty() {
                    return Poll::Ready(None);
                }
            }
            if self.wait.is_none() {
                let p = enqueue(&self.set.inner, |s| &mut s.waiters, (), None);
                self.wait = Some(p);
            }
            let Some(wait) = self.wait.as_mut() else {
                continue;
            };
            match Pin::new(wait).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(())) => self.wait = None,
                Poll::Ready(Err(e)) => {
                    self.wait = None;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

impl<T: 'static> Drop for JoinNext<'_, T> {
    fn drop(&mut self) {
        if let Some(w) = self.wait.take() {
            w.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use super::JoinSet;
    use crate::testing::VirtualEngine;
    use crate::{sleep, task, Promise};

    #[test]
    fn dropping_the_set_releases_running_tasks_timers() {
        let engine = VirtualEngine::new();
        let cleaned = Rc::new(Cell::new(0));
        let mut set = JoinSet::new();
        for secs in [5, 10] {
            let c = cleaned.clone();
            set.spawn(async move {
                let r = sleep(Duration::from_secs(secs)).await;
                if r.is_err() {
                    c.set(c.get() + 1);
                }
                r
            });
        }
        assert_eq!(engine.timer_count(), 2);
        drop(set);
        assert_eq!(engine.timer_count(), 0);
        assert_eq!(cleaned.get(), 2); // canceled first: they saw Err(canceled)
    }

    #[test]
    fn an_aborted_task_still_leaves_the_set() {
        let engine = VirtualEngine::new();
        let mut set = JoinSet::<u8>::new();
        let h = set.spawn(Promise::never());
        set.spawn(async { Ok(2) });
        h.abort();
        let r = engine.block_on(async move {
            let a = set.join_next().await.unwrap();
            let b = set.join_next().await.unwrap();
            assert!(set.join_next().await.is_none());
            Ok((a?, b.unwrap_err().is_canceled()))
        });
        assert_eq!(r.unwrap(), (2, true));
    }

    #[test]
    fn results_need_not_be_clone() {
        struct NotClone(u8);
        let engine = VirtualEngine::new();
        let (gate, open) = task::<()>();
        let mut set = JoinSet::new();
        set.spawn(async move {
            gate.await?;
            Ok(NotClone(7))
        });
        let t = crate::spawn(async move {
            let v = set.join_next().await.unwrap()?;
            Ok(v.0)
        });
        open.resolve(()).unwrap();
        assert_eq!(engine.run(&t).unwrap(), 7);
    }

    #[test]
    fn a_canceled_join_next_takes_nothing() {
        let _engine = VirtualEngine::new();
        let (gate, open) = task::<u8>();
        let mut set = JoinSet::new();
        set.spawn(gate);
        let slot = Rc::new(std::cell::RefCell::new(Some(set)));
        let s = slot.clone();
        let t = crate::spawn(async move {
            let Some(mut set) = s.borrow_mut().take() else {
                return Ok(false);
            };
            let r = set.join_next().await;
            *s.borrow_mut() = Some(set);
            Ok(r.is_some_and(|r| r.is_err_and(|e| e.is_canceled())))
        });
        t.cancel();
        assert!(t.peek().unwrap().unwrap());
        let mut set = slot.borrow_mut().take().unwrap();
        assert_eq!(set.len(), 1);
        open.resolve(3).unwrap();
        assert_eq!(set.try_join_next().unwrap().unwrap(), 3);
    }
}
