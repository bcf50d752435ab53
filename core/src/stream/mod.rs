//! [`Stream`]: an asynchronous sequence of values (Lwt's `Lwt_stream`),
//! with [`Push`] and [`BoundedPush`] handles to feed it.
//!
//! # Ground rules
//!
//! 1. **One source, many readers.** A stream's elements live in one shared
//!    buffer, the *source*. Each [`Stream`] value is a *reader* with its own
//!    position in it. [`Clone`] makes a new reader at the same position (Lwt's
//!    `clone`): from then on both see every element. An element leaves the
//!    buffer when every reader has read it; with one reader it is moved out,
//!    never cloned.
//! 2. **Feeds.** Elements come from a push handle ([`Stream::create`],
//!    [`Stream::bounded`]), from an iterator (pulled synchronously, when a
//!    reader asks), or from a promise-producing function or a `futures`
//!    stream (pulled when a reader waits, one pull at a time).
//! 3. **Errors.** Lwt's streams cannot carry errors; ours can end with one.
//!    A stream ends once: normally ([`Push::close`], a pull returning
//!    `None`) or with an error ([`Push::fail`], a `futures` stream's `Err`
//!    item, a transformation's input or function failing). A rejected pull
//!    of [`Stream::from_fn`] does not end the stream, as in Lwt: the reads
//!    waiting on that pull are rejected with its error, and the next read
//!    pulls again (rule 7). Readers
//!    first read every element pushed before the end, then see the end:
//!    `Ok(None)` from [`Stream::next`] for a normal end, the error (a
//!    rejection) for a failed one, at every read from then on. As a
//!    `futures` stream the items are `Result<T, Error>`: the error is one
//!    `Err` item, then the stream is done.
//! 4. **Waiters** (a pending `next`, `peek`, ...) are cancelable, FIFO, and
//!    leave the line when canceled. The waiting reads of one reader keep
//!    their order whatever their kind: a `peek` made before a `next` sees
//!    the element that `next` takes, and a `junk` drops it. An element is given to a waiter only
//!    while its promise is pending, so canceling a reader never loses an
//!    element: it stays for the next read.
//! 5. **No borrow across user code.** Feeding functions, iterators and
//!    resolvers run after the source's borrow is dropped; resolutions use
//!    [`crate::Resolver::resolve_later`].
//! 6. Transformations (`map`, `filter`, ...) are in `stream::ops`: they are
//!    streams fed by a function that reads the input.
//! 7. **A pull is shared** ([`Stream::from_fn`], as Lwt's `from`): the
//!    reads waiting when a pull resolves, of every reader, all get its
//!    element (each reader's first `next` or `junk` among them takes it;
//!    the others get a copy), or all get its error. So several reads of one
//!    reader waiting together see one element, as in Lwt, rather than each
//!    starting a pull of its own (which could wait for ever on a source
//!    that has one more element). Pushed streams and transformations keep
//!    rule 4: one element per read.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::rc::Rc;

mod feed;
mod ops;
mod push;
mod read;
pub use read::StreamItems;

use crate::sync::waitq::WaitQueue;
use crate::{task, wait, Error, Promise, Resolver};
use feed::feed_once;
pub use push::{BoundedPush, Push, StreamFull};

pub(crate) type PullFn<T> = Box<dyn FnMut() -> Promise<Option<T>>>;
pub(crate) type PullStream<T> = Pin<Box<dyn futures_core::Stream<Item = Result<T, Error>>>>;

/// Where a source's elements come from when a reader wants one.
pub(crate) enum Feed<T: 'static> {
    /// Only pushed: nothing to pull.
    Push,
    /// An iterator, pulled synchronously. `None` while it is being called.
    Iter(Option<Box<dyn Iterator<Item = T>>>),
    /// A promise-producing function. `busy` while its promise is pending.
    /// `shared` (a public [`Stream::from_fn`], Lwt's `from`): every read
    /// waiting when a pull resolves gets its outcome, and a rejected pull
    /// does not end the stream. Otherwise (the transformations of `ops`)
    /// each element goes to one read, and a rejection ends the stream.
    Pull {
        f: Option<PullFn<T>>,
        busy: bool,
        shared: bool,
    },
    /// A `futures` stream, polled by a task. `busy` while it is polled.
    Futures {
        s: Option<PullStream<T>>,
        busy: bool,
    },
}

