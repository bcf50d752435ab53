//! Test tools: a deterministic virtual-time engine ([`VirtualEngine`]) and an
//! event log for ordering tests ([`Log`]).
//!
//! # Ground rules
//!
//! * The clock moves only when the test says so ([`VirtualEngine::advance`]),
//!   or when [`VirtualEngine::run`] has nothing else to do and jumps to the
//!   next timer. No test of time ever reads the wall clock.
//! * Timers fire in deadline order, FIFO among equal deadlines, and never
//!   before the clock reads their deadline; between two timers every turn the
//!   fired callbacks asked for runs, as on a real engine. The timers are a
//!   [`TimerQueue`], the one the browser engine
//!   uses too.
//! * Same inputs, same run: nothing depends on real time or thread timing.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::engine::{
    self, Engine, Installed, TimerFire, TimerId, TimerQueue, TimerTarget, WakeHandle,
};
use crate::error::Error;
use crate::promise::Promise;
use crate::time::Instant;

mod log;
pub use log::Log;

/// The engine state behind a [`VirtualEngine`].
struct Clock {
    now: Cell<Instant>,
    timers: RefCell<TimerQueue<TimerFire>>,
    turn_requested: Cell<bool>,
    remote: Arc<AtomicBool>,
}

impl Engine for Clock {
    fn now(&self) -> Instant {
        self.now.get()
    }

    fn arm_timer(&self, deadline: Instant, fire: Box<dyn FnOnce()>) -> TimerId {
        self.timers
            .borrow_mut()
            .arm(deadline, TimerFire::Call(fire))
    }

    fn arm_timer_target(&self, deadline: Instant, target: Rc<dyn TimerTarget>) -> TimerId {
        self.timers
            .borrow_mut()
            .arm(deadline, TimerFire::Target(target))
    }

    fn cancel_timer(&self, timer: TimerId) {
        // Dropped once the queue is no longer borrowed.
        let fire = self.timers.borrow_mut().cancel(timer);
        drop(fire);
    }

    fn request_turn(&self) {
        self.turn_requested.set(true);
    }

    fn wake_handle(&self) -> WakeHandle {
        let flag = self.remote.clone();
        WakeHandle::new(move || flag.store(true, Ordering::SeqCst))
    }
}

impl Clock {
    /// Removes and returns the earliest timer due at or before `limit`.
    fn pop_due(&self, limit: Instant) -> Option<(Instant, TimerFire)> {
        self.timers.borrow_mut().pop_due(limit)
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.timers.borrow_mut().next_deadline()
    }
}

/// A virtual-time engine with a manual clock. Creating it installs it on this
/// thread; dropping it uninstalls it.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let result = engine.block_on(async {
///     lwt::sleep(Duration::from_secs(3600)).await?; // an hour, instantly
///     Ok(lwt::now()?.since_epoch().as_secs())
/// });
/// assert_eq!(result.unwrap(), 3600);
/// ```
pub struct VirtualEngine {
    clock: Rc<Clock>,
    installed: Option<Installed>,
}

impl std::fmt::Debug for VirtualEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualEngine")
            .field("now", &self.clock.now.get())
            .field("timers", &self.timer_count())
            .finish()
    }
}

impl Default for VirtualEngine {
    fn default() -> Self {
        VirtualEngine::new()
    }
}

impl VirtualEngine {
    fn make() -> Rc<Clock> {
        Rc::new(Clock {
            now: Cell::new(Instant::EPOCH),
            timers: RefCell::new(TimerQueue::new()),
            turn_requested: Cell::new(false),
            remote: Arc::new(AtomicBool::new(false)),
        })
    }

    /// A new engine at the epoch, installed on this thread.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// assert_eq!(engine.now(), lwt::Instant::EPOCH);
    /// ```
    pub fn new() -> VirtualEngine {
        let clock = Self::make();
        let installed = engine::install(clock.clone());
        VirtualEngine {
            clock,
            installed: Some(installed),
        }
    }

    /// A new engine that is not installed: an [`Engine`] value to install with
    /// [`engine::install`] yourself.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::detached();
    /// assert!(lwt::engine::current().is_none());
    /// # drop(engine);
    /// ```
    pub fn detached() -> VirtualEngine {
        VirtualEngine {
            clock: Self::make(),
            installed: None,
        }
    }

    /// The clock.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// engine.advance(std::time::Duration::from_millis(5));
    /// assert_eq!(engine.now().since_epoch().as_millis(), 5);
    /// ```
    pub fn now(&self) -> Instant {
        self.clock.now.get()
    }

    /// How many timers are armed (for leak checks).
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let s = lwt::sleep(std::time::Duration::from_secs(1));
    /// assert_eq!(engine.timer_count(), 1);
    /// s.cancel();
    /// assert_eq!(engine.timer_count(), 0);
    /// ```
    pub fn timer_count(&self) -> usize {
        self.clock.timers.borrow().len()
    }

