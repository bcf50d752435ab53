//! Time, on top of the current engine: `sleep`, `timeout`, `with_timeout`,
//! `interval`.
//!
//! # Ground rules
//!
//! * The core never reads a clock of its own (`std::time::Instant` panics on
//!   wasm32): [`now`] asks the installed engine, and [`Instant`] is a
//!   duration since that engine's epoch.
//! * A sleep is a cancelable promise with one engine timer behind it. Canceling
//!   the sleep disarms the timer and drops its closure; the timer firing drops
//!   it too. Nothing is left behind either way.
//! * A deadline too far to represent (`now + d` overflows, or it is the last
//!   instant there is, `Duration::MAX` after the epoch) never fires: the
//!   sleep stays pending, holds no timer, and can still be canceled.
//! * With no engine installed, time functions give a rejected promise
//!   ([`Error::is_no_engine`]), never a panic.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

pub use crate::engine::Instant;

use crate::engine::{self, Engine, TimerId, TimerTarget};
use crate::error::Error;
use crate::promise::node::{CancelTo, Core, Extra, Job, Node, NodeRef};
use crate::promise::resolve::settle;
use crate::promise::Promise;
use crate::sequential::{then_node, CancelVia, Next};

/// The current engine's clock.
///
/// ```
/// assert!(lwt::now().unwrap_err().is_no_engine());
/// let engine = lwt::testing::VirtualEngine::new();
/// engine.advance(std::time::Duration::from_secs(2));
/// assert_eq!(lwt::now().unwrap().since_epoch().as_secs(), 2);
/// ```
pub fn now() -> Result<Instant, Error> {
    engine::current()
        .map(|e| e.now())
        .ok_or_else(|| Error::no_engine("lwt::now"))
}

fn sleep_on(engine: &Rc<dyn Engine>, deadline: Option<Instant>) -> Promise<()> {
    let node = Rc::new(Node {
        core: Core::pending(CancelTo::This),
        extra: Sleep {
            timer: Cell::new(None),
            engine: Rc::downgrade(engine),
        },
    });
    // Too far to represent (the addition overflowed, or it is the last
    // instant there is, where a saturated `now + d` lands): never fires,
    // holds nothing, still cancelable.
    if let Some(deadline) = deadline.filter(|d| d.since_epoch() != Duration::MAX) {
        let id = engine.arm_timer_target(deadline, node.clone());
        node.extra.timer.set(Some(id));
    }
    Promise::from_node(node)
}

/// What a sleep's node holds beside its state: its engine timer, so that a
/// sleep is one allocation. The engine holds the node itself as the timer's
/// target ([`Engine::arm_timer_target`]); a cancel that reaches the node
/// disarms the timer ([`Extra::canceled`]), and a sleep folded into another
/// promise hands that job over as a hook ([`Extra::take_cancel_hook`]).
struct Sleep {
    /// Armed and not yet fired or disarmed.
    timer: Cell<Option<TimerId>>,
    engine: Weak<dyn Engine>,
}

impl Sleep {
    fn disarm(engine: &Weak<dyn Engine>, id: TimerId) {
        if let Some(e) = engine.upgrade() {
            e.cancel_timer(id);
        }
    }
}

impl Extra for Sleep {
    fn canceled(&self) {
        if let Some(id) = self.timer.take() {
            Sleep::disarm(&self.engine, id);
        }
    }

    fn take_cancel_hook(&self) -> Option<Job> {
        let id = self.timer.take()?;
        let engine = self.engine.clone();
        Some(Box::new(move || Sleep::disarm(&engine, id)))
    }
}

impl TimerTarget for Node<(), Sleep> {
    fn fire(self: Rc<Self>) {
        self.extra.timer.set(None);
        let node: NodeRef<()> = self;
        // A sleep canceled meanwhile stays canceled.
        settle(&node, Ok(()));
    }
}