/// What a waiting read wants. Waiting reads of one reader are served in
/// the order they were made, whatever their kind: a `peek` made before a
/// `next` sees the element that `next` then takes.
pub(crate) enum WaitKind<T: 'static> {
    /// Wants the next element (`next`).
    Value(Resolver<Option<T>>),
    /// Wants to know that an element or the end is there (polling, `choose`).
    Ready(Resolver<()>),
    /// Wants a copy of the next element, left in place (`peek`).
    Peek(Resolver<Option<T>>, fn(&T) -> T),
    /// Wants to know whether an element will come (`is_empty`).
    Probe(Resolver<bool>),
    /// Wants the next element dropped (`junk`).
    Junk(Resolver<()>),
}

impl<T: 'static> WaitKind<T> {
    fn is_pending(&self) -> bool {
        match self {
            WaitKind::Value(r) | WaitKind::Peek(r, _) => r.is_pending(),
            WaitKind::Ready(r) | WaitKind::Junk(r) => r.is_pending(),
            WaitKind::Probe(r) => r.is_pending(),
        }
    }

    /// Rejects the waiter (once the borrow is dropped).
    fn reject(self, e: Error) {
        let _ = match self {
            WaitKind::Value(r) | WaitKind::Peek(r, _) => r.resolve_later(Err(e)),
            WaitKind::Ready(r) | WaitKind::Junk(r) => r.resolve_later(Err(e)),
            WaitKind::Probe(r) => r.resolve_later(Err(e)),
        };
    }
}

pub(crate) struct Waiter<T: 'static> {
    reader: usize,
    kind: WaitKind<T>,
}

impl<T: 'static> Waiter<T> {
    fn is_pending(&self) -> bool {
        self.kind.is_pending()
    }
}

/// A resolution to run once the borrow is dropped.
pub(crate) enum Action<T: 'static> {
    Value(Resolver<Option<T>>, Result<Option<T>, Error>),
    Ready(Resolver<()>),
    Pushed(Resolver<()>, Result<(), Error>),
    Probe(Resolver<bool>, Result<bool, Error>),
    /// Resolves a `junk`, then drops the element (user code: no borrow).
    Junk(Resolver<()>, Result<(), Error>, Option<T>),
}

impl<T: 'static> Action<T> {
    fn run(self) {
        let _ = match self {
            Action::Value(r, v) => r.resolve_later(v),
            Action::Ready(r) => r.resolve_later(Ok(())),
            Action::Pushed(r, v) => r.resolve_later(v),
            Action::Probe(r, v) => r.resolve_later(v),
            Action::Junk(r, v, dropped) => {
                drop(dropped);
                r.resolve_later(v)
            }
        };
    }
}

pub(crate) struct Source<T: 'static> {
    pub(crate) buf: VecDeque<T>,
    /// The absolute index of `buf[0]`.
    pub(crate) base: u64,
    /// Set once, when the stream ends.
    pub(crate) end: Option<Result<(), Error>>,
    /// Each reader's absolute position; `None` for a reader dropped.
    pub(crate) readers: Vec<Option<u64>>,
    pub(crate) live_readers: usize,
    pub(crate) waiters: VecDeque<Waiter<T>>,
    pub(crate) feed: Feed<T>,
    /// How to copy an element for a second reader; set by `Clone`.
    pub(crate) cloner: Option<fn(&T) -> T>,
    closed: Option<(Promise<()>, Resolver<()>)>,
    /// `Some(capacity)` for a bounded stream.
    pub(crate) cap: Option<usize>,
    pub(crate) pushers: WaitQueue<(), T>,
    pub(crate) push_handles: usize,
    /// The buffer `pump` collects actions in, kept between pumps.
    spare_actions: Vec<Action<T>>,
}

pub(crate) type Src<T> = Rc<RefCell<Source<T>>>;

