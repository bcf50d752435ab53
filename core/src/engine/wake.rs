//! Foreign wake-ups: the waker a task gives to futures that are not lwt
//! promises, and the queue of tasks they woke, polled on the next turn.
//!
//! # Ground rules
//!
//! 1. Waking on the task's own thread queues its id and asks the engine for
//!    a turn; [`run_woken`] (called by the turn) polls the tasks queued.
//! 2. Waking from another thread leaves the id in the thread's [`Remote`]
//!    mailbox and wakes the engine through the [`WakeHandle`] set by
//!    `engine::install`: the only lock in the core.
//! 3. A task is known by id only while its waker may be woken: registered
//!    when the waker is first cloned, unregistered when the future is done.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;
use std::thread::ThreadId;

use super::WakeHandle;

/// A task that a foreign waker can ask to be polled.
pub(crate) trait Pollable {
    /// Polls the task's future again.
    fn poll_now(self: Rc<Self>);
}

thread_local! {
    /// Tasks whose foreign waker was cloned, by waker id.
    static REGISTRY: RefCell<HashMap<u64, Weak<dyn Pollable>>> = RefCell::new(HashMap::new());
    /// Ids woken on this thread, for the next turn.
    static WOKEN: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    /// Where other threads leave ids for this one.
    static REMOTE: Arc<Remote> = Arc::new(Remote::default());
    /// Wakers of finished tasks that nobody else holds, for reuse.
    static SPARE_WAKERS: RefCell<Vec<Arc<TaskWaker>>> = const { RefCell::new(Vec::new()) };
}

/// The cross-thread side of a thread's wake-ups: the only lock in the core,
/// taken only when a waker is woken from another thread.
#[derive(Default)]
struct Remote {
    /// Set when `ids` may be non-empty: the loop looks at this flag, and takes
    /// the lock only when it is set.
    pending: AtomicBool,
    ids: Mutex<Vec<u64>>,
    notify: Mutex<Option<WakeHandle>>,
}

/// Sets the handle that wakes this thread's engine from other threads.
pub(crate) fn set_remote_notify(handle: Option<WakeHandle>) {
    REMOTE.with(|r| *r.notify.lock().unwrap_or_else(|e| e.into_inner()) = handle);
}

/// The waker a task gives to futures that are not lwt promises.
pub(crate) struct TaskWaker {
    id: AtomicU64,
    owner: ThreadId,
    remote: Arc<Remote>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let id = self.id.load(Ordering::Relaxed);
        if std::thread::current().id() == self.owner {
            WOKEN.with(|w| w.borrow_mut().push(id));
            if let Some(e) = super::current() {
                e.request_turn();
            }
        } else {
            self.remote
                .ids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(id);
            self.remote.pending.store(true, Ordering::Release);
            let notify = self
                .remote
                .notify
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(n) = notify {
                n.wake();
            }
        }
    }
}

/// A waker for a new task: a spare one if there is one, with a fresh id.
pub(crate) fn new_waker() -> Arc<TaskWaker> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    if let Some(w) = SPARE_WAKERS.with(|s| s.borrow_mut().pop()) {
        w.id.store(id, Ordering::Relaxed);
        return w;
    }
    Arc::new(TaskWaker {
        id: AtomicU64::new(id),
        owner: std::thread::current().id(),
        remote: REMOTE.with(Arc::clone),
    })
}

impl TaskWaker {
    /// The id the registry knows the task by.
    pub(crate) fn id(&self) -> u64 {
        self.id.load(Ordering::Relaxed)
    }
}

/// Lets a foreign wake-up of `id` poll `task` (from the first time the
/// task's waker is cloned until [`unregister`]).
pub(crate) fn register(id: u64, task: Weak<dyn Pollable>) {
    REGISTRY.with(|r| r.borrow_mut().insert(id, task));
}

/// Forgets `id`: wake-ups of it no longer poll anything.
pub(crate) fn unregister(id: u64) {
    let _ = REGISTRY.try_with(|r| r.borrow_mut().remove(&id));
}

/// Keeps the waker of a finished task that nobody else holds, for
/// [`new_waker`] to reuse.
pub(crate) fn recycle(waker: Arc<TaskWaker>) {
    let _ = SPARE_WAKERS.try_with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < 1024 {
            s.push(waker);
        }
    });
}

/// True when some task was woken by a foreign waker and waits for a turn.
pub(crate) fn has_woken() -> bool {
    WOKEN.with(|w| !w.borrow().is_empty()) || REMOTE.with(|r| r.pending.load(Ordering::Acquire))
}

/// Polls the tasks woken by foreign wakers since the last call.
pub(crate) fn run_woken() {
    let mut ids = WOKEN.with(|w| std::mem::take(&mut *w.borrow_mut()));
    REMOTE.with(|r| {
        if r.pending.swap(false, Ordering::AcqRel) {
            ids.append(&mut r.ids.lock().unwrap_or_else(|e| e.into_inner()));
        }
    });
    if ids.is_empty() {
        return;
    }
    for id in ids {
        let task = REGISTRY.with(|r| r.borrow().get(&id).and_then(Weak::upgrade));
        if let Some(task) = task {
            task.poll_now();
        }
    }
}
