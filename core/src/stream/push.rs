//! The write ends of a [`Stream`]: [`Push`] (unbounded) and [`BoundedPush`].
//!
//! # Ground rules
//!
//! 1. A push handle counts itself in the source; when the last handle of a
//!    stream is dropped, the stream ends normally, as if closed.
//! 2. Pushing on an ended stream, or on one whose readers are all gone, is an
//!    error (a closed error), not a panic and not a silent loss.
//! 3. A bounded push that waits holds its element, cancelably: canceling
//!    it withdraws the element; closing the stream rejects it with a closed
//!    error. At most one push waits at a time, as in Lwt: a push made while
//!    another waits is rejected with a [`StreamFull`] error.
//! 4. Pushing never resolves anything under the source's borrow: it appends,
//!    drops the borrow, then serves the waiting readers (see `stream::pump`).

use std::fmt;

use crate::stream::{end_with, pump, Src};
use crate::sync::waitq::enqueue;
#[cfg(doc)]
use crate::Stream;
use crate::{Error, Promise};

/// The error of a push on a full bounded stream on which a push already
/// waits (Lwt's `Lwt_stream.Full`), and of [`BoundedPush::try_push`] on a
/// full stream. It comes inside an [`Error`]: ask with
/// `e.downcast_ref::<lwt::StreamFull>()`.
///
/// ```
/// let (_s, push) = lwt::Stream::bounded(1);
/// assert!(push.push(1).is_fulfilled());
/// let waiting = push.push(2); // full: this push waits
/// assert!(waiting.is_pending());
/// let e = push.push(3).peek().unwrap().unwrap_err(); // one waits already
/// assert!(e.downcast_ref::<lwt::StreamFull>().is_some());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamFull;

impl fmt::Display for StreamFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Stream: the bounded stream is full")
    }
}

impl std::error::Error for StreamFull {}

fn check_open<T: 'static>(src: &Src<T>) -> Result<(), Error> {
    let s = src.borrow();
    if s.end.is_some() {
        return Err(Error::closed("Stream: push on a closed stream"));
    }
    if s.live_readers == 0 {
        return Err(Error::closed(
            "Stream: push on a stream with no reader left",
        ));
    }
    Ok(())
}

/// Appends `v`, then serves waiting readers.
fn append<T: 'static>(src: &Src<T>, v: T) {
    let waiting = {
        let mut s = src.borrow_mut();
        s.buf.push_back(v);
        !s.waiters.is_empty()
    };
    if waiting {
        pump(src);
    }
}

/// Pushes into a [`Stream`] made by [`Stream::create`] (Lwt's push
/// function). Cloning gives another handle; the stream ends when
/// [`Push::close`] is called or the last handle is dropped.
///
/// ```
/// let (s, push) = lwt::Stream::create();
/// let push2 = push.clone();
/// push.push(1).unwrap();
/// push2.push(2).unwrap();
/// drop(push);
/// drop(push2); // the last handle: the stream ends
/// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![1, 2]);
/// ```
pub struct Push<T: 'static> {
    pub(crate) src: Src<T>,
}

impl<T: 'static> Clone for Push<T> {
    fn clone(&self) -> Self {
        self.src.borrow_mut().push_handles += 1;
        Push {
            src: self.src.clone(),
        }
    }
}

impl<T: 'static> Drop for Push<T> {
    fn drop(&mut self) {
        let last = {
            let mut s = self.src.borrow_mut();
            s.push_handles -= 1;
            s.push_handles == 0
        };
        if last {
            end_with(&self.src, Ok(()));
        }
    }
}

impl<T: 'static> fmt::Debug for Push<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Push")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T: 'static> Push<T> {
    /// Appends `value` to the stream, handing it to a waiting reader if
    /// there is one. An error if the stream has ended or has no reader left.
    ///
    /// ```
    /// let (s, push) = lwt::Stream::create();
    /// push.push(1).unwrap();
    /// push.close();
    /// assert!(push.push(2).unwrap_err().is_closed());
    /// # drop(s);
    /// ```
    pub fn push(&self, value: T) -> Result<(), Error> {
        check_open(&self.src)?;
        append(&self.src, value);
        Ok(())
    }

    /// Ends the stream normally: readers read what is buffered, then see
    /// the end. Closing twice does nothing.
    ///
    /// ```
    /// let (s, push) = lwt::Stream::<u8>::create();
    /// push.close();
    /// push.close();
    /// assert_eq!(s.next().peek().unwrap().unwrap(), None);
    /// ```
    pub fn close(&self) {
        end_with(&self.src, Ok(()));
    }

    /// Ends the stream with `error`: readers read what is buffered, then
    /// get the error. Does nothing if the stream has ended already.
    ///
    /// ```
    /// let (s, push) = lwt::Stream::<u8>::create();
    /// push.push(1).unwrap();
    /// push.fail(lwt::Error::msg("lost connection"));
    /// assert_eq!(s.next().peek().unwrap().unwrap(), Some(1));
    /// assert_eq!(s.next().peek().unwrap().unwrap_err().message(), "lost connection");
    /// ```
    pub fn fail(&self, error: Error) {
        end_with(&self.src, Err(error));
    }

    /// True once the stream has ended.
    ///
    /// ```
    /// let (_s, push) = lwt::Stream::<u8>::create();
    /// assert!(!push.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.src.borrow().end.is_some()
    }
}

