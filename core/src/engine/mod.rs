//! The engine contract: what an event loop gives the core.
//!
//! # Ground rules
//!
//! The core has no clock, no timers and no I/O. An *engine* (Lwt's
//! `Lwt_engine`) provides a monotonic clock, timers, a way to ask for a turn,
//! and a `Send` handle to wake it from other threads. Engines install
//! themselves on their thread with [`install`]; [`crate::sleep`],
//! [`crate::pause`] turns and foreign wakers then use whichever is installed.
//! Three engines exist: `lwt-native` (mio), `lwt-wasm` (the JS event loop),
//! and [`crate::testing::VirtualEngine`] (a manual clock, for tests).
//!
//! Every engine guarantees:
//!
//! 1. **No early timers.** A timer armed for a deadline fires when the engine's
//!    clock reads at least that deadline, never before.
//! 2. **FIFO among equals.** Timers with equal deadlines fire in the order they
//!    were armed.
//! 3. **No re-entry.** Timers fire and turns run from the engine's own loop,
//!    never from inside a callback of the resolution loop.
//! 4. **Turns.** After it was asked with [`Engine::request_turn`], the engine
//!    calls [`run_turn`] after it has polled I/O and fired due timers. Each
//!    call does a bounded amount of work (it resolves snapshots). An engine
//!    may call it several times in a row within one task of its host (the
//!    browser engine does, until a time budget is spent), as long as it then
//!    hands back to its host (the poller, the browser) so I/O, input and
//!    rendering are never starved.
//! 5. **Yields.** After [`Engine::request_yield`], the engine calls
//!    [`run_yielded`] before it next polls I/O or fires timers (a microtask in
//!    a browser).
//! 6. **Cancel releases.** [`Engine::cancel_timer`] drops the timer's closure
//!    without running it; canceling an unknown or fired timer does nothing.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::{Rc, Weak};
use std::sync::Arc;

pub(crate) mod turn;

use crate::promise::{task, Promise, Resolver};
use crate::time::Instant;

/// Identifies an armed timer, for [`Engine::cancel_timer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub u64);

/// Wakes an engine's loop from any thread (a `mio::Waker`, a flag, ...).
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicBool, Ordering}};
/// let woken = Arc::new(AtomicBool::new(false));
/// let w = woken.clone();
/// let handle = lwt::engine::WakeHandle::new(move || w.store(true, Ordering::SeqCst));
/// std::thread::spawn(move || handle.wake()).join().unwrap();
/// assert!(woken.load(Ordering::SeqCst));
/// ```
#[derive(Clone)]
pub struct WakeHandle(Arc<dyn Fn() + Send + Sync>);

impl WakeHandle {
    /// A handle that calls `wake` when woken.
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> WakeHandle {
        WakeHandle(Arc::new(wake))
    }

    /// Wakes the engine: it will run a turn soon.
    pub fn wake(&self) {
        (self.0)()
    }
}

impl fmt::Debug for WakeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WakeHandle")
    }
}

/// An event loop, as the core sees it. See the module docs for what every
/// implementation must guarantee.
///
/// ```
/// // The virtual engine is one; engines are used through the core's functions.
/// let engine = lwt::testing::VirtualEngine::new();
/// let slept = lwt::sleep(std::time::Duration::from_secs(5));
/// engine.advance(std::time::Duration::from_secs(5));
/// assert!(slept.is_fulfilled());
/// ```
pub trait Engine {
    /// The engine's monotonic clock.
    fn now(&self) -> Instant;
    /// Arms a timer: `fire` runs at or after `deadline`.
    fn arm_timer(&self, deadline: Instant, fire: Box<dyn FnOnce()>) -> TimerId;
    /// Disarms a timer, dropping its closure unrun.
    fn cancel_timer(&self, timer: TimerId);
    /// Asks for a call to [`run_turn`] soon. Cheap when already asked.
    fn request_turn(&self);
    /// Asks for a call to [`run_yielded`] before I/O and timers. The default
    /// asks for a turn.
    fn request_yield(&self) {
        self.request_turn()
    }
    /// A handle that wakes this engine from another thread.
    fn wake_handle(&self) -> WakeHandle;
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<dyn Engine>>> = const { RefCell::new(None) };
    static YIELDED: RefCell<VecDeque<Resolver<()>>> = const { RefCell::new(VecDeque::new()) };
}