/// A promise fulfilled after `d` on the current engine's clock
/// (Lwt_unix's `sleep`, Lwt_js's `sleep`). Canceling it disarms its timer.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let p = lwt::sleep(Duration::from_millis(10));
/// engine.advance(Duration::from_millis(9));
/// assert!(p.is_pending()); // never early
/// engine.advance(Duration::from_millis(1));
/// assert!(p.is_fulfilled());
/// ```
pub fn sleep(d: Duration) -> Promise<()> {
    match engine::current() {
        None => Promise::rejected(Error::no_engine("lwt::sleep")),
        Some(e) => {
            let deadline = e.now().checked_add(d);
            sleep_on(&e, deadline)
        }
    }
}

/// A promise fulfilled once the engine's clock reads `deadline`.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let p = lwt::sleep_until(lwt::Instant::from_epoch(Duration::from_secs(3)));
/// engine.advance(Duration::from_secs(3));
/// assert!(p.is_fulfilled());
/// ```
pub fn sleep_until(deadline: Instant) -> Promise<()> {
    match engine::current() {
        None => Promise::rejected(Error::no_engine("lwt::sleep_until")),
        Some(e) => sleep_on(&e, Some(deadline)),
    }
}

/// A promise rejected with a time-out error after `d` (Lwt_unix's
/// `timeout`). Canceling it disarms its timer.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let t = lwt::timeout::<u8>(Duration::from_secs(1));
/// engine.advance(Duration::from_secs(1));
/// assert!(t.peek().unwrap().unwrap_err().is_timeout());
/// ```
pub fn timeout<T: 'static>(d: Duration) -> Promise<T> {
    then_node(&sleep(d), CancelVia::Source, |_, r| {
        Next::Done(Err(match r {
            Ok(()) => Error::timeout(),
            Err(e) => e.clone(),
        }))
    })
}

/// `p`, unless `d` passes first: then `p` is canceled and the result is
/// rejected with a time-out error (Lwt_unix's `with_timeout`). Whichever
/// loses is canceled, so the timer does not outlive `p`.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let (slow, _r) = lwt::task::<u8>();
/// let p = lwt::with_timeout(Duration::from_secs(1), &slow);
/// engine.advance(Duration::from_secs(1));
/// assert!(p.peek().unwrap().unwrap_err().is_timeout());
/// assert!(slow.peek().unwrap().unwrap_err().is_canceled());
/// ```
pub fn with_timeout<T: 'static>(d: Duration, p: &Promise<T>) -> Promise<T> {
    crate::pick([p.clone(), timeout(d)])
}

/// Ticks every `period`, without drift: the n-th tick is due at
/// `start + n × period` whatever the lateness of the ones before; ticks that
/// fell due while nobody asked come out at once, one after another (tokio's
/// `MissedTickBehavior::Burst`). A `futures_core::Stream` of instants.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let mut ticks = lwt::interval(Duration::from_secs(1));
/// let first = ticks.tick();
/// engine.advance(Duration::from_secs(1));
/// assert_eq!(first.peek().unwrap().unwrap().since_epoch().as_secs(), 1);
/// ```
pub fn interval(period: Duration) -> Interval {
    let start = now().unwrap_or(Instant::EPOCH);
    Interval {
        period: period.max(Duration::from_nanos(1)),
        next: start + period,
        waiting: None,
    }
}

/// The stream of [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    next: Instant,
    waiting: Option<Promise<()>>,
}

impl Interval {
    /// A promise of the next tick's scheduled instant.
    ///
    /// ```
    /// use std::time::Duration;
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let mut ticks = lwt::interval(Duration::from_millis(10));
    /// engine.advance(Duration::from_millis(35)); // three ticks fell due
    /// for n in 1..=3 {
    ///     let t = ticks.tick();
    ///     engine.run_until_idle();
    ///     assert_eq!(t.peek().unwrap().unwrap().since_epoch().as_millis(), 10 * n);
    /// }
    /// ```
    pub fn tick(&mut self) -> Promise<Instant> {
        let due = self.next;
        self.next = due + self.period;
        // A sleep left by `poll_next` is for this very tick: reuse its timer.
        let sleep = self.waiting.take().unwrap_or_else(|| sleep_until(due));
        sleep.map(move |()| due)
    }

