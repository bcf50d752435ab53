//! `Timeout`: Lwt_timeout, a restartable action on the engine's clock.
//!
//! # Ground rules
//!
//! * A [`Timeout`] is an action and a duration. [`Timeout::start`] arms one
//!   engine timer for `now + duration`; when it fires, the action runs once.
//!   Starting a started timeout restarts it with the full duration, as in
//!   Lwt. [`Timeout::stop`] disarms the timer and releases it at once;
//!   [`Timeout::change`] sets a new duration and restarts a started timeout.
//! * At most one timer per timeout is armed at any time, and a stopped or
//!   fired timeout holds none. A started timeout keeps running when its
//!   handles are dropped (the engine's timer owns it until it fires), as
//!   Lwt's does; drop a handle after stopping it to let it go.
//! * The action gets a handle on its own timeout, to restart it
//!   (`|t| t.start()`) without holding one of its own: a handle captured by
//!   the action would be a reference cycle, never freed. (Lwt's action takes
//!   `()`; a garbage collector makes the cycle harmless there.)
//! * The action returns `Result<(), Error>`: an `Err`, or natively a panic,
//!   goes to the handler of [`Timeout::set_exn_handler`] (Lwt's
//!   `Lwt_timeout.set_exn_handler`), whose default hands it to the
//!   async-exception hook ([`crate::set_async_exception_hook`]). The action
//!   runs from the engine's timer, outside any resolution, never inside
//!   `start`.
//! * Lwt counts whole seconds and rejects durations below one; this one
//!   takes any [`Duration`], as fine as the engine's timers. A duration too
//!   long to represent never fires, like [`crate::sleep`]'s.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};
use std::time::Duration;

use crate::engine::{self, Engine, TimerId};
use crate::error::Error;
use crate::hook::report_unhandled;
use crate::promise::resolve::catch;

type Action = Box<dyn FnMut(&Timeout) -> Result<(), Error>>;
type Handler = Rc<dyn Fn(&Error)>;

thread_local! {
    static HANDLER: RefCell<Option<Handler>> = const { RefCell::new(None) };
}

/// Hands a failed action's error to the handler, or to the default one.
fn handle(e: &Error) {
    let handler = HANDLER.with(|h| h.borrow().clone());
    match handler {
        Some(h) => h(e),
        None => report_unhandled(e),
    }
}

/// A restartable timeout: an action that runs once the engine's clock has
/// advanced by a duration after [`Timeout::start`] (Lwt's `Lwt_timeout`).
/// Handles are cheap clones of one timeout.
///
/// ```
/// use std::{cell::Cell, rc::Rc, time::Duration};
/// let engine = lwt::testing::VirtualEngine::new();
/// let fired = Rc::new(Cell::new(0));
/// let f = fired.clone();
/// let t = lwt::Timeout::new(Duration::from_secs(3), move |_| {
///     f.set(f.get() + 1);
///     Ok(())
/// });
/// t.start().unwrap();
/// engine.advance(Duration::from_secs(2));
/// t.start().unwrap(); // restarts: due 3 s from now, not 1 s
/// engine.advance(Duration::from_secs(2));
/// assert_eq!(fired.get(), 0);
/// engine.advance(Duration::from_secs(1));
/// assert_eq!(fired.get(), 1);
/// assert!(!t.is_started());
/// t.start().unwrap();
/// t.stop(); // the timer is released at once
/// assert_eq!(engine.timer_count(), 0);
/// ```
#[derive(Clone)]
pub struct Timeout {
    inner: Rc<Inner>,
}

struct Inner {
    duration: Cell<Duration>,
    action: RefCell<Action>,
    armed: RefCell<Armed>,
}

/// Whether a timeout is started, and the timer behind it.
enum Armed {
    Stopped,
    /// Started; `None` when the deadline is too far to represent.
    Started(Option<(Weak<dyn Engine>, TimerId)>),
}

impl Timeout {
    /// A stopped timeout that will run `action` `duration` after each
    /// [`Timeout::start`] (Lwt's `Lwt_timeout.create`). The action gets the
    /// timeout, to restart it; an `Err` from it goes to the handler of
    /// [`Timeout::set_exn_handler`].
    ///
    /// ```
    /// let t = lwt::Timeout::new(std::time::Duration::from_millis(5), |_| Ok(()));
    /// assert!(!t.is_started());
    /// assert_eq!(t.duration(), std::time::Duration::from_millis(5));
    /// ```
    pub fn new(
        duration: Duration,
        action: impl FnMut(&Timeout) -> Result<(), Error> + 'static,
    ) -> Timeout {
        Timeout {
            inner: Rc::new(Inner {
                duration: Cell::new(duration),
                action: RefCell::new(Box::new(action)),
                armed: RefCell::new(Armed::Stopped),
            }),
        }
    }

