//! Foreign wake-ups: the waker a task gives to futures that are not lwt
//! promises, the registry that owns the tasks such wakers can wake, and the
//! queue of wake-ups and releases handled on the next turn.
//!
//! # Ground rules
//!
//! 1. Waking on the task's own thread queues its id and asks the engine for
//!    a turn; [`run_woken`] (called by the turn) polls the tasks queued.
//! 2. Waking from another thread leaves the id in the thread's [`Remote`]
//!    mailbox and wakes the engine through the [`WakeHandle`] set by
//!    `engine::install`: the only lock in the core.
//! 3. **Wakers own tasks.** While a task's waker is held by foreign futures
//!    (it was cloned and not dropped when a poll ended), the task lends it
//!    out: it keeps only a `Weak` to it, and the registry holds the task,
//!    strongly, under the waker's id. When the last clone is dropped (on any
//!    thread), the waker's `Drop` queues a *release* of that id, handled on
//!    the owner thread's next turn, which drops the registry's hold. A task
//!    that finishes or is aborted leaves the registry at once. So a pending
//!    task lives exactly as long as something can wake it, and a waker of a
//!    finished task wakes nothing.
//! 4. A turn handles the wake-ups it took before the releases, so a task that
//!    was woken and whose waker was then dropped is still polled once.
//! 5. Releases run on a turn, never inside a waker's `drop`: freeing a task
//!    drops its future, and that user code must not run inside whatever
//!    foreign code (perhaps holding its own lock) dropped the waker.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
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

/// What a waker asks of its owner thread.
#[derive(Clone, Copy)]
enum Event {
    /// Poll the task of this id.
    Wake(u64),
    /// The last waker of this id is gone: the registry lets its task go.
    Release(u64),
}

thread_local! {
    /// The tasks whose wakers are lent out, by waker id: the registry owns them.
    static REGISTRY: RefCell<HashMap<u64, Rc<dyn Pollable>>> = RefCell::new(HashMap::new());
    /// Wake-ups and releases made on this thread, for the next turn.
    static WOKEN: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
    /// Where other threads leave wake-ups and releases for this one.
    static REMOTE: Arc<Remote> = Arc::new(Remote::default());
    /// Wakers of finished tasks that nobody else holds, for reuse.
    static SPARE_WAKERS: RefCell<Vec<Arc<TaskWaker>>> = const { RefCell::new(Vec::new()) };
    /// The buffers the last [`run_woken`] emptied (its events, the tasks
    /// they woke), for the next one: a task woken once a turn, by itself
    /// or by a socket, then costs no allocation per turn.
    static SPARE_BUFFERS: RefCell<Buffers> = const { RefCell::new((Vec::new(), Vec::new())) };
}

type Buffers = (Vec<Event>, Vec<Rc<dyn Pollable>>);

/// The largest buffer [`run_woken`] keeps for reuse, in entries: a burst's
/// bigger one is freed.
const SPARE_MAX: usize = 1024;

/// The cross-thread side of a thread's wake-ups: the only lock in the core,
/// taken only when a waker is woken or dropped on another thread.
#[derive(Default)]
struct Remote {
    /// Set when `events` may be non-empty: the loop looks at this flag, and
    /// takes the lock only when it is set.
    pending: AtomicBool,
    events: Mutex<Vec<Event>>,
    notify: Mutex<Option<WakeHandle>>,
}

impl Remote {
    fn send(&self, event: Event) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
        self.pending.store(true, Ordering::Release);
        let notify = self
            .notify
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(n) = notify {
            n.wake();
        }
    }
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
    /// Set by every wake-up; the task clears it when a poll starts. A task
    /// woken during a poll stays in the registry until that wake-up is handled.
    woken: AtomicBool,
    /// Set while the task lends this waker out (the registry holds the task
    /// under this id): dropping the last clone then releases the id.
    lent: AtomicBool,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        let id = self.id.load(Ordering::Relaxed);
        if std::thread::current().id() == self.owner {
            queue_here(Event::Wake(id));
        } else {
            self.remote.send(Event::Wake(id));
        }
    }
}

impl Drop for TaskWaker {
    fn drop(&mut self) {
        if !*self.lent.get_mut() {
            return;
        }
        let release = Event::Release(*self.id.get_mut());
        if std::thread::current().id() == self.owner {
            queue_here(release);
        } else {
            self.remote.send(release);
        }
    }
}

/// Queues `event` for this thread's next turn and asks the engine for one
/// (quietly nothing while the thread is being torn down).
fn queue_here(event: Event) {
    if WOKEN.try_with(|w| w.borrow_mut().push(event)).is_err() {
        return;
    }
    let engine = super::CURRENT
        .try_with(|c| c.try_borrow().ok().and_then(|c| c.clone()))
        .ok()
        .flatten();
    if let Some(e) = engine {
        e.request_turn();
    }
}

