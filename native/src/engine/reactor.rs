//! Readiness: each registered I/O source, its readiness flags and waiters.
//!
//! # Ground rules
//!
//! * mio is edge-triggered: an event says "became ready", once. So each source
//!   keeps two flags, *readable* and *writable*, set by events and cleared
//!   only when an operation returns `WouldBlock` or moves fewer bytes than
//!   asked (the kernel buffer was drained or filled). An operation makes the
//!   system call while the flag is set, and waits for an event only once it
//!   is cleared, so no edge is ever lost: the loop is single-threaded, and
//!   events are only taken in between callbacks.
//! * A wait is an [`lwt::task`] promise in the source's waiter list. An event
//!   takes the whole list out (no borrow held) and resolves it. A canceled
//!   wait (a canceled read, accept or write) is dropped from the list at the
//!   next wait or event in its direction, so the list never holds more than
//!   the waits live at its last push: canceling waits forever holds nothing
//!   more.
//! * A source is registered once, for both directions, when it is made, and
//!   deregistered when its last handle is dropped.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use lwt::{Error, Promise, Resolver};
use mio::event::Source;
use mio::{Interest, Token};

use super::Runtime;

/// A direction of readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    Read,
    Write,
}

/// The waits of one direction. One waiter is the common case, kept inline
/// so that waiting allocates nothing but the promise.
#[derive(Default)]
struct WaitList {
    one: Option<Resolver<()>>,
    more: Vec<Resolver<()>>,
}

impl WaitList {
    fn push(&mut self, r: Resolver<()>) {
        // Canceled waits are dropped here (their promise is resolved), so
        // the list never holds more than the live waits and this one.
        if self.one.as_ref().is_some_and(|w| !w.is_pending()) {
            self.one = None;
        }
        self.more.retain(Resolver::is_pending);
        if self.one.is_none() {
            self.one = Some(r);
        } else {
            self.more.push(r);
        }
    }

    fn take(&mut self) -> (Option<Resolver<()>>, Vec<Resolver<()>>) {
        let more = if self.more.is_empty() {
            Vec::new()
        } else {
            std::mem::take(&mut self.more)
        };
        (self.one.take(), more)
    }

    /// The waits held, canceled ones not yet dropped included: the count a
    /// leak check needs (a list that stopped dropping canceled waits would
    /// grow, and counting live ones only would hide it).
    fn held(&self) -> usize {
        usize::from(self.one.is_some()) + self.more.len()
    }
}

type Waiters = RefCell<WaitList>;

/// Readiness flags and waiters of one source.
pub(crate) struct IoState {
    readable: Cell<bool>,
    writable: Cell<bool>,
    /// Sticky: the peer closed this direction, or the source has an error.
    /// Edges do not repeat, so a short transfer does not clear readiness
    /// after that; only a `WouldBlock` does.
    read_closed: Cell<bool>,
    write_closed: Cell<bool>,
    readers: Waiters,
    writers: Waiters,
}

impl IoState {
    fn flag(&self, dir: Dir) -> &Cell<bool> {
        match dir {
            Dir::Read => &self.readable,
            Dir::Write => &self.writable,
        }
    }

    fn waiters(&self, dir: Dir) -> &Waiters {
        match dir {
            Dir::Read => &self.readers,
            Dir::Write => &self.writers,
        }
    }

    /// The source said `WouldBlock` in `dir`: it is not ready, whatever the
    /// closed flags say (an error edge on a UDP socket is one-off: the next
    /// `recv` blocks), so the next attempt waits for an event.
    fn not_ready(&self, dir: Dir) {
        self.flag(dir).set(false);
    }

    /// Forgets readiness in `dir` after a short transfer, unless that
    /// direction is closed (the end is then still to be read, and no edge
    /// will come for it).
    fn clear_flag(&self, dir: Dir) {
        let closed = match dir {
            Dir::Read => self.read_closed.get(),
            Dir::Write => self.write_closed.get(),
        };
        if !closed {
            self.flag(dir).set(false);
        }
    }

    /// An event: sets the flags and resolves the waiters (taken out first:
    /// no borrow is held while they run). `rc`/`wc`: the direction is closed.
    pub(crate) fn ready(&self, r: bool, w: bool, rc: bool, wc: bool) {
        if rc {
            self.read_closed.set(true);
        }
        if wc {
            self.write_closed.set(true);
        }
        for (yes, dir) in [(r, Dir::Read), (w, Dir::Write)] {
            if yes {
                self.flag(dir).set(true);
                let (one, more) = self.waiters(dir).borrow_mut().take();
                if let Some(r) = one {
                    let _ = r.resolve(());
                }
                for r in more {
                    let _ = r.resolve(());
                }
            }
        }
    }