    /// The earliest armed deadline.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let _s = lwt::sleep(std::time::Duration::from_secs(2));
    /// assert_eq!(engine.next_deadline().unwrap().since_epoch().as_secs(), 2);
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        self.clock.next_deadline()
    }

    /// Runs everything that can run without moving the clock: due timers,
    /// requested turns, yields, pauses, woken tasks. A loop that pauses
    /// forever keeps this running forever, as it would keep a real engine busy.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let p = lwt::pause().bind(|()| lwt::pause());
    /// engine.run_until_idle();
    /// assert!(p.is_fulfilled());
    /// ```
    pub fn run_until_idle(&self) {
        loop {
            // Yields first, before timers fire (the engine contract's rule 5).
            engine::run_yielded();
            let now = self.clock.now.get();
            if let Some((_, fire)) = self.clock.pop_due(now) {
                fire.run();
                continue;
            }
            let remote = self.clock.remote.load(Ordering::Relaxed)
                && self.clock.remote.swap(false, Ordering::AcqRel);
            let requested = self.clock.turn_requested.replace(false) | remote;
            if requested || engine::has_work() {
                engine::run_turn();
                continue;
            }
            return;
        }
    }

    /// Moves the clock forward by `d`, firing the timers that fall due in
    /// deadline order, each at its own instant, running all other work in
    /// between.
    ///
    /// ```
    /// use std::time::Duration;
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    /// for ms in [30, 10, 20] {
    ///     let s = seen.clone();
    ///     lwt::sleep(Duration::from_millis(ms)).on_success(move |()| {
    ///         s.borrow_mut().push(lwt::now().unwrap().since_epoch().as_millis())
    ///     });
    /// }
    /// engine.advance(Duration::from_millis(25));
    /// assert_eq!(*seen.borrow(), [10, 20]);
    /// ```
    pub fn advance(&self, d: Duration) {
        self.advance_to(self.now() + d);
    }

    /// Moves the clock forward to `target` (no effect if it is in the past),
    /// like [`VirtualEngine::advance`].
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// engine.advance_to(lwt::Instant::from_epoch(std::time::Duration::from_secs(9)));
    /// assert_eq!(engine.now().since_epoch().as_secs(), 9);
    /// ```
    pub fn advance_to(&self, target: Instant) {
        self.run_until_idle();
        while let Some((deadline, fire)) = self.clock.pop_due(target) {
            if deadline > self.clock.now.get() {
                self.clock.now.set(deadline);
            }
            fire.run();
            self.run_until_idle();
        }
        if target > self.clock.now.get() {
            self.clock.now.set(target);
        }
        self.run_until_idle();
    }

    /// Runs until `p` is resolved, jumping the clock to the next timer
    /// whenever nothing else can run. If `p` is still pending when nothing
    /// at all is left to do, that is a deadlock: the result is an error saying
    /// so (no wall-clock wait, no hang).
    ///
    /// ```
    /// use std::time::Duration;
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let p = lwt::sleep(Duration::from_secs(60)).map(|()| "done");
    /// assert_eq!(engine.run(&p).unwrap(), "done");
    /// assert_eq!(engine.now().since_epoch().as_secs(), 60);
    /// let stuck = lwt::Promise::<()>::never();
    /// assert!(engine.run(&stuck).is_err());
    /// ```
    pub fn run<T: Clone + 'static>(&self, p: &Promise<T>) -> Result<T, Error> {
        loop {
            self.run_until_idle();
            if let Some(r) = p.peek() {
                return r;
            }
            match self.clock.next_deadline() {
                Some(deadline) => self.advance_to(deadline),
                None => {
                    return Err(Error::msg(
                        "VirtualEngine::run: the promise is pending and nothing is left \
                         that could resolve it (no timer, no turn, no pause)",
                    ))
                }
            }
        }
    }

    /// Spawns `future` as a task and [`VirtualEngine::run`]s it.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// assert_eq!(engine.block_on(async { Ok(1 + 1) }).unwrap(), 2);
    /// ```
    pub fn block_on<T: Clone + 'static>(
        &self,
        future: impl Future<Output = Result<T, Error>> + 'static,
    ) -> Result<T, Error> {
        self.run(&crate::spawn(future))
    }
}

impl Engine for VirtualEngine {
    fn now(&self) -> Instant {
        self.clock.now()
    }
    fn arm_timer(&self, deadline: Instant, fire: Box<dyn FnOnce()>) -> TimerId {
        self.clock.arm_timer(deadline, fire)
    }
    fn arm_timer_target(&self, deadline: Instant, target: Rc<dyn TimerTarget>) -> TimerId {
        self.clock.arm_timer_target(deadline, target)
    }
    fn cancel_timer(&self, timer: TimerId) {
        self.clock.cancel_timer(timer)
    }
    fn request_turn(&self) {
        self.clock.request_turn()
    }
    fn wake_handle(&self) -> WakeHandle {
        self.clock.wake_handle()
    }
}

impl Drop for VirtualEngine {
    fn drop(&mut self) {
        // Uninstall first, then drop the timers (their closures may hold
        // resolvers whose promises have callbacks).
        drop(self.installed.take());
        let timers = self.clock.timers.borrow_mut().take_all();
        drop(timers);
    }
}