impl<T: 'static> Source<T> {
    fn new(feed: Feed<T>, cap: Option<usize>) -> Src<T> {
        Rc::new(RefCell::new(Source {
            buf: VecDeque::new(),
            base: 0,
            end: None,
            readers: vec![Some(0)],
            live_readers: 1,
            waiters: VecDeque::new(),
            feed,
            cloner: None,
            closed: None,
            cap,
            pushers: WaitQueue::default(),
            push_handles: 0,
            spare_actions: Vec::new(),
        }))
    }

    fn end_index(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    pub(crate) fn has_data(&self, reader: usize) -> bool {
        matches!(self.readers.get(reader), Some(Some(c)) if *c < self.end_index())
    }

    /// The element at `reader`'s position, left in place; `has_data` must
    /// be true.
    pub(crate) fn at(&self, reader: usize) -> &T {
        let cursor = self.readers[reader].expect("a live reader");
        &self.buf[(cursor - self.base) as usize]
    }

    /// Takes the element at `reader`'s position; `has_data` must be true.
    fn take(&mut self, reader: usize) -> T {
        let cursor = self.readers[reader].expect("a live reader");
        self.readers[reader] = Some(cursor + 1);
        let others_need = self.live_readers > 1
            && self
                .readers
                .iter()
                .enumerate()
                .any(|(i, c)| i != reader && matches!(c, Some(c) if *c <= cursor));
        if cursor == self.base && !others_need {
            self.base += 1;
            return self.buf.pop_front().expect("has_data was checked");
        }
        let cloner = self
            .cloner
            .expect("several readers exist only through Clone");
        // Another reader is still at `base`, so nothing can be trimmed here.
        cloner(&self.buf[(cursor - self.base) as usize])
    }

    /// Takes out the elements every reader has read (all of them when no
    /// reader is left), for the caller to drop after its borrow ends.
    fn trim(&mut self) -> Vec<T> {
        let min = self.readers.iter().flatten().min().copied();
        let min = min.unwrap_or_else(|| self.end_index());
        let read = (min.saturating_sub(self.base) as usize).min(self.buf.len());
        self.base += read as u64;
        self.buf.drain(..read).collect()
    }

    fn room(&self) -> bool {
        match self.cap {
            Some(cap) => self.buf.len() < cap,
            None => true,
        }
    }

    /// Moves waiting pushers' values into the buffer while there is room.
    fn admit(&mut self, actions: &mut Vec<Action<T>>) {
        while self.room() {
            match self.pushers.pop_live() {
                Some((v, r)) => {
                    self.buf.push_back(v);
                    actions.push(Action::Pushed(r, Ok(())));
                }
                None => break,
            }
        }
    }

    /// The end as a read result.
    pub(crate) fn end_result(&self) -> Option<Result<Option<T>, Error>> {
        match &self.end {
            None => None,
            Some(Ok(())) => Some(Ok(None)),
            Some(Err(e)) => Some(Err(e.clone())),
        }
    }

    /// Serves the waiters that can be served; true if some reader still
    /// waits with nothing to read (so a feed should be pulled).
    fn serve(&mut self, actions: &mut Vec<Action<T>>) -> bool {
        self.admit(actions);
        if self.waiters.is_empty() {
            return false;
        }
        // Each waiter is looked at once, in order; those still waiting go
        // back at the end, so the deque keeps its buffer.
        for _ in 0..self.waiters.len() {
            let Some(w) = self.waiters.pop_front() else {
                break;
            };
            if !w.is_pending() {
                continue;
            }
            if !self.has_data(w.reader) && self.end.is_none() && self.cap == Some(0) {
                // A rendezvous: a reader waits, so one pusher may come in.
                if let Some((v, r)) = self.pushers.pop_live() {
                    self.buf.push_back(v);
                    actions.push(Action::Pushed(r, Ok(())));
                }
            }
            if self.has_data(w.reader) {
                match w.kind {
                    WaitKind::Value(r) => {
                        let v = self.take(w.reader);
                        actions.push(Action::Value(r, Ok(Some(v))));
                        self.admit(actions);
                    }
                    WaitKind::Junk(r) => {
                        let v = self.take(w.reader);
                        actions.push(Action::Junk(r, Ok(()), Some(v)));
                        self.admit(actions);
                    }
                    WaitKind::Peek(r, copy) => {
                        let v = copy(self.at(w.reader));
                        actions.push(Action::Value(r, Ok(Some(v))));
                    }
                    WaitKind::Ready(r) => actions.push(Action::Ready(r)),
                    WaitKind::Probe(r) => actions.push(Action::Probe(r, Ok(false))),
                }
            } else if self.readers.get(w.reader).copied().flatten().is_none() {
                // The reader is gone: its waiters are dropped.
            } else if let Some(end) = self.end_result() {
                match w.kind {
                    WaitKind::Value(r) | WaitKind::Peek(r, _) => {
                        actions.push(Action::Value(r, end))
                    }
                    WaitKind::Ready(r) => actions.push(Action::Ready(r)),
                    WaitKind::Junk(r) => actions.push(Action::Junk(r, end.map(drop), None)),
                    WaitKind::Probe(r) => actions.push(Action::Probe(r, end.map(|_| true))),
                }
            } else {
                self.waiters.push_back(w);
            }
        }
        !self.waiters.is_empty()
    }
}

