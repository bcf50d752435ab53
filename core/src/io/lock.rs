//! The lock of a channel (Lwt_io's wrapper states): one operation at a time,
//! in arrival order, and `atomic`'s temporary channels.
//!
//! A channel's handles share one *wrapper*; `atomic` makes a temporary
//! wrapper and marks the channel's [`State::Atomic`] with it, so the
//! operations of the temporary channel take its lock instead, and a flush
//! run by the channel itself (auto-flush) finds the innermost one
//! ([`deepest`]). When `atomic` ends, its wrapper is [`State::Invalid`].

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::{Error, Promise, Resolver};

pub(crate) enum State {
    Idle,
    Busy,
    /// Held by `atomic`, whose operations go through this wrapper.
    Atomic(Rc<Wrapper>),
    /// The wrapper of an `atomic` that has returned.
    Invalid,
}

/// One lock level: its state and the operations waiting for it.
pub(crate) struct Wrapper {
    state: RefCell<State>,
    queue: RefCell<VecDeque<Rc<Ticket>>>,
}

/// A place in line: resolved when the lock is handed to it (or when the
/// wrapper is invalidated), so a waiting task runs on as lwt promises do,
/// without waiting for a turn.
struct Ticket {
    granted: Cell<bool>,
    resolver: Resolver<()>,
}

impl Wrapper {
    pub(crate) fn new() -> Rc<Wrapper> {
        Rc::new(Wrapper {
            state: RefCell::new(State::Idle),
            queue: RefCell::new(VecDeque::new()),
        })
    }

    /// True when nothing holds this lock or waits for it.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(*self.state.borrow(), State::Idle) && self.queue.borrow().is_empty()
    }

    /// True for the wrapper of an `atomic` that has returned.
    pub(crate) fn is_invalid(&self) -> bool {
        matches!(*self.state.borrow(), State::Invalid)
    }

    /// Marks the held lock as held by `atomic`, through `inner`.
    pub(crate) fn set_atomic(&self, inner: Rc<Wrapper>) {
        *self.state.borrow_mut() = State::Atomic(inner);
    }

    /// Ends an `atomic`'s wrapper: later operations through it fail, and so
    /// do those waiting for it.
    pub(crate) fn invalidate(&self) {
        *self.state.borrow_mut() = State::Invalid;
        let waiting: Vec<Rc<Ticket>> = self.queue.borrow_mut().drain(..).collect();
        for t in waiting {
            let _ = t.resolver.resolve_later(Ok(()));
        }
    }

    /// Hands the lock to the next in line, or leaves it idle.
    fn release(&self) {
        let next = self.queue.borrow_mut().pop_front();
        let mut state = self.state.borrow_mut();
        if matches!(*state, State::Invalid) {
            return;
        }
        match next {
            Some(t) => {
                *state = State::Busy;
                drop(state);
                t.granted.set(true);
                let _ = t.resolver.resolve_later(Ok(()));
            }
            None => *state = State::Idle,
        }
    }
}

/// The innermost wrapper of a channel whose outermost one is `main`.
pub(crate) fn deepest(main: &Rc<Wrapper>) -> Rc<Wrapper> {
    let mut w = main.clone();
    loop {
        let inner = match &*w.state.borrow() {
            State::Atomic(inner) => inner.clone(),
            _ => break,
        };
        w = inner;
    }
    w
}

/// The error of an operation on the temporary channel of an `atomic` that
/// has returned.
pub(crate) fn invalid_error(what: &str) -> Error {
    Error::invalid_argument(format!(
        "{what}: the temporary channel of an `atomic` is used after `atomic` returned"
    ))
}

/// Waiting for a wrapper's lock: a future giving the [`Guard`]. Dropped
/// before, it leaves the line (and passes the lock on if it was just
/// handed it).
pub(crate) struct Acquire {
    wrapper: Rc<Wrapper>,
    ticket: Option<(Rc<Ticket>, Promise<()>)>,
    what: &'static str,
}

pub(crate) fn acquire(wrapper: &Rc<Wrapper>, what: &'static str) -> Acquire {
    Acquire {
        wrapper: wrapper.clone(),
        ticket: None,
        what,
    }
}

impl Future for Acquire {
    type Output = Result<Guard, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.wrapper.is_invalid() {
            if let Some((t, _)) = this.ticket.take() {
                this.wrapper
                    .queue
                    .borrow_mut()
                    .retain(|q| !Rc::ptr_eq(q, &t));
            }
            return Poll::Ready(Err(invalid_error(this.what)));
        }
        match &mut this.ticket {
            None => {
                if this.wrapper.is_idle() {
                    *this.wrapper.state.borrow_mut() = State::Busy;
                    return Poll::Ready(Ok(Guard {
                        wrapper: this.wrapper.clone(),
                    }));
                }
                let (p, resolver) = crate::wait();
                let t = Rc::new(Ticket {
                    granted: Cell::new(false),
                    resolver,
                });
                this.wrapper.queue.borrow_mut().push_back(t.clone());
                this.ticket = Some((t, p));
                // Polled, the promise keeps this task's waker.
                self.poll(cx)
            }
            Some((t, _)) if t.granted.get() => {
                this.ticket = None;
                Poll::Ready(Ok(Guard {
                    wrapper: this.wrapper.clone(),
                }))
            }
            Some((_, p)) => match Pin::new(p).poll(cx) {
                Poll::Pending => Poll::Pending,
                // Granted or invalidated: look again.
                Poll::Ready(_) => self.poll(cx),
            },
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if let Some((t, _)) = self.ticket.take() {
            if t.granted.get() {
                self.wrapper.release();
            } else {
                self.wrapper
                    .queue
                    .borrow_mut()
                    .retain(|q| !Rc::ptr_eq(q, &t));
            }
        }
    }
}

/// A held lock, released when dropped.
pub(crate) struct Guard {
    wrapper: Rc<Wrapper>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.wrapper.release();
    }
}

/// Ends an `atomic`: its temporary wrapper is invalid from then on.
pub(crate) struct EndAtomic(pub(crate) Rc<Wrapper>);

impl Drop for EndAtomic {
    fn drop(&mut self) {
        self.0.invalidate();
    }
}
