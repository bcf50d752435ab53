//! A guard that aborts a task when it goes out of scope.

use std::fmt;

use crate::promise::Promise;

/// Owns a task (or any promise) and [aborts](Promise::abort) it when dropped,
/// unless it was resolved by then: helper tasks end with whatever owns the
/// guard (a session, a stream), whichever way that ends.
///
/// Made with [`Promise::abort_on_drop`]; [`AbortOnDrop::into_inner`] gives the
/// promise back without aborting it.
///
/// ```
/// use std::time::Duration;
/// let _engine = lwt::testing::VirtualEngine::new();
/// let helper = lwt::spawn(async {
///     lwt::sleep(Duration::from_secs(60)).await?;
///     Ok(())
/// });
/// let guard = helper.clone().abort_on_drop();
/// assert!(guard.promise().is_pending());
/// drop(guard);
/// assert!(helper.peek().unwrap().unwrap_err().is_canceled());
/// ```
#[must_use = "the promise is aborted when this guard is dropped"]
pub struct AbortOnDrop<T: 'static>(Option<Promise<T>>);

impl<T: 'static> Promise<T> {
    /// A guard that aborts this promise when dropped, if it is still pending
    /// then (see [`AbortOnDrop`]).
    ///
    /// ```
    /// let (p, _r) = lwt::task::<u32>();
    /// drop(p.clone().abort_on_drop());
    /// assert!(p.peek().unwrap().unwrap_err().is_canceled());
    ///
    /// // A promise resolved before the guard goes keeps its value.
    /// let done = lwt::Promise::resolved(3);
    /// drop(done.clone().abort_on_drop());
    /// assert_eq!(done.peek().unwrap().unwrap(), 3);
    /// ```
    pub fn abort_on_drop(self) -> AbortOnDrop<T> {
        AbortOnDrop(Some(self))
    }
}

impl<T: 'static> AbortOnDrop<T> {
    /// The guarded promise.
    ///
    /// ```
    /// let guard = lwt::Promise::resolved(1).abort_on_drop();
    /// assert!(guard.promise().is_fulfilled());
    /// ```
    pub fn promise(&self) -> &Promise<T> {
        self.0
            .as_ref()
            .expect("an AbortOnDrop holds its promise until dropped")
    }

    /// Disarms the guard: gives the promise back, not aborted.
    ///
    /// ```
    /// let (p, r) = lwt::task::<u32>();
    /// let p = p.abort_on_drop().into_inner();
    /// assert!(p.is_pending());
    /// r.resolve(2).unwrap();
    /// assert_eq!(p.peek().unwrap().unwrap(), 2);
    /// ```
    pub fn into_inner(mut self) -> Promise<T> {
        self.0
            .take()
            .expect("an AbortOnDrop holds its promise until dropped")
    }
}

impl<T: 'static> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        // A promise resolved already is left as it is.
        if let Some(p) = self.0.take() {
            if p.is_pending() {
                p.abort();
            }
        }
    }
}

impl<T: 'static> fmt::Debug for AbortOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AbortOnDrop").field(&self.0).finish()
    }
}
