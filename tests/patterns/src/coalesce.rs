//! A request coalescer: callers asking for the same key while a request is
//! in flight share it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::Hash;
use std::rc::Rc;

use lwt::Promise;

struct InFlight<V: 'static> {
    promise: Promise<V>,
    callers: Rc<Cell<usize>>,
}

/// Shares one in-flight promise per key among all callers. Each caller gets
/// its own view: canceling it rejects only that caller's promise, and the
/// shared request is canceled when the last caller cancels. The entry is
/// forgotten once the request resolves, so a later call starts a new one.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// let fetches = Rc::new(Cell::new(0));
/// let coalescer = lwt_patterns::Coalescer::<&str, u32>::new();
/// let (answer, resolve) = lwt::wait::<u32>();
/// let f = fetches.clone();
/// let fetch = move || { f.set(f.get() + 1); answer.clone() };
/// let a = coalescer.get("user/1", fetch.clone());
/// let b = coalescer.get("user/1", fetch);
/// resolve.resolve(7).unwrap();
/// assert_eq!((a.peek().unwrap().unwrap(), b.peek().unwrap().unwrap()), (7, 7));
/// assert_eq!(fetches.get(), 1);
/// ```
pub struct Coalescer<K, V: 'static> {
    inflight: Rc<RefCell<HashMap<K, InFlight<V>>>>,
}

impl<K, V: 'static> Clone for Coalescer<K, V> {
    fn clone(&self) -> Self {
        Coalescer {
            inflight: self.inflight.clone(),
        }
    }
}

impl<K: Eq + Hash + Clone + 'static, V: 'static> Default for Coalescer<K, V> {
    fn default() -> Self {
        Coalescer::new()
    }
}

impl<K: Eq + Hash + Clone + 'static, V: 'static> Coalescer<K, V> {
    /// An empty coalescer.
    ///
    /// ```
    /// let c = lwt_patterns::Coalescer::<String, u8>::new();
    /// assert_eq!(c.in_flight(), 0);
    /// ```
    pub fn new() -> Coalescer<K, V> {
        Coalescer {
            inflight: Rc::new(RefCell::new(HashMap::new())),
        }
    }

    /// How many requests are in flight.
    ///
    /// ```
    /// let c = lwt_patterns::Coalescer::<u8, u8>::new();
    /// let _p = c.get(1, || lwt::wait().0);
    /// assert_eq!(c.in_flight(), 1);
    /// ```
    pub fn in_flight(&self) -> usize {
        self.inflight.borrow().len()
    }

    /// The value for `key`: joins the request in flight, or starts one with
    /// `request`.
    ///
    /// ```
    /// let c = lwt_patterns::Coalescer::<u8, u8>::new();
    /// assert_eq!(c.get(1, || lwt::Promise::resolved(5)).peek().unwrap().unwrap(), 5);
    /// ```
    pub fn get(&self, key: K, request: impl FnOnce() -> Promise<V>) -> Promise<V> {
        let joined = self
            .inflight
            .borrow()
            .get(&key)
            .map(|f| (f.promise.clone(), f.callers.clone()));
        let (shared, callers) = match joined {
            Some(j) => j,
            None => {
                let promise = request();
                if !promise.is_pending() {
                    return promise;
                }
                let callers = Rc::new(Cell::new(0));
                self.inflight.borrow_mut().insert(
                    key.clone(),
                    InFlight {
                        promise: promise.clone(),
                        callers: callers.clone(),
                    },
                );
                let (map, k, mine) = (Rc::downgrade(&self.inflight), key, promise.clone());
                promise.on_termination(move || {
                    if let Some(map) = map.upgrade() {
                        let mut map = map.borrow_mut();
                        if map.get(&k).is_some_and(|f| f.promise.same_as(&mine)) {
                            map.remove(&k);
                        }
                    }
                });
                (promise, callers)
            }
        };
        callers.set(callers.get() + 1);
        let view = lwt::protected(&shared);
        view.on_cancel(move || {
            callers.set(callers.get() - 1);
            if callers.get() == 0 {
                shared.cancel();
            }
        });
        view
    }
}