impl<T: 'static> Source<T> {
    /// A shared pull resolved (module rule 7): every pending read whose
    /// reader has nothing to read gets `result`, the element or the error.
    /// An element goes into the buffer; each such reader's first `next` or
    /// `junk` takes it, its other reads get copies.
    pub(crate) fn serve_pulled(&mut self, result: Result<T, Error>) -> Vec<Action<T>> {
        let mut actions = Vec::new();
        let idx = self.end_index();
        let waiters = std::mem::take(&mut self.waiters);
        let here = |s: &Source<T>, w: &Waiter<T>| s.readers.get(w.reader) == Some(&Some(idx));
        let v = match result {
            Ok(v) => v,
            Err(e) => {
                for w in waiters {
                    if !w.is_pending() {
                        continue;
                    }
                    if here(self, &w) {
                        w.kind.reject(e.clone());
                    } else {
                        self.waiters.push_back(w);
                    }
                }
                return actions;
            }
        };
        let cloner = self.cloner.expect("shared pulls have a cloner");
        let sharing = waiters
            .iter()
            .filter(|w| w.is_pending() && here(self, w))
            .count();
        // A copy to hand out once the element may have been moved out.
        let master = (sharing > 1).then(|| cloner(&v));
        let copy = || cloner(master.as_ref().expect("two or more reads share the pull"));
        self.buf.push_back(v);
        let mut taken: Vec<usize> = Vec::new();
        for w in waiters {
            if !w.is_pending() {
                continue;
            }
            let took = taken.contains(&w.reader);
            if !took && !here(self, &w) {
                self.waiters.push_back(w);
                continue;
            }
            match w.kind {
                WaitKind::Value(r) if took => actions.push(Action::Value(r, Ok(Some(copy())))),
                WaitKind::Value(r) => {
                    taken.push(w.reader);
                    let v = self.take(w.reader);
                    actions.push(Action::Value(r, Ok(Some(v))));
                }
                WaitKind::Junk(r) if took => actions.push(Action::Junk(r, Ok(()), None)),
                WaitKind::Junk(r) => {
                    taken.push(w.reader);
                    let v = self.take(w.reader);
                    actions.push(Action::Junk(r, Ok(()), Some(v)));
                }
                WaitKind::Peek(r, _) if took => actions.push(Action::Value(r, Ok(Some(copy())))),
                WaitKind::Peek(r, cp) => {
                    let v = cp(self.at(w.reader));
                    actions.push(Action::Value(r, Ok(Some(v))));
                }
                WaitKind::Ready(r) => actions.push(Action::Ready(r)),
                WaitKind::Probe(r) => actions.push(Action::Probe(r, Ok(false))),
            }
        }
        actions
    }
}

pub(crate) fn run_actions<T: 'static>(actions: Vec<Action<T>>) {
    for a in actions {
        a.run();
    }
}

/// Serves waiters and pulls feeds until nothing more can happen now.
pub(crate) fn pump<T: 'static>(src: &Src<T>) {
    loop {
        let (hungry, mut actions) = {
            let mut s = src.borrow_mut();
            let mut actions = std::mem::take(&mut s.spare_actions);
            (s.serve(&mut actions), actions)
        };
        // Run outside the borrow: resolving runs callbacks.
        for a in actions.drain(..) {
            a.run();
        }
        let mut s = src.borrow_mut();
        if s.spare_actions.capacity() < actions.capacity() {
            s.spare_actions = actions;
        }
        drop(s);
        if !(hungry && feed_once(src)) {
            return;
        }
    }
}

/// Ends the stream (once): rejects waiting pushers, serves waiting readers
/// and resolves `closed()`.
pub(crate) fn end_with<T: 'static>(src: &Src<T>, end: Result<(), Error>) {
    let (closed, pushers) = {
        let mut s = src.borrow_mut();
        if s.end.is_some() {
            return;
        }
        s.end = Some(end.clone());
        (s.closed.take(), s.pushers.take_all())
    };
    for (_, r) in pushers {
        if r.is_pending() {
            let _ = r.resolve_later(Err(Error::closed("Stream: push on a closed stream")));
        }
    }
    pump(src);
    if let Some((_, r)) = closed {
        let _ = r.resolve_later(end);
    }
    // Pull functions and iterators are dropped now: they may hold resources.
    let feed = std::mem::replace(&mut src.borrow_mut().feed, Feed::Push);
    drop(feed);
}

