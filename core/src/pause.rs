//! `pause`: promises resolved on the engine's next turn.
//!
//! # Ground rules
//!
//! The core keeps the queue of paused promises; an engine only has to call
//! [`wakeup_paused`] once per turn, after it polled I/O and fired timers, and
//! to ask for a turn when the notifier says something was paused. Each call
//! resolves a *snapshot* of the queue, in the order the promises were paused:
//! a promise paused while the snapshot is being resolved waits for the next
//! turn, so a loop of `pause()` cannot keep a turn busy forever.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use crate::promise::{task, Promise, Resolver};

type Notifier = std::rc::Rc<dyn Fn(usize)>;

thread_local! {
    static PAUSED: RefCell<VecDeque<Resolver<()>>> = const { RefCell::new(VecDeque::new()) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
    static NOTIFIER: RefCell<Option<Notifier>> = const { RefCell::new(None) };
}

/// A promise resolved on the engine's next turn, after I/O and timers had a
/// chance (Lwt's `Lwt.pause`). Cancelable: a canceled pause leaves the queue.
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
    p.on_cancel(|| COUNT.with(|c| c.set(c.get().saturating_sub(1))));
    PAUSED.with(|q| q.borrow_mut().push_back(r));
    let count = COUNT.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let notifier = NOTIFIER.with(|n| n.borrow().clone());
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
    let snapshot = PAUSED.with(|q| std::mem::take(&mut *q.borrow_mut()));
    if snapshot.is_empty() {
        return;
    }
    COUNT.with(|c| c.set(0));
    for r in snapshot {
        // A canceled pause is already resolved: resolving it again is a no-op.
        let _ = r.resolve(());
    }
}

/// How many promises are paused and not canceled (Lwt's `Lwt.paused_count`).
///
/// ```
/// let p = lwt::pause();
/// let n = lwt::paused_count();
/// p.cancel();
/// assert_eq!(lwt::paused_count(), n - 1);
/// # lwt::wakeup_paused();
/// ```
pub fn paused_count() -> usize {
    COUNT.with(Cell::get)
}

/// Sets the function called with the new [`paused_count`] each time a promise
/// is paused; engines use it to ask for a turn. Replaces the previous one
/// (Lwt's `Lwt.register_pause_notifier`). `None` removes it.
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
    NOTIFIER.with(|n| *n.borrow_mut() = notifier.map(std::rc::Rc::from));
}
