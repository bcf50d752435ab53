//! The loop: [`run`], the [`lwt::Engine`] on mio, and its hooks.
//!
//! # Ground rules
//!
//! One [`Runtime`] per thread, made the first time it is needed and kept for
//! the thread's life, so resources (sockets, timers) made in one [`run`] keep
//! working in the next. [`run`] installs it as the thread's engine for its
//! duration; a nested `run` is an error, not a deadlock.
//!
//! One *iteration* of the loop, in order:
//!
//! 1. enter-iteration hooks;
//! 2. yielded promises ([`lwt::yield_now`]) are resolved;
//! 3. the poller is polled: blocking until the next timer only when nothing
//!    is paused, yielded, woken or asked for (`lwt::engine::has_work`), with
//!    a zero timeout otherwise. With no I/O source registered the poll is a
//!    check of the cross-thread flag (the only other thing that can be ready).
//!    A zero-timeout poll (the loop is busy: paused, yielded or woken work)
//!    is made only when [`POLL_EVERY_TURNS`] iterations or [`POLL_EVERY`]
//!    have passed since the last poll, whichever comes first (the clock is
//!    read at the start of the iteration); in between the cross-thread flag
//!    is still checked every iteration. So a busy loop pays one
//!    `epoll_wait` per 64 turns, not one per turn, and I/O that becomes
//!    ready while it is busy waits at most 64 turns, or 1 ms plus the length
//!    of the turn running then, before it is seen; once seen, it is
//!    delivered before the turn that follows (`tests/runtime.rs` checks
//!    both halves). A blocking poll (nothing to do) is never skipped.
//!    Nothing else waits for a poll: registering and deregistering a source
//!    are system calls made at once, and a closed socket is closed then.
//!    Timers do not depend on the poll either: step 5 runs every iteration;
//! 4. ready sources resolve their waiters; closures sent from other threads
//!    run;
//! 5. due timers fire, at most [`TIMERS_PER_ITERATION`], in deadline order,
//!    FIFO among equal deadlines, never before their deadline, with the
//!    yields a timer's callbacks asked for resolved before the next one;
//! 6. `lwt::engine::run_turn` runs once (a snapshot of the paused promises),
//!    if a turn was asked for or there is work;
//! 7. leave-iteration hooks.
//!
//! Every step resolves promises from the loop itself, never from inside a
//! callback, and no `RefCell` borrow of the runtime is held while promise
//! code runs: waiters and closures are taken out first, then resolved.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use lwt::engine::{self, Engine, TimerFire as Fire, TimerId, TimerTarget, WakeHandle};
use lwt::{Error, Instant, Promise};

use super::{Runtime, WAKER};

/// The most timers fired in one iteration, so that I/O is polled regularly
/// even when a million timers fall due at once.
pub const TIMERS_PER_ITERATION: usize = 16 * 1024;

/// A busy loop (paused or yielded work pending) polls I/O with a zero
/// timeout at least once per this many iterations...
pub const POLL_EVERY_TURNS: u32 = 64;

/// ...and at least once per this much time, whichever comes first (see the
/// module docs). The clock read that checks it is the one the timers use.
pub const POLL_EVERY: Duration = Duration::from_millis(1);

/// One source's readiness from one poll, copied out of mio's event buffer
/// so that no borrow of the poller is held while waiters run.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ready {
    /// The source's token in the slab of sources.
    token: usize,
    /// Readable (or read-closed): read waiters may try again.
    readable: bool,
    /// Writable (or write-closed): write waiters may try again.
    writable: bool,
    /// The peer closed its write side, or the source has an error.
    read_closed: bool,
    /// The peer closed its read side, or the source has an error.
    write_closed: bool,
}

type Hook = Rc<dyn Fn()>;
type ExitHook = Box<dyn FnOnce() -> Promise<()>>;

/// The iteration and exit hooks of a loop.
#[derive(Default)]
pub(super) struct Hooks {
    next: u64,
    enter: Vec<(u64, Hook)>,
    leave: Vec<(u64, Hook)>,
    exit: Vec<ExitHook>,
}

