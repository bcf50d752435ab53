//! The engine's internals: one thread's event loop and everything it owns.
//! Nothing here is public; `lib.rs` re-exports the public functions.
//!
//! # Ground rules
//!
//! A reading guide, in the order of the design:
//!
//! 1. this file: the [`Runtime`], what one thread's loop owns. One per
//!    thread, made on first use and kept for the thread's life;
//! 2. `main_loop`: one iteration of the loop, [`crate::run`], the hooks;
//! 3. `timer`: the timing wheel behind `lwt::sleep`;
//! 4. `reactor`: readiness of I/O sources, and the waits on it;
//! 5. `handle`: what other threads may touch ([`handle::Shared`]), and the
//!    [`crate::Handle`] and [`crate::RemoteResolver`] built on it;
//! 6. `pool`: the blocking pool ([`crate::detach`]), built on `handle`.
//!
//! Imports run one way. The children reach the [`Runtime`] through
//! `super::`; between siblings only `pool` imports another one (`handle`).
//! Nothing here imports the public I/O modules (`net`, `fs`, `io`, ...):
//! they sit on top and use [`reactor::Registered`] and the pool.
//!
//! No `RefCell` borrow of the [`Runtime`] is held while promise code runs:
//! waiters, closures and timers are taken out first, then resolved or run.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::rc::Rc;
use std::sync::Arc;

use mio::{Events, Poll, Registry, Token};

pub(crate) mod handle;
pub(crate) mod main_loop;
pub(crate) mod pool;
pub(crate) mod reactor;
mod timer;

use handle::Shared;
use main_loop::{Hooks, Ready};
use pool::Pool;
use reactor::{IoState, Sources};
use timer::Timers;

/// The poller token of the cross-thread waker (sources start at 1).
const WAKER: Token = Token(0);

/// A thread's event loop. Engine of [`lwt`] while [`crate::run`] runs.
pub(crate) struct Runtime {
    poll: RefCell<Poll>,
    events: RefCell<Events>,
    /// Reused buffer of one poll's events.
    ready: RefCell<Vec<Ready>>,
    registry: Registry,
    start: std::time::Instant,
    timers: RefCell<Timers>,
    turn_requested: Cell<bool>,
    yield_requested: Cell<bool>,
    /// Iterations since the poller was last polled (see
    /// `main_loop::POLL_EVERY_TURNS`).
    unpolled_turns: Cell<u32>,
    /// When the poller was last polled, in nanoseconds since `start`.
    last_poll: Cell<u64>,
    sources: RefCell<Sources>,
    shared: Arc<Shared>,
    hooks: RefCell<Hooks>,
    running: Cell<bool>,
    pool: Pool,
    /// Resolvers of [`crate::RemoteResolver`]s, by id (boxed `Resolver<T>`).
    remote_resolvers: RefCell<HashMap<u64, Box<dyn std::any::Any>>>,
    next_remote: Cell<u64>,
}

thread_local! {
    static RUNTIME: RefCell<Option<Rc<Runtime>>> = const { RefCell::new(None) };
}

impl Runtime {
    fn new() -> io::Result<Rc<Runtime>> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKER)?;
        let shared = Arc::new(Shared::new(waker));
        Ok(Rc::new(Runtime {
            poll: RefCell::new(poll),
            events: RefCell::new(Events::with_capacity(1024)),
            ready: RefCell::new(Vec::with_capacity(1024)),
            registry,
            start: std::time::Instant::now(),
            timers: RefCell::new(Timers::new()),
            turn_requested: Cell::new(false),
            yield_requested: Cell::new(false),
            unpolled_turns: Cell::new(0),
            last_poll: Cell::new(0),
            sources: RefCell::new(Sources::default()),
            pool: Pool::new(shared.clone()),
            shared,
            hooks: RefCell::new(Hooks::default()),
            running: Cell::new(false),
            remote_resolvers: RefCell::new(HashMap::new()),
            next_remote: Cell::new(1),
        }))
    }

    /// This thread's runtime, made on first use.
    fn current() -> Rc<Runtime> {
        RUNTIME.with(|r| {
            let mut r = r.borrow_mut();
            match &*r {
                Some(rt) => rt.clone(),
                None => {
                    let rt = Runtime::new().expect("lwt_native: cannot create the poller");
                    *r = Some(rt.clone());
                    // Stays this thread's engine from now on (Lwt's engine is
                    // global too), so `lwt::sleep` works outside `run`. The
                    // guard is leaked: putting back "no engine" at thread
                    // exit would touch the core's thread-locals while they
                    // are being destroyed.
                    std::mem::forget(lwt::engine::install(rt.clone()));
                    rt
                }
            }
        })
    }

    /// The loop's clock reading at `at` (`std`'s monotonic clock, which the
    /// loop's clock counts from `start`), without reading the clock.
    #[cfg(feature = "hyper")]
    fn instant_at(&self, at: std::time::Instant) -> lwt::Instant {
        lwt::Instant::from_epoch(at.saturating_duration_since(self.start))
    }

    /// This thread's runtime, if it was made already.
    fn try_current() -> Option<Rc<Runtime>> {
        RUNTIME.try_with(|r| r.borrow().clone()).ok().flatten()
    }

    fn register_state(&self) -> io::Result<(usize, Rc<IoState>)> {
        self.sources.borrow_mut().insert()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.pool.shutdown();
        let timers = self.timers.borrow_mut().take_all();
        drop(timers);
    }
}

/// [`lwt::sleep_until`] of a `std` instant on this thread's loop (made and
/// installed if need be), converted without a clock read. When some other
/// engine was installed on this thread, the sleep is armed on that one, for
/// the time left until `deadline`.
#[cfg(feature = "hyper")]
pub(crate) fn sleep_until_std(deadline: std::time::Instant) -> lwt::Promise<()> {
    let rt = Runtime::current();
    let ours =
        lwt::engine::current().is_some_and(|e| std::ptr::addr_eq(Rc::as_ptr(&e), Rc::as_ptr(&rt)));
    if ours {
        lwt::sleep_until(rt.instant_at(deadline))
    } else {
        lwt::sleep(deadline.saturating_duration_since(std::time::Instant::now()))
    }
}
