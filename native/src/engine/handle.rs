//! Reaching the loop from other threads: [`Handle`] and [`RemoteResolver`].
//!
//! # Ground rules
//!
//! * Promises are `!Send`; what crosses threads is a closure (`Send`) queued
//!   for the loop, plus one wake-up of the poller (a `mio::Waker`, one system
//!   call per batch). The closure runs on the loop, between polls, never
//!   inside a callback. [`Shared`] holds that queue, the waker and its flag:
//!   the only part of a loop that other threads touch.
//! * A [`RemoteResolver`] is an id: the real [`lwt::Resolver`] stays on the
//!   loop's thread in a table. Resolving sends the value (`T: Send`) with the
//!   id; dropping it unresolved rejects the promise, so a worker that dies
//!   never leaves a promise pending forever. Canceling the promise removes
//!   the resolver from the table.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use lwt::{Error, Promise, Resolver};

use super::Runtime;

/// A closure sent to the loop from another thread.
type Remote = Box<dyn FnOnce() + Send>;

/// The cross-thread side of a loop: what other threads may touch.
pub(crate) struct Shared {
    waker: mio::Waker,
    /// Set by [`Shared::wake`], cleared by the loop once it has run `queue`.
    pub(super) notified: AtomicBool,
    pub(super) queue: Mutex<Vec<Remote>>,
}

impl Shared {
    /// The cross-thread side of a loop whose poller `waker` wakes.
    pub(super) fn new(waker: mio::Waker) -> Shared {
        Shared {
            waker,
            notified: AtomicBool::new(false),
            queue: Mutex::new(Vec::new()),
        }
    }

    /// Wakes the loop; one system call per batch of wake-ups.
    pub(crate) fn wake(&self) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            let _ = self.waker.wake();
        }
    }

    /// Queues `f` to run on the loop, and wakes it.
    pub(crate) fn post(&self, f: Remote) {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).push(f);
        self.wake();
    }
}

/// A `Send` handle to a thread's loop: wakes it and runs closures on it.
///
/// ```
/// let handle = lwt_native::Handle::current();
/// let (p, r) = lwt_native::remote_resolver::<u32>();
/// let h = handle.clone();
/// std::thread::spawn(move || h.run_on_loop(move || r.resolve(5)));
/// assert_eq!(lwt_native::run(p).unwrap(), 5);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handle")
    }
}

impl Handle {
    /// The handle of this thread's loop.
    ///
    /// ```
    /// let _h: lwt_native::Handle = lwt_native::Handle::current();
    /// ```
    pub fn current() -> Handle {
        Handle {
            shared: Runtime::current().shared.clone(),
        }
    }

    /// Runs `f` on the loop's thread at its next iteration, from any thread.
    ///
    /// ```
    /// let h = lwt_native::Handle::current();
    /// let (p, r) = lwt_native::remote_resolver::<&str>();
    /// std::thread::spawn(move || h.run_on_loop(move || r.resolve("ran on the loop")));
    /// assert_eq!(lwt_native::run(p).unwrap(), "ran on the loop");
    /// ```
    pub fn run_on_loop(&self, f: impl FnOnce() + Send + 'static) {
        self.shared.post(Box::new(f));
    }

    /// Wakes the loop (it runs an iteration).
    ///
    /// ```
    /// lwt_native::Handle::current().wake();
    /// ```
    pub fn wake(&self) {
        self.shared.wake();
    }
}

/// Resolves, from any thread, a promise of the loop's thread. Made by
/// [`remote_resolver`].
///
/// ```
/// let (p, r) = lwt_native::remote_resolver::<String>();
/// std::thread::spawn(move || r.resolve("from a thread".to_string()));
/// assert_eq!(lwt_native::run(p).unwrap(), "from a thread");
/// ```
pub struct RemoteResolver<T: Send + 'static> {
    id: u64,
    shared: Arc<Shared>,
    done: bool,
    _value: PhantomData<fn(T)>,
}

impl<T: Send + 'static> fmt::Debug for RemoteResolver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteResolver")
            .field("id", &self.id)
            .finish()
    }
}

/// A cancelable pending promise of this thread, and a `Send` resolver for it.
///
/// ```
/// let (p, r) = lwt_native::remote_resolver::<u8>();
/// drop(r); // dropped unresolved: the promise is rejected
/// assert!(lwt_native::run(p).is_err());
/// ```
pub fn remote_resolver<T: Send + 'static>() -> (Promise<T>, RemoteResolver<T>) {
    let rt = Runtime::current();
    let (p, r) = lwt::task::<T>();
    let id = rt.next_remote.get();
    rt.next_remote.set(id + 1);
    rt.remote_resolvers.borrow_mut().insert(id, Box::new(r));
    p.on_cancel(move || {
        if let Some(rt) = Runtime::try_current() {
            let r = rt.remote_resolvers.borrow_mut().remove(&id);
            drop(r);
        }
    });
    (
        p,
        RemoteResolver {
            id,
            shared: rt.shared.clone(),
            done: false,
            _value: PhantomData,
        },
    )
}

fn take<T: 'static>(id: u64) -> Option<Resolver<T>> {
    let rt = Runtime::try_current()?;
    let r = rt.remote_resolvers.borrow_mut().remove(&id)?;
    r.downcast::<Resolver<T>>().ok().map(|b| *b)
}

impl<T: Send + 'static> RemoteResolver<T> {
    /// Fulfills the promise with `value`, on the loop's thread.
    ///
    /// ```
    /// let (p, r) = lwt_native::remote_resolver();
    /// r.resolve(1u8);
    /// assert_eq!(lwt_native::run(p).unwrap(), 1);
    /// ```
    pub fn resolve(self, value: T) {
        self.resolve_with(Ok(value))
    }

    /// Rejects the promise with `error`, on the loop's thread.
    ///
    /// ```
    /// let (p, r) = lwt_native::remote_resolver::<u8>();
    /// r.reject(std::io::Error::other("failed"));
    /// assert_eq!(lwt_native::run(p).unwrap_err().to_string(), "failed");
    /// ```
    pub fn reject(self, error: io::Error) {
        self.resolve_with(Err(error))
    }

    /// Resolves the promise with `result`, on the loop's thread.
    ///
    /// ```
    /// let (p, r) = lwt_native::remote_resolver::<u8>();
    /// r.resolve_with(Ok(3));
    /// assert_eq!(lwt_native::run(p).unwrap(), 3);
    /// ```
    pub fn resolve_with(mut self, result: Result<T, io::Error>) {
        self.done = true;
        let id = self.id;
        self.shared.post(Box::new(move || {
            if let Some(r) = take::<T>(id) {
                let _ = r.resolve_with(result.map_err(Error::new));
            }
        }));
    }
}

impl<T: Send + 'static> Drop for RemoteResolver<T> {
    fn drop(&mut self) {
        if !self.done {
            let id = self.id;
            self.shared.post(Box::new(move || {
                if let Some(r) = take::<T>(id) {
                    let _ = r.reject(Error::closed("the RemoteResolver was dropped unresolved"));
                }
            }));
        }
    }
}