impl Runtime {
    fn nanos(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn busy(&self) -> bool {
        self.turn_requested.get()
            || self.yield_requested.get()
            || self.shared.notified.load(Ordering::Acquire)
            || engine::has_work()
    }

    fn run_yields(&self) {
        if self.yield_requested.replace(false) {
            engine::run_yielded();
        }
    }

    /// One iteration of the loop (see the module docs). `done` says whether
    /// what `run` waits for is already there: then the poll does not block,
    /// whatever else is (not) pending; the yields run just before may have
    /// finished it.
    fn iteration(&self, done: &dyn Fn() -> bool) -> io::Result<()> {
        self.call_hooks(|h| &h.enter);
        self.run_yields();

        let timeout = if self.busy() || done() {
            Some(Duration::ZERO)
        } else {
            let next = self.timers.borrow_mut().next_deadline();
            next.map(|d| Duration::from_nanos(d.saturating_sub(self.nanos())))
        };
        let has_sources = self.sources.borrow().len() > 0;
        let mut now = self.nanos();
        let poll = if timeout != Some(Duration::ZERO) {
            true
        } else if has_sources {
            // Busy: a zero-timeout poll only every so often (module docs).
            let turns = self.unpolled_turns.get().saturating_add(1);
            turns >= POLL_EVERY_TURNS
                || now.saturating_sub(self.last_poll.get()) >= POLL_EVERY.as_nanos() as u64
        } else {
            false
        };
        let mut woken = false;
        if poll {
            let mut ready = std::mem::take(&mut *self.ready.borrow_mut());
            {
                let mut events = self.events.borrow_mut();
                match self.poll.borrow_mut().poll(&mut events, timeout) {
                    Ok(()) => {}
                    // A signal handled on this thread while it waited here
                    // (`tests/eintr.rs`): no error, the next iteration polls
                    // again. With the guard `true` (every error ignored) the
                    // mutant is equivalent: mio's `epoll_wait` (or `kevent`
                    // with no changes) on its own descriptor and buffer fails
                    // with nothing but `EINTR`; its other errors (`EBADF`,
                    // `EFAULT`, `EINVAL`) are mistakes mio's safe API rules out.
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
                for ev in events.iter() {
                    if ev.token() == WAKER {
                        woken = true;
                        continue;
                    }
                    let read_closed = ev.is_read_closed() || ev.is_error();
                    // `&&` for this `||` is an equivalent mutant: it differs
                    // only for a hang-up without an error (mio's other
                    // write-closed cases carry the error bit), which comes
                    // once both directions are shut. The event says
                    // writable then too, and every later write fails at
                    // once (`EPIPE`), so no short write meets the flag.
                    let write_closed = ev.is_write_closed() || ev.is_error();
                    ready.push(Ready {
                        token: ev.token().0,
                        readable: ev.is_readable() || read_closed,
                        writable: ev.is_writable() || write_closed,
                        read_closed,
                        write_closed,
                    });
                }
            }
            for r in &ready {
                let state = self.sources.borrow().get(r.token);
                if let Some(state) = state {
                    state.ready(r.readable, r.writable, r.read_closed, r.write_closed);
                }
            }
            ready.clear();
            *self.ready.borrow_mut() = ready;
            if timeout != Some(Duration::ZERO) {
                // The poll may have blocked.
                now = self.nanos();
            }
            self.unpolled_turns.set(0);
            self.last_poll.set(now);
        } else {
            // Saturating: with nothing registered it grows for as long as the
            // loop stays busy.
            self.unpolled_turns
                .set(self.unpolled_turns.get().saturating_add(1));
        }
        if woken || self.shared.notified.load(Ordering::Acquire) {
            self.shared.notified.store(false, Ordering::Release);
            let jobs =
                std::mem::take(&mut *self.shared.queue.lock().unwrap_or_else(|e| e.into_inner()));
            for job in jobs {
                job();
            }
            self.turn_requested.set(true);
        }
        self.run_yields();

        for _ in 0..TIMERS_PER_ITERATION {
            let fire = self.timers.borrow_mut().pop_due(now);
            match fire {
                Some(fire) => {
                    fire.run();
                    // A yield asked for by this timer's callbacks runs
                    // before the next timer fires.
                    self.run_yields();
                }
                None => break,
            }
        }

        if self.turn_requested.replace(false) || engine::has_work() {
            self.yield_requested.set(false);
            engine::run_turn();
        }
        self.call_hooks(|h| &h.leave);
        Ok(())
    }

    fn call_hooks(&self, which: impl Fn(&Hooks) -> &Vec<(u64, Hook)>) {
        let hooks: Vec<Hook> = {
            let h = self.hooks.borrow();
            let list = which(&h);
            if list.is_empty() {
                return;
            }
            list.iter().map(|(_, f)| f.clone()).collect()
        };
        for h in hooks {
            h();
        }
    }
}

impl Runtime {
    fn arm(&self, deadline: Instant, fire: Fire) -> TimerId {
        let nanos = u64::try_from(deadline.since_epoch().as_nanos()).unwrap_or(u64::MAX);
        let mut timers = self.timers.borrow_mut();
        // Moving an empty wheel to the present only saves stepping through
        // stale ticks later: with `!=` (a no-op call, `catch_up` checks for
        // an empty wheel itself) timers fire at the same times, only later
        // arms cost more (an equivalent mutant).
        if timers.len() == 0 {
            timers.catch_up(self.nanos());
        }
        timers.arm_fire(nanos, fire)
    }
}

impl Engine for Runtime {
    fn now(&self) -> Instant {
        Instant::from_epoch(self.start.elapsed())
    }

    fn arm_timer(&self, deadline: Instant, fire: Box<dyn FnOnce()>) -> TimerId {
        self.arm(deadline, Fire::Call(fire))
    }

    fn arm_timer_target(&self, deadline: Instant, target: Rc<dyn TimerTarget>) -> TimerId {
        self.arm(deadline, Fire::Target(target))
    }

    fn cancel_timer(&self, timer: TimerId) {
        let fire = self.timers.borrow_mut().cancel(timer);
        drop(fire);
    }

    fn request_turn(&self) {
        self.turn_requested.set(true);
    }

    fn request_yield(&self) {
        self.yield_requested.set(true);
    }

    fn wake_handle(&self) -> WakeHandle {
        let shared = self.shared.clone();
        WakeHandle::new(move || shared.wake())
    }
}

/// Runs `future` on this thread's loop until it is done, and returns its
/// result (Lwt's `Lwt_main.run`). A [`Promise`] is a future, so `run(p)`
/// waits for a promise.
///
/// The loop polls I/O, fires timers and runs turns until the future is
/// done; other promises go on in later calls. Calling `run` from inside
/// `run` (from a callback or task) gives an error at once. As in Lwt, a
/// future that nothing will ever resolve blocks forever (the loop cannot
/// know that no other thread holds a [`crate::Handle`]); put a
/// [`lwt::with_timeout`] around it when that can happen.
///
/// ```
/// use std::time::Duration;
/// let v = lwt_native::run(async {
///     lwt::sleep(Duration::from_millis(1)).await?;
///     Ok(7)
/// });
/// assert_eq!(v.unwrap(), 7);
/// let p = lwt::pause().map(|()| "paused once");
/// assert_eq!(lwt_native::run(p).unwrap(), "paused once");
/// ```
pub fn run<T: 'static>(
    future: impl Future<Output = Result<T, Error>> + 'static,
) -> Result<T, Error> {
    let rt = Runtime::current();
    if rt.running.replace(true) {
        return Err(Error::invalid_argument(
            "lwt_native::run: called while this thread's loop is already running (nested run)",
        ));
    }
    struct NotRunning(Rc<Runtime>);
    impl Drop for NotRunning {
        fn drop(&mut self) {
            self.0.running.set(false);
        }
    }
    let _running = NotRunning(rt.clone());
    crate::sys::ignore_sigpipe();
    let _installed = engine::install(rt.clone());
    let slot: Rc<RefCell<Option<Result<T, Error>>>> = Rc::new(RefCell::new(None));
    let s = slot.clone();
    let task = lwt::spawn(async move {
        let r = future.await;
        *s.borrow_mut() = Some(r);
        Ok(())
    });
    loop {
        if let Some(r) = slot.borrow_mut().take() {
            return r;
        }
        if let Some(Err(e)) = task.peek() {
            return Err(e);
        }
        let done = || slot.borrow().is_some() || !task.is_pending();
        rt.iteration(&done)
            .map_err(|e| Error::new(e).context("lwt_native::run: polling failed"))?;
    }
}

/// Makes this thread's loop and installs it as the thread's engine, for
/// good: promises of time (`lwt::sleep`) made before the first [`run`] then
/// work. Every function of this crate does it too; call it when the first
/// thing you do is make a sleep. Installing again does nothing. (The same
/// verb as `lwt_wasm::install` and the core's `lwt::engine::install`.)
///
/// ```
/// lwt_native::install();
/// let nap = lwt::sleep(std::time::Duration::from_millis(1));
/// lwt_native::run(nap).unwrap();
/// ```
pub fn install() {
    let _ = Runtime::current();
}

/// The old name of [`install`].
///
/// ```
/// #[allow(deprecated)]
/// lwt_native::init();
/// assert!(lwt::engine::current().is_some());
/// ```
#[deprecated(note = "use `lwt_native::install`, the name every engine uses")]
pub fn init() {
    install();
}

/// True while [`run`] runs on this thread.
///
/// ```
/// assert!(!lwt_native::is_running());
/// assert!(lwt_native::run(async { Ok(lwt_native::is_running()) }).unwrap());
/// ```
pub fn is_running() -> bool {
    Runtime::try_current().is_some_and(|rt| rt.running.get())
}

/// Identifies a hook, for [`remove_hook`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HookId(u64);

fn add_hook(leave: bool, f: Hook) -> HookId {
    let rt = Runtime::current();
    let mut h = rt.hooks.borrow_mut();
    h.next += 1;
    let id = h.next;
    if leave {
        h.leave.push((id, f));
    } else {
        h.enter.push((id, f));
    }
    HookId(id)
}

/// Calls `f` at the start of every iteration of this thread's loop
/// (Lwt_main's `enter_iter_hooks`).
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// let n = Rc::new(Cell::new(0));
/// let c = n.clone();
/// let id = lwt_native::on_enter_iteration(move || c.set(c.get() + 1));
/// lwt_native::run(lwt::pause()).unwrap();
/// assert!(n.get() >= 1);
/// lwt_native::remove_hook(id);
/// ```
pub fn on_enter_iteration(f: impl Fn() + 'static) -> HookId {
    add_hook(false, Rc::new(f))
}

/// Calls `f` at the end of every iteration of this thread's loop
/// (Lwt_main's `leave_iter_hooks`).
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// let n = Rc::new(Cell::new(0));
/// let c = n.clone();
/// let id = lwt_native::on_leave_iteration(move || c.set(c.get() + 1));
/// lwt_native::run(lwt::pause()).unwrap();
/// assert!(n.get() >= 1);
/// lwt_native::remove_hook(id);
/// ```
pub fn on_leave_iteration(f: impl Fn() + 'static) -> HookId {
    add_hook(true, Rc::new(f))
}

/// Removes an iteration hook; unknown ids are ignored.
///
/// ```
/// let id = lwt_native::on_enter_iteration(|| panic!("never called"));
/// lwt_native::remove_hook(id);
/// lwt_native::run(lwt::pause()).unwrap();
/// ```
pub fn remove_hook(id: HookId) {
    let rt = Runtime::current();
    let mut removed = Vec::new();
    {
        let mut h = rt.hooks.borrow_mut();
        let h = &mut *h;
        for list in [&mut h.enter, &mut h.leave] {
            if let Some(at) = list.iter().position(|(i, _)| *i == id.0) {
                removed.push(list.remove(at));
            }
        }
    }
    // Dropped after the borrow: the closure's captures may add or remove
    // hooks when they go.
    drop(removed);
}

/// Registers `f` to run at exit, by [`run_exit_hooks`] or [`exit`]
/// (Lwt_main's `at_exit`). Hooks run last-registered first, each to
/// completion on the loop.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// let done = Rc::new(Cell::new(false));
/// let d = done.clone();
/// lwt_native::at_exit(move || {
///     d.set(true);
///     lwt::Promise::resolved(())
/// });
/// lwt_native::run_exit_hooks().unwrap();
/// assert!(done.get());
/// ```
pub fn at_exit(f: impl FnOnce() -> Promise<()> + 'static) {
    Runtime::current().hooks.borrow_mut().exit.push(Box::new(f));
}

/// Runs the [`at_exit`] hooks registered so far (last first), each with
/// [`run`]; the first error is returned after all have run.
///
/// ```
/// lwt_native::run_exit_hooks().unwrap(); // none registered: nothing to do
/// ```
pub fn run_exit_hooks() -> Result<(), Error> {
    let rt = Runtime::current();
    let mut first = Ok(());
    loop {
        let hook = rt.hooks.borrow_mut().exit.pop();
        let Some(hook) = hook else { break };
        let r = run(hook());
        if first.is_ok() {
            first = r;
        }
    }
    first
}

/// Runs the [`at_exit`] hooks, then exits the process with `code`.
///
/// ```
/// // The doc test passes only if the process exits with 0, after the hook.
/// lwt_native::at_exit(|| {
///     println!("the at_exit hook ran");
///     lwt::Promise::resolved(())
/// });
/// lwt_native::exit(0);
/// ```
pub fn exit(code: i32) -> ! {
    if let Err(e) = run_exit_hooks() {
        lwt::report_unhandled(&e);
    }
    std::process::exit(code)
}

/// How many timers are armed on this thread's loop (for leak checks).
///
/// ```
/// let n = lwt_native::timer_count();
/// lwt_native::run(async move {
///     let s = lwt::sleep(std::time::Duration::from_secs(60));
///     assert_eq!(lwt_native::timer_count(), n + 1);
///     s.cancel();
///     assert_eq!(lwt_native::timer_count(), n);
///     Ok(())
/// }).unwrap();
/// ```
pub fn timer_count() -> usize {
    Runtime::current().timers.borrow().len()
}

#[cfg(test)]
mod tests {
    //! When the loop polls and when it skips the system call, read from the
    //! runtime itself: a program sees it only as time, so these tests look
    //! at `unpolled_turns`, `last_poll` and the cross-thread flag.

