//! [`broadcast`](self): every value to every receiver, in a bounded buffer
//! that slow receivers fall behind (tokio's `sync::broadcast`).
//!
//! # Ground rules
//!
//! 1. The channel keeps the last `capacity` values, each with a sequence
//!    number. A receiver is a position in that sequence; receivers never
//!    slow the sender down.
//! 2. A receiver whose next value was pushed out of the buffer *lags*: its
//!    next receive is an error carrying [`Lagged`] (how many values it
//!    missed), and it then goes on from the oldest value kept.
//! 3. A waiting receive sits in the channel's waiter queue (canceled, it
//!    leaves); a send wakes every waiter with `resolve_later`, and each one
//!    looks again.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use super::waitq::{enqueue, WaitQueue};
use crate::{Error, Promise};

struct Shared<T> {
    buf: VecDeque<(u64, T)>,
    capacity: usize,
    /// The sequence number the next value sent gets.
    next_seq: u64,
    senders: usize,
    receivers: usize,
    waiters: WaitQueue<()>,
}

/// The payload of the error a lagging receiver gets: how many values it
/// missed (tokio's `RecvError::Lagged`). Read it with
/// [`Error::payload`] or [`lagged`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lagged(pub u64);

/// How many values a receive error says were missed, if it is a lag.
///
/// ```
/// let (tx, rx) = lwt::broadcast::channel(1);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// let e = rx.try_recv().unwrap_err();
/// assert_eq!(lwt::broadcast::lagged(&e), Some(1));
/// ```
pub fn lagged(e: &Error) -> Option<u64> {
    e.payload::<Lagged>().map(|l| l.0)
}

fn closed_error() -> Error {
    Error::closed("broadcast: every Sender was dropped")
}

/// A broadcast channel keeping the last `capacity` values (tokio's
/// `broadcast::channel`). A capacity of 0 is taken as 1, where tokio
/// panics.
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// let (tx, a) = lwt::broadcast::channel(4);
/// let b = tx.subscribe();
/// tx.send("hi").unwrap();
/// let both = engine.block_on(async move { Ok((a.recv().await?, b.recv().await?)) });
/// assert_eq!(both.unwrap(), ("hi", "hi"));
/// ```
pub fn channel<T: Clone + 'static>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(RefCell::new(Shared {
        buf: VecDeque::new(),
        capacity: capacity.max(1),
        next_seq: 0,
        senders: 1,
        receivers: 1,
        waiters: WaitQueue::default(),
    }));
    let rx = Receiver {
        shared: shared.clone(),
        next: Rc::new(Cell::new(0)),
    };
    (Sender { shared }, rx)
}

/// The sending end of a [`broadcast`](self) channel; clones send to the
/// same channel.
pub struct Sender<T: 'static> {
    shared: Rc<RefCell<Shared<T>>>,
}

impl<T: 'static> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.shared.borrow();
        f.debug_struct("broadcast::Sender")
            .field("len", &s.buf.len())
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

fn wake_all<T>(shared: &Rc<RefCell<Shared<T>>>) {
    let waiters = shared.borrow_mut().waiters.take_all();
    for ((), r) in waiters {
        if r.is_pending() {
            let _ = r.resolve_later(Ok(()));
        }
    }
}

impl<T: Clone + 'static> Sender<T> {
    /// Sends `value` to every receiver, giving how many there are (tokio's
    /// `send`). When the buffer is full the oldest value goes, and the
    /// receivers that had not read it will lag. With no receiver, a closed
    /// error and the value is dropped.
    ///
    /// ```
    /// let (tx, rx) = lwt::broadcast::channel(2);
    /// assert_eq!(tx.send(1).unwrap(), 1);
    /// drop(rx);
    /// assert!(tx.send(2).unwrap_err().is_closed());
    /// ```
    pub fn send(&self, value: T) -> Result<usize, Error> {
        let (receivers, old) = {
            let mut s = self.shared.borrow_mut();
            if s.receivers == 0 {
                return Err(Error::closed(
                    "broadcast::Sender::send: every Receiver was dropped",
                ));
            }
            let seq = s.next_seq;
            s.next_seq += 1;
            s.buf.push_back((seq, value));
            let old = if s.buf.len() > s.capacity {
                s.buf.pop_front()
            } else {
                None
            };
            (s.receivers, old)
        };
        drop(old);
        wake_all(&self.shared);
        Ok(receivers)
    }

    /// A new receiver, which gets the values sent from now on (tokio's
    /// `subscribe`).
    ///
    /// ```
    /// let (tx, _rx) = lwt::broadcast::channel(2);
    /// tx.send(1).unwrap();
    /// let late = tx.subscribe();
    /// assert_eq!(late.try_recv().unwrap(), None);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let mut s = self.shared.borrow_mut();
        s.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: Rc::new(Cell::new(s.next_seq)),
        }
    }

    /// How many receivers are alive.
    ///
    /// ```
    /// let (tx, rx) = lwt::broadcast::channel::<()>(1);
    /// let _b = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.borrow().receivers
    }
}