/// An asynchronous sequence of `T`s (Lwt's `'a Lwt_stream.t`); see the
/// module docs for readers, feeds and errors.
///
/// ```
/// let (s, push) = lwt::Stream::create();
/// push.push(1).unwrap();
/// push.push(2).unwrap();
/// push.close();
/// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![1, 2]);
/// ```
///
/// # As a `futures` stream
///
/// A `Stream<T>` is a `futures_core::Stream` whose items are
/// `Result<T, Error>`: `Ok` for each element, then, if the stream ended with
/// an error, that error once, then the end. That makes it a `TryStream`, so
/// `futures::TryStreamExt` applies (`try_next`, `try_collect`, `map_ok`, ...,
/// with `?` on each element). Where a stream cannot fail, [`Stream::items`]
/// is the same stream with plain `T` items, for `futures::StreamExt`
/// (`next`, `collect`, `zip`, ...).
///
/// ```
/// use futures::{StreamExt, TryStreamExt};
/// # let engine = lwt::testing::VirtualEngine::new();
/// let all = engine.block_on(async {
///     let s = lwt::Stream::from_iter(1..=3);
///     let v: Vec<i32> = s.map_ok(|x| x * 10).try_collect().await?;
///     Ok(v)
/// });
/// assert_eq!(all.unwrap(), [10, 20, 30]);
///
/// let plain = engine.block_on(async {
///     let pairs: Vec<(char, i32)> = lwt::Stream::from_iter("ab".chars())
///         .items()
///         .zip(lwt::Stream::from_iter(1..).items())
///         .collect()
///         .await;
///     Ok(pairs)
/// });
/// assert_eq!(plain.unwrap(), [('a', 1), ('b', 2)]);
///
/// // `Stream::try_next` (the element there now, without waiting) is
/// // inherent, so the futures one is called by its path.
/// let failing = engine.block_on(async {
///     let mut s = lwt::Stream::<u8>::failed(lwt::Error::msg("bad"));
///     Ok(TryStreamExt::try_next(&mut s).await)
/// });
/// assert_eq!(failing.unwrap().unwrap_err().message(), "bad");
/// ```
pub struct Stream<T: 'static> {
    pub(crate) r: Rc<Reader<T>>,
}

/// A reader's registration in its source; unregistered when dropped.
pub(crate) struct Reader<T: 'static> {
    pub(crate) src: Src<T>,
    pub(crate) id: usize,
    /// The `futures` side reported an error item: it is done.
    pub(crate) fused: Cell<bool>,
    /// The readiness promise `poll_next` waits on, reused across polls.
    pub(crate) ready: RefCell<Option<Promise<()>>>,
}

impl<T: 'static> Reader<T> {
    fn new(src: Src<T>, id: usize) -> Rc<Reader<T>> {
        Rc::new(Reader {
            src,
            id,
            fused: Cell::new(false),
            ready: RefCell::new(None),
        })
    }
}

impl<T: 'static> Drop for Reader<T> {
    fn drop(&mut self) {
        let (gone, orphans) = {
            let mut s = self.src.borrow_mut();
            s.readers[self.id] = None;
            s.live_readers -= 1;
            let gone = s.trim();
            let me = self.id;
            let (orphans, keep): (VecDeque<Waiter<T>>, VecDeque<Waiter<T>>) =
                std::mem::take(&mut s.waiters)
                    .into_iter()
                    .partition(|w| w.reader == me);
            s.waiters = keep;
            (gone, orphans)
        };
        drop(gone);
        for w in orphans {
            w.kind
                .reject(Error::closed("Stream: the reader was dropped"));
        }
    }
}

impl<T: 'static> fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.r.src.borrow();
        f.debug_struct("Stream")
            .field("buffered", &s.buf.len())
            .field("readers", &s.live_readers)
            .field("ended", &s.end.is_some())
            .finish()
    }
}

impl<T: Clone + 'static> Clone for Stream<T> {
    /// A new reader at this reader's position (Lwt's `Lwt_stream.clone`):
    /// both see every element from here on; neither consumes the other's.
    ///
    /// ```
    /// let (a, push) = lwt::Stream::create();
    /// let b = a.clone();
    /// push.push("x").unwrap();
    /// assert_eq!(a.next().peek().unwrap().unwrap(), Some("x"));
    /// assert_eq!(b.next().peek().unwrap().unwrap(), Some("x"));
    /// ```
    fn clone(&self) -> Self {
        let id = {
            let mut s = self.r.src.borrow_mut();
            s.cloner = Some(T::clone);
            let pos = s.readers[self.r.id];
            s.readers.push(pos);
            s.live_readers += 1;
            s.readers.len() - 1
        };
        Stream {
            r: Reader::new(self.r.src.clone(), id),
        }
    }
}

