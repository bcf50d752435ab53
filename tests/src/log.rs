//! A shared event log for ordering tests.

use std::cell::RefCell;
use std::rc::Rc;

/// An append-only log of events, cheap to clone into callbacks.
///
/// ```
/// let log = lwt_conformance::log::Log::default();
/// let l = log.clone();
/// l.push("a");
/// assert_eq!(log.take(), ["a"]);
/// ```
#[derive(Clone, Default, Debug)]
pub struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    /// Appends an event.
    pub fn push(&self, event: impl Into<String>) {
        self.0.borrow_mut().push(event.into());
    }

    /// The events so far, emptying the log.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.borrow_mut())
    }

    /// The events so far.
    pub fn get(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// Milliseconds, for short sleeps.
///
/// ```
/// assert_eq!(lwt_conformance::log::ms(3).as_millis(), 3);
/// ```
pub fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}