    /// A promise resolved when the source is ready in `dir` (at once if the
    /// flag is set). Canceling it releases its place: a canceled wait is
    /// dropped from the list at the next wait or event, and never counted.
    fn wait(&self, dir: Dir) -> Promise<()> {
        if self.flag(dir).get() {
            return Promise::resolved(());
        }
        let (p, r) = lwt::task();
        self.waiters(dir).borrow_mut().push(r);
        p
    }

    /// Number of waits held (for tests).
    pub(crate) fn waiter_count(&self) -> usize {
        self.readers.borrow().held() + self.writers.borrow().held()
    }
}

/// The slab of registered sources, by token (token 0 is the waker).
///
/// A token is a slot's index (plus one) with the slot's generation in the
/// high bits. A slot freed and taken again gets a new generation, so an event
/// that the poller reported for the old source, and that the loop has not
/// dispatched yet, finds nothing instead of landing on the new one (user code
/// run by an earlier event of the same batch may close a socket and open
/// another).
#[derive(Default)]
pub(crate) struct Sources {
    slots: Vec<Slot>,
    free: Vec<usize>,
    live: usize,
}

#[derive(Default)]
struct Slot {
    generation: usize,
    state: Option<Rc<IoState>>,
}

/// Bits of a token that hold the slot index; the rest hold the generation.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;

impl Sources {
    /// A new source's token and state. More sources than a token's index
    /// bits can name (65,535 on a 32-bit target) is an error, not a token
    /// that runs into the generation bits.
    pub(crate) fn insert(&mut self) -> io::Result<(usize, Rc<IoState>)> {
        if self.free.is_empty() && self.slots.len() >= INDEX_MASK {
            return Err(io::Error::other(
                "too many sources registered with this thread's loop",
            ));
        }
        let state = Rc::new(IoState {
            readable: Cell::new(true),
            writable: Cell::new(true),
            read_closed: Cell::new(false),
            write_closed: Cell::new(false),
            readers: RefCell::default(),
            writers: RefCell::default(),
        });
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot::default());
            self.slots.len() - 1
        });
        let slot = &mut self.slots[index];
        slot.state = Some(state.clone());
        self.live += 1;
        // `|` joins bits that never overlap (the generation is shifted past
        // the index bits, and `index + 1 <= INDEX_MASK` fits below them), so
        // `^` or `+` there would be the same token: an equivalent mutant.
        Ok((slot.generation << INDEX_BITS | (index + 1), state))
    }

    /// The index of the slot a token names, if it still holds that source.
    fn index(&self, token: usize) -> Option<usize> {
        let index = (token & INDEX_MASK).checked_sub(1)?;
        let slot = self.slots.get(index)?;
        (slot.generation == token >> INDEX_BITS).then_some(index)
    }

    pub(crate) fn get(&self, token: usize) -> Option<Rc<IoState>> {
        self.slots[self.index(token)?].state.clone()
    }

    fn remove(&mut self, token: usize) -> Option<Rc<IoState>> {
        let index = self.index(token)?;
        let slot = &mut self.slots[index];
        let state = slot.state.take()?;
        slot.generation = (slot.generation + 1) & (usize::MAX >> INDEX_BITS);
        self.free.push(index);
        self.live -= 1;
        Some(state)
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Waiters over all sources (for leak tests).
    pub(crate) fn waiter_count(&self) -> usize {
        self.slots
            .iter()
            .filter_map(|s| s.state.as_ref())
            .map(|s| s.waiter_count())
            .sum()
    }
}

/// An I/O source registered with this thread's loop.
pub(crate) struct Registered<S: Source> {
    io: Option<S>,
    token: usize,
    state: Rc<IoState>,
    rt: Rc<Runtime>,
    /// The pending readiness waits of `poll_*` callers (AsyncRead/Write).
    polled: [RefCell<Option<Promise<()>>>; 2],
}

/// Converts an I/O error into an [`lwt::Error`] that keeps it as its source.
pub(crate) fn io_err(e: io::Error) -> Error {
    Error::new(e)
}

