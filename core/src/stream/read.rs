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

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::stream::{Feed, WaitKind};
use crate::{Error, Promise, Stream};

impl<T: Clone + 'static> Stream<T> {
    /// A stream fed by `f`, called when a reader waits and no call is
    /// already pending: `Some(x)` is an element, `None` ends the stream, a
    /// rejection ends it with that error (Lwt's `Lwt_stream.from`).
    ///
    /// ```
    /// let mut n = 0;
    /// let s = lwt::Stream::from_fn(move || {
    ///     n += 1;
    ///     lwt::Promise::resolved(if n <= 2 { Some(n) } else { None })
    /// });
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![1, 2]);
    /// ```
    pub fn from_fn(f: impl FnMut() -> Promise<Option<T>> + 'static) -> Stream<T> {
        let s = Stream::with_feed(
            Feed::Pull {
                f: Some(Box::new(f)),
                busy: false,
            },
            None,
        );
        s.r.src.borrow_mut().cloner = Some(T::clone);
        s
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
    /// ended with an error (after which the stream is done).
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
                        Poll::Ready(_) => continue,
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
        }
    }
}
