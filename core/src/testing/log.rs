//! An append-only event log for ordering tests.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// An append-only log of events, for tests that check in which order things
/// happened. Clones share one log, so a clone can be moved into each callback
/// and the test reads what they all wrote.
///
/// Events are `String`s unless said otherwise: [`Log::new`] makes a log of
/// strings, and [`Log::push`] takes anything that converts into the event
/// type (`&str`, `format!(..)`). A log of other events (numbers, an enum) is
/// made with `Log::<T>::default()`.
///
/// ```
/// use lwt::testing::Log;
/// let log = Log::new();
/// let (p, r) = lwt::wait::<u32>();
/// let l = log.clone();
/// p.on_success(move |v| l.push(format!("got {v}")));
/// log.push("before");
/// r.resolve(7).unwrap();
/// assert_eq!(log.take(), ["before", "got 7"]);
/// assert!(log.is_empty());
///
/// let numbers = Log::<u32>::default();
/// numbers.push(3u32);
/// assert_eq!(numbers.get(), [3]);
/// ```
pub struct Log<T = String>(Rc<RefCell<Vec<T>>>);

impl Log<String> {
    /// An empty log of strings.
    ///
    /// ```
    /// let log = lwt::testing::Log::new();
    /// log.push("a");
    /// assert_eq!(log.get(), ["a"]);
    /// ```
    pub fn new() -> Log<String> {
        Log::default()
    }
}

impl<T> Log<T> {
    /// Appends an event.
    ///
    /// ```
    /// let log = lwt::testing::Log::new();
    /// log.push("a");
    /// log.push(String::from("b"));
    /// assert_eq!(log.get(), ["a", "b"]);
    /// ```
    pub fn push(&self, event: impl Into<T>) {
        self.0.borrow_mut().push(event.into());
    }

    /// The events so far, emptying the log.
    ///
    /// ```
    /// let log = lwt::testing::Log::new();
    /// log.push("a");
    /// assert_eq!(log.take(), ["a"]);
    /// assert!(log.take().is_empty());
    /// ```
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.0.borrow_mut())
    }

    /// How many events were logged (and not taken).
    ///
    /// ```
    /// let log = lwt::testing::Log::new();
    /// log.push("a");
    /// assert_eq!(log.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// True when no event was logged (or all were taken).
    ///
    /// ```
    /// let log = lwt::testing::Log::new();
    /// assert!(log.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }
}

impl<T: Clone> Log<T> {
    /// The events so far, leaving them in the log.
    ///
    /// ```
    /// let log = lwt::testing::Log::new();
    /// log.push("a");
    /// assert_eq!(log.get(), ["a"]);
    /// assert_eq!(log.get(), ["a"]);
    /// ```
    pub fn get(&self) -> Vec<T> {
        self.0.borrow().clone()
    }
}

impl<T> Clone for Log<T> {
    /// Another handle on the same log.
    fn clone(&self) -> Self {
        Log(self.0.clone())
    }
}

impl<T> Default for Log<T> {
    /// An empty log.
    fn default() -> Self {
        Log(Rc::new(RefCell::new(Vec::new())))
    }
}

impl<T: fmt::Debug> fmt::Debug for Log<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Log").field(&*self.0.borrow()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Log;

    #[test]
    fn clones_share_one_log() {
        let log = Log::new();
        let other = log.clone();
        other.push("x");
        log.push("y");
        assert_eq!(other.get(), ["x", "y"]);
        assert_eq!(log.len(), 2);
        assert_eq!(format!("{log:?}"), r#"Log(["x", "y"])"#);
        assert_eq!(other.take(), ["x", "y"]);
        assert!(log.is_empty());
    }
}
