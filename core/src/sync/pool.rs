//! [`Pool`]: a bounded set of reusable elements, made on demand (Lwt's
//! `Lwt_pool`), for connections, workers, buffers.
//!
//! # Ground rules
//!
//! 1. **Slots.** The pool counts its elements: those idle, those in use, and
//!    those being made, validated or disposed. It never counts more than
//!    `max`. An element is made lazily, by the factory, only when a
//!    [`Pool::use_`] finds no idle element and a free slot.
//! 2. **FIFO.** When every slot is taken, `use_` waits in line. An element
//!    given back goes straight to the first live waiter, never through the
//!    idle list, so a newcomer cannot barge in. A slot freed (an element
//!    disposed, a factory that failed) goes to the first waiter as the right
//!    to make a new element.
//! 3. **Validation and replacement.** An element that was idle is handed out
//!    only after `validate` says yes. If it says no, the element is disposed
//!    and the factory makes a fresh one in its slot. If `validate` fails,
//!    the element is disposed, the slot freed, and that `use_` rejected.
//! 4. **Giving back.** When the promise of the function given to `use_`
//!    resolves, the element goes back: always after success; after a
//!    failure only if `check` says so, else it is disposed and its slot
//!    freed. An element that was out while [`Pool::clear`] ran is disposed
//!    instead of going back.
//! 5. **Cancellation.** Canceling a waiting `use_` removes it from the line:
//!    it never gets an element. Canceling it while the factory or
//!    `validate` runs cancels that promise (a canceled validation puts the
//!    element back, unharmed). Canceling it while the user's function runs
//!    cancels the function's promise; the element comes back when that
//!    promise resolves, as for any failure. Disposal is never canceled.
//! 6. **No borrow across user code.** The factory, `validate`, `check`,
//!    `dispose` and the user's function are called with no borrow of the
//!    pool held, so each may use the pool again; waiters are resolved with
//!    [`crate::Resolver::resolve_later`].
//!
//! Elements are cloned: the pool keeps one copy while the user's function
//! works with another. Use a handle type (an `Rc`, a connection id) for
//! a resource that must not be duplicated.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use super::waitq::{enqueue, WaitQueue};
use crate::{Error, Promise};

type Factory<T> = Rc<dyn Fn() -> Promise<T>>;
type Validate<T> = Rc<dyn Fn(&T) -> Promise<bool>>;
type Check<T> = Rc<dyn Fn(&T, &Error) -> Promise<bool>>;
type Dispose<T> = Rc<dyn Fn(T) -> Promise<()>>;

/// What a waiter is given: an element, or a slot to make one in. Each comes
/// with the generation (see [`State::generation`]) it belongs to.
#[derive(Clone)]
enum Grant<T> {
    Elem(T, u64),
    Slot(u64),
}

struct State<T: 'static> {
    max: usize,
    /// Elements idle, in use, or being made, validated or disposed.
    count: usize,
    idle: VecDeque<T>,
    waiters: WaitQueue<Grant<T>>,
    /// Bumped by `clear`: an element taken out under an older generation is
    /// disposed when it comes back.
    generation: u64,
    factory: Factory<T>,
    validate: Option<Validate<T>>,
    check: Option<Check<T>>,
    dispose: Option<Dispose<T>>,
}

/// A pool of at most `max` elements of type `T`, made on demand by a
/// factory and reused (Lwt's `'a Lwt_pool.t`). Cloning gives another handle
/// to the same pool. See the module docs for the rules.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// let made = Rc::new(Cell::new(0));
/// let m = made.clone();
/// let pool = lwt::Pool::new(2, move || {
///     m.set(m.get() + 1);
///     lwt::Promise::resolved(format!("conn {}", m.get()))
/// });
/// let r = pool.use_(|conn| lwt::Promise::resolved(conn.len()));
/// assert_eq!(r.peek().unwrap().unwrap(), 6);
/// pool.use_(|_| lwt::Promise::resolved(())).peek().unwrap().unwrap();
/// assert_eq!(made.get(), 1); // the element was reused
/// ```
pub struct Pool<T: 'static> {
    state: Rc<RefCell<State<T>>>,
}

impl<T: 'static> Clone for Pool<T> {
    fn clone(&self) -> Self {
        Pool {
            state: self.state.clone(),
        }
    }
}

