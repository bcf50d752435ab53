//! [`watch`](self): one value, the latest, with change notification
//! (tokio's `sync::watch`).
//!
//! # Ground rules
//!
//! 1. The value is kept as an `Rc<T>`: [`Receiver::borrow`] hands out a
//!    clone of that `Rc`, so no borrow of the channel is ever held by user
//!    code, and a send while a reader holds a value cannot fail or panic
//!    (the reader keeps the value it read).
//! 2. Every send bumps a version. Each receiver remembers the version it
//!    last saw; [`Receiver::changed`] is ready at once when the version is
//!    newer, and otherwise waits in the channel's waiter queue (canceled,
//!    it leaves the queue).
//! 3. Waiters are woken with `resolve_later` after the borrow is dropped,
//!    and the old value is dropped after the borrow too.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use super::waitq::{enqueue, WaitQueue};
use crate::{Error, Promise};

struct Shared<T> {
    value: Rc<T>,
    version: u64,
    senders: usize,
    receivers: usize,
    waiters: WaitQueue<()>,
}

fn closed_error() -> Error {
    Error::closed("watch: every Sender was dropped")
}

/// A watch channel holding `init` (tokio's `watch::channel`): the
/// [`Sender`] replaces the value, each [`Receiver`] reads the latest one and
/// can wait for the next change.
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// let (tx, rx) = lwt::watch::channel("idle");
/// let seen = lwt::spawn(async move {
///     rx.changed().await?;
///     Ok(*rx.borrow())
/// });
/// assert!(seen.is_pending());
/// tx.send("busy").unwrap();
/// assert_eq!(engine.run(&seen).unwrap(), "busy");
/// ```
pub fn channel<T: 'static>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(RefCell::new(Shared {
        value: Rc::new(init),
        version: 0,
        senders: 1,
        receivers: 1,
        waiters: WaitQueue::default(),
    }));
    let rx = Receiver {
        shared: shared.clone(),
        seen: Rc::new(Cell::new(0)),
    };
    (Sender { shared }, rx)
}

/// The sending end of a [`watch`](self) channel; clones send to the same
/// channel. When the last sender is dropped, receivers waiting in
/// [`Receiver::changed`] get a closed error.
pub struct Sender<T: 'static> {
    shared: Rc<RefCell<Shared<T>>>,
}

impl<T: 'static> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.shared.borrow();
        f.debug_struct("watch::Sender")
            .field("version", &s.version)
            .field("receivers", &s.receivers)
            .finish()
    }
}

impl<T: 'static> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.borrow_mut().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T: 'static> Sender<T> {
    /// Stores `value` and wakes every waiting receiver (tokio's `send`).
    /// When no receiver is left the value is not stored and the result is a
    /// closed error, as in tokio; [`Sender::send_replace`] stores it anyway.
    ///
    /// ```
    /// let (tx, rx) = lwt::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// drop(rx);
    /// assert!(tx.send(3).unwrap_err().is_closed());
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), Error> {
        if self.shared.borrow().receivers == 0 {
            return Err(Error::closed(
                "watch::Sender::send: every Receiver was dropped",
            ));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Stores `value` whether or not anyone listens, wakes the waiting
    /// receivers, and gives back the value it replaced (tokio's
    /// `send_replace`).
    ///
    /// ```
    /// let (tx, _rx) = lwt::watch::channel(String::from("a"));
    /// assert_eq!(*tx.send_replace("b".into()), "a");
    /// ```
    pub fn send_replace(&self, value: T) -> Rc<T> {
        let (old, waiters) = {
            let mut s = self.shared.borrow_mut();
            s.version += 1;
            let old = std::mem::replace(&mut s.value, Rc::new(value));
            (old, s.waiters.take_all())
        };
        for ((), r) in waiters {
            if r.is_pending() {
                let _ = r.resolve_later(Ok(()));
            }
        }
        old
    }

    /// Changes the value in place and notifies the receivers (tokio's
    /// `send_modify`). The value is cloned first if a reader still holds it.
    ///
    /// ```
    /// let (tx, rx) = lwt::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, f: impl FnOnce(&mut T))
    where
        T: Clone,
    {
        let mut value = self.shared.borrow().value.clone();
        f(Rc::make_mut(&mut value));
        let (old, waiters) = {
            let mut s = self.shared.borrow_mut();
            s.version += 1;
            let old = std::mem::replace(&mut s.value, value);
            (old, s.waiters.take_all())
        };
        drop(old);
        for ((), r) in waiters {
            if r.is_pending() {
                let _ = r.resolve_later(Ok(()));
            }
        }
    }

    /// The latest value.
    ///
    /// ```
    /// let (tx, _rx) = lwt::watch::channel(5);
    /// assert_eq!(*tx.borrow(), 5);
    /// ```
    pub fn borrow(&self) -> Rc<T> {
        self.shared.borrow().value.clone()
    }

    /// A new receiver, which has seen the current value (tokio's
    /// `subscribe`).
    ///
    /// ```
    /// let (tx, rx) = lwt::watch::channel(0);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert!(tx.send(1).is_ok());
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let mut s = self.shared.borrow_mut();
        s.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: Rc::new(Cell::new(s.version)),
        }
    }

    /// How many receivers are alive.
    ///
    /// ```
    /// let (tx, rx) = lwt::watch::channel(());
    /// let _rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.borrow().receivers
    }

    /// True when no receiver is left (tokio's `is_closed`).
    ///
    /// ```
    /// let (tx, rx) = lwt::watch::channel(());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }
}