impl<T: 'static> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut s = self.shared.borrow_mut();
            s.senders -= 1;
            s.senders == 0
        };
        if last {
            wake_all(&self.shared);
        }
    }
}

/// The receiving end of a [`broadcast`](self) channel. A clone starts at
/// the same position; each then reads on its own.
pub struct Receiver<T: 'static> {
    shared: Rc<RefCell<Shared<T>>>,
    next: Rc<Cell<u64>>,
}

impl<T: 'static> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next.get())
            .finish()
    }
}

impl<T: 'static> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.borrow_mut().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: Rc::new(Cell::new(self.next.get())),
        }
    }
}

impl<T: 'static> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.borrow_mut().receivers -= 1;
    }
}

/// One look at the channel for the receiver at `next`: a value, a lag or
/// closed error, or `None` (nothing yet).
fn look<T: Clone>(shared: &RefCell<Shared<T>>, next: &Cell<u64>) -> Option<Result<T, Error>> {
    let s = shared.borrow();
    let oldest = s.buf.front().map_or(s.next_seq, |(seq, _)| *seq);
    let at = next.get();
    if at < oldest {
        next.set(oldest);
        let missed = oldest - at;
        return Some(Err(Error::with_payload(
            format!("broadcast: the receiver lagged behind and missed {missed} values"),
            Lagged(missed),
        )));
    }
    if at < s.next_seq {
        let i = usize::try_from(at - oldest).ok()?;
        let (_, v) = s.buf.get(i)?;
        next.set(at + 1);
        return Some(Ok(v.clone()));
    }
    if s.senders == 0 {
        return Some(Err(closed_error()));
    }
    None
}

fn recv_on<T: Clone + 'static>(shared: Rc<RefCell<Shared<T>>>, next: Rc<Cell<u64>>) -> Promise<T> {
    if let Some(r) = look(&shared, &next) {
        return crate::from_result(r);
    }
    let woken = enqueue(&shared, |s| &mut s.waiters, (), None);
    woken.bind(move |()| recv_on(shared, next))
}

impl<T: Clone + 'static> Receiver<T> {
    /// The next value (tokio's `recv`): at once if one is buffered, else at
    /// the next send. Rejected with a [`Lagged`] error if values were
    /// missed (the next receive goes on from the oldest one kept), or with
    /// a closed error once every sender is gone and every value was read.
    /// Canceling the promise leaves the wait.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let (tx, rx) = lwt::broadcast::channel(2);
    /// for v in 1..=3 {
    ///     tx.send(v).unwrap(); // 1 is pushed out by 3
    /// }
    /// drop(tx);
    /// let got = engine.block_on(async move {
    ///     let lag = rx.recv().await.unwrap_err();
    ///     assert_eq!(lwt::broadcast::lagged(&lag), Some(1));
    ///     let (a, b) = (rx.recv().await?, rx.recv().await?);
    ///     assert!(rx.recv().await.unwrap_err().is_closed());
    ///     Ok((a, b))
    /// });
    /// assert_eq!(got.unwrap(), (2, 3));
    /// ```
    pub fn recv(&self) -> Promise<T> {
        recv_on(self.shared.clone(), self.next.clone())
    }

    /// The next value if one is buffered now: `Ok(None)` if not, the same
    /// errors as [`Receiver::recv`] otherwise (tokio's `try_recv`).
    ///
    /// ```
    /// let (tx, rx) = lwt::broadcast::channel(2);
    /// assert_eq!(rx.try_recv().unwrap(), None);
    /// tx.send('a').unwrap();
    /// assert_eq!(rx.try_recv().unwrap(), Some('a'));
    /// ```
    pub fn try_recv(&self) -> Result<Option<T>, Error> {
        look(&self.shared, &self.next).transpose()
    }

    /// How many values this receiver has not read yet, still buffered.
    ///
    /// ```
    /// let (tx, rx) = lwt::broadcast::channel(4);
    /// tx.send(()).unwrap();
    /// tx.send(()).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        let s = self.shared.borrow();
        let oldest = s.buf.front().map_or(s.next_seq, |(seq, _)| *seq);
        let from = self.next.get().max(oldest);
        usize::try_from(s.next_seq - from).unwrap_or(usize::MAX)
    }

    /// True when this receiver has nothing buffered to read.
    ///
    /// ```
    /// let (_tx, rx) = lwt::broadcast::channel::<u8>(1);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