impl<T: 'static> fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("Pool")
            .field("max", &s.max)
            .field("count", &s.count)
            .field("idle", &s.idle.len())
            .field("waiters", &s.waiters.len())
            .finish()
    }
}

impl<T: Clone + 'static> Pool<T> {
    /// A pool of at most `max` elements, made by `factory` when needed
    /// (Lwt's `Lwt_pool.create`). With `max == 0` every [`Pool::use_`] is
    /// rejected with an invalid-argument error. The options are set with
    /// [`Pool::with_validate`], [`Pool::with_check`] and
    /// [`Pool::with_dispose`].
    ///
    /// ```
    /// let pool = lwt::Pool::new(4, || lwt::Promise::resolved(vec![0u8; 1024]));
    /// assert_eq!(pool.size(), 0); // nothing is made before it is needed
    /// ```
    pub fn new(max: usize, factory: impl Fn() -> Promise<T> + 'static) -> Pool<T> {
        Pool {
            state: Rc::new(RefCell::new(State {
                max,
                count: 0,
                idle: VecDeque::new(),
                waiters: WaitQueue::default(),
                generation: 0,
                factory: Rc::new(factory),
                validate: None,
                check: None,
                dispose: None,
            })),
        }
    }

    /// Sets the function called on an idle element before it is handed
    /// out (Lwt's `?validate`): `false` disposes the element and the factory
    /// makes a fresh one instead; a rejection disposes it and rejects the
    /// `use_`. Freshly made elements are not validated.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// let next = Rc::new(Cell::new(0));
    /// let n = next.clone();
    /// let pool = lwt::Pool::new(1, move || {
    ///     n.set(n.get() + 1);
    ///     lwt::Promise::resolved(n.get())
    /// })
    /// .with_validate(|conn| lwt::Promise::resolved(*conn != 1)); // 1 went stale
    /// assert_eq!(pool.use_(lwt::Promise::resolved).peek().unwrap().unwrap(), 1);
    /// assert_eq!(pool.use_(lwt::Promise::resolved).peek().unwrap().unwrap(), 2);
    /// ```
    pub fn with_validate(self, validate: impl Fn(&T) -> Promise<bool> + 'static) -> Pool<T> {
        // The old one is dropped after the borrow: its captures may use the pool.
        let old = self.state.borrow_mut().validate.replace(Rc::new(validate));
        drop(old);
        self
    }

    /// Sets the function called when a use fails, with the element and the
    /// error (Lwt's `?check`): `true` gives the element back to the pool,
    /// `false` (or a rejection) disposes it. Without it, the element always
    /// goes back.
    ///
    /// ```
    /// let pool = lwt::Pool::new(1, || lwt::Promise::resolved(()))
    ///     .with_check(|_conn, e| lwt::Promise::resolved(!e.message().contains("broken")));
    /// let r = pool.use_(|()| lwt::Promise::<()>::rejected(lwt::Error::msg("broken pipe")));
    /// assert!(r.is_rejected());
    /// assert_eq!(pool.size(), 0); // disposed, not given back
    /// ```
    pub fn with_check(self, check: impl Fn(&T, &Error) -> Promise<bool> + 'static) -> Pool<T> {
        // The old one is dropped after the borrow: its captures may use the pool.
        let old = self.state.borrow_mut().check.replace(Rc::new(check));
        drop(old);
        self
    }

    /// Sets the function that disposes of an element thrown away, by
    /// validation, check or [`Pool::clear`] (Lwt's `?dispose`). Its slot is
    /// free once the promise resolves. Without it, the element is dropped.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let closed = Rc::new(RefCell::new(Vec::new()));
    /// let c = closed.clone();
    /// let pool = lwt::Pool::new(1, || lwt::Promise::resolved("conn"))
    ///     .with_dispose(move |conn| { c.borrow_mut().push(conn); lwt::Promise::resolved(()) });
    /// pool.use_(|_| lwt::Promise::resolved(())).peek().unwrap().unwrap();
    /// pool.clear().peek().unwrap().unwrap();
    /// assert_eq!(*closed.borrow(), ["conn"]);
    /// ```
    pub fn with_dispose(self, dispose: impl Fn(T) -> Promise<()> + 'static) -> Pool<T> {
        // The old one is dropped after the borrow: its captures may use the pool.
        let old = self.state.borrow_mut().dispose.replace(Rc::new(dispose));
        drop(old);
        self
    }

    /// Runs `f` with an element of the pool and gives the element back when
    /// `f`'s promise resolves, either way (Lwt's `Lwt_pool.use`). Takes an
    /// idle element (validated first), or makes one if fewer than `max`
    /// exist, or waits in line for one. The result is `f`'s promise's
    /// result, or the error of the factory or of validation.
    ///
    /// Canceling the result while it waits removes it from the line;
    /// canceling it while `f`'s promise runs cancels that promise, and the
    /// element comes back when it resolves (module docs, rule 5).
    ///
    /// ```
    /// let pool = lwt::Pool::new(1, || lwt::Promise::resolved("conn"));
    /// let (gate, open) = lwt::wait::<()>();
    /// let first = pool.use_(move |_| gate);
    /// let second = pool.use_(|c| lwt::Promise::resolved(c));
    /// assert!(second.is_pending()); // the only element is in use
    /// assert_eq!(pool.wait_queue_length(), 1);
    /// open.resolve(()).unwrap();
    /// assert!(first.is_fulfilled());
    /// assert_eq!(second.peek().unwrap().unwrap(), "conn");
    /// ```
    pub fn use_<R: 'static>(&self, f: impl FnOnce(T) -> Promise<R> + 'static) -> Promise<R> {
        let pool = self.clone();
        self.acquire().bind(move |(elem, generation)| {
            let p = f(elem.clone());
            p.on_result(move |r| match r {
                Ok(_) => pool.give_back(elem, generation),
                Err(e) => pool.after_failure(elem, generation, e.clone()),
            });
            p
        })
    }

    /// Disposes of every idle element now, and of every element in use when
    /// it comes back (Lwt's `Lwt_pool.clear`). The promise resolves when
    /// the idle ones are disposed; rejected with the first disposal error.
    ///
    /// ```
    /// let pool = lwt::Pool::new(2, || lwt::Promise::resolved(()));
    /// pool.use_(|()| lwt::Promise::resolved(())).peek().unwrap().unwrap();
    /// assert_eq!(pool.size(), 1);
    /// assert!(pool.clear().is_fulfilled());
    /// assert_eq!(pool.size(), 0);
    /// ```
    pub fn clear(&self) -> Promise<()> {
        let idle = {
            let mut s = self.state.borrow_mut();
            s.generation += 1;
            std::mem::take(&mut s.idle)
        };
        crate::join(idle.into_iter().map(|e| self.dispose_and_free(e)))
    }

    /// How many `use_` wait for an element (Lwt's
    /// `Lwt_pool.wait_queue_length`).
    ///
    /// ```
    /// let pool = lwt::Pool::new(1, || lwt::Promise::resolved(()));
    /// let _held = pool.use_(|()| lwt::Promise::<()>::never());
    /// let waiting = pool.use_(|()| lwt::Promise::resolved(()));
    /// assert_eq!(pool.wait_queue_length(), 1);
    /// waiting.cancel();
    /// assert_eq!(pool.wait_queue_length(), 0);
    /// ```
    pub fn wait_queue_length(&self) -> usize {
        self.state.borrow().waiters.len()
    }

    /// How many elements exist: idle, in use, or being made, validated or
    /// disposed. Never more than `max`.
    ///
    /// ```
    /// let pool = lwt::Pool::new(3, || lwt::Promise::resolved(()));
    /// let _held = pool.use_(|()| lwt::Promise::<()>::never());
    /// assert_eq!(pool.size(), 1);
    /// ```
    pub fn size(&self) -> usize {
        self.state.borrow().count
    }

    /// How many elements are idle, ready to be handed out.
    ///
    /// ```
    /// let pool = lwt::Pool::new(3, || lwt::Promise::resolved(()));
    /// pool.use_(|()| lwt::Promise::resolved(())).peek().unwrap().unwrap();
    /// assert_eq!(pool.idle_count(), 1);
    /// ```
    pub fn idle_count(&self) -> usize {
        self.state.borrow().idle.len()
    }

    /// An element (validated or fresh) and its generation.
    fn acquire(&self) -> Promise<(T, u64)> {
        let now = {
            let mut s = self.state.borrow_mut();
            if s.max == 0 {
                return Promise::rejected(Error::invalid_argument(
                    "Pool::use_: the pool has no room (max is 0)",
                ));
            }
            if !s.waiters.is_empty() {
                None
            } else if let Some(e) = s.idle.pop_front() {
                Some(Grant::Elem(e, s.generation))
            } else if s.count < s.max {
                s.count += 1;
                Some(Grant::Slot(s.generation))
            } else {
                None
            }
        };
        let waited = match now {
            Some(grant) => Promise::resolved(grant),
            None => enqueue(&self.state, |s| &mut s.waiters, (), None),
        };
        let pool = self.clone();
        crate::spawn(async move {
            match waited.await? {
                Grant::Elem(e, generation) => pool.validated(e, generation).await,
                Grant::Slot(generation) => Ok((pool.make().await?, generation)),
            }
        })
    }

    /// Makes an element in a slot already counted; frees the slot on failure.
    async fn make(&self) -> Result<T, Error> {
        let factory = self.state.borrow().factory.clone();
        let made = factory().await;
        if made.is_err() {
            self.free_slot();
        }
        made
    }

    /// Validates an element that was idle, replacing it if it is stale.
    async fn validated(&self, e: T, generation: u64) -> Result<(T, u64), Error> {
        let validate = self.state.borrow().validate.clone();
        let Some(validate) = validate else {
            return Ok((e, generation));
        };
        match validate(&e).await {
            Ok(true) => Ok((e, generation)),
            Ok(false) => {
                if let Err(err) = crate::no_cancel(&self.call_dispose(e)).await {
                    self.free_slot();
                    return Err(err);
                }
                Ok((self.make().await?, generation))
            }
            Err(err) if err.is_canceled() => {
                // Our `use_` was canceled, not the element found bad.
                self.give_back(e, generation);
                Err(err)
            }
            Err(err) => {
                let disposed = crate::no_cancel(&self.dispose_and_free(e)).await;
                Err(disposed.err().unwrap_or(err))
            }
        }
    }

    /// Gives back an element after a use: to the first waiter, else to the
    /// idle list; disposed if the pool was cleared since it was taken.
    fn give_back(&self, elem: T, generation: u64) {
        let waiter = {
            let mut s = self.state.borrow_mut();
            if s.generation != generation {
                None
            } else {
                match s.waiters.pop_live() {
                    Some(((), r)) => Some((r, s.generation)),
                    None => {
                        s.idle.push_back(elem);
                        return;
                    }
                }
            }
        };
        match waiter {
            // Pending (checked by `pop_live`), and nothing ran since.
            Some((r, g)) => drop(r.resolve_later(Ok(Grant::Elem(elem, g)))),
            None => self.discard(elem),
        }
    }

    /// A use failed with `error`: asks `check` whether the element goes back.
    fn after_failure(&self, elem: T, generation: u64, error: Error) {
        let check = self.state.borrow().check.clone();
        let Some(check) = check else {
            self.give_back(elem, generation);
            return;
        };
        let pool = self.clone();
        check(&elem, &error).on_result(move |ok| {
            if matches!(ok, Ok(true)) {
                pool.give_back(elem, generation);
            } else {
                pool.discard(elem);
            }
        });
    }

    /// Disposes of an element in the background; a disposal error goes to
    /// the async exception hook.
    fn discard(&self, elem: T) {
        crate::async_(|| self.dispose_and_free(elem));
    }

    /// Disposes of an element, then frees its slot (whichever way the
    /// disposal went).
    fn dispose_and_free(&self, elem: T) -> Promise<()> {
        let pool = self.clone();
        self.call_dispose(elem).finalize(move || {
            pool.free_slot();
            Promise::resolved(())
        })
    }

    fn call_dispose(&self, elem: T) -> Promise<()> {
        let dispose = self.state.borrow().dispose.clone();
        match dispose {
            Some(d) => d(elem),
            None => {
                drop(elem);
                Promise::resolved(())
            }
        }
    }

    /// A slot is free: the first waiter gets it, to make an element in.
    fn free_slot(&self) {
        let waiter = {
            let mut s = self.state.borrow_mut();
            s.count -= 1;
            let w = s.waiters.pop_live();
            if w.is_some() {
                s.count += 1;
            }
            w.map(|((), r)| (r, s.generation))
        };
        if let Some((r, g)) = waiter {
            let _ = r.resolve_later(Ok(Grant::Slot(g)));
        }
    }
}