impl<S: Source> Registered<S> {
    /// Registers `io` with this thread's loop, for both directions.
    pub(crate) fn new(mut io: S) -> io::Result<Registered<S>> {
        let rt = Runtime::current();
        let (token, state) = rt.register_state()?;
        if let Err(e) = rt.registry.register(
            &mut io,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            rt.sources.borrow_mut().remove(token);
            return Err(e);
        }
        Ok(Registered {
            io: Some(io),
            token,
            state,
            rt,
            polled: [RefCell::new(None), RefCell::new(None)],
        })
    }

    /// Takes the source back from the loop, deregistered; a readiness wait
    /// still pending is rejected as closed (by the drop that follows). For
    /// handing a socket to another thread's loop.
    pub(crate) fn into_inner(mut self) -> S {
        let mut io = self.io.take().expect("source present until drop");
        let _ = self.rt.registry.deregister(&mut io);
        io
    }

    /// The source.
    pub(crate) fn get(&self) -> &S {
        self.io.as_ref().expect("source present until drop")
    }

    /// Retries `op` until it does not return `WouldBlock`, waiting for
    /// readiness in `dir` in between.
    pub(crate) async fn io<R>(
        &self,
        dir: Dir,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Result<R, Error> {
        loop {
            if !self.state.flag(dir).get() {
                self.state.wait(dir).await?;
            }
            match op(self.get()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.state.not_ready(dir),
                // Defensive: a source here is non-blocking, and a call that
                // does not sleep is not interrupted by a signal (EINTR comes
                // only from a blocked call), so this arm never runs on the
                // sources this loop registers. Dropping it (the mutant whose
                // guard is `false`) is equivalent: no test can make it run.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r.map_err(io_err),
            }
        }
    }

    /// Forgets readiness in `dir` (the next wait waits for an event).
    pub(crate) fn clear(&self, dir: Dir) {
        self.state.clear_flag(dir);
    }

    /// [`Registered::io`] for a stream read or write of `len` bytes. A short
    /// transfer (`0 < n < len`) shows the kernel buffer was drained (read) or
    /// filled (write), so readiness is cleared then and there: the next call
    /// waits for an event instead of spending a system call on `WouldBlock`
    /// (what tokio does on epoll).
    pub(crate) async fn io_stream(
        &self,
        dir: Dir,
        len: usize,
        op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Result<usize, Error> {
        let n = self.io(dir, op).await?;
        if n > 0 && n < len {
            self.clear(dir);
        }
        Ok(n)
    }

    /// [`Registered::poll_io`] with the short-transfer rule of
    /// [`Registered::io_stream`].
    pub(crate) fn poll_stream(
        &self,
        dir: Dir,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let r = self.poll_io(dir, cx, op);
        if let Poll::Ready(Ok(n)) = r {
            if n > 0 && n < len {
                self.clear(dir);
            }
        }
        r
    }

    /// Waits until the source is ready in `dir` (resolved at once if it may
    /// be).
    pub(crate) fn ready(&self, dir: Dir) -> Promise<()> {
        self.state.wait(dir)
    }

    /// `op` as a `poll_*` function: registers `cx`'s waker on `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        dir: Dir,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let slot = &self.polled[dir as usize];
        loop {
            if !self.state.flag(dir).get() {
                let pending = slot.borrow_mut().take().filter(|w| w.is_pending());
                let mut w = pending.unwrap_or_else(|| self.state.wait(dir));
                match std::pin::Pin::new(&mut w).poll(cx) {
                    Poll::Pending => {
                        *slot.borrow_mut() = Some(w);
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => {
                        return Poll::Ready(Err(io::Error::other(e.to_string())))
                    }
                }
            }
            match op(self.get()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.state.not_ready(dir),
                // Never runs, as in `io` above (equivalent when `false`).
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Poll::Ready(r),
            }
        }
    }
}

use std::future::Future;

/// Byte-stream reads shared by every stream source (TCP, Unix, pipes): the
/// loop of `read_exact` lives here once.
impl<S: Source> Registered<S>
where
    for<'a> &'a S: io::Read,
{
    /// Reads some bytes (0 at end of stream).
    pub(crate) async fn read_bytes(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.io_stream(Dir::Read, buf.len(), |s| io::Read::read(&mut &*s, buf))
            .await
    }

    /// [`Registered::read_bytes`] as a `poll_read` (AsyncRead).
    pub(crate) fn poll_read_bytes(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_stream(Dir::Read, cx, buf.len(), |s| io::Read::read(&mut &*s, buf))
    }

    /// Reads exactly `buf.len()` bytes; an early end is `UnexpectedEof`.
    pub(crate) async fn read_exact(&self, mut buf: &mut [u8]) -> Result<(), Error> {
        while !buf.is_empty() {
            let n = self.read_bytes(buf).await?;
            if n == 0 {
                return Err(io_err(io::ErrorKind::UnexpectedEof.into()));
            }
            buf = &mut buf[n..];
        }
        Ok(())
    }
}

/// Socket reads into bytes not yet initialized (hyper's read buffer), so
/// nothing zeroes them first.
#[cfg(feature = "hyper")]
impl<S: Source + std::os::fd::AsFd> Registered<S> {
    /// [`Registered::poll_read_bytes`] into `buf`, whose bytes may be
    /// uninitialized: `recv(2)` on the socket, which only writes to them.
    /// The first `n` bytes of `buf` are initialized when it gives `n`.
    pub(crate) fn poll_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.poll_stream(Dir::Read, cx, buf.len(), |s| {
            socket2::SockRef::from(s).recv(&mut *buf)
        })
    }
}

/// Byte-stream writes shared by every stream source (TCP, Unix, pipes): the
/// loop of `write_all` lives here once.
impl<S: Source> Registered<S>
where
    for<'a> &'a S: io::Write,
{
    /// Writes some bytes.
    pub(crate) async fn write_bytes(&self, buf: &[u8]) -> Result<usize, Error> {
        self.io_stream(Dir::Write, buf.len(), |s| io::Write::write(&mut &*s, buf))
            .await
    }

    /// [`Registered::write_bytes`] as a `poll_write` (AsyncWrite).
    pub(crate) fn poll_write_bytes(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_stream(Dir::Write, cx, buf.len(), |s| {
            io::Write::write(&mut &*s, buf)
        })
    }

    /// Writes all of `buf`; a write of 0 bytes is `WriteZero`, not a loop.
    pub(crate) async fn write_all(&self, mut buf: &[u8]) -> Result<(), Error> {
        while !buf.is_empty() {
            let n = self.write_bytes(buf).await?;
            if n == 0 {
                return Err(io_err(io::ErrorKind::WriteZero.into()));
            }
            buf = &buf[n..];
        }
        Ok(())
    }
}

impl<S: Source> Drop for Registered<S> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            let _ = self.rt.registry.deregister(&mut io);
            drop(io);
        }
        let state = self.rt.sources.borrow_mut().remove(self.token);
        // Waiters still pending see the source gone: reject them.
        if let Some(state) = state {
            for dir in [Dir::Read, Dir::Write] {
                let (one, more) = state.waiters(dir).borrow_mut().take();
                for r in one.into_iter().chain(more) {
                    let _ = r.reject(Error::closed("the I/O source was closed"));
                }
            }
        }
    }
}