impl<T: 'static> Drop for Sender<T> {
    fn drop(&mut self) {
        let waiters = {
            let mut s = self.shared.borrow_mut();
            s.senders -= 1;
            if s.senders > 0 {
                return;
            }
            s.waiters.take_all()
        };
        for ((), r) in waiters {
            if r.is_pending() {
                let _ = r.resolve_later(Err(closed_error()));
            }
        }
    }
}

/// The receiving end of a [`watch`](self) channel. A clone starts having
/// seen what this one has seen; each then follows changes on its own.
pub struct Receiver<T: 'static> {
    shared: Rc<RefCell<Shared<T>>>,
    seen: Rc<Cell<u64>>,
}

impl<T: 'static> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("seen", &self.seen.get())
            .finish()
    }
}

impl<T: 'static> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.borrow_mut().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: Rc::new(Cell::new(self.seen.get())),
        }
    }
}

impl<T: 'static> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.borrow_mut().receivers -= 1;
    }
}

impl<T: 'static> Receiver<T> {
    /// The latest value, without marking it seen (tokio's `borrow`). It is
    /// an `Rc`: holding it never blocks a send, it just keeps the value it
    /// read.
    ///
    /// ```
    /// let (tx, rx) = lwt::watch::channel(1);
    /// let held = rx.borrow();
    /// tx.send(2).unwrap();
    /// assert_eq!((*held, *rx.borrow()), (1, 2));
    /// ```
    pub fn borrow(&self) -> Rc<T> {
        self.shared.borrow().value.clone()
    }

    /// The latest value, marking it seen (tokio's `borrow_and_update`).
    ///
    /// ```
    /// let (tx, rx) = lwt::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&self) -> Rc<T> {
        let s = self.shared.borrow();
        self.seen.set(s.version);
        s.value.clone()
    }

    /// True if a value was sent since this receiver last saw one; a closed
    /// error once every sender is gone (tokio's `has_changed`).
    ///
    /// ```
    /// let (tx, rx) = lwt::watch::channel(0);
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// drop(tx);
    /// assert!(rx.has_changed().unwrap_err().is_closed());
    /// ```
    pub fn has_changed(&self) -> Result<bool, Error> {
        let s = self.shared.borrow();
        if s.senders == 0 {
            return Err(closed_error());
        }
        Ok(s.version != self.seen.get())
    }

    /// Fulfilled when there is a value this receiver has not seen, which it
    /// then marks seen (tokio's `changed`): at once if one was sent since
    /// the last time, else at the next send. Rejected with a closed error
    /// when every sender is gone and nothing new is left to see. Canceling
    /// the promise leaves the wait.
    ///
    /// ```
    /// let (tx, rx) = lwt::watch::channel(0);
    /// let next = rx.changed();
    /// assert!(next.is_pending());
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// let after = rx.changed();
    /// assert!(after.peek().unwrap().unwrap_err().is_closed());
    /// ```
    pub fn changed(&self) -> Promise<()> {
        {
            let s = self.shared.borrow();
            if s.version != self.seen.get() {
                self.seen.set(s.version);
                return Promise::resolved(());
            }
            if s.senders == 0 {
                return Promise::rejected(closed_error());
            }
        }
        let woken = enqueue(&self.shared, |s| &mut s.waiters, (), None);
        let (shared, seen) = (Rc::downgrade(&self.shared), self.seen.clone());
        woken.map(move |()| {
            if let Some(shared) = shared.upgrade() {
                seen.set(shared.borrow().version);
            }
        })
    }

    /// Marks the current value seen, so [`Receiver::changed`] waits for the
    /// next send (tokio's `mark_unchanged`).
    ///
    /// ```
    /// let (tx, rx) = lwt::watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged();
    /// assert!(rx.changed().is_pending());
    /// ```
    pub fn mark_unchanged(&self) {
        self.seen.set(self.shared.borrow().version);
    }

    /// True if both receivers belong to the same channel.
    ///
    /// ```
    /// let (_tx, rx) = lwt::watch::channel(());
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared)
    }
}
