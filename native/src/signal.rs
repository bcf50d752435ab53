//! Signals as a stream (Lwt_unix's `on_signal`).
//!
//! # Ground rules
//!
//! * A process-wide self-pipe: the handler (async-signal-safe) writes the
//!   signal's number to it; the loop reads it like any other pipe and hands
//!   the number to every [`Signals`] that asked for it. Nothing runs in the
//!   handler but one `write`.
//! * One loop thread receives signals: the first that makes a [`Signals`].
//!   Making one on another thread is an error (`Unsupported`).
//! * Handlers stay installed for the life of the process (Lwt does the
//!   same); a signal nobody listens for any more is read and dropped.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use lwt::{Error, Promise, Resolver};

use crate::engine::reactor::{Dir, Registered};

pub use libc::{SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

#[derive(Default)]
struct Queue {
    wanted: Vec<i32>,
    pending: VecDeque<i32>,
    /// The pending `recv`s, served in the order they were made. A canceled
    /// one leaves at once (its `on_cancel`), so the first is always pending.
    waiting: VecDeque<Resolver<i32>>,
}

struct Hub {
    subscribers: RefCell<Vec<Weak<RefCell<Queue>>>>,
    _reader: Promise<()>,
}

thread_local! {
    static HUB: RefCell<Option<Rc<Hub>>> = const { RefCell::new(None) };
}

fn hub() -> io::Result<Rc<Hub>> {
    if let Some(h) = HUB.with(|h| h.borrow().clone()) {
        return Ok(h);
    }
    let Some(rx) = crate::sys::signal_pipe()? else {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "signals are received by the loop of the first thread that asked for them",
        ));
    };
    let pipe = match Registered::new(rx) {
        Ok(pipe) => Rc::new(pipe),
        Err(e) => {
            crate::sys::release_signal_pipe();
            return Err(e);
        }
    };
    let hub = Rc::new_cyclic(|weak: &Weak<Hub>| {
        let weak = weak.clone();
        let reader = lwt::spawn(async move {
            let mut buf = [0u8; 64];
            loop {
                let n = pipe
                    .io(Dir::Read, |r| io::Read::read(&mut &*r, &mut buf))
                    .await?;
                let Some(hub) = weak.upgrade() else {
                    return Ok(());
                };
                for &sig in &buf[..n] {
                    hub.deliver(i32::from(sig));
                }
            }
        });
        Hub {
            subscribers: RefCell::new(Vec::new()),
            _reader: reader,
        }
    });
    HUB.with(|h| *h.borrow_mut() = Some(hub.clone()));
    Ok(hub)
}

impl Hub {
    fn deliver(&self, sig: i32) {
        let subs: Vec<_> = {
            let mut s = self.subscribers.borrow_mut();
            s.retain(|w| w.strong_count() > 0);
            s.iter().filter_map(Weak::upgrade).collect()
        };
        for q in subs {
            if !q.borrow().wanted.contains(&sig) {
                continue;
            }
            // The first waiter gets it (resolved outside the borrow); with
            // none, it is kept for the next `recv`.
            let waiter = {
                let mut q = q.borrow_mut();
                let waiter = q.waiting.pop_front();
                if waiter.is_none() {
                    q.pending.push_back(sig);
                }
                waiter
            };
            if let Some(waiter) = waiter {
                let _ = waiter.resolve(sig);
            }
        }
    }
}

/// The signals of a set, as they arrive: a `futures_core::Stream` of signal
/// numbers, or one at a time with [`Signals::recv`].
///
/// ```
/// use lwt_native::signal::{Signals, SIGUSR2};
/// let got = lwt_native::run(async {
///     let mut signals = Signals::new(&[SIGUSR2])?;
///     // SAFETY: raising a signal whose handler is installed.
///     unsafe { libc::raise(SIGUSR2) };
///     signals.recv().await
/// }).unwrap();
/// assert_eq!(got, SIGUSR2);
/// ```
pub struct Signals {
    queue: Rc<RefCell<Queue>>,
    waiting: Option<Promise<i32>>,
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signals")
            .field("wanted", &self.queue.borrow().wanted)
            .finish()
    }
}

impl Signals {
    /// Starts receiving the signals in `set` (their default action, such as
    /// terminating on `SIGINT`, no longer happens). `SIGKILL` and `SIGSTOP`
    /// cannot be caught: `InvalidInput`.
    ///
    /// ```
    /// let e = lwt_native::signal::Signals::new(&[libc::SIGKILL]).unwrap_err();
    /// assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn new(set: &[i32]) -> io::Result<Signals> {
        for &sig in set {
            if !(1..64).contains(&sig) || sig == libc::SIGKILL || sig == libc::SIGSTOP {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("signal {sig} cannot be caught"),
                ));
            }
        }
        let hub = hub()?;
        for &sig in set {
            crate::sys::install_handler(sig)?;
        }
        let queue = Rc::new(RefCell::new(Queue {
            wanted: set.to_vec(),
            ..Queue::default()
        }));
        hub.subscribers.borrow_mut().push(Rc::downgrade(&queue));
        Ok(Signals {
            queue,
            waiting: None,
        })
    }

    /// The next signal of the set. Canceling it loses nothing: a signal
    /// that arrives later waits for the next call. Calls still pending are
    /// served in the order they were made, one signal each.
    ///
    /// ```
    /// let mut s = lwt_native::signal::Signals::new(&[libc::SIGUSR2]).unwrap();
    /// let next = s.recv();
    /// next.cancel();
    /// assert!(next.is_rejected());
    /// ```
    pub fn recv(&mut self) -> Promise<i32> {
        if let Some(sig) = self.queue.borrow_mut().pending.pop_front() {
            return Promise::resolved(sig);
        }
        let (p, r) = lwt::task();
        self.queue.borrow_mut().waiting.push_back(r);
        let q = Rc::downgrade(&self.queue);
        p.on_cancel(move || {
            // The canceled promise is already rejected: it is the one that
            // is no longer pending.
            if let Some(q) = q.upgrade() {
                q.borrow_mut().waiting.retain(Resolver::is_pending);
            }
        });
        p
    }
}

impl futures_core::Stream for Signals {
    type Item = Result<i32, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut p = match self.waiting.take() {
            Some(p) => p,
            None => self.recv(),
        };
        match std::future::Future::poll(Pin::new(&mut p), cx) {
            Poll::Pending => {
                self.waiting = Some(p);
                Poll::Pending
            }
            Poll::Ready(r) => Poll::Ready(Some(r)),
        }
    }
}
