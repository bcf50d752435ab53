//! The core's turn: what an engine runs once per trip round its loop
//! ([`run_turn`], [`run_yielded`], [`has_work`]), and the promises that wait
//! for it: [`pause`] (the next turn) and [`yield_now`] (the end of this one).
//!
//! # Ground rules
//!
//! The core keeps the queue of paused promises; an engine only has to call
//! [`wakeup_paused`] once per turn, after it polled I/O and fired timers, and
//! to ask for a turn when the notifier says something was paused. Each call
//! resolves a *snapshot* of the queue, in the order the promises were paused:
//! a promise paused while the snapshot is being resolved waits for the next
//! turn, so a loop of `pause()` cannot keep a turn busy forever.
//!
//! Asking for the turn is the core's business, not the notifier's: each
//! pause asks the current engine ([`super::current`]) itself, and the pause
//! notifier ([`register_pause_notifier`]) belongs to the user alone. Setting
//! or removing one never disconnects the engine.

use std::cell::RefCell;
use std::collections::VecDeque;

use super::{current, wake};
use crate::promise::resolve;
use crate::promise::{task, Promise, Resolver};

type Notifier = std::rc::Rc<dyn Fn(usize)>;

/// The paused promises, the buffer of the last snapshot (kept for the next),
/// and the notifier: one thread-local for the whole pause path.
struct Paused {
    queue: RefCell<VecDeque<Resolver<()>>>,
    spare: RefCell<VecDeque<Resolver<()>>>,
    notifier: RefCell<Option<Notifier>>,
}

thread_local! {
    static PAUSED: Paused = const {
        Paused {
            queue: RefCell::new(VecDeque::new()),
            spare: RefCell::new(VecDeque::new()),
            notifier: RefCell::new(None),
        }
    };
    /// The promises of [`yield_now`], resolved by [`run_yielded`].
    static YIELDED: RefCell<VecDeque<Resolver<()>>> = const { RefCell::new(VecDeque::new()) };
}

/// A promise resolved on the engine's next turn, after I/O and timers had a
/// chance (Lwt's `Lwt.pause`). Cancelable: a canceled pause is rejected at
/// once, and keeps its place in the queue until the next wake-up, which skips
/// it and releases it; until then it still counts in [`paused_count`], as in
/// Lwt. (Lwt also unlinks it from its queue at once; here the entry costs its
/// few bytes for at most one turn, and a pause needs no cancel hook.)
///
/// Use it to break up long computations so the engine can poll, render and
/// handle input; see also [`crate::yield_now`], which does not wait for I/O.
///
/// ```
/// let p = lwt::pause();
/// assert!(p.is_pending());
/// assert_eq!(lwt::paused_count(), 1);
/// lwt::wakeup_paused(); // what an engine does once per turn
/// assert!(p.is_fulfilled());
/// ```
pub fn pause() -> Promise<()> {
    let (p, r) = task();
    let (count, notifier) = PAUSED.with(|s| {
        let mut queue = s.queue.borrow_mut();
        queue.push_back(r);
        (queue.len(), s.notifier.borrow().clone())
    });
    if let Some(e) = current() {
        e.request_turn();
    }
    if let Some(notify) = notifier {
        notify(count);
    }
    p
}

/// Resolves the promises paused so far, in the order they were paused; those
/// paused meanwhile wait for the next call (Lwt's `Lwt.wakeup_paused`).
///
/// ```
/// let first = lwt::pause();
/// let second = first.bind(|()| lwt::pause());
/// lwt::wakeup_paused();
/// assert!(first.is_fulfilled());
/// assert!(second.is_pending()); // paused during the wake-up: next turn
/// lwt::wakeup_paused();
/// assert!(second.is_fulfilled());
/// ```
pub fn wakeup_paused() {
    let mut snapshot = PAUSED.with(|s| {
        let mut snapshot = std::mem::take(&mut *s.spare.borrow_mut());
        std::mem::swap(&mut *s.queue.borrow_mut(), &mut snapshot);
        snapshot
    });
    if !snapshot.is_empty() {
        // One level for the whole snapshot: the callbacks of each promise run
        // nested in it, and queued work is drained once, at the end.
        let _level = resolve::Level::enter();
        for r in snapshot.drain(..) {
            // A canceled pause is already resolved: resolving it again is a no-op.
            let _ = r.resolve(());
        }
    }
    PAUSED.with(|s| *s.spare.borrow_mut() = snapshot);
}