impl<T: 'static> Stream<T> {
    pub(crate) fn with_feed(feed: Feed<T>, cap: Option<usize>) -> Stream<T> {
        Stream {
            r: Reader::new(Source::new(feed, cap), 0),
        }
    }

    /// Another handle to this very reader (not a new reader).
    pub(crate) fn handle(&self) -> Stream<T> {
        Stream { r: self.r.clone() }
    }

    /// An unbounded stream and the handle that pushes into it (Lwt's
    /// `Lwt_stream.create`). The stream ends when [`Push::close`] is called
    /// or the last push handle is dropped.
    ///
    /// ```
    /// let (s, push) = lwt::Stream::create();
    /// let first = s.next();
    /// assert!(first.is_pending());
    /// push.push('a').unwrap();
    /// assert_eq!(first.peek().unwrap().unwrap(), Some('a'));
    /// drop(push); // closes
    /// assert_eq!(s.next().peek().unwrap().unwrap(), None);
    /// ```
    pub fn create() -> (Stream<T>, Push<T>) {
        let s = Stream::with_feed(Feed::Push, None);
        s.r.src.borrow_mut().push_handles = 1;
        let src = s.r.src.clone();
        (s, Push { src })
    }

    /// A stream holding at most `capacity` unread elements, and the handle
    /// that pushes into it: a push waits while the stream is full (Lwt's
    /// `Lwt_stream.create_bounded`). With capacity 0, each push waits for a
    /// reader to take its element (a rendezvous).
    ///
    /// ```
    /// let (s, push) = lwt::Stream::bounded(1);
    /// assert!(push.push(1).is_fulfilled());
    /// let second = push.push(2);
    /// assert!(second.is_pending()); // full
    /// assert_eq!(s.next().peek().unwrap().unwrap(), Some(1));
    /// assert!(second.is_fulfilled()); // 2 went in
    /// ```
    pub fn bounded(capacity: usize) -> (Stream<T>, BoundedPush<T>) {
        let s = Stream::with_feed(Feed::Push, Some(capacity));
        s.r.src.borrow_mut().push_handles = 1;
        let src = s.r.src.clone();
        (s, BoundedPush { src })
    }

    /// A stream of the items of `iter`, pulled as readers ask (Lwt's
    /// `Lwt_stream.of_seq`, `from_direct`): it is closed once the iterator
    /// is exhausted, which an endless one never is. To buffer a finite
    /// collection and close the stream at once, see [`Stream::of_list`].
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=3);
    /// assert_eq!(s.next().peek().unwrap().unwrap(), Some(1));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![2, 3]);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn from_iter(iter: impl IntoIterator<Item = T> + 'static) -> Stream<T> {
        Stream::with_feed(Feed::Iter(Some(Box::new(iter.into_iter()))), None)
    }

    /// A stream of the items of `items`, all taken now (Lwt's
    /// `Lwt_stream.of_list`, `of_array`, `of_string`): the stream is closed
    /// from the start ([`Stream::is_closed`], [`Stream::closed`]) and its
    /// elements are buffered. For a lazy or endless iterator, see
    /// [`Stream::from_iter`].
    ///
    /// ```
    /// let s = lwt::Stream::of_list(vec![1, 2, 3]);
    /// assert!(s.is_closed());
    /// assert!(s.closed().is_fulfilled());
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![1, 2, 3]);
    /// assert!(lwt::Stream::of_list("ab".chars()).is_closed());
    /// ```
    pub fn of_list(items: impl IntoIterator<Item = T>) -> Stream<T> {
        // User code (the iterator) runs before the source is borrowed.
        let buf: VecDeque<T> = items.into_iter().collect();
        let s = Stream::with_feed(Feed::Push, None);
        {
            let mut src = s.r.src.borrow_mut();
            src.buf = buf;
            src.end = Some(Ok(()));
        }
        s
    }

    /// A stream of the one element `value`, closed from the start (Lwt's
    /// `Lwt_stream.return`).
    ///
    /// ```
    /// let s = lwt::Stream::once(7);
    /// assert!(s.is_closed());
    /// assert_eq!(s.next().peek().unwrap().unwrap(), Some(7));
    /// assert_eq!(s.next().peek().unwrap().unwrap(), None);
    /// ```
    pub fn once(value: T) -> Stream<T> {
        Stream::of_list([value])
    }

    /// A stream that has ended, with no elements.
    ///
    /// ```
    /// assert!(lwt::Stream::<u8>::empty().is_closed());
    /// ```
    pub fn empty() -> Stream<T> {
        let s = Stream::with_feed(Feed::Push, None);
        s.r.src.borrow_mut().end = Some(Ok(()));
        s
    }

    /// A stream that fails with `error` once read.
    ///
    /// ```
    /// let s = lwt::Stream::<u8>::failed(lwt::Error::msg("no data"));
    /// assert!(s.next().is_rejected());
    /// ```
    pub fn failed(error: Error) -> Stream<T> {
        let s = Stream::with_feed(Feed::Push, None);
        s.r.src.borrow_mut().end = Some(Err(error));
        s
    }

    /// Takes the next element now if it is there, or the end if the stream
    /// has ended: `None` when a read would have to wait.
    pub(crate) fn take_now(&self) -> Option<Result<Option<T>, Error>> {
        loop {
            {
                let mut s = self.r.src.borrow_mut();
                if s.has_data(self.r.id) {
                    let v = s.take(self.r.id);
                    let admit = !s.pushers.is_empty();
                    drop(s);
                    if admit {
                        pump(&self.r.src);
                    }
                    return Some(Ok(Some(v)));
                }
                if let Some(end) = s.end_result() {
                    return Some(end);
                }
                let iter = matches!(s.feed, Feed::Iter(Some(_)));
                let rendezvous = s.cap == Some(0) && !s.pushers.is_empty();
                drop(s);
                if rendezvous {
                    let mut actions: Vec<Action<T>> = Vec::new();
                    {
                        let mut s = self.r.src.borrow_mut();
                        if let Some((v, r)) = s.pushers.pop_live() {
                            s.buf.push_back(v);
                            actions.push(Action::Pushed(r, Ok(())));
                        }
                    }
                    let progressed = !actions.is_empty();
                    run_actions(actions);
                    if progressed {
                        continue;
                    }
                }
                if !(iter && feed_once(&self.r.src)) {
                    return None;
                }
            }
        }
    }

    fn add_waiter(&self, kind: WaitKind<T>) {
        self.r.src.borrow_mut().waiters.push_back(Waiter {
            reader: self.r.id,
            kind,
        });
    }

    fn prune_hook(&self) -> impl FnOnce() + 'static {
        let weak = Rc::downgrade(&self.r.src);
        move || {
            if let Some(src) = weak.upgrade() {
                let removed: VecDeque<Waiter<T>> = {
                    let mut s = src.borrow_mut();
                    let (keep, gone) = std::mem::take(&mut s.waiters)
                        .into_iter()
                        .partition(|w| w.is_pending());
                    s.waiters = keep;
                    gone
                };
                drop(removed);
            }
        }
    }

    /// The next element: `Some(x)`, or `None` once the stream has ended
    /// (Lwt's `Lwt_stream.get`); rejected if it ended with an error.
    /// Canceling a waiting `next` leaves the line without losing an element.
    ///
    /// ```
    /// let (s, push) = lwt::Stream::create();
    /// let a = s.next();
    /// let b = s.next();
    /// a.cancel();
    /// push.push(10).unwrap();
    /// assert!(a.peek().unwrap().unwrap_err().is_canceled());
    /// assert_eq!(b.peek().unwrap().unwrap(), Some(10));
    /// ```
    pub fn next(&self) -> Promise<Option<T>> {
        if let Some(r) = self.take_now() {
            return crate::from_result(r);
        }
        let (p, r) = task();
        self.add_waiter(WaitKind::Value(r));
        p.on_cancel(self.prune_hook());
        pump(&self.r.src);
        p
    }

    /// Makes an element or the end available now if that can be done
    /// without waiting (an iterator feed, a waiting rendezvous pusher);
    /// true if something changed.
    fn progress_now(&self) -> bool {
        if matches!(self.r.src.borrow().feed, Feed::Iter(Some(_))) && feed_once(&self.r.src) {
            return true;
        }
        let rendezvous = {
            let s = self.r.src.borrow();
            s.cap == Some(0) && !s.pushers.is_empty()
        };
        if rendezvous {
            let mut actions = Vec::new();
            self.r.src.borrow_mut().admit_one(&mut actions);
            let progressed = !actions.is_empty();
            run_actions(actions);
            return progressed;
        }
        false
    }

    /// A look at this reader's next element or the end, without taking it:
    /// `now` answers from the source if it can; else a waiter made by
    /// `kind` joins the line (served in order with the reader's other
    /// waiting reads, see [`WaitKind`]).
    pub(crate) fn look<X: 'static>(
        &self,
        now: impl Fn(&Source<T>, usize) -> Option<Promise<X>>,
        kind: fn(Resolver<X>) -> WaitKind<T>,
    ) -> Promise<X> {
        loop {
            // A read of this reader that waits has nothing to read yet
            // (`pump` serves the waiters whenever something comes), so
            // answering now cannot overtake it.
            let answer = now(&self.r.src.borrow(), self.r.id);
            if let Some(p) = answer {
                return p;
            }
            if !self.progress_now() {
                break;
            }
        }
        let (p, r) = task();
        self.add_waiter(kind(r));
        p.on_cancel(self.prune_hook());
        pump(&self.r.src);
        p
    }

    /// Fulfilled when an element or the end is there to read (without
    /// reading it).
    pub(crate) fn ready(&self) -> Promise<()> {
        self.look(
            |s, id| (s.has_data(id) || s.end.is_some()).then(|| Promise::resolved(())),
            WaitKind::Ready,
        )
    }

    /// The next element if one is there now, without waiting; `None` if
    /// none is (or the stream ended).
    ///
    /// ```
    /// let (s, push) = lwt::Stream::create();
    /// assert_eq!(s.try_next(), None);
    /// push.push(1).unwrap();
    /// assert_eq!(s.try_next(), Some(1));
    /// ```
    pub fn try_next(&self) -> Option<T> {
        match self.take_now() {
            Some(Ok(Some(v))) => Some(v),
            _ => None,
        }
    }

    /// The elements there now, without waiting (Lwt's
    /// `Lwt_stream.get_available`).
    ///
    /// ```
    /// let (s, push) = lwt::Stream::create();
    /// push.push(1).unwrap();
    /// push.push(2).unwrap();
    /// assert_eq!(s.get_available(), vec![1, 2]);
    /// ```
    pub fn get_available(&self) -> Vec<T> {
        std::iter::from_fn(|| self.try_next()).collect()
    }

    /// At most `n` of the elements there now (Lwt's
    /// `Lwt_stream.get_available_up_to`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(0..10);
    /// assert_eq!(s.get_available_up_to(3), vec![0, 1, 2]);
    /// ```
    pub fn get_available_up_to(&self, n: usize) -> Vec<T> {
        std::iter::from_fn(|| self.try_next()).take(n).collect()
    }

    /// True once the stream has ended (the producer side; elements may
    /// still be buffered) (Lwt's `Lwt_stream.is_closed`).
    ///
    /// ```
    /// let (s, push) = lwt::Stream::<u8>::create();
    /// assert!(!s.is_closed());
    /// push.close();
    /// assert!(s.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.r.src.borrow().end.is_some()
    }

    /// Fulfilled when the stream ends normally, rejected with the error when
    /// it ends with one (Lwt's `Lwt_stream.closed`).
    ///
    /// ```
    /// let (s, push) = lwt::Stream::<u8>::create();
    /// let closed = s.closed();
    /// assert!(closed.is_pending());
    /// push.close();
    /// assert!(closed.is_fulfilled());
    /// ```
    pub fn closed(&self) -> Promise<()> {
        let mut s = self.r.src.borrow_mut();
        match &s.end {
            Some(end) => crate::from_result(end.clone()),
            None => s.closed.get_or_insert_with(wait).0.clone(),
        }
    }

    /// True when no more element will come: waits until an element or the
    /// end is there (Lwt's `Lwt_stream.is_empty`). Rejected if the stream
    /// ended with an error and nothing is left to read.
    ///
    /// ```
    /// let (s, push) = lwt::Stream::create();
    /// let empty = s.is_empty();
    /// assert!(empty.is_pending());
    /// push.push(1).unwrap();
    /// assert_eq!(empty.peek().unwrap().unwrap(), false);
    /// ```
    pub fn is_empty(&self) -> Promise<bool> {
        self.look(
            |s, id| {
                if s.has_data(id) {
                    return Some(Promise::resolved(false));
                }
                match &s.end {
                    Some(Err(e)) => Some(Promise::rejected(e.clone())),
                    Some(Ok(())) => Some(Promise::resolved(true)),
                    None => None,
                }
            },
            WaitKind::Probe,
        )
    }

    /// Drops the next element, waiting for it if needed (Lwt's
    /// `Lwt_stream.junk`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter([1, 2]);
    /// assert!(s.junk().is_fulfilled());
    /// assert_eq!(s.try_next(), Some(2));
    /// ```
    pub fn junk(&self) -> Promise<()> {
        if let Some(r) = self.take_now() {
            return crate::from_result(r.map(drop));
        }
        let (p, r) = task();
        self.add_waiter(WaitKind::Junk(r));
        p.on_cancel(self.prune_hook());
        pump(&self.r.src);
        p
    }

    /// Drops the elements there now (Lwt's `Lwt_stream.junk_old`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter([1, 2]);
    /// s.junk_old();
    /// assert!(s.is_closed());
    /// ```
    pub fn junk_old(&self) {
        drop(self.get_available());
    }
}

impl<T: 'static> Source<T> {
    fn admit_one(&mut self, actions: &mut Vec<Action<T>>) {
        if let Some((v, r)) = self.pushers.pop_live() {
            self.buf.push_back(v);
            actions.push(Action::Pushed(r, Ok(())));
        }
    }
}