    /// Starts the timeout on the current engine: the action runs once the
    /// duration has passed (Lwt's `Lwt_timeout.start`). Starting a started
    /// timeout stops it and starts it again with its whole duration. Fails,
    /// leaving it stopped, when no engine is installed
    /// ([`Error::is_no_engine`]).
    ///
    /// ```
    /// let t = lwt::Timeout::new(std::time::Duration::from_secs(1), |_| Ok(()));
    /// assert!(t.start().unwrap_err().is_no_engine());
    /// let _engine = lwt::testing::VirtualEngine::new();
    /// t.start().unwrap();
    /// assert!(t.is_started());
    /// ```
    pub fn start(&self) -> Result<(), Error> {
        self.stop();
        let engine = engine::current().ok_or_else(|| Error::no_engine("Timeout::start"))?;
        let timer = engine
            .now()
            .checked_add(self.inner.duration.get())
            .map(|deadline| {
                let me = self.inner.clone();
                let id = engine.arm_timer(deadline, Box::new(move || fire(&me)));
                (Rc::downgrade(&engine), id)
            });
        *self.inner.armed.borrow_mut() = Armed::Started(timer);
        Ok(())
    }

    /// Stops the timeout, if it is started, and releases its timer; the
    /// action does not run (Lwt's `Lwt_timeout.stop`).
    ///
    /// ```
    /// use std::time::Duration;
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let t = lwt::Timeout::new(Duration::from_secs(1), |_| unreachable!());
    /// t.start().unwrap();
    /// t.stop();
    /// engine.advance(Duration::from_secs(2));
    /// ```
    pub fn stop(&self) {
        let armed = std::mem::replace(&mut *self.inner.armed.borrow_mut(), Armed::Stopped);
        if let Armed::Started(Some((engine, id))) = armed {
            if let Some(engine) = engine.upgrade() {
                engine.cancel_timer(id);
            }
        }
    }

    /// Sets the duration; a started timeout is restarted with it, as by
    /// [`Timeout::start`] (Lwt's `Lwt_timeout.change`). Fails only when the
    /// timeout is started and no engine is installed any more; it is then
    /// stopped.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc, time::Duration};
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let fired = Rc::new(Cell::new(false));
    /// let f = fired.clone();
    /// let t = lwt::Timeout::new(Duration::from_secs(10), move |_| { f.set(true); Ok(()) });
    /// t.start().unwrap();
    /// t.change(Duration::from_secs(1)).unwrap();
    /// engine.advance(Duration::from_secs(1));
    /// assert!(fired.get());
    /// ```
    pub fn change(&self, duration: Duration) -> Result<(), Error> {
        self.inner.duration.set(duration);
        if self.is_started() {
            self.start()
        } else {
            Ok(())
        }
    }

    /// True from [`Timeout::start`] until the action runs or the timeout is
    /// stopped.
    ///
    /// ```
    /// let t = lwt::Timeout::new(std::time::Duration::from_secs(1), |_| Ok(()));
    /// assert!(!t.is_started());
    /// ```
    pub fn is_started(&self) -> bool {
        matches!(*self.inner.armed.borrow(), Armed::Started(_))
    }

    /// The duration a start waits for.
    ///
    /// ```
    /// let t = lwt::Timeout::new(std::time::Duration::from_secs(4), |_| Ok(()));
    /// assert_eq!(t.duration().as_secs(), 4);
    /// ```
    pub fn duration(&self) -> Duration {
        self.inner.duration.get()
    }

    /// Replaces the handler of this thread's timeout actions that fail (an
    /// `Err`, or natively a panic), returning the previous one; `None`
    /// restores the default, which hands the error to the async-exception
    /// hook ([`crate::report_unhandled`]) (Lwt's
    /// `Lwt_timeout.set_exn_handler`).
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc, time::Duration};
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let seen = Rc::new(RefCell::new(Vec::new()));
    /// let s = seen.clone();
    /// let previous = lwt::Timeout::set_exn_handler(Some(Box::new(move |e: &lwt::Error| {
    ///     s.borrow_mut().push(e.to_string())
    /// })));
    /// let t = lwt::Timeout::new(Duration::from_secs(1), |_| Err(lwt::Error::msg("lost")));
    /// t.start().unwrap();
    /// engine.advance(Duration::from_secs(1));
    /// assert_eq!(*seen.borrow(), ["lost"]);
    /// lwt::Timeout::set_exn_handler(previous);
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn set_exn_handler(handler: Option<Box<dyn Fn(&Error)>>) -> Option<Box<dyn Fn(&Error)>> {
        let previous =
            HANDLER.with(|h| std::mem::replace(&mut *h.borrow_mut(), handler.map(Rc::from)));
        previous.map(|h| Box::new(move |e: &Error| h(e)) as Box<dyn Fn(&Error)>)
    }
}

/// The timer of `inner` fired: it is stopped, and its action runs.
fn fire(inner: &Rc<Inner>) {
    *inner.armed.borrow_mut() = Armed::Stopped;
    let Ok(mut action) = inner.action.try_borrow_mut() else {
        // Its own action made the engine fire timers (a test clock advanced
        // from inside it): this run is skipped, and said so.
        handle(&Error::invalid_argument(
            "Timeout: the action fired again while it was still running",
        ));
        return;
    };
    let me = Timeout {
        inner: inner.clone(),
    };
    let result = catch("the timeout's action", || action(&me)).and_then(|r| r);
    drop(action);
    if let Err(e) = result {
        handle(&e);
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("duration", &self.duration())
            .field("started", &self.is_started())
            .finish_non_exhaustive()
    }
}