/// The engine installed on this thread, if any.
///
/// ```
/// assert!(lwt::engine::current().is_none());
/// let _engine = lwt::testing::VirtualEngine::new();
/// assert!(lwt::engine::current().is_some());
/// ```
pub fn current() -> Option<Rc<dyn Engine>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Keeps an engine installed; dropping it puts back the previous one.
#[must_use = "the engine is uninstalled when this guard is dropped"]
pub struct Installed {
    previous: Option<Rc<dyn Engine>>,
}

impl fmt::Debug for Installed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Installed")
    }
}

/// Makes `engine` the current engine on this thread until the guard is
/// dropped, and connects it to the core: pauses and foreign wakers ask it for
/// turns, other threads wake it through its [`WakeHandle`].
///
/// ```
/// let engine = std::rc::Rc::new(lwt::testing::VirtualEngine::detached());
/// let guard = lwt::engine::install(engine.clone());
/// assert!(lwt::engine::current().is_some());
/// drop(guard);
/// assert!(lwt::engine::current().is_none());
/// ```
pub fn install(engine: Rc<dyn Engine>) -> Installed {
    connect(Some(&engine));
    let previous = CURRENT.with(|c| c.borrow_mut().replace(engine));
    Installed { previous }
}

fn connect(engine: Option<&Rc<dyn Engine>>) {
    match engine {
        Some(e) => {
            crate::task::set_remote_notify(Some(e.wake_handle()));
            let weak: Weak<dyn Engine> = Rc::downgrade(e);
            turn::register_pause_notifier(Some(Box::new(move |_| {
                if let Some(e) = weak.upgrade() {
                    e.request_turn();
                }
            })));
        }
        None => {
            crate::task::set_remote_notify(None);
            turn::register_pause_notifier(None);
        }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let previous = self.previous.take();
        connect(previous.as_ref());
        let replaced = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), previous));
        drop(replaced);
    }
}

/// One turn of the core's work, for engines: leftover queued callbacks,
/// yielded promises, tasks woken by foreign wakers, then a snapshot of the
/// paused promises. Called from inside a callback, it only asks for another
/// turn (a turn never re-enters the resolution loop).
///
/// ```
/// let p = lwt::pause();
/// lwt::engine::run_turn();
/// assert!(p.is_fulfilled());
/// ```
pub fn run_turn() {
    if crate::promise::resolve::in_callback() {
        if let Some(e) = current() {
            e.request_turn();
        }
        return;
    }
    crate::promise::resolve::drain();
    resolve_yielded();
    crate::task::run_woken();
    turn::wakeup_paused();
}

/// Resolves the promises of [`crate::yield_now`] made so far (a snapshot).
///
/// ```
/// let y = lwt::yield_now();
/// lwt::engine::run_yielded();
/// assert!(y.is_fulfilled());
/// ```
pub fn run_yielded() {
    if crate::promise::resolve::in_callback() {
        return;
    }
    crate::promise::resolve::drain();
    resolve_yielded();
}

fn resolve_yielded() {
    let snapshot = YIELDED.with(|y| {
        let mut y = y.borrow_mut();
        if y.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut *y))
        }
    });
    for r in snapshot.into_iter().flatten() {
        let _ = r.resolve(());
    }
}

/// True when a turn would have something to do: paused or yielded promises,
/// woken tasks. Engines block in their poller only when this is false.
///
/// ```
/// assert!(!lwt::engine::has_work());
/// let p = lwt::pause();
/// assert!(lwt::engine::has_work());
/// p.cancel();
/// lwt::engine::run_turn();
/// assert!(!lwt::engine::has_work());
/// ```
pub fn has_work() -> bool {
    turn::paused_count() > 0 || YIELDED.with(|y| !y.borrow().is_empty()) || crate::task::has_woken()
}

/// A promise resolved as soon as the code running now has finished, before
/// the engine polls I/O, fires timers or (in a browser) renders: a microtask
/// in a browser, the end of the current turn natively (Lwt_js's `yield`).
///
/// Compare [`crate::pause`], which waits for the *next* turn, after I/O and
/// timers: use `pause` to let the world in, `yield_now` only to let other
/// already-runnable promise code go first.
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// let y = lwt::yield_now();
/// assert!(y.is_pending());
/// engine.run_until_idle();
/// assert!(y.is_fulfilled());
/// ```
pub fn yield_now() -> Promise<()> {
    let (p, r) = task();
    YIELDED.with(|y| y.borrow_mut().push_back(r));
    if let Some(e) = current() {
        e.request_yield();
    }
    p
}