/// How many promises were paused since the last [`wakeup_paused`] (Lwt's
/// `Lwt.paused_count`). As in Lwt, a canceled pause still counts until the
/// next wake-up, which releases it (see [`pause`]).
///
/// ```
/// let before = lwt::paused_count();
/// let p = lwt::pause();
/// assert_eq!(lwt::paused_count(), before + 1);
/// p.cancel();
/// assert_eq!(lwt::paused_count(), before + 1);
/// lwt::wakeup_paused();
/// assert_eq!(lwt::paused_count(), 0);
/// ```
pub fn paused_count() -> usize {
    PAUSED.with(|s| s.queue.borrow().len())
}

/// Sets the function called with the new [`paused_count`] each time a promise
/// is paused. Replaces the previous one (Lwt's `Lwt.register_pause_notifier`);
/// `None` removes it. The notifier is the user's own: the installed engine is
/// asked for its turn by [`pause`] directly, so registering, replacing or
/// removing a notifier does not keep paused promises from being resolved.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// let asked = Rc::new(Cell::new(0));
/// let a = asked.clone();
/// lwt::register_pause_notifier(Some(Box::new(move |n| a.set(n))));
/// let _p = lwt::pause();
/// assert!(asked.get() >= 1);
/// lwt::register_pause_notifier(None);
/// # lwt::wakeup_paused();
/// ```
pub fn register_pause_notifier(notifier: Option<Box<dyn Fn(usize)>>) {
    let old = PAUSED.with(|s| s.notifier.replace(notifier.map(std::rc::Rc::from)));
    // Dropped after the borrow: the old notifier is user code.
    drop(old);
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
    if resolve::in_callback() {
        if let Some(e) = current() {
            e.request_turn();
        }
        return;
    }
    resolve::drain();
    resolve_yielded();
    wake::run_woken();
    wakeup_paused();
}

/// Resolves the promises of [`crate::yield_now`], in the order they were
/// made, until none is left: a yield made by the callbacks of another is
/// resolved in the same call, as a microtask queued by a microtask runs
/// before the browser's next task. So a chain of yields ends before the
/// next snapshot of paused promises on every engine (a yield loop keeps the
/// engine busy, as a microtask loop keeps a browser busy: use
/// [`crate::pause`] to let the world in).
///
/// ```
/// let y = lwt::yield_now();
/// let chained = y.bind(|()| lwt::yield_now());
/// lwt::engine::run_yielded();
/// assert!(y.is_fulfilled());
/// assert!(chained.is_fulfilled());
/// ```
pub fn run_yielded() {
    if resolve::in_callback() {
        return;
    }
    resolve::drain();
    resolve_yielded();
}

/// Snapshot after snapshot, until no yield is left (see [`run_yielded`]:
/// the browser engine's microtasks do the same).
fn resolve_yielded() {
    loop {
        let snapshot = YIELDED.with(|y| {
            let mut y = y.borrow_mut();
            if y.is_empty() {
                None
            } else {
                Some(std::mem::take(&mut *y))
            }
        });
        let Some(snapshot) = snapshot else { return };
        for r in snapshot {
            let _ = r.resolve(());
        }
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
    paused_count() > 0 || YIELDED.with(|y| !y.borrow().is_empty()) || wake::has_woken()
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

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use crate::engine::{Engine, Instant, TimerId, WakeHandle};

    /// An engine that only counts the turns it is asked for.
    #[derive(Default)]
    struct Counting(Cell<usize>);

    impl Engine for Counting {
        fn now(&self) -> Instant {
            unimplemented!("no time in this test")
        }
        fn arm_timer(&self, _: Instant, _: Box<dyn FnOnce()>) -> TimerId {
            unimplemented!("no timers in this test")
        }
        fn cancel_timer(&self, _: TimerId) {}
        fn request_turn(&self) {
            self.0.set(self.0.get() + 1);
        }
        fn wake_handle(&self) -> WakeHandle {
            WakeHandle::new(|| {})
        }
    }

    #[test]
    fn a_user_notifier_does_not_disconnect_the_engine() {
        let engine = Rc::new(Counting::default());
        let _installed = crate::engine::install(engine.clone());
        let seen = Rc::new(Cell::new(0));
        let s = seen.clone();
        super::register_pause_notifier(Some(Box::new(move |n| s.set(n))));
        let p = super::pause();
        assert_eq!((engine.0.get(), seen.get()), (1, 1));
        // Removing the user's notifier leaves the engine connected.
        super::register_pause_notifier(None);
        let q = super::pause();
        assert_eq!((engine.0.get(), seen.get()), (2, 1));
        super::wakeup_paused();
        assert!(p.is_fulfilled() && q.is_fulfilled());
    }
}
