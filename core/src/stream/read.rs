//! Reading a [`Stream`] when elements can be copied: [`Stream::from_fn`],
//! `peek`, `npeek`, `nget`, `to_vec`, `last_new`, and the
//! `futures_core::Stream` implementation.
//!
//! # Ground rules
//!
//! 1. These need `T: Clone` because a promise's value is shared by its
//!    callbacks: reading one out copies it (see the crate docs). The
//!    `futures` implementation does not: it moves elements out of the
//!    buffer, and waits through a readiness promise of `()`.
//! 2. Peeking past the next element reads ahead on a clone of the reader,
//!    so this reader's position does not move.
//! 3. The rules of module `stream` (waiters, errors, borrows) hold here too.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::stream::{Feed, WaitKind};
use crate::{Error, Promise, Stream};

impl<T: Clone + 'static> Stream<T> {
    /// A stream fed by `f`, called when a reader waits and no call is
    /// already pending (Lwt's `Lwt_stream.from`): `Some(x)` is an element,
    /// `None` ends the stream. Every read waiting when `f`'s promise
    /// resolves gets its outcome: several reads waiting together get the
    /// one element (the first `next` takes it, the others get copies), as
    /// in Lwt. A rejection rejects those reads and does not end the stream:
    /// the next read calls `f` again.
    ///
    /// ```
    /// let mut n = 0;
    /// let s = lwt::Stream::from_fn(move || {
    ///     n += 1;
    ///     match n {
    ///         1 => lwt::Promise::rejected(lwt::Error::msg("not yet")),
    ///         2 | 3 => lwt::Promise::resolved(Some(n)),
    ///         _ => lwt::Promise::resolved(None),
    ///     }
    /// });
    /// assert!(s.next().is_rejected()); // that read only
    /// assert!(!s.is_closed());
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![2, 3]);
    ///
    /// let (p, r) = lwt::wait();
    /// let mut first = Some(p);
    /// let s = lwt::Stream::from_fn(move || first.take().unwrap_or_else(|| lwt::Promise::resolved(None)));
    /// let (a, b) = (s.next(), s.next()); // both wait on one pull
    /// r.resolve(Some('x')).unwrap();
    /// assert_eq!(a.peek().unwrap().unwrap(), Some('x'));
    /// assert_eq!(b.peek().unwrap().unwrap(), Some('x'));
    /// ```
    pub fn from_fn(f: impl FnMut() -> Promise<Option<T>> + 'static) -> Stream<T> {
        Stream::pulled(f, true)
    }

    /// A stream fed by `f`; `shared` as in [`Feed::Pull`].
    pub(crate) fn pulled(
        f: impl FnMut() -> Promise<Option<T>> + 'static,
        shared: bool,
    ) -> Stream<T> {
        let s = Stream::with_feed(
            Feed::Pull {
                f: Some(Box::new(f)),
                busy: false,
                shared,
            },
            None,
        );
        s.r.src.borrow_mut().cloner = Some(T::clone);
        s
    }

    /// A stream of the value of `p` once it is fulfilled, then closed
    /// (Lwt's `Lwt_stream.return_lwt`). If `p` is rejected the stream ends
    /// with that error (Lwt's ends empty: its streams cannot carry errors).
    ///
    /// ```
    /// let (p, r) = lwt::wait();
    /// let s = lwt::Stream::from_promise(&p);
    /// let first = s.next();
    /// assert!(first.is_pending() && !s.is_closed());
    /// r.resolve("done").unwrap();
    /// assert_eq!(first.peek().unwrap().unwrap(), Some("done"));
    /// assert!(s.is_closed());
    /// let failed = lwt::Stream::<u8>::from_promise(&lwt::Promise::rejected(lwt::Error::msg("no")));
    /// assert_eq!(failed.next().peek().unwrap().unwrap_err().message(), "no");
    /// ```
    pub fn from_promise(p: &Promise<T>) -> Stream<T> {
        let (s, push) = Stream::create();
        p.on_result(move |r| match r {
            Ok(v) => {
                // No reader left: nobody to tell.
                let _ = push.push(v.clone());
                push.close();
            }
            Err(e) => push.fail(e.clone()),
        });
        s
    }

    /// The elements at the front of the stream for which `f` is true, taken
    /// out, up to the first for which it is false, which stays (Lwt's
    /// `Lwt_stream.get_while`). Waits for elements as needed; ends early
    /// with the stream. Rejected if reading fails.
    ///
    /// ```
    /// let s = lwt::Stream::of_list([1, 2, 3, 1]);
    /// assert_eq!(s.get_while(|x| *x < 3).peek().unwrap().unwrap(), vec![1, 2]);
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![3, 1]);
    /// ```
    pub fn get_while(&self, mut f: impl FnMut(&T) -> bool + 'static) -> Promise<Vec<T>> {
        self.get_while_s(move |v| Promise::resolved(f(&v)))
    }

    /// [`Stream::get_while`] with a test that is a promise (Lwt's
    /// `Lwt_stream.get_while_s`): each element is tested once the test of
    /// the one before it is fulfilled.
    ///
    /// ```
    /// let s = lwt::Stream::of_list(["a", "b", "", "c"]);
    /// let got = s.get_while_s(|x| lwt::Promise::resolved(!x.is_empty()));
    /// assert_eq!(got.peek().unwrap().unwrap(), vec!["a", "b"]);
    /// ```
    pub fn get_while_s(&self, mut f: impl FnMut(T) -> Promise<bool> + 'static) -> Promise<Vec<T>> {
        let me = self.handle();
        crate::spawn(async move {
            let mut out = Vec::new();
            while let Some(v) = me.peek().await? {
                if !f(v.clone()).await? {
                    break;
                }
                // The element peeked, unless a concurrent read of this reader
                // took it meanwhile: then the one after it.
                match me.next().await? {
                    Some(v) => out.push(v),
                    None => break,
                }
            }
            Ok(out)
        })
    }

    /// Drops the elements at the front of the stream for which `f` is true,
    /// up to the first for which it is false, which stays (Lwt's
    /// `Lwt_stream.junk_while`).
    ///
    /// ```
    /// let s = lwt::Stream::of_list([0, 0, 5, 0]);
    /// assert!(s.junk_while(|x| *x == 0).is_fulfilled());
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![5, 0]);
    /// ```
    pub fn junk_while(&self, mut f: impl FnMut(&T) -> bool + 'static) -> Promise<()> {
        self.junk_while_s(move |v| Promise::resolved(f(&v)))
    }

    /// [`Stream::junk_while`] with a test that is a promise (Lwt's
    /// `Lwt_stream.junk_while_s`).
    ///
    /// ```
    /// let s = lwt::Stream::of_list([' ', ' ', 'x']);
    /// s.junk_while_s(|c| lwt::Promise::resolved(c == ' ')).peek().unwrap().unwrap();
    /// assert_eq!(s.try_next(), Some('x'));
    /// ```
    pub fn junk_while_s(&self, mut f: impl FnMut(T) -> Promise<bool> + 'static) -> Promise<()> {
        let me = self.handle();
        crate::spawn(async move {
            while let Some(v) = me.peek().await? {
                if !f(v).await? {
                    break;
                }
                me.junk().await?;
            }
            Ok(())
        })
    }

    /// A stream of this one's elements as `Ok`, in which an error reading
    /// this stream becomes an `Err` element instead of a rejection (Lwt's
    /// `Lwt_stream.wrap_exn`). A rejected pull of [`Stream::from_fn`] is one
    /// `Err` and reading goes on; an end with an error is a last `Err`, then
    /// the end. It reads this stream only when its own reader waits.
    ///
    /// ```
    /// let (s, push) = lwt::Stream::create();
    /// push.push(1).unwrap();
    /// push.fail(lwt::Error::msg("cut"));
    /// let items = s.wrap_exn().to_vec().peek().unwrap().unwrap();
    /// assert_eq!(items.len(), 2);
    /// assert_eq!(*items[0].as_ref().unwrap(), 1);
    /// assert_eq!(items[1].as_ref().unwrap_err().message(), "cut");
    /// ```
    pub fn wrap_exn(&self) -> Stream<Result<T, Error>> {
        let me = self.handle();
        let done = Rc::new(Cell::new(false));
        Stream::pulled(
            move || {
                if done.get() {
                    return Promise::resolved(None);
                }
                let (probe, done) = (me.handle(), done.clone());
                me.next().try_bind(
                    |o| Promise::resolved(o.map(Ok)),
                    move |e| {
                        if e.is_canceled() {
                            return Promise::rejected(e);
                        }
                        // An error that ended the stream comes last.
                        done.set(probe.is_closed());
                        Promise::resolved(Some(Err(e)))
                    },
                )
            },
            false,
        )
    }

    /// The next element without taking it, waiting if needed (Lwt's
    /// `Lwt_stream.peek`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter([5, 6]);
    /// assert_eq!(s.peek().peek().unwrap().unwrap(), Some(5));
    /// assert_eq!(s.try_next(), Some(5));
    /// ```
    pub fn peek(&self) -> Promise<Option<T>> {
        self.look(
            |s, id| {
                if s.has_data(id) {
                    return Some(Promise::resolved(Some(s.at(id).clone())));
                }
                s.end_result().map(crate::from_result)
            },
            |r| WaitKind::Peek(r, T::clone),
        )
    }

    /// Up to `n` next elements without taking them: fewer only if the
    /// stream ends first (Lwt's `Lwt_stream.npeek`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter([1, 2, 3]);
    /// assert_eq!(s.npeek(2).peek().unwrap().unwrap(), vec![1, 2]);
    /// assert_eq!(s.npeek(5).peek().unwrap().unwrap(), vec![1, 2, 3]);
    /// ```
    pub fn npeek(&self, n: usize) -> Promise<Vec<T>> {
        // Peeking past the first element means reading ahead: a clone reads
        // ahead while this reader stays put.
        let ahead = self.clone();
        ahead.nget(n)
    }

    /// Up to `n` next elements: fewer only if the stream ends first (Lwt's
    /// `Lwt_stream.nget`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=5);
    /// assert_eq!(s.nget(2).peek().unwrap().unwrap(), vec![1, 2]);
    /// ```
    pub fn nget(&self, n: usize) -> Promise<Vec<T>> {
        let me = self.handle();
        crate::spawn(async move {
            let mut out = Vec::with_capacity(n.min(1024));
            while out.len() < n {
                match me.next().await? {
                    Some(v) => out.push(v),
                    None => break,
                }
            }
            Ok(out)
        })
    }

    /// All the remaining elements, once the stream ends (Lwt's
    /// `Lwt_stream.to_list`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter("ab".chars());
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec!['a', 'b']);
    /// ```
    pub fn to_vec(&self) -> Promise<Vec<T>> {
        self.nget(usize::MAX)
    }

    /// The last element there now, dropping the others; if none is there,
    /// the next one (Lwt's `Lwt_stream.last_new`). Rejected with a closed
    /// error if the stream ended with nothing left.
    ///
    /// ```
    /// let (s, push) = lwt::Stream::create();
    /// for i in 1..=3 { push.push(i).unwrap(); }
    /// assert_eq!(s.last_new().peek().unwrap().unwrap(), 3);
    /// ```
    pub fn last_new(&self) -> Promise<T> {
        match self.get_available().pop() {
            Some(v) => Promise::resolved(v),
            None => self
                .next()
                .and_then(|o| o.ok_or_else(|| Error::closed("Stream::last_new: the stream ended"))),
        }
    }
}