    use std::cell::RefCell;
    use std::rc::Rc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::{on_leave_iteration, remove_hook, run, Runtime, POLL_EVERY_TURNS};

    /// Runs `f` on a thread of its own: a loop of its own, made fresh.
    fn on_a_new_thread(f: impl FnOnce() + Send + 'static) {
        std::thread::spawn(f).join().unwrap();
    }

    /// `turns` pauses in a row: every iteration of that loop is busy.
    fn pauses(turns: u32) -> Result<(), lwt::Error> {
        run(async move {
            for _ in 0..turns {
                lwt::pause().await?;
            }
            Ok(())
        })
    }

    #[test]
    fn a_wake_seen_by_its_flag_is_not_waited_for() {
        // Another thread's wake sets the flag, then writes to the waker. A
        // loop that sees the flag runs the closures at once: it does not
        // block in the poller for the write still to come (here it never
        // comes; the next timer, 5 s away, would end that wait).
        on_a_new_thread(|| {
            let rt = Runtime::current();
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            rt.shared
                .queue
                .lock()
                .unwrap()
                .push(Box::new(move || r.store(true, Ordering::Release)));
            rt.shared.notified.store(true, Ordering::Release);
            let next_timer = lwt::sleep(Duration::from_secs(5));
            rt.iteration(&|| false).unwrap();
            assert!(ran.load(Ordering::Acquire), "the closure did not run");
            assert!(next_timer.is_pending(), "the loop waited for the timer");
            next_timer.cancel();
        });
    }

