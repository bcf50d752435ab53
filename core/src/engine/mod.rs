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
//! Installing is called *install* everywhere: [`install`] here, for any
//! engine value (it returns an [`Installed`] guard); `lwt_native::install()`
//! and `lwt_wasm::install()` install their engine on the thread for good
//! (idempotent; every function of those crates calls it);
//! [`VirtualEngine::new`](crate::testing::VirtualEngine::new) installs the
//! engine it makes until it is dropped, and
//! [`VirtualEngine::detached`](crate::testing::VirtualEngine::detached) makes
//! one for [`install`].
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
//!
//! This module is the contract alone: the [`Engine`] trait, [`Instant`],
//! [`TimerId`], [`WakeHandle`], and installing an engine. What the core does
//! when an engine gives it a turn ([`run_turn`], [`run_yielded`],
//! [`has_work`], with `pause` and [`yield_now`]) lives in the core's turn
//! module, and the wakers of tasks awaiting foreign futures beside it; both
//! are re-exported here for engines.
//!
//! [`TimerQueue`] is a clock-free store of timers that keeps guarantees 1, 2
//! and 6 (with [`TimerId`]s that a stale cancel cannot confuse), for engines
//! to build on: the virtual and the browser engines keep their timers in
//! one; the native engine keeps a timing wheel and shares its id codec.

use std::cell::RefCell;
use std::fmt;
use std::ops::{Add, Sub};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

pub(crate) mod turn;
pub(crate) mod wake;

pub use turn::{has_work, run_turn, run_yielded, yield_now};

/// A point on an engine's monotonic clock: the time since the engine's epoch.
///
/// ```
/// use std::time::Duration;
/// let t = lwt::Instant::from_epoch(Duration::from_secs(1));
/// assert_eq!((t + Duration::from_millis(500)) - t, Duration::from_millis(500));
/// assert_eq!(t - (t + Duration::from_secs(1)), Duration::ZERO); // saturates
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// The engine's epoch.
    pub const EPOCH: Instant = Instant(Duration::ZERO);

    /// The instant `since_epoch` after the epoch.
    pub const fn from_epoch(since_epoch: Duration) -> Instant {
        Instant(since_epoch)
    }

    /// The time since the epoch.
    ///
    /// ```
    /// assert_eq!(lwt::Instant::EPOCH.since_epoch(), std::time::Duration::ZERO);
    /// ```
    pub const fn since_epoch(self) -> Duration {
        self.0
    }

    /// `self + d`, or `None` if that overflows.
    ///
    /// ```
    /// assert!(lwt::Instant::EPOCH.checked_add(std::time::Duration::MAX).is_some());
    /// let late = lwt::Instant::from_epoch(std::time::Duration::from_secs(1));
    /// assert!(late.checked_add(std::time::Duration::MAX).is_none());
    /// ```
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    ///
    /// ```
    /// let a = lwt::Instant::from_epoch(std::time::Duration::from_secs(3));
    /// assert_eq!(a.saturating_duration_since(lwt::Instant::EPOCH).as_secs(), 3);
    /// ```
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturates at the largest representable instant.
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturates at zero.
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

mod queue;
pub use queue::TimerQueue;

/// Identifies an armed timer, for [`Engine::cancel_timer`]. Engines that keep
/// timers in a slab make it with [`TimerId::from_parts`] (a slot and a
/// generation), as [`TimerQueue`] does.
///
/// ```
/// let id = lwt::engine::TimerId::from_parts(1, 2);
/// assert_eq!(id.0, (2 << 32) | 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub u64);

/// What a timer armed with [`Engine::arm_timer_target`] fires: shared, so
/// the engine keeps a reference count, not a boxed closure.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// struct Bell(Cell<u32>);
/// impl lwt::engine::TimerTarget for Bell {
///     fn fire(self: Rc<Self>) {
///         self.0.set(self.0.get() + 1);
///     }
/// }
/// let engine = lwt::testing::VirtualEngine::new();
/// let bell = Rc::new(Bell(Cell::new(0)));
/// let at = lwt::Instant::from_epoch(std::time::Duration::from_secs(1));
/// let current = lwt::engine::current().unwrap();
/// current.arm_timer_target(at, bell.clone());
/// engine.advance(std::time::Duration::from_secs(1));
/// assert_eq!(bell.0.get(), 1);
/// ```
pub trait TimerTarget {
    /// The timer is due. Runs from the engine's loop, like a timer closure.
    fn fire(self: Rc<Self>);
}

/// What an armed timer runs, as an engine stores it: a closure
/// ([`Engine::arm_timer`]) or a shared target ([`Engine::arm_timer_target`],
/// a sleep's own node, armed without an allocation of its own).
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use lwt::engine::{TimerFire, TimerTarget};
/// struct Bell(Cell<u32>);
/// impl TimerTarget for Bell {
///     fn fire(self: Rc<Self>) {
///         self.0.set(self.0.get() + 1);
///     }
/// }
/// let bell = Rc::new(Bell(Cell::new(0)));
/// TimerFire::Target(bell.clone()).run();
/// let b = bell.clone();
/// TimerFire::Call(Box::new(move || b.0.set(b.0.get() + 10))).run();
/// assert_eq!(bell.0.get(), 11);
/// ```
pub enum TimerFire {
    /// A boxed closure.
    Call(Box<dyn FnOnce()>),
    /// A shared target, fired through [`TimerTarget::fire`].
    Target(Rc<dyn TimerTarget>),
}

impl TimerFire {
    /// Runs the closure, or fires the target.
    pub fn run(self) {
        match self {
            TimerFire::Call(f) => f(),
            TimerFire::Target(t) => t.fire(),
        }
    }
}

impl fmt::Debug for TimerFire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimerFire::Call(_) => "TimerFire::Call",
            TimerFire::Target(_) => "TimerFire::Target",
        })
    }
}

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
    /// Arms a timer that fires `target` ([`TimerTarget::fire`]) at or after
    /// `deadline`: what a sleep uses, so that arming costs no allocation
    /// beyond the target's own (the target is the sleep's promise). The
    /// default boxes a call to [`Engine::arm_timer`]; an engine that stores
    /// targets as they are overrides it. Canceling drops the engine's
    /// reference unrun, as for a closure.
    fn arm_timer_target(&self, deadline: Instant, target: Rc<dyn TimerTarget>) -> TimerId {
        self.arm_timer(deadline, Box::new(move || target.fire()))
    }
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
            // Pauses ask the current engine for a turn themselves (see
            // `turn`): the pause notifier is left to the user.
            wake::set_remote_notify(Some(e.wake_handle()));
        }
        None => wake::set_remote_notify(None),
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