/// Pushes into a [`Stream`] made by [`Stream::bounded`] (Lwt's
/// `bounded_push`): pushes wait while the stream is full.
///
/// ```
/// let (s, push) = lwt::Stream::bounded(2);
/// assert!(push.push(1).is_fulfilled());
/// assert!(push.push(2).is_fulfilled());
/// let third = push.push(3);
/// assert!(third.is_pending());
/// assert_eq!(s.try_next(), Some(1));
/// assert!(third.is_fulfilled());
/// ```
pub struct BoundedPush<T: 'static> {
    pub(crate) src: Src<T>,
}

impl<T: 'static> Clone for BoundedPush<T> {
    fn clone(&self) -> Self {
        self.src.borrow_mut().push_handles += 1;
        BoundedPush {
            src: self.src.clone(),
        }
    }
}

impl<T: 'static> Drop for BoundedPush<T> {
    fn drop(&mut self) {
        let last = {
            let mut s = self.src.borrow_mut();
            s.push_handles -= 1;
            s.push_handles == 0
        };
        if last {
            end_with(&self.src, Ok(()));
        }
    }
}

impl<T: 'static> fmt::Debug for BoundedPush<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedPush")
            .field("closed", &self.is_closed())
            .field("blocked", &self.blocked())
            .finish()
    }
}

impl<T: 'static> BoundedPush<T> {
    /// Appends `value` when there is room: fulfilled at once if there is,
    /// else when a reader made room for it (Lwt's `bounded_push#push`).
    /// Rejected with a closed error if the stream ends first (or had ended).
    /// Canceling a waiting push withdraws `value`. One push may wait at a
    /// time: while one does, another is rejected with a [`StreamFull`]
    /// error, and its value dropped.
    ///
    /// ```
    /// let (s, push) = lwt::Stream::bounded(1);
    /// push.push(1).peek().unwrap().unwrap();
    /// let waiting = push.push(2);
    /// waiting.cancel(); // 2 is withdrawn
    /// assert_eq!(s.try_next(), Some(1));
    /// assert_eq!(s.try_next(), None);
    /// ```
    pub fn push(&self, value: T) -> Promise<()> {
        if let Err(e) = check_open(&self.src) {
            return Promise::rejected(e);
        }
        let fits = {
            let s = self.src.borrow();
            s.pushers.is_empty() && s.cap.is_some_and(|cap| s.buf.len() < cap)
        };
        if fits {
            append(&self.src, value);
            return Promise::resolved(());
        }
        if self.blocked() {
            return Promise::rejected(Error::new(StreamFull));
        }
        let p = enqueue(&self.src, |s| &mut s.pushers, value, None);
        // A reader may be waiting already (a rendezvous, capacity 0).
        pump(&self.src);
        p
    }

    /// Appends `value` if there is room now; gives it back otherwise, with
    /// a [`StreamFull`] error (or a closed one).
    ///
    /// ```
    /// let (_s, push) = lwt::Stream::bounded(1);
    /// assert!(push.try_push(1).is_ok());
    /// assert_eq!(push.try_push(2).unwrap_err().1, 2);
    /// ```
    pub fn try_push(&self, value: T) -> Result<(), (Error, T)> {
        if let Err(e) = check_open(&self.src) {
            return Err((e, value));
        }
        let fits = {
            let s = self.src.borrow();
            s.pushers.is_empty() && s.cap.is_some_and(|cap| s.buf.len() < cap)
        };
        if !fits {
            return Err((Error::new(StreamFull), value));
        }
        append(&self.src, value);
        Ok(())
    }

    /// Ends the stream normally; waiting pushes are rejected with a closed
    /// error.
    ///
    /// ```
    /// let (_s, push) = lwt::Stream::bounded(0);
    /// let p = push.push(1);
    /// push.close();
    /// assert!(p.peek().unwrap().unwrap_err().is_closed());
    /// ```
    pub fn close(&self) {
        end_with(&self.src, Ok(()));
    }

    /// Ends the stream with `error`.
    ///
    /// ```
    /// let (s, push) = lwt::Stream::<u8>::bounded(1);
    /// push.fail(lwt::Error::msg("x"));
    /// assert!(s.next().is_rejected());
    /// ```
    pub fn fail(&self, error: Error) {
        end_with(&self.src, Err(error));
    }

    /// True once the stream has ended.
    ///
    /// ```
    /// let (_s, push) = lwt::Stream::<u8>::bounded(1);
    /// push.close();
    /// assert!(push.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.src.borrow().end.is_some()
    }

    /// True while a push waits for room (Lwt's `blocked`).
    ///
    /// ```
    /// let (_s, push) = lwt::Stream::bounded(0);
    /// let _p = push.push(1);
    /// assert!(push.blocked());
    /// ```
    pub fn blocked(&self) -> bool {
        !self.src.borrow().pushers.is_empty()
    }

    /// The capacity (Lwt's `size`).
    ///
    /// ```
    /// let (_s, push) = lwt::Stream::<u8>::bounded(4);
    /// assert_eq!(push.capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.src.borrow().cap.unwrap_or(usize::MAX)
    }

    /// How many elements are buffered, not yet read by every reader (Lwt's
    /// `count`).
    ///
    /// ```
    /// let (_s, push) = lwt::Stream::bounded(4);
    /// push.push(1).peek().unwrap().unwrap();
    /// assert_eq!(push.len(), 1);
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.src.borrow().buf.len()
    }
}
