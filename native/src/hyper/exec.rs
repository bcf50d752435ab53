//! [`LwtExecutor`]: hyper's background futures as tasks of the loop.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;

use lwt::{Error, Promise};

thread_local! {
    /// The tasks started here that are still running, by number. A pending
    /// task that waits on something other than an lwt promise (hyper's
    /// channels, h2's stream queues) is owned by nothing else: this keeps it
    /// alive until it ends.
    static RUNNING: RefCell<HashMap<u64, Box<dyn Any>>> = RefCell::new(HashMap::new());
    static NEXT: Cell<u64> = const { Cell::new(0) };
}

/// Runs `future` as a task of this thread's loop ([`lwt::spawn`]) and keeps
/// the task alive until it ends, whoever holds its promise.
pub(crate) fn spawn_owned<T, F>(future: F) -> Promise<T>
where
    T: 'static,
    F: Future<Output = Result<T, Error>> + 'static,
{
    let task = lwt::spawn(future);
    if task.is_pending() {
        let id = NEXT.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        RUNNING.with(|r| r.borrow_mut().insert(id, Box::new(task.clone())));
        task.on_termination(move || {
            // Taken out first, dropped after the borrow ends.
            let done = RUNNING.try_with(|r| r.borrow_mut().remove(&id));
            drop(done);
        });
    }
    task
}

/// How many tasks started by [`LwtExecutor`] (and by the helpers of this
/// module: connections, `serve`) are still running on this thread, for leak
/// checks.
///
/// ```
/// assert_eq!(lwt_native::hyper::running_tasks(), 0);
/// ```
pub fn running_tasks() -> usize {
    RUNNING.with(|r| r.borrow().len())
}

/// hyper's [`Executor`](hyper::rt::Executor) on this thread's loop: each
/// future becomes a task ([`lwt::spawn`], so it is polled at once, and need
/// not be `Send`), kept running until it ends even if nothing holds its
/// promise. HTTP/2 connections spawn a task per stream with it, and a client
/// connection can run on it.
///
/// ```
/// use hyper::rt::Executor;
/// use std::{cell::Cell, rc::Rc};
/// let ran = Rc::new(Cell::new(false));
/// let r = ran.clone(); // an `Rc`: the future is not `Send`
/// lwt_native::run(async move {
///     lwt_native::hyper::LwtExecutor.execute(async move { r.set(true) });
///     Ok(())
/// }).unwrap();
/// assert!(ran.get());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct LwtExecutor;

impl<F> hyper::rt::Executor<F> for LwtExecutor
where
    F: Future + 'static,
{
    fn execute(&self, future: F) {
        // The task keeps itself; its promise is not needed.
        drop(spawn_owned(async move {
            future.await;
            Ok(())
        }));
    }
}
