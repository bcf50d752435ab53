//! Counting the engine's live timers from a body, on any engine: promises
//! made inside [`TimerCount::track`] arm their timers through an engine that
//! forwards everything to the one it wraps and counts the timers that have
//! neither fired nor been canceled, and every timer armed at all. So "the
//! loser's timer was released" is checked through the engine contract itself
//! (`cancel_timer` was called), the same way on the virtual, native and wasm
//! engines, and so is "this sleep never armed a timer".
//!
//! Timers are the one engine resource a body can make: the engine contract
//! has nothing else a promise holds. I/O interest (native readiness waits)
//! and listeners (DOM events) are made only through an engine's own crate,
//! and counted there: `lwt_native::io_stats` and `lwt_wasm::stats`, in that
//! crate's tests.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use lwt::engine::{self, Installed, TimerId, WakeHandle};
use lwt::{Engine, Error, Instant};

struct Counting {
    inner: Rc<dyn Engine>,
    live: Rc<RefCell<HashSet<TimerId>>>,
    armed: Cell<usize>,
}

impl Engine for Counting {
    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn arm_timer(&self, deadline: Instant, fire: Box<dyn FnOnce()>) -> TimerId {
        let me: Rc<Cell<Option<TimerId>>> = Rc::default();
        let (live, id_of) = (self.live.clone(), me.clone());
        let id = self.inner.arm_timer(
            deadline,
            Box::new(move || {
                if let Some(id) = id_of.get() {
                    live.borrow_mut().remove(&id);
                }
                fire()
            }),
        );
        me.set(Some(id));
        self.live.borrow_mut().insert(id);
        self.armed.set(self.armed.get() + 1);
        id
    }

    fn cancel_timer(&self, timer: TimerId) {
        self.live.borrow_mut().remove(&timer);
        self.inner.cancel_timer(timer)
    }

    fn request_turn(&self) {
        self.inner.request_turn()
    }

    fn request_yield(&self) {
        self.inner.request_yield()
    }

    fn wake_handle(&self) -> WakeHandle {
        self.inner.wake_handle()
    }
}

/// Counts the timers armed inside [`TimerCount::track`] that are still
/// armed. Tracking installs the counting engine only for the duration of a
/// synchronous closure, so bodies running concurrently on one thread (wasm's
/// test runner runs async tests side by side) do not count each other's
/// timers. The counting engine lives as long as this value, so canceling a
/// tracked promise reaches the wrapped engine through it.
pub struct TimerCount {
    engine: Rc<Counting>,
}

impl TimerCount {
    /// Wraps the current engine; an error when none is installed.
    pub fn new() -> Result<TimerCount, Error> {
        let inner = engine::current().ok_or_else(|| Error::msg("no engine installed"))?;
        Ok(TimerCount {
            engine: Rc::new(Counting {
                inner,
                live: Rc::default(),
                armed: Cell::new(0),
            }),
        })
    }

    /// Runs `f` with the counting engine installed: the timers `f` arms are
    /// counted until they fire or are canceled.
    pub fn track<R>(&self, f: impl FnOnce() -> R) -> R {
        let engine: Rc<dyn Engine> = self.engine.clone();
        let _installed: Installed = engine::install(engine);
        f()
    }

    /// Tracked timers still armed.
    pub fn live(&self) -> usize {
        self.engine.live.borrow().len()
    }

    /// Timers armed inside [`TimerCount::track`] so far, fired, canceled or
    /// not.
    pub fn armed(&self) -> usize {
        self.engine.armed.get()
    }
}