impl<T: 'static> Stream<T> {
    /// This stream as a `futures` stream of plain `T`s, for a stream that
    /// cannot fail (see [`Stream`]'s "As a `futures` stream"). Should it end
    /// with an error after all, the view ends there and the error goes to
    /// the async exception hook ([`crate::report_unhandled`]), as an error
    /// nobody handles does; it is never dropped silently.
    ///
    /// ```
    /// use futures::StreamExt;
    /// # let engine = lwt::testing::VirtualEngine::new();
    /// let sum = engine.block_on(async {
    ///     Ok(lwt::Stream::from_iter(1..=4).items().fold(0, |a, x| async move { a + x }).await)
    /// });
    /// assert_eq!(sum.unwrap(), 10);
    /// ```
    pub fn items(self) -> StreamItems<T> {
        StreamItems(self)
    }
}

/// The plain-item view of a [`Stream`]: [`Stream::items`].
#[must_use = "streams do nothing unless polled"]
pub struct StreamItems<T: 'static>(Stream<T>);

impl<T: 'static> fmt::Debug for StreamItems<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StreamItems").field(&self.0).finish()
    }
}

impl<T: 'static> futures_core::Stream for StreamItems<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match futures_core::Stream::poll_next(Pin::new(&mut self.0), cx) {
            Poll::Ready(Some(Ok(v))) => Poll::Ready(Some(v)),
            Poll::Ready(Some(Err(e))) => {
                crate::report_unhandled(&e);
                Poll::Ready(None)
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: 'static> futures_core::Stream for Stream<T> {
    type Item = Result<T, Error>;

    /// Ready with the next element, or an `Err` item for a stream that
    /// ended with an error (after which the stream is done) or for a
    /// rejected pull of [`Stream::from_fn`] (after which it goes on).
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match self.take_now() {
                Some(Ok(Some(v))) => return Poll::Ready(Some(Ok(v))),
                Some(Ok(None)) => return Poll::Ready(None),
                Some(Err(e)) => {
                    // Report the error once; then this reader is done.
                    if self.r.fused.replace(true) {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    let mut ready = {
                        let mut slot = self.r.ready.borrow_mut();
                        match &*slot {
                            Some(p) if p.is_pending() => p.clone(),
                            _ => {
                                let p = self.ready();
                                *slot = Some(p.clone());
                                p
                            }
                        }
                    };
                    match Pin::new(&mut ready).poll(cx) {
                        Poll::Ready(Ok(())) => continue,
                        // A rejected pull of `from_fn`: an `Err` item, and the
                        // stream goes on (module `stream`, rule 7).
                        Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
        }
    }
}
