//! Counting the engine's live timers from a body, on any engine: the body
//! installs [`TimerCount`], an engine that forwards everything to the one
//! it wraps and counts the timers armed through it that have neither fired
//! nor been canceled. So "the loser's timer was released" is checked through
//! the engine contract itself (`cancel_timer` was called), the same way on
//! the virtual, native and wasm engines.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use lwt::engine::{self, Installed, TimerId, WakeHandle};
use lwt::{Engine, Error, Instant};

struct Counting {
    inner: Rc<dyn Engine>,
    live: Rc<RefCell<HashSet<TimerId>>>,
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

/// While alive, the timers armed on this thread are counted; dropping it
/// puts the wrapped engine back.
pub struct TimerCount {
    live: Rc<RefCell<HashSet<TimerId>>>,
    _installed: Installed,
}

impl TimerCount {
    /// Wraps the current engine; an error when none is installed.
    pub fn install() -> Result<TimerCount, Error> {
        let inner = engine::current().ok_or_else(|| Error::msg("no engine installed"))?;
        let live: Rc<RefCell<HashSet<TimerId>>> = Rc::default();
        let installed = engine::install(Rc::new(Counting {
            inner,
            live: live.clone(),
        }));
        Ok(TimerCount {
            live,
            _installed: installed,
        })
    }

    /// Timers armed since [`TimerCount::install`] that are still armed.
    pub fn live(&self) -> usize {
        self.live.borrow().len()
    }
}