/// Registered sources and readiness waits held by this thread's loop (for
/// leak checks in tests). A canceled wait counts until the source's next
/// wait or event in its direction drops it.
///
/// ```
/// let (sources, waits) = lwt_native::io_stats();
/// assert_eq!((sources, waits), (0, 0));
/// ```
pub fn io_stats() -> (usize, usize) {
    let rt = Runtime::current();
    let s = rt.sources.borrow();
    (s.len(), s.waiter_count())
}

#[cfg(test)]
mod tests {
    use super::Sources;

    #[test]
    fn a_token_outlives_its_source_but_never_names_the_next_one() {
        let mut sources = Sources::default();
        let (old, _) = sources.insert().unwrap();
        assert!(sources.remove(old).is_some());
        let (new, _) = sources.insert().unwrap();
        assert_ne!(old, new, "the freed slot is taken again, under a new token");
        assert!(
            sources.get(old).is_none(),
            "a late event for the old source"
        );
        assert!(sources.remove(old).is_none());
        assert!(sources.get(new).is_some());
        assert_eq!(sources.len(), 1);
        assert!(sources.remove(new).is_some());
        assert_eq!(sources.len(), 0);
    }

    #[test]
    fn a_slot_taken_again_and_again_never_repeats_a_token() {
        // A late event may stay behind any number of reuses of its slot
        // within one batch of events, not only the first.
        let mut sources = Sources::default();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..8 {
            let (token, _) = sources.insert().unwrap();
            assert!(
                seen.insert(token),
                "token {token:#x} named an earlier source"
            );
            assert!(sources.remove(token).is_some());
        }
        assert_eq!(sources.slots.len(), 1, "the one slot was taken each time");
    }
}