    #[test]
    fn a_busy_loop_with_nothing_registered_never_polls() {
        // Nothing but the cross-thread flag can be ready: the loop checks
        // the flag and never makes the system call, however many turns.
        on_a_new_thread(|| {
            let rt = Runtime::current();
            assert_eq!(rt.sources.borrow().len(), 0);
            let before = rt.last_poll.get();
            pauses(3 * POLL_EVERY_TURNS).unwrap();
            assert_eq!(rt.last_poll.get(), before, "a poll with no source");
            assert!(rt.unpolled_turns.get() >= 3 * POLL_EVERY_TURNS);
        });
    }

    #[test]
    fn a_busy_loop_polls_every_64_turns_or_every_millisecond() {
        on_a_new_thread(|| {
            let rt = Runtime::current();
            let _source = crate::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            // What each iteration left: 0 after a poll, else one more turn.
            let seen = Rc::new(RefCell::new(Vec::new()));
            let (s, r) = (seen.clone(), rt.clone());
            let hook = on_leave_iteration(move || s.borrow_mut().push(r.unpolled_turns.get()));
            let start = std::time::Instant::now();
            pauses(20 * POLL_EVERY_TURNS).unwrap();
            let elapsed = start.elapsed();
            remove_hook(hook);
            let seen = seen.borrow();
            for w in seen.windows(2) {
                assert!(w[1] == 0 || w[1] == w[0] + 1, "{w:?}");
            }
            // Never 64 turns in a row without a poll...
            let most = seen.iter().copied().max().unwrap();
            assert!(most < POLL_EVERY_TURNS, "{most} turns without a poll");
            // ...and no more polls than one per 64 turns and one per
            // millisecond (a slow machine polls more often, by the clock).
            let polls = seen.iter().filter(|&&u| u == 0).count();
            let bound = seen.len() / POLL_EVERY_TURNS as usize + elapsed.as_millis() as usize + 2;
            assert!(
                polls <= bound,
                "{polls} polls in {} turns and {elapsed:?}",
                seen.len()
            );
        });
    }
}