/// A waker for a new task: a spare one if there is one, with a fresh id.
pub(crate) fn new_waker() -> Arc<TaskWaker> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    if let Some(w) = SPARE_WAKERS.with(|s| s.borrow_mut().pop()) {
        w.id.store(id, Ordering::Relaxed);
        w.woken.store(false, Ordering::Relaxed);
        w.lent.store(false, Ordering::Relaxed);
        return w;
    }
    Arc::new(TaskWaker {
        id: AtomicU64::new(id),
        owner: std::thread::current().id(),
        remote: REMOTE.with(Arc::clone),
        woken: AtomicBool::new(false),
        lent: AtomicBool::new(false),
    })
}

impl TaskWaker {
    /// The id the registry knows the task by.
    pub(crate) fn id(&self) -> u64 {
        self.id.load(Ordering::Relaxed)
    }

    /// Forgets the wake-ups made so far (a poll is starting: it sees them),
    /// and makes what the wakers' threads did before waking visible here.
    /// A plain load when nothing woke the task, as on the hot path.
    pub(crate) fn clear_woken(&self) {
        if self.woken.load(Ordering::Relaxed) {
            self.woken.swap(false, Ordering::Acquire);
        }
    }

    /// True when the waker was woken since the poll began.
    pub(crate) fn was_woken(&self) -> bool {
        self.woken.load(Ordering::Acquire)
    }

    /// Marks the waker as lent out (or taken back): see ground rule 3.
    pub(crate) fn set_lent(&self, lent: bool) {
        self.lent.store(lent, Ordering::Relaxed);
    }
}

/// Lets the registry own `task` under `id`: a foreign wake-up of `id` polls
/// it, until [`unregister`] or a release of `id`.
pub(crate) fn register(id: u64, task: Rc<dyn Pollable>) {
    let old = REGISTRY.with(|r| r.borrow_mut().insert(id, task));
    // Dropped outside the borrow: it may be the last hold on a task.
    drop(old);
}

/// Forgets `id`: wake-ups of it no longer poll anything, and the registry no
/// longer holds its task.
pub(crate) fn unregister(id: u64) {
    let old = REGISTRY
        .try_with(|r| r.borrow_mut().remove(&id))
        .ok()
        .flatten();
    drop(old);
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

/// True when some task was woken by a foreign waker, or released by its
/// last one, and waits for a turn.
pub(crate) fn has_woken() -> bool {
    WOKEN.with(|w| !w.borrow().is_empty()) || REMOTE.with(|r| r.pending.load(Ordering::Acquire))
}

/// How many tasks the registry owns (for tests).
#[cfg(test)]
pub(crate) fn registered_count() -> usize {
    REGISTRY.with(|r| r.borrow().len())
}

/// Polls the tasks woken by foreign wakers since the last call, and lets go
/// of the tasks whose wakers were all dropped.
pub(crate) fn run_woken() {
    let (mut events, mut woken) = SPARE_BUFFERS
        .try_with(|s| std::mem::take(&mut *s.borrow_mut()))
        .unwrap_or_default();
    // The spare (empty) buffer takes the queue's place.
    WOKEN.with(|w| std::mem::swap(&mut events, &mut *w.borrow_mut()));
    REMOTE.with(|r| {
        if r.pending.swap(false, Ordering::AcqRel) {
            events.append(&mut r.events.lock().unwrap_or_else(|e| e.into_inner()));
        }
    });
    if !events.is_empty() {
        // Wake-ups first (ground rule 4): the tasks to poll are held here,
        // so a release below cannot free one of them before its poll.
        let released: Vec<Rc<dyn Pollable>> = REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            woken.extend(events.iter().filter_map(|e| match e {
                Event::Wake(id) => r.get(id).cloned(),
                Event::Release(_) => None,
            }));
            events
                .iter()
                .filter_map(|e| match e {
                    Event::Release(id) => r.remove(id),
                    Event::Wake(_) => None,
                })
                .collect()
        });
        // Outside the borrow: freeing a task runs its future's destructors.
        drop(released);
        for task in woken.drain(..) {
            task.poll_now();
        }
        events.clear();
    }
    keep_spare((events, woken));
}

/// Keeps `buffers` (empty) for the next [`run_woken`], unless they grew
/// past [`SPARE_MAX`]. One a nested call kept is replaced (freed).
fn keep_spare((events, woken): Buffers) {
    let _ = SPARE_BUFFERS.try_with(|s| {
        let mut s = s.borrow_mut();
        if events.capacity() <= SPARE_MAX {
            s.0 = events;
        }
        if woken.capacity() <= SPARE_MAX {
            s.1 = woken;
        }
    });
}