    /// The period.
    ///
    /// ```
    /// let i = lwt::interval(std::time::Duration::from_secs(2));
    /// assert_eq!(i.period().as_secs(), 2);
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl Drop for Interval {
    /// Releases the timer of a tick being waited for by `poll_next`.
    fn drop(&mut self) {
        if let Some(waiting) = self.waiting.take() {
            waiting.cancel();
        }
    }
}

impl futures_core::Stream for Interval {
    type Item = Result<Instant, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let due = self.next;
        let mut waiting = match self.waiting.take() {
            Some(w) => w,
            None => sleep_until(due),
        };
        match Pin::new(&mut waiting).poll(cx) {
            Poll::Pending => {
                self.waiting = Some(waiting);
                Poll::Pending
            }
            Poll::Ready(r) => {
                self.next = due + self.period;
                Poll::Ready(Some(r.map(|()| due)))
            }
        }
    }
}

use std::future::Future;

/// A pause that happens only when the current stretch of work has run long
/// enough: [`auto_pause`] makes one.
///
/// Cheap to clone; clones share one deadline.
#[derive(Clone, Debug)]
pub struct AutoPause {
    period: Duration,
    /// When the next call pauses; `None` until the first call (or the
    /// creation, when an engine was installed then).
    limit: Rc<std::cell::Cell<Option<Instant>>>,
}

/// Lwt_unix's `auto_pause period` (and `auto_yield`, its older name): a
/// function to call often from a long loop, which [`pause`](crate::pause)s
/// only when `period` has passed on the engine's clock since it last did
/// (or since it was made), and is otherwise already fulfilled. A busy
/// promise loop then gives the engine a turn (I/O, timers, the browser's
/// rendering) every `period` instead of at every step or never.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let auto = lwt::auto_pause(Duration::from_millis(10));
/// assert!(auto.pause().is_fulfilled()); // not 10 ms yet: no pause
/// engine.advance(Duration::from_millis(10));
/// let p = auto.pause(); // 10 ms passed: a real pause
/// assert!(p.is_pending());
/// engine.run_until_idle();
/// assert!(p.is_fulfilled());
/// assert!(auto.pause().is_fulfilled()); // and the next one waits 10 ms again
/// ```
pub fn auto_pause(period: Duration) -> AutoPause {
    let limit = engine::current().and_then(|e| e.now().checked_add(period));
    AutoPause {
        period,
        limit: Rc::new(std::cell::Cell::new(limit)),
    }
}

impl AutoPause {
    /// [`pause`](crate::pause) if `period` has passed since the last pause
    /// of this `AutoPause` (or its creation), a fulfilled promise otherwise.
    /// With no engine installed, a rejected promise
    /// ([`Error::is_no_engine`]).
    ///
    /// ```
    /// let auto = lwt::auto_pause(std::time::Duration::ZERO);
    /// assert!(auto.pause().peek().unwrap().unwrap_err().is_no_engine());
    /// ```
    pub fn pause(&self) -> Promise<()> {
        let Some(engine) = engine::current() else {
            return Promise::rejected(Error::no_engine("lwt::AutoPause::pause"));
        };
        let now = engine.now();
        match self.limit.get() {
            Some(limit) if now < limit => Promise::resolved(()),
            // The first call with no deadline yet starts the period.
            None if self.period > Duration::ZERO => {
                self.limit.set(now.checked_add(self.period));
                Promise::resolved(())
            }
            _ => {
                self.limit.set(now.checked_add(self.period));
                crate::pause()
            }
        }
    }

    /// The period given to [`auto_pause`].
    ///
    /// ```
    /// assert_eq!(lwt::auto_pause(std::time::Duration::from_millis(3)).period().as_millis(), 3);
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }
}
